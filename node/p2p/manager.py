"""The PeerManager: the node's switch between the network and the daemon.

It accepts and dials secret links, keeps at most one link per remote node key,
routes incoming messages to the handler registered for their channel, sends and
broadcasts, runs request/response exchanges, and scores and bans peers that
misbehave. It knows nothing of what payloads mean.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterable, Sequence
from typing import Any

from node.crypto import PrivateKey
from node.p2p.backoff import Backoff
from node.p2p.config import P2PConfig, PeerAddress
from node.p2p.errors import HandshakeError, NotConnected, PeerRefused
from node.p2p.handshake import handshake
from node.p2p.link import SecretLink
from node.p2p.message import (
    REQUEST_RESPONSE_CHANNELS,
    RESPONSE_CHANNEL,
    Channel,
    Payload,
    encode_message,
)
from node.p2p.peer import Peer, PeerInfo
from node.p2p.scoring import Scoreboard

log = logging.getLogger("orechain.p2p")

MessageHandler = Callable[[bytes, Payload], Awaitable[None]]
"""`await handler(sender_node_key, payload)`; raise InvalidMessage to penalise the sender."""

RequestHandler = Callable[[bytes, Payload], Awaitable[Payload | None]]
"""`await handler(requester_node_key, body)` returns the response body, or None for none."""

PeerCallback = Callable[[PeerInfo], None]


def keeps_new_link(
    own_key: bytes, remote_key: bytes, existing_outbound: bool, new_outbound: bool
) -> bool:
    """Whether a new link to a node replaces the one already open to it.

    Both ends evaluate this with the same inputs mirrored, so they keep the same
    TCP connection. Two links dialled in the same direction mean the dialler
    lost the first one (it only dials when it has no link): the new one wins.
    Links dialled both ways at once: the one dialled by the lower key wins.
    """
    if existing_outbound == new_outbound:
        return True
    new_dialler = own_key if new_outbound else remote_key
    return new_dialler == min(own_key, remote_key)


class PeerManager:
    """Links to the other registered nodes of one chain."""

    def __init__(
        self,
        node_key: PrivateKey,
        chain_id: str,
        allowed_keys: Iterable[bytes],
        *,
        listen: tuple[str, int] | None = None,
        dial: Sequence[PeerAddress] = (),
        config: P2PConfig | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`allowed_keys` is the node registry (Ed25519 public keys); `listen`
        is the (host, port) to accept links on, None for dial-only; `dial` the
        peers to keep links to; `rng` drives backoff jitter (seed it to replay)."""
        self._node_key = node_key
        self._chain_id = chain_id
        self._allowed = frozenset(allowed_keys)
        self._listen = listen
        self._dial = tuple(dial)
        self._config = config or P2PConfig()
        self._rng = rng or random.Random()
        self._clock = clock
        self._scores = Scoreboard(
            threshold=self._config.ban_threshold,
            decay_per_second=self._config.score_decay_per_second,
            ban_base=self._config.ban_base,
            ban_cap=self._config.ban_cap,
            clock=clock,
        )
        self._peers: dict[bytes, Peer] = {}
        self._closed_traffic = (0, 0)      # bytes of links that are gone
        self._handlers: dict[Channel, MessageHandler] = {}
        self._servers: dict[Channel, RequestHandler] = {}
        self._on_connected: list[PeerCallback] = []
        self._on_disconnected: list[PeerCallback] = []
        self._peer_tasks: set[asyncio.Task[None]] = set()  # end when their link closes
        self._background: set[asyncio.Task[None]] = set()  # dialers, inbound handshakes
        self._server: asyncio.Server | None = None
        self._handshaking = 0
        self._running = False

    # -- lifecycle -------------------------------------------------------

    @property
    def node_id(self) -> bytes:
        """Our node public key, as peers see it."""
        return self._node_key.public_key

    @property
    def listen_address(self) -> tuple[str, int] | None:
        """The bound (host, port), with the real port when 0 was asked for."""
        if self._server is None or not self._server.sockets:
            return None
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    async def start(self) -> None:
        """Bind the listener (if any) and start dialling the configured peers."""
        if self._running:
            raise RuntimeError("PeerManager already started")
        self._running = True
        if self._listen is not None:
            host, port = self._listen
            self._server = await asyncio.start_server(self._accept, host, port)
        for address in self._dial:
            self._spawn(self._background, self._dial_loop(address))

    async def stop(self) -> None:
        """Say goodbye on every link, stop dialling and listening."""
        self._running = False
        if self._server is not None:
            self._server.close()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        for peer in list(self._peers.values()):
            peer.close("node shutting down")
        await asyncio.gather(*self._peer_tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    @staticmethod
    def _spawn(tasks: set[asyncio.Task[None]], coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    # -- registry, scores, status ----------------------------------------

    def set_allowed_keys(self, keys: Iterable[bytes]) -> None:
        """Replace the node registry; links to keys no longer in it are closed."""
        self._allowed = frozenset(keys)
        for key, peer in list(self._peers.items()):
            if key not in self._allowed:
                peer.close("removed from the node registry")

    def penalise(self, node_key: bytes, points: int, reason: str) -> None:
        """Lower a peer's standing; at the threshold its link closes and it is banned."""
        if self._scores.penalise(node_key, points, reason):
            peer = self._peers.get(node_key)
            if peer is not None:
                peer.close(f"banned: {reason}")

    def banned_until(self, node_key: bytes) -> float | None:
        """When (on the manager's clock) the ban of `node_key` ends; None if not banned."""
        return self._scores.banned_until(node_key)

    def peers(self) -> list[PeerInfo]:
        """The connected peers, for status and for choosing whom to ask."""
        return [peer.info(self._scores.score(key)) for key, peer in self._peers.items()]

    def connected_keys(self) -> list[bytes]:
        return list(self._peers)

    def is_connected(self, node_key: bytes) -> bool:
        return node_key in self._peers

    @property
    def muted_channels(self) -> frozenset[Channel]:
        """The channels this node asks every peer not to send."""
        return self._config.muted_channels

    def takes(self, node_key: bytes, channel: Channel) -> bool:
        """Whether `node_key` is connected and has not muted `channel`."""
        peer = self._peers.get(node_key)
        return peer is not None and channel not in peer.muted

    def on_peer_connected(self, callback: PeerCallback) -> None:
        """Call `callback(info)` whenever a link to a peer is established."""
        self._on_connected.append(callback)

    def on_peer_disconnected(self, callback: PeerCallback) -> None:
        """Call `callback(info)` whenever a peer's link is closed or replaced."""
        self._on_disconnected.append(callback)

    # -- messages ----------------------------------------------------------

    def on_message(self, channel: Channel, handler: MessageHandler) -> None:
        """Route one-way messages of `channel` to `handler` (one per channel).

        Handlers run on the peer's reader, one message at a time per peer: a
        slow handler slows that peer down rather than buffering without bound.
        """
        if channel in REQUEST_RESPONSE_CHANNELS or channel is Channel.PING:
            raise ValueError(f"{channel.name} is not a one-way message channel")
        if channel in self._handlers:
            raise ValueError(f"a handler for {channel.name} is already registered")
        self._handlers[channel] = handler

    def on_request(self, channel: Channel, handler: RequestHandler) -> None:
        """Answer requests arriving on request channel `channel` with `handler`."""
        if channel not in RESPONSE_CHANNEL:
            raise ValueError(f"{channel.name} is not a request channel")
        if channel in self._servers:
            raise ValueError(f"a request handler for {channel.name} is already registered")
        self._servers[channel] = handler

    def encode(self, channel: Channel, payload: Payload) -> bytes:
        """The message that carries `payload` on `channel` (for send_encoded)."""
        if channel in REQUEST_RESPONSE_CHANNELS or channel is Channel.PING:
            raise ValueError(f"{channel.name} is not sent directly; use request()")
        message = encode_message(channel, payload)
        if len(message) > self._config.max_frame_size:
            raise ValueError(
                f"message of {len(message)} bytes is over the frame limit "
                f"{self._config.max_frame_size}"
            )
        return message

    def send(self, node_key: bytes, channel: Channel, payload: Payload) -> bool:
        """Queue a message for one peer; False if not connected or dropped (see sendqueue)."""
        return self.send_encoded(node_key, channel, self.encode(channel, payload))

    def send_encoded(self, node_key: bytes, channel: Channel, message: bytes) -> bool:
        """`send` of a message made by `encode` (kept to be sent again)."""
        peer = self._peers.get(node_key)
        return peer is not None and peer.enqueue(channel, message)

    def broadcast(self, channel: Channel, payload: Payload, exclude: Collection[bytes] = ()) -> int:
        """Queue a message for every connected peer not in `exclude`; how many took it."""
        return self.broadcast_encoded(channel, self.encode(channel, payload), exclude)

    def broadcast_encoded(self, channel: Channel, message: bytes,
                          exclude: Collection[bytes] = ()) -> int:
        """`broadcast` of a message made by `encode`."""
        return sum(
            peer.enqueue(channel, message)
            for key, peer in list(self._peers.items())
            if key not in exclude
        )

    async def request(
        self,
        node_key: bytes,
        channel: Channel,
        body: Payload,
        timeout: float | None = None,
    ) -> Payload:
        """Ask one peer and wait for its answer.

        NotConnected if there is no link (or it closes first); TimeoutError after
        `timeout` seconds (default: the config's request_timeout).
        """
        peer = self._peers.get(node_key)
        if peer is None:
            raise NotConnected(f"no link to {node_key.hex()[:16]}")
        if timeout is None:
            timeout = self._config.request_timeout
        return await peer.request(channel, body, timeout)

    # PeerHost: called by the peers this manager runs.

    async def deliver(self, peer: Peer, channel: Channel, payload: Payload) -> None:
        if channel in self._config.muted_channels:
            return      # sent before the peer read our MUTE; not worth a penalty
        handler = self._handlers.get(channel)
        if handler is not None:
            await handler(peer.node_key, payload)

    async def answer(self, peer: Peer, channel: Channel, body: Payload) -> Payload | None:
        handler = self._servers.get(channel)
        if handler is None:
            return None
        return await handler(peer.node_key, body)

    # -- links ---------------------------------------------------------------

    def _authorize(self, node_key: bytes, expected: bytes | None = None) -> str | None:
        if not self._running:
            return "node is shutting down"
        if node_key not in self._allowed:
            return "not in the node registry"
        if expected is not None and node_key != expected:
            return "not the node key configured for that address"
        until = self._scores.banned_until(node_key)
        if until is not None:
            return f"banned for another {until - self._clock():.0f} s"
        return None

    async def _handshake(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        outbound: bool,
        expected: bytes | None = None,
    ) -> SecretLink:
        return await handshake(
            reader,
            writer,
            node_key=self._node_key,
            chain_id=self._chain_id,
            authorize=lambda key: self._authorize(key, expected),
            outbound=outbound,
            timeout=self._config.handshake_timeout,
            max_frame_size=self._config.max_frame_size,
        )

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one inbound connection (asyncio.start_server callback)."""
        if not self._running or self._handshaking >= self._config.max_pending_handshakes:
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._background.add(task)
        self._handshaking += 1
        try:
            link = await self._handshake(reader, writer, outbound=False)
        except HandshakeError as exc:
            log.info("inbound handshake from %s failed: %s", writer.get_extra_info("peername"), exc)
            return
        finally:
            self._handshaking -= 1
            self._background.discard(task)
        self._admit(link)

    async def _connect(self, address: PeerAddress) -> SecretLink:
        try:
            async with asyncio.timeout(self._config.handshake_timeout):
                reader, writer = await asyncio.open_connection(address.host, address.port)
        except (OSError, TimeoutError) as exc:
            raise HandshakeError(f"cannot connect to {address}: {exc or 'timed out'}") from None
        return await self._handshake(reader, writer, outbound=True, expected=address.node_key)

    def _admit(self, link: SecretLink) -> Peer | None:
        """Start a peer on a fresh link unless the link it would duplicate wins."""
        key = link.remote_key
        existing = self._peers.get(key)
        if existing is not None:
            # A link already closing (ban, registry change) never blocks its successor.
            keep = existing.closing or keeps_new_link(
                self.node_id, key, existing.link.outbound, link.outbound
            )
            if not keep:
                self._spawn(self._background, link.close())
                return None
            existing.close("replaced by a newer link")
            self._forget(existing)
        peer = Peer(link, self, self._config, self._clock())
        self._peers[key] = peer
        if self._config.muted_channels:
            peer.enqueue(Channel.MUTE, self.encode(
                Channel.MUTE, sorted(int(c) for c in self._config.muted_channels)))
        self._spawn(self._peer_tasks, self._run_peer(peer))
        log.info(
            "linked to %s at %s (%s)",
            key.hex()[:16],
            link.remote_address,
            "outbound" if link.outbound else "inbound",
        )
        self._notify(self._on_connected, peer)
        return peer

    def traffic(self) -> tuple[int, int]:
        """Bytes sent and received on all links since the node started."""
        sent, received = self._closed_traffic
        for peer in self._peers.values():
            sent += peer.link.sent_bytes
            received += peer.link.received_bytes
        return sent, received

    def _forget(self, peer: Peer) -> None:
        if self._peers.get(peer.node_key) is peer:
            del self._peers[peer.node_key]
            sent, received = self._closed_traffic
            self._closed_traffic = (sent + peer.link.sent_bytes,
                                    received + peer.link.received_bytes)
            self._notify(self._on_disconnected, peer)

    def _notify(self, callbacks: list[PeerCallback], peer: Peer) -> None:
        info = peer.info(self._scores.score(peer.node_key))
        for callback in callbacks:
            try:
                callback(info)
            except Exception:
                log.exception("peer callback %r failed", callback)

    async def _run_peer(self, peer: Peer) -> None:
        reason = await peer.run()
        log.info("link to %s closed: %s", peer.node_key.hex()[:16], reason)
        self._forget(peer)

    async def _dial_loop(self, address: PeerAddress) -> None:
        """Keep a link to the node at `address`, redialling with backoff."""
        backoff = Backoff(self._config.dial_backoff_base, self._config.dial_backoff_cap, self._rng)
        node_key = address.node_key  # learnt from the first handshake if not configured
        while True:
            peer = self._peers.get(node_key) if node_key is not None else None
            if peer is not None:
                # Linked (whichever side dialled): wait for that link to end.
                await peer.wait_closed()
                if self._clock() - peer.connected_at >= self._config.stable_link_seconds:
                    backoff.reset()
                if not self.is_connected(peer.node_key):
                    await asyncio.sleep(backoff.next_delay())
                continue
            until = self._scores.banned_until(node_key) if node_key is not None else None
            if until is not None:
                await asyncio.sleep(until - self._clock())
                continue
            try:
                link = await self._connect(address)
            except PeerRefused as exc:
                node_key = node_key or exc.node_key
                log.info("dial %s: %s", address, exc)
                await asyncio.sleep(backoff.next_delay())
                continue
            except HandshakeError as exc:
                log.debug("dial %s: %s", address, exc)
                await asyncio.sleep(backoff.next_delay())
                continue
            node_key = link.remote_key
            if self._admit(link) is None:
                await asyncio.sleep(backoff.next_delay())
