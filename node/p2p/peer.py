"""One connected peer: its link, send queue, reader and writer, and open requests.

The peer owns the link's I/O; everything it cannot decide alone (what a message
means, how much a fault costs) it hands to its host, the PeerManager.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from node.p2p.config import P2PConfig
from node.p2p.errors import FrameError, InvalidMessage, LinkClosed, NotConnected, QueueOverflow
from node.p2p.link import SecretLink
from node.p2p.message import (
    RESPONSE_CHANNEL,
    Channel,
    Payload,
    decode_message,
    encode_message,
    parse_mute,
    split_request,
)
from node.p2p.sendqueue import SendQueue

log = logging.getLogger("orechain.p2p")

PING_MESSAGE = encode_message(Channel.PING, b"")
WRITE_BATCH_BYTES = 64 * 1024
UNSOLICITED_RESPONSE_PENALTY = 20


@dataclass(frozen=True)
class PeerInfo:
    """A connected peer as shown in node status."""

    node_key: bytes
    address: tuple[str, int]
    outbound: bool
    score: int
    queued: int
    dropped: int
    sent_bytes: int
    received_bytes: int


class PeerHost(Protocol):
    """What a peer needs from the manager that owns it."""

    async def deliver(self, peer: Peer, channel: Channel, payload: Payload) -> None:
        """Hand a one-way message to the application; may raise InvalidMessage."""

    async def answer(self, peer: Peer, channel: Channel, body: Payload) -> Payload | None:
        """The application's answer to a request, or None to leave it unanswered."""

    def penalise(self, node_key: bytes, points: int, reason: str) -> None:
        """Record misbehaviour of a peer (may close its link)."""


