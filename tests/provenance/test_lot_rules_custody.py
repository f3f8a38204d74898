"""split, merge, export and the oversight events (attest, flag, hold, release)."""

from __future__ import annotations

import pytest

from tests.provenance.lotchain import Chain

CU = "PK-CU-2026-0001"
REF = "refinery-1-qasim"


@pytest.fixture
def chain() -> Chain:
    c = Chain()
    c.to_refinery(CU, 1_000_000, {"Cu": 250_000})
    return c


def children(*masses: int) -> list[dict[str, object]]:
    return [{"lot_id": f"PK-CU-P{i}", "mass_g": m} for i, m in enumerate(masses)]


# --- split ----------------------------------------------------------------------------

def test_split_conserves_mass_and_inherits_grade(chain: Chain) -> None:
    chain.ok("refinery-1", "split", {"lot_id": CU, "children": children(600_000, 400_000)})
    parent = chain.lot(CU)
    assert parent["status"] == "consumed" and parent["children"] == ["PK-CU-P0", "PK-CU-P1"]
    part = chain.lot("PK-CU-P1")
    assert (part["mass_g"], part["composition"], part["parents"], part["holder"]) == (
        400_000, {"Cu": 250_000}, [CU], "refinery-1")
    assert part["site_id"] == REF and part["composition_source"] == "split"


@pytest.mark.parametrize(("masses", "reason"), [
    ((600_000, 400_001), f"children total 1.000001 t but lot {CU} weighs 1 t; a split must "
                         "conserve mass exactly (difference 1 g)"),
    ((600_000, 399_999), f"children total 0.999999 t but lot {CU} weighs 1 t; a split must "
                         "conserve mass exactly (difference -1 g)"),
])
def test_split_that_changes_mass_is_rejected(chain: Chain, masses: tuple[int, int],
                                             reason: str) -> None:
    assert chain.rejected("refinery-1", "split", {"lot_id": CU,
                                                  "children": children(*masses)}) == reason


def test_split_by_non_holder_and_of_consumed_lot(chain: Chain) -> None:
    body = {"lot_id": CU, "children": children(500_000, 500_000)}
    assert chain.rejected("mine-1", "split", body) == f"lot {CU} is held by refinery-1, not mine-1"
    chain.ok("refinery-1", "split", body)
    again = {"lot_id": CU, "children": [{"lot_id": "PK-CU-Q0", "mass_g": 500_000},
                                        {"lot_id": "PK-CU-Q1", "mass_g": 500_000}]}
    assert chain.rejected("refinery-1", "split", again).startswith(
        f"lot {CU} was consumed at height 6 (into PK-CU-P0, PK-CU-P1)")


# --- merge ----------------------------------------------------------------------------

def test_merge_sums_mass_and_averages_grade_rounding_down(chain: Chain) -> None:
    chain.to_refinery("PK-CU-2026-0002", 3, {"Cu": 100_001, "Au": 1})
    chain.to_refinery("PK-CU-2026-0003", 7, {"Cu": 200_000})
    chain.ok("refinery-1", "merge", {"lot_ids": ["PK-CU-2026-0002", "PK-CU-2026-0003"],
                                     "new_lot_id": "PK-CU-M"})
    merged = chain.lot("PK-CU-M")
    # Cu: (3*100001 + 7*200000) / 10 = 170000.3 -> 170000; Au: 3/10 -> 0, dropped
    assert merged["mass_g"] == 10 and merged["composition"] == {"Cu": 170_000}
    assert merged["parents"] == ["PK-CU-2026-0002", "PK-CU-2026-0003"]
    assert chain.lot("PK-CU-2026-0003")["status"] == "consumed"


def test_merge_rejections(chain: Chain) -> None:
    chain.to_refinery("PK-SB-2026-0001", 5, {"Sb": 400_000}, mine="mine-2",
                      site="mine-2-adit-1", mineral="antimony")
    assert chain.rejected("refinery-1", "merge", {"lot_ids": [CU, "PK-SB-2026-0001"],
                                                  "new_lot_id": "PK-X"}) == (
        f"cannot merge antimony lot PK-SB-2026-0001 with copper lot {CU}; a merge blends one "
        "mineral")
    chain.register("PK-CU-2026-0002")
    assert chain.rejected("refinery-1", "merge", {"lot_ids": [CU, "PK-CU-2026-0002"],
                                                  "new_lot_id": "PK-X"}) == (
        "lot PK-CU-2026-0002 is held by mine-1, not refinery-1")


def test_merge_of_different_forms_needs_a_named_form(chain: Chain) -> None:
    chain.ok("refinery-1", "split", {"lot_id": CU, "children": children(500_000, 500_000)})
    chain.ok("refinery-1", "transform", {"site_id": REF, "inputs": ["PK-CU-P0"], "outputs": [
        {"lot_id": "PK-CU-CON", "mineral": "copper", "form": "concentrate", "mass_g": 400_000,
         "composition": {"Cu": 300_000}}]})
    body = {"lot_ids": ["PK-CU-P1", "PK-CU-CON"], "new_lot_id": "PK-CU-BLEND"}
    assert chain.rejected("refinery-1", "merge", body) == (
        "the lots have different forms (concentrate, ore); name the merged lot's form in the "
        "body's form field")
    chain.ok("refinery-1", "merge", {**body, "form": "blend"})
    assert chain.lot("PK-CU-BLEND")["form"] == "blend"


