"""Governance by admin quorum: orgs, sites, keys, rotation, revocation, validator sets."""

from __future__ import annotations

import pytest

from node.crypto import PrivateKey
from node.epcis.directory import Directory
from node.epcis.identifiers import IdentifierError, gln_uri
from node.provenance.ledger import LedgerView
from node.state import approval_message, approve
from node.store import keys
from tests.provenance.lotchain import Chain, org_key

NEW_KEY = PrivateKey(b"\x11" * 32)
CU = "PK-CU-2026-0001"


def register_body(lot_id: str = CU, site: str = "mine-1-pit-a") -> dict[str, object]:
    return {"lot_id": lot_id, "mineral": "copper", "form": "ore", "mass_g": 1_000,
            "site_id": site, "extracted_at_ms": 1795132800000}


def add_mine_4(chain: Chain) -> None:
    results = chain.block(
        chain.gov("gov_add_org", {"org_id": "mine-4", "name": "Reko Diq (test)",
                                  "roles": ["mine"], "keys": [NEW_KEY.public_key.hex()]}),
        chain.gov("gov_add_site", {"site_id": "mine-4-pit", "org_id": "mine-4", "kind": "mine",
                                   "name": "Reko Diq pit", "minerals": ["copper"],
                                   "gln": "8960000000108"}))
    assert all(r.accepted for r in results), results


def test_quorum_adds_an_org_and_site_that_can_then_act() -> None:
    chain = Chain()
    add_mine_4(chain)
    chain.ok(NEW_KEY, "register_lot", register_body(site="mine-4-pit"))
    assert chain.lot(CU)["holder"] == "mine-4"


def test_a_site_added_by_governance_is_located_by_its_gln() -> None:
    chain = Chain()
    add_mine_4(chain)
    directory = Directory.from_state(LedgerView(chain.kv))
    assert directory.site("urn:epc:id:sgln:896000.000010.0") == "mine-4-pit"
    assert directory.org("urn:epc:id:pgln:896000.000010") == "mine-4"
    assert directory.site_uri("mine-4-pit") == gln_uri("8960000000108")
    assert directory.site(gln_uri("8960000000016")) == "mine-1-pit-a"    # a genesis site
    with pytest.raises(IdentifierError, match="not the GLN of any registered site"):
        directory.site("urn:epc:id:sgln:896000.000011.0")


def test_a_gln_already_carried_by_a_site_is_refused() -> None:
    chain = Chain()
    add_mine_4(chain)
    body = {"site_id": "mine-4-stockpile", "org_id": "mine-4", "kind": "warehouse",
            "name": "Reko Diq stockpile"}
    [taken] = chain.block(chain.gov("gov_add_site", {**body, "gln": "8960000000108"}))
    assert taken.reason == "GLN 8960000000108 is already the GLN of site mine-4-pit"
    [genesis_gln] = chain.block(chain.gov("gov_add_site", {**body, "gln": "8960000000016"}))
    assert genesis_gln.reason == "GLN 8960000000016 is already the GLN of site mine-1-pit-a"
    [fresh] = chain.block(chain.gov("gov_add_site", {**body, "gln": "8960000000115"}))
    assert fresh.accepted, fresh.reason


def test_one_approval_short_of_the_threshold_is_rejected() -> None:
    chain = Chain()
    tx = chain.gov("gov_add_key", {"org_id": "mine-1", "key": NEW_KEY.public_key.hex()},
                   approvers=("admin-1",))
    [result] = chain.block(tx)
    assert result.reason == "governance needs 2 admin approvals, got 1"
    assert LedgerView(chain.kv).signer(NEW_KEY.public_key) is None


def test_non_admin_and_forged_approvals_are_rejected() -> None:
    chain = Chain()
    body = {"org_id": "mine-1", "key": NEW_KEY.public_key.hex()}
    [result] = chain.block(chain.gov("gov_add_key", body, approvers=("admin-1", "mine-1")))
    assert result.reason.startswith("approvals[1]: key ")
    assert result.reason.endswith("is not an admin key")
    # An approval of a different key does not cover this body.
    other = approve(org_key("regulator-1"), chain.genesis.chain_id, "gov_add_key",
                    {"org_id": "mine-1", "key": "ab" * 32})
    good = approve(org_key("admin-1"), chain.genesis.chain_id, "gov_add_key", body)
    [result] = chain.block(chain.tx("admin-1", "gov_add_key",
                                    {**body, "approvals": [good, other]}))
    assert "does not cover this action" in result.reason


