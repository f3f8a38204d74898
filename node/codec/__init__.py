"""Canonical msgpack: the one byte encoding of every signed or hashed structure.

Rules (docs/protocol.md):
- structures are msgpack arrays in a fixed field order; ints, never floats;
  bytes as bin, text as str; maps (only inside free-form bodies) have str keys
  sorted bytewise by their UTF-8 encoding;
- msgpack's smallest encoding for every value (what msgpack-python emits);
- decoding re-encodes and rejects input that is not byte-identical, so one value
  has exactly one encoding (no malleability), and refuses input over a size or
  nesting limit before doing any real work.

`encode` runs in C (node._codec) when that is built, unless ORECHAIN_PURE_PYTHON=1.
The compiled encoder takes only values made of the exact built-in types above; for
anything else (a subclass, a float, an int out of range, nesting too deep, ...) it
declines, and the Python encoder here, its twin, encodes the whole value or raises
the error. Both give the same bytes, and the same errors, for every value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgpack

from node import pure_python

MAX_DEPTH = 16
DEFAULT_MAX_SIZE = 1 << 20


class CodecError(ValueError):
    """Input is not the canonical encoding of an allowed value."""


_SCALARS = frozenset({str, int, bytes, bool, type(None)})


def _canonical(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    # Exact built-in types take the fast branches: this walk runs on every encode and
    # decode of a tx, a block and a state record, so it dominates per-tx cost.
    if kind in _SCALARS:
        return value
    if kind is list or kind is tuple:
        if depth == MAX_DEPTH and value:
            raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
        return [v if type(v) in _SCALARS else _canonical(v, depth + 1) for v in value]
    if kind is dict and all(type(k) is str for k in value):
        if depth == MAX_DEPTH and value:
            raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
        # For str, code point order is UTF-8 byte order, so a plain sort is bytewise.
        return {k: (v if type(v) in _SCALARS else _canonical(v, depth + 1))
                for k, v in sorted(value.items())}
    return _canonical_subclass(value, depth)


def _canonical_subclass(value: Any, depth: int) -> Any:
    """The general rules, for subclasses of the built-in types and for refusals."""
    if value is None or isinstance(value, (bool, int, bytes, str)):
        return value
    if isinstance(value, float):
        raise CodecError("floats are not allowed in canonical data; use integers")
    if isinstance(value, (list, tuple)):
        return [_canonical(v, depth + 1) for v in value]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CodecError(f"map keys must be strings, got {type(key).__name__}")
        ordered = sorted(value, key=lambda k: k.encode())
        return {k: _canonical(value[k], depth + 1) for k in ordered}
    raise CodecError(f"type {type(value).__name__} cannot be encoded canonically")


def _native_encoder() -> Callable[[Any], bytes | None] | None:
    if pure_python():
        return None
    try:
        from node._codec import MAX_DEPTH as native_max_depth
        from node._codec import encode as native
    except ImportError:
        return None
    # The compiled encoder has the nesting limit built in; used only while they agree.
    return native if native_max_depth == MAX_DEPTH else None


_NATIVE = _native_encoder()


def encode(value: Any) -> bytes:
    """Canonical bytes of `value` (lists/tuples, sorted maps, ints, bytes, str, bool, None)."""
    if _NATIVE is not None:
        data = _NATIVE(value)
        if data is not None:
            return data
    return encode_python(value)


def encode_python(value: Any) -> bytes:
    """encode, by the Python twin alone."""
    try:
        return msgpack.packb(_canonical(value, 0), use_bin_type=True)
    except OverflowError:
        raise CodecError("integers must lie between -2^63 and 2^64 - 1") from None
    except UnicodeEncodeError:
        raise CodecError("text must be valid Unicode (it holds a lone surrogate)") from None


def native() -> bool:
    """Whether encode runs in node._codec (falling back to Python for what it declines)."""
    return _NATIVE is not None


def _refuse_ext(code: int, data: bytes) -> Any:
    raise CodecError(f"msgpack ext type {code} is not allowed in canonical data")


def decode(data: bytes, max_size: int = DEFAULT_MAX_SIZE) -> Any:
    """Decode canonical bytes; raise CodecError on anything else."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CodecError("expected bytes")
    if len(data) > max_size:
        raise CodecError(f"encoded value is {len(data)} bytes, over the limit of {max_size}")
    data = bytes(data)
    try:
        # msgpack's defaults are the rules here: str as text, arrays as lists, only str
        # map keys, and every length capped at len(data) (at most max_size, checked
        # above). Each option spelt out costs a decode about 0.2 µs, and a decode runs
        # for every tx, message and block.
        value = msgpack.unpackb(data, ext_hook=_refuse_ext)
    except CodecError:
        raise
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise CodecError(f"not valid msgpack: {exc or type(exc).__name__}") from None
    except Exception as exc:  # msgpack raises a few untyped errors on hostile input
        raise CodecError(f"not valid msgpack: {type(exc).__name__}") from None
    if encode(value) != data:
        raise CodecError("encoding is not canonical")
    return value
