"""Lot-backed units: issuance capped by proven metal, KYC-gated transfers, redemption,
the freeze under a hold, and the lot moves units forbid or carry along."""

from __future__ import annotations

from node.provenance import units
from tests.assets.assetchain import AssetChain

ORE, CATHODE = "PK-CU-1", "PK-CU-1-CATH"


def cathode_chain() -> AssetChain:
    """1 t of 25 % Cu ore (250 kg proven) refined into 252 kg cathode declared 99.99 %
    Cu: the transform tolerance admits the 1 % excess, the units may not."""
    chain = AssetChain()
    chain.assayed_at_refinery(ORE)
    chain.cathode(ORE, CATHODE, 252_000, 999_900)
    return chain


def tokenize(chain: AssetChain, n: int, lot_id: str = CATHODE, signer: str = "refinery-1",
             element: str = "Cu") -> str:
    result = chain.submit(signer, "tokenize", {"lot_id": lot_id, "element": element,
                                               "units": n})
    return "" if result.accepted else result.reason


def test_units_never_exceed_the_metal_the_assays_prove_through_the_graph() -> None:
    chain = cathode_chain()
    assert units.proven_metal(chain.view, CATHODE, "Cu") == 250_000 * 1_000_000
    assert tokenize(chain, 250_001) == (
        "tokenizing 250001 units (g of Cu) would put more metal in units than the assays "
        f"of lot {CATHODE} prove: 250000 g proven, 0 units already issued")
    assert tokenize(chain, 200_000) == ""
    assert tokenize(chain, 50_001).endswith("250000 g proven, 200000 units already issued")
    assert tokenize(chain, 50_000) == ""
    assert units.units_record(chain.view, CATHODE)["supply"] == 250_000
    assert units.balances_of(chain.view, "refinery-1") == {CATHODE: 250_000}


def test_split_children_share_the_parent_proof_by_mass() -> None:
    chain = AssetChain()
    chain.assayed_at_refinery(ORE, 1_000_000, 250_000)
    chain.ok("refinery-1", "split", {"lot_id": ORE, "children": [
        {"lot_id": "PK-CU-1-A", "mass_g": 600_000}, {"lot_id": "PK-CU-1-B", "mass_g": 400_000}]})
    assert units.proven_metal(chain.view, "PK-CU-1-A", "Cu") // 1_000_000 == 150_000
    assert tokenize(chain, 100_001, "PK-CU-1-B").startswith("tokenizing 100001 units")
    assert tokenize(chain, 100_000, "PK-CU-1-B") == ""


def test_tokenize_refusals() -> None:
    chain = AssetChain()
    chain.register_at("PK-CU-9", 1_000, chain.time_ms)
    assert tokenize(chain, 1, "PK-CU-9", "mine-1") == (
        "lot PK-CU-9 has no assayed Cu (its composition lists nothing); assay it before "
        "tokenizing")
    chain = cathode_chain()
    assert tokenize(chain, 1, signer="mine-1") == f"lot {CATHODE} is held by refinery-1, " \
                                                  "not mine-1"
    assert tokenize(chain, 1, element="Sb").startswith(f"lot {CATHODE} has no assayed Sb")


def test_transfers_go_to_kyc_investors_and_back_to_the_holder_only() -> None:
    chain = cathode_chain()
    tokenize(chain, 1_000)
    body = {"lot_id": CATHODE, "to_org": "investor-1", "units": 400}
    assert chain.rejected("refinery-1", "transfer_units", body) == (
        "investor investor-1 has no KYC attestation; a regulator attests it (attest with "
        "org_id and standard KYC) first")
    assert chain.rejected("auditor-1", "attest", {"org_id": "investor-1", "standard": "KYC",
                                                  "finding": "ok"}) == \
        "attest needs the regulator role; auditor-1 has auditor"
    chain.kyc("investor-1")
    chain.ok("refinery-1", "transfer_units", body)
    assert chain.rejected("refinery-1", "transfer_units", {**body, "to_org": "lab-1"}) == (
        f"units of lot {CATHODE} go to the lot's holder (refinery-1) or to an investor; "
        "lab-1 has neither role")
    assert chain.rejected("investor-1", "transfer_units",
                          {**body, "to_org": "refinery-1", "units": 401}) == \
        f"investor-1 holds 400 units of lot {CATHODE}, not 401"
    chain.ok("investor-1", "transfer_units", {**body, "to_org": "refinery-1", "units": 100})
    assert units.units_record(chain.view, CATHODE)["holders"] == {"investor-1": 300,
                                                                  "refinery-1": 700}


