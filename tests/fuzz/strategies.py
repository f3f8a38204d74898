"""Hypothesis strategies for hostile input: canonical values, their encodings, mutations."""

from __future__ import annotations

import random

import msgpack
from hypothesis import strategies as st

from node import codec

# Values msgpack can carry (ints within 64 bits), including what canonical data forbids:
# floats, NaN, int map keys, unsorted maps.
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(1 << 63), max_value=(1 << 64) - 1),
    st.floats(allow_nan=True), st.binary(max_size=64), st.text(max_size=32))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=6),
                            st.dictionaries(st.one_of(st.text(max_size=8),
                                                      st.integers(-(1 << 63), (1 << 63) - 1)),
                                            inner, max_size=6)),
    max_leaves=40)


def packed(value: object) -> bytes:
    """Any msgpack bytes for `value` (not necessarily canonical)."""
    return msgpack.packb(value, use_bin_type=True, strict_types=False)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` with a few random byte edits: flips, cuts, insertions."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "cut" and data:
            del data[pos:pos + draw(st.integers(1, 8))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[pos:]
    return bytes(data)


def canonical_or_none(value: object) -> bytes | None:
    try:
        return codec.encode(value)
    except codec.CodecError:
        return None


def mutate(rng: random.Random, data: bytes) -> bytes:
    """`data` with 1-4 random byte edits (the seeded twin of `mutated`, for async loops)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(max(1, len(out)))
        op = rng.choice(["flip", "cut", "insert", "truncate"])
        if op == "flip" and out:
            out[pos] ^= rng.randrange(1, 256)
        elif op == "cut":
            del out[pos:pos + rng.randint(1, 8)]
        elif op == "insert":
            out[pos:pos] = rng.randbytes(rng.randint(1, 8))
        else:
            del out[pos:]
    return bytes(out)
