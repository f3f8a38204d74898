"""Dispatch of the asset layer (docs/assets.md) around the lot rules.

`apply_event_with_assets` is what block application calls for every non-governance tx:
unit kinds and account attestations go to node.provenance.units; lot events run their
lot rule and then, among the same tx's journalled writes (so a refusal undoes the lot
rule too), the licence check, the units guard, the royalty record and the compliance
watch.
"""

from __future__ import annotations

from collections.abc import Callable

from node.provenance import compliance, licences, royalties, units
from node.provenance.lot import Lot
from node.provenance.rules import EventContext, apply_event
from node.provenance.schema import lots_named

_UNIT_RULES: dict[str, Callable[[EventContext], None]] = {
    "tokenize": units.tokenize,
    "transfer_units": units.transfer_units,
    "redeem_units": units.redeem_units,
}


def apply_event_with_assets(ctx: EventContext) -> list[str]:
    """Judge and apply one event; return the lots to index it under (none for unit
    events and account attestations: they change no lot record)."""
    if ctx.kind in _UNIT_RULES:
        _UNIT_RULES[ctx.kind](ctx)
        return []
    if ctx.kind == "attest" and "org_id" in ctx.body:
        units.attest_account(ctx)
        return []
    before: dict[str, Lot | None] = {lot_id: ctx.ledger.lot(lot_id)
                                     for lot_id in lots_named(ctx.kind, ctx.body)}
    touched = apply_event(ctx)
    licences.check(ctx, before)
    units.guard(ctx, before.values())
    if ctx.kind == "export":
        exported = ctx.ledger.lot(ctx.body["lot_id"])
        assert exported is not None                  # the export rule just wrote it
        royalties.record_export(ctx, exported)
    compliance.watch(ctx, before)
    return touched
