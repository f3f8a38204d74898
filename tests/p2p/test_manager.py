"""PeerManager over real loopback sockets: links, messages, requests, refusal, recovery."""

from __future__ import annotations

import asyncio
import struct

import pytest

from node import codec
from node.p2p import Channel, NotConnected, PeerAddress, PeerManager
from node.p2p.manager import keeps_new_link
from node.p2p.message import encode_message

from .helpers import (
    FAST,
    HOST,
    KEYS,
    OUTSIDER,
    REFUSED,
    REGISTRY,
    address_of,
    eventually,
    manager,
    raw_connect,
    stays,
)


class Inbox:
    """Collects (sender, payload) per channel for one manager."""

    def __init__(self, m: PeerManager, *channels: Channel) -> None:
        self.got: list[tuple[Channel, bytes, object]] = []
        for channel in channels:
            m.on_message(channel, self._handler(channel))

    def _handler(self, channel: Channel):
        async def handle(sender: bytes, payload) -> None:
            self.got.append((channel, sender, payload))

        return handle


def linked(*managers: PeerManager) -> bool:
    """Every manager has a link to every other one."""
    return all(
        {p.node_key for p in m.peers()} == {o.node_id for o in managers if o is not m}
        for m in managers
    )


def test_two_nodes_exchange_messages_both_ways() -> None:
    async def scenario():
        a = manager(KEYS[0])
        await a.start()
        b = manager(KEYS[1], dial=(address_of(a),))
        inbox_a, inbox_b = Inbox(a, Channel.CONSENSUS, Channel.TX), Inbox(b, Channel.BLOCK)
        await b.start()
        await eventually(lambda: linked(a, b))
        assert b.peers()[0].outbound and not a.peers()[0].outbound
        assert a.send(b.node_id, Channel.BLOCK, [1, b"block"])
        assert b.send(a.node_id, Channel.CONSENSUS, b"vote")
        assert b.broadcast(Channel.TX, b"tx") == 1
        await eventually(lambda: len(inbox_a.got) == 2 and len(inbox_b.got) == 1)
        assert sorted(inbox_a.got) == [
            (Channel.TX, b.node_id, b"tx"),
            (Channel.CONSENSUS, b.node_id, b"vote"),
        ]
        assert inbox_b.got == [(Channel.BLOCK, a.node_id, [1, b"block"])]
        await b.stop()
        await eventually(lambda: not a.peers())
        await a.stop()

    asyncio.run(scenario())


def test_three_nodes_mesh_and_broadcast() -> None:
    async def scenario():
        a = manager(KEYS[0])
        await a.start()
        b = manager(KEYS[1], dial=(address_of(a),))
        await b.start()
        c = manager(KEYS[2], dial=(address_of(a), address_of(b)))
        inboxes = [Inbox(m, Channel.CONSENSUS) for m in (a, b, c)]
        await c.start()
        await eventually(lambda: linked(a, b, c))
        assert c.broadcast(Channel.CONSENSUS, [b"prevote", 7]) == 2
        assert a.broadcast(Channel.CONSENSUS, [b"precommit", 7]) == 2
        await eventually(lambda: [len(i.got) for i in inboxes] == [1, 2, 1])
        assert inboxes[0].got == [(Channel.CONSENSUS, c.node_id, [b"prevote", 7])]
        assert inboxes[2].got == [(Channel.CONSENSUS, a.node_id, [b"precommit", 7])]
        for m in (a, b, c):
            await m.stop()

    asyncio.run(scenario())


