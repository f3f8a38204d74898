"""The mempool: relayed txs are queued in one journal write, kept across a restart,
de-duplicated, and never past the capacity; the journal survives a torn write, refuses
damage, rewrites itself to what is live, and takes over an earlier layout's events."""

from __future__ import annotations

from pathlib import Path

import plyvel
import pytest

from benches.workload import EventStream, extend, open_ledger, single_validator_genesis
from node.daemon import mempool
from node.daemon.mempool import Mempool
from node.store import BlockStore, Overlay, StoreError, keys
from node.store.integrity import IntegrityError, check_journal
from node.store.journal import JournalCorruptError
from node.store.logfile import frame
from node.types.tx import MAX_TX_BYTES
from tests.store_writer import GENESIS


def _store(path: Path) -> BlockStore:
    store = BlockStore(path)
    store.init_genesis(GENESIS, Overlay(store))
    return store


def test_relayed_txs_are_queued_once_and_survive_a_restart(tmp_path: Path) -> None:
    txs = list(EventStream("relay", 0).events(6))
    store = _store(tmp_path / "chain")
    pool = Mempool(store, tmp_path / "journal")
    assert pool.add(txs[0])
    added = pool.add_relayed([txs[0], txs[1], txs[2], txs[1], txs[3]])
    assert added == txs[1:4]                       # known and repeated ones left out, in order
    assert pool.ids() == [tx.tx_id for tx in txs[:4]]
    pool.sync()
    pool.close()

    assert Mempool(store, tmp_path / "journal").ids() == [tx.tx_id for tx in txs[:4]]
    store.close()


def test_relayed_txs_past_the_capacity_are_left_out(tmp_path: Path) -> None:
    txs = list(EventStream("full", 0).events(6))
    store = _store(tmp_path / "chain")
    pool = Mempool(store, tmp_path / "journal", capacity=4)
    assert pool.add_relayed(txs[:3]) == txs[:3]
    assert pool.add_relayed(txs[3:]) == txs[3:4]
    assert len(pool) == 4
    assert pool.add_relayed(txs[4:]) == []
    store.close()


def test_final_txs_are_dropped_instead_of_proposed_and_not_reloaded(tmp_path: Path) -> None:
    """Admission keeps final txs out of the mempool; should one get in anyway, reaping
    drops it rather than propose a block that carries it twice, and a restart does not
    bring back any tx a block made final."""
    ledger = open_ledger(tmp_path / "chain", single_validator_genesis())
    txs = list(EventStream("final", 0).events(4))
    pool = Mempool(ledger.store, tmp_path / "journal")
    for tx in txs:
        assert pool.add(tx)
    extend(ledger, txs[:1])                 # final, while the pool still holds it
    assert pool.reap(10, 1 << 20) == txs[1:]
    assert txs[0].tx_id not in pool
    extend(ledger, txs[1:2])                # final, and then the node stops before
    pool.close()                            # remove_committed
    assert Mempool(ledger.store, tmp_path / "journal").ids() == [tx.tx_id for tx in txs[2:]]


def test_a_torn_last_record_is_cut_off_and_appends_go_on(tmp_path: Path) -> None:
    txs = list(EventStream("torn", 0).events(4))[:3]
    store = _store(tmp_path / "chain")
    journal = tmp_path / "journal"
    pool = Mempool(store, journal)
    pool.add_relayed(txs[:2])
    pool.close()
    whole = journal.read_bytes()
    journal.write_bytes(whole + frame(txs[2].encoded, MAX_TX_BYTES)[:-7])   # a crash mid-write
    pool = Mempool(store, journal)
    assert pool.ids() == [tx.tx_id for tx in txs[:2]]
    assert journal.read_bytes() == whole
    pool.add(txs[2])
    pool.close()
    assert Mempool(store, journal).ids() == [tx.tx_id for tx in txs]


def test_damage_before_the_end_is_refused_with_the_way_out(tmp_path: Path) -> None:
    txs = list(EventStream("damaged", 0).events(2))
    store = _store(tmp_path / "chain")
    journal = tmp_path / "journal"
    pool = Mempool(store, journal)
    pool.add_relayed(txs)
    pool.close()
    data = bytearray(journal.read_bytes())
    data[20] ^= 0x40                        # inside the first record, another follows
    journal.write_bytes(bytes(data))
    with pytest.raises(JournalCorruptError, match=r"checksum mismatch .* Move .*journal aside"):
        Mempool(store, journal)
    assert isinstance(JournalCorruptError("x"), StoreError)   # reported like any store error
    # The start-up check finds it before the daemon opens anything.
    with pytest.raises(IntegrityError, match="the mempool journal is damaged"):
        check_journal(journal)


def test_the_journal_is_rewritten_to_what_is_live(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mempool, "COMPACT_MIN_BYTES", 4096)
    txs = list(EventStream("compact", 0).events(40))
    store = _store(tmp_path / "chain")
    journal = tmp_path / "journal"
    pool = Mempool(store, journal)
    pool.add_relayed(txs)
    grown = journal.stat().st_size
    pool.remove_committed(tx.tx_id for tx in txs[:36])
    live = sum(len(frame(tx.encoded, MAX_TX_BYTES)) for tx in txs[36:])
    assert journal.stat().st_size == live < grown
    pool.add(txs[0])                        # appends go to the rewritten file
    pool.close()
    assert Mempool(store, journal).ids() == [tx.tx_id for tx in [*txs[36:], txs[0]]]


def test_events_an_earlier_layout_kept_in_the_database_move_to_the_journal(
        tmp_path: Path) -> None:
    txs = list(EventStream("legacy", 0).events(2))
    _store(tmp_path / "chain").close()
    db = plyvel.DB(str(tmp_path / "chain"))
    for tx in txs:
        db.put(keys.mempool_key(tx.tx_id), tx.encoded)
    db.close()
    store = BlockStore(tmp_path / "chain")
    assert sorted(Mempool(store, tmp_path / "journal").ids()) == sorted(t.tx_id for t in txs)
    assert list(store.pending()) == []
    assert sorted(Mempool(store, tmp_path / "journal").ids()) == sorted(t.tx_id for t in txs)


def test_a_journal_that_cannot_be_rewritten_does_not_stop_a_start(tmp_path: Path) -> None:
    """As on a full disk: the node starts with its events, refuses new ones while the
    journal cannot be written, and takes them again, all kept, once it can."""
    txs = list(EventStream("stuck", 0).events(4))
    store = _store(tmp_path / "chain")
    journal = tmp_path / "journal"
    pool = Mempool(store, journal)
    pool.add_relayed(txs[:2])
    pool.close()
    blocker = tmp_path / "journal.tmp"
    blocker.mkdir()                         # where the rewrite goes: it cannot be written
    pool = Mempool(store, journal)
    assert pool.ids() == [tx.tx_id for tx in txs[:2]]
    with pytest.raises(StoreError, match=r"write to the mempool journal .* failed"):
        pool.add(txs[2])
    assert txs[2].tx_id not in pool
    blocker.rmdir()
    assert pool.add(txs[2])
    pool.close()
    assert Mempool(store, journal).ids() == [tx.tx_id for tx in txs[:3]]
