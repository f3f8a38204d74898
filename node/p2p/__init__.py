"""Peer links of orechain: authenticated encrypted links, gossip, request/response.

`PeerManager` is the entry point; `Gossip` relays one channel with dedup, by
flooding or, with an `Announcer`, by offering ids for peers to pull.
The wire protocol is specified in docs/p2p.md.
"""

from node.p2p.announce import Announcer
from node.p2p.config import P2PConfig, PeerAddress
from node.p2p.errors import (
    FrameError,
    HandshakeError,
    InvalidMessage,
    LinkClosed,
    NotConnected,
    P2PError,
    PeerRefused,
    QueueOverflow,
)
from node.p2p.gossip import Gossip, Verdict, message_id
from node.p2p.manager import MessageHandler, PeerManager, RequestHandler
from node.p2p.message import Channel, Payload
from node.p2p.peer import PeerInfo
from node.p2p.sendqueue import QueueLimits

__all__ = [
    "Announcer",
    "Channel",
    "FrameError",
    "Gossip",
    "HandshakeError",
    "InvalidMessage",
    "LinkClosed",
    "MessageHandler",
    "NotConnected",
    "P2PConfig",
    "P2PError",
    "Payload",
    "PeerAddress",
    "PeerInfo",
    "PeerManager",
    "PeerRefused",
    "QueueLimits",
    "QueueOverflow",
    "RequestHandler",
    "Verdict",
    "message_id",
]
