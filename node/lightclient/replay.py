"""Replays proven events on a fresh state built from genesis, with the node's own rules.

The verifier does not re-implement a single lot rule: it runs node.state.apply_block
over a MemoryKV, block by block in chain order, on exactly the events the answer proves,
and then reads the lots as lot_get shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from node.provenance.ledger import LedgerView
from node.provenance.lot import record_to_json
from node.state import apply_block, init_state
from node.state.governance import VALIDATORS_AT
from node.state.schedule import validator_set_at
from node.store import keys
from node.store.kv import MemoryKV, Overlay
from node.types import Header, Tx, TxResult, ValidatorSet
from node.types.genesis import Genesis

_SCHEDULE = keys.governance_prefix(VALIDATORS_AT)
_EDGES = {"backward": ("parents",), "forward": ("children",), "both": ("parents", "children")}


_GENESIS_STATES: dict[bytes, list[tuple[bytes, bytes]]] = {}


def _genesis_state(genesis: Genesis) -> list[tuple[bytes, bytes]]:
    """The height-0 state writes, computed once per genesis (they depend on nothing
    else, and a verifier checking many answers would otherwise redo them each time)."""
    if genesis.hash not in _GENESIS_STATES:
        view = Overlay(MemoryKV())
        init_state(view, genesis)
        _GENESIS_STATES[genesis.hash] = [(k, v) for k, v in view.writes.items()
                                         if v is not None]
    return _GENESIS_STATES[genesis.hash]


class Replay:
    def __init__(self, genesis: Genesis) -> None:
        self.genesis = genesis
        self.kv = MemoryKV()
        # Validator-schedule records are also kept apart: looking a set up per block
        # must not scan the whole replayed state.
        self._schedule = MemoryKV()
        for key, value in _genesis_state(genesis):
            self.kv.put(key, value)

    def _commit(self, fill: Any) -> Any:
        view = Overlay(self.kv)
        out = fill(view)
        view.apply_to(self.kv)
        for key, value in view.writes.items():
            if key.startswith(_SCHEDULE) and value is not None:
                self._schedule.put(key, value)
        return out

    def validators(self, height: int) -> ValidatorSet:
        """The set in force at `height`, as governance replayed so far scheduled it."""
        return validator_set_at(self._schedule, self.genesis, height)

    def apply(self, header: Header, txs: Sequence[Tx]) -> list[TxResult]:
        """Apply the answer's txs of one block, in block order, at its height and time."""
        return self._commit(lambda view: apply_block(view, self.genesis, header.height,
                                                     header.time_ms, txs))

    def reached(self, lot_id: str, direction: str) -> dict[str, dict[str, Any]]:
        """The lots a provenance query in `direction` reaches in the replayed state, with
        their states as lot_get shows them."""
        ledger = LedgerView(self.kv)
        found: dict[str, dict[str, Any]] = {}
        for edge in _EDGES[direction]:
            stack = [lot_id]
            seen: set[str] = set()
            while stack:
                current = stack.pop()
                if current in seen:
                    continue
                seen.add(current)
                record = ledger.lot_record(current)
                if record is not None:
                    found.setdefault(current, record_to_json(record))
                    stack.extend(record[edge])
        return found
