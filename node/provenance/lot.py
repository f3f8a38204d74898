"""The lot: what a physical lot of ore, concentrate or metal is, as state records it.

A lot is a frozen value; a rule builds the next version with `Lot.evolve` and the
ledger stores it. The stored form is a canonical msgpack map (keys sorted bytewise),
so every node writes identical bytes for the same lot.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from node import codec

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

    def evolve(self, **changes: Any) -> Lot:
        """dataclasses.replace without re-running __init__ field by field: every block
        builds a new version of each lot it touches, so this is on the hot path. The
        values are the ones replace would set; unknown names are refused as it does."""
        unknown = changes.keys() - _FIELD_NAMES
        if unknown:
            raise TypeError(f"Lot has no field {', '.join(sorted(unknown))}")
        new = object.__new__(Lot)
        state = new.__dict__
        state.update(self.__dict__)
        state.update(changes)
        return new

    def encoded(self) -> bytes:
        """codec.encode(self.to_record()), byte for byte (the tests hold it to that).

        The record is the fields with the four sequences made lists, and a tuple
        encodes as the same array as a list, so while those four are tuples or lists
        (from_record makes them tuples) the fields are encoded as they stand, without
        building the record: that takes longer than the encoding itself."""
        state = self.__dict__
        if (len(state) == _FIELD_COUNT and type(state["parents"]) in _SEQUENCES
                and type(state["children"]) in _SEQUENCES
                and type(state["flags"]) in _SEQUENCES
                and type(state["attestations"]) in _SEQUENCES):
            return codec.encode(state)
        return codec.encode(self.to_record())

    @classmethod
    def new(cls, **values: Any) -> Lot:
        """Lot(**values), the same value, without the frozen dataclass's __init__: that
        sets each of 22 fields through object.__setattr__, which was a measurable part
        of registering a lot or reading one back. Anything Lot() would refuse is
        handed to it, to be refused the same way."""
        names = values.keys()
        if not (names >= _REQUIRED and names <= _FIELD_NAMES):
            return cls(**values)
        new = object.__new__(cls)
        state = new.__dict__
        state.update(_DEFAULTS)
        for name, make in _FACTORIES:
            state[name] = make()
        state.update(values)
        return new

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Lot:
        values = dict(rec)
        for name in ("parents", "children", "flags", "attestations"):
            values[name] = tuple(values[name])
        return cls.new(**values)

    def to_json(self) -> dict[str, Any]:
        return record_to_json(self.to_record())


_FIELD_NAMES = frozenset(f.name for f in fields(Lot))
_REQUIRED = frozenset(f.name for f in fields(Lot)
                      if f.default is MISSING and f.default_factory is MISSING)
_DEFAULTS = {f.name: f.default for f in fields(Lot) if f.default is not MISSING}
_FACTORIES = tuple((f.name, f.default_factory) for f in fields(Lot)
                   if f.default_factory is not MISSING)
_FIELD_COUNT = len(_FIELD_NAMES)
_SEQUENCES = frozenset({tuple, list})


def record_to_json(record: dict[str, Any]) -> dict[str, Any]:
    """The JSON answer of lot_get: the record, with `status` "held" while a hold is on
    and the underlying custody status kept as `custody_status`."""
    out = dict(record)
    out["custody_status"] = record["status"]
    out["status"] = HELD if record["hold"] else record["status"]
    return out
