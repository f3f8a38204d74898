"""Gossip over one channel, de-duplicated by message id.

Each node relays a message it accepts to every peer but the one it came from,
and remembers the ids of messages it has seen in a bounded LRU set, so a copy
arriving over another path stops there: in a mesh every node handles each
message once. The message id is SHA-256 of the payload's canonical encoding.
A relay floods the message itself, or, with an Announcer, offers its id for
peers that lack it to pull (node.p2p.announce).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from enum import Enum

from node import codec
from node.p2p.announce import Announcer
from node.p2p.manager import PeerManager
from node.p2p.message import Channel, Payload

INVALID_GOSSIP_PENALTY = 20
OFFER_MIN_BYTES = 2_048
"""With an announcer, relays of messages this large or larger are offered by id; a
smaller one is sent whole (an offer costs a message and a round trip of its own)."""


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
    """Publishes and relays the messages of one channel through a PeerManager.

    With an `announcer`, relays offer a message of OFFER_MIN_BYTES or more by id
    instead of sending it, and peers that lack it pull it (node.p2p.announce);
    `hint` gives the number a HAVE carries, `wants(sender, hint)` decides whether an
    offered message is fetched.
    """

    def __init__(
        self,
        manager: PeerManager,
        channel: Channel,
        handler: GossipHandler,
        *,
        capacity: int = 100_000,
        penalty: int = INVALID_GOSSIP_PENALTY,
        announcer: Announcer | None = None,
        hint: Callable[[Payload], int] = lambda payload: 0,
        wants: Callable[[bytes, int], bool] = lambda sender, hint: True,
    ) -> None:
        """Registers itself as the manager's handler for `channel`; `capacity`
        should cover the messages in flight over a few gossip rounds."""
        self._manager = manager
        self._channel = channel
        self._handler = handler
        self._penalty = penalty
        self._seen = SeenSet(capacity)
        self._announcer = announcer
        self._hint = hint
        self._wants = wants
        self.duplicates = 0
        manager.on_message(channel, self._receive)
        if announcer is not None:
            announcer.register(channel, self._fetches)

    def publish(self, payload: Payload) -> int:
        """Send a message to every peer; how many peers took it.

        Always sends, even a message seen before: re-publishing is how a node
        forwards what it accepted while cut off once peers return. Copies that
        come back are dropped as duplicates.
        """
        self._seen.add(message_id(payload))
        return self._manager.broadcast(self._channel, payload)

    def offer(self, payload: Payload) -> None:
        """Offer a message to every peer by id; those that lack it fetch it (needs an
        announcer). For messages most peers already have, such as a final block."""
        if self._announcer is None:
            raise ValueError(f"{self._channel.name} gossip has no announcer to offer with")
        mid = message_id(payload)
        self._seen.add(mid)
        self._announcer.announce(self._channel, mid, self._manager.encode(self._channel, payload),
                                 self._hint(payload))

    def _fetches(self, sender: bytes, mid: bytes, hint: int) -> bool:
        return mid not in self._seen and self._wants(sender, hint)

    async def _receive(self, sender: bytes, payload: Payload) -> None:
        mid = message_id(payload)
        if self._announcer is not None:
            self._announcer.arrived(mid)
        if not self._seen.add(mid):
            self.duplicates += 1
            return
        verdict = await self._handler(sender, payload)
        if verdict is Verdict.ACCEPT:
            self._relay(mid, payload, sender)
        elif verdict is Verdict.IGNORE:
            self._seen.discard(mid)
        else:
            self._manager.penalise(sender, self._penalty, f"invalid {self._channel.name} message")

    def _relay(self, mid: bytes, payload: Payload, sender: bytes) -> None:
        message = self._manager.encode(self._channel, payload)
        if self._announcer is None or len(message) < OFFER_MIN_BYTES:
            self._manager.broadcast_encoded(self._channel, message, exclude=(sender,))
        else:
            self._announcer.announce(self._channel, mid, message, self._hint(payload),
                                     exclude=(sender,))
