"""The compiled canonical encoder (node._codec) and its Python twin in node.codec: the
same bytes for every plain value, and for everything else (refusals, subclasses) the
compiled one declines so codec.encode gives the twin's bytes or raises its error."""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node import codec
from tests.helpers import native_module, picks_native

MAX = codec.MAX_DEPTH


@pytest.fixture(scope="module")
def native_encode() -> Callable[[Any], bytes | None]:
    """node._codec.encode itself: bytes, or None where it declines."""
    _codec = native_module("_codec")
    assert _codec.MAX_DEPTH == codec.MAX_DEPTH
    return _codec.encode


@pytest.fixture(params=["native", "python"])
def encode(request, monkeypatch) -> Iterator[Callable[[Any], bytes]]:
    """codec.encode with the implementation ORECHAIN_PURE_PYTHON selects. The selection
    is re-run in place rather than by reloading node.codec, which would replace
    codec.CodecError with a new class under every module that catches it."""
    if request.param == "python":
        monkeypatch.setenv("ORECHAIN_PURE_PYTHON", "1")
    else:
        monkeypatch.delenv("ORECHAIN_PURE_PYTHON", raising=False)
    monkeypatch.setattr(codec, "_NATIVE", codec._native_encoder())
    if request.param == "native" and not codec.native():
        native_module("_codec")
    assert codec.native() == (request.param == "native")
    yield codec.encode


def twin(value: Any) -> bytes:
    """The Python encoder, called directly."""
    return codec.encode_python(value)


def outcome(fn: Callable[[Any], bytes], value: Any) -> bytes | tuple[type, str]:
    try:
        return fn(value)
    except Exception as exc:
        return type(exc), str(exc)


def nest(depth: int, leaf: Any = 0, kind: str = "list") -> Any:
    """`leaf` inside `depth` containers (so the leaf sits at depth `depth`)."""
    value = leaf
    for i in range(depth):
        if kind == "dict" or (kind == "mixed" and i % 2):
            value = {"k": value}
        elif kind == "tuple":
            value = (value,)
        else:
            value = [value]
    return value


# Every msgpack int boundary, each side, within msgpack's range.
INT_EDGES = sorted(v for v in {
    s * e + d
    for e in (0, 32, 33, 127, 128, 129, 255, 256, 2**15, 65535, 65536, 2**31, 2**32, 2**63,
              2**64)
    for s in (1, -1)
    for d in (-1, 0, 1)
} if -(2**63) <= v < 2**64)
assert min(INT_EDGES) == -(2**63) and max(INT_EDGES) == 2**64 - 1

LENGTHS = (0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536)

# Keys that tie on an 8-byte prefix, end in NUL bytes, or are not ASCII.
TRICKY_KEYS = ["", "a", "a\x00", "a\x00\x00", "ab", "abcdefg", "abcdefgh", "abcdefgh\x00",
               "abcdefghi", "abcdefgha", "abcdefgh\x7f", "é", "e\u0301", "\uffff",
               "\U0001f600", "\U0010ffff", "z" * 20, "zzzzzzzz\x00z"]

ints = st.one_of(st.sampled_from(INT_EDGES), st.integers(-(2**63), 2**64 - 1))
edge_texts = st.sampled_from([0, 31, 32, 33, 255, 256]).flatmap(
    lambda n: st.sampled_from(["x" * n, "é" * (n // 2), "\U0001f600" * (n // 4)]))
texts = st.one_of(st.text(max_size=40), st.sampled_from(TRICKY_KEYS), edge_texts)
blobs = st.one_of(st.binary(max_size=40),
                  st.sampled_from([0, 31, 32, 255, 256, 257]).map(lambda n: b"\xab" * n))
keys = st.one_of(st.text(max_size=12), st.sampled_from(TRICKY_KEYS))
scalars = st.one_of(st.none(), st.booleans(), ints, texts, blobs)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=18),
        st.lists(inner, max_size=18).map(tuple),
        st.dictionaries(keys, inner, max_size=18),
    ),
    max_leaves=40,
)
# Flat maps larger than the compiled encoder's inline table (32 entries).
big_maps = st.dictionaries(keys, scalars, min_size=33, max_size=80)


@settings(max_examples=200, deadline=None)
@given(values)
def test_native_matches_the_twin_on_plain_values(native_encode, value):
    assert native_encode(value) == twin(value)


@settings(max_examples=40, deadline=None)
@given(big_maps)
def test_native_matches_the_twin_on_large_maps(native_encode, value):
    assert native_encode(value) == twin(value)
    in_order = dict(sorted(value.items()))           # the already-sorted path
    assert native_encode(in_order) == twin(value)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, MAX + 2), st.sampled_from(["list", "dict", "tuple", "mixed"]),
       st.sampled_from([0, [], {}, (), [1], {"a": 1}, "s", None]))
def test_native_follows_the_nesting_limit_of_the_twin(native_encode, depth, kind, leaf):
    value = nest(depth, leaf, kind)
    try:
        expected = twin(value)
    except codec.CodecError:
        assert native_encode(value) is None
    else:
        assert native_encode(value) == expected


