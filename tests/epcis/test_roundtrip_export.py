"""orechain -> EPCIS -> orechain: every capturable kind comes back as the same body;
exported documents validate against GS1's EPCIS 2.0 JSON schema; capture signs
deterministically so a retried capture is the same txs."""

import pytest

from node.crypto import verify
from node.epcis.capture import Captured, capture
from node.epcis.export import CONTEXT, epcis_document, epcis_event, provenance_to_epcis
from node.epcis.mapping import LotEvent, MappingError, map_document
from tests.epcis.fixtures import devnet_directory, schema_errors
from tests.helpers import event, org_key

LOT, GS1_LOT = "PK-CU-2026-0001", "00614141777778.987"
CAPTURABLE = [
    ("mine-1", "register_lot", {"lot_id": LOT, "mineral": "copper", "form": "ore",
                                "mass_g": 25_000_000, "site_id": "mine-1-pit-a",
                                "extracted_at_ms": 1_795_200_000_123,
                                "location": {"lat_e6": 29_282_000, "lon_e6": 61_567_000},
                                "documents": ["ab" * 32]}),
    ("lab-1", "assay", {"lot_id": LOT, "composition": {"Cu": 6_200, "Au": 3}}),
    ("mine-1", "dispatch", {"lot_id": LOT, "to_org": "refinery-1", "mass_g": 25_000_000,
                            "carrier_org": "transporter-1", "vehicle": "QTA-1234"}),
    ("refinery-1", "receive", {"lot_id": LOT, "site_id": "refinery-1-qasim",
                               "mass_g": 24_950_001}),
    ("refinery-1", "split", {"lot_id": LOT, "children": [
        {"lot_id": GS1_LOT, "mass_g": 24_000_000},
        {"lot_id": LOT + "-B", "mass_g": 950_001}]}),
    ("refinery-1", "merge", {"lot_ids": [GS1_LOT, LOT + "-B"], "new_lot_id": LOT + "-M",
                             "form": "blend"}),
    ("refinery-1", "transform", {"site_id": "refinery-1-qasim", "inputs": [LOT + "-M"],
                                 "outputs": [{"lot_id": LOT + "-C1", "mineral": "copper",
                                              "form": "concentrate", "mass_g": 600_000,
                                              "composition": {"Cu": 250_000}}]}),
    ("exporter-1", "export", {"lot_id": LOT + "-C1", "destination": "CN",
                              "buyer": "Jiangxi Copper", "permit_ref": "EXP-2026-7"}),
]
REGULATORY = [
    ("auditor-1", "attest", {"lot_id": LOT, "standard": "OECD-DDG", "finding": "clean"}),
    ("auditor-1", "flag", {"lot_id": LOT, "reason": "weight gap"}),
    ("regulator-1", "hold", {"lot_id": LOT, "reason": "inspection"}),
    ("regulator-1", "release", {"lot_id": LOT, "reason": "cleared"}),
]
BLOCK_MS = 1_795_300_000_000


def _answer(journey):
    txs = [event(org, kind, body, nonce) for nonce, (org, kind, body) in
           enumerate(journey, start=1)]
    return {"lot_id": LOT, "direction": "both", "chain_id": "orechain-devnet-1", "lots": {},
            "events": [{"tx_id": tx.tx_id.hex(), "tx": tx.to_json(), "height": i + 1,
                        "index": 0, "result": {"accepted": True, "reason": ""}}
                       for i, tx in enumerate(txs)],
            "blocks": {str(i + 1): {"header": {"time_ms": BLOCK_MS + i}}
                       for i in range(len(txs))}}


@pytest.mark.parametrize(("org", "kind", "body"), CAPTURABLE, ids=[k for _, k, _ in CAPTURABLE])
def test_capturable_kinds_round_trip(org, kind, body):
    tx = event(org, kind, body)
    rendered = epcis_event(tx.to_json(), tx.tx_id.hex(), BLOCK_MS, devnet_directory())
    document = epcis_document([rendered], BLOCK_MS)
    assert schema_errors(document) == []
    assert map_document(document, devnet_directory()) == [[LotEvent(kind, body)]]


@pytest.mark.parametrize(("org", "kind", "body"), REGULATORY, ids=[k for _, k, _ in REGULATORY])
def test_regulatory_kinds_export_but_are_not_captured(org, kind, body):
    tx = event(org, kind, body)
    rendered = epcis_event(tx.to_json(), tx.tx_id.hex(), BLOCK_MS, devnet_directory())
    assert rendered["orechain:regulatory"]["kind"] == kind
    [result] = map_document(epcis_document([rendered], BLOCK_MS), devnet_directory())
    assert isinstance(result, MappingError)


