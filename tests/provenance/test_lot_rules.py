"""Every lot rule: the accepted path and each rejection with its reason."""

from __future__ import annotations

import pytest

from tests.provenance.lotchain import Chain

CU = "PK-CU-2026-0001"
REFINERY = "refinery-1-qasim"


@pytest.fixture
def chain() -> Chain:
    return Chain()


def register_body(**over: object) -> dict[str, object]:
    body = {"lot_id": CU, "mineral": "copper", "form": "ore", "mass_g": 1_000_000,
            "site_id": "mine-1-pit-a", "extracted_at_ms": 1795132800000}
    body.update(over)
    return body


def cathode(lot_id: str, mass_g: int, cu_ppm: int) -> dict[str, object]:
    return {"lot_id": lot_id, "mineral": "copper", "form": "cathode", "mass_g": mass_g,
            "composition": {"Cu": cu_ppm}}


# --- register_lot -------------------------------------------------------------------

def test_register_lot_creates_an_active_lot_at_the_mine(chain: Chain) -> None:
    chain.ok("mine-1", "register_lot", register_body(documents=["ab" * 32]))
    lot = chain.lot(CU)
    assert (lot["status"], lot["holder"], lot["site_id"]) == ("active", "mine-1", "mine-1-pit-a")
    assert lot["mass_g"] == 1_000_000 and lot["parents"] == []
    assert lot["origin"]["site_id"] == "mine-1-pit-a"
    assert lot["origin"]["location"] == {"lat_e6": 29282000, "lon_e6": 61567000}


@pytest.mark.parametrize(("signer", "body", "reason"), [
    ("lab-1", {}, "register_lot needs the mine role; lab-1 has lab"),
    ("mine-2", {}, "site mine-1-pit-a belongs to mine-1, not mine-2"),
    ("mine-1", {"site_id": "nowhere"}, "site nowhere is not registered"),
    ("mine-1", {"mineral": "antimony"}, "site mine-1-pit-a produces copper, not antimony"),
    ("mine-1", {"extracted_at_ms": 1795132800000 + 3_600_000},
     "is after the block time 1795132801000; check the device clock"),
])
def test_register_lot_rejections(chain: Chain, signer: str, body: dict[str, object],
                                 reason: str) -> None:
    assert reason in chain.rejected(signer, "register_lot", register_body(**body))


def test_register_lot_needs_a_mine_site(chain: Chain) -> None:
    chain.block(chain.gov("gov_add_site", {"site_id": "mine-1-stockpile", "org_id": "mine-1",
                                           "kind": "warehouse", "name": "Saindak stockpile"}))
    assert chain.rejected("mine-1", "register_lot", register_body(site_id="mine-1-stockpile")) == (
        "register_lot must happen at a mine site; mine-1-stockpile is a warehouse")


def test_register_lot_rejects_a_taken_id(chain: Chain) -> None:
    chain.register(CU)
    assert chain.rejected("mine-1", "register_lot", register_body()) == (
        f"lot id {CU} is already taken (created at height 1); choose a new id")


# --- assay ----------------------------------------------------------------------------

def test_assay_sets_composition_and_latest_assay_wins(chain: Chain) -> None:
    chain.register(CU)
    chain.ok("lab-1", "assay", {"lot_id": CU, "composition": {"Cu": 12_000, "Au": 1}})
    chain.ok("lab-1", "assay", {"lot_id": CU, "composition": {"Cu": 11_500}})
    lot = chain.lot(CU)
    assert lot["composition"] == {"Cu": 11_500}
    assert lot["composition_source"] == "assay"


def test_assay_rejections(chain: Chain) -> None:
    assert chain.rejected("mine-1", "assay", {"lot_id": CU, "composition": {"Cu": 1}}) == (
        "assay needs the lab role; mine-1 has mine")
    assert chain.rejected("lab-1", "assay", {"lot_id": CU, "composition": {"Cu": 1}}).startswith(
        f"lot {CU} does not exist")
    chain.to_refinery(CU)
    chain.ok("refinery-1", "transform", {"site_id": REFINERY, "inputs": [CU],
                                         "outputs": [cathode("PK-CU-CATH-1", 1000, 999_000)]})
    assert chain.rejected("lab-1", "assay", {"lot_id": CU, "composition": {"Cu": 1}}) == (
        f"lot {CU} was consumed at height 7 (into PK-CU-CATH-1); act on the lots made from it")


# --- dispatch and receive -----------------------------------------------------------

