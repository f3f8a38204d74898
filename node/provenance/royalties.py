"""Royalties: the state's, the province's and the mining communities' shares of an export.

The schedule is per mineral: a list of beneficiaries, each with a share of the declared
value in ppm, from genesis (`royalties`) and replaced by governance
(`set_royalty_schedule`). An export of a mineral that has a schedule must declare its
value (integer minor units of an ISO 4217 currency); the shares are computed in integers
and recorded with the export, keyed by block time so a report over a period is a range.

Rounding: the total is floor(value * sum(share_ppm) / 1e6); every beneficiary after the
first gets floor(value * share_ppm / 1e6) and the first gets the rest of the total, so
the shares always sum exactly to the total and the rounding favours the first-listed
beneficiary (by convention the federal treasury) by less than one minor unit each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from node.provenance.ledger import Ledger, LedgerView
from node.provenance.lot import Lot
from node.provenance.rules import EventContext, RuleError

PPM = 1_000_000
SCHEDULE = "royalty-schedule/"   # governance name: + mineral
ROYALTY = "royalty/"             # governance name: + time_ms:20 height:20 index:10


def schedule(view: LedgerView, mineral: str) -> list[dict[str, Any]] | None:
    """The mineral's schedule in force: [{beneficiary, share_ppm}], or None."""
    record = view.governance(f"{SCHEDULE}{mineral}")
    return record["shares"] if record is not None else None


def put_schedule(ledger: Ledger, mineral: str, shares: Sequence[Mapping[str, Any]],
                 height: int) -> None:
    ledger.put_governance(f"{SCHEDULE}{mineral}", {
        "shares": [{"beneficiary": s["beneficiary"], "share_ppm": s["share_ppm"]}
                   for s in shares],
        "height": height})


def set_schedule(ledger: Ledger, body: dict[str, Any], height: int) -> None:
    """The set_royalty_schedule governance action: replaces the mineral's schedule for
    exports from the next tx on; recorded exports keep the shares they were given."""
    put_schedule(ledger, body["mineral"], body["shares"], height)


def split_value(amount: int, shares: Sequence[Mapping[str, Any]]) -> list[int]:
    """Each beneficiary's amount, in schedule order (rounding: module docstring)."""
    total = amount * sum(s["share_ppm"] for s in shares) // PPM
    rest = [amount * s["share_ppm"] // PPM for s in shares[1:]]
    return [total - sum(rest), *rest]


def record_export(ctx: EventContext, lot: Lot) -> None:
    """Record the royalty shares of an accepted export (called after the export rule)."""
    shares = schedule(ctx.ledger, lot.mineral)
    declared = ctx.body.get("declared_value")
    if shares is None:
        return
    if declared is None:
        raise RuleError(f"export of {lot.mineral} lot {lot.lot_id} must state its "
                        "declared_value {amount, currency}: royalties are due on "
                        f"{lot.mineral} exports")
    amounts = split_value(declared["amount"], shares)
    ctx.ledger.put_governance(
        f"{ROYALTY}{ctx.time_ms:020d}{ctx.height:020d}{ctx.index:010d}", {
            "tx_id": ctx.tx_id, "lot_id": lot.lot_id, "mineral": lot.mineral,
            "exporter": ctx.org.id, "height": ctx.height, "index": ctx.index,
            "time_ms": ctx.time_ms, "amount": declared["amount"],
            "currency": declared["currency"],
            "shares": [{"beneficiary": s["beneficiary"], "share_ppm": s["share_ppm"],
                        "amount": a} for s, a in zip(shares, amounts, strict=True)]})


def royalty_records(view: LedgerView, from_ms: int, to_ms: int,
                    mineral: str | None = None) -> list[dict[str, Any]]:
    """The royalty records of exports with from_ms <= block time < to_ms, in chain order."""
    out = []
    for name, record in view.governance_items(ROYALTY):
        time_ms = int(name[len(ROYALTY):len(ROYALTY) + 20])
        if time_ms >= to_ms:
            break                         # fixed-width time first: name order is time order
        if time_ms >= from_ms and mineral in (None, record["mineral"]):
            out.append(record)
    return out


def report(view: LedgerView, from_ms: int, to_ms: int,
           mineral: str | None = None) -> dict[str, Any]:
    """Totals per currency and beneficiary, each with the export tx ids behind it."""
    records = royalty_records(view, from_ms, to_ms, mineral)
    totals: dict[str, dict[str, dict[str, Any]]] = {}
    for record in records:
        per_currency = totals.setdefault(record["currency"], {})
        for share in record["shares"]:
            line = per_currency.setdefault(share["beneficiary"], {"amount": 0, "exports": []})
            line["amount"] += share["amount"]
            line["exports"].append(record["tx_id"].hex())
    values: dict[str, int] = {}
    for record in records:
        values[record["currency"]] = values.get(record["currency"], 0) + record["amount"]
    return {
        "from_ms": from_ms, "to_ms": to_ms, "mineral": mineral,
        "declared_value": values,
        "totals": totals,
        "exports": [{**record, "tx_id": record["tx_id"].hex()} for record in records],
    }
