"""Governance txs: the admin board adds and revokes orgs, sites and keys, rotates keys,
schedules validator-set changes, grants and revokes licences and sets the royalty
schedule (docs/assets.md), by an m-of-n quorum of admin signatures.

Authority comes from the `approvals` in the body, not from the tx signer (any
registered key may carry a governance tx to the chain). Each approval is an Ed25519
signature by an admin key over

    approval_message = canonical msgpack of
        ["orechain/gov/v1", chain_id, kind, body without its "approvals" field]

so an approval cannot be replayed on another chain, as another kind, or with any
field changed. A governance action applies at most once: the hash of its approval
message is recorded, and the same action submitted again is rejected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node import codec
from node.crypto.keys import PrivateKey, verify
from node.merkle import sha256
from node.provenance import licences, royalties
from node.provenance.ledger import KeyRecord, Ledger, OrgRecord, SiteRecord
from node.provenance.rules import RuleError
from node.types.genesis import gln_check_digit

DOMAIN = "orechain/gov/v1"
VALIDATORS = "validators"          # governance_key: the latest scheduled validator set
VALIDATORS_AT = "validators@"      # + 20-digit effective height: every scheduled set


def approval_message(chain_id: str, kind: str, body: dict[str, Any]) -> bytes:
    """The bytes every admin approval signs (see the module docstring)."""
    unsigned = {name: value for name, value in body.items() if name != "approvals"}
    return codec.encode([DOMAIN, chain_id, kind, unsigned])


def approve(key: PrivateKey, chain_id: str, kind: str, body: dict[str, Any]) -> dict[str, str]:
    """One admin's approval entry for `body`, as it goes into body["approvals"]."""
    signature = key.sign(approval_message(chain_id, kind, body))
    return {"key": key.public_key.hex(), "signature": signature.hex()}


def apply_governance(ledger: Ledger, chain_id: str, kind: str, body: dict[str, Any],
                     height: int) -> None:
    """Check the admin quorum, then apply the action; RuleError if either fails."""
    message = approval_message(chain_id, kind, body)
    _check_quorum(ledger, message, body["approvals"])
    done = f"applied/{sha256(message).hex()}"
    applied_at = ledger.governance(done)
    if applied_at is not None:
        raise RuleError(f"this governance action was already applied at height {applied_at}")
    _ACTIONS[kind](ledger, body, height)
    ledger.put_governance(done, height)


def _check_quorum(ledger: Ledger, message: bytes, approvals: list[dict[str, str]]) -> None:
    admin = ledger.admin()
    for i, approval in enumerate(approvals):
        key = bytes.fromhex(approval["key"])
        short = approval["key"][:16]
        if key not in admin.keys:
            raise RuleError(f"approvals[{i}]: key {short}… is not an admin key")
        record = ledger.signer(key)
        if record is not None and not record.active:
            raise RuleError(f"approvals[{i}]: admin key {short}… was revoked at height "
                            f"{record.revoked_height}")
        if not verify(key, message, bytes.fromhex(approval["signature"])):
            raise RuleError(f"approvals[{i}]: the signature of key {short}… does not cover "
                            "this action (sign governance.approval_message of the body "
                            "without approvals)")
    if len(approvals) < admin.threshold:
        raise RuleError(f"governance needs {admin.threshold} admin approvals, got "
                        f"{len(approvals)}")


# --- helpers ----------------------------------------------------------------------------

def _active_org(ledger: Ledger, org_id: str) -> OrgRecord:
    org = ledger.org(org_id)
    if org is None:
        raise RuleError(f"org {org_id} is not registered")
    if not org.active:
        raise RuleError(f"org {org_id} was revoked at height {org.revoked_height}")
    return org


def _register_key(ledger: Ledger, key_hex: str, org_id: str, height: int) -> None:
    key = bytes.fromhex(key_hex)
    existing = ledger.signer(key)
    if existing is not None:
        # Revoked keys are never reused: a leaked key must stay dead.
        state = "active" if existing.active else f"revoked at height {existing.revoked_height}"
        raise RuleError(f"key {key_hex[:16]}… is already registered to {existing.org} "
                        f"({state}); generate a new key")
    ledger.put_signer(key, KeyRecord(org=org_id, active=True, added_height=height))


def _revoke_key(ledger: Ledger, key: bytes, reason: str, height: int) -> KeyRecord:
    record = ledger.signer(key)
    if record is None:
        raise RuleError(f"key {key.hex()[:16]}… is not registered")
    if not record.active:
        raise RuleError(f"key {key.hex()[:16]}… was already revoked at height "
                        f"{record.revoked_height}")
    ledger.put_signer(key, KeyRecord(org=record.org, active=False,
                                     added_height=record.added_height,
                                     revoked_height=height, revoked_reason=reason))
    return record


