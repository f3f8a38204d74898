"""The secret-link handshake: ephemeral X25519, signed transcript, per-direction keys.

Both sides run the same steps at once (docs/p2p.md, "Handshake"):

1. send a 70-byte Hello (magic, version, chain tag, ephemeral X25519 key), read the peer's;
2. compute the X25519 shared secret and the transcript hash over both ephemeral
   keys (sorted, so both sides agree without roles), the version and chain tag;
3. derive one frame key per direction with HKDF-SHA256;
4. send an Auth frame (node key and its Ed25519 signature of the transcript) as
   the first encrypted frame, read and verify the peer's;
5. ask `authorize` whether that node key may talk to us; if so send a Ready
   frame, else close. The link is up once the peer's Ready arrives, so a refused
   node learns it here and never sees (or gets to send) application data.

The message builders and parsers are pure; `handshake()` drives them over a stream.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions
import nacl.public

from node.crypto import PrivateKey, verify
from node.p2p.errors import FrameError, HandshakeError, PeerRefused
from node.p2p.frame import (
    DEFAULT_MAX_FRAME_SIZE,
    KEY_SIZE,
    LENGTH_PREFIX_SIZE,
    TAG_SIZE,
    FrameOpener,
    FrameSealer,
)
from node.p2p.link import SecretLink

MAGIC = b"orep"
PROTOCOL_VERSION = 4   # 4: CONSENSUS mutable; 3: the MUTE channel; 2: HAVE and WANT
EPHEMERAL_KEY_SIZE = 32
CHAIN_TAG_SIZE = 32
_HELLO = struct.Struct(f">4sH{CHAIN_TAG_SIZE}s{EPHEMERAL_KEY_SIZE}s")
HELLO_SIZE = _HELLO.size
NODE_KEY_SIZE = 32
SIGNATURE_SIZE = 64
AUTH_SIZE = NODE_KEY_SIZE + SIGNATURE_SIZE
READY = b"\x01"

TRANSCRIPT_DOMAIN = b"orechain/p2p/v1/transcript"
KDF_INFO = b"orechain/p2p/v1/frame-keys"
AUTH_DOMAIN = b"orechain/p2p/v1/auth"

Authorize = Callable[[bytes], str | None]
"""Given a remote node key, None to admit it or the reason it is refused."""


def chain_tag(chain_id: str) -> bytes:
    """SHA-256 of the chain id: a fixed-size stand-in carried in the Hello."""
    return hashlib.sha256(chain_id.encode()).digest()


@dataclass(frozen=True)
class Hello:
    """The first, plaintext handshake message."""

    version: int
    chain_tag: bytes
    ephemeral_key: bytes

    def encode(self) -> bytes:
        return _HELLO.pack(MAGIC, self.version, self.chain_tag, self.ephemeral_key)

    @classmethod
    def parse(cls, data: bytes) -> Hello:
        """Parse exactly HELLO_SIZE bytes; HandshakeError on anything else."""
        if len(data) != HELLO_SIZE:
            raise HandshakeError(f"hello is {len(data)} bytes, expected {HELLO_SIZE}")
        magic, version, tag, ephemeral_key = _HELLO.unpack(data)
        if magic != MAGIC:
            raise HandshakeError("not an orechain p2p peer (bad magic)")
        return cls(version, tag, ephemeral_key)


@dataclass(frozen=True)
class SessionKeys:
    """What both sides agree on after the Hello exchange."""

    transcript: bytes
    send_key: bytes
    recv_key: bytes


def _hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """HKDF (RFC 5869) with SHA-256."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def transcript_hash(version: int, tag: bytes, ephemeral_a: bytes, ephemeral_b: bytes) -> bytes:
    """The hash both node keys sign; ephemeral keys are sorted so it has no roles."""
    low, high = sorted((ephemeral_a, ephemeral_b))
    return hashlib.sha256(
        TRANSCRIPT_DOMAIN + struct.pack(">H", version) + tag + low + high
    ).digest()


def derive_session(own_secret: bytes, own_hello: Hello, remote_hello: Hello) -> SessionKeys:
    """Check the peer's Hello against ours and derive the transcript and frame keys."""
    if remote_hello.version != own_hello.version:
        raise HandshakeError(
            f"peer speaks protocol version {remote_hello.version}, we speak {own_hello.version}"
        )
    if remote_hello.chain_tag != own_hello.chain_tag:
        raise HandshakeError("peer is on a different chain (chain id mismatch)")
    own_ephemeral, remote_ephemeral = own_hello.ephemeral_key, remote_hello.ephemeral_key
    if remote_ephemeral == own_ephemeral:
        # Our own Hello reflected back: refuse rather than talk to ourselves.
        raise HandshakeError("peer echoed our ephemeral key")
    try:
        shared = nacl.bindings.crypto_scalarmult(own_secret, remote_ephemeral)
    except (nacl.exceptions.RuntimeError, nacl.exceptions.TypeError):
        # libsodium refuses low-order points, which would give an all-zero secret.
        raise HandshakeError("peer sent a weak ephemeral key") from None
    transcript = transcript_hash(
        own_hello.version, own_hello.chain_tag, own_ephemeral, remote_ephemeral
    )
    keys = _hkdf_sha256(shared, transcript, KDF_INFO, 2 * KEY_SIZE)
    low_key, high_key = keys[:KEY_SIZE], keys[KEY_SIZE:]
    # The side with the lower ephemeral key sends with the first key.
    if own_ephemeral < remote_ephemeral:
        return SessionKeys(transcript, send_key=low_key, recv_key=high_key)
    return SessionKeys(transcript, send_key=high_key, recv_key=low_key)


