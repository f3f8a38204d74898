"""Royalties: exact integer shares, the export record, governance changes, the report."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.provenance import royalties
from node.provenance.schema import EventFormatError, validate_body
from tests.assets.assetchain import CU_SCHEDULE, T0, AssetChain


@given(st.integers(1, 10**18),
       st.lists(st.integers(1, 400_000), min_size=1, max_size=3))
def test_shares_sum_exactly_to_the_total_and_the_remainder_goes_first(
        amount: int, ppms: list[int]) -> None:
    shares = [{"beneficiary": f"b{i}", "share_ppm": p} for i, p in enumerate(ppms)]
    split = royalties.split_value(amount, shares)
    assert sum(split) == amount * sum(ppms) // 1_000_000
    for got, ppm in zip(split[1:], ppms[1:], strict=True):
        assert got == amount * ppm // 1_000_000
    assert 0 <= split[0] - amount * ppms[0] // 1_000_000 < len(ppms)


def test_rounding_favours_the_first_beneficiary() -> None:
    # 999 minor units: 2 % = 19.98, 2.5 % = 24.975, 0.5 % = 4.995; total 5 % = 49.95.
    assert royalties.split_value(999, CU_SCHEDULE) == [21, 24, 4]


def exported_cathode(chain: AssetChain, lot_id: str, amount: int | None) -> str:
    chain.assayed_at_refinery(lot_id)
    chain.move(lot_id, "refinery-1", "exporter-1", "exporter-1-karachi", 1_000_000)
    result = chain.submit("exporter-1", "export", chain.export_body(lot_id, amount))
    return "" if result.accepted else result.reason


def test_an_export_records_its_shares_with_the_tx_behind_them() -> None:
    chain = AssetChain()
    assert exported_cathode(chain, "PK-CU-1", 2_000_000_00) == ""
    [record] = royalties.royalty_records(chain.view, 0, 2**53)
    assert record["lot_id"] == "PK-CU-1" and record["currency"] == "USD"
    assert [s["amount"] for s in record["shares"]] == [4_000_000, 5_000_000, 1_000_000]
    height, index, tx = chain.txs[record["tx_id"]]
    assert (tx.kind, height, index) == ("export", record["height"], record["index"])
    assert chain.lot("PK-CU-1")["export"]["declared_value"] == {"amount": 2_000_000_00,
                                                                "currency": "USD"}


def test_an_export_without_a_declared_value_is_rejected_where_royalties_are_due() -> None:
    chain = AssetChain()
    assert exported_cathode(chain, "PK-CU-1", None) == (
        "export of copper lot PK-CU-1 must state its declared_value {amount, currency}: "
        "royalties are due on copper exports")
    assert chain.lot("PK-CU-1")["status"] == "active"


def test_governance_changes_the_schedule_for_later_exports_only() -> None:
    chain = AssetChain()
    exported_cathode(chain, "PK-CU-1", 1_000_000)
    [result] = chain.block(chain.gov("set_royalty_schedule", {
        "mineral": "copper", "shares": [{"beneficiary": "federal", "share_ppm": 100_000}]}))
    assert result.accepted, result.reason
    exported_cathode(chain, "PK-CU-2", 1_000_000)
    report = royalties.report(chain.view, 0, 2**53, "copper")
    assert report["totals"]["USD"]["federal"]["amount"] == 20_000 + 100_000
    assert report["totals"]["USD"]["balochistan"]["amount"] == 25_000
    assert len(report["totals"]["USD"]["federal"]["exports"]) == 2
    assert report["declared_value"] == {"USD": 2_000_000}


def test_the_report_window_is_block_time_and_filters_by_mineral() -> None:
    chain = AssetChain()
    exported_cathode(chain, "PK-CU-1", 1_000_000)
    when = royalties.royalty_records(chain.view, 0, 2**53)[0]["time_ms"]
    assert royalties.report(chain.view, when, when + 1)["exports"]
    assert not royalties.report(chain.view, T0, when)["exports"]
    assert not royalties.report(chain.view, 0, 2**53, "antimony")["exports"]


@pytest.mark.parametrize("body, problem", [
    ({"declared_value": {"amount": 5, "currency": "XAU"}}, "not a known ISO 4217"),
    ({"declared_value": {"amount": 1.5, "currency": "USD"}}, "decimals are not allowed"),
    ({"declared_value": {"amount": 0, "currency": "USD"}}, "must be between 1 and"),
])
def test_declared_value_shape(body: dict[str, object], problem: str) -> None:
    export = {"lot_id": "LOT-1", "destination": "CN", "buyer": "b", "permit_ref": "p", **body}
    with pytest.raises(EventFormatError, match=problem):
        validate_body("export", export)


def test_a_schedule_over_the_whole_value_is_refused_at_submission() -> None:
    with pytest.raises(EventFormatError, match="shares sum to 1000001 ppm"):
        validate_body("set_royalty_schedule", {
            "mineral": "copper", "approvals": [{"key": "cd" * 32, "signature": "0" * 128}],
            "shares": [{"beneficiary": "a", "share_ppm": 1_000_000},
                       {"beneficiary": "b", "share_ppm": 1}]})
