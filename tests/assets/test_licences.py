"""Licences: scope, expiry against the block time, revocation, and the network switch."""

from __future__ import annotations

from node.provenance.licences import licence, licences_of
from tests.assets.assetchain import T0, AssetChain

SB = {"lot_id": "PK-SB-1", "mineral": "antimony", "form": "ore", "mass_g": 1_000,
      "site_id": "mine-2-adit-1", "extracted_at_ms": T0}


def grant(chain: AssetChain, **body: object) -> str:
    [result] = chain.block(chain.gov("grant_licence", body))
    return "" if result.accepted else result.reason


def test_genesis_licences_are_in_state_and_cover_the_licensed_mine() -> None:
    chain = AssetChain()
    [ml] = licences_of(chain.view, "mine-1")
    assert (ml.licence_id, ml.sites, ml.annual_capacity_g) == ("ML-CU-1", ("mine-1-pit-a",),
                                                               50_000_000)
    chain.register_at("PK-CU-1", 1_000, T0)


def test_an_unlicensed_mine_is_rejected_on_the_record() -> None:
    chain = AssetChain()
    reason = chain.rejected("mine-2", "register_lot", SB)
    assert reason.startswith("mine-2 has no valid licence for register_lot (mine at site "
                             "mine-2-adit-1, antimony) at block time")
    assert reason.endswith("it holds no licence")


def test_a_licence_covers_only_its_minerals_and_roles() -> None:
    chain = AssetChain()
    assert grant(chain, licence_id="ML-SB-2", org_id="mine-2", roles=["mine"],
                 minerals=["copper"], expires_at_ms=T0 + 10**9) == ""
    assert chain.rejected("mine-2", "register_lot", SB).endswith(
        "ML-SB-2 does not cover antimony")
    assert grant(chain, licence_id="LAB-2", org_id="mine-2", roles=["lab"],
                 expires_at_ms=T0 + 10**9) == ""
    reason = chain.rejected("mine-2", "register_lot", SB)
    assert reason.endswith(": LAB-2 covers lab, not mine; ML-SB-2 does not cover antimony")


def test_expiry_is_judged_against_the_block_time() -> None:
    chain = AssetChain()
    expires = T0 + 3_000                                  # block 3's time
    assert grant(chain, licence_id="ML-SB-2", org_id="mine-2", roles=["mine"],
                 expires_at_ms=expires) == ""
    chain.ok("mine-2", "register_lot", SB)                # block 2: still valid
    reason = chain.rejected("mine-2", "register_lot", {**SB, "lot_id": "PK-SB-2"})
    assert f"ML-SB-2 expired at {expires} ms" in reason


def test_revocation_ends_a_licence_and_is_recorded_once() -> None:
    chain = AssetChain()
    [result] = chain.block(chain.gov("revoke_licence", {"licence_id": "ML-CU-1",
                                                        "reason": "pit flooded"}))
    assert result.accepted, result.reason
    assert licence(chain.view, "ML-CU-1").revoked_height == 1
    reason = chain.rejected("mine-1", "register_lot", {**SB, "mineral": "copper",
                                                       "site_id": "mine-1-pit-a"})
    assert "ML-CU-1 was revoked at height 1: pit flooded" in reason
    [again] = chain.block(chain.gov("revoke_licence", {"licence_id": "ML-CU-1",
                                                       "reason": "second time"}))
    assert again.reason == "licence ML-CU-1 was already revoked at height 1"


def test_grant_refusals() -> None:
    chain = AssetChain()
    assert grant(chain, licence_id="ML-CU-1", org_id="mine-1", roles=["mine"],
                 expires_at_ms=T0 + 10**9).startswith("licence id ML-CU-1 is already taken")
    assert grant(chain, licence_id="X-1", org_id="mine-2", roles=["mine"],
                 sites=["mine-1-pit-a"], expires_at_ms=T0 + 10**9) == \
        "site mine-1-pit-a is not a site of mine-2"
    [short] = chain.block(chain.gov("grant_licence", {
        "licence_id": "X-2", "org_id": "mine-2", "roles": ["mine"],
        "expires_at_ms": T0 + 10**9}, approvers=("admin-1",)))
    assert short.reason == "governance needs 2 admin approvals, got 1"
    assert licence(chain.view, "X-2") is None


def test_the_lab_exporter_refinery_and_named_carrier_need_licences() -> None:
    chain = AssetChain()
    chain.register_at("PK-CU-1", 1_000, T0)
    [result] = chain.block(chain.gov("revoke_licence", {"licence_id": "LAB-1",
                                                        "reason": "audit"}))
    assert result.accepted
    assert "lab-1 has no valid licence for assay (lab, copper)" in chain.rejected(
        "lab-1", "assay", {"lot_id": "PK-CU-1", "composition": {"Cu": 5_000}})
    # transporter-2 holds no licence, transporter-1 does.
    body = {"lot_id": "PK-CU-1", "to_org": "refinery-1", "mass_g": 1_000}
    assert chain.rejected("mine-1", "dispatch", {**body, "carrier_org": "transporter-2"}) \
        .startswith("transporter-2 has no valid licence for dispatch (transporter, copper)")
    chain.ok("mine-1", "dispatch", {**body, "carrier_org": "transporter-1"})


def test_licences_not_required_keeps_existing_networks_valid() -> None:
    chain = AssetChain(licences_required=0)
    chain.ok("mine-2", "register_lot", SB)
