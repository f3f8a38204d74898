"""Read-only provenance queries: a lot's state, its events, and the graph around it.

The graph's edges are the `parents` and `children` that split, merge and transform
record on lots; the events come from the per-lot event index, so a query touches
only the lots it reaches and never scans blocks.
"""

from __future__ import annotations

from typing import Any, Literal

from node.provenance.ledger import LedgerView
from node.provenance.lot import record_to_json
from node.store.kv import KV

Direction = Literal["backward", "forward", "both"]
DIRECTIONS = ("backward", "forward", "both")
EventRef = tuple[int, int, bytes]    # (height, index in block, tx_id)


def lot_state(kv: KV, lot_id: str) -> dict[str, Any] | None:
    """The lot's current state as JSON-ready data, or None if no such lot."""
    record = LedgerView(kv).lot_record(lot_id)
    return record_to_json(record) if record is not None else None


def lot_events(kv: KV, lot_id: str) -> list[EventRef]:
    """Every accepted event that touched the lot, in chain order."""
    return LedgerView(kv).lot_events(lot_id)


def provenance(kv: KV, lot_id: str, direction: Direction) -> tuple[list[str], list[EventRef]]:
    """The ids of the lots reached from `lot_id`, in walk order, and every event of
    each, in chain order.

    backward follows parents to every extraction (lots made by register_lot); forward
    follows children to every descendant, exported or not; both is their union. An
    event shared by several reached lots (a split, a merge) appears once. An unknown
    lot gives ([], []).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    ledger = LedgerView(kv)
    lots: dict[str, None] = {}
    if direction in ("backward", "both"):
        _walk(ledger, lot_id, "parents", lots)
    if direction in ("forward", "both"):
        _walk(ledger, lot_id, "children", lots)
    events: set[EventRef] = set()
    for found in ledger.lots_events(lots).values():
        events.update(found)
    return list(lots), sorted(events)


def _walk(ledger: LedgerView, start: str, edge: str, seen: dict[str, None]) -> None:
    """Iterative depth-first walk (deep refining chains must not hit the recursion limit)."""
    stack = [start]
    visited: set[str] = set()
    while stack:
        lot_id = stack.pop()
        if lot_id in visited:
            continue
        visited.add(lot_id)
        record = ledger.lot_record(lot_id)
        if record is None:
            continue
        seen[lot_id] = None
        stack.extend(record[edge])
