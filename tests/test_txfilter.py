"""The Bloom filter in front of the tx index: never a no for a final tx, a no for most
others, whether it was built from the index at start or grew with each commit."""

import hashlib
from pathlib import Path

from node.store import BlockStore, Overlay
from node.store.txfilter import BITS_PER_ID, MIN_CAPACITY, FinalTxFilter
from tests.store_writer import GENESIS, commit_next


def _ids(tag: str, n: int) -> list[bytes]:
    return [hashlib.sha256(f"{tag}-{i}".encode()).digest() for i in range(n)]


def test_every_added_id_is_a_maybe_and_few_others_are() -> None:
    added, others = _ids("added", MIN_CAPACITY), _ids("other", 50_000)
    found = FinalTxFilter(MIN_CAPACITY)
    found.add_all(added)
    assert all(found.may_contain(tx_id) for tx_id in added)
    maybes = sum(found.may_contain(tx_id) for tx_id in others)
    # Full to its capacity, two probes at 16 bits an id: (1 - e^(-1/8))^2, about 1.4 %.
    assert maybes / len(others) < 0.025


def test_an_empty_filter_says_no_and_ids_of_any_length_are_answered() -> None:
    found = FinalTxFilter(0)
    assert not any(found.may_contain(tx_id) for tx_id in _ids("none", 1000))
    found.add_all([b"", b"short"])
    assert found.may_contain(b"") and found.may_contain(b"short")


def test_capacity_sets_the_size_past_the_minimum() -> None:
    small, large = FinalTxFilter(10), FinalTxFilter(4 * MIN_CAPACITY)
    assert small.size_bits == MIN_CAPACITY * BITS_PER_ID
    assert large.size_bits == 4 * MIN_CAPACITY * BITS_PER_ID


def test_the_store_finds_every_final_tx_through_the_filter(tmp_path: Path) -> None:
    store = BlockStore(tmp_path)
    store.init_genesis(GENESIS, Overlay(store))
    first, _ = commit_next(store, 5)
    assert store.tx_location(first.tx_ids[4]) == (1, 4)     # builds the filter from the index
    second, _ = commit_next(store, 3)                             # added as it commits
    assert [store.tx_location(t) for t in second.tx_ids] == [(2, 0), (2, 1), (2, 2)]
    assert all(store.tx_location(t) is None for t in _ids("never", 200))
    store.close()

    store = BlockStore(tmp_path)
    store.load_final_ids()                                   # rebuilt from the index
    assert [store.tx_location(t) for t in first.tx_ids + second.tx_ids] == \
        [(1, i) for i in range(5)] + [(2, i) for i in range(3)]
    assert all(store.tx_location(t) is None for t in _ids("never", 200))
    store.close()
