"""Canonical msgpack: round trips, and every non-canonical or oversized form refused."""

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from node import codec

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.binary(max_size=40)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)


@given(values)
def test_round_trip_is_identity_on_canonical_values(value):
    data = codec.encode(value)
    assert codec.encode(codec.decode(data)) == data


def test_maps_are_sorted_bytewise_whatever_the_insertion_order():
    assert codec.encode({"b": 1, "a": 2, "é": 3}) == codec.encode({"é": 3, "a": 2, "b": 1})
    assert codec.decode(codec.encode({"b": 1, "a": 2})) == {"a": 2, "b": 1}


@pytest.mark.parametrize("raw, why", [
    (msgpack.packb({"b": 1, "a": 2}), "not canonical"),            # unsorted map
    (b"\xcc\x01", "not canonical"),                                # 1 as uint8, not fixint
    (b"\xd1\x00\x01", "not canonical"),                            # 1 as int16
    (b"\xda\x00\x01a", "not canonical"),                           # str16 for a 1-char str
    (msgpack.packb(1.5), "floats"),
    (msgpack.packb([1]) + b"\x00", "extra"),
    (b"\x92\x01", "incomplete"),
    (b"\xc1", "not valid"),
    (msgpack.packb(msgpack.ExtType(1, b"x")), "ext"),
    (msgpack.packb({"a": [msgpack.ExtType(5, b"ab")]}), "ext type 5"),
    (msgpack.packb(msgpack.Timestamp(1, 0)), "Timestamp"),      # ext -1, decoded by msgpack
    (msgpack.packb({1: 2}), "not valid"),                          # non-string map key
])
def test_non_canonical_input_is_refused(raw, why):
    with pytest.raises(codec.CodecError, match=why):
        codec.decode(raw)


def test_size_and_depth_limits():
    with pytest.raises(codec.CodecError, match="over the limit"):
        codec.decode(codec.encode(b"x" * 100), max_size=50)
    deep = b"\x91" * 40 + b"\x00"
    with pytest.raises(codec.CodecError, match="nested deeper"):
        codec.decode(deep)
    with pytest.raises(codec.CodecError, match="nested deeper"):
        codec.encode(_nest(40))


def _nest(n):
    v = 0
    for _ in range(n):
        v = [v]
    return v


def test_floats_and_unknown_types_cannot_be_encoded():
    with pytest.raises(codec.CodecError, match="floats"):
        codec.encode({"mass_g": 1.0})
    with pytest.raises(codec.CodecError, match="set"):
        codec.encode({1, 2})
