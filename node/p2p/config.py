"""Settings of the p2p layer and the addresses of peers to dial."""

from __future__ import annotations

from dataclasses import dataclass, field

from node.p2p.frame import DEFAULT_MAX_FRAME_SIZE
from node.p2p.message import MUTABLE_CHANNELS, Channel
from node.p2p.sendqueue import QueueLimits


@dataclass(frozen=True)
class P2PConfig:
    """Limits and timings; the defaults suit operator nodes on slow site links."""

    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    handshake_timeout: float = 10.0
    # A silent link is probed every ping_interval and dropped after idle_timeout,
    # so a peer whose site lost power is noticed even though TCP never says so.
    ping_interval: float = 10.0
    idle_timeout: float = 30.0
    request_timeout: float = 10.0
    max_concurrent_requests: int = 8  # requests served at once for one peer
    max_pending_handshakes: int = 64  # inbound handshakes in progress at once
    dial_backoff_base: float = 0.5
    dial_backoff_cap: float = 30.0
    stable_link_seconds: float = 30.0  # a link that lived this long resets the backoff
    ban_threshold: int = 100
    score_decay_per_second: int = 1
    ban_base: float = 60.0
    ban_cap: float = 3600.0
    queue_limits: QueueLimits = field(default_factory=QueueLimits)
    # Channels every peer is asked, at link-up, not to send (a MUTE message).
    muted_channels: frozenset[Channel] = frozenset()

    def __post_init__(self) -> None:
        if self.idle_timeout <= self.ping_interval:
            raise ValueError("idle_timeout must exceed ping_interval, or idle links drop")
        if self.max_frame_size < 1024:
            raise ValueError("max_frame_size below 1 KiB cannot carry a block")
        if not self.muted_channels <= MUTABLE_CHANNELS:
            raise ValueError(f"only {', '.join(c.name for c in MUTABLE_CHANNELS)} can be muted")


@dataclass(frozen=True)
class PeerAddress:
    """Where to dial a peer, optionally pinned to the node key it must prove."""

    host: str
    port: int
    node_key: bytes | None = None

    @classmethod
    def parse(cls, text: str) -> PeerAddress:
        """Parse `host:port` or `<node key hex>@host:port` (IPv6 hosts in brackets)."""
        key_hex, at, hostport = text.rpartition("@")
        host, colon, port_text = hostport.rpartition(":")
        if not colon or not host or not port_text.isdigit():
            raise ValueError(f"peer address {text!r} is not [key@]host:port")
        port = int(port_text)
        if not 0 < port < 65536:
            raise ValueError(f"peer address {text!r} has port out of range")
        node_key = None
        if at:
            try:
                node_key = bytes.fromhex(key_hex)
            except ValueError:
                raise ValueError(f"peer address {text!r}: node key is not hex") from None
            if len(node_key) != 32:
                raise ValueError(f"peer address {text!r}: node key is not 32 bytes")
        return cls(host.strip("[]"), port, node_key)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        prefix = f"{self.node_key.hex()}@" if self.node_key else ""
        return f"{prefix}{host}:{self.port}"
