"""Pending transactions: in memory for block building, and in the mempool journal
(node.store.journal) so that an acknowledged event survives a crash and is forwarded
when peers return."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from node.store import BlockStore, StoreError
from node.store.journal import PendingJournal
from node.types import Tx

# The journal is rewritten with only the live events once it holds this many times
# their bytes, and at least COMPACT_MIN_BYTES: under load, every few seconds of events.
COMPACT_FACTOR = 4
COMPACT_MIN_BYTES = 16 << 20


class MempoolFull(Exception):
    """The mempool is at its limit; the client should retry later."""


class Mempool:
    def __init__(self, store: BlockStore, journal_path: Path, capacity: int = 100_000) -> None:
        self._store = store
        self._capacity = capacity
        self._txs: OrderedDict[bytes, Tx] = OrderedDict()
        self._bytes = 0
        self._journal = PendingJournal(journal_path, self._txs.values)
        # Events an earlier layout kept in the database join the journal once.
        legacy = list(store.pending())
        for tx in [*self._journal.take_recovered(), *legacy]:
            # Those a block made final before the crash are dropped here.
            if tx.tx_id not in self._txs and store.tx_location(tx.tx_id) is None:
                self._keep(tx)
        try:
            self._journal.compact()
            if legacy:
                store.drop_pending(tx.tx_id for tx in legacy)
        except StoreError:
            # A full disk must not keep the node from starting (it still serves what it
            # has): the journal rewrites itself before its next append instead, and an
            # earlier layout's events stay in the database until a start that can move them.
            pass

    def __len__(self) -> int:
        return len(self._txs)

    def __contains__(self, tx_id: bytes) -> bool:
        return tx_id in self._txs

    def ids(self) -> list[bytes]:
        return list(self._txs)

    def get(self, tx_id: bytes) -> Tx | None:
        return self._txs.get(tx_id)

    def _keep(self, tx: Tx) -> None:
        self._txs[tx.tx_id] = tx
        self._bytes += len(tx.encoded)

    def _forget(self, tx_id: bytes) -> None:
        tx = self._txs.pop(tx_id, None)
        if tx is not None:
            self._bytes -= len(tx.encoded)

    def add(self, tx: Tx, *, durable: bool = True) -> bool:
        """Journal and queue `tx`; False if it was already pending.

        Durable on return (a synced write) unless `durable` is False: then `sync()`
        makes it so, once for many (node.daemon.durability). A tx relayed by a peer is
        already durable at the node that acknowledged it to its client, which hands it
        on again when links return, so one fsync per tx per network suffices.
        """
        if tx.tx_id in self._txs:
            return False
        if len(self._txs) >= self._capacity:
            raise MempoolFull(f"the mempool holds {self._capacity} pending events; retry later")
        self._journal.append([tx], sync=durable)
        self._keep(tx)
        return True

    def add_relayed(self, txs: list[Tx]) -> list[Tx]:
        """Queue txs a peer relayed, in one unsynced journal write (see `add` for why
        relayed txs need no fsync); the ones added, in order. Those past the capacity
        are left out, to arrive again when the peer re-sends its pending txs."""
        room = self._capacity - len(self._txs)
        fresh = list({tx.tx_id: tx for tx in txs if tx.tx_id not in self._txs}.values())
        added = fresh[:max(room, 0)]
        if added:
            self._journal.append(added, sync=False)
        for tx in added:
            self._keep(tx)
        return added

    def sync(self) -> None:
        """Make every earlier add durable."""
        self._journal.sync()

    def reap(self, max_txs: int, max_bytes: int) -> list[Tx]:
        """The oldest pending txs that fit in a block. One found final already is
        dropped instead of proposed: a block may carry a tx only once (admission keeps
        final txs out, so this is the second line, not the first)."""
        picked: list[Tx] = []
        final: list[bytes] = []
        size = 0
        for tx in self._txs.values():
            if len(picked) >= max_txs or size + len(tx.encoded) > max_bytes:
                break
            if self._store.tx_location(tx.tx_id) is not None:
                final.append(tx.tx_id)
                continue
            picked.append(tx)
            size += len(tx.encoded) + 8
        for tx_id in final:     # the journal forgets it at its next rewrite
            self._forget(tx_id)
        return picked

    def remove_committed(self, tx_ids: Iterable[bytes]) -> None:
        """Forget txs a committed block carried; the journal drops them when it next
        rewrites itself, which this may start. A rewrite that fails is not the
        block's concern: the journal holds more than it must, never less, and tries
        again before its next append."""
        for tx_id in tx_ids:
            self._forget(tx_id)
        if self._journal.size > max(COMPACT_MIN_BYTES, COMPACT_FACTOR * self._bytes):
            with contextlib.suppress(StoreError):
                self._journal.compact()

    def close(self) -> None:
        self._journal.close()
