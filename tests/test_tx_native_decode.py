"""Tx.decode's one-call check in node._codec against its general path.

The native check answers only for a tx that passes every check, and the general path
judges everything else, so the two must agree on every input: whatever the native
check accepts, the general path accepts too, as the same tx. Inputs are random field
values around each limit, encoded canonically or not, and real txs with bytes
flipped, cut or added.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benches.workload import EventStream
from node import codec
from node.types import Tx, TxFormatError
from node.types import tx as tx_module
from tests.helpers import native_module, picks_native

SIGNED = [tx.encoded for tx in EventStream("native-decode", 0).events(8)]


@pytest.fixture(autouse=True)
def native_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tx.decode with the native check, whatever ORECHAIN_PURE_PYTHON says."""
    monkeypatch.setattr(tx_module, "_NATIVE_FIELDS", native_module("_codec").tx_fields)


@pytest.mark.parametrize("setting, expected", [("1", False), (None, True)])
def test_the_switch_at_import(setting: str | None, expected: bool) -> None:
    """Whether a fresh interpreter's Tx.decode takes the native check, with
    ORECHAIN_PURE_PYTHON=1 and without it."""
    probe = "from node.types import tx; print(tx._NATIVE_FIELDS is not None)"
    assert picks_native(probe, setting) == expected


@contextmanager
def _general_path_only() -> Iterator[None]:
    saved, tx_module._NATIVE_FIELDS = tx_module._NATIVE_FIELDS, None
    try:
        yield
    finally:
        tx_module._NATIVE_FIELDS = saved


def _decoded(data: bytes) -> dict[str, Any] | str:
    """The decoded tx's attributes, or the refusal's message."""
    try:
        tx = Tx.decode(data)
    except TxFormatError as exc:
        return str(exc)
    return {name: (type(value), value) for name, value in vars(tx).items()}


def _agree(data: bytes) -> None:
    accepted = tx_module._NATIVE_FIELDS(msgpack.unpackb, data) is not None
    both = _decoded(data)
    with _general_path_only():
        general = _decoded(data)
    assert both == general
    if accepted:
        assert isinstance(general, dict), "the native check accepted what the general path refuses"


def test_real_txs_take_the_native_check_and_decode_the_same() -> None:
    for data in SIGNED:
        assert tx_module._NATIVE_FIELDS(msgpack.unpackb, data) is not None
        _agree(data)


@pytest.mark.parametrize("kind, accepted", [
    ("register_lot", True), ("a", True), ("a" * 32, True), ("a" * 33, False), ("", False),
    ("_lot", False), ("Lot", False), ("lot\n", False), ("l0t", False), ("lot-x", False),
    ("ĺot", False),
])
def test_kinds_are_judged_alike(kind: str, accepted: bool) -> None:
    fields = codec.decode(SIGNED[0])
    data = codec.encode([fields[0], kind, *fields[2:]])
    assert (tx_module._NATIVE_FIELDS(msgpack.unpackb, data) is not None) == accepted
    _agree(data)
    assert isinstance(_decoded(data), dict) == accepted


_TEXT = st.text(alphabet="az_Z0\n é", max_size=70)
_FIELD = st.one_of(
    _TEXT,
    st.binary(min_size=0, max_size=70),
    st.sampled_from([bytes(31), bytes(32), bytes(33), bytes(63), bytes(64), bytes(65)]),
    st.integers(min_value=-(1 << 64) + 1, max_value=(1 << 64) - 1),
    st.sampled_from([-(1 << 63) - 1, -(1 << 63), (1 << 63) - 1, 1 << 63, True, False, None]),
    st.dictionaries(_TEXT, st.integers() | _TEXT, max_size=3),
    st.lists(st.integers(), max_size=2),
)


# Values at and around each field's limits, or anything at all.
_NEAR = [
    st.text(alphabet="ab-", min_size=63, max_size=65) | st.just(""),
    st.from_regex(r"[a-z][a-z_]{0,32}\n?", fullmatch=True),
    st.dictionaries(_TEXT, st.integers(), max_size=3),
    st.binary(min_size=31, max_size=33),
    st.integers(min_value=-(1 << 63) - 2, max_value=(1 << 63) + 1) | st.sampled_from(
        [-(1 << 63) - 1, -(1 << 63), (1 << 63) - 1, 1 << 63]),
    st.binary(min_size=63, max_size=65),
]


@st.composite
def _near_valid(draw: st.DrawFn) -> list[Any]:
    """A real tx's fields with one or two replaced, and sometimes one too many or few."""
    fields = codec.decode(draw(st.sampled_from(SIGNED)))
    for at in draw(st.lists(st.integers(0, 5), min_size=1, max_size=2)):
        fields[at] = draw(_NEAR[at] | _FIELD)
    extent = draw(st.sampled_from([0, 0, 0, 1, -1]))
    return [*fields, 0] if extent > 0 else fields[:5] if extent < 0 else fields


@settings(max_examples=3000, deadline=None)
@given(_near_valid(), st.booleans())
def test_random_fields_are_judged_alike(fields: list[Any], canonical: bool) -> None:
    try:
        data = codec.encode(fields) if canonical else msgpack.packb(fields, use_bin_type=True)
    except (codec.CodecError, OverflowError, ValueError):
        return
    _agree(data)


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(SIGNED), st.integers(min_value=0), st.integers(min_value=0, max_value=255),
       st.sampled_from(["flip", "cut", "add"]))
def test_damaged_txs_are_judged_alike(data: bytes, where: int, value: int, how: str) -> None:
    at = where % len(data)
    if how == "flip":
        data = data[:at] + bytes([data[at] ^ (value or 1)]) + data[at + 1:]
    elif how == "cut":
        data = data[:at]
    else:
        data = data[:at] + bytes([value]) + data[at:]
    _agree(data)
