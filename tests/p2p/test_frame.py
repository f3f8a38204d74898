"""Frames: sealing, opening, and refusal of anything but the next genuine frame, with
the cipher called from node._aead and through PyNaCl's binding."""

from __future__ import annotations

import os
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.p2p import frame as frames
from node.p2p.errors import FrameError
from node.p2p.frame import PYNACL, TAG_SIZE, Cipher, FrameOpener, FrameSealer, frame_nonce
from tests.p2p.helpers import native_cipher

KEY = bytes(range(32))


@pytest.fixture(autouse=True, params=["native", "pynacl"])
def cipher(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Cipher:
    """Every test here runs with each cipher as the one frames use."""
    chosen = native_cipher() if request.param == "native" else PYNACL
    monkeypatch.setattr(frames, "CIPHER", chosen)
    return chosen


def pair(max_plaintext: int = 1024) -> tuple[FrameSealer, FrameOpener]:
    return FrameSealer(KEY, max_plaintext), FrameOpener(KEY, max_plaintext)


def split(frame: bytes) -> tuple[bytes, bytes]:
    return frame[:4], frame[4:]


def test_frames_round_trip_in_order() -> None:
    sealer, opener = pair()
    for message in (b"a", b"bb" * 100, b"\x00" * 1024):
        frame = sealer.seal(message)
        assert struct.unpack(">I", frame[:4])[0] == len(message) + TAG_SIZE
        assert opener.open(*split(frame)) == message


def test_nonces_never_repeat_and_encode_the_counter() -> None:
    assert frame_nonce(0) == bytes(12)
    assert frame_nonce(1) == bytes(11) + b"\x01"
    assert len({frame_nonce(i) for i in range(1000)}) == 1000
    sealer, _ = pair()
    # Same plaintext twice must give different ciphertext (fresh nonce).
    assert sealer.seal(b"same") != sealer.seal(b"same")


def test_replayed_frame_is_refused() -> None:
    sealer, opener = pair()
    frame = sealer.seal(b"pay 10")
    assert opener.open(*split(frame)) == b"pay 10"
    with pytest.raises(FrameError, match="authentication"):
        opener.open(*split(frame))


def test_reordered_frames_are_refused() -> None:
    sealer, opener = pair()
    sealer.seal(b"first")
    second = sealer.seal(b"second")
    with pytest.raises(FrameError):
        opener.open(*split(second))


@pytest.mark.parametrize("position", [0, 3, 4, 10, -1])
def test_any_flipped_bit_is_refused(position: int) -> None:
    sealer, opener = pair()
    frame = bytearray(sealer.seal(b"a message of some length"))
    frame[position] ^= 0x01
    with pytest.raises(FrameError):
        opener.open(bytes(frame[:4]), bytes(frame[4:]))


def test_oversized_length_refused_from_the_prefix_alone() -> None:
    _, opener = pair(max_plaintext=1024)
    assert opener.body_length(struct.pack(">I", 1024 + TAG_SIZE)) == 1024 + TAG_SIZE
    with pytest.raises(FrameError, match="over the limit"):
        opener.body_length(struct.pack(">I", 1025 + TAG_SIZE))
    with pytest.raises(FrameError, match="over the limit"):
        opener.body_length(b"\xff\xff\xff\xff")
    with pytest.raises(FrameError, match="shorter than its tag"):
        opener.body_length(struct.pack(">I", TAG_SIZE - 1))


def test_sealer_refuses_oversized_plaintext() -> None:
    sealer, _ = pair(max_plaintext=16)
    with pytest.raises(FrameError):
        sealer.seal(b"x" * 17)


def test_wrong_key_is_refused() -> None:
    sealer = FrameSealer(KEY)
    opener = FrameOpener(os.urandom(32))
    with pytest.raises(FrameError):
        opener.open(*split(sealer.seal(b"hello")))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_opener_random_bytes(data: bytes) -> None:
    """Random wire bytes never crash the opener: a frame or a FrameError."""
    _, opener = pair(max_plaintext=256)
    try:
        length = opener.body_length(data[:4])
        opener.open(data[:4], data[4 : 4 + length])
    except FrameError:
        return
    pytest.fail("random bytes authenticated as a frame")
