"""Licences: what an org may do, where, with which minerals, until when.

A licence is granted by the admin quorum (`grant_licence`, or the genesis `licences`)
and ends at `expires_at_ms` or at `revoke_licence`. Its scope is roles, sites (none
listed: every site of the org) and minerals (none listed: every mineral). Validity is
judged against the BLOCK time, never a clock, so every node reaches the same verdict.

With the network parameter `licences_required` = 1 the licensed activities below are
rejected outside a valid licence; with 0 (the default, so existing networks keep their
meaning) licences are still recorded and the compliance watch still counts a mine's
output against its licensed annual capacity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from node.provenance.ledger import Decoded, Ledger, LedgerView, load_record
from node.provenance.lot import Lot
from node.provenance.rules import EventContext, RuleError

LICENCE = "licence/"          # governance name: licence/<org>/<licence_id>
LICENCE_ORG = "licence-org/"  # governance name: licence-org/<licence_id> -> org


@dataclass(frozen=True)
class Licence:
    licence_id: str
    org: str
    roles: tuple[str, ...]
    sites: tuple[str, ...]            # empty: every site of the org
    minerals: tuple[str, ...]         # empty: every mineral
    expires_at_ms: int
    annual_capacity_g: int            # 0: no capacity stated
    granted_height: int
    revoked_height: int | None = None
    revoked_reason: str = ""

    def to_record(self) -> dict[str, Any]:
        return {"licence_id": self.licence_id, "org": self.org, "roles": list(self.roles),
                "sites": list(self.sites), "minerals": list(self.minerals),
                "expires_at_ms": self.expires_at_ms,
                "annual_capacity_g": self.annual_capacity_g,
                "granted_height": self.granted_height, "revoked_height": self.revoked_height,
                "revoked_reason": self.revoked_reason}

    def gap(self, role: str, site: str | None, minerals: Iterable[str], time_ms: int) -> str:
        """Why this licence does not cover the activity, or "" if it does."""
        if self.revoked_height is not None:
            return f"{self.licence_id} was revoked at height {self.revoked_height}: " \
                   f"{self.revoked_reason}"
        if time_ms >= self.expires_at_ms:
            return f"{self.licence_id} expired at {self.expires_at_ms} ms"
        if role not in self.roles:
            return f"{self.licence_id} covers {', '.join(self.roles)}, not {role}"
        if site is not None and self.sites and site not in self.sites:
            return f"{self.licence_id} does not cover site {site}"
        outside = sorted(set(minerals) - set(self.minerals)) if self.minerals else []
        if outside:
            return f"{self.licence_id} does not cover {', '.join(outside)}"
        return ""


def licence_from_body(body: Mapping[str, Any], org: str, height: int) -> Licence:
    """A licence from a grant_licence body or a genesis `licences` entry."""
    return Licence(licence_id=body["licence_id"], org=org, roles=tuple(body["roles"]),
                   sites=tuple(body.get("sites", ())), minerals=tuple(body.get("minerals", ())),
                   expires_at_ms=body["expires_at_ms"],
                   annual_capacity_g=body.get("annual_capacity_g", 0), granted_height=height)


def put_licence(ledger: Ledger, licence: Licence) -> None:
    ledger.put_governance(f"{LICENCE}{licence.org}/{licence.licence_id}", licence.to_record())
    ledger.put_governance(f"{LICENCE_ORG}{licence.licence_id}", licence.org)


def licence(view: LedgerView, licence_id: str) -> Licence | None:
    org = view.governance(f"{LICENCE_ORG}{licence_id}")
    if org is None:
        return None
    return _from_record(view.governance(f"{LICENCE}{org}/{licence_id}"))


def licences_of(view: LedgerView, org_id: str) -> list[Licence]:
    """Every licence ever granted to `org_id`, revoked and expired ones included."""
    return view.governance_values(f"{LICENCE}{org_id}/", _LICENCES)


def _from_record(rec: dict[str, Any]) -> Licence:
    return Licence(**{k: tuple(v) if isinstance(v, list) else v for k, v in rec.items()})


# Every register_lot reads its mine's licences twice (the licence check and the
# capacity watch); Licence is frozen, so the decoded ones are shared.
_LICENCES = Decoded(lambda raw: _from_record(load_record(raw)))


# --- governance actions -----------------------------------------------------------------

def grant(ledger: Ledger, body: dict[str, Any], height: int) -> None:
    org = ledger.org(body["org_id"])
    if org is None or not org.active:
        raise RuleError(f"org {body['org_id']} is not an active registered org")
    if licence(ledger, body["licence_id"]) is not None:
        raise RuleError(f"licence id {body['licence_id']} is already taken; choose a new id "
                        "(a renewal is a new licence)")
    for site_id in body.get("sites", ()):
        site = ledger.site(site_id)
        if site is None or site.org != org.id:
            raise RuleError(f"site {site_id} is not a site of {org.id}")
    put_licence(ledger, licence_from_body(body, org.id, height))


def revoke(ledger: Ledger, body: dict[str, Any], height: int) -> None:
    found = licence(ledger, body["licence_id"])
    if found is None:
        raise RuleError(f"licence {body['licence_id']} was never granted")
    if found.revoked_height is not None:
        raise RuleError(f"licence {found.licence_id} was already revoked at height "
                        f"{found.revoked_height}")
    put_licence(ledger, replace(found, revoked_height=height, revoked_reason=body["reason"]))


# --- the activities that need a licence ---------------------------------------------------

class Activity(NamedTuple):
    org: str
    role: str
    site: str | None
    minerals: tuple[str, ...]


def activity(ctx: EventContext, before: Mapping[str, Lot | None]) -> Activity | None:
    """The licensed activity an accepted lot event exercises, or None. `before` holds
    the lots the body names as they were before the event (their minerals)."""
    b = ctx.body
    if ctx.kind == "register_lot":
        return Activity(ctx.org.id, "mine", b["site_id"], (b["mineral"],))
    mineral = _mineral_of(before, b.get("lot_id"))
    if ctx.kind == "assay" and mineral:
        return Activity(ctx.org.id, "lab", None, mineral)
    if ctx.kind == "export" and mineral:
        return Activity(ctx.org.id, "exporter", None, mineral)
    if ctx.kind == "dispatch" and "carrier_org" in b and mineral:
        # The carrier does not sign the dispatch, but the shipper names it: carrying
        # ore for an unlicensed transporter is the shipper's fault to catch.
        return Activity(b["carrier_org"], "transporter", None, mineral)
    if ctx.kind == "transform":
        minerals = {lot.mineral for lot in before.values() if lot is not None}
        minerals |= {out["mineral"] for out in b["outputs"]}
        return Activity(ctx.org.id, "refinery", b["site_id"], tuple(sorted(minerals)))
    return None


def _mineral_of(before: Mapping[str, Lot | None], lot_id: str | None) -> tuple[str, ...]:
    lot = before.get(lot_id) if lot_id else None
    return (lot.mineral,) if lot is not None else ()


def covering(view: LedgerView, act: Activity, time_ms: int) -> tuple[Licence | None, list[str]]:
    """The first valid licence (in id order) covering `act`, and why each other does not."""
    gaps = []
    for lic in licences_of(view, act.org):
        gap = lic.gap(act.role, act.site, act.minerals, time_ms)
        if not gap:
            return lic, gaps
        gaps.append(gap)
    return None, gaps


def check(ctx: EventContext, before: Mapping[str, Lot | None]) -> None:
    """Reject the event if licences are required and none covers what it does."""
    act = activity(ctx, before)
    if act is None or not ctx.ledger.param("licences_required"):
        return
    found, gaps = covering(ctx.ledger, act, ctx.time_ms)
    if found is None:
        where = f" at site {act.site}" if act.site else ""
        why = "; ".join(gaps) if gaps else "it holds no licence"
        raise RuleError(f"{act.org} has no valid licence for {ctx.kind} ({act.role}{where}, "
                        f"{', '.join(act.minerals)}) at block time {ctx.time_ms}: {why}")
