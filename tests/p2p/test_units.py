"""Send queues, backoff, scoring and addresses: the manager's policies in isolation."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace

import pytest

from node.p2p import Channel, P2PConfig, PeerAddress, QueueLimits, QueueOverflow
from node.p2p.backoff import Backoff
from node.p2p.scoring import Scoreboard
from node.p2p.sendqueue import PRIORITY, SendQueue

from .helpers import FAST, KEYS, address_of, eventually, manager, raw_connect


def limits(count: int, max_bytes: int = 1 << 20) -> QueueLimits:
    return QueueLimits({ch: count for ch in PRIORITY}, max_bytes)


def test_queue_serves_by_priority_then_fifo() -> None:
    queue = SendQueue(limits(10))
    queue.put(Channel.TX, b"tx1")
    queue.put(Channel.BLOCK, b"block")
    queue.put(Channel.TX, b"tx2")
    queue.put(Channel.CONSENSUS, b"vote")
    assert [queue.pop() for _ in range(5)] == [b"vote", b"block", b"tx1", b"tx2", None]


def test_pop_up_to_takes_by_priority_until_the_byte_bound() -> None:
    queue = SendQueue(limits(10))
    queue.put(Channel.TX, b"t" * 5)
    queue.put(Channel.BLOCK, b"b" * 50)
    queue.put(Channel.CONSENSUS, b"v" * 4)
    assert queue.pop_up_to(8) == [b"v" * 4, b"b" * 50]   # past the bound by the last one
    assert queue.pop_up_to(1) == [b"t" * 5]               # one, however large
    assert queue.pop_up_to(100) == [] and len(queue) == 0


def test_full_tx_queue_drops_but_consensus_overflow_raises() -> None:
    queue = SendQueue(limits(2))
    assert queue.put(Channel.TX, b"1") and queue.put(Channel.TX, b"2")
    assert not queue.put(Channel.TX, b"3")
    assert queue.dropped == 1 and len(queue) == 2
    queue.put(Channel.CONSENSUS, b"a")
    queue.put(Channel.CONSENSUS, b"b")
    with pytest.raises(QueueOverflow):
        queue.put(Channel.CONSENSUS, b"c")


def test_one_waiting_ping_is_kept_and_goes_out_after_everything_else() -> None:
    queue = SendQueue(QueueLimits())
    assert queue.put(Channel.PING, b"ping")
    assert not queue.put(Channel.PING, b"ping")       # a second adds nothing: dropped
    queue.put(Channel.TX, b"tx")
    assert queue.dropped == 1
    assert queue.pop_up_to(100) == [b"tx", b"ping"]


def test_byte_budget_bounds_the_queue_across_channels() -> None:
    queue = SendQueue(limits(100, max_bytes=10))
    assert queue.put(Channel.BLOCK, b"x" * 8)
    assert not queue.put(Channel.TX, b"x" * 3)
    with pytest.raises(QueueOverflow):
        queue.put(Channel.BLOCK, b"x" * 3)
    queue.pop()
    assert queue.put(Channel.BLOCK, b"x" * 10)


def test_queue_wait_wakes_on_put() -> None:
    async def scenario():
        queue = SendQueue(limits(4))
        waiter = asyncio.create_task(queue.wait())
        await asyncio.sleep(0.01)
        assert not waiter.done()
        queue.put(Channel.BLOCK, b"b")
        await asyncio.wait_for(waiter, 1)
        assert queue.pop() == b"b"

    asyncio.run(scenario())


def test_backoff_doubles_with_jitter_up_to_the_cap_and_replays_by_seed() -> None:
    def delays(seed: int) -> list[float]:
        backoff = Backoff(1.0, 8.0, random.Random(seed))
        return [backoff.next_delay() for _ in range(6)]

    first = delays(7)
    assert first == delays(7) and first != delays(8)
    for delay, ceiling in zip(first, [1, 2, 4, 8, 8, 8], strict=True):
        assert ceiling / 2 <= delay <= ceiling
    backoff = Backoff(1.0, 8.0, random.Random(1))
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_scores_drain_and_bans_double_up_to_the_cap() -> None:
    now = [0.0]
    board = Scoreboard(
        threshold=100, decay_per_second=2, ban_base=10, ban_cap=25, clock=lambda: now[0]
    )
    key = b"k" * 32
    assert not board.penalise(key, 60, "x")
    now[0] = 10.0
    assert board.score(key) == 40
    assert board.penalise(key, 60, "y")
    assert board.banned_until(key) == 20.0 and board.score(key) == 0
    now[0] = 20.0
    assert board.banned_until(key) is None
    assert board.penalise(key, 100, "z")
    assert board.banned_until(key) == 40.0
    now[0] = 40.0
    assert board.penalise(key, 100, "z")
    assert board.banned_until(key) == 65.0  # capped at 25 s


def test_peer_address_parsing() -> None:
    key = KEYS[0].public_key
    assert PeerAddress.parse("127.0.0.1:26656") == PeerAddress("127.0.0.1", 26656)
    pinned = PeerAddress.parse(f"{key.hex()}@127.0.0.1:1")
    assert pinned.node_key == key and str(pinned) == f"{key.hex()}@127.0.0.1:1"
    assert PeerAddress.parse("[::1]:5") == PeerAddress("::1", 5)
    for bad in ("127.0.0.1", "h:0", "h:70000", "zz@h:1", "abcd@h:1", ":1"):
        with pytest.raises(ValueError):
            PeerAddress.parse(bad)
    with pytest.raises(ValueError):
        P2PConfig(ping_interval=5, idle_timeout=5)


def test_slow_peer_overflowing_consensus_is_disconnected_but_tx_only_drops() -> None:
    async def scenario():
        config = replace(FAST, queue_limits=limits(8), idle_timeout=30, ping_interval=10)
        a = manager(KEYS[0], config=config)
        await a.start()
        raw = await raw_connect(address_of(a), KEYS[1])  # and never reads
        await eventually(lambda: a.is_connected(KEYS[1].public_key))
        big = b"x" * 65536
        for _ in range(1000):  # far more than the socket buffers hold
            a.broadcast(Channel.TX, big)
            await asyncio.sleep(0)
        (info,) = a.peers()
        assert info.dropped > 0 and info.queued <= 8
        for _ in range(20):
            a.broadcast(Channel.CONSENSUS, big)
        await eventually(lambda: not a.peers())
        raw.close()
        await a.stop()

    asyncio.run(scenario())