def test_dispatch_and_receive_move_custody(chain: Chain) -> None:
    chain.register(CU)
    chain.ok("mine-1", "dispatch", {"lot_id": CU, "to_org": "transporter-1",
                                    "mass_g": 1_000_000, "carrier_org": "transporter-1",
                                    "vehicle": "BLA-1234"})
    lot = chain.lot(CU)
    assert lot["status"] == "in_transit" and lot["site_id"] is None
    assert lot["transit"]["to_org"] == "transporter-1"
    assert lot["transit"]["from_site"] == "mine-1-pit-a"
    chain.ok("transporter-1", "receive", {"lot_id": CU, "site_id": "transporter-1-depot",
                                          "mass_g": 999_000})
    lot = chain.lot(CU)
    assert (lot["status"], lot["holder"], lot["site_id"], lot["mass_g"]) == (
        "active", "transporter-1", "transporter-1-depot", 999_000)
    assert lot["transit"] is None and lot["flags"] == []


def test_dispatch_rejections(chain: Chain) -> None:
    chain.register(CU)

    def dispatch(signer: str, **over: object) -> str:
        body = {"lot_id": CU, "to_org": "transporter-1", "mass_g": 1_000_000, **over}
        return chain.rejected(signer, "dispatch", body)

    assert dispatch("transporter-2") == f"lot {CU} is held by mine-1, not transporter-2"
    assert dispatch("mine-1", to_org="nobody") == "recipient nobody is not a registered org"
    assert dispatch("mine-1", to_org="mine-1").startswith("mine-1 cannot dispatch")
    assert dispatch("mine-1", carrier_org="lab-1") == (
        "carrier lab-1 does not have the transporter role")
    assert dispatch("mine-1", mass_g=900_000) == (
        f"dispatch names 0.9 t but lot {CU} weighs 1 t; dispatch the whole lot or split it "
        "first")
    chain.ok("mine-1", "dispatch", {"lot_id": CU, "to_org": "transporter-1", "mass_g": 1_000_000})
    assert dispatch("mine-1") == (
        f"lot {CU} is in transit to transporter-1; transporter-1 must receive it first")


def test_receive_rejections(chain: Chain) -> None:
    chain.register(CU)

    def receive(signer: str, **over: object) -> str:
        body = {"lot_id": CU, "site_id": "transporter-1-depot", "mass_g": 1_000_000, **over}
        return chain.rejected(signer, "receive", body)

    assert receive("transporter-1") == (
        f"lot {CU} is not in transit (it lies at mine-1-pit-a with mine-1); it must be "
        "dispatched first")
    chain.ok("mine-1", "dispatch", {"lot_id": CU, "to_org": "transporter-1", "mass_g": 1_000_000})
    assert receive("transporter-2", site_id="transporter-2-depot") == (
        f"lot {CU} is in transit to transporter-1, not transporter-2")
    assert receive("transporter-1", site_id="transporter-2-depot") == (
        "site transporter-2-depot belongs to transporter-2, not transporter-1")


def test_loss_exactly_at_tolerance_is_not_flagged(chain: Chain) -> None:
    chain.register(CU)      # 1 t; devnet tolerance 5000 ppm = 5 kg
    chain.move(CU, "mine-1", "transporter-1", "transporter-1-depot", 1_000_000, 995_000)
    assert chain.lot(CU)["flags"] == []


def test_loss_one_gram_over_tolerance_flags_the_lot(chain: Chain) -> None:
    chain.register(CU)
    chain.move(CU, "mine-1", "transporter-1", "transporter-1-depot", 1_000_000, 994_999)
    lot = chain.lot(CU)
    assert lot["mass_g"] == 994_999
    assert lot["flags"] == [{
        "source": "receive", "by": "transporter-1", "height": 3,
        "reason": "transport loss of 5.001 kg (0.5001%) from mine-1 to transporter-1 exceeds "
                  "the 0.5% tolerance"}]


def test_gain_within_tolerance_is_accepted_and_beyond_is_rejected(chain: Chain) -> None:
    chain.register(CU)
    chain.ok("mine-1", "dispatch", {"lot_id": CU, "to_org": "transporter-1", "mass_g": 1_000_000})
    reason = chain.rejected("transporter-1", "receive", {
        "lot_id": CU, "site_id": "transporter-1-depot", "mass_g": 1_005_001})
    assert reason == (f"received 1.005001 t of lot {CU} but 1 t was dispatched: a gain of "
                      "5.001 kg (0.5001%) is beyond the 0.5% weighing tolerance; re-weigh, or "
                      "register the extra material as a lot of its own")
    chain.ok("transporter-1", "receive", {"lot_id": CU, "site_id": "transporter-1-depot",
                                          "mass_g": 1_005_000})
    assert chain.lot(CU)["mass_g"] == 1_005_000


# --- transform ------------------------------------------------------------------------

