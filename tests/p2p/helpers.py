"""Shared pieces of the p2p tests: keys, fast timings, polling, a raw protocol client,
the native frame cipher."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

import nacl.public

from node.crypto import PrivateKey, devnet_key
from node.p2p import P2PConfig, PeerAddress, PeerManager, frame
from node.p2p.frame import LENGTH_PREFIX_SIZE, Cipher, FrameOpener, FrameSealer
from node.p2p.handshake import (
    HELLO_SIZE,
    PROTOCOL_VERSION,
    READY,
    Hello,
    auth_message,
    chain_tag,
    derive_session,
    verify_auth,
)
from tests.helpers import native_module

CHAIN = "orechain-test"
# How a refused raw connection ends: EOF, or a reset if our bytes were unread.
REFUSED = (asyncio.IncompleteReadError, ConnectionResetError)
HOST = "127.0.0.1"


def native_cipher() -> Cipher:
    """The frame cipher from node._aead (its tests skip where it is not built, and fail
    under ORECHAIN_REQUIRE_NATIVE=1)."""
    native_module("_aead")
    cipher = frame.native_cipher()
    assert cipher is not None, "node._aead is built but libsodium's functions were not found"
    return cipher

FAST = P2PConfig(
    handshake_timeout=1.0,
    ping_interval=0.5,
    idle_timeout=2.0,
    request_timeout=2.0,
    dial_backoff_base=0.05,
    dial_backoff_cap=0.3,
    stable_link_seconds=0.5,
    ban_base=1.5,
    ban_cap=5.0,
)

KEYS = [devnet_key(f"p2p-test-{i}") for i in range(4)]
OUTSIDER = devnet_key("p2p-test-outsider")
REGISTRY = frozenset(k.public_key for k in KEYS)


def manager(
    key: PrivateKey,
    *,
    dial: tuple[PeerAddress, ...] = (),
    port: int = 0,
    config: P2PConfig = FAST,
    registry: frozenset[bytes] = REGISTRY,
    seed: int = 1,
) -> PeerManager:
    return PeerManager(
        key,
        CHAIN,
        registry,
        listen=(HOST, port),
        dial=dial,
        config=config,
        rng=random.Random(seed),
    )


def address_of(m: PeerManager) -> PeerAddress:
    listen = m.listen_address
    assert listen is not None
    return PeerAddress(listen[0], listen[1])


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until `predicate()` holds; fail the test if it does not within `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached within {timeout} s")
        await asyncio.sleep(0.01)


async def stays(predicate: Callable[[], bool], duration: float) -> None:
    """Assert `predicate()` holds throughout `duration` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration
    while loop.time() < deadline:
        assert predicate()
        await asyncio.sleep(0.01)


@dataclass
class RawPeer:
    """A protocol client built from the documented primitives, free to misbehave."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    sealer: FrameSealer
    opener: FrameOpener
    remote_key: bytes

    def send_frame(self, plaintext: bytes) -> bytes:
        """Seal and write one frame; returns its wire bytes (to replay or tamper)."""
        frame = self.sealer.seal(plaintext)
        self.writer.write(frame)
        return frame

    async def recv_frame(self) -> bytes:
        prefix = await self.reader.readexactly(LENGTH_PREFIX_SIZE)
        body = await self.reader.readexactly(self.opener.body_length(prefix))
        return self.opener.open(prefix, body)

    async def closed_by_remote(self, timeout: float = 3.0) -> bool:
        """True once the remote closes the stream (frames before EOF are discarded)."""
        async with asyncio.timeout(timeout):
            try:
                while await self.reader.read(65536):
                    pass
            except ConnectionResetError:
                pass  # closing with our bytes unread makes the kernel send a reset
        return True

    def close(self) -> None:
        self.writer.close()


async def raw_connect(
    address: PeerAddress, key: PrivateKey, early: tuple[bytes, ...] = ()
) -> RawPeer:
    """Run the handshake by hand, as a third-party implementation would.

    `early` messages are pushed right after our Ready, before the peer's Ready
    is read, as a peer that tries to talk before it is admitted would.
    """
    reader, writer = await asyncio.open_connection(address.host, address.port)
    secret = nacl.public.PrivateKey.generate()
    hello = Hello(PROTOCOL_VERSION, chain_tag(CHAIN), bytes(secret.public_key))
    writer.write(hello.encode())
    remote = Hello.parse(await reader.readexactly(HELLO_SIZE))
    keys = derive_session(bytes(secret), hello, remote)
    sealer = FrameSealer(keys.send_key)
    opener = FrameOpener(keys.recv_key)
    writer.write(sealer.seal(auth_message(key, keys.transcript)))
    prefix = await reader.readexactly(LENGTH_PREFIX_SIZE)
    body = await reader.readexactly(opener.body_length(prefix))
    remote_key = verify_auth(opener.open(prefix, body), keys.transcript)
    raw = RawPeer(reader, writer, sealer, opener, remote_key)
    raw.send_frame(READY)
    for message in early:
        raw.send_frame(message)
    if await raw.recv_frame() != READY:
        raise AssertionError("peer sent a malformed ready frame")
    return raw
