"""Provenance queries on a chain whose lot graph is deep (a small one: a lot split 300
times in a row, each split leaving a side lot; the 10,000-ancestor bench lives in
bench_provenance.py).

    python -m pytest benches/bench_queries.py -p no:cacheprovider
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benches.workload import (
    CHAIN_ID,
    EXTRACTED_AT_MS,
    extend,
    open_ledger,
    org_key,
    single_validator_genesis,
)
from node.daemon.ledger import Ledger
from node.provenance.query import provenance
from node.types import Tx

DEPTH = 300
ROOT, LEAF = "PK-RE-DEEP-0", f"PK-RE-DEEP-{DEPTH}"


def _deep_graph_events() -> list[Tx]:
    """register ROOT, then split lot k into lot k+1 and a 1 g side lot, DEPTH times."""
    key = org_key("mine-3")
    txs = [Tx(CHAIN_ID, "register_lot", {
        "lot_id": ROOT, "mineral": "rare_earth", "form": "ore", "mass_g": 10_000_000,
        "site_id": "mine-3-pit-1", "extracted_at_ms": EXTRACTED_AT_MS}, key.public_key, 0)]
    for k in range(DEPTH):
        mass = 10_000_000 - k
        txs.append(Tx(CHAIN_ID, "split", {"lot_id": f"PK-RE-DEEP-{k}", "children": [
            {"lot_id": f"PK-RE-DEEP-{k + 1}", "mass_g": mass - 1},
            {"lot_id": f"PK-RE-SIDE-{k}", "mass_g": 1}]}, key.public_key, k + 1))
    return [tx.signed(key) for tx in txs]


@pytest.fixture(scope="module")
def deep_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    path = Path(tmp_path_factory.mktemp("deep")) / "chain"
    ledger = open_ledger(path, single_validator_genesis())
    events = _deep_graph_events()
    for start in range(0, len(events), 50):  # 50 events a block: many blocks, many proofs
        executed = extend(ledger, events[start:start + 50])
        assert all(r.accepted for r in executed.results), executed.results
    yield ledger
    ledger.store.close()


@pytest.mark.parametrize("lot_id, direction, lots", [
    (LEAF, "backward", DEPTH + 1),
    (ROOT, "forward", 2 * DEPTH + 1),
    (f"PK-RE-DEEP-{DEPTH // 2}", "both", DEPTH // 2 + 1 + 2 * (DEPTH // 2)),
])
def test_provenance_query(benchmark: BenchmarkFixture, deep_chain: Ledger, lot_id: str,
                          direction: str, lots: int) -> None:
    found, events = benchmark(provenance, deep_chain.store, lot_id, direction)
    assert len(found) == lots
    assert events
