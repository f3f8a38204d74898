"""validate_body: the shape check run at submission, with messages a person can act on."""

from __future__ import annotations

import pytest

from node.provenance.schema import (
    KINDS,
    MAX_CHILDREN,
    EventFormatError,
    validate_body,
    validate_tx_body,
)

GOOD: dict[str, dict[str, object]] = {
    "register_lot": {"lot_id": "PK-SB-2026-0001", "mineral": "antimony", "form": "ore",
                     "mass_g": 12_000_000, "site_id": "mine-2-adit-1",
                     "extracted_at_ms": 1795132800000,
                     "location": {"lat_e6": 30733000, "lon_e6": 66653000},
                     "documents": ["0" * 64]},
    "assay": {"lot_id": "PK-SB-2026-0001", "composition": {"Sb": 450_000, "S": 300_000}},
    "dispatch": {"lot_id": "PK-SB-2026-0001", "to_org": "transporter-2", "mass_g": 5,
                 "carrier_org": "transporter-2", "vehicle": "QTA 4411"},
    "receive": {"lot_id": "PK-SB-2026-0001", "site_id": "transporter-2-depot", "mass_g": 5},
    "split": {"lot_id": "LOT-1", "children": [{"lot_id": "LOT-2", "mass_g": 1},
                                              {"lot_id": "LOT-3", "mass_g": 2}]},
    "merge": {"lot_ids": ["LOT-1", "LOT-2"], "new_lot_id": "LOT-3", "form": "concentrate"},
    "transform": {"site_id": "refinery-1-qasim", "inputs": ["LOT-1"],
                  "outputs": [{"lot_id": "LOT-2", "mineral": "copper", "form": "cathode",
                               "mass_g": 1, "composition": {}}]},
    "export": {"lot_id": "LOT-1", "destination": "CN", "buyer": "Jiangxi Copper",
               "permit_ref": "EXP/2026/118"},
    "attest": {"lot_id": "LOT-1", "standard": "OECD-DDG-Annex-II", "finding": "conforms"},
    "flag": {"lot_id": "LOT-1", "reason": "weighbridge ticket missing"},
    "hold": {"lot_id": "LOT-1", "reason": "pending inspection"},
    "release": {"lot_id": "LOT-1", "reason": "inspection passed"},
    "gov_add_org": {"org_id": "mine-4", "name": "Chagai Gold", "roles": ["mine"],
                    "keys": ["ab" * 32], "approvals": [{"key": "cd" * 32, "signature": "0" * 128}]},
    "gov_add_site": {"site_id": "mine-4-pit", "org_id": "mine-4", "kind": "mine",
                     "name": "Pit", "minerals": ["copper"], "gln": "8960000000108",
                     "approvals": [{"key": "cd" * 32, "signature": "0" * 128}]},
    "gov_add_key": {"org_id": "mine-4", "key": "ab" * 32,
                    "approvals": [{"key": "cd" * 32, "signature": "0" * 128}]},
    "gov_revoke_key": {"key": "ab" * 32, "reason": "lost",
                       "approvals": [{"key": "cd" * 32, "signature": "0" * 128}]},
    "gov_rotate_key": {"org_id": "mine-4", "old_key": "ab" * 32, "new_key": "ef" * 32,
                       "approvals": [{"key": "cd" * 32, "signature": "0" * 128}]},
    "gov_revoke_org": {"org_id": "mine-4", "reason": "licence withdrawn",
                       "approvals": [{"key": "cd" * 32, "signature": "0" * 128}]},
    "gov_set_validators": {"validators": [{"name": "v1", "org_id": "lab-1", "node_key": "ab" * 32,
                                           "power": 10}],
                           "approvals": [{"key": "cd" * 32, "signature": "0" * 128}]},
    "tokenize": {"lot_id": "LOT-1", "element": "Cu", "units": 1000},
    "report_equivocation": {"first": "ab" * 100, "second": "cd" * 100},
    "transfer_units": {"lot_id": "LOT-1", "to_org": "investor-1", "units": 10},
    "redeem_units": {"lot_id": "LOT-1", "units": 10},
    "grant_licence": {"licence_id": "ML-1", "org_id": "mine-1", "roles": ["mine"],
                      "expires_at_ms": 1826668800000, "sites": ["mine-1-pit-a"],
                      "minerals": ["copper"], "annual_capacity_g": 50_000_000,
                      "approvals": [{"key": "cd" * 32, "signature": "0" * 128}]},
    "revoke_licence": {"licence_id": "ML-1", "reason": "pit flooded",
                       "approvals": [{"key": "cd" * 32, "signature": "0" * 128}]},
    "set_royalty_schedule": {"mineral": "copper",
                             "shares": [{"beneficiary": "federal", "share_ppm": 20_000}],
                             "approvals": [{"key": "cd" * 32, "signature": "0" * 128}]},
}


