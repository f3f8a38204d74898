"""Exceptions raised by the p2p layer; every one derives from P2PError."""

from __future__ import annotations


class P2PError(Exception):
    """Base class of every p2p failure."""


class HandshakeError(P2PError):
    """The secret-link handshake failed: wrong protocol, bad signature, timeout, EOF."""


class PeerRefused(HandshakeError):
    """The handshake succeeded but the remote node key is not welcome here
    (outside the registry, banned, our own key, or not the key we dialled)."""

    def __init__(self, node_key: bytes, reason: str) -> None:
        super().__init__(f"peer {node_key.hex()[:16]} refused: {reason}")
        self.node_key = node_key


class FrameError(P2PError):
    """A frame on an established link is oversized, forged, replayed or reordered."""


class LinkClosed(P2PError):
    """The link is closed (goodbye received, EOF, or closed locally)."""


class InvalidMessage(P2PError):
    """A decrypted message breaks the protocol or the application's rules.

    Raised by the envelope decoder and by application handlers; the sender's
    misbehaviour score is lowered by `penalty` points.
    """

    def __init__(self, reason: str, penalty: int = 20) -> None:
        super().__init__(reason)
        self.penalty = penalty


class NotConnected(P2PError):
    """No link to that node (or the link closed before a response arrived)."""


class QueueOverflow(P2PError):
    """A peer's send queue for a must-deliver channel is full; the link is dropped."""
