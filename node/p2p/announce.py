"""Announce-and-pull relay: a relayed message travels as its id; a peer that lacks it asks.

Flooding makes every node of a mesh receive each message once from every
neighbour, and all copies but the first are dropped. For large messages whose
first copies reach most nodes directly (a tx batch, pushed by the node that
accepted it to all its peers; a final block, which every validator commits on its
own) a node offers what it relays with a HAVE of `[channel, message_id, hint]`. A
peer that has not seen the id, and wants it by its `hint` (a final block's height),
answers with a WANT and gets the message itself: it then crosses each link that
needs it once. A WANT unanswered within `want_timeout` goes to the next peer that
offered the same id. docs/p2p.md §5.1 has the wire format.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from node.p2p.errors import InvalidMessage
from node.p2p.manager import PeerManager
from node.p2p.message import MALFORMED_PENALTY, Channel

WANT_TIMEOUT = 2.0
"""Seconds before a WANT nobody answered goes to the next peer that offered the id."""
MAX_WANTS = 8_192
"""Ids being fetched at once; HAVEs beyond it are left to later offers or sync."""
MAX_WANTS_PER_PEER = 512
KEPT_BYTES = 8 << 20
"""Encoded messages kept to answer WANTs, oldest dropped first: many seconds of a busy
network's offers, far longer than a WANT takes to arrive."""
MAX_IDS_PER_MESSAGE = 1_024
MESSAGE_ID_SIZE = 32

WantsFn = Callable[[bytes, bytes, int], bool]
"""`wants(sender, message_id, hint)`: whether to fetch an offered message."""


