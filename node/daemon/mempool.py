"""Pending transactions: in memory for block building, persisted in the store so that
an acknowledged event survives a crash and is forwarded when peers return."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterable

from node.store import BlockStore, StoreError
from node.types import Tx


class MempoolFull(Exception):
    """The mempool is at its limit; the client should retry later."""


class Mempool:
    def __init__(self, store: BlockStore, capacity: int = 100_000) -> None:
        self._store = store
        self._capacity = capacity
        self._txs: OrderedDict[bytes, Tx] = OrderedDict()
        for tx in store.pending():
            if store.tx_location(tx.tx_id) is None:
                self._txs[tx.tx_id] = tx
            else:  # finalised just before a crash; the block batch already removed most
                store.drop_pending(tx.tx_id)

    def __len__(self) -> int:
        return len(self._txs)

    def __contains__(self, tx_id: bytes) -> bool:
        return tx_id in self._txs

    def ids(self) -> list[bytes]:
        return list(self._txs)

    def get(self, tx_id: bytes) -> Tx | None:
        return self._txs.get(tx_id)

    def add(self, tx: Tx, *, durable: bool = True) -> bool:
        """Persist and queue `tx`; False if it was already pending.

        Durable on return (a synced write) unless `durable` is False: a tx relayed by a
        peer is already durable at the node that acknowledged it to its client, which
        hands it on again when links return, so one fsync per tx per network suffices.
        """
        if tx.tx_id in self._txs:
            return False
        if len(self._txs) >= self._capacity:
            raise MempoolFull(f"the mempool holds {self._capacity} pending events; retry later")
        self._store.add_pending(tx, sync=durable)
        self._txs[tx.tx_id] = tx
        return True

    def add_relayed(self, txs: list[Tx]) -> list[Tx]:
        """Queue txs a peer relayed, in one unsynced store write (see `add` for why
        relayed txs need no fsync); the ones added, in order. Those past the capacity
        are left out, to arrive again when the peer re-sends its pending txs."""
        room = self._capacity - len(self._txs)
        fresh = list({tx.tx_id: tx for tx in txs if tx.tx_id not in self._txs}.values())
        added = fresh[:max(room, 0)]
        self._store.add_pending_many(added)
        for tx in added:
            self._txs[tx.tx_id] = tx
        return added

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
        for tx_id in final:
            del self._txs[tx_id]
            with contextlib.suppress(StoreError):   # a restart drops it: final txs never load
                self._store.drop_pending(tx_id)
        return picked

    def remove_committed(self, tx_ids: Iterable[bytes]) -> None:
        """Forget txs a committed block carried (the block's batch removed them on disk)."""
        for tx_id in tx_ids:
            self._txs.pop(tx_id, None)