def test_request_response_and_failures() -> None:
    async def scenario():
        a = manager(KEYS[0])
        b = manager(KEYS[1])
        asked: list[tuple[bytes, object]] = []

        async def serve_blocks(requester: bytes, body):
            asked.append((requester, body))
            if body == [b"slow"]:
                await asyncio.sleep(1)
            if body == [b"none"]:
                return None
            return [b"blocks", body[0]]

        a.on_request(Channel.SYNC_REQUEST, serve_blocks)
        await a.start()
        b = manager(KEYS[1], dial=(address_of(a),))
        await b.start()
        await eventually(lambda: linked(a, b))
        answers = await asyncio.gather(
            *(b.request(a.node_id, Channel.SYNC_REQUEST, [h]) for h in range(5))
        )
        assert answers == [[b"blocks", h] for h in range(5)]
        assert {r for r, _ in asked} == {b.node_id}
        with pytest.raises(TimeoutError):
            await b.request(a.node_id, Channel.SYNC_REQUEST, [b"none"], timeout=0.2)
        with pytest.raises(TimeoutError):
            await b.request(a.node_id, Channel.SYNC_REQUEST, [b"slow"], timeout=0.2)
        with pytest.raises(NotConnected):
            await b.request(KEYS[3].public_key, Channel.SYNC_REQUEST, [1])
        with pytest.raises(ValueError):
            b.send(a.node_id, Channel.SYNC_REQUEST, [0, b""])
        # The slow answer arrives late: ignored, not held against a.
        await asyncio.sleep(1.0)
        assert a.is_connected(b.node_id) and {p.score for p in b.peers()} == {0}
        pending = asyncio.create_task(b.request(a.node_id, Channel.SYNC_REQUEST, [b"slow"]))
        await asyncio.sleep(0.1)
        await a.stop()
        with pytest.raises(NotConnected):
            await pending
        await b.stop()

    asyncio.run(scenario())


def test_unregistered_key_cannot_connect_or_send() -> None:
    async def scenario():
        a = manager(KEYS[0])
        inbox = Inbox(a, Channel.TX, Channel.CONSENSUS)
        await a.start()
        outsider = manager(
            OUTSIDER, dial=(address_of(a),), registry=REGISTRY | {OUTSIDER.public_key}
        )
        await outsider.start()
        await stays(lambda: not a.peers() and not outsider.peers(), 0.6)
        assert outsider.broadcast(Channel.TX, b"spam") == 0
        await outsider.stop()

        # By hand: the outsider completes its half of the handshake and pushes a
        # message before the Ready it never gets; a closes without delivering it.
        with pytest.raises(REFUSED):
            await raw_connect(
                address_of(a), OUTSIDER, early=(encode_message(Channel.CONSENSUS, b"forged"),)
            )
        await asyncio.sleep(0.1)
        assert inbox.got == [] and not a.peers()
        await a.stop()

    asyncio.run(scenario())


def test_registry_change_at_runtime_drops_the_removed_key() -> None:
    async def scenario():
        a = manager(KEYS[0])
        await a.start()
        b = manager(KEYS[1], dial=(address_of(a),))
        await b.start()
        await eventually(lambda: linked(a, b))
        a.set_allowed_keys(REGISTRY - {KEYS[1].public_key})
        await eventually(lambda: not a.peers() and not b.peers())
        await stays(lambda: not a.peers(), 0.5)  # b keeps redialling, a keeps refusing
        a.set_allowed_keys(REGISTRY)
        await eventually(lambda: linked(a, b))
        await b.stop()
        await a.stop()

    asyncio.run(scenario())


def test_tampered_frame_closes_the_link() -> None:
    async def scenario():
        a = manager(KEYS[0])
        inbox = Inbox(a, Channel.TX)
        await a.start()
        raw = await raw_connect(address_of(a), KEYS[1])
        assert raw.remote_key == a.node_id
        raw.send_frame(encode_message(Channel.TX, b"genuine"))
        await eventually(lambda: len(inbox.got) == 1)
        frame = bytearray(raw.sealer.seal(encode_message(Channel.TX, b"altered")))
        frame[-20] ^= 0x40
        raw.writer.write(bytes(frame))
        assert await raw.closed_by_remote()
        await eventually(lambda: not a.peers())
        assert inbox.got == [(Channel.TX, KEYS[1].public_key, b"genuine")]
        await a.stop()

    asyncio.run(scenario())


