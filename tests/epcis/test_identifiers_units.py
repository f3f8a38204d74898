"""GS1 identifiers and exact units: check digits, LGTIN and Digital Link naming one lot,
GLNs of SGLNs, masses converted through Decimal and refused when not whole grams."""

from decimal import Decimal

import pytest

from node.epcis.identifiers import (
    IdentifierError,
    check_digit,
    gln_from_uri,
    lot_id_from_uri,
    lot_uri,
)
from node.epcis.units import UnitError, grade_ppm, load_document, mass_grams, time_ms
from tests.epcis.fixtures import devnet, gs1_example


def test_devnet_glns_carry_valid_check_digits():
    glns = [site.gln for site in devnet().sites]
    assert glns and all(check_digit(g[:-1]) == g[-1] for g in glns)


def test_lgtin_and_digital_link_in_gs1_examples_name_the_same_lot():
    urn_doc = gs1_example("Example_9.6.4-TransformationEvent.jsonld")
    dl_doc = gs1_example("Example_9.6.4-TransformationEventWithDigitalLink.jsonld")
    urn = urn_doc["epcisBody"]["eventList"][0]["inputQuantityList"][1]["epcClass"]
    link = dl_doc["epcisBody"]["eventList"][0]["inputQuantityList"][1]["epcClass"]
    assert urn == "urn:epc:class:lgtin:0614141.077777.987"
    assert lot_id_from_uri(urn) == lot_id_from_uri(link) == "00614141777778.987"


def test_gs1_lot_ids_map_back_to_digital_link_and_other_lots_to_the_urn():
    assert lot_uri("00614141777778.987") == "https://id.gs1.org/01/00614141777778/10/987"
    assert lot_id_from_uri(lot_uri("00614141777778.987")) == "00614141777778.987"
    assert lot_uri("PK-CU-2026-0001") == "urn:orechain:lot:PK-CU-2026-0001"
    assert lot_id_from_uri("urn:orechain:lot:PK-CU-2026-0001") == "PK-CU-2026-0001"


@pytest.mark.parametrize(("uri", "message"), [
    ("urn:epc:id:sgtin:0614141.107346.2017", "serialised item"),
    ("urn:epc:idpat:sgtin:4012345.066666.*", "serialised item or a pattern"),
    ("urn:epc:class:lgtin:4012345.012345.lot%2Fa", "cannot carry"),
    ("https://id.gs1.org/01/00614141777779/10/987", "wrong check digit"),
    ("https://id.gs1.org/01/04012345666663", "not a lot identifier"),
    ("urn:orechain:lot:lower-case", "not an orechain lot id"),
])
def test_non_lots_are_refused_with_a_reason(uri, message):
    with pytest.raises(IdentifierError, match=message):
        lot_id_from_uri(uri)


def test_sgln_pgln_and_digital_link_give_the_gln():
    assert gln_from_uri("urn:epc:id:sgln:0614141.00888.0") == "0614141008889"
    assert gln_from_uri("urn:epc:id:sgln:0614141.00888.dock-4") == "0614141008889"
    assert gln_from_uri("urn:epc:id:pgln:0614141.00888") == "0614141008889"
    assert gln_from_uri("https://id.gs1.org/414/8960000000016") == "8960000000016"
    with pytest.raises(IdentifierError, match="check digit"):
        gln_from_uri("https://id.gs1.org/414/8960000000017")


def test_masses_convert_exactly():
    doc = load_document(b'{"a": 200.5, "b": 0.001, "c": 12345678.123}')
    assert isinstance(doc["a"], Decimal)
    assert mass_grams(doc["a"], "KGM") == 200_500
    assert mass_grams(doc["b"], "KGM") == 1
    assert mass_grams(doc["c"], "KGM") == 12_345_678_123
    assert mass_grams(3, "TNE") == 3_000_000


@pytest.mark.parametrize(("quantity", "uom", "message"), [
    (Decimal("0.0005"), "KGM", "not a whole number of grams"),
    (10, None, "no uom"),
    (10, "LTR", "not a mass unit"),
    (0, "KGM", "not a positive mass"),
    (0.5, "KGM", "load_document"),
])
def test_inexact_or_unitless_masses_are_refused(quantity, uom, message):
    with pytest.raises(UnitError, match=message):
        mass_grams(quantity, uom)


def test_grades_and_times():
    assert grade_ppm(Decimal("0.62"), "P1") == 6_200
    assert grade_ppm(6200, "59") == 6_200
    with pytest.raises(UnitError, match="whole number of ppm"):
        grade_ppm(Decimal("0.000001"), "P1")
    assert time_ms("1970-01-01T00:00:01.5+00:00") == 1_500
    assert time_ms("2005-04-03T20:33:31.116000-06:00") == 1_112_582_011_116
    with pytest.raises(UnitError, match="time zone"):
        time_ms("2005-04-03T20:33:31")
