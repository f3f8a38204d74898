"""Key-value views the state machine reads and writes through.

State code never touches LevelDB directly: it gets a KV to read and an Overlay to
write, and the block store commits the overlay's writes in the block's batch.
MemoryKV backs the simulator and unit tests with the same interface.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from typing import Protocol

_DELETED = None


class KV(Protocol):
    def get(self, key: bytes) -> bytes | None: ...

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]: ...


def scan_prefixes(kv: KV, prefixes: Iterable[bytes]) -> dict[bytes, list[tuple[bytes, bytes]]]:
    """The items under each of many prefixes: in one pass where the KV can (the block
    store walks one LevelDB iterator instead of opening one per prefix), else prefix by
    prefix."""
    scan = getattr(kv, "scan_prefixes", None)
    if scan is not None:
        found: dict[bytes, list[tuple[bytes, bytes]]] = scan(prefixes)
        return found
    return {prefix: list(kv.iter_prefix(prefix)) for prefix in prefixes}


class WritableKV(KV, Protocol):
    def put(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...


class MemoryKV:
    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._order: list[bytes] = []  # sorted keys, for prefix walks

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        for key in _keys_with_prefix(self._order, prefix):
            yield key, self._data[key]

    def put(self, key: bytes, value: bytes) -> None:
        if key not in self._data:
            bisect.insort(self._order, key)
        self._data[key] = value

    def delete(self, key: bytes) -> None:
        if self._data.pop(key, None) is not None:
            del self._order[bisect.bisect_left(self._order, key)]


def _keys_with_prefix(order: list[bytes], prefix: bytes) -> list[bytes]:
    """The keys of sorted `order` that start with `prefix`, in order."""
    found = []
    for i in range(bisect.bisect_left(order, prefix), len(order)):
        if not order[i].startswith(prefix):
            break
        found.append(order[i])
    return found


class Overlay:
    """Buffered writes over a base KV; reads see the buffer first."""

    def __init__(self, base: KV) -> None:
        self._base = base
        self.writes: dict[bytes, bytes | None] = {}
        # The keys of `writes`, sorted: a prefix read walks only its own keys instead of
        # every write buffered in the block (which made applying a block quadratic).
        self._order: list[bytes] = []

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        return self._base.get(key)

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        buffered = _keys_with_prefix(self._order, prefix)
        if not buffered:            # the common case: nothing to merge
            yield from self._base.iter_prefix(prefix)
            return
        pending = {key: self.writes[key] for key in buffered}
        merged = dict(self._base.iter_prefix(prefix))
        merged.update(pending)
        for key in sorted(merged):
            value = merged[key]
            if value is not _DELETED:
                yield key, value

    def _note(self, key: bytes) -> None:
        if key not in self.writes:
            bisect.insort(self._order, key)

    def put(self, key: bytes, value: bytes) -> None:
        self._note(key)
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self._note(key)
        self.writes[key] = _DELETED

    def child(self) -> Overlay:
        """A nested overlay: a tx's writes, merged into this one only if the tx is accepted."""
        return Overlay(self)

    def merge_into(self, parent: Overlay) -> None:
        for key, value in self.writes.items():
            parent._note(key)
            parent.writes[key] = value

    def apply_to(self, target: WritableKV) -> None:
        for key, value in self.writes.items():
            if value is _DELETED:
                target.delete(key)
            else:
                target.put(key, value)