def test_every_kind_has_a_good_example() -> None:
    assert set(GOOD) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_good_bodies_pass(kind: str) -> None:
    validate_body(kind, GOOD[kind])


def bad(kind: str, **changes: object) -> dict[str, object]:
    body = dict(GOOD[kind])
    for name, value in changes.items():
        if value is None:
            del body[name]
        else:
            body[name] = value
    return body


@pytest.mark.parametrize(("kind", "body", "message"), [
    ("register_lot", bad("register_lot", mass_g=None), "body: missing field(s): mass_g"),
    ("register_lot", bad("register_lot", mass_kg=5), "body: unknown field(s): mass_kg"),
    ("register_lot", bad("register_lot", mass_g=1.5),
     "body.mass_g: decimals are not allowed; give a whole number of grams"),
    ("register_lot", bad("register_lot", mass_g=-5), "body.mass_g: must be between 1 and"),
    ("register_lot", bad("register_lot", mass_g=0), "body.mass_g: must be between 1 and"),
    ("register_lot", bad("register_lot", mass_g="5"),
     "must be an integer number of grams, got str"),
    ("register_lot", bad("register_lot", mass_g=True), "got boolean"),
    ("register_lot", bad("register_lot", lot_id="pk-lower"),
     "body.lot_id: 'pk-lower' is not a lot id"),
    ("register_lot", bad("register_lot", lot_id="AB"), "is not a lot id"),
    ("register_lot", bad("register_lot", mineral="gold"), "'gold' is not a known mineral"),
    ("register_lot", bad("register_lot", documents=["XYZ"]),
     "body.documents[0]: 'XYZ' is not a SHA-256"),
    ("register_lot", bad("register_lot", location={"lat_e6": 91_000_000, "lon_e6": 0}),
     "body.location.lat_e6: must be between"),
    ("assay", bad("assay", composition={"Xx": 5}), "'Xx' is not an element symbol"),
    ("assay", bad("assay", composition={"Cu": 0}), "body.composition.Cu: must be between 1 and"),
    ("assay", bad("assay", composition={"Cu": 600_000, "Fe": 500_000}),
     "grades sum to 1100000 ppm, more than the whole lot"),
    ("dispatch", bad("dispatch", vehicle="a\nb"), "must not contain control characters"),
    ("split", bad("split", children=[{"lot_id": "LOT-2", "mass_g": 1}]),
     "must have 2 to 64 entries"),
    ("split", bad("split", children=[{"lot_id": f"LOT-{i}", "mass_g": 1}
                                     for i in range(100, 100 + MAX_CHILDREN + 1)]),
     "must have 2 to 64 entries, got 65"),
    ("split", bad("split", children=[{"lot_id": "LOT-2", "mass_g": 1}] * 2),
     "'LOT-2' appears more than once"),
    ("merge", bad("merge", lot_ids="LOT-1"), "body.lot_ids: must be a list, got string"),
    ("export", bad("export", destination="XX"), "'XX' is not a known ISO 3166-1 alpha-2"),
    ("export", bad("export", destination="cn"), "is not a known ISO 3166-1 alpha-2"),
    ("gov_add_key", bad("gov_add_key", approvals=[]), "body.approvals: must have 1 to"),
    ("gov_add_key", bad("gov_add_key", key="AB" * 32), "is not an Ed25519 public key"),
])
def test_malformed_bodies_are_refused(kind: str, body: dict[str, object], message: str) -> None:
    with pytest.raises(EventFormatError) as err:
        validate_body(kind, body)
    assert message in str(err.value)


def test_unknown_kind_and_non_object_body() -> None:
    with pytest.raises(EventFormatError, match="unknown event kind 'smelt'"):
        validate_body("smelt", {})
    with pytest.raises(EventFormatError, match="body: must be an object, got list"):
        validate_body("flag", [])


def test_a_tx_body_check_is_remembered_only_when_it_passes() -> None:
    bad_id, good_id = b"\x01" * 32, b"\x02" * 32
    for _ in range(2):          # a failure is never remembered: the second call fails too
        with pytest.raises(EventFormatError, match="lot_id"):
            validate_tx_body(bad_id, "assay", {"composition": {"Sb": 1}})
    validate_tx_body(good_id, "assay", GOOD["assay"])
    validate_tx_body(good_id, "assay", GOOD["assay"])
