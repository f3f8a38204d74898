"""Hostile messages from an authenticated peer at a live daemon.

tests/p2p fuzzes frames, the handshake and the envelope against a bare PeerManager.
This goes one layer up: a registered node key completes the real handshake with a
running `orechain run` and sends well-framed messages whose payloads are hostile on
every channel the daemon handles (tx, consensus, block gossip, sync requests and
unsolicited sync responses): mutated genuine encodings, wrong shapes, extreme
heights and counts. When the node bans a key, the next registered key takes over.
The daemon must stay up, log no unexpected exception, keep its memory bounded and
still finalise events.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from node import codec
from node.p2p import Channel, P2PError
from node.p2p.handshake import handshake
from node.p2p.message import encode_message
from tests.chaos.solo import lot_event
from tests.fuzz.budget import EXAMPLES
from tests.fuzz.conftest import rss_kib
from tests.fuzz.strategies import mutate
from tests.fuzz.test_decoders import BLOCK, COMMIT, PROPOSAL, TX, VOTE
from tests.helpers import node_key, wait_final

CHAIN = "orechain-devnet-1"
PEERS = ["mine-1-node", "mine-2-node", "validator-2", "validator-3", "validator-4"]
EXTREMES = [0, 1, -1, 2**63 - 1, -(2**63), 2**64 - 1, 10**6]
# A malformed sync request is logged at ERROR with a traceback, and not penalised.

def _junk(rng: random.Random) -> Any:
    return rng.choice([rng.randbytes(rng.randrange(0, 300)), [], [b""], [rng.choice(EXTREMES)],
                       {"k": 1}, [[[[[]]]]], "text"])


def hostile_message(rng: random.Random) -> bytes:
    """One well-framed message with a hostile payload on a random channel."""
    channel = rng.choice([Channel.TX, Channel.CONSENSUS, Channel.BLOCK, Channel.SYNC_REQUEST,
                          Channel.SYNC_RESPONSE, Channel.MUTE])
    vote, proposal = VOTE.to_wire(), PROPOSAL.to_wire()
    vote[rng.randrange(7)] = rng.choice([*EXTREMES, b"", b"\x00" * 32, "x", None])
    proposal[rng.randrange(7)] = rng.choice([*EXTREMES, b"", b"\x00" * 32, "x"])
    payloads: dict[Channel, list[Any]] = {
        Channel.TX: [mutate(rng, TX.encoded), TX.encoded, _junk(rng)],
        Channel.CONSENSUS: [[1, vote], [0, proposal, mutate(rng, BLOCK.encoded)],
                            [0, PROPOSAL.to_wire(), BLOCK.encoded], [rng.choice(EXTREMES)],
                            [1, VOTE.to_wire(), b"extra"], _junk(rng)],
        Channel.BLOCK: [[mutate(rng, BLOCK.encoded), codec.encode(COMMIT.to_wire())],
                        [BLOCK.encoded, mutate(rng, codec.encode(COMMIT.to_wire()))],
                        [BLOCK.encoded], _junk(rng)],
        Channel.SYNC_REQUEST: [[rng.randrange(1 << 20), [rng.choice(EXTREMES),
                                                         rng.choice(EXTREMES)]],
                               [rng.randrange(1 << 20), _junk(rng)]],
        Channel.SYNC_RESPONSE: [[rng.randrange(1 << 20), _junk(rng)]],
        Channel.MUTE: [[int(Channel.TX)], [], [rng.choice(EXTREMES)], [1, 1], _junk(rng)],
    }
    try:
        return encode_message(channel, rng.choice(payloads[channel]))
    except (TypeError, codec.CodecError):
        return encode_message(Channel.TX, rng.randbytes(10))


async def barrage(port: int, messages: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    sent = links = refused = 0
    for name in PEERS:
        if sent >= messages:
            break
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            link = await handshake(reader, writer, node_key=node_key(name), chain_id=CHAIN,
                                   authorize=lambda _key: None, outbound=True, timeout=5)
        except (OSError, P2PError) as exc:  # banned or refused: the next key takes over
            refused += 1
            print(f"{name}: handshake refused: {exc}")
            continue
        links += 1
        try:
            while sent < messages:
                await link.send(hostile_message(rng))
                sent += 1
                if sent % 25 == 0:
                    await asyncio.sleep(0.01)  # let the node answer, ban, or close
        except (OSError, P2PError) as exc:
            print(f"{name}: link closed by the node after {sent} messages: {exc!r}")
        finally:
            await link.close()
    return {"sent": sent, "links": links, "refused": refused}


def test_hostile_messages_from_registered_peers(live_node) -> None:
    before = rss_kib(live_node)
    seed = random.SystemRandom().randrange(1 << 32)
    stats = asyncio.run(barrage(live_node.p2p_port, max(500, EXAMPLES * 3), seed))
    print(f"p2p barrage seed={seed}: {stats}")
    assert stats["sent"] > 0 and stats["links"] > 0
    assert live_node.proc is not None and live_node.proc.poll() is None, live_node.log()
    assert rss_kib(live_node) - before < 64 * 1024
    reply = live_node.rpc.call("lot_submitEvent", event=lot_event("Q", 1))
    assert wait_final(live_node.rpc, reply["tx_id"])["status"] == "final"
    errors = unexpected_errors(live_node.log())
    assert not errors, f"the daemon logged unexpected exceptions: {errors}"


def unexpected_errors(log: str) -> set[str]:
    """The final line (exception type and message) of every traceback in a node log."""
    found = set()
    for block in log.split("Traceback (most recent call last):")[1:]:
        lines = [ln for ln in block.splitlines() if ln and not ln.startswith((" ", "\t"))]
        found.add(lines[0] if lines else "?")
    return found
