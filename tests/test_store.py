"""The LevelDB block store: atomic commits, restart, and a kill in the middle of writing."""

import signal
import subprocess
import sys
import time

import pytest

from node import codec
from node.store import BlockStore, Overlay, StoreError, blockstore, keys
from tests.store_writer import GENESIS, block_after, commit_for, commit_next


def test_commit_and_reopen(tmp_path):
    store = BlockStore(tmp_path)
    store.init_genesis(GENESIS, Overlay(store))
    block, results = commit_next(store, 3)
    store.close()

    store = BlockStore(tmp_path)
    assert store.head() == (1, block.hash)
    assert store.block(1) == block
    assert store.commit(1) == commit_for(block)
    assert store.results(1) == results
    assert store.tx_location(block.tx_ids[2]) == (1, 2)
    assert store.height_of(block.hash) == 1
    assert store.get(keys.param_key("counter")) == keys.u64(1)
    assert store.final_block_bytes(1) == (block.encoded,
                                          codec.encode(commit_for(block).to_wire()))
    assert store.final_block_bytes(2) is None


def test_opens_a_database_written_with_leveldb_defaults(tmp_path, monkeypatch):
    """Databases written before the tuned options (no Bloom filters, small tables) are
    read and extended as they are."""
    with monkeypatch.context() as m:
        m.setattr(blockstore, "LEVELDB_OPTIONS", {})
        store = BlockStore(tmp_path)
        store.init_genesis(GENESIS, Overlay(store))
        first, _ = commit_next(store, 3)
        store.close()
    store = BlockStore(tmp_path)
    assert store.block(1) == first
    assert store.tx_location(first.tx_ids[1]) == (1, 1)
    second, _ = commit_next(store, 2)
    store.close()
    store = BlockStore(tmp_path)
    assert store.head() == (2, second.hash)
    assert store.get(keys.param_key("counter")) == keys.u64(2)


def test_refuses_a_block_that_does_not_extend_the_head(tmp_path):
    store = BlockStore(tmp_path)
    store.init_genesis(GENESIS, Overlay(store))
    block, results, state = block_after(store, 1)
    store.commit_block(block, commit_for(block), results, state)
    with pytest.raises(StoreError, match="does not extend"):
        store.commit_block(block, commit_for(block), results, state)


def test_refuses_a_database_of_another_chain(tmp_path):
    store = BlockStore(tmp_path)
    store.init_genesis(GENESIS, Overlay(store))
    with pytest.raises(StoreError, match="another chain"):
        store.init_genesis(b"\x01" * 32, Overlay(store))


def test_second_process_on_the_same_home_gets_a_clear_error(tmp_path):
    store = BlockStore(tmp_path)
    with pytest.raises(StoreError, match="another orechain process"):
        BlockStore(tmp_path)
    store.close()


def test_overlay_reads_its_own_writes_and_hides_deletes(tmp_path):
    store = BlockStore(tmp_path)
    store.init_genesis(GENESIS, Overlay(store))
    base = Overlay(store)
    base.put(b"s/a", b"1")
    base.put(b"s/b", b"2")
    base.begin()
    base.delete(b"s/a")
    base.put(b"s/c", b"3")
    assert list(base.iter_prefix(b"s/")) == [(b"s/b", b"2"), (b"s/c", b"3")]
    assert store.get(b"s/c") is None
    base.keep()
    assert base.get(b"s/a") is None and base.get(b"s/c") == b"3"


@pytest.mark.parametrize("delay", [0.3, 0.7, 1.1])
def test_kill_mid_stream_leaves_whole_blocks_only(tmp_path, delay):
    proc = subprocess.Popen([sys.executable, "-m", "tests.store_writer", str(tmp_path)],
                            stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    store = BlockStore(tmp_path)
    height, head_hash = store.head()
    assert height > 0, "the writer should have committed blocks before the kill"
    assert store.block(height + 1) is None
    assert store.get(keys.param_key("counter")) == keys.u64(height)
    parent = GENESIS
    for h in range(1, height + 1):
        block = store.block(h)
        assert block.header.parent_hash == parent
        assert store.commit(h).block_hash == block.hash
        assert len(store.results(h)) == len(block.txs)
        for i, tx in enumerate(block.txs):
            assert store.tx_location(tx.tx_id) == (h, i)
            assert store.get(keys.lot_key(tx.body["lot_id"])) == tx.tx_id
        parent = block.hash
    assert parent == head_hash


def test_remembered_reads_never_outlive_a_write(tmp_path):
    """State reads are remembered until state is written; the mempool's and other
    writes between leave them right, and reads of those namespaces are always fresh."""
    store = BlockStore(tmp_path)
    store.init_genesis(GENESIS, Overlay(store))
    key = keys.param_key("counter")
    assert store.get(key) is None
    assert list(store.iter_prefix(key)) == []
    block, _ = commit_next(store, 2)
    assert store.get(key) == keys.u64(1)
    assert list(store.iter_prefix(key)) == [(key, keys.u64(1))]
    # A scan the caller is part-way through when state is written is not remembered.
    params = keys.param_key("")[:-1]
    scan = store.iter_prefix(params)
    next(scan)
    commit_next(store, 1)
    list(scan)
    assert (key, keys.u64(2)) in list(store.iter_prefix(params))
    # Writes that touch no state leave state reads right, and are read fresh themselves.
    assert list(store.iter_prefix(keys.EVIDENCE)) == []
    store.save_evidence(keys.evidence_key(block.height, b"\x01" * 32, 0, 1), b"two votes")
    assert [value for _, value in store.iter_prefix(keys.EVIDENCE)] == [b"two votes"]
    assert store.get(key) == keys.u64(2)
    assert list(store.iter_prefix(key)) == [(key, keys.u64(2))]
    commit_next(store, 1)
    assert store.get(key) == keys.u64(3)
    assert list(store.iter_prefix(key)) == [(key, keys.u64(3))]
