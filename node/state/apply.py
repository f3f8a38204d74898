"""Applying a block: every tx, in order, judged against the state the txs before it left.

Deterministic by construction: the inputs are the state, the genesis, the block's
height and time and its txs; no clock, randomness, floats or I/O. The overlay journals
each tx's writes and rolls them back if the tx is refused, so a rejected tx leaves no
trace in state, only its TxResult with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from node.provenance.ledger import Ledger
from node.provenance.rules import EventContext, RuleError
from node.provenance.schema import EVIDENCE_KIND, GOV_KINDS
from node.state.admission import AdmissionError, admit_reporter, admitted_org
from node.state.assets import apply_event_with_assets
from node.state.evidence import apply_evidence
from node.state.governance import apply_governance
from node.store.kv import Overlay
from node.types.block import TxResult
from node.types.genesis import Genesis
from node.types.tx import Tx


def apply_block(view: Overlay, genesis: Genesis, height: int, time_ms: int,
                txs: Sequence[Tx]) -> list[TxResult]:
    """Apply `txs` on `view`; return one TxResult per tx, in block order."""
    results = []
    ledger = Ledger(view)
    for index, tx in enumerate(txs):
        view.begin()
        try:
            _apply_tx(ledger, genesis, height, index, time_ms, tx)
        except (AdmissionError, RuleError) as exc:
            view.rollback()
            results.append(TxResult(tx.tx_id, False, str(exc)))
            continue
        view.keep()
        results.append(TxResult(tx.tx_id, True))
    return results


def _apply_tx(ledger: Ledger, genesis: Genesis, height: int, index: int, time_ms: int,
              tx: Tx) -> None:
    if tx.kind == EVIDENCE_KIND:
        admit_reporter(genesis, tx)
        apply_evidence(ledger, genesis, tx.body, height)
        return
    # Admission again: an earlier tx (even in this block) may have revoked the key.
    org = admitted_org(ledger, genesis.chain_id, tx)
    if tx.kind in GOV_KINDS:
        apply_governance(ledger, genesis.chain_id, tx.kind, tx.body, height)
        ledger.index_governance_event(height, index, tx.tx_id)
        return
    ctx = EventContext(ledger=ledger, org=org, kind=tx.kind, body=tx.body, height=height,
                       time_ms=time_ms, index=index, tx_id=tx.tx_id)
    for lot_id in apply_event_with_assets(ctx):
        ledger.index_event(lot_id, height, index, tx.tx_id)
