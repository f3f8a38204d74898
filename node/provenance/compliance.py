"""The compliance watch: deterministic rules that flag suspicious events as blocks apply.

A flag never rejects an event (the event happened, and the record of it is the
evidence); it is stored with a reason, by lot and by org, for `compliance_flags`. The
rules, run after an event is accepted, with the lots it names as they were before:

- transport_loss: a receive lost more than `loss_tolerance_ppm` (the receive rule also
  flags the lot itself); charged to the carrier, or the sender if none was named.
- custody_cycle: a lot comes back to an org that already had custody of it (round
  trips are how paper trades disguise where material came from).
- recovery_high: a transform recovers more of an element than plausible for the input
  grade: above `recovery_max_ppm`, or `recovery_max_low_grade_ppm` when the inputs'
  grade is below `recovery_low_grade_ppm`.
- over_capacity: a mine registers more in a calendar year (UTC, of `extracted_at_ms`)
  than the `annual_capacity_g` of the licence it registers under: the classic sign of
  ore from elsewhere being laundered through a licensed mine.
- fast_export: a lot is exported less than `min_export_age_ms` after the latest
  extraction it descends from.
- units_underbacked: after a receive's loss, the lot's metal proven by assays no longer
  covers its outstanding units.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from node.provenance import mass
from node.provenance.ledger import LedgerView
from node.provenance.licences import activity, covering
from node.provenance.lot import Lot
from node.provenance.rules import EventContext
from node.provenance.units import outstanding, proven_metal, units_record

FLAG = "flag/"              # governance name: flag/<lot>/<height:20><index:10><n:3>
FLAG_ORG = "flag-org/"      # governance name: flag-org/<org>/<height:20><index:10><n:3>
CUSTODY = "custody/"        # governance name: custody/<lot> -> [orgs, in custody order]
CAPACITY = "capacity/"      # governance name: capacity/<licence>/<year> -> grams registered


class _Flags:
    """Writes the flags of one tx, numbered in the order they are raised."""

    def __init__(self, ctx: EventContext) -> None:
        self.ctx = ctx
        self.count = 0

    def raise_flag(self, rule: str, lot_id: str, org: str, site: str | None,
                   reason: str) -> None:
        ctx = self.ctx
        record = {"rule": rule, "lot_id": lot_id, "org": org, "site_id": site,
                  "reason": reason, "height": ctx.height, "index": ctx.index,
                  "tx_id": ctx.tx_id, "kind": ctx.kind}
        where = f"{ctx.height:020d}{ctx.index:010d}{self.count:03d}"
        ctx.ledger.put_governance(f"{FLAG}{lot_id}/{where}", record)
        ctx.ledger.put_governance(f"{FLAG_ORG}{org}/{where}", record)
        self.count += 1


def watch(ctx: EventContext, before: Mapping[str, Lot | None]) -> None:
    """Run the watch over an accepted lot event (see the module docstring)."""
    flags = _Flags(ctx)
    if ctx.kind == "register_lot":
        _set_custody(ctx, ctx.body["lot_id"], [ctx.org.id])
        _capacity(ctx, flags)
    elif ctx.kind == "receive":
        _receive(ctx, flags, before[ctx.body["lot_id"]])
    elif ctx.kind in ("split", "merge"):
        _inherit_custody(ctx, before)
    elif ctx.kind == "transform":
        for out in ctx.body["outputs"]:
            _set_custody(ctx, out["lot_id"], [ctx.org.id])
        _recovery(ctx, flags, before)
    elif ctx.kind == "export":
        _fast_export(ctx, flags)


def _set_custody(ctx: EventContext, lot_id: str, chain: list[str]) -> None:
    ctx.ledger.put_governance(f"{CUSTODY}{lot_id}", chain)


def _custody(view: LedgerView, lot_id: str) -> list[str]:
    chain: list[str] = view.governance(f"{CUSTODY}{lot_id}") or []
    return chain


def _inherit_custody(ctx: EventContext, before: Mapping[str, Lot | None]) -> None:
    """Split children and merged lots are the same material: they keep its custody."""
    chain: list[str] = []
    for lot in before.values():
        if lot is not None:
            chain += [org for org in _custody(ctx.ledger, lot.lot_id) if org not in chain]
    for lot_id in before:
        if before[lot_id] is None:
            _set_custody(ctx, lot_id, chain)


def _receive(ctx: EventContext, flags: _Flags, lot: Lot | None) -> None:
    assert lot is not None and lot.transit is not None    # the receive rule accepted it
    after = ctx.ledger.lot(lot.lot_id)
    assert after is not None
    site = ctx.body["site_id"]
    if len(after.flags) > len(lot.flags):
        carrier = lot.transit.get("carrier_org") or lot.transit["from_org"]
        flags.raise_flag("transport_loss", lot.lot_id, carrier, site, after.flags[-1]["reason"])
    chain = _custody(ctx.ledger, lot.lot_id)
    if ctx.org.id in chain:
        path = " -> ".join([*chain[chain.index(ctx.org.id):], ctx.org.id])
        flags.raise_flag("custody_cycle", lot.lot_id, ctx.org.id, site,
                         f"lot {lot.lot_id} came back to {ctx.org.id} along {path}")
    _set_custody(ctx, lot.lot_id, [*chain, ctx.org.id])
    record = units_record(ctx.ledger, lot.lot_id)
    if record and record["supply"]:
        proven = proven_metal(ctx.ledger, lot.lot_id, record["element"]) // mass.PPM
        if proven < record["supply"]:
            flags.raise_flag("units_underbacked", lot.lot_id, ctx.org.id, site,
                             f"after the receive, lot {lot.lot_id} proves "
                             f"{proven} g of {record['element']} but "
                             f"{outstanding(ctx.ledger, lot.lot_id)} units are outstanding")


def _recovery(ctx: EventContext, flags: _Flags, before: Mapping[str, Lot | None]) -> None:
    inputs = [before[lot_id] for lot_id in ctx.body["inputs"]]
    in_mass = sum(lot.mass_g for lot in inputs if lot)
    metal = mass.contained_metal((lot.mass_g, lot.composition) for lot in inputs if lot)
    first = ctx.ledger.lot(ctx.body["outputs"][0]["lot_id"])
    assert first is not None
    params = ctx.ledger.param
    for element, recovery in sorted(first.recovery_ppm.items()):
        grade = metal[element] // in_mass
        low = grade < params("recovery_low_grade_ppm")
        ceiling = params("recovery_max_low_grade_ppm" if low else "recovery_max_ppm")
        if recovery <= ceiling:
            continue
        reason = (f"transform at {ctx.body['site_id']} recovered "
                  f"{mass.format_ppm(recovery)} of the {element} in inputs graded "
                  f"{mass.format_ppm(grade)}; above the plausible "
                  f"{mass.format_ppm(ceiling)} for {'low' if low else 'that'} grade")
        for out in ctx.body["outputs"]:
            flags.raise_flag("recovery_high", out["lot_id"], ctx.org.id, ctx.body["site_id"],
                             reason)


def calendar_year(time_ms: int) -> int:
    """The UTC calendar year of a time in ms (integer arithmetic in, integer out)."""
    return datetime.fromtimestamp(time_ms // 1000, tz=UTC).year


def _capacity(ctx: EventContext, flags: _Flags) -> None:
    act = activity(ctx, {})
    assert act is not None                                # register_lot always has one
    licence, _ = covering(ctx.ledger, act, ctx.time_ms)
    if licence is None or not licence.annual_capacity_g:
        return
    b = ctx.body
    year = calendar_year(b["extracted_at_ms"])
    name = f"{CAPACITY}{licence.licence_id}/{year}"
    total = (ctx.ledger.governance(name) or 0) + b["mass_g"]
    ctx.ledger.put_governance(name, total)
    if total > licence.annual_capacity_g:
        flags.raise_flag(
            "over_capacity", b["lot_id"], ctx.org.id, b["site_id"],
            f"{ctx.org.id} has registered {mass.format_mass(total)} extracted in {year} "
            f"under licence {licence.licence_id}, above its licensed annual capacity of "
            f"{mass.format_mass(licence.annual_capacity_g)}")


def latest_extraction(view: LedgerView, lot_id: str) -> int | None:
    """The latest extracted_at_ms among the extractions the lot descends from."""
    latest, stack, seen = None, [lot_id], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        record = view.lot_record(current)
        if record is None:
            continue
        if record["origin"]:
            at = record["origin"]["extracted_at_ms"]
            latest = at if latest is None else max(latest, at)
        stack.extend(record["parents"])
    return latest


def _fast_export(ctx: EventContext, flags: _Flags) -> None:
    lot_id = ctx.body["lot_id"]
    extracted = latest_extraction(ctx.ledger, lot_id)
    if extracted is None:
        return
    age, minimum = ctx.time_ms - extracted, ctx.ledger.param("min_export_age_ms")
    if age < minimum:
        flags.raise_flag("fast_export", lot_id, ctx.org.id, None,
                         f"lot {lot_id} was exported {_duration(age)} after the latest "
                         f"extraction it comes from; faster than the plausible "
                         f"{_duration(minimum)}")


def _duration(ms: int) -> str:
    hours, rest = divmod(max(ms, 0), 3_600_000)
    return f"{hours} h {rest // 60_000} min"


# --- queries --------------------------------------------------------------------------------

def flags_of_lot(view: LedgerView, lot_id: str) -> list[dict[str, Any]]:
    return [_json(rec) for _, rec in view.governance_items(f"{FLAG}{lot_id}/")]


def flags_of_org(view: LedgerView, org_id: str) -> list[dict[str, Any]]:
    return [_json(rec) for _, rec in view.governance_items(f"{FLAG_ORG}{org_id}/")]


def _json(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "tx_id": record["tx_id"].hex()}
