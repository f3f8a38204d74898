"""Fixtures shared by the orechain benches: a single-validator chain on a real LevelDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benches.workload import EventStream, open_ledger, single_validator_genesis
from node.daemon.ledger import Ledger
from node.types.genesis import Genesis


@pytest.fixture(scope="session")
def genesis() -> Genesis:
    # Room for the 10,000-event blocks the benches time (devnet allows 5,000).
    return single_validator_genesis(max_block_txs=20_000, max_block_bytes=16 * 1024 * 1024)


@pytest.fixture
def ledger(tmp_path: Path, genesis: Genesis) -> Iterator[Ledger]:
    """A fresh single-validator chain at height 0, closed after the test."""
    led = open_ledger(tmp_path / "chain", genesis)
    yield led
    led.store.close()


@pytest.fixture
def stream(request: pytest.FixtureRequest) -> EventStream:
    """Events with lot ids unique to the test that asks."""
    return EventStream(request.node.name.replace("[", "-").strip("]"), 0)