def test_replayed_frame_closes_the_link() -> None:
    async def scenario():
        a = manager(KEYS[0])
        inbox = Inbox(a, Channel.CONSENSUS)
        await a.start()
        raw = await raw_connect(address_of(a), KEYS[1])
        frame = raw.send_frame(encode_message(Channel.CONSENSUS, b"vote"))
        raw.writer.write(frame)  # the same frame again
        assert await raw.closed_by_remote()
        assert inbox.got == [(Channel.CONSENSUS, KEYS[1].public_key, b"vote")]
        # Not the peer's provable fault (anyone on the path can replay): no ban.
        assert a.banned_until(KEYS[1].public_key) is None
        await a.stop()

    asyncio.run(scenario())


def test_oversized_length_closes_before_the_body_is_read() -> None:
    async def scenario():
        a = manager(KEYS[0])
        await a.start()
        raw = await raw_connect(address_of(a), KEYS[1])
        await eventually(lambda: a.is_connected(KEYS[1].public_key))
        # Announce ~4 GiB and send nothing more: a must refuse now, not wait
        # for (or allocate) the body.
        raw.writer.write(struct.pack(">I", 0xFFFFFFF0))
        assert await raw.closed_by_remote(timeout=1.0)
        await eventually(lambda: not a.peers())
        await a.stop()

    asyncio.run(scenario())


def test_malformed_message_bans_the_sender() -> None:
    async def scenario():
        a = manager(KEYS[0])
        await a.start()
        raw = await raw_connect(address_of(a), KEYS[1])
        raw.send_frame(codec.encode([99, b"no such channel"]))
        assert await raw.closed_by_remote()
        assert a.banned_until(KEYS[1].public_key) is not None
        # While banned the key is refused at handshake.
        with pytest.raises(REFUSED):
            await raw_connect(address_of(a), KEYS[1])
        assert not a.peers()
        await a.stop()

    asyncio.run(scenario())


def test_silent_inbound_connection_is_dropped_after_the_handshake_timeout() -> None:
    async def scenario():
        a = manager(KEYS[0])
        await a.start()
        host, port = a.listen_address
        reader, writer = await asyncio.open_connection(host, port)
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with asyncio.timeout(3):
            hello = await reader.read(1000)  # a speaks first ...
            assert hello.startswith(b"orep")
            assert await reader.read(1000) == b""  # ... then gives up on us
        elapsed = loop.time() - started
        assert FAST.handshake_timeout - 0.1 < elapsed < FAST.handshake_timeout + 1
        writer.close()
        await a.stop()

    asyncio.run(scenario())


def test_idle_link_is_kept_alive_by_pings() -> None:
    async def scenario():
        a = manager(KEYS[0])
        await a.start()
        b = manager(KEYS[1], dial=(address_of(a),))
        await b.start()
        await eventually(lambda: linked(a, b))
        # Three times the idle timeout without application traffic.
        await stays(lambda: linked(a, b), 3 * FAST.idle_timeout)
        await b.stop()
        await a.stop()

    asyncio.run(scenario())


def test_silent_link_is_dropped_after_the_idle_timeout() -> None:
    async def scenario():
        a = manager(KEYS[0])
        await a.start()
        loop = asyncio.get_running_loop()
        raw = await raw_connect(address_of(a), KEYS[1])     # sends no pings, nothing
        await eventually(lambda: len(a.peers()) == 1)
        connected = loop.time()
        # Frames keep the link: a ping before the timeout restarts the count.
        await asyncio.sleep(FAST.idle_timeout * 0.6)
        raw.send_frame(encode_message(Channel.PING, b""))
        await asyncio.sleep(FAST.idle_timeout * 0.6)
        assert len(a.peers()) == 1
        assert await raw.closed_by_remote(timeout=3 * FAST.idle_timeout)
        silent_for = loop.time() - connected - FAST.idle_timeout * 0.6
        assert FAST.idle_timeout - 0.2 < silent_for < FAST.idle_timeout + 1.0
        await eventually(lambda: not a.peers())
        raw.close()
        await a.stop()

    asyncio.run(scenario())


