"""Sans-IO framing of a secret link: length-prefixed ChaCha20-Poly1305 frames.

A frame on the wire is `length (u32 big-endian) || ciphertext`, where the
ciphertext (plaintext plus a 16-byte tag) is sealed under the direction's key
with a 96-bit nonce of four zero bytes and a u64 big-endian frame counter, and
the length prefix as associated data. Each direction counts its own frames
from 0, so a replayed, dropped, reordered or altered frame fails to open.

The cipher is libsodium's, called from node._aead when that is built (unless
ORECHAIN_PURE_PYTHON=1), else through PyNaCl's binding: the same bytes either way,
but the binding's per-call work costs a small frame ten times what the cipher does.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import NamedTuple

import nacl.bindings
import nacl.exceptions

from node import pure_python
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


class Cipher(NamedTuple):
    """`seal(key, counter, plaintext)`: the whole frame, prefix and ciphertext.
    `open(key, counter, prefix, body)`: the plaintext, or None if it fails
    authentication. The caller checks sizes and the counter's range."""

    seal: Callable[[bytes, int, bytes], bytes]
    open: Callable[[bytes, int, bytes, bytes], bytes | None]


def _pynacl_seal(key: bytes, counter: int, plaintext: bytes) -> bytes:
    prefix = _LENGTH.pack(len(plaintext) + TAG_SIZE)
    return prefix + nacl.bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
        plaintext, prefix, frame_nonce(counter), key)


def _pynacl_open(key: bytes, counter: int, prefix: bytes, body: bytes) -> bytes | None:
    try:
        return nacl.bindings.crypto_aead_chacha20poly1305_ietf_decrypt(
            body, prefix, frame_nonce(counter), key)
    except nacl.exceptions.CryptoError:
        return None


PYNACL = Cipher(_pynacl_seal, _pynacl_open)


def native_cipher() -> Cipher | None:
    """The cipher through node._aead, or None where that is not built (or PyNaCl does
    not expose libsodium's functions)."""
    try:
        from nacl._sodium import ffi, lib

        from node._aead import open_, seal
    except ImportError:
        return None
    try:
        encrypt, decrypt = (int(ffi.cast("uintptr_t", ffi.addressof(lib, name))) for name in
                            ("crypto_aead_chacha20poly1305_ietf_encrypt",
                             "crypto_aead_chacha20poly1305_ietf_decrypt"))
    except (AttributeError, TypeError):
        return None
    return Cipher(lambda key, counter, plaintext: seal(encrypt, key, counter, plaintext),
                  lambda key, counter, prefix, body: open_(decrypt, key, counter, prefix, body))


CIPHER = (None if pure_python()
          else native_cipher()) or PYNACL


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
        frame = CIPHER.seal(self._key, self._counter, plaintext)
        self._counter += 1
        return frame


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
        plaintext = CIPHER.open(self._key, self._counter, prefix, body)
        if plaintext is None:
            raise FrameError(
                f"frame {self._counter} failed authentication (tampered, replayed or reordered)"
            )
        self._counter += 1
        return plaintext
