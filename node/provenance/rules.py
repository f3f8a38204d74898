"""The rules of the lot lifecycle: one function per event kind, judged against state.

Each rule reads the ledger, raises RuleError with a reason a person can act on, or
writes the new lot versions and returns the ids of every lot the event touched (the
caller indexes the event under each). Rules run inside a per-tx overlay, so a rule
that fails half way leaves nothing behind. The body has already passed
node.provenance.schema; the signer's key and org have passed admission.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from node.provenance import mass
from node.provenance.ledger import Ledger, OrgRecord, SiteRecord
from node.provenance.lot import ACTIVE, CONSUMED, EXPORTED, IN_TRANSIT, Lot


class RuleError(ValueError):
    """The event breaks a lifecycle rule; the message says which and what to do."""


class EventContext(NamedTuple):
    # A named tuple rather than a frozen dataclass: one is built for every event, and
    # a frozen dataclass sets each field through object.__setattr__ (2 us an event).
    ledger: Ledger
    org: OrgRecord          # the signer's org
    kind: str
    body: dict[str, Any]
    height: int
    time_ms: int
    index: int = 0          # the tx's place in its block, and its id: asset records
    tx_id: bytes = b""      # (royalties, unit events, flags) link back to the tx


Rule = Callable[[EventContext], list[str]]


def apply_event(ctx: EventContext) -> list[str]:
    """Judge and apply one lot event; return the ids of the lots it touched."""
    return _RULES[ctx.kind](ctx)


# --- shared checks --------------------------------------------------------------------

def _require_role(ctx: EventContext, *roles: str) -> None:
    if not set(roles) & set(ctx.org.roles):
        needed = " or ".join(roles)
        have = ", ".join(ctx.org.roles) or "none"
        raise RuleError(f"{ctx.kind} needs the {needed} role; {ctx.org.id} has {have}")


def _own_site(ctx: EventContext, site_id: str, kind: str | None = None) -> SiteRecord:
    site = ctx.ledger.site(site_id)
    if site is None:
        raise RuleError(f"site {site_id} is not registered (gov_add_site registers sites)")
    if site.org != ctx.org.id:
        raise RuleError(f"site {site_id} belongs to {site.org}, not {ctx.org.id}")
    if kind is not None and site.kind != kind:
        raise RuleError(f"{ctx.kind} must happen at a {kind} site; {site_id} is a {site.kind}")
    return site


def _lot(ctx: EventContext, lot_id: str) -> Lot:
    lot = ctx.ledger.lot(lot_id)
    if lot is None:
        raise RuleError(f"lot {lot_id} does not exist (register_lot, split, merge or "
                        "transform create lots)")
    return lot


def _new_lot_id(ctx: EventContext, lot_id: str) -> None:
    existing = ctx.ledger.lot(lot_id)
    if existing is not None:
        raise RuleError(f"lot id {lot_id} is already taken (created at height "
                        f"{existing.created_height}); choose a new id")


def _require_live(lot: Lot) -> None:
    """The lot is still in the network (an assay, flag or hold can still apply to it)."""
    if lot.status == CONSUMED:
        into = ", ".join(lot.children)
        raise RuleError(f"lot {lot.lot_id} was consumed at height {lot.consumed_height} "
                        f"(into {into}); act on the lots made from it")
    if lot.status == EXPORTED:
        assert lot.export is not None
        raise RuleError(f"lot {lot.lot_id} was exported at height {lot.export['height']} "
                        f"(to {lot.export['destination']}); it has left the network")


def _require_not_held(lot: Lot) -> None:
    if lot.hold:
        raise RuleError(f"lot {lot.lot_id} is held by {lot.hold['by']}: {lot.hold['reason']}")


def _movable(ctx: EventContext, lot_id: str) -> Lot:
    """The lot exists, is not held, lies at a site (not in transit, consumed or exported)
    and the signer's org has custody of it: the precondition of every move."""
    lot = _lot(ctx, lot_id)
    _require_not_held(lot)
    _require_live(lot)
    if lot.status == IN_TRANSIT:
        assert lot.transit is not None
        to_org = lot.transit["to_org"]
        raise RuleError(f"lot {lot_id} is in transit to {to_org}; {to_org} must receive it "
                        "first")
    if lot.holder != ctx.org.id:
        raise RuleError(f"lot {lot_id} is held by {lot.holder}, not {ctx.org.id}")
    return lot