# --- the actions ------------------------------------------------------------------------

def add_org(ledger: Ledger, body: dict[str, Any], height: int) -> None:
    if ledger.org(body["org_id"]) is not None:
        raise RuleError(f"org id {body['org_id']} is already taken")
    ledger.put_org(OrgRecord(id=body["org_id"], name=body["name"], roles=tuple(body["roles"]),
                             active=True, added_height=height))
    for key in body["keys"]:
        _register_key(ledger, key, body["org_id"], height)


def add_site(ledger: Ledger, body: dict[str, Any], height: int) -> None:
    if ledger.site(body["site_id"]) is not None:
        raise RuleError(f"site id {body['site_id']} is already taken")
    _active_org(ledger, body["org_id"])
    minerals = tuple(body.get("minerals", ()))
    if body["kind"] == "mine" and not minerals:
        raise RuleError("a mine site must list the minerals it produces (minerals field)")
    gln = body.get("gln", "")
    if gln and gln_check_digit(gln[:12]) != int(gln[12]):
        raise RuleError(f"GLN {gln} has a wrong check digit (expected "
                        f"{gln_check_digit(gln[:12])})")
    # A GLN names one place: EPCIS documents locate events by it.
    holder = next((site.id for site in ledger.sites() if site.gln == gln), None) if gln else None
    if holder is not None:
        raise RuleError(f"GLN {gln} is already the GLN of site {holder}")
    ledger.put_site(SiteRecord(id=body["site_id"], org=body["org_id"], kind=body["kind"],
                               name=body["name"], minerals=minerals,
                               location=body.get("location"), gln=gln, added_height=height))


def add_key(ledger: Ledger, body: dict[str, Any], height: int) -> None:
    _active_org(ledger, body["org_id"])
    _register_key(ledger, body["key"], body["org_id"], height)


def revoke_key(ledger: Ledger, body: dict[str, Any], height: int) -> None:
    _revoke_key(ledger, bytes.fromhex(body["key"]), body["reason"], height)


def rotate_key(ledger: Ledger, body: dict[str, Any], height: int) -> None:
    _active_org(ledger, body["org_id"])
    old = bytes.fromhex(body["old_key"])
    record = ledger.signer(old)
    if record is not None and record.org != body["org_id"]:
        raise RuleError(f"key {body['old_key'][:16]}… belongs to {record.org}, not "
                        f"{body['org_id']}")
    _revoke_key(ledger, old, "rotated", height)
    _register_key(ledger, body["new_key"], body["org_id"], height)


def revoke_org(ledger: Ledger, body: dict[str, Any], height: int) -> None:
    org = _active_org(ledger, body["org_id"])
    ledger.put_org(OrgRecord(id=org.id, name=org.name, roles=org.roles, active=False,
                             added_height=org.added_height, revoked_height=height,
                             revoked_reason=body["reason"]))
    for key in ledger.keys_of(org.id):
        record = ledger.signer(key)
        if record is not None and record.active:
            _revoke_key(ledger, key, f"org revoked: {body['reason']}", height)


def set_validators(ledger: Ledger, body: dict[str, Any], height: int) -> None:
    names = [v["name"] for v in body["validators"]]
    if len(set(names)) != len(names):
        raise RuleError("validator names must be distinct")
    for v in body["validators"]:
        _active_org(ledger, v["org_id"])
    # The tx is final at `height`; the set takes effect a fixed delay later so every
    # validator learns of it before it must use it.
    effective = height + ledger.param("validator_change_delay")
    scheduled = {
        "requested_height": height,
        "effective_height": effective,
        "validators": [{"name": v["name"], "org": v["org_id"],
                        "node_key": bytes.fromhex(v["node_key"]), "power": v["power"]}
                       for v in body["validators"]],
    }
    ledger.put_governance(VALIDATORS, scheduled)
    ledger.put_governance(f"{VALIDATORS_AT}{effective:020d}", scheduled)


_ACTIONS: dict[str, Callable[[Ledger, dict[str, Any], int], None]] = {
    "gov_add_org": add_org,
    "gov_add_site": add_site,
    "gov_add_key": add_key,
    "gov_revoke_key": revoke_key,
    "gov_rotate_key": rotate_key,
    "gov_revoke_org": revoke_org,
    "gov_set_validators": set_validators,
    "grant_licence": licences.grant,
    "revoke_licence": licences.revoke,
    "set_royalty_schedule": royalties.set_schedule,
}
