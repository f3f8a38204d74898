"""The cyclic garbage collector, set for a long-running node.

Almost everything a node allocates is freed by reference counting the moment it is
dropped: decoded txs, overlays, records, messages. The cyclic collector still walks
the young objects every 700 allocations and, now and then, every object the process
holds (the genesis, the decoded-record caches, the mempool, imported modules), to find
the rare cycle. On a loaded node that walk cost about 6 % of the main thread while
collecting almost nothing. So the objects that live as long as the process are moved
out of its sight once the node is up (`gc.freeze`), and the young generation is walked
less often; cycles are still collected, only later, and they are few and small.
"""

from __future__ import annotations

import gc

# Allocations (net of frees) between two walks of the young generation; CPython's
# default is 700.
YOUNG_THRESHOLD = 50_000


def tune_for_node() -> None:
    """Freeze what start-up allocated and walk the young generation less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