def test_transform_consumes_inputs_and_records_recovery(chain: Chain) -> None:
    chain.to_refinery(CU, 1_000_000, {"Cu": 250_000})      # 250 kg of Cu contained
    chain.ok("refinery-1", "transform", {
        "site_id": REFINERY, "inputs": [CU],
        "outputs": [cathode("PK-CU-CATH-1", 240_000, 999_900),
                    {"lot_id": "PK-CU-SLAG-1", "mineral": "copper", "form": "slag",
                     "mass_g": 700_000, "composition": {"Cu": 10_000}}]})
    assert chain.lot(CU)["status"] == "consumed"
    assert chain.lot(CU)["children"] == ["PK-CU-CATH-1", "PK-CU-SLAG-1"]
    out = chain.lot("PK-CU-CATH-1")
    assert out["parents"] == [CU] and out["holder"] == "refinery-1"
    # (240 kg * 0.9999 + 700 kg * 0.01) / 250 kg = 0.987904
    assert out["recovery_ppm"] == {"Cu": 987_904}


def test_transform_within_tolerance_is_accepted(chain: Chain) -> None:
    chain.to_refinery(CU, 1_000_000, {"Cu": 250_000})
    # 252.5 kg out of 250 kg in: exactly the 1 % devnet tolerance
    chain.ok("refinery-1", "transform", {"site_id": REFINERY, "inputs": [CU],
                                         "outputs": [cathode("PK-CU-CATH-1", 252_500, 1_000_000)]})


def test_transform_that_creates_metal_is_rejected(chain: Chain) -> None:
    chain.to_refinery(CU, 1_000_000, {"Cu": 250_000})
    reason = chain.rejected("refinery-1", "transform", {
        "site_id": REFINERY, "inputs": [CU],
        "outputs": [cathode("PK-CU-CATH-1", 252_501, 1_000_000)]})
    assert reason == ("transform creates 2.501 kg of Cu not present in inputs (inputs contain "
                      "0.25 t, outputs 0.252501 t; tolerance 1%)")
    assert chain.lot(CU)["status"] == "active"


def test_unassayed_inputs_back_no_metal(chain: Chain) -> None:
    chain.register(CU)
    chain.move(CU, "mine-1", "refinery-1", REFINERY, 1_000_000)
    reason = chain.rejected("refinery-1", "transform", {
        "site_id": REFINERY, "inputs": [CU],
        "outputs": [cathode("PK-CU-CATH-1", 600_000, 1_000_000)]})
    assert reason.startswith("transform creates 0.6 t of Cu not present in inputs")


def test_transform_rejections(chain: Chain) -> None:
    chain.to_refinery(CU)
    body = {"site_id": REFINERY, "inputs": [CU], "outputs": [cathode("PK-CU-CATH-1", 1, 1)]}
    assert chain.rejected("mine-1", "transform", body) == (
        "transform needs the refinery role; mine-1 has mine")
    assert chain.rejected("refinery-1", "transform", {**body, "site_id": "mine-1-pit-a"}) == (
        "site mine-1-pit-a belongs to mine-1, not refinery-1")
    assert chain.rejected("refinery-1", "transform", {**body, "inputs": [CU, "PK-CU-X"]}) == (
        "lot PK-CU-X does not exist (register_lot, split, merge or transform create lots)")
    assert chain.rejected("refinery-1", "transform", {
        **body, "outputs": [cathode(CU, 1, 1)]}).startswith(f"lot id {CU} is already taken")
    chain.register("PK-CU-2026-0002")
    assert chain.rejected("refinery-1", "transform", {
        **body, "inputs": [CU, "PK-CU-2026-0002"]}) == (
        "lot PK-CU-2026-0002 is held by mine-1, not refinery-1")


def test_transform_inputs_must_lie_at_the_refinery_site(chain: Chain) -> None:
    chain.block(chain.gov("gov_add_site", {"site_id": "refinery-1-yard", "org_id": "refinery-1",
                                           "kind": "warehouse", "name": "Refinery yard"}))
    chain.register(CU)
    chain.ok("lab-1", "assay", {"lot_id": CU, "composition": {"Cu": 250_000}})
    chain.move(CU, "mine-1", "refinery-1", "refinery-1-yard", 1_000_000)
    assert chain.rejected("refinery-1", "transform", {
        "site_id": REFINERY, "inputs": [CU], "outputs": [cathode("PK-CU-CATH-1", 1, 1)]}) == (
        f"lot {CU} lies at refinery-1-yard, not at the refinery site {REFINERY}")
    assert chain.rejected("refinery-1", "transform", {
        "site_id": "refinery-1-yard", "inputs": [CU],
        "outputs": [cathode("PK-CU-CATH-1", 1, 1)]}) == (
        "transform must happen at a refinery site; refinery-1-yard is a warehouse")
