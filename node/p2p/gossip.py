"""Flood gossip over one channel, de-duplicated by message id.

Each node relays a message it accepts to every peer but the one it came from,
and remembers the ids of messages it has seen in a bounded LRU set, so a copy
arriving over another path stops there: in a mesh every node handles each
message once. The message id is SHA-256 of the payload's canonical encoding.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from enum import Enum

from node import codec
from node.p2p.manager import PeerManager
from node.p2p.message import Channel, Payload

INVALID_GOSSIP_PENALTY = 20


class Verdict(Enum):
    """What the application made of a gossiped message."""

    ACCEPT = "accept"  # valid and new: relay it to the other peers
    IGNORE = "ignore"  # not useful now (stale, future height): forget it, no relay
    INVALID = "invalid"  # provably bad: remember it, no relay, penalise the sender


GossipHandler = Callable[[bytes, Payload], Awaitable[Verdict]]
"""`await handler(sender_node_key, payload) -> Verdict`."""


def message_id(payload: Payload) -> bytes:
    """SHA-256 of the payload's canonical msgpack encoding."""
    return hashlib.sha256(codec.encode(payload)).digest()


class SeenSet:
    """The most recently seen message ids, at most `capacity` of them."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a seen-set holds at least one id")
        self._capacity = capacity
        self._ids: OrderedDict[bytes, None] = OrderedDict()

    def __contains__(self, message_id: bytes) -> bool:
        return message_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, message_id: bytes) -> bool:
        """Remember `message_id`; False if it was already remembered."""
        if message_id in self._ids:
            self._ids.move_to_end(message_id)
            return False
        self._ids[message_id] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True

    def discard(self, message_id: bytes) -> None:
        self._ids.pop(message_id, None)


class Gossip:
    """Publishes and relays the messages of one channel through a PeerManager."""

    def __init__(
        self,
        manager: PeerManager,
        channel: Channel,
        handler: GossipHandler,
        *,
        capacity: int = 100_000,
        penalty: int = INVALID_GOSSIP_PENALTY,
    ) -> None:
        """Registers itself as the manager's handler for `channel`; `capacity`
        should cover the messages in flight over a few gossip rounds."""
        self._manager = manager
        self._channel = channel
        self._handler = handler
        self._penalty = penalty
        self._seen = SeenSet(capacity)
        self.duplicates = 0
        manager.on_message(channel, self._receive)

    def publish(self, payload: Payload) -> int:
        """Send a message to every peer; how many peers took it.

        Always sends, even a message seen before: re-publishing is how a node
        forwards what it accepted while cut off once peers return. Copies that
        come back are dropped as duplicates.
        """
        self._seen.add(message_id(payload))
        return self._manager.broadcast(self._channel, payload)

    async def _receive(self, sender: bytes, payload: Payload) -> None:
        mid = message_id(payload)
        if not self._seen.add(mid):
            self.duplicates += 1
            return
        verdict = await self._handler(sender, payload)
        if verdict is Verdict.ACCEPT:
            self._manager.broadcast(self._channel, payload, exclude=(sender,))
        elif verdict is Verdict.IGNORE:
            self._seen.discard(mid)
        else:
            self._manager.penalise(sender, self._penalty, f"invalid {self._channel.name} message")