def test_redeem_burns_and_an_empty_balance_leaves_no_record() -> None:
    chain = cathode_chain()
    tokenize(chain, 1_000)
    chain.kyc("investor-2")
    chain.ok("refinery-1", "transfer_units", {"lot_id": CATHODE, "to_org": "investor-2",
                                              "units": 250})
    chain.ok("investor-2", "redeem_units", {"lot_id": CATHODE, "units": 250})
    record = units.units_record(chain.view, CATHODE)
    assert (record["supply"], record["holders"]) == (750, {"refinery-1": 750})
    assert units.balances_of(chain.view, "investor-2") == {}
    assert chain.rejected("investor-2", "redeem_units", {"lot_id": CATHODE, "units": 1}) == \
        f"investor-2 holds 0 units of lot {CATHODE}, not 1"
    assert [kind for kind in _unit_kinds(chain)] == ["tokenize", "transfer_units",
                                                     "redeem_units"]


def _unit_kinds(chain: AssetChain) -> list[str]:
    return [chain.txs[tx_id][2].kind for _, _, tx_id in units.unit_events(chain.view, CATHODE)]


def test_a_hold_freezes_transfers_and_redemptions_until_release() -> None:
    chain = cathode_chain()
    tokenize(chain, 1_000)
    chain.kyc("investor-1")
    chain.ok("regulator-1", "hold", {"lot_id": CATHODE, "reason": "export permit query"})
    frozen = (f"units of lot {CATHODE} are frozen: the lot is held by regulator-1: export "
              "permit query")
    assert chain.rejected("refinery-1", "transfer_units", {
        "lot_id": CATHODE, "to_org": "investor-1", "units": 1}) == frozen
    assert chain.rejected("refinery-1", "redeem_units", {"lot_id": CATHODE,
                                                         "units": 1}) == frozen
    chain.ok("regulator-1", "release", {"lot_id": CATHODE, "reason": "cleared"})
    chain.ok("refinery-1", "transfer_units", {"lot_id": CATHODE, "to_org": "investor-1",
                                              "units": 1})


def test_outstanding_units_block_split_merge_transform_and_export() -> None:
    chain = cathode_chain()
    tokenize(chain, 1_000)
    locked = (f"lot {CATHODE} has 1000 units of Cu outstanding (held by refinery-1 1000); "
              "they must be redeemed (redeem_units) before the lot can be ")
    split = {"lot_id": CATHODE, "children": [{"lot_id": "C-A", "mass_g": 2_000},
                                             {"lot_id": "C-B", "mass_g": 250_000}]}
    assert chain.rejected("refinery-1", "split", split) == locked + "split"
    assert chain.rejected("refinery-1", "transform", {
        "site_id": "refinery-1-qasim", "inputs": [CATHODE],
        "outputs": [{"lot_id": "C-ROD", "mineral": "copper", "form": "rod",
                     "mass_g": 250_000, "composition": {"Cu": 999_000}}]}) == \
        locked + "transformed"
    # Custody moves carry the units along; the exporter may not export them away.
    chain.move(CATHODE, "refinery-1", "exporter-1", "exporter-1-karachi", 252_000)
    assert chain.rejected("exporter-1", "export", chain.export_body(CATHODE)) == \
        locked + "exported"
    assert units.outstanding(chain.view, CATHODE) == 1_000
    chain.ok("refinery-1", "redeem_units", {"lot_id": CATHODE, "units": 1_000})
    chain.ok("exporter-1", "export", chain.export_body(CATHODE))


def test_merge_of_a_lot_with_units_is_refused() -> None:
    chain = AssetChain()
    chain.assayed_at_refinery("PK-CU-1")
    chain.assayed_at_refinery("PK-CU-2")
    tokenize(chain, 10, "PK-CU-2")
    reason = chain.rejected("refinery-1", "merge", {"lot_ids": ["PK-CU-1", "PK-CU-2"],
                                                   "new_lot_id": "PK-CU-3"})
    assert reason.endswith("before the lot can be merged")
    assert reason.startswith("lot PK-CU-2 has 10 units")