def _active_org(ctx: EventContext, org_id: str, what: str) -> OrgRecord:
    org = ctx.ledger.org(org_id)
    if org is None:
        raise RuleError(f"{what} {org_id} is not a registered org")
    if not org.active:
        raise RuleError(f"{what} {org_id} was revoked at height {org.revoked_height}: "
                        f"{org.revoked_reason}")
    return org


def _consume(ctx: EventContext, lot: Lot, children: list[str]) -> None:
    ctx.ledger.put_lot(lot.evolve(status=CONSUMED, children=(*lot.children, *children),
                                  consumed_height=ctx.height, updated_height=ctx.height))


def _create(ctx: EventContext, **fields: Any) -> Lot:
    lot = Lot.new(holder=ctx.org.id, status=ACTIVE, created_height=ctx.height,
                  created_ms=ctx.time_ms, updated_height=ctx.height, **fields)
    ctx.ledger.put_lot(lot)
    return lot


def _update(ctx: EventContext, lot: Lot, **changes: Any) -> None:
    ctx.ledger.put_lot(lot.evolve(updated_height=ctx.height, **changes))


# --- the rules ------------------------------------------------------------------------

def register_lot(ctx: EventContext) -> list[str]:
    b = ctx.body
    _require_role(ctx, "mine")
    site = _own_site(ctx, b["site_id"], "mine")
    if b["mineral"] not in site.minerals:
        raise RuleError(f"site {site.id} produces {', '.join(site.minerals)}, not "
                        f"{b['mineral']}")
    _new_lot_id(ctx, b["lot_id"])
    drift = ctx.ledger.param("max_clock_drift_ms")
    if b["extracted_at_ms"] > ctx.time_ms + drift:
        raise RuleError(f"extracted_at_ms {b['extracted_at_ms']} is after the block time "
                        f"{ctx.time_ms}; check the device clock")
    origin = {"site_id": site.id, "extracted_at_ms": b["extracted_at_ms"],
              "location": b.get("location", site.location)}
    _create(ctx, lot_id=b["lot_id"], mineral=b["mineral"], form=b["form"],
            mass_g=b["mass_g"], site_id=site.id, origin=origin)
    return [b["lot_id"]]


def assay(ctx: EventContext) -> list[str]:
    _require_role(ctx, "lab")
    lot = _lot(ctx, ctx.body["lot_id"])
    _require_live(lot)
    # The newest assay replaces the grade: a re-assay corrects, it does not average.
    _update(ctx, lot, composition=dict(ctx.body["composition"]), composition_source="assay")
    return [lot.lot_id]


def dispatch(ctx: EventContext) -> list[str]:
    b = ctx.body
    lot = _movable(ctx, b["lot_id"])
    to_org = _active_org(ctx, b["to_org"], "recipient")
    if to_org.id == ctx.org.id:
        raise RuleError(f"{ctx.org.id} cannot dispatch lot {lot.lot_id} to itself; "
                        "moves between its own sites need no custody hand-over")
    if "carrier_org" in b:
        carrier = _active_org(ctx, b["carrier_org"], "carrier")
        if "transporter" not in carrier.roles:
            raise RuleError(f"carrier {carrier.id} does not have the transporter role")
    # Custody passes whole lots: a part of a lot must first be split off, so mass is
    # never moved without a record of where the rest went.
    if b["mass_g"] != lot.mass_g:
        raise RuleError(f"dispatch names {mass.format_mass(b['mass_g'])} but lot {lot.lot_id} "
                        f"weighs {mass.format_mass(lot.mass_g)}; dispatch the whole lot or "
                        "split it first")
    transit = {"from_org": ctx.org.id, "from_site": lot.site_id, "to_org": to_org.id,
               "carrier_org": b.get("carrier_org"), "vehicle": b.get("vehicle"),
               "mass_g": b["mass_g"], "height": ctx.height}
    _update(ctx, lot, status=IN_TRANSIT, site_id=None, transit=transit)
    return [lot.lot_id]


