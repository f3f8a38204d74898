"""Remembers signatures already verified, so each is checked once per node.

Only successes are cached (a failure is cheap to recompute and must never stick),
keyed by a hash of (public key, message, signature), bounded LRU. A caller that holds
an id already committing to all three (a tx id: SHA-256 of the signed tx) passes it
instead, and no hash is taken here; ids are tagged so the two kinds of key never meet.
`verified` counts the real Ed25519 verifications, so tests and benches can prove a
path verifies once.
Safe to share between threads: verify_many checks its misses outside the lock.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

from node.crypto.batch import SignedItem
from node.crypto.batch import verify_many as verify_all


class VerifiedCache:
    def __init__(self, capacity: int = 200_000) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.verified = 0

    def verify(self, public_key: bytes, message: bytes, signature: bytes,
               item_id: bytes | None = None) -> bool:
        """Whether `signature` is `public_key`'s over `message`; `item_id`, where the
        caller has one, an id that commits to all three (see the module docstring)."""
        # The common case at admission (the batch check ran first) is a hit: answer it
        # without building the lists of verify_many.
        key = _cache_key(public_key, message, signature, item_id)
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                self.hits += 1
                return True
        return self._verify_keyed([key], [(public_key, message, signature)])[0]

    def verify_many(self, items: Sequence[SignedItem],
                    item_ids: Sequence[bytes | None] | None = None) -> list[bool]:
        """One verdict per item, checking only those not verified before; `item_ids`,
        one per item (None where there is none), as `verify`'s."""
        if item_ids is None:
            keys = [_cache_key(pk, msg, sig) for pk, msg, sig in items]
        else:
            keys = [_cache_key(pk, msg, sig, item_id)
                    for (pk, msg, sig), item_id in zip(items, item_ids, strict=True)]
        return self._verify_keyed(keys, items)

    def _verify_keyed(self, keys: list[bytes], items: Sequence[SignedItem]) -> list[bool]:
        with self._lock:
            misses = [i for i, key in enumerate(keys) if key not in self._seen]
            for key in keys:
                if key in self._seen:
                    self._seen.move_to_end(key)
            self.hits += len(items) - len(misses)
            self.verified += len(misses)
        verdicts = [True] * len(items)
        checked = verify_all([items[i] for i in misses]) if misses else []
        with self._lock:
            for i, ok in zip(misses, checked, strict=True):
                verdicts[i] = ok
                if ok:
                    self._seen[keys[i]] = None
            while len(self._seen) > self._capacity:
                self._seen.popitem(last=False)
        return verdicts


# A tagged id is 33 bytes: never equal to a 32-byte hash key.
_ID_TAG = b"i"


def _cache_key(public_key: bytes, message: bytes, signature: bytes,
               item_id: bytes | None = None) -> bytes:
    if item_id is not None:
        return _ID_TAG + item_id
    return hashlib.sha256(public_key + signature + message).digest()
