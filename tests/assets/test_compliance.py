"""The compliance watch: each rule raises a flag with its reason, by lot and by org,
and never rejects the event it watches."""

from __future__ import annotations

from node.provenance import compliance
from tests.assets.assetchain import DAY_MS, T0, AssetChain


def rules(chain: AssetChain, *, lot: str | None = None, org: str | None = None) -> list[str]:
    flags = (compliance.flags_of_lot(chain.view, lot) if lot
             else compliance.flags_of_org(chain.view, org or ""))
    return [f["rule"] for f in flags]


def test_a_transport_loss_is_charged_to_the_carrier() -> None:
    chain = AssetChain()
    chain.register_at("PK-CU-1", 1_000_000, T0)
    chain.ok("mine-1", "dispatch", {"lot_id": "PK-CU-1", "to_org": "refinery-1",
                                    "mass_g": 1_000_000, "carrier_org": "transporter-1"})
    chain.ok("refinery-1", "receive", {"lot_id": "PK-CU-1", "site_id": "refinery-1-qasim",
                                       "mass_g": 980_000})
    [flag] = compliance.flags_of_org(chain.view, "transporter-1")
    assert (flag["rule"], flag["lot_id"], flag["site_id"]) == (
        "transport_loss", "PK-CU-1", "refinery-1-qasim")
    assert flag["reason"].startswith("transport loss of 20 kg (2%) from mine-1 to refinery-1")
    assert chain.txs[bytes.fromhex(flag["tx_id"])][2].kind == "receive"


def test_a_custody_round_trip_is_a_cycle() -> None:
    chain = AssetChain()
    chain.register_at("PK-CU-1", 1_000, T0)
    chain.move("PK-CU-1", "mine-1", "refinery-1", "refinery-1-qasim", 1_000)
    assert rules(chain, lot="PK-CU-1") == []
    chain.move("PK-CU-1", "refinery-1", "mine-1", "mine-1-pit-a", 1_000)
    [flag] = compliance.flags_of_lot(chain.view, "PK-CU-1")
    assert flag["reason"] == "lot PK-CU-1 came back to mine-1 along mine-1 -> refinery-1 -> " \
                             "mine-1"


def test_split_children_keep_the_custody_they_came_with() -> None:
    chain = AssetChain()
    chain.register_at("PK-CU-1", 1_000, T0)
    chain.move("PK-CU-1", "mine-1", "refinery-1", "refinery-1-qasim", 1_000)
    chain.ok("refinery-1", "split", {"lot_id": "PK-CU-1", "children": [
        {"lot_id": "PK-CU-1-A", "mass_g": 400}, {"lot_id": "PK-CU-1-B", "mass_g": 600}]})
    chain.move("PK-CU-1-A", "refinery-1", "mine-1", "mine-1-pit-a", 400)
    assert rules(chain, lot="PK-CU-1-A") == ["custody_cycle"]


def test_recovery_above_what_the_input_grade_allows() -> None:
    chain = AssetChain()
    chain.assayed_at_refinery("PK-CU-1", 1_000_000, 250_000)       # 250 kg Cu, high grade
    chain.cathode("PK-CU-1", "C-1", 248_000, 1_000_000)             # 99.2 %: implausible
    [flag] = compliance.flags_of_lot(chain.view, "C-1")
    assert flag["reason"] == ("transform at refinery-1-qasim recovered 99.2% of the Cu in "
                              "inputs graded 25%; above the plausible 98% for that grade")
    chain.assayed_at_refinery("PK-CU-2", 1_000_000, 250_000)
    chain.cathode("PK-CU-2", "C-2", 237_500, 1_000_000)             # 95 %: normal
    assert rules(chain, lot="C-2") == []
    chain.assayed_at_refinery("PK-CU-3", 10_000_000, 3_000)         # 0.3 %: low grade
    chain.cathode("PK-CU-3", "C-3", 28_500, 1_000_000)              # 95 % of low-grade ore
    assert rules(chain, lot="C-3") == ["recovery_high"]
    assert rules(chain, org="refinery-1") == ["recovery_high", "recovery_high"]


def test_a_mine_over_its_licensed_annual_capacity_is_flagged_not_refused() -> None:
    chain = AssetChain()                                   # ML-CU-1 allows 50 t a year
    chain.register_at("PK-CU-1", 30_000_000, T0)
    chain.register_at("PK-CU-2", 20_000_000, T0)
    assert rules(chain, org="mine-1") == []
    chain.register_at("PK-CU-3", 1_000, T0)
    [flag] = compliance.flags_of_org(chain.view, "mine-1")
    assert flag["reason"] == ("mine-1 has registered 50.001 t extracted in 2026 under "
                              "licence ML-CU-1, above its licensed annual capacity of 50 t")
    assert chain.lot("PK-CU-3")["status"] == "active"
    chain.register_at("PK-CU-4", 1_000, T0 - 365 * DAY_MS)   # last year: its own budget
    assert rules(chain, lot="PK-CU-4") == []


def test_an_export_soon_after_extraction_is_flagged() -> None:
    chain = AssetChain()
    chain.assayed_at_refinery("PK-CU-1", aged=False)
    chain.move("PK-CU-1", "refinery-1", "exporter-1", "exporter-1-karachi", 1_000_000)
    chain.ok("exporter-1", "export", chain.export_body("PK-CU-1"))
    [flag] = compliance.flags_of_lot(chain.view, "PK-CU-1")
    assert flag["rule"] == "fast_export" and flag["org"] == "exporter-1"
    assert flag["reason"].endswith("faster than the plausible 48 h 0 min")
    chain.assayed_at_refinery("PK-CU-2", aged=True)
    chain.move("PK-CU-2", "refinery-1", "exporter-1", "exporter-1-karachi", 1_000_000)
    chain.ok("exporter-1", "export", chain.export_body("PK-CU-2"))
    assert rules(chain, lot="PK-CU-2") == []


def test_a_lossy_receive_that_leaves_units_underbacked() -> None:
    chain = AssetChain()
    chain.assayed_at_refinery("PK-CU-1", 1_000_000, 250_000)
    chain.ok("refinery-1", "tokenize", {"lot_id": "PK-CU-1", "element": "Cu",
                                        "units": 250_000})
    chain.move("PK-CU-1", "refinery-1", "exporter-1", "exporter-1-karachi", 1_000_000,
               received_g=999_000)
    [flag] = compliance.flags_of_lot(chain.view, "PK-CU-1")
    assert flag["rule"] == "units_underbacked"
    assert flag["reason"] == ("after the receive, lot PK-CU-1 proves 249750 g of Cu but "
                              "250000 units are outstanding")
