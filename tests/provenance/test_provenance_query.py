"""lot_state, lot_events and provenance across split, merge, transform and export."""

from __future__ import annotations

import pytest

from node.provenance import query
from tests.provenance.lotchain import Chain

REF = "refinery-1-qasim"


@pytest.fixture(scope="module")
def chain() -> Chain:
    """Two copper lots from mine-1 refined together; the cathode is split, one part exported.

    A --\\                     /-- C1 (exported)
         merge M -- transform -- K -- split
    B --/           \\-- S    \\-- C2
    """
    c = Chain()
    for lot in ("PK-CU-A", "PK-CU-B"):
        c.to_refinery(lot, 1_000_000, {"Cu": 250_000})
    c.ok("refinery-1", "merge", {"lot_ids": ["PK-CU-A", "PK-CU-B"], "new_lot_id": "PK-CU-M"})
    c.ok("refinery-1", "transform", {"site_id": REF, "inputs": ["PK-CU-M"], "outputs": [
        {"lot_id": "PK-CU-K", "mineral": "copper", "form": "cathode", "mass_g": 480_000,
         "composition": {"Cu": 999_900}},
        {"lot_id": "PK-CU-S", "mineral": "copper", "form": "slag", "mass_g": 1_400_000,
         "composition": {"Cu": 5_000}}]})
    c.ok("refinery-1", "split", {"lot_id": "PK-CU-K", "children": [
        {"lot_id": "PK-CU-C1", "mass_g": 300_000}, {"lot_id": "PK-CU-C2", "mass_g": 180_000}]})
    c.move("PK-CU-C1", "refinery-1", "exporter-1", "exporter-1-karachi", 300_000)
    c.ok("exporter-1", "export", {"lot_id": "PK-CU-C1", "destination": "CN",
                                  "buyer": "Jiangxi Copper", "permit_ref": "EXP-118"})
    c.register("PK-CU-OTHER")   # unrelated lot: never in any answer
    return c


def kinds(chain: Chain, events: list[tuple[int, int, bytes]]) -> list[str]:
    return [chain.txs[tx_id][2].kind for _, _, tx_id in events]


def test_lot_state_and_unknown_lot(chain: Chain) -> None:
    assert query.lot_state(chain.kv, "PK-NOPE") is None
    c1 = query.lot_state(chain.kv, "PK-CU-C1")
    assert c1 is not None and c1["status"] == "exported"
    assert c1["export"]["destination"] == "CN"
    merged = chain.lot("PK-CU-M")
    assert merged["composition"] == {"Cu": 250_000} and merged["mass_g"] == 2_000_000


def test_lot_events_in_chain_order(chain: Chain) -> None:
    events = query.lot_events(chain.kv, "PK-CU-A")
    assert events == sorted(events)
    assert kinds(chain, events) == ["register_lot", "assay", "dispatch", "receive", "merge"]


def test_backward_reaches_every_extraction(chain: Chain) -> None:
    lots, events = query.provenance(chain.kv, "PK-CU-C1", "backward")
    assert set(lots) == {"PK-CU-C1", "PK-CU-K", "PK-CU-M", "PK-CU-A", "PK-CU-B"}
    origins = [lot for lot in lots if not query.lot_state(chain.kv, lot)["parents"]]
    assert set(origins) == {"PK-CU-A", "PK-CU-B"}
    assert events == sorted(set(events))
    assert kinds(chain, events).count("register_lot") == 2
    assert kinds(chain, events)[-1] == "export"


def test_forward_reaches_every_descendant_and_export(chain: Chain) -> None:
    lots, events = query.provenance(chain.kv, "PK-CU-A", "forward")
    assert set(lots) == {"PK-CU-A", "PK-CU-M", "PK-CU-K", "PK-CU-S", "PK-CU-C1", "PK-CU-C2"}
    assert "export" in kinds(chain, events)
    assert "PK-CU-B" not in lots    # a co-parent is not a descendant


def test_both_is_the_union_without_duplicate_events(chain: Chain) -> None:
    both_lots, both_events = query.provenance(chain.kv, "PK-CU-M", "both")
    back, back_events = query.provenance(chain.kv, "PK-CU-M", "backward")
    fwd, fwd_events = query.provenance(chain.kv, "PK-CU-M", "forward")
    assert set(both_lots) == set(back) | set(fwd)
    assert both_events == sorted(set(back_events) | set(fwd_events))
    assert len(both_events) == len(set(both_events))
    assert "PK-CU-OTHER" not in both_lots


def test_unknown_lot_and_bad_direction(chain: Chain) -> None:
    assert query.provenance(chain.kv, "PK-NOPE", "both") == ([], [])
    with pytest.raises(ValueError, match="direction must be one of"):
        query.provenance(chain.kv, "PK-CU-A", "sideways")  # type: ignore[arg-type]
