"""The node's garbage-collector settings (node.daemon.gctune)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from node.daemon.gctune import YOUNG_THRESHOLD, tune_for_node


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restore_gc")
def test_start_up_objects_are_frozen_and_cycles_still_collected() -> None:
    survivor = {"kept": "from start-up"}
    tune_for_node()
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    # Frozen: the collector's walks no longer visit what start-up allocated.
    assert not any(seen is survivor for seen in gc.get_objects())

    class Cell:
        other: object = None

    a, b = Cell(), Cell()
    a.other, b.other = b, a          # a cycle reference counting cannot free
    del a, b
    assert gc.collect() >= 2         # the collector still finds it
