"""The lot: what a physical lot of ore, concentrate or metal is, as state records it.

A lot is a frozen value; a rule builds the next version with `Lot.evolve` and the
ledger stores it. The stored form is a canonical msgpack map (keys sorted bytewise),
so every node writes identical bytes for the same lot.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import msgpack

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

        The record's keys are known, so they are laid out in canonical order once,
        and only the nested values are put in canonical form; the generic encoder
        sorts and checks all 23 fields on every version of every lot. Anything but
        the plain values rules store (a float, a subclass) takes the generic encoder,
        which refuses what it must."""
        state = self.__dict__
        record = {}
        for name in _CANONICAL_ORDER:
            value = state[name]
            kind = type(value)
            if kind in _PLAIN:
                pass
            elif not value and (kind is tuple or kind is list):
                value = []                   # most lots have no flags, parents, ...
            else:
                value = _sorted_maps(value)
                if value is _NOT_PLAIN:
                    return codec.encode(self.to_record())
            record[name] = value
        return msgpack.packb(record, use_bin_type=True)

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Lot:
        fields = dict(rec)
        for name in ("parents", "children", "flags", "attestations"):
            fields[name] = tuple(fields[name])
        return cls(**fields)

    def to_json(self) -> dict[str, Any]:
        return record_to_json(self.to_record())


_FIELD_NAMES = frozenset(f.name for f in fields(Lot))
# Field names are ASCII, so code point order is the bytewise order codec requires.
_CANONICAL_ORDER = tuple(sorted(_FIELD_NAMES))
_PLAIN = frozenset({str, int, bool, type(None)})
_STR = frozenset({str})
_NOT_PLAIN = object()


def _sorted_maps(value: Any) -> Any:
    """`value` with every map's keys sorted and tuples as lists, or _NOT_PLAIN if it
    holds anything but str-keyed maps, lists, tuples, str, int, bool and None.
    (Type sets are compared whole: most values are flat, and that test runs in C.)"""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        if value and set(map(type, value)) != _STR:
            return _NOT_PLAIN
        if set(map(type, value.values())) <= _PLAIN:
            return {key: value[key] for key in sorted(value)}
        out = {key: _sorted_maps(value[key]) for key in sorted(value)}
        return _NOT_PLAIN if any(item is _NOT_PLAIN for item in out.values()) else out
    if kind is list or kind is tuple:
        if set(map(type, value)) <= _PLAIN:
            return list(value)
        items = [_sorted_maps(item) for item in value]
        return _NOT_PLAIN if any(item is _NOT_PLAIN for item in items) else items
    return _NOT_PLAIN


def record_to_json(record: dict[str, Any]) -> dict[str, Any]:
    """The JSON answer of lot_get: the record, with `status` "held" while a hold is on
    and the underlying custody status kept as `custody_status`."""
    out = dict(record)
    out["custody_status"] = record["status"]
    out["status"] = HELD if record["hold"] else record["status"]
    return out
