"""A peer's bounded outgoing queue: one FIFO per channel, served by priority.

Drop policy (docs/p2p.md, "Send queues"):
- TX, HAVE, WANT and PING are best effort: when a queue is full the new
  message is dropped and counted (one PING waiting is as good as two).
  Transactions are re-gossiped by mempools and carried in blocks, and a block a
  node missed is fetched by sync, so a lost message costs latency, never safety.
- Every other channel must not lose messages silently: when one of those queues
  (or the peer's byte budget) overflows, QueueOverflow is raised and the caller
  drops the whole link. The peer reconnects, and the daemon's on-connect
  catch-up (status exchange, sync) recovers what the slow link missed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from node.p2p.errors import QueueOverflow
from node.p2p.message import Channel

PRIORITY = (
    Channel.MUTE,
    Channel.CONSENSUS,
    Channel.SYNC_RESPONSE,
    Channel.SYNC_REQUEST,
    Channel.WANT,
    Channel.HAVE,
    Channel.BLOCK,
    Channel.TX,
    Channel.PING,
)
"""Highest first: a MUTE goes out once, ahead of what it asks the peer to stop;
consensus votes decide liveness, transactions can wait; a WANT or HAVE is a few
bytes that start a transfer, so they pass the transfers. A PING only fills a
silence, so anything else waiting does its job."""

LOSSY_CHANNELS = frozenset({Channel.TX, Channel.HAVE, Channel.WANT, Channel.PING})


def _default_limits() -> Mapping[Channel, int]:
    return MappingProxyType(
        {
            Channel.MUTE: 4,
            Channel.CONSENSUS: 4096,
            Channel.SYNC_RESPONSE: 64,
            Channel.SYNC_REQUEST: 64,
            Channel.WANT: 4096,
            Channel.HAVE: 4096,
            Channel.BLOCK: 256,
            Channel.TX: 4096,
            Channel.PING: 1,
        }
    )


@dataclass(frozen=True)
class QueueLimits:
    """Per-channel message counts and a byte budget across all channels."""

    messages: Mapping[Channel, int] = field(default_factory=_default_limits)
    max_bytes: int = 64 << 20


class SendQueue:
    """Messages waiting for one peer's writer; not thread-safe (one event loop)."""

    def __init__(self, limits: QueueLimits) -> None:
        self._limits = limits
        self._queues: dict[Channel, deque[bytes]] = {ch: deque() for ch in PRIORITY}
        self._bytes = 0
        self._ready = asyncio.Event()
        self.dropped = 0

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def put(self, channel: Channel, message: bytes) -> bool:
        """Queue an encoded message. False if a lossy channel dropped it;
        QueueOverflow if a must-deliver channel is full."""
        queue = self._queues[channel]
        full = (
            len(queue) >= self._limits.messages[channel]
            or self._bytes + len(message) > self._limits.max_bytes
        )
        if full:
            if channel in LOSSY_CHANNELS:
                self.dropped += 1
                return False
            raise QueueOverflow(f"send queue for {channel.name} is full")
        queue.append(message)
        self._bytes += len(message)
        self._ready.set()
        return True

    def pop(self) -> bytes | None:
        """The highest-priority waiting message, or None if nothing waits."""
        for channel in PRIORITY:
            queue = self._queues[channel]
            if queue:
                message = queue.popleft()
                self._bytes -= len(message)
                return message
        return None

    def pop_up_to(self, max_bytes: int) -> list[bytes]:
        """Waiting messages in priority order, stopping once `max_bytes` are taken
        (at least one message if any waits, however large)."""
        taken: list[bytes] = []
        size = 0
        while size < max_bytes:
            message = self.pop()
            if message is None:
                break
            taken.append(message)
            size += len(message)
        return taken

    async def wait(self) -> None:
        """Return once a message is waiting (it is taken with `pop`)."""
        while not len(self):
            self._ready.clear()
            await self._ready.wait()
