"""Sans-IO framing of a secret link: length-prefixed ChaCha20-Poly1305 frames.

A frame on the wire is `length (u32 big-endian) || ciphertext`, where the
ciphertext (plaintext plus a 16-byte tag) is sealed under the direction's key
with a 96-bit nonce of four zero bytes and a u64 big-endian frame counter, and
the length prefix as associated data. Each direction counts its own frames
from 0, so a replayed, dropped, reordered or altered frame fails to open.
"""

from __future__ import annotations

import struct

import nacl.bindings
import nacl.exceptions

from node.p2p.errors import FrameError

KEY_SIZE = nacl.bindings.crypto_aead_chacha20poly1305_ietf_KEYBYTES
TAG_SIZE = nacl.bindings.crypto_aead_chacha20poly1305_ietf_ABYTES
LENGTH_PREFIX_SIZE = 4
DEFAULT_MAX_FRAME_SIZE = 4 << 20
# The counter must never wrap: a repeated nonce under one key breaks the cipher.
MAX_COUNTER = (1 << 64) - 1

_LENGTH = struct.Struct(">I")


def frame_nonce(counter: int) -> bytes:
    """The 12-byte nonce of frame number `counter` in one direction."""
    return b"\x00\x00\x00\x00" + counter.to_bytes(8, "big")


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise ValueError(f"a frame key is {KEY_SIZE} bytes")


class FrameSealer:
    """Seals the outgoing frames of one direction, numbering them from 0."""

    def __init__(self, key: bytes, max_plaintext: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        _check_key(key)
        self._key = key
        self._max_plaintext = max_plaintext
        self._counter = 0

    def seal(self, plaintext: bytes) -> bytes:
        """The wire bytes of the next frame carrying `plaintext`."""
        if len(plaintext) > self._max_plaintext:
            raise FrameError(
                f"frame of {len(plaintext)} bytes is over the limit of {self._max_plaintext}"
            )
        if self._counter > MAX_COUNTER:
            raise FrameError("frame counter exhausted; the link must be re-established")
        prefix = _LENGTH.pack(len(plaintext) + TAG_SIZE)
        ciphertext = nacl.bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
            plaintext, prefix, frame_nonce(self._counter), self._key
        )
        self._counter += 1
        return prefix + ciphertext


class FrameOpener:
    """Opens the incoming frames of one direction, which must arrive in order."""

    def __init__(self, key: bytes, max_plaintext: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        _check_key(key)
        self._key = key
        self._max_plaintext = max_plaintext
        self._counter = 0

    def body_length(self, prefix: bytes) -> int:
        """Length of the ciphertext announced by a 4-byte prefix.

        Called before the body is read, so an oversized announcement is refused
        without buffering a byte of it.
        """
        if len(prefix) != LENGTH_PREFIX_SIZE:
            raise FrameError(f"a length prefix is {LENGTH_PREFIX_SIZE} bytes")
        (length,) = _LENGTH.unpack(prefix)
        if length < TAG_SIZE:
            raise FrameError(f"frame of {length} bytes is shorter than its tag")
        if length - TAG_SIZE > self._max_plaintext:
            raise FrameError(
                f"frame announces {length - TAG_SIZE} bytes, over the limit of "
                f"{self._max_plaintext}"
            )
        return length

    def open(self, prefix: bytes, body: bytes) -> bytes:
        """The plaintext of the next frame; FrameError if it is not exactly that."""
        if len(body) != self.body_length(prefix):
            raise FrameError("frame body does not match its length prefix")
        if self._counter > MAX_COUNTER:
            raise FrameError("frame counter exhausted; the link must be re-established")
        try:
            plaintext = nacl.bindings.crypto_aead_chacha20poly1305_ietf_decrypt(
                body, prefix, frame_nonce(self._counter), self._key
            )
        except nacl.exceptions.CryptoError:
            raise FrameError(
                f"frame {self._counter} failed authentication (tampered, replayed or reordered)"
            ) from None
        self._counter += 1
        return plaintext