def receive(ctx: EventContext) -> list[str]:
    b = ctx.body
    lot = _lot(ctx, b["lot_id"])
    _require_not_held(lot)
    _require_live(lot)
    if lot.status != IN_TRANSIT or lot.transit is None:
        raise RuleError(f"lot {lot.lot_id} is not in transit (it lies at {lot.site_id} with "
                        f"{lot.holder}); it must be dispatched first")
    if lot.transit["to_org"] != ctx.org.id:
        raise RuleError(f"lot {lot.lot_id} is in transit to {lot.transit['to_org']}, not "
                        f"{ctx.org.id}")
    site = _own_site(ctx, b["site_id"])
    dispatched, received = lot.transit["mass_g"], b["mass_g"]
    tolerance = ctx.ledger.param("loss_tolerance_ppm")
    flags = lot.flags
    if received > dispatched and mass.exceeds_tolerance(received - dispatched, dispatched,
                                                        tolerance):
        gain = received - dispatched
        raise RuleError(
            f"received {mass.format_mass(received)} of lot {lot.lot_id} but "
            f"{mass.format_mass(dispatched)} was dispatched: a gain of "
            f"{mass.format_mass(gain)} ({mass.format_ppm(mass.ratio_ppm(gain, dispatched))}) "
            f"is beyond the {mass.format_ppm(tolerance)} weighing tolerance; re-weigh, or "
            "register the extra material as a lot of its own")
    if dispatched > received and mass.exceeds_tolerance(dispatched - received, dispatched,
                                                        tolerance):
        loss = dispatched - received
        flags = (*flags, {
            "source": "receive", "by": ctx.org.id, "height": ctx.height,
            "reason": f"transport loss of {mass.format_mass(loss)} "
                      f"({mass.format_ppm(mass.ratio_ppm(loss, dispatched))}) from "
                      f"{lot.transit['from_org']} to {ctx.org.id} exceeds the "
                      f"{mass.format_ppm(tolerance)} tolerance",
        })
    _update(ctx, lot, status=ACTIVE, holder=ctx.org.id, site_id=site.id, mass_g=received,
            transit=None, flags=flags)
    return [lot.lot_id]


def split(ctx: EventContext) -> list[str]:
    b = ctx.body
    parent = _movable(ctx, b["lot_id"])
    children = b["children"]
    total = sum(child["mass_g"] for child in children)
    if total != parent.mass_g:
        raise RuleError(f"children total {mass.format_mass(total)} but lot {parent.lot_id} "
                        f"weighs {mass.format_mass(parent.mass_g)}; a split must conserve "
                        f"mass exactly (difference {mass.format_mass(total - parent.mass_g)})")
    for child in children:
        _new_lot_id(ctx, child["lot_id"])
    ids = [child["lot_id"] for child in children]
    _consume(ctx, parent, ids)
    for child in children:
        _create(ctx, lot_id=child["lot_id"], mineral=parent.mineral, form=parent.form,
                mass_g=child["mass_g"], site_id=parent.site_id,
                composition=dict(parent.composition),
                composition_source="split" if parent.composition else "",
                parents=(parent.lot_id,))
    return [parent.lot_id, *ids]


def merge(ctx: EventContext) -> list[str]:
    b = ctx.body
    parents = [_movable(ctx, lot_id) for lot_id in b["lot_ids"]]
    first = parents[0]
    for lot in parents[1:]:
        if lot.mineral != first.mineral:
            raise RuleError(f"cannot merge {lot.mineral} lot {lot.lot_id} with {first.mineral} "
                            f"lot {first.lot_id}; a merge blends one mineral")
        if lot.site_id != first.site_id:
            raise RuleError(f"lot {lot.lot_id} lies at {lot.site_id} and lot {first.lot_id} at "
                            f"{first.site_id}; bring them to one site before merging")
    forms = sorted({lot.form for lot in parents})
    if "form" in b:
        form = b["form"]
    elif len(forms) == 1:
        form = forms[0]
    else:
        raise RuleError(f"the lots have different forms ({', '.join(forms)}); name the merged "
                        "lot's form in the body's form field")
    _new_lot_id(ctx, b["new_lot_id"])
    for lot in parents:
        _consume(ctx, lot, [b["new_lot_id"]])
    _create(ctx, lot_id=b["new_lot_id"], mineral=first.mineral, form=form,
            mass_g=sum(lot.mass_g for lot in parents), site_id=first.site_id,
            composition=mass.weighted_composition((lot.mass_g, lot.composition)
                                                  for lot in parents),
            composition_source="merge", parents=tuple(b["lot_ids"]))
    return [*b["lot_ids"], b["new_lot_id"]]


