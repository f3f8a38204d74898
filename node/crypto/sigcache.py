"""Remembers signatures already verified, so each is checked once per node.

Only successes are cached (a failure is cheap to recompute and must never stick),
keyed by a hash of (public key, message, signature), bounded LRU. `verified` counts
the real Ed25519 verifications, so tests and benches can prove a path verifies once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from node.crypto.keys import verify


class VerifiedCache:
    def __init__(self, capacity: int = 200_000) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self.hits = 0
        self.verified = 0

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        key = hashlib.sha256(public_key + signature + message).digest()
        if key in self._seen:
            self._seen.move_to_end(key)
            self.hits += 1
            return True
        self.verified += 1
        if not verify(public_key, message, signature):
            return False
        self._seen[key] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True