def test_nesting_limit_boundary(native_encode):
    # Containers may sit at depth MAX only when empty; scalars may sit at depth MAX.
    for ok in (nest(MAX), nest(MAX, []), nest(MAX, {}), nest(MAX, ()), nest(MAX - 1, [1]),
               nest(MAX - 1, {"a": {}}), nest(MAX, 0, "dict")):
        assert native_encode(ok) == twin(ok)
    for deep in (nest(MAX, [0]), nest(MAX, {"a": 1}), nest(MAX, (0,)), nest(MAX + 1),
                 nest(MAX + 1, [], "dict"), nest(40)):
        with pytest.raises(codec.CodecError, match="nested deeper"):
            twin(deep)
        assert native_encode(deep) is None


@pytest.mark.parametrize("value", INT_EDGES)
def test_every_int_boundary(native_encode, value):
    assert native_encode(value) == twin(value) == msgpack.packb(value)


@pytest.mark.parametrize("n", LENGTHS)
def test_str_bytes_and_container_length_boundaries(native_encode, n):
    samples = [
        "x" * n,                                  # ASCII: n bytes
        "é" * (n // 2) + "x" * (n % 2),           # two-byte characters: n bytes
        "\U0001f600" * (n // 4) + "x" * (n % 4),  # four-byte characters: n bytes
        "€" * n,                                  # three bytes per character
        b"\x00" * n,
        list(range(n)),
        tuple([None] * n),
        {f"k{i:06d}": i for i in range(n)},
        {f"k{i:06d}": i for i in reversed(range(n))},
    ]
    for value in samples:
        assert native_encode(value) == twin(value)


class Colour(enum.IntEnum):
    RED = 1


class Text(str):
    pass


class Items(list):
    pass


class Record(dict):
    pass


# Values the compiled encoder declines: each is refused by the twin, or is a subclass
# the twin encodes as its base type.
DECLINED = [
    1.5, float("nan"), [1, 2.0], {"mass_g": 1.0},
    {1: 2}, {True: 1}, {None: 1}, {b"k": 1}, {"a": 1, 2: 3},
    {1, 2}, frozenset(), object(), bytearray(b"x"), memoryview(b"x"), 1j,
    2**64, -(2**63) - 1, [0, 2**70], {"a": -(2**80)},
    nest(MAX, [0]), nest(MAX + 1), nest(40), nest(MAX, {"a": 1}, "dict"),
    "\ud800", "ok\udfff", ["x", "\udc80"], {"\ud800": 1}, {"a": {"\udfff": 0}},
    Colour.RED, [Colour.RED], Text("t"), {Text("b"): 1, "a": 2}, Items([1, 2]),
    Record(b=1, a=2), OrderedDict(b=1, a=2), {"x": Record(z=[Items()])},
]


@pytest.mark.parametrize("value", DECLINED, ids=range(len(DECLINED)))
def test_native_declines_what_is_not_plain(native_encode, value):
    assert native_encode(value) is None


@pytest.mark.parametrize("value", DECLINED, ids=range(len(DECLINED)))
def test_encode_gives_the_twins_result_or_error(encode, value):
    expected = outcome(twin, value)
    assert outcome(encode, value) == expected
    if isinstance(expected, tuple):
        assert expected[0] is codec.CodecError


@pytest.mark.parametrize("value, error, message", [
    (1.5, codec.CodecError, "floats are not allowed in canonical data; use integers"),
    ({1: 2}, codec.CodecError, "map keys must be strings, got int"),
    ({True: 1}, codec.CodecError, "map keys must be strings, got bool"),
    ({1, 2}, codec.CodecError, "type set cannot be encoded canonically"),
    (object(), codec.CodecError, "type object cannot be encoded canonically"),
    (2**64, codec.CodecError, "integers must lie between -2^63 and 2^64 - 1"),
    (-(2**63) - 1, codec.CodecError, "integers must lie between -2^63 and 2^64 - 1"),
    (nest(MAX + 4), codec.CodecError, f"value nested deeper than {MAX} levels"),
    ("\ud800", codec.CodecError, "lone surrogate"),
])
def test_refusals_are_the_documented_ones(encode, value, error, message):
    with pytest.raises(error) as caught:
        encode(value)
    assert type(caught.value) is error
    assert message in str(caught.value)


def test_encode_and_decode_agree_between_implementations(encode):
    value = {"b": [1, -1, 2**40, b"\x00" * 300], "a": {"é": None, "e": True}, "": ("x",)}
    data = encode(value)
    assert data == twin(value)
    assert codec.decode(data) == {"": ["x"], "a": {"e": True, "é": None},
                                  "b": [1, -1, 2**40, b"\x00" * 300]}
    with pytest.raises(codec.CodecError, match="not canonical"):
        codec.decode(msgpack.packb({"b": 1, "a": 2}))


@pytest.mark.parametrize("setting, expected", [("1", False), (None, True)])
def test_the_switch_at_import(setting, expected):
    """What a fresh interpreter picks, with ORECHAIN_PURE_PYTHON=1 and without it."""
    chosen = picks_native("from node import codec; print(codec.native())", setting)
    if expected and not chosen:
        native_module("_codec")
    assert chosen == expected