def transform(ctx: EventContext) -> list[str]:
    b = ctx.body
    _require_role(ctx, "refinery")
    site = _own_site(ctx, b["site_id"], "refinery")
    inputs = [_movable(ctx, lot_id) for lot_id in b["inputs"]]
    for lot in inputs:
        if lot.site_id != site.id:
            raise RuleError(f"lot {lot.lot_id} lies at {lot.site_id}, not at the refinery "
                            f"site {site.id}")
    outputs = b["outputs"]
    for out in outputs:
        _new_lot_id(ctx, out["lot_id"])
    # Unassayed inputs bring no metal: only assayed grades can back refined output.
    metal_in = mass.contained_metal((lot.mass_g, lot.composition) for lot in inputs)
    metal_out = mass.contained_metal((out["mass_g"], out["composition"]) for out in outputs)
    tolerance = ctx.ledger.param("transform_tolerance_ppm")
    for element in sorted(metal_out):
        have, made = metal_in.get(element, 0), metal_out[element]
        if made * mass.PPM > have * (mass.PPM + tolerance):
            raise RuleError(
                f"transform creates {mass.format_metal(made - have)} of {element} not present "
                f"in inputs (inputs contain {mass.format_metal(have)}, outputs "
                f"{mass.format_metal(made)}; tolerance {mass.format_ppm(tolerance)})")
    recovery = {element: mass.ratio_ppm(metal_out.get(element, 0), have)
                for element, have in sorted(metal_in.items()) if have > 0}
    ids = [out["lot_id"] for out in outputs]
    for lot in inputs:
        _consume(ctx, lot, ids)
    for out in outputs:
        _create(ctx, lot_id=out["lot_id"], mineral=out["mineral"], form=out["form"],
                mass_g=out["mass_g"], site_id=site.id, composition=dict(out["composition"]),
                composition_source="transform", parents=tuple(b["inputs"]),
                recovery_ppm=recovery)
    return [*b["inputs"], *ids]


def export(ctx: EventContext) -> list[str]:
    b = ctx.body
    _require_role(ctx, "exporter")
    lot = _movable(ctx, b["lot_id"])
    record = {"destination": b["destination"], "buyer": b["buyer"],
              "permit_ref": b["permit_ref"], "height": ctx.height, "time_ms": ctx.time_ms}
    if "declared_value" in b:
        record["declared_value"] = dict(b["declared_value"])
    _update(ctx, lot, status=EXPORTED, export=record)
    return [lot.lot_id]


def attest(ctx: EventContext) -> list[str]:
    _require_role(ctx, "auditor", "regulator")
    lot = _lot(ctx, ctx.body["lot_id"])
    # Findings may concern history, so consumed and exported lots can be attested too.
    finding = {"by": ctx.org.id, "standard": ctx.body["standard"],
               "finding": ctx.body["finding"], "height": ctx.height}
    _update(ctx, lot, attestations=(*lot.attestations, finding))
    return [lot.lot_id]


def flag(ctx: EventContext) -> list[str]:
    _require_role(ctx, "auditor", "regulator")
    lot = _lot(ctx, ctx.body["lot_id"])
    entry = {"source": "flag", "by": ctx.org.id, "reason": ctx.body["reason"],
             "height": ctx.height}
    _update(ctx, lot, flags=(*lot.flags, entry))
    return [lot.lot_id]


def hold(ctx: EventContext) -> list[str]:
    _require_role(ctx, "regulator")
    lot = _lot(ctx, ctx.body["lot_id"])
    _require_live(lot)
    if lot.hold:
        raise RuleError(f"lot {lot.lot_id} is already held by {lot.hold['by']} since height "
                        f"{lot.hold['height']}: {lot.hold['reason']}")
    _update(ctx, lot, hold={"by": ctx.org.id, "reason": ctx.body["reason"],
                            "height": ctx.height})
    return [lot.lot_id]


def release(ctx: EventContext) -> list[str]:
    _require_role(ctx, "regulator")
    lot = _lot(ctx, ctx.body["lot_id"])
    if not lot.hold:
        raise RuleError(f"lot {lot.lot_id} is not held; there is nothing to release")
    _update(ctx, lot, hold=None)
    return [lot.lot_id]


_RULES: dict[str, Rule] = {
    "register_lot": register_lot,
    "assay": assay,
    "dispatch": dispatch,
    "receive": receive,
    "split": split,
    "merge": merge,
    "transform": transform,
    "export": export,
    "attest": attest,
    "flag": flag,
    "hold": hold,
    "release": release,
}