class Peer:
    """A live link to one remote node; `run()` drives it until it closes."""

    def __init__(
        self,
        link: SecretLink,
        host: PeerHost,
        config: P2PConfig,
        connected_at: float,
    ) -> None:
        self.link = link
        self.node_key = link.remote_key
        self.connected_at = connected_at
        self._host = host
        self._config = config
        self._queue = SendQueue(config.queue_limits)
        self._stop = asyncio.Event()
        self._done = asyncio.Event()
        self._close_reason: str | None = None
        self._next_request_id = 0
        self._pending: dict[int, asyncio.Future[Payload]] = {}
        self._serving: set[asyncio.Task[None]] = set()
        self._request_slots = asyncio.Semaphore(config.max_concurrent_requests)
        # When the pending read began (loop time), or None while a frame is handled.
        self._waiting_since: float | None = None
        # When this side last wrote to the link (loop time): a ping fills long gaps.
        self._sent_at = 0.0
        # The channels this peer asked not to be sent (its MUTE message).
        self.muted: frozenset[Channel] = frozenset()

    def info(self, score: int) -> PeerInfo:
        return PeerInfo(
            self.node_key,
            self.link.remote_address,
            self.link.outbound,
            score,
            len(self._queue),
            self._queue.dropped,
            self.link.sent_bytes,
            self.link.received_bytes,
        )

    @property
    def closing(self) -> bool:
        return self._stop.is_set()

    def close(self, reason: str) -> None:
        """Ask the link to close; `run()` finishes the work. The first reason sticks."""
        if self._close_reason is None:
            self._close_reason = reason
        self._stop.set()

    async def wait_closed(self) -> None:
        await self._done.wait()

    def enqueue(self, channel: Channel, message: bytes) -> bool:
        """Queue an encoded message for sending. False if it was dropped (lossy
        channel full, or a channel the peer muted) or the link is closing; an
        overflowing must-deliver channel closes the link."""
        if len(message) > self._config.max_frame_size:
            raise ValueError(
                f"message of {len(message)} bytes is over the frame limit "
                f"{self._config.max_frame_size}"
            )
        if self.closing or channel in self.muted:
            return False
        try:
            return self._queue.put(channel, message)
        except QueueOverflow as exc:
            # A peer too slow to take consensus traffic is better reconnected
            # (and caught up) than silently missing messages.
            self.close(str(exc))
            return False

    async def request(self, channel: Channel, body: Payload, timeout: float) -> Payload:
        """Send a request and wait for its answer.

        TimeoutError after `timeout` seconds; NotConnected if the link closes first.
        """
        if channel not in RESPONSE_CHANNEL:
            raise ValueError(f"{channel.name} is not a request channel")
        request_id = self._next_request_id
        self._next_request_id += 1
        future: asyncio.Future[Payload] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            if not self.enqueue(channel, encode_message(channel, [request_id, body])):
                raise NotConnected(f"link to {self.node_key.hex()[:16]} is closing")
            async with asyncio.timeout(timeout):
                return await future
        finally:
            self._pending.pop(request_id, None)

    async def run(self) -> str:
        """Read and write until the link closes; return why it closed."""
        tasks = [
            asyncio.create_task(self._read_loop()),
            asyncio.create_task(self._write_loop()),
            asyncio.create_task(self._keep_alive()),
            asyncio.create_task(self._stop.wait()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    self.close(str(task.exception()))
        finally:
            self.close("node shutting down")
            pending = tasks + list(self._serving)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await self.link.close()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(NotConnected(f"link closed: {self._close_reason}"))
            self._done.set()
        assert self._close_reason is not None
        return self._close_reason

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not len(self._queue):
                await self._queue.wait()
            # What queued meanwhile goes out together, up to a bound, so a message of a
            # higher priority that arrives during the write waits for little.
            messages = self._queue.pop_up_to(WRITE_BATCH_BYTES)
            if messages:
                await self.link.send_many(messages)
                self._sent_at = loop.time()

    async def _keep_alive(self) -> None:
        """Ping the peer once this side has sent nothing for ping_interval s, and close
        the link once a read has waited idle_timeout s for a frame. One timer per link,
        waking about once per interval: a timeout armed around every read costs some
        10 µs a frame."""
        loop = asyncio.get_running_loop()
        ping_every, limit = self._config.ping_interval, self._config.idle_timeout
        self._sent_at = loop.time()
        while True:
            now = loop.time()
            since = self._waiting_since
            waited = 0.0 if since is None else now - since
            if waited >= limit:
                raise LinkClosed(f"no frame for {limit} s")
            if now - self._sent_at >= ping_every:
                # Through the queue, not the link: a peer that stopped reading must
                # stall the writer, never this watch.
                self.enqueue(Channel.PING, PING_MESSAGE)
                self._sent_at = now
            await asyncio.sleep(min(limit - waited, self._sent_at + ping_every - now))

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # Time spent handling a frame (waiting for a request slot, say) is not
            # the peer's silence: the watch counts only the wait for the next frame.
            self._waiting_since = loop.time()
            try:
                plaintext = await self.link.recv()
            except FrameError as exc:
                # Cannot be pinned on the peer: anyone on the path can alter
                # ciphertext. The link dies; scores are for proven faults.
                log.warning("link to %s: %s", self.node_key.hex()[:16], exc)
                raise
            self._waiting_since = None
            try:
                await self._dispatch(plaintext)
            except InvalidMessage as exc:
                self._host.penalise(self.node_key, exc.penalty, str(exc))
            except Exception:
                # Our handler's bug, not the peer's fault: keep the link.
                log.exception("handling a message from %s failed", self.node_key.hex()[:16])

    async def _dispatch(self, plaintext: bytes) -> None:
        channel, payload = decode_message(plaintext, self._config.max_frame_size)
        if channel is Channel.PING:
            return
        if channel is Channel.MUTE:
            self.muted = parse_mute(payload)
            return
        if channel in RESPONSE_CHANNEL:
            request_id, body = split_request(payload)
            # Waiting for a slot stops reading from this peer, which is the
            # back-pressure a peer flooding us with requests deserves.
            await self._request_slots.acquire()
            task = asyncio.create_task(self._serve(channel, request_id, body))
            self._serving.add(task)
            task.add_done_callback(self._serving.discard)
            return
        if channel in RESPONSE_CHANNEL.values():
            self._resolve(*split_request(payload))
            return
        await self._host.deliver(self, channel, payload)

    def _resolve(self, request_id: int, body: Payload) -> None:
        future = self._pending.get(request_id)
        if future is not None:
            if not future.done():
                future.set_result(body)
            return
        if request_id >= self._next_request_id:
            raise InvalidMessage(
                f"response to request {request_id}, which was never sent",
                UNSOLICITED_RESPONSE_PENALTY,
            )
        # An id we did issue whose waiter gave up: a late answer, not a fault.

    async def _serve(self, channel: Channel, request_id: int, body: Payload) -> None:
        try:
            answer = await self._host.answer(self, channel, body)
            if answer is not None:
                response_channel = RESPONSE_CHANNEL[channel]
                self.enqueue(
                    response_channel, encode_message(response_channel, [request_id, answer])
                )
        except InvalidMessage as exc:
            self._host.penalise(self.node_key, exc.penalty, str(exc))
        except Exception:
            log.exception(
                "serving %s request from %s failed", channel.name, self.node_key.hex()[:16]
            )
        finally:
            self._request_slots.release()
