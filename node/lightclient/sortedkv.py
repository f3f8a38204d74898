"""An in-memory KV whose prefix scans cost the matches, not the whole state.

The replay holds the whole replayed state in memory, and the lot rules scan prefixes
on every event (a mine's licences on each register_lot). A scan over every key, as
node.store.kv.MemoryKV does, makes a replay of n events cost n times the state; here
the keys are kept sorted and a scan bisects to its prefix.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator


class SortedKV:
    """The KV interface (get, iter_prefix, put, delete) over a dict and a sorted key list."""

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._keys: list[bytes] = []
        self._unsorted = False        # new keys were appended since the last sort

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        if self._unsorted:
            # Writes come a block at a time between scans; sorting the appended run
            # into the sorted one is a merge, linear in the state.
            self._keys.sort()
            self._unsorted = False
        keys, data = self._keys, self._data
        for position in range(bisect_left(keys, prefix), len(keys)):
            key = keys[position]
            if not key.startswith(prefix):
                return
            yield key, data[key]

    def put(self, key: bytes, value: bytes) -> None:
        if key not in self._data:
            self._keys.append(key)
            self._unsorted = True
        self._data[key] = value

    def delete(self, key: bytes) -> None:
        if self._data.pop(key, None) is not None:
            self._keys.remove(key)
