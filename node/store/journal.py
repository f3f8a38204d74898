"""The mempool's journal: the events a node has taken and not yet seen final, in an
append-only file beside the database.

Each record (node.store.logfile) holds one signed tx's canonical bytes. Taking an
event appends it; a block that makes events final writes nothing here. The file is
rewritten with only the live events now and then (`compact`), and every time the
node starts. In LevelDB each pending event was written to the log, flushed to a
table, deleted by its block and compacted again: a quarter of a loaded validator's
LevelDB bytes, for records that live a second or two.

A write that fails (a full disk) may leave part of a record at the end. The journal
then rewrites itself from the live events before it takes or syncs anything else, so
a torn record never sits in the middle of the file, and an fsync that failed is
never followed by one that claims the lost pages are safe.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from node.store import logfile
from node.store.blockstore import StoreError
from node.store.files import replace_durably, write_all
from node.types import Tx, TxFormatError
from node.types.tx import MAX_TX_BYTES


class JournalCorruptError(StoreError):
    """The journal is damaged before its last record."""


class PendingJournal:
    def __init__(self, path: Path, live: Callable[[], Iterable[Tx]]) -> None:
        """Open (or create) the journal at `path`; `take_recovered()` gives the txs it
        held, in order. `live()` gives the txs still pending whenever the journal
        rewrites itself."""
        self._path = str(path)
        self._tmp = self._path + ".tmp"
        self._dir = str(Path(path).parent)
        Path(self._dir).mkdir(parents=True, exist_ok=True)
        self._live = live
        self._recovered, torn = read_journal(self._path)
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.size = os.fstat(self._fd).st_size
        # A record a crash left torn is cut off by rewriting before the first append.
        self._rewrite_first = torn

    def take_recovered(self) -> list[Tx]:
        """The txs the file held when opened (once: they are not kept after)."""
        recovered, self._recovered = self._recovered, []
        return recovered

    def append(self, txs: Sequence[Tx], *, sync: bool) -> None:
        """Add `txs`; durable on return when `sync`, else once `sync()` returns."""
        data = b"".join(logfile.frame(tx.encoded, MAX_TX_BYTES) for tx in txs)
        self._write(lambda: self._append(data, sync))

    def _append(self, data: bytes, sync: bool) -> None:
        write_all(self._fd, data)
        self.size += len(data)
        if sync:
            os.fsync(self._fd)

    def sync(self) -> None:
        """Make every earlier append durable."""
        self._write(lambda: os.fsync(self._fd))

    def compact(self) -> None:
        """Replace the file by one holding only the live txs (atomically, synced)."""
        self._rewrite_first = True
        self._write(lambda: None)

    def _write(self, step: Callable[[], None]) -> None:
        try:
            if self._rewrite_first:
                self._rewrite()
                self._rewrite_first = False
            step()
        except OSError as exc:
            self._rewrite_first = True
            raise StoreError(f"write to the mempool journal {self._path} failed: {exc} (is "
                             "the disk full? the node takes no events until a write "
                             "succeeds again)") from None

    def _rewrite(self) -> None:
        data = b"".join(logfile.frame(tx.encoded, MAX_TX_BYTES) for tx in self._live())
        replace_durably(self._path, self._tmp, self._dir, data)
        # Opened before the old one closes: should this fail, the next write finds a
        # descriptor to close and rewrites again.
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND, 0o600)
        os.close(self._fd)
        self._fd = fd
        self.size = len(data)

    def close(self) -> None:
        os.close(self._fd)


def read_journal(path: str) -> tuple[list[Tx], bool]:
    """The txs of the journal's intact records, and whether a torn record follows
    them (what a crash leaves); JournalCorruptError if it is damaged before its end."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return [], False
    try:
        framed, good = logfile.split(data, path, MAX_TX_BYTES)
        return [Tx.decode(payload) for _, payload in framed], good < len(data)
    except (logfile.LogCorruptError, TxFormatError) as exc:
        raise JournalCorruptError(
            f"the mempool journal is damaged: {exc}. Move {path} aside and restart: the "
            "events in it that this node acknowledged and that are not final are lost "
            "unless their clients submit them again") from None
