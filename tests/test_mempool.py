"""The mempool: relayed txs are queued in one store write, kept across a restart,
de-duplicated, and never past the capacity."""

from __future__ import annotations

from pathlib import Path

from benches.workload import EventStream, extend, open_ledger, single_validator_genesis
from node.daemon.mempool import Mempool
from node.store import BlockStore, Overlay
from tests.store_writer import GENESIS


def _store(path: Path) -> BlockStore:
    store = BlockStore(path)
    store.init_genesis(GENESIS, Overlay(store))
    return store


def test_relayed_txs_are_queued_once_and_survive_a_restart(tmp_path: Path) -> None:
    txs = list(EventStream("relay", 0).events(6))
    store = _store(tmp_path)
    pool = Mempool(store)
    assert pool.add(txs[0])
    added = pool.add_relayed([txs[0], txs[1], txs[2], txs[1], txs[3]])
    assert added == txs[1:4]                       # known and repeated ones left out, in order
    assert pool.ids() == [tx.tx_id for tx in txs[:4]]
    store.close()

    store = _store(tmp_path)
    assert sorted(Mempool(store).ids()) == sorted(tx.tx_id for tx in txs[:4])
    store.close()


def test_relayed_txs_past_the_capacity_are_left_out(tmp_path: Path) -> None:
    txs = list(EventStream("full", 0).events(6))
    store = _store(tmp_path)
    pool = Mempool(store, capacity=4)
    assert pool.add_relayed(txs[:3]) == txs[:3]
    assert pool.add_relayed(txs[3:]) == txs[3:4]
    assert len(pool) == 4
    assert pool.add_relayed(txs[4:]) == []
    store.close()


def test_a_tx_found_final_is_dropped_instead_of_proposed(tmp_path: Path) -> None:
    """Admission keeps final txs out of the mempool; should one get in anyway, reaping
    drops it (from memory and disk) rather than propose a block that carries it twice."""
    ledger = open_ledger(tmp_path / "chain", single_validator_genesis())
    txs = list(EventStream("final", 0).events(4))
    pool = Mempool(ledger.store)
    for tx in txs:
        assert pool.add(tx)
    extend(ledger, txs[:1])                 # final, while the pool still holds it
    assert pool.reap(10, 1 << 20) == txs[1:]
    assert txs[0].tx_id not in pool
    assert not ledger.store.is_pending(txs[0].tx_id)
    assert sorted(tx.tx_id for tx in ledger.store.pending()) == \
        sorted(tx.tx_id for tx in txs[1:])
