"""An established secret link: encrypted frames in order over one TCP stream.

An empty frame is the goodbye: messages are never empty, so a peer that sends
one is closing on purpose, and plain EOF without it means the link was lost.
"""

from __future__ import annotations

import asyncio

from node.p2p.errors import FrameError, LinkClosed
from node.p2p.frame import LENGTH_PREFIX_SIZE, FrameOpener, FrameSealer

GOODBYE = b""
CLOSE_TIMEOUT = 1.0


class SecretLink:
    """Sends and receives whole plaintext messages; built by `handshake()`."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        sealer: FrameSealer,
        opener: FrameOpener,
        remote_key: bytes,
        outbound: bool,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._sealer = sealer
        self._opener = opener
        self._send_lock = asyncio.Lock()
        self._closing = False
        self._closed = False
        self.remote_key = remote_key
        self.outbound = outbound
        self.sent_bytes = 0          # on the wire: frames with their prefix and tag
        self.received_bytes = 0
        # peername is None if the socket died during the handshake's last step.
        peername = writer.get_extra_info("peername") or ("?", 0)
        self.remote_address: tuple[str, int] = (peername[0], peername[1])

    async def send(self, message: bytes) -> None:
        """Seal and write one message; LinkClosed if the link is gone."""
        await self.send_many([message])

    async def send_many(self, messages: list[bytes]) -> None:
        """Seal each message as a frame of its own and write them in one go: one wait
        for the socket instead of one per message."""
        if not all(messages):
            raise ValueError("messages are never empty (an empty frame is the goodbye)")
        await self._send_frames(messages)

    async def _send_frames(self, plaintexts: list[bytes]) -> None:
        async with self._send_lock:
            if self._closed:
                raise LinkClosed("link is closed")
            # Sealing and writing happen together under the lock, so frame
            # numbers reach the wire in the order they were assigned.
            frames = [self._sealer.seal(plaintext) for plaintext in plaintexts]
            self._writer.writelines(frames)
            self.sent_bytes += sum(map(len, frames))
            try:
                await self._writer.drain()
            except (ConnectionError, OSError) as exc:
                raise LinkClosed(f"connection lost: {exc}") from None

    async def recv(self) -> bytes:
        """The next message; LinkClosed on goodbye or EOF, FrameError on a bad frame."""
        try:
            prefix = await self._reader.readexactly(LENGTH_PREFIX_SIZE)
            length = self._opener.body_length(prefix)
            body = await self._reader.readexactly(length)
        except asyncio.IncompleteReadError:
            raise LinkClosed("connection lost (EOF without goodbye)") from None
        except (ConnectionError, OSError) as exc:
            raise LinkClosed(f"connection lost: {exc}") from None
        self.received_bytes += LENGTH_PREFIX_SIZE + length
        plaintext = self._opener.open(prefix, body)
        if plaintext == GOODBYE:
            raise LinkClosed("peer said goodbye")
        return plaintext

    async def close(self) -> None:
        """Say goodbye (best effort) and close the stream; safe to call twice."""
        if self._closing:
            return
        self._closing = True
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._send_frames([GOODBYE])
        except (LinkClosed, FrameError, TimeoutError):
            pass  # the peer will see EOF instead; nothing more we can do
        self._closed = True
        self._writer.close()
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._writer.wait_closed()
        except (ConnectionError, OSError, TimeoutError):
            pass  # closing a broken socket may report its breakage; it is closed anyway
