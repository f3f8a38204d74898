"""Gossip dedup in a triangle, and misbehaviour scoring down to a ban and back."""

from __future__ import annotations

import asyncio
from collections import Counter

from node.p2p import Channel, Gossip, PeerManager, Verdict, message_id
from node.p2p.gossip import SeenSet

from .helpers import FAST, KEYS, address_of, eventually, manager, stays


async def triangle() -> list[PeerManager]:
    a = manager(KEYS[0])
    await a.start()
    b = manager(KEYS[1], dial=(address_of(a),))
    await b.start()
    c = manager(KEYS[2], dial=(address_of(a), address_of(b)))
    await c.start()
    nodes = [a, b, c]
    await eventually(lambda: all(len(m.peers()) == 2 for m in nodes))
    return nodes


def test_seen_set_is_a_bounded_lru() -> None:
    seen = SeenSet(capacity=3)
    assert seen.add(b"1") and seen.add(b"2") and seen.add(b"3")
    assert not seen.add(b"1")  # a hit refreshes "1"
    assert seen.add(b"4")  # evicts "2", the least recently seen
    assert len(seen) == 3 and b"2" not in seen and b"1" in seen
    seen.discard(b"1")
    assert b"1" not in seen


def test_message_id_is_sha256_of_the_canonical_payload() -> None:
    import hashlib

    assert message_id(b"tx") == hashlib.sha256(b"\xc4\x02tx").digest()
    assert message_id([1, b"x"]) != message_id([1, b"y"])


def test_broadcast_in_a_triangle_is_delivered_once_per_node() -> None:
    async def scenario():
        nodes = await triangle()
        delivered: list[Counter] = [Counter() for _ in nodes]
        gossips = []
        for node, counts in zip(nodes, delivered, strict=True):

            async def accept(sender, payload, counts=counts):
                counts[bytes(payload)] += 1
                return Verdict.ACCEPT

            gossips.append(Gossip(node, Channel.TX, accept))
        assert gossips[0].publish(b"tx-1") == 2
        assert gossips[2].publish(b"tx-2") == 2
        await eventually(lambda: sum(g.duplicates for g in gossips) == 4)
        await asyncio.sleep(0.2)  # give any extra copy time to show up
        # Every node but the origin handled each message exactly once; the
        # relayed copies that closed the loop were dropped as duplicates.
        assert delivered[0] == Counter({b"tx-2": 1})
        assert delivered[1] == Counter({b"tx-1": 1, b"tx-2": 1})
        assert delivered[2] == Counter({b"tx-1": 1})
        assert sum(g.duplicates for g in gossips) == 4
        # Publishing again (re-gossip after peers return) sends again; the
        # receivers, having seen it, drop it instead of handling it twice.
        assert gossips[0].publish(b"tx-1") == 2
        await eventually(lambda: sum(g.duplicates for g in gossips) == 6)
        assert delivered[1][b"tx-1"] == delivered[2][b"tx-1"] == 1
        for node in nodes:
            await node.stop()

    asyncio.run(scenario())


def test_ignored_gossip_is_forgotten_and_not_relayed() -> None:
    async def scenario():
        a, b, c = await triangle()
        seen_by_c: list[bytes] = []

        async def ignore(sender, payload):
            return Verdict.IGNORE

        async def record(sender, payload):
            seen_by_c.append(sender)
            return Verdict.ACCEPT

        Gossip(a, Channel.CONSENSUS, ignore)
        gossip_b = Gossip(b, Channel.CONSENSUS, ignore)
        Gossip(c, Channel.CONSENSUS, record)
        gossip_b.publish(b"vote for a future height")
        await eventually(lambda: len(seen_by_c) >= 1)
        # c accepted and relayed it to a; a ignored it the first time (from b)
        # and, having forgotten it, looked at c's copy too, but relayed neither.
        await asyncio.sleep(0.3)
        assert seen_by_c == [b.node_id]
        for node in (a, b, c):
            await node.stop()

    asyncio.run(scenario())


def test_invalid_gossip_lowers_the_score_then_disconnects_and_bans() -> None:
    async def scenario():
        a = manager(KEYS[0])
        handled: list[bytes] = []

        async def judge(sender, payload):
            handled.append(payload)
            return Verdict.INVALID if payload.startswith(b"bad") else Verdict.ACCEPT

        Gossip(a, Channel.TX, judge)
        await a.start()
        b = manager(KEYS[1], dial=(address_of(a),))
        gossip_b = Gossip(b, Channel.TX, judge)
        await b.start()
        await eventually(lambda: a.is_connected(b.node_id))
        gossip_b.publish(b"good")
        for i in range(4):
            gossip_b.publish(b"bad %d" % i)
        await eventually(lambda: len(handled) == 5)
        (info,) = a.peers()
        assert info.score == 80 and a.is_connected(b.node_id)  # 4 x 20, threshold 100

        gossip_b.publish(b"bad 4")
        await eventually(lambda: not a.peers() and not b.peers())
        until = a.banned_until(b.node_id)
        assert until is not None
        # b keeps redialling, a refuses it until the ban ends ...
        await stays(lambda: not a.peers(), FAST.ban_base - 0.5)
        # ... then lets it back in with a clean score.
        await eventually(lambda: a.is_connected(b.node_id), timeout=3)
        assert a.peers()[0].score == 0
        # A second ban lasts twice as long.
        for i in range(5):
            gossip_b.publish(b"bad again %d" % i)
        await eventually(lambda: not a.peers())
        second = a.banned_until(b.node_id)
        assert second is not None
        assert abs((second - asyncio.get_running_loop().time()) - 2 * FAST.ban_base) < 0.3
        await b.stop()
        await a.stop()

    asyncio.run(scenario())