def test_merge_needs_one_site(chain: Chain) -> None:
    chain.block(chain.gov("gov_add_site", {"site_id": "refinery-1-yard", "org_id": "refinery-1",
                                           "kind": "warehouse", "name": "Refinery yard"}))
    chain.register("PK-CU-2026-0002")
    chain.move("PK-CU-2026-0002", "mine-1", "refinery-1", "refinery-1-yard", 1_000_000)
    assert chain.rejected("refinery-1", "merge", {"lot_ids": [CU, "PK-CU-2026-0002"],
                                                  "new_lot_id": "PK-X"}) == (
        f"lot PK-CU-2026-0002 lies at refinery-1-yard and lot {CU} at {REF}; bring them to one "
        "site before merging")


# --- export ---------------------------------------------------------------------------

EXPORT = {"lot_id": CU, "destination": "CN", "buyer": "Jiangxi Copper", "permit_ref": "E-1"}


def test_export_takes_the_lot_out_of_the_network(chain: Chain) -> None:
    assert chain.rejected("refinery-1", "export", EXPORT) == (
        "export needs the exporter role; refinery-1 has refinery")
    chain.move(CU, "refinery-1", "exporter-1", "exporter-1-karachi", 1_000_000)
    chain.ok("exporter-1", "export", EXPORT)
    lot = chain.lot(CU)
    assert lot["status"] == "exported" and lot["export"]["permit_ref"] == "E-1"
    assert chain.rejected("exporter-1", "export", EXPORT) == (
        f"lot {CU} was exported at height 8 (to CN); it has left the network")
    assert chain.rejected("exporter-1", "dispatch", {"lot_id": CU, "to_org": "refinery-1",
                                                     "mass_g": 1_000_000}).endswith(
        "it has left the network")


# --- attest, flag, hold, release --------------------------------------------------------

def test_attest_and_flag_by_oversight_roles_only(chain: Chain) -> None:
    chain.ok("auditor-1", "attest", {"lot_id": CU, "standard": "OECD-DDG", "finding": "ok"})
    chain.ok("regulator-1", "flag", {"lot_id": CU, "reason": "royalty unpaid"})
    lot = chain.lot(CU)
    assert lot["attestations"] == [{"by": "auditor-1", "standard": "OECD-DDG",
                                    "finding": "ok", "height": 5}]
    assert lot["flags"] == [{"source": "flag", "by": "regulator-1", "reason": "royalty unpaid",
                             "height": 6}]
    assert chain.rejected("mine-1", "flag", {"lot_id": CU, "reason": "x"}) == (
        "flag needs the auditor or regulator role; mine-1 has mine")


def test_a_held_lot_cannot_move(chain: Chain) -> None:
    assert chain.rejected("auditor-1", "hold", {"lot_id": CU, "reason": "x"}) == (
        "hold needs the regulator role; auditor-1 has auditor")
    chain.ok("regulator-1", "hold", {"lot_id": CU, "reason": "origin under investigation"})
    assert chain.lot(CU)["status"] == "held"
    assert chain.lot(CU)["custody_status"] == "active"
    held = f"lot {CU} is held by regulator-1: origin under investigation"
    moves = [
        ("dispatch", {"lot_id": CU, "to_org": "exporter-1", "mass_g": 1_000_000}),
        ("split", {"lot_id": CU, "children": children(1, 999_999)}),
        ("merge", {"lot_ids": [CU, "PK-CU-OTHER"], "new_lot_id": "PK-CU-M"}),
        ("transform", {"site_id": REF, "inputs": [CU], "outputs": [
            {"lot_id": "PK-CU-K", "mineral": "copper", "form": "cathode", "mass_g": 1,
             "composition": {}}]}),
    ]
    for kind, body in moves:
        assert chain.rejected("refinery-1", kind, body) == held, kind
    assert chain.rejected("regulator-1", "hold", {"lot_id": CU, "reason": "again"}).startswith(
        f"lot {CU} is already held by regulator-1 since height 6")
    chain.ok("lab-1", "assay", {"lot_id": CU, "composition": {"Cu": 240_000}})  # may still assay
    chain.ok("regulator-1", "release", {"lot_id": CU, "reason": "cleared"})
    assert chain.lot(CU)["status"] == "active"
    chain.ok("refinery-1", "split", {"lot_id": CU, "children": children(1, 999_999)})
    assert chain.rejected("regulator-1", "release", {"lot_id": "PK-CU-P0", "reason": "x"}) == (
        "lot PK-CU-P0 is not held; there is nothing to release")


def test_a_lot_held_in_transit_cannot_be_received(chain: Chain) -> None:
    chain.ok("refinery-1", "dispatch", {"lot_id": CU, "to_org": "exporter-1",
                                        "mass_g": 1_000_000})
    chain.ok("regulator-1", "hold", {"lot_id": CU, "reason": "permit check"})
    assert chain.rejected("exporter-1", "receive", {
        "lot_id": CU, "site_id": "exporter-1-karachi", "mass_g": 1_000_000}) == (
        f"lot {CU} is held by regulator-1: permit check")
    chain.ok("regulator-1", "release", {"lot_id": CU, "reason": "permit seen"})
    assert chain.lot(CU)["status"] == "in_transit"
