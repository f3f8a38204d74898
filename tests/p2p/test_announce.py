"""Announce-and-pull relay: large relayed messages cross each link that needs them once."""

from __future__ import annotations

import asyncio
from collections import Counter

from node.p2p import Announcer, Channel, Gossip, PeerManager, Verdict, message_id
from node.p2p.gossip import OFFER_MIN_BYTES

from .helpers import KEYS, address_of, eventually, manager, stays

BIG = [b"tx-%d" % i + bytes(100) for i in range(40)]   # over OFFER_MIN_BYTES encoded


async def linked(dials: dict[int, tuple[int, ...]]) -> list[PeerManager]:
    """Managers for KEYS[0..n), node i dialling the nodes `dials[i]` names."""
    nodes: list[PeerManager] = []
    for i in range(len(dials)):
        node = manager(KEYS[i], dial=tuple(address_of(nodes[j]) for j in dials[i]))
        await node.start()
        nodes.append(node)
    links = sum(len(d) for d in dials.values())
    await eventually(lambda: sum(len(n.peers()) for n in nodes) == 2 * links)
    return nodes


def relaying(node: PeerManager, counts: Counter, *, want_timeout: float = 2.0,
             wants=lambda sender, hint: True) -> tuple[Gossip, Announcer]:
    announcer = Announcer(node, want_timeout=want_timeout)

    async def accept(sender, payload):
        counts[message_id(payload)] += 1
        return Verdict.ACCEPT

    gossip = Gossip(node, Channel.TX, accept, announcer=announcer,
                    hint=lambda payload: len(payload), wants=wants)
    return gossip, announcer


async def relaying_net(dials: dict[int, tuple[int, ...]]) -> tuple[
        list[PeerManager], list[Counter], list[tuple[Gossip, Announcer]]]:
    """`linked` nodes relaying TX by offers, with the count of each message they took."""
    nodes = await linked(dials)
    counts = [Counter() for _ in nodes]
    return nodes, counts, [relaying(n, k) for n, k in zip(nodes, counts, strict=True)]


async def stop(nodes: list[PeerManager]) -> None:
    for node in nodes:
        await node.stop()


def test_a_relay_offers_and_the_node_beyond_pulls() -> None:
    async def scenario():
        nodes, counts, gossips = await relaying_net({0: (), 1: (0,), 2: (1,)})    # a - b - c
        assert len(nodes[0].encode(Channel.TX, BIG)) >= OFFER_MIN_BYTES
        gossips[0][0].publish(BIG)
        mid = message_id(BIG)
        await eventually(lambda: counts[2][mid] == 1)
        # b got it pushed, offered it to c (not back to a), and served c's WANT.
        assert counts[1][mid] == 1 and gossips[1][1].served == 1
        assert gossips[0][1].served == 0
        await stop(nodes)

    asyncio.run(scenario())


def test_in_a_triangle_relayed_copies_are_offers_not_payloads() -> None:
    async def scenario():
        nodes, counts, gossips = await relaying_net({0: (), 1: (0,), 2: (0, 1)})
        gossips[0][0].publish(BIG)
        mid = message_id(BIG)
        await eventually(lambda: counts[1][mid] == 1 and counts[2][mid] == 1)
        await asyncio.sleep(0.3)      # time for any copy beyond the first to show up
        # b and c each got the batch from a and offered it to the other, who had it:
        # no node received the payload twice and nobody pulled.
        assert [g.duplicates for g, _ in gossips] == [0, 0, 0]
        assert [a.served for _, a in gossips] == [0, 0, 0]
        await stop(nodes)

    asyncio.run(scenario())


def test_small_messages_still_flood() -> None:
    async def scenario():
        nodes, counts, gossips = await relaying_net({0: (), 1: (0,), 2: (0, 1)})
        gossips[0][0].publish(b"vote")
        mid = message_id(b"vote")
        # b and c relay the small message whole to each other: each gets a second copy.
        await eventually(lambda: [g.duplicates for g, _ in gossips] == [0, 1, 1])
        assert counts[1][mid] == counts[2][mid] == 1
        await stop(nodes)

    asyncio.run(scenario())


def test_an_offer_the_receiver_does_not_want_is_not_fetched() -> None:
    async def scenario():
        a, b = nodes = await linked({0: (), 1: (0,)})
        counts = [Counter(), Counter()]
        offering, _ = relaying(a, counts[0])
        hints: list[int] = []

        def wants(sender, hint):
            hints.append(hint)
            return hint > 100                     # e.g. only blocks above its head

        relaying(b, counts[1], wants=wants)
        offering.offer(BIG)                        # hint: len(BIG) == 40
        await eventually(lambda: hints == [40])
        await stays(lambda: not counts[1], 0.3)
        await stop(nodes)

    asyncio.run(scenario())


def test_an_unanswered_want_goes_to_the_next_peer_that_offered() -> None:
    async def scenario():
        # c is linked to x and to b; x offers an id it cannot serve, b really has it.
        x, b, c = nodes = await linked({0: (), 1: (), 2: (0, 1)})
        counts = [Counter() for _ in nodes]
        relaying(x, counts[0])
        offering, b_announcer = relaying(b, counts[1])
        _, c_announcer = relaying(c, counts[2], want_timeout=0.3)
        mid = message_id(BIG)
        x.send(c.node_id, Channel.HAVE, [[int(Channel.TX), mid, 0]])
        await eventually(lambda: mid in c_announcer._wants)
        offering.offer(BIG)
        await stays(lambda: not counts[2], 0.15)   # c waits for x first ...
        await eventually(lambda: counts[2][mid] == 1)   # ... then asks b
        assert b_announcer.served == 1 and mid not in c_announcer._wants
        await stop(nodes)

    asyncio.run(scenario())


def test_a_malformed_offer_costs_the_sender() -> None:
    async def scenario():
        a, b = nodes = await linked({0: (), 1: (0,)})
        relaying(a, Counter())
        b.send(a.node_id, Channel.HAVE, [[int(Channel.TX), b"short id", 0]])
        await eventually(lambda: not a.peers())        # 100 points: a ban at once
        assert a.banned_until(b.node_id) is not None
        await stop(nodes)

    asyncio.run(scenario())
