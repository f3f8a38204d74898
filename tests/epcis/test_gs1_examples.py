"""GS1's own published EPCIS 2.0 examples: they validate against GS1's schema, and each
event either maps or is refused with a reason naming its index and field."""

import json
from dataclasses import replace

import pytest

from node.epcis.directory import Directory
from node.epcis.mapping import LotEvent, MappingError, map_document
from tests.epcis.fixtures import GS1_EXAMPLES, devnet, devnet_directory, gs1_example, schema_errors

# file -> for each event: (field at fault, words of the reason)
EXPECTED = {
    "Example_9.6.1-ObjectEvent.jsonld": [("epcList[0]", "serialised item"),
                                         ("epcList[0]", "serialised item")],
    "EPCISQueryDocument.jsonld": [("epcList[0]", "serialised item"),
                                  ("epcList[0]", "serialised item")],
    "Example_9.6.2-ObjectEvent.jsonld": [("bizLocation.id", "GLN 0614141008889 is not")],
    "Example_9.6.3-AggregationEvent.jsonld": [("childEPCs[0]", "serialised item")],
    "Example_9.6.4-TransformationEvent.jsonld": [("inputEPCList[0]", "serialised item")],
    "Example_9.6.4-TransformationEventWithDigitalLink.jsonld": [
        ("inputEPCList[0]", "serialised item")],
    "ErrorDeclarationAndCorrectiveEvent.jsonld": [("errorDeclaration", "append-only"),
                                                  ("inputEPCList[0]", "serialised item")],
    "Example-TransactionEvents-2020_07_03y.jsonld": [("type", "TransactionEvent"),
                                                     ("type", "TransactionEvent")],
    "AssociationEvent-a.jsonld": [("type", "AssociationEvent")],
    "transformation_event_all_possible_fields.jsonld": [("errorDeclaration", "append-only")],
}


def test_every_gs1_example_is_covered():
    assert {p.name for p in GS1_EXAMPLES.glob("*.jsonld")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_gs1_example_validates_against_gs1_schema(name):
    document = json.loads((GS1_EXAMPLES / name).read_text())
    assert schema_errors(document) == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_gs1_example_events_are_refused_with_index_and_field(name):
    results = map_document(gs1_example(name), devnet_directory())
    assert len(results) == len(EXPECTED[name])
    for index, (result, (field, words)) in enumerate(zip(results, EXPECTED[name],
                                                         strict=True)):
        assert isinstance(result, MappingError), result
        assert (result.index, result.field) == (index, field)
        assert words in result.reason
        assert str(result).startswith(f"event {index}")


def test_receiving_by_weight_maps_once_the_gln_is_a_site():
    """GS1 9.6.2 receives 200 KGM of an LGTIN lot: at a site carrying that GLN it is a
    receive of lot <GTIN>.998877 weighing 200,000 g."""
    genesis = devnet()
    sites = tuple(replace(s, gln="0614141008889") if s.id == "refinery-1-qasim" else s
                  for s in genesis.sites)
    directory = Directory.from_genesis(replace(genesis, sites=sites))
    [result] = map_document(gs1_example("Example_9.6.2-ObjectEvent.jsonld"), directory)
    assert result == [LotEvent("receive", {"lot_id": "04012345123456.998877",
                                           "site_id": "refinery-1-qasim",
                                           "mass_g": 200_000})]


def test_fractional_kilograms_in_gs1_aggregation_convert_exactly():
    """GS1 9.6.3 packs 200.5 KGM of a lot; as a DELETE (split) its children need masses,
    and 200.5 KGM is exactly 200,500 g."""
    document = gs1_example("Example_9.6.3-AggregationEvent.jsonld")
    event = document["epcisBody"]["eventList"][0]
    event.update(action="DELETE", parentID="urn:orechain:lot:PK-CU-2026-0001")
    del event["childEPCs"]
    event["childQuantityList"] = [q for q in event["childQuantityList"] if "uom" in q] + [
        {"epcClass": "urn:orechain:lot:PK-CU-2026-0001-B", "quantity": 1, "uom": "TNE"}]
    [result] = map_document(document, devnet_directory())
    assert result == [LotEvent("split", {"lot_id": "PK-CU-2026-0001", "children": [
        {"lot_id": "04012345123456.998877", "mass_g": 200_500},
        {"lot_id": "PK-CU-2026-0001-B", "mass_g": 1_000_000}]})]