def auth_message(node_key: PrivateKey, transcript: bytes) -> bytes:
    """Plaintext of our Auth frame: node public key || signature of the transcript."""
    return node_key.public_key + node_key.sign(AUTH_DOMAIN + transcript)


def verify_auth(plaintext: bytes, transcript: bytes) -> bytes:
    """The remote node key proven by an Auth plaintext; HandshakeError if not proven."""
    if len(plaintext) != AUTH_SIZE:
        raise HandshakeError(f"auth is {len(plaintext)} bytes, expected {AUTH_SIZE}")
    node_key, signature = plaintext[:NODE_KEY_SIZE], plaintext[NODE_KEY_SIZE:]
    if not verify(node_key, AUTH_DOMAIN + transcript, signature):
        raise HandshakeError("peer's signature of the handshake transcript is invalid")
    return node_key


async def _read_exactly(reader: asyncio.StreamReader, size: int, what: str) -> bytes:
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        raise HandshakeError(f"peer closed the connection during the {what}") from None
    except OSError as exc:
        raise HandshakeError(f"connection failed during the {what}: {exc}") from None


async def _read_frame(
    reader: asyncio.StreamReader, opener: FrameOpener, size: int, what: str
) -> bytes:
    """One handshake frame whose plaintext must be exactly `size` bytes."""
    prefix = await _read_exactly(reader, LENGTH_PREFIX_SIZE, what)
    try:
        length = opener.body_length(prefix)
        if length != size + TAG_SIZE:
            raise HandshakeError(f"{what} frame is {length} bytes, expected {size + TAG_SIZE}")
        return opener.open(prefix, await _read_exactly(reader, length, what))
    except FrameError as exc:
        raise HandshakeError(f"bad {what} frame: {exc}") from None


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    node_key: PrivateKey,
    chain_id: str,
    authorize: Authorize,
    outbound: bool,
    max_frame_size: int,
) -> SecretLink:
    secret = nacl.public.PrivateKey.generate()
    own_hello = Hello(PROTOCOL_VERSION, chain_tag(chain_id), bytes(secret.public_key))
    writer.write(own_hello.encode())
    remote_hello = Hello.parse(await _read_exactly(reader, HELLO_SIZE, "hello"))
    keys = derive_session(bytes(secret), own_hello, remote_hello)

    sealer = FrameSealer(keys.send_key, max_frame_size)
    opener = FrameOpener(keys.recv_key, max_frame_size)
    writer.write(sealer.seal(auth_message(node_key, keys.transcript)))
    remote_key = verify_auth(await _read_frame(reader, opener, AUTH_SIZE, "auth"), keys.transcript)
    if remote_key == node_key.public_key:
        raise PeerRefused(remote_key, "that is our own node key")
    reason = authorize(remote_key)
    if reason is not None:
        raise PeerRefused(remote_key, reason)
    writer.write(sealer.seal(READY))
    try:
        ready = await _read_frame(reader, opener, len(READY), "ready")
    except HandshakeError as exc:
        raise HandshakeError(f"peer did not confirm the link (refuses our key?): {exc}") from None
    if ready != READY:
        raise HandshakeError("peer sent a malformed ready frame")
    return SecretLink(reader, writer, sealer, opener, remote_key, outbound)


async def handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    node_key: PrivateKey,
    chain_id: str,
    authorize: Authorize,
    outbound: bool,
    timeout: float,
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
) -> SecretLink:
    """Authenticate a fresh TCP stream and return the secret link over it.

    Raises HandshakeError (PeerRefused when the peer proved a key we do not
    admit) and closes the stream on any failure, including `timeout` seconds
    passing without the handshake completing.
    """
    try:
        async with asyncio.timeout(timeout):
            return await _exchange(
                reader, writer, node_key, chain_id, authorize, outbound, max_frame_size
            )
    except TimeoutError:
        writer.close()
        raise HandshakeError(f"handshake did not complete within {timeout} s") from None
    except BaseException:
        writer.close()
        raise