def test_approvals_are_bound_to_chain_and_kind() -> None:
    body = {"org_id": "mine-1", "key": "ab" * 32}
    messages = {approval_message("c1", "gov_add_key", body),
                approval_message("c2", "gov_add_key", body),
                approval_message("c1", "gov_revoke_key", body),
                approval_message("c1", "gov_add_key", {**body, "approvals": []})}
    assert len(messages) == 3      # approvals themselves are not signed over


def test_a_governance_action_applies_once() -> None:
    chain = Chain()
    body = {"org_id": "mine-1", "key": NEW_KEY.public_key.hex()}
    assert chain.block(chain.gov("gov_add_key", body))[0].accepted
    [again] = chain.block(chain.gov("gov_add_key", body))   # new nonce, same approvals
    assert again.reason == "this governance action was already applied at height 1"


def test_revoked_key_later_events_rejected_earlier_ones_stand() -> None:
    chain = Chain()
    chain.ok("mine-1", "register_lot", register_body())
    revoke = chain.gov("gov_revoke_key", {"key": org_key("mine-1").public_key.hex(),
                                          "reason": "tablet stolen at Nokkundi"})
    late = chain.tx("mine-1", "register_lot", register_body("PK-CU-2026-0002"))
    accepted, rejected = chain.block(revoke, late)       # revoked earlier in the same block
    assert accepted.accepted
    assert rejected.reason.endswith("of mine-1 was revoked at height 2: tablet stolen at Nokkundi")
    assert chain.lot(CU)["status"] == "active"
    assert len(LedgerView(chain.kv).lot_events(CU)) == 1
    # A revoked key is dead for good.
    [result] = chain.block(chain.gov("gov_add_key", {
        "org_id": "mine-1", "key": org_key("mine-1").public_key.hex()}))
    assert result.reason.endswith("is already registered to mine-1 (revoked at height 2); "
                                  "generate a new key")


def test_rotate_key_swaps_old_for_new() -> None:
    chain = Chain()
    chain.block(chain.gov("gov_rotate_key", {"org_id": "mine-1",
                                             "old_key": org_key("mine-1").public_key.hex(),
                                             "new_key": NEW_KEY.public_key.hex()}))
    assert "was revoked at height 1: rotated" in chain.rejected("mine-1", "register_lot",
                                                               register_body())
    chain.ok(NEW_KEY, "register_lot", register_body())
    assert chain.lot(CU)["holder"] == "mine-1"


def test_revoke_org_revokes_its_keys() -> None:
    chain = Chain()
    add_mine_4(chain)
    chain.block(chain.gov("gov_revoke_org", {"org_id": "mine-4", "reason": "licence withdrawn"}))
    record = LedgerView(chain.kv).signer(NEW_KEY.public_key)
    assert record is not None and not record.active
    assert record.revoked_reason == "org revoked: licence withdrawn"
    assert "mine-4" in chain.rejected(NEW_KEY, "register_lot", register_body(site="mine-4-pit"))
    chain.ok("mine-1", "register_lot", register_body())
    assert chain.rejected("mine-1", "dispatch", {"lot_id": CU, "to_org": "mine-4",
                                                 "mass_g": 1_000}) == (
        "recipient mine-4 was revoked at height 2: licence withdrawn")


def test_revoked_admin_key_approvals_do_not_count() -> None:
    chain = Chain()
    chain.block(chain.gov("gov_revoke_key", {"key": org_key("auditor-1").public_key.hex(),
                                             "reason": "compromised"}))
    [result] = chain.block(chain.gov("gov_add_key", {"org_id": "mine-1",
                                                     "key": NEW_KEY.public_key.hex()},
                                     approvers=("admin-1", "auditor-1")))
    assert result.reason.startswith("approvals[1]: admin key")
    assert result.reason.endswith("was revoked at height 1")


def test_set_validators_schedules_the_change_after_the_delay() -> None:
    chain = Chain()
    validators = [{"name": "validator-1", "org_id": "regulator-1",
                   "node_key": "2d4b9775ffd0e63c54a44c5b66986a2ce553447bbee997267c9bcdad69417e2b",
                   "power": 10}]
    assert chain.block(chain.gov("gov_set_validators", {"validators": validators}))[0].accepted
    scheduled = LedgerView(chain.kv).governance("validators")
    assert scheduled["requested_height"] == 1 and scheduled["effective_height"] == 3
    assert scheduled["validators"][0]["node_key"] == bytes.fromhex(validators[0]["node_key"])
    history = dict(chain.kv.iter_prefix(keys.governance_key("validators@")[:-1]))
    assert len(history) == 1
