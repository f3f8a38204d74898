"""Registered peers that serve forged final blocks to a syncing node, or never answer.

The node (a real `orechain run` process on the single-validator devnet genesis) has
no configured peers; the tests dial it as registered nodes and answer its sync
requests by hand. From a hostile peer the node keeps nothing: it penalises each bad
reply as it does a bad gossiped block, until the key is banned and refused at the
handshake. From an honest peer it then syncs the real chain to the same head. A peer
that never answers holds up no catch-up from the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benches.workload import EventStream, extend, open_ledger, single_validator_genesis
from node import codec
from node.p2p import Channel, P2PError
from node.p2p.config import P2PConfig
from node.p2p.frame import DEFAULT_MAX_FRAME_SIZE
from node.p2p.gossip import INVALID_GOSSIP_PENALTY
from node.p2p.handshake import handshake
from node.p2p.link import SecretLink
from node.p2p.message import decode_message, encode_message
from tests.fuzz.test_p2p_daemon import unexpected_errors
from tests.helpers import NodeProcess, node_key

pytestmark = pytest.mark.network

CHAIN = "orechain-devnet-1"
BLOCKS = 3                               # the chain the hostile replies are forged from
Final = list[bytes]                      # [block bytes, commit bytes], as sync sends them


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Final], list[str]]:
    """The genesis file, the stored finals of a real chain of 2 x BLOCKS blocks, and
    the hash of each of its blocks (of height h at index h - 1)."""
    home = tmp_path_factory.mktemp("hostile-sync")
    genesis = single_validator_genesis()
    genesis_file = home / "genesis.json"
    genesis_file.write_text(json.dumps(genesis.document))
    ledger = open_ledger(home / "chain", genesis)
    stream = EventStream("HOSTILE", 0)
    try:
        hashes = []
        for _ in range(2 * BLOCKS):
            extend(ledger, list(stream.events(4)))
            hashes.append(ledger.head_hash.hex())
        finals = [list(ledger.store.final_block_bytes(h) or ())
                  for h in range(1, 2 * BLOCKS + 1)]
        return genesis_file, finals, hashes
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
    lambda finals: [],                                           # a height, then no block
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
    genesis_file, finals, hashes = chain
    fewest = -(-P2PConfig().ban_threshold // INVALID_GOSSIP_PENALTY)    # replies to a ban
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
            # Each bad reply costs 20 points, drained by one a second: the fifth bans if
            # the attempts come fast, a later one if they were seconds apart.
            assert closed and fewest <= used <= len(replies), (used, closed)
            assert node.rpc.call("chain_head")["height"] == 0
            with pytest.raises(P2PError):
                await _link(node.p2p_port, "validator-2")
            honest = await _link(node.p2p_port, "validator-3")
            assert await _serve(honest, BLOCKS, [finals[:BLOCKS]]) == (1, False)
            await honest.close()

        asyncio.run(scenario())
        head = node.rpc.call("chain_head")
        assert (head["height"], head["hash"]) == (BLOCKS, hashes[BLOCKS - 1])
        log = (node.home / "node.log").read_text(errors="replace")
        assert log.count("invalid sync reply") >= fewest
        assert "holds no block from height 1" in log
        assert not unexpected_errors(log)
    finally:
        node.stop()


async def _ignore(link: SecretLink, asked: asyncio.Event) -> None:
    """Read whatever the node sends and answer nothing; `asked` is set at its first sync
    request."""
    with contextlib.suppress(P2PError):
        while True:
            channel, _ = decode_message(await link.recv(), DEFAULT_MAX_FRAME_SIZE)
            if channel is Channel.SYNC_REQUEST:
                asked.set()


async def _serve_chain(link: SecretLink, finals: list[Final], head: list[int]) -> None:
    """Answer sync requests as an honest peer whose chain is `finals` up to `head[0]`."""
    with contextlib.suppress(P2PError):
        while True:
            channel, payload = decode_message(await link.recv(), DEFAULT_MAX_FRAME_SIZE)
            if channel is not Channel.SYNC_REQUEST:
                continue
            request_id, (start, count) = payload
            top = head[0]
            body = [top, *finals[start - 1:min(top, start - 1 + count)]]
            await link.send(encode_message(Channel.SYNC_RESPONSE, [request_id, body]))


async def _reaches(node: NodeProcess, height: int, within: float) -> float:
    """Seconds until the node's head is at `height`; fails after `within` seconds."""
    started = time.monotonic()
    while (await asyncio.to_thread(node.rpc.call, "chain_head"))["height"] < height:
        assert time.monotonic() - started < within, f"not at height {height} in {within} s"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def test_a_peer_that_never_answers_holds_up_no_catch_up(chain, tmp_path) -> None:
    """The silent peer is linked, and asked, first. Each catch-up from the honest peer
    must come well inside the time the node waits for the silent one's answer."""
    genesis_file, finals, hashes = chain
    within = P2PConfig().request_timeout / 2
    node = NodeProcess(tmp_path / "mine-1-node", genesis_file, "mine-1-node")
    node.start()
    try:
        async def scenario() -> None:
            silent = await _link(node.p2p_port, "validator-2")
            asked = asyncio.Event()
            ignoring = asyncio.ensure_future(_ignore(silent, asked))
            await asyncio.wait_for(asked.wait(), 10)
            honest = await _link(node.p2p_port, "validator-3")
            head = [BLOCKS]
            serving = asyncio.ensure_future(_serve_chain(honest, finals, head))
            await _reaches(node, BLOCKS, within)
            head[0] = 2 * BLOCKS             # the honest peer's chain grows
            await _reaches(node, 2 * BLOCKS, within)
            for link, task in ((silent, ignoring), (honest, serving)):
                await link.close()
                await task

        asyncio.run(scenario())
        head = node.rpc.call("chain_head")
        assert (head["height"], head["hash"]) == (2 * BLOCKS, hashes[-1])
        log = (node.home / "node.log").read_text(errors="replace")
        assert "invalid sync reply" not in log
        assert not unexpected_errors(log)
    finally:
        node.stop()