def test_provenance_answer_exports_to_a_schema_valid_document():
    answer = _answer(CAPTURABLE + REGULATORY)
    document = provenance_to_epcis(answer, devnet_directory())
    assert schema_errors(document) == []
    events = document["epcisBody"]["eventList"]
    assert [e["eventID"] for e in events] == [
        "urn:orechain:tx:" + e["tx_id"] for e in answer["events"]]
    assert events[0]["eventTime"] == "2026-11-20T18:40:00.123Z"   # extraction time
    assert events[0]["bizLocation"] == {"id": "https://id.gs1.org/414/8960000000016"}
    assert events[3]["quantityList"][0] == {"epcClass": "urn:orechain:lot:" + LOT,
                                            "quantity": 24_950_001, "uom": "GRM"}
    assert events[4]["childQuantityList"][0]["epcClass"] == (
        "https://id.gs1.org/01/00614141777778/10/987")
    assert document["creationDate"] == events[-1]["recordTime"]
    assert provenance_to_epcis(answer, devnet_directory()) == document   # deterministic


def test_export_without_genesis_names_sites_by_urn_and_stays_valid():
    document = provenance_to_epcis(_answer(CAPTURABLE[:1]))
    assert document["epcisBody"]["eventList"][0]["bizLocation"] == {
        "id": "urn:orechain:site:mine-1-pit-a"}
    assert schema_errors(document) == []


def test_schema_check_catches_a_broken_export():
    document = provenance_to_epcis(_answer(CAPTURABLE[:1]))
    del document["epcisBody"]["eventList"][0]["eventTimeZoneOffset"]
    document["epcisBody"]["eventList"][0]["quantityList"][0]["uom"] = "kilogram"
    errors = schema_errors(document)
    assert any("eventTimeZoneOffset" in e for e in errors)
    assert any("kilogram" in e for e in errors)


def _capture_document(*events):
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-11-21T00:00:00Z", "epcisBody": {"eventList": list(events)}}


def test_capture_signs_each_lot_event_with_the_node_org_key():
    key = org_key("mine-1")
    register = epcis_event(event("mine-1", *CAPTURABLE[0][1:]).to_json(), "00" * 32, BLOCK_MS,
                           devnet_directory())
    document = _capture_document(register, {"type": "AssociationEvent"})
    first = capture(document, devnet_directory(), key, "orechain-devnet-1")
    assert isinstance(first[0], Captured) and isinstance(first[1], MappingError)
    [tx] = first[0].txs
    assert tx.kind == "register_lot" and tx.body == CAPTURABLE[0][2]
    assert tx.signer == key.public_key and verify(tx.signer, tx.signing_bytes, tx.signature)
    again = capture(document, devnet_directory(), key, "orechain-devnet-1")
    assert again[0].txs[0].tx_id == tx.tx_id            # a retried capture is idempotent
    register["eventTime"] = "2026-11-20T18:40:00.124Z"
    moved = capture(_capture_document(register), devnet_directory(), key, "orechain-devnet-1")
    assert moved[0].txs[0].tx_id != tx.tx_id


def test_missing_mass_and_master_data_are_named():
    key = org_key("mine-1")
    base = epcis_event(event("mine-1", *CAPTURABLE[0][1:]).to_json(), "00" * 32, BLOCK_MS,
                       devnet_directory())
    no_mass = {**base, "quantityList": [{"epcClass": "urn:orechain:lot:" + LOT}]}
    no_ilmd = {k: v for k, v in base.items() if k != "ilmd"}
    grams = {**base, "quantityList": [{"epcClass": "urn:orechain:lot:" + LOT,
                                       "quantity": 25_000_000.5, "uom": "GRM"}]}
    results = capture(_capture_document(no_mass, no_ilmd), devnet_directory(), key,
                      "orechain-devnet-1")
    assert [(r.index, r.field) for r in results] == [(0, "quantityList[0].quantity"),
                                                     (1, "ilmd")]
    assert "mass" in results[0].reason and "mineral and form" in results[1].reason
    [float_error] = capture(_capture_document(grams), devnet_directory(), key, "orechain-devnet-1")
    assert float_error.field == "quantityList[0]" and "load_document" in float_error.reason
