"""Many Ed25519 signature checks in one call.

With node._ed25519 built, the checks run in C with the GIL released, so threads that
call verify_many at once use every core; without it, they run one by one through
node.crypto.keys.verify. Both give the same verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence

from node import pure_python
from node.crypto.keys import verify

SignedItem = tuple[bytes, bytes, bytes]      # (public key, message, signature)


def _native_verify_many() -> object | None:
    if pure_python():
        return None
    try:
        from nacl._sodium import ffi, lib

        from node._ed25519 import verify_many as native
    except ImportError:
        return None
    # The libsodium inside PyNaCl: the checks are exactly what keys.verify runs.
    try:
        address = int(ffi.cast("uintptr_t", ffi.addressof(lib, "crypto_sign_open")))
    except (AttributeError, TypeError):      # a PyNaCl that does not expose it
        return None
    return lambda items: native(address, items)


_NATIVE = _native_verify_many()


def verify_many(items: Sequence[SignedItem]) -> list[bool]:
    """One verdict per (public key, message, signature); never raises on malformed
    items (they are simply invalid)."""
    if _NATIVE is not None:
        return [v == 1 for v in _NATIVE(list(items))]  # type: ignore[operator]
    return [verify(*item) for item in items]


def native() -> bool:
    """Whether the checks run in node._ed25519 (without the GIL)."""
    return _NATIVE is not None