@dataclass
class _Want:
    channel: Channel
    asked: bytes
    others: list[bytes] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class Announcer:
    """Offers relayed messages by id on HAVE and answers and sends WANTs, for the
    channels registered with it (each by the Gossip that relays it)."""

    def __init__(self, manager: PeerManager, *, want_timeout: float = WANT_TIMEOUT,
                 kept_bytes: int = KEPT_BYTES) -> None:
        self._manager = manager
        self._want_timeout = want_timeout
        self._kept_limit = kept_bytes
        self._wants_fns: dict[Channel, WantsFn] = {}
        self._kept: OrderedDict[bytes, tuple[Channel, bytes]] = OrderedDict()
        self._kept_bytes = 0
        self._wants: dict[bytes, _Want] = {}
        self._asked_of: dict[bytes, int] = {}
        # Offers and asks made in one turn of the event loop leave as one message per peer.
        self._offers: list[tuple[list[Any], Collection[bytes]]] = []
        self._asks: dict[bytes, list[list[Any]]] = {}
        self.served = 0
        manager.on_message(Channel.HAVE, self._on_have)
        manager.on_message(Channel.WANT, self._on_want)

    def register(self, channel: Channel, wants: WantsFn) -> None:
        if channel in self._wants_fns:
            raise ValueError(f"{channel.name} is already relayed by announcement")
        self._wants_fns[channel] = wants

    # --- offering ------------------------------------------------------------------

    def announce(self, channel: Channel, message_id: bytes, message: bytes, hint: int,
                 exclude: Collection[bytes] = ()) -> None:
        """Keep the message (made by PeerManager.encode) to answer WANTs and offer it to
        every peer not in `exclude`."""
        if message_id not in self._kept:
            self._kept[message_id] = (channel, message)
            self._kept_bytes += len(message)
            while self._kept_bytes > self._kept_limit and len(self._kept) > 1:
                _, (_, dropped) = self._kept.popitem(last=False)
                self._kept_bytes -= len(dropped)
        if not self._offers:
            asyncio.get_running_loop().call_soon(self._flush_offers)
        self._offers.append(([int(channel), message_id, hint], exclude))

    def _flush_offers(self) -> None:
        offers, self._offers = self._offers, []
        for key in self._manager.connected_keys():
            self._send(key, Channel.HAVE,
                       [entry for entry, exclude in offers if key not in exclude
                        and self._manager.takes(key, Channel(entry[0]))])

    async def _on_want(self, sender: bytes, payload: Any) -> None:
        for channel, message_id, _ in _entries(payload, with_hint=False):
            kept = self._kept.get(message_id)
            if kept is not None and kept[0] == channel:
                self._manager.send_encoded(sender, channel, kept[1])
                self.served += 1

    # --- fetching ------------------------------------------------------------------------

    async def _on_have(self, sender: bytes, payload: Any) -> None:
        for channel, message_id, hint in _entries(payload, with_hint=True):
            wants = self._wants_fns.get(channel)
            if wants is None or channel in self._manager.muted_channels:
                continue
            want = self._wants.get(message_id)
            if want is not None:
                if sender != want.asked and sender not in want.others:
                    want.others.append(sender)
                continue
            if (len(self._wants) < MAX_WANTS
                    and self._asked_of.get(sender, 0) < MAX_WANTS_PER_PEER
                    and wants(sender, message_id, hint)):
                want = self._wants[message_id] = _Want(channel, sender)
                self._ask(message_id, want)

    def arrived(self, message_id: bytes) -> None:
        """The message came (asked for or not): stop fetching it."""
        want = self._wants.pop(message_id, None)
        if want is not None:
            self._release(want)

    def _ask(self, message_id: bytes, want: _Want) -> None:
        self._asked_of[want.asked] = self._asked_of.get(want.asked, 0) + 1
        if not self._asks:
            asyncio.get_running_loop().call_soon(self._flush_asks)
        self._asks.setdefault(want.asked, []).append([int(want.channel), message_id])
        want.timer = asyncio.get_running_loop().call_later(
            self._want_timeout, self._ask_next, message_id)

    def _flush_asks(self) -> None:
        asks, self._asks = self._asks, {}
        for key, entries in asks.items():
            self._send(key, Channel.WANT, entries)

    def _send(self, key: bytes, channel: Channel, entries: list[list[Any]]) -> None:
        for start in range(0, len(entries), MAX_IDS_PER_MESSAGE):
            self._manager.send(key, channel, entries[start:start + MAX_IDS_PER_MESSAGE])

    def _ask_next(self, message_id: bytes) -> None:
        want = self._wants.get(message_id)
        if want is None:
            return
        self._release(want)
        if not want.others:
            del self._wants[message_id]     # left to a later offer (or sync, for blocks)
            return
        want.asked = want.others.pop(0)
        self._ask(message_id, want)

    def _release(self, want: _Want) -> None:
        if want.timer is not None:
            want.timer.cancel()
        left = self._asked_of.get(want.asked, 0) - 1
        if left > 0:
            self._asked_of[want.asked] = left
        else:
            self._asked_of.pop(want.asked, None)


def _entries(payload: Any, *, with_hint: bool) -> list[tuple[Channel, bytes, int]]:
    """The `[channel, message_id(, hint)]` entries of a HAVE or WANT; InvalidMessage
    (the malformed penalty) if any is not one."""
    size = 3 if with_hint else 2
    if not isinstance(payload, list) or not 0 < len(payload) <= MAX_IDS_PER_MESSAGE:
        raise InvalidMessage(f"a HAVE or WANT is a list of 1 to {MAX_IDS_PER_MESSAGE} entries",
                             MALFORMED_PENALTY)
    out = []
    for entry in payload:
        if not (isinstance(entry, list) and len(entry) == size
                and type(entry[0]) is int and entry[0] in Channel._value2member_map_
                and isinstance(entry[1], bytes) and len(entry[1]) == MESSAGE_ID_SIZE
                and (not with_hint or (type(entry[2]) is int and entry[2] >= 0))):
            raise InvalidMessage("a HAVE entry is [channel, 32-byte id, hint >= 0], a WANT "
                                 "entry [channel, 32-byte id]", MALFORMED_PENALTY)
        out.append((Channel(entry[0]), entry[1], entry[2] if with_hint else 0))
    return out
