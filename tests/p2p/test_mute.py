"""MUTE: a node asks its peers, at link-up, not to send it a channel (relayed txs, or
consensus messages)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

import pytest

from node import codec
from node.p2p import Channel, InvalidMessage, P2PConfig
from node.p2p.message import parse_mute

from .helpers import FAST, KEYS, address_of, eventually, manager, raw_connect, stays
from .test_announce import BIG, linked, relaying, stop
from .test_manager import Inbox

LEAF = dataclasses.replace(FAST, muted_channels=frozenset({Channel.TX}))


def test_a_muted_channel_is_not_sent_and_the_rest_flows_both_ways() -> None:
    async def scenario():
        hub = manager(KEYS[0])
        await hub.start()
        leaf = manager(KEYS[1], dial=(address_of(hub),), config=LEAF)
        leaf_inbox = Inbox(leaf, Channel.TX, Channel.CONSENSUS)
        hub_inbox = Inbox(hub, Channel.TX)
        await leaf.start()
        await eventually(lambda: hub.takes(leaf.node_id, Channel.CONSENSUS)
                         and not hub.takes(leaf.node_id, Channel.TX))
        assert hub.broadcast(Channel.TX, b"relayed tx") == 0
        assert not hub.send(leaf.node_id, Channel.TX, b"relayed tx")
        assert hub.broadcast(Channel.CONSENSUS, b"vote") == 1
        # The leaf still sends its own txs out.
        assert leaf.broadcast(Channel.TX, b"own tx") == 1
        await eventually(lambda: hub_inbox.got == [(Channel.TX, leaf.node_id, b"own tx")])
        await eventually(lambda: leaf_inbox.got == [(Channel.CONSENSUS, hub.node_id, b"vote")])
        await stays(lambda: len(leaf_inbox.got) == 1, 0.3)
        await stop([leaf, hub])

    asyncio.run(scenario())


def test_relayed_offers_skip_a_peer_that_muted_their_channel() -> None:
    async def scenario():
        nodes = await linked({0: (), 1: (0,)})                       # a - b
        leaf = manager(KEYS[2], dial=(address_of(nodes[1]),), config=LEAF)
        await leaf.start()                                           # a - b - leaf
        await eventually(lambda: nodes[1].takes(leaf.node_id, Channel.CONSENSUS)
                         and not nodes[1].takes(leaf.node_id, Channel.TX))
        nodes.append(leaf)
        counts = [Counter() for _ in nodes]
        gossips = [relaying(n, k) for n, k in zip(nodes, counts, strict=True)]
        gossips[0][0].publish(BIG)                       # b takes it and relays by offer
        await eventually(lambda: sum(counts[1].values()) == 1)
        await stays(lambda: not counts[2], 0.5)
        # Neither pushed nor offered and pulled: the leaf received less than the message.
        assert leaf.peers()[0].received_bytes < len(codec.encode(BIG))
        await stop(nodes)

    asyncio.run(scenario())


def test_a_leaf_muting_consensus_gets_no_votes_and_still_gets_blocks() -> None:
    async def scenario():
        hub = manager(KEYS[0])
        await hub.start()
        config = dataclasses.replace(FAST, muted_channels=frozenset({Channel.TX,
                                                                    Channel.CONSENSUS}))
        leaf = manager(KEYS[1], dial=(address_of(hub),), config=config)
        leaf_inbox = Inbox(leaf, Channel.TX, Channel.CONSENSUS, Channel.BLOCK)
        hub_inbox = Inbox(hub, Channel.CONSENSUS)
        await leaf.start()
        await eventually(lambda: hub.takes(leaf.node_id, Channel.BLOCK)
                         and not hub.takes(leaf.node_id, Channel.CONSENSUS))
        assert hub.broadcast(Channel.CONSENSUS, b"vote") == 0
        assert hub.broadcast(Channel.BLOCK, b"final block") == 1
        # What the leaf itself sends on a channel it muted still goes out.
        assert leaf.broadcast(Channel.CONSENSUS, b"own") == 1
        await eventually(lambda: hub_inbox.got == [(Channel.CONSENSUS, leaf.node_id, b"own")])
        await eventually(lambda: leaf_inbox.got == [(Channel.BLOCK, hub.node_id,
                                                     b"final block")])
        await stays(lambda: len(leaf_inbox.got) == 1, 0.3)
        await stop([leaf, hub])

    asyncio.run(scenario())


def test_a_malformed_mute_bans_its_sender() -> None:
    async def scenario():
        hub = manager(KEYS[0])
        await hub.start()
        raw = await raw_connect(address_of(hub), KEYS[1])
        raw.send_frame(codec.encode([int(Channel.MUTE), [int(Channel.BLOCK)]]))
        assert await raw.closed_by_remote()
        assert hub.banned_until(KEYS[1].public_key) is not None
        await hub.stop()

    asyncio.run(scenario())


def test_only_relayed_txs_and_consensus_messages_can_be_muted() -> None:
    assert parse_mute([int(Channel.TX)]) == {Channel.TX}
    assert parse_mute([int(Channel.CONSENSUS), int(Channel.TX)]) == {Channel.TX,
                                                                    Channel.CONSENSUS}
    assert parse_mute([]) == frozenset()
    for bad in ([int(Channel.BLOCK)], [int(Channel.SYNC_REQUEST)], [int(Channel.TX)] * 2,
                [99], [True], [[1]], b"\x01"):
        with pytest.raises(InvalidMessage):
            parse_mute(bad)
    with pytest.raises(ValueError, match="can be muted"):
        P2PConfig(muted_channels=frozenset({Channel.BLOCK}))
