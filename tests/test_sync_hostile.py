"""A registered peer that serves forged or malformed final blocks to a syncing node.

The node (a real `orechain run` process on the single-validator devnet genesis) has
no configured peers; the test dials it as registered nodes and answers its sync
requests by hand. From the hostile peer the node keeps nothing: it penalises each bad
reply as it does a bad gossiped block, until the key is banned and refused at the
handshake. From an honest peer it then syncs the real chain to the same head.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benches.workload import EventStream, extend, open_ledger, single_validator_genesis
from node import codec
from node.p2p import Channel, P2PError
from node.p2p.frame import DEFAULT_MAX_FRAME_SIZE
from node.p2p.handshake import handshake
from node.p2p.link import SecretLink
from node.p2p.message import decode_message, encode_message
from tests.fuzz.test_p2p_daemon import unexpected_errors
from tests.helpers import NodeProcess, node_key

pytestmark = pytest.mark.network

CHAIN = "orechain-devnet-1"
BLOCKS = 3
Final = list[bytes]                      # [block bytes, commit bytes], as sync sends them


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Final], str]:
    """The genesis file, the stored finals of a real 3-block chain and its head hash."""
    home = tmp_path_factory.mktemp("hostile-sync")
    genesis = single_validator_genesis()
    genesis_file = home / "genesis.json"
    genesis_file.write_text(json.dumps(genesis.document))
    ledger = open_ledger(home / "chain", genesis)
    stream = EventStream("HOSTILE", 0)
    try:
        for _ in range(BLOCKS):
            extend(ledger, list(stream.events(4)))
        finals = [list(ledger.store.final_block_bytes(h) or ()) for h in range(1, BLOCKS + 1)]
        return genesis_file, finals, ledger.head_hash.hex()
    finally:
        ledger.store.close()


def _forged_certificate(finals: list[Final]) -> list[Final]:
    commit = codec.decode(finals[0][1])
    signature = bytearray(commit[3][0][1])
    signature[0] ^= 1
    commit[3][0][1] = bytes(signature)
    return [[finals[0][0], codec.encode(commit)]]


def _altered_tx(finals: list[Final]) -> list[Final]:
    block = codec.decode(finals[0][0])
    tx = codec.decode(block[1][0])
    tx[2]["lot_id"] += "X"                       # no longer the tx the header's root names
    block[1][0] = codec.encode(tx)
    return [[codec.encode(block), finals[0][1]]]


HOSTILE_REPLIES: list[Callable[[list[Final]], list[Any]]] = [
    _forged_certificate,
    lambda finals: [finals[1], finals[0]],                       # out of order
    lambda finals: [[b"not a block", b"not a commit"]],
    lambda finals: [[finals[0][0], finals[1][1]]],               # another height's commit
    _altered_tx,
    lambda finals: [finals[0][:1]],                              # no commit at all
]


async def _link(port: int, key_name: str) -> SecretLink:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return await handshake(reader, writer, node_key=node_key(key_name), chain_id=CHAIN,
                           authorize=lambda _key: None, outbound=True, timeout=5)


async def _serve(link: SecretLink, head: int, replies: list[list[Any]]) -> tuple[int, bool]:
    """Answer the node's sync requests: a probe with `head`; the first fetch of each
    attempt (from height 1) with the next of `replies`; the fetch it makes ahead, from a
    later height, with no blocks. Once the replies are used, wait up to 5 s for the node
    to close the link. Returns the replies used and whether the node closed it."""
    used = 0
    try:
        while used < len(replies):
            channel, payload = decode_message(await link.recv(), DEFAULT_MAX_FRAME_SIZE)
            if channel is not Channel.SYNC_REQUEST:
                continue
            request_id, (start, count) = payload
            body = [head]
            if count and start == 1:
                body += replies[used]
                used += 1
            await link.send(encode_message(Channel.SYNC_RESPONSE, [request_id, body]))
        async with asyncio.timeout(5):
            while True:
                await link.recv()
    except P2PError:
        return used, True
    except TimeoutError:
        return used, False


def test_forged_sync_replies_are_refused_and_their_sender_banned(chain, tmp_path) -> None:
    genesis_file, finals, head_hash = chain
    node = NodeProcess(tmp_path / "mine-1-node", genesis_file, "mine-1-node")
    node.start()
    try:
        async def scenario() -> None:
            hostile = await _link(node.p2p_port, "validator-2")
            # Twice over: on a slow machine the points drained between attempts can
            # put the ban one or two replies later.
            replies = [forge(finals) for forge in HOSTILE_REPLIES] * 2
            used, closed = await _serve(hostile, BLOCKS, replies)
            await hostile.close()
            # Each bad reply costs 20 points (drained by one a second): the sixth bans,
            # unless the attempts were seconds apart.
            assert closed and len(HOSTILE_REPLIES) <= used <= len(replies), (used, closed)
            assert node.rpc.call("chain_head")["height"] == 0
            with pytest.raises(P2PError):
                await _link(node.p2p_port, "validator-2")
            honest = await _link(node.p2p_port, "validator-3")
            assert await _serve(honest, BLOCKS, [finals]) == (1, False)
            await honest.close()

        asyncio.run(scenario())
        head = node.rpc.call("chain_head")
        assert (head["height"], head["hash"]) == (BLOCKS, head_hash)
        log = (node.home / "node.log").read_text(errors="replace")
        assert log.count("invalid sync reply") >= len(HOSTILE_REPLIES)
        assert not unexpected_errors(log)
    finally:
        node.stop()
