"""An in-memory chain for the asset-layer tests: the devnet genesis plus investors,
initial licences and a copper royalty schedule, on the real apply_block."""

from __future__ import annotations

import json
from typing import Any

from node.provenance.ledger import LedgerView
from node.types.genesis import Genesis
from tests.provenance.lotchain import DEVNET, Chain, org_key

T0 = 1_795_132_800_000                # the devnet genesis time
DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS
INVESTORS = ("investor-1", "investor-2", "investor-3")
CU_SCHEDULE = [{"beneficiary": "federal", "share_ppm": 20_000},
               {"beneficiary": "balochistan", "share_ppm": 25_000},
               {"beneficiary": "chagai-district-fund", "share_ppm": 5_000}]


def licence(licence_id: str, org: str, role: str, **scope: Any) -> dict[str, Any]:
    return {"licence_id": licence_id, "org": org, "roles": [role],
            "expires_at_ms": T0 + YEAR_MS, **scope}


def asset_doc(licences_required: int = 1) -> dict[str, Any]:
    doc = json.loads(DEVNET.read_text())
    doc["params"]["licences_required"] = licences_required
    doc["orgs"] += [{"id": org, "name": f"{org} (test fund)", "roles": ["investor"],
                     "keys": [org_key(org).public_key.hex()]} for org in INVESTORS]
    doc["licences"] = [
        licence("ML-CU-1", "mine-1", "mine", sites=["mine-1-pit-a"], minerals=["copper"],
                annual_capacity_g=50_000_000),
        licence("LAB-1", "lab-1", "lab"),
        licence("REF-1", "refinery-1", "refinery", minerals=["copper", "antimony"]),
        licence("EXP-1", "exporter-1", "exporter"),
        licence("TR-1", "transporter-1", "transporter"),
    ]
    doc["royalties"] = {"copper": CU_SCHEDULE}
    return doc


class AssetChain(Chain):
    def __init__(self, licences_required: int = 1) -> None:
        super().__init__(Genesis.from_json(asset_doc(licences_required)))

    @property
    def view(self) -> LedgerView:
        return LedgerView(self.kv)

    def register_at(self, lot_id: str, mass_g: int, extracted_at_ms: int,
                    mine: str = "mine-1", site: str = "mine-1-pit-a",
                    mineral: str = "copper") -> None:
        self.ok(mine, "register_lot", {"lot_id": lot_id, "mineral": mineral, "form": "ore",
                                       "mass_g": mass_g, "site_id": site,
                                       "extracted_at_ms": extracted_at_ms})

    def assayed_at_refinery(self, lot_id: str, mass_g: int = 1_000_000,
                            cu_ppm: int = 250_000, aged: bool = True) -> None:
        """Register (extracted 3 days before genesis when `aged`), assay and move to the
        refinery's site."""
        self.register_at(lot_id, mass_g, T0 - 3 * DAY_MS if aged else self.time_ms)
        self.ok("lab-1", "assay", {"lot_id": lot_id, "composition": {"Cu": cu_ppm}})
        self.move(lot_id, "mine-1", "refinery-1", "refinery-1-qasim", mass_g)

    def cathode(self, ore: str, lot_id: str, mass_g: int, cu_ppm: int) -> None:
        self.ok("refinery-1", "transform", {
            "site_id": "refinery-1-qasim", "inputs": [ore],
            "outputs": [{"lot_id": lot_id, "mineral": "copper", "form": "cathode",
                         "mass_g": mass_g, "composition": {"Cu": cu_ppm}}]})

    def kyc(self, org: str) -> None:
        self.ok("regulator-1", "attest", {"org_id": org, "standard": "KYC",
                                          "finding": "identity and source of funds verified"})

    def export_body(self, lot_id: str, amount: int | None = 1_000_000_00,
                    currency: str = "USD") -> dict[str, Any]:
        body: dict[str, Any] = {"lot_id": lot_id, "destination": "CN",
                                "buyer": "Jiangxi Copper", "permit_ref": "EXP/2026/7"}
        if amount is not None:
            body["declared_value"] = {"amount": amount, "currency": currency}
        return body