def test_reconnects_after_the_remote_restarts() -> None:
    async def scenario():
        a = manager(KEYS[0])
        await a.start()
        port = a.listen_address[1]
        b = manager(KEYS[1], dial=(PeerAddress(HOST, port),))
        inbox = Inbox(b, Channel.BLOCK)
        await b.start()
        await eventually(lambda: linked(a, b))
        await a.stop()
        await eventually(lambda: not b.peers())
        await asyncio.sleep(0.5)  # b dials a closed port meanwhile, backing off
        a = manager(KEYS[0], port=port)
        await a.start()
        await eventually(lambda: linked(a, b))
        assert a.broadcast(Channel.BLOCK, b"after restart") == 1
        await eventually(lambda: inbox.got == [(Channel.BLOCK, a.node_id, b"after restart")])
        await a.stop()
        await b.stop()

    asyncio.run(scenario())


def test_simultaneous_dial_settles_on_one_link() -> None:
    async def scenario():
        a = manager(KEYS[0])
        b = manager(KEYS[1])
        await a.start()
        await b.start()
        # Each dials the other at the same moment.
        a2 = manager(KEYS[0], port=a.listen_address[1], dial=(address_of(b),))
        b2 = manager(KEYS[1], port=b.listen_address[1], dial=(address_of(a),))
        await a.stop()
        await b.stop()
        await asyncio.gather(a2.start(), b2.start())
        await eventually(lambda: linked(a2, b2))
        await stays(lambda: linked(a2, b2), 0.5)
        (pa,), (pb,) = a2.peers(), b2.peers()
        # Both ends kept the same connection: the one the lower key dialled.
        low_dialled = min(a2.node_id, b2.node_id) == a2.node_id
        assert pa.outbound == low_dialled and pb.outbound == (not low_dialled)
        assert pa.address[1] == b2.listen_address[1] or pb.address[1] == a2.listen_address[1]
        await a2.stop()
        await b2.stop()

    asyncio.run(scenario())


def test_tie_break_rule_is_mirrored() -> None:
    low, high = b"\x01" * 32, b"\x02" * 32
    # Opposite directions: both ends keep the link dialled by the lower key.
    assert keeps_new_link(low, high, existing_outbound=False, new_outbound=True)
    assert keeps_new_link(high, low, existing_outbound=True, new_outbound=False)
    assert not keeps_new_link(low, high, existing_outbound=True, new_outbound=False)
    assert not keeps_new_link(high, low, existing_outbound=False, new_outbound=True)
    # Same direction: the dialler lost its old link, the new one wins.
    assert keeps_new_link(low, high, existing_outbound=False, new_outbound=False)
    assert keeps_new_link(high, low, existing_outbound=True, new_outbound=True)


def test_request_plumbing_on_the_wire() -> None:
    async def scenario():
        a = manager(KEYS[0])

        async def echo(requester: bytes, body):
            if body == b"crash":
                raise RuntimeError("bug in the daemon's handler")
            return [b"echo", body]

        a.on_request(Channel.SYNC_REQUEST, echo)
        await a.start()
        raw = await raw_connect(address_of(a), KEYS[1])
        raw.send_frame(encode_message(Channel.SYNC_REQUEST, [41, b"crash"]))
        raw.send_frame(encode_message(Channel.SYNC_REQUEST, [42, b"height 7"]))
        assert codec.decode(await raw.recv_frame()) == [
            Channel.SYNC_RESPONSE,
            [42, [b"echo", b"height 7"]],
        ]
        # Our handler's crash is not the peer's fault; an answer to a question
        # a never asked is.
        (info,) = a.peers()
        assert info.score == 0
        raw.send_frame(encode_message(Channel.SYNC_RESPONSE, [5, b"unasked"]))
        await eventually(lambda: a.peers()[0].score == 20)
        with pytest.raises(TypeError):
            await a.request(KEYS[1].public_key, Channel.SYNC_REQUEST, {"not": "a payload"})
        raw.close()
        await a.stop()

    asyncio.run(scenario())
