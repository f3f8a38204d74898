"""The lot: what a physical lot of ore, concentrate or metal is, as state records it.

A lot is a frozen value; a rule builds the next version with `dataclasses.replace`
and the ledger stores it. The stored form is a canonical msgpack map (keys sorted
bytewise), so every node writes identical bytes for the same lot.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

# Custody status. "held" is not one of them: a regulator's hold is an overlay on
# any live status (a lot can be held while in transit) and lifts back to it.
ACTIVE = "active"
IN_TRANSIT = "in_transit"
CONSUMED = "consumed"
EXPORTED = "exported"
HELD = "held"


@dataclass(frozen=True)
class Lot:
    lot_id: str
    mineral: str
    form: str
    mass_g: int
    holder: str                          # org with custody (the recipient once received)
    site_id: str | None                  # where the lot lies; None while in transit
    status: str
    created_height: int
    created_ms: int
    updated_height: int
    composition: dict[str, int] = field(default_factory=dict)   # element -> ppm
    composition_source: str = ""         # assay, split, merge, transform, or "" if unknown
    parents: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    origin: dict[str, Any] | None = None     # register_lot: site_id, extracted_at_ms, location
    transit: dict[str, Any] | None = None    # dispatch: from_org, to_org, carrier, mass_g, ...
    hold: dict[str, Any] | None = None       # hold: by, reason, height
    export: dict[str, Any] | None = None     # export: destination, buyer, permit_ref, height
    recovery_ppm: dict[str, int] = field(default_factory=dict)  # transform outputs
    flags: tuple[dict[str, Any], ...] = ()
    attestations: tuple[dict[str, Any], ...] = ()
    consumed_height: int | None = None

    def to_record(self) -> dict[str, Any]:
        # Shallow on purpose: the record is encoded or serialised at once, and a deep
        # copy of every nested map costs more than the rest of a provenance query.
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["parents"] = list(self.parents)
        out["children"] = list(self.children)
        out["flags"] = list(self.flags)
        out["attestations"] = list(self.attestations)
        return out

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Lot:
        fields = dict(rec)
        for name in ("parents", "children", "flags", "attestations"):
            fields[name] = tuple(fields[name])
        return cls(**fields)

    def to_json(self) -> dict[str, Any]:
        return record_to_json(self.to_record())


def record_to_json(record: dict[str, Any]) -> dict[str, Any]:
    """The JSON answer of lot_get: the record, with `status` "held" while a hold is on
    and the underlying custody status kept as `custody_status`."""
    out = dict(record)
    out["custody_status"] = record["status"]
    out["status"] = HELD if record["hold"] else record["status"]
    return out
