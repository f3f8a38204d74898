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
    """Buffered writes over a base KV; reads see the buffer first.

    A tx's writes are undoable: between `begin` and `keep` the overlay journals what
    each write replaced, and `rollback` puts it back, so a refused tx leaves no trace
    and an accepted one costs no copy.
    """

    def __init__(self, base: KV) -> None:
        self._base = base
        self.writes: dict[bytes, bytes | None] = {}
        # The keys of `writes`, sorted: a prefix read walks only its own keys instead of
        # every write buffered in the block (which made applying a block quadratic).
        self._order: list[bytes] = []
        # (key, what `writes` held for it) for every write since `begin`; None when
        # nothing is being journalled.
        self._journal: list[tuple[bytes, bytes | _Unwritten | None]] | None = None

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

    def _write(self, key: bytes, value: bytes | None) -> None:
        writes = self.writes
        if key in writes:
            if self._journal is not None:
                self._journal.append((key, writes[key]))
        else:
            bisect.insort(self._order, key)
            if self._journal is not None:
                self._journal.append((key, _UNWRITTEN))
        writes[key] = value

    def put(self, key: bytes, value: bytes) -> None:
        self._write(key, value)

    def delete(self, key: bytes) -> None:
        self._write(key, _DELETED)

    def begin(self) -> None:
        """Start journalling: the writes from here on can be undone with `rollback`."""
        if self._journal is not None:
            raise RuntimeError("the overlay is already journalling a tx's writes")
        self._journal = []

    def keep(self) -> None:
        """Keep the writes since `begin`, and stop journalling."""
        self._journal = None

    def rollback(self) -> None:
        """Undo every write since `begin`, newest first, and stop journalling."""
        journal, self._journal = self._journal or [], None
        for key, previous in reversed(journal):
            if isinstance(previous, _Unwritten):
                del self.writes[key]
                del self._order[bisect.bisect_left(self._order, key)]
            else:
                self.writes[key] = previous

    def apply_to(self, target: WritableKV) -> None:
        for key, value in self.writes.items():
            if value is _DELETED:
                target.delete(key)
            else:
                target.put(key, value)


class _Unwritten:
    """What the journal records for a key the overlay had not written before."""


_UNWRITTEN = _Unwritten()
