"""The frame cipher called from node._aead: the same frames as PyNaCl's binding makes,
and clear errors for arguments it cannot take."""

from __future__ import annotations

import os
import struct

import pytest

from node.p2p.frame import PYNACL, TAG_SIZE
from tests.helpers import native_module, picks_native
from tests.p2p.helpers import native_cipher

KEY = bytes(range(32))


def test_both_ciphers_make_and_open_the_same_frames() -> None:
    native = native_cipher()
    for size in (0, 1, 300, 65_535, 65_536, 1 << 20):     # both sides of the GIL cut-off
        plaintext = os.urandom(size)
        for counter in (0, 1, 2**32, 2**64 - 1):
            frame = native.seal(KEY, counter, plaintext)
            assert frame == PYNACL.seal(KEY, counter, plaintext)
            prefix, body = frame[:4], frame[4:]
            assert native.open(KEY, counter, prefix, body) == plaintext
            assert PYNACL.open(KEY, counter, prefix, body) == plaintext
            damaged = body[:-1] + bytes([body[-1] ^ 1])
            for opened in (native.open(KEY, counter, prefix, damaged),
                           native.open(KEY, counter ^ 1, prefix, body),
                           PYNACL.open(KEY, counter, prefix, damaged)):
                assert opened is None


def test_native_cipher_refuses_bad_arguments_with_an_error() -> None:
    native = native_cipher()
    with pytest.raises(ValueError, match="32 bytes"):
        native.seal(KEY[:31], 0, b"x")
    with pytest.raises(ValueError, match="4 bytes"):
        native.open(KEY, 0, b"\x00\x00\x00", bytes(TAG_SIZE))
    with pytest.raises(TypeError):
        native.seal(KEY, 0, None)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        native.seal(KEY, 2**64, b"x")
    assert native.open(KEY, 0, struct.pack(">I", 3), b"abc") is None    # shorter than a tag


@pytest.mark.parametrize("setting, expected", [("1", False), (None, True)])
def test_the_switch_at_import(setting: str | None, expected: bool) -> None:
    """What a fresh interpreter's frames use, with ORECHAIN_PURE_PYTHON=1 and without it."""
    chosen = picks_native("from node.p2p import frame; print(frame.CIPHER is not frame.PYNACL)",
                          setting)
    if expected and not chosen:
        native_module("_aead")
    assert chosen == expected
