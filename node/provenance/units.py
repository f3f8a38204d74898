"""Lot-backed units: grams of one element contained in one lot, held by accounts.

`tokenize` lets the holder of an active, assayed lot issue units (1 unit = 1 g of the
element) up to the metal the assays prove through the provenance graph (`proven_metal`);
`transfer_units` moves them to the lot's holder or to an investor admitted by a
regulator's KYC attestation; `redeem_units` burns them. While units are outstanding the
lot cannot be split, merged, transformed or exported (`guard`): custody moves (dispatch,
receive) carry them along, everything else needs them redeemed first. A hold on the lot
freezes transfers and redemptions.

Unit state is kept apart from the lot record (the lot_get answer and what a light
client replays from a provenance answer stay exactly what they were), under governance
names `units/<lot>`, `units-acct/<org>/<lot>`, `units-ev/<lot>/<height><index>` and
`account/<org>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from node.provenance import mass
from node.provenance.ledger import LedgerView
from node.provenance.lot import Lot
from node.provenance.rules import (
    EventContext,
    RuleError,
    _active_org,
    _lot,
    _movable,
    _require_role,
)

UNITS = "units/"
ACCOUNT_UNITS = "units-acct/"
UNIT_EVENTS = "units-ev/"
ACCOUNT = "account/"
KYC = "KYC"
INVESTOR = "investor"
# What a lot with units outstanding may not do, and why (the reason names the fix).
LOCKED_KINDS = ("split", "merge", "transform", "export")


# --- records ------------------------------------------------------------------------------

def units_record(view: LedgerView, lot_id: str) -> dict[str, Any] | None:
    """{lot_id, element, supply, holders {org: units}, tokenized_height} or None."""
    record: dict[str, Any] | None = view.governance(f"{UNITS}{lot_id}")
    return record


def outstanding(view: LedgerView, lot_id: str) -> int:
    record = units_record(view, lot_id)
    return record["supply"] if record else 0


def balances_of(view: LedgerView, org_id: str) -> dict[str, int]:
    """{lot_id: units} the account holds (lots with a zero balance left out)."""
    prefix = f"{ACCOUNT_UNITS}{org_id}/"
    return {name[len(prefix):]: units for name, units in view.governance_items(prefix)}


def unit_events(view: LedgerView, lot_id: str) -> list[tuple[int, int, bytes]]:
    """(height, index, tx_id) of every accepted unit event of the lot, in chain order."""
    prefix = f"{UNIT_EVENTS}{lot_id}/"
    return [(int(name[len(prefix):len(prefix) + 20]), int(name[len(prefix) + 20:]), tx_id)
            for name, tx_id in view.governance_items(prefix)]


def kyc(view: LedgerView, org_id: str) -> dict[str, Any] | None:
    account = view.governance(f"{ACCOUNT}{org_id}")
    return account.get("kyc") if account else None


def _put_balance(ctx: EventContext, record: dict[str, Any], org_id: str, delta: int) -> None:
    holders = record["holders"]
    balance = holders.get(org_id, 0) + delta
    name = f"{ACCOUNT_UNITS}{org_id}/{record['lot_id']}"
    if balance:
        holders[org_id] = balance
        ctx.ledger.put_governance(name, balance)
    else:
        holders.pop(org_id, None)
        ctx.ledger.delete_governance(name)


def _save(ctx: EventContext, record: dict[str, Any]) -> None:
    ctx.ledger.put_governance(f"{UNITS}{record['lot_id']}", record)
    ctx.ledger.put_governance(
        f"{UNIT_EVENTS}{record['lot_id']}/{ctx.height:020d}{ctx.index:010d}", ctx.tx_id)


def _holders_text(record: Mapping[str, Any]) -> str:
    return ", ".join(f"{org} {n}" for org, n in sorted(record["holders"].items()))


# --- proven metal -------------------------------------------------------------------------

def proven_metal(view: LedgerView, lot_id: str, element: str) -> int:
    """Gram-ppm of `element` in the lot that assays prove through the provenance graph.

    A lot assayed itself proves mass * grade. A lot made by split, merge or transform
    proves at most its own declared metal and at most its share of what its parents
    proved: each parent's proven metal is divided among that parent's children in
    proportion to their declared metal (floor, so a share never rounds up). An
    unassayed extraction proves nothing. Iterative post-order: refining chains are deep.
    """
    proven: dict[str, int] = {}
    lots: dict[str, Lot] = {}
    stack = [(lot_id, False)]
    while stack:
        current, expanded = stack.pop()
        if current in proven:
            continue
        lot = lots.get(current) or view.lot(current)
        if lot is None:
            proven[current] = 0
            continue
        lots[current] = lot
        own = lot.mass_g * lot.composition.get(element, 0)
        if lot.composition_source == "assay" or not lot.parents:
            proven[current] = own if lot.composition_source == "assay" else 0
        elif not expanded:
            stack.append((current, True))
            stack.extend((p, False) for p in lot.parents if p not in proven)
        else:
            backed = sum(_share(view, lots, proven, parent, own, element)
                         for parent in lot.parents)
            proven[current] = min(own, backed)
    return proven[lot_id]


def _share(view: LedgerView, lots: dict[str, Lot], proven: Mapping[str, int], parent: str,
           own: int, element: str) -> int:
    parent_lot = lots.get(parent)
    if parent_lot is None:
        return 0
    siblings = [lots.get(c) or view.lot(c) for c in parent_lot.children]
    declared = sum(s.mass_g * s.composition.get(element, 0) for s in siblings if s)
    return proven[parent] * own // declared if declared else 0


# --- the rules -----------------------------------------------------------------------------

def tokenize(ctx: EventContext) -> None:
    b = ctx.body
    lot = _movable(ctx, b["lot_id"])
    element = b["element"]
    if element not in lot.composition:
        assayed = ", ".join(sorted(lot.composition)) or "nothing"
        raise RuleError(f"lot {lot.lot_id} has no assayed {element} (its composition "
                        f"lists {assayed}); assay it before tokenizing")
    record = units_record(ctx.ledger, lot.lot_id) or {
        "lot_id": lot.lot_id, "element": element, "supply": 0, "holders": {},
        "tokenized_height": ctx.height}
    if record["element"] != element:
        raise RuleError(f"lot {lot.lot_id} is already tokenized in {record['element']}; "
                        "a lot backs units of one element")
    proven = proven_metal(ctx.ledger, lot.lot_id, element) // mass.PPM
    if record["supply"] + b["units"] > proven:
        raise RuleError(
            f"tokenizing {b['units']} units (g of {element}) would put more metal in units "
            f"than the assays of lot {lot.lot_id} prove: {proven} g proven, "
            f"{record['supply']} units already issued")
    record["supply"] += b["units"]
    _put_balance(ctx, record, ctx.org.id, b["units"])
    _save(ctx, record)


def transfer_units(ctx: EventContext) -> None:
    b = ctx.body
    lot, record = _unit_lot(ctx)
    to_org = _active_org(ctx, b["to_org"], "recipient")
    if to_org.id == ctx.org.id:
        raise RuleError(f"{ctx.org.id} cannot transfer units to itself")
    if to_org.id != lot.holder:
        if INVESTOR not in to_org.roles:
            raise RuleError(f"units of lot {lot.lot_id} go to the lot's holder "
                            f"({lot.holder}) or to an investor; {to_org.id} has neither role")
        if kyc(ctx.ledger, to_org.id) is None:
            raise RuleError(f"investor {to_org.id} has no KYC attestation; a regulator "
                            f"attests it (attest with org_id and standard {KYC}) first")
    _debit(ctx, record, b["units"])
    _put_balance(ctx, record, to_org.id, b["units"])
    _save(ctx, record)


def redeem_units(ctx: EventContext) -> None:
    _, record = _unit_lot(ctx)
    _debit(ctx, record, ctx.body["units"])
    record["supply"] -= ctx.body["units"]
    _save(ctx, record)


def _unit_lot(ctx: EventContext) -> tuple[Lot, dict[str, Any]]:
    lot = _lot(ctx, ctx.body["lot_id"])
    record = units_record(ctx.ledger, lot.lot_id)
    if record is None or record["supply"] == 0:
        raise RuleError(f"lot {lot.lot_id} has no units outstanding")
    if lot.hold:
        raise RuleError(f"units of lot {lot.lot_id} are frozen: the lot is held by "
                        f"{lot.hold['by']}: {lot.hold['reason']}")
    return lot, record


def _debit(ctx: EventContext, record: dict[str, Any], units: int) -> None:
    have = record["holders"].get(ctx.org.id, 0)
    if units > have:
        raise RuleError(f"{ctx.org.id} holds {have} units of lot {record['lot_id']}, not "
                        f"{units}")
    _put_balance(ctx, record, ctx.org.id, -units)


def attest_account(ctx: EventContext) -> None:
    """An attest naming an org (not a lot): a finding about an account. A regulator's
    with standard KYC admits an investor to hold units."""
    b = ctx.body
    if b["standard"] == KYC:
        _require_role(ctx, "regulator")
    else:
        _require_role(ctx, "auditor", "regulator")
    org = _active_org(ctx, b["org_id"], "account")
    name = f"{ACCOUNT}{org.id}"
    account = ctx.ledger.governance(name) or {"org": org.id, "attestations": []}
    finding = {"by": ctx.org.id, "standard": b["standard"], "finding": b["finding"],
               "height": ctx.height, "index": ctx.index, "tx_id": ctx.tx_id}
    account["attestations"].append(finding)
    if b["standard"] == KYC:
        account["kyc"] = finding
    ctx.ledger.put_governance(name, account)


def guard(ctx: EventContext, before: Iterable[Lot | None]) -> None:
    """Reject a split, merge, transform or export of a lot with units outstanding."""
    if ctx.kind not in LOCKED_KINDS:
        return
    for lot in before:
        record = units_record(ctx.ledger, lot.lot_id) if lot is not None else None
        if record and record["supply"]:
            raise RuleError(
                f"lot {record['lot_id']} has {record['supply']} units of {record['element']} "
                f"outstanding (held by {_holders_text(record)}); they must be redeemed "
                f"(redeem_units) before the lot can be {_PAST[ctx.kind]}")


_PAST = {"split": "split", "merge": "merged", "transform": "transformed",
         "export": "exported"}

