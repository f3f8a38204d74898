"""Typed access to the application state records over a KV: orgs, sites, keys, params,
the admin set, lots and the per-lot event index.

This is the only module that knows how state records are laid out; keys come from
node.store.keys and values are canonical msgpack maps. `LedgerView` reads (queries,
admission); `Ledger` also writes, through the Overlay a block is applied in.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import msgpack

from node import codec
from node.provenance.lot import Lot, record_to_json
from node.store import keys
from node.store.kv import KV, WritableKV, scan_prefixes
from node.types.genesis import DEFAULT_PARAMS

_EVENT_SUFFIX = struct.Struct(">QI")   # height, index: the tail of a lot_event_key
GOV_EVENT = "event/"                   # governance_key(GOV_EVENT + height:20 + index:10)


def _gov_event_name(height: int, index: int) -> str:
    # Fixed-width decimal so the store's bytewise order is chain order.
    return f"{GOV_EVENT}{height:020d}{index:010d}"


@dataclass(frozen=True)
class OrgRecord:
    id: str
    name: str
    roles: tuple[str, ...]
    active: bool
    added_height: int
    revoked_height: int | None = None
    revoked_reason: str = ""


@dataclass(frozen=True)
class SiteRecord:
    id: str
    org: str
    kind: str
    name: str
    minerals: tuple[str, ...]
    location: dict[str, int] | None
    gln: str
    added_height: int


@dataclass(frozen=True)
class KeyRecord:
    """A signer key: the org it signs for, and whether it may still sign.

    A revoked key stays on record (with when and why) so it can never be registered
    again and so the events it signed before revocation keep their meaning."""
    org: str
    active: bool
    added_height: int
    revoked_height: int | None = None
    revoked_reason: str = ""


@dataclass(frozen=True)
class AdminSet:
    threshold: int
    keys: tuple[bytes, ...]


def _encode(rec: Any) -> bytes:
    data = asdict(rec)
    return codec.encode({k: list(v) if isinstance(v, tuple) else v for k, v in data.items()})


def load_record(raw: bytes) -> Any:
    """Decode a state record. State is written only through this module with
    codec.encode and read back from our own checksummed store, so the canonical
    re-encoding check that guards untrusted input is skipped: it would cost more than
    the rest of a 10,000-event provenance query."""
    return msgpack.unpackb(raw, raw=False, strict_map_key=True)


def _decode_into(cls: Any, raw: bytes) -> Any:
    fields = load_record(raw)
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


class Decoded:
    """Typed records by their stored bytes, so a record read again is not decoded again.

    Applying an event reads the same few records several times (its lots before and
    after the rule, the signer's key and org on every tx), and the next event mostly
    reads what the last one wrote, and provenance queries walk the same lots again.
    The bytes are the whole key: a record that changes has new bytes, so nothing here
    can go stale; what is handed out is shared, and no reader changes it in place.
    Bounded by dropping everything when full.
    """

    LIMIT = 1 << 14
    every: list[Decoded] = []

    def __init__(self, build: Callable[[bytes], Any]) -> None:
        self._build = build
        self._items: dict[bytes, Any] = {}
        Decoded.every.append(self)

    def get(self, raw: bytes) -> Any:
        found = self._items.get(raw)
        if found is None:
            found = self._build(raw)
            self.remember(raw, found)
        return found

    def remember(self, raw: bytes, value: Any) -> None:
        if len(self._items) >= self.LIMIT:
            self._items.clear()
        self._items[raw] = value

    def forget(self) -> None:
        self._items.clear()


_LOTS = Decoded(lambda raw: Lot.from_record(load_record(raw)))
_RECORDS = Decoded(load_record)         # lot records as maps, for provenance walks
# Lots as lot_get shows them, as compact JSON text, for answers that list thousands.
_LOT_TEXTS = Decoded(lambda raw: json.dumps(record_to_json(_RECORDS.get(raw)),
                                             separators=(",", ":")))
_ORGS = Decoded(lambda raw: _decode_into(OrgRecord, raw))
_SIGNERS = Decoded(lambda raw: _decode_into(KeyRecord, raw))
_SITES = Decoded(lambda raw: _decode_into(SiteRecord, raw))


def forget_decoded() -> None:
    """Drop every decoded record kept for reuse (a benchmark of a cold node does)."""
    for cache in Decoded.every:
        cache.forget()


class LedgerView:
    """Read-only state over any KV (the block store, an Overlay, a MemoryKV)."""

    def __init__(self, kv: KV) -> None:
        self.kv = kv

    def org(self, org_id: str) -> OrgRecord | None:
        raw = self.kv.get(keys.org_key(org_id))
        return _ORGS.get(raw) if raw is not None else None

    def site(self, site_id: str) -> SiteRecord | None:
        raw = self.kv.get(keys.site_key(site_id))
        return _SITES.get(raw) if raw is not None else None

    def signer(self, public_key: bytes) -> KeyRecord | None:
        raw = self.kv.get(keys.signer_key(public_key))
        return _SIGNERS.get(raw) if raw is not None else None

    def orgs(self) -> list[OrgRecord]:
        """Every org ever registered (revoked ones included), in id order."""
        return [_ORGS.get(raw) for _, raw in self.kv.iter_prefix(keys.ORG_PREFIX)]

    def sites(self) -> list[SiteRecord]:
        """Every site ever registered, in id order."""
        return [_SITES.get(raw) for _, raw in self.kv.iter_prefix(keys.SITE_PREFIX)]

    def keys_of(self, org_id: str) -> list[bytes]:
        """Every key ever registered for `org_id` (active or revoked), in key order."""
        prefix = keys.signer_key(b"")
        return [k[len(prefix):] for k, raw in self.kv.iter_prefix(prefix)
                if load_record(raw)["org"] == org_id]

    def param(self, name: str) -> int:
        raw = self.kv.get(keys.param_key(name))
        if raw is None and name in DEFAULT_PARAMS:
            # A parameter added after this chain's genesis was written reads its default.
            return DEFAULT_PARAMS[name]
        if raw is None:
            raise KeyError(f"network parameter {name} is not in state")
        value: int = load_record(raw)
        return value

    def admin(self) -> AdminSet:
        raw = self.kv.get(keys.governance_key("admin"))
        if raw is None:
            raise KeyError("the admin set is not in state")
        rec = load_record(raw)
        return AdminSet(rec["threshold"], tuple(rec["keys"]))

    def governance(self, name: str) -> Any:
        raw = self.kv.get(keys.governance_key(name))
        return load_record(raw) if raw is not None else None

    def governance_items(self, name_prefix: str) -> list[tuple[str, Any]]:
        """(name, value) of every governance-namespace record whose name starts with
        `name_prefix`, in bytewise name order (licences, royalties, units, flags)."""
        prefix = keys.governance_prefix(name_prefix)
        return [((name_prefix.encode() + key[len(prefix):-1]).decode(), load_record(raw))
                for key, raw in self.kv.iter_prefix(prefix)]

    def governance_values(self, name_prefix: str, decoded: Decoded) -> list[Any]:
        """The values of governance_items as `decoded` builds them from their bytes (a
        value read again is not decoded again), in the same order."""
        prefix = keys.governance_prefix(name_prefix)
        return [decoded.get(raw) for _, raw in self.kv.iter_prefix(prefix)]

    def governance_events(self, up_to_height: int) -> list[tuple[int, int, bytes]]:
        """(height, index, tx_id) of every accepted governance tx at or below
        `up_to_height`, in chain order: what a verifier replays before lot events."""
        prefix = keys.governance_prefix(GOV_EVENT)
        out = []
        for key, tx_id in self.kv.iter_prefix(prefix):
            name = key[len(prefix):-1]         # drop the NUL that ends every name
            height, index = int(name[:20]), int(name[20:])
            if height > up_to_height:
                break
            out.append((height, index, tx_id))
        return out

    def lot_record(self, lot_id: str) -> dict[str, Any] | None:
        """The stored lot record as a plain map (queries need no Lot object). The map
        may be shared with other readers of the same record: read it, never change it."""
        raw = self.kv.get(keys.lot_key(lot_id))
        return _RECORDS.get(raw) if raw is not None else None

    def lot(self, lot_id: str) -> Lot | None:
        raw = self.kv.get(keys.lot_key(lot_id))
        return _LOTS.get(raw) if raw is not None else None

    def lot_text(self, lot_id: str) -> str | None:
        """The lot as lot_get shows it, as compact JSON text."""
        raw = self.kv.get(keys.lot_key(lot_id))
        return _LOT_TEXTS.get(raw) if raw is not None else None

    def lot_events(self, lot_id: str) -> list[tuple[int, int, bytes]]:
        """(height, index, tx_id) of every accepted event that touched the lot, in chain
        order (the key's big-endian height and index sort bytewise as numbers)."""
        return self.lots_events([lot_id])[lot_id]

    def lots_events(self, lot_ids: Iterable[str]) -> dict[str, list[tuple[int, int, bytes]]]:
        """lot_events of many lots, read in one pass over the index."""
        prefixes = {keys.lot_event_prefix(lot_id): lot_id for lot_id in lot_ids}
        found = scan_prefixes(self.kv, prefixes)
        unpack = _EVENT_SUFFIX.unpack
        out = {}
        for prefix, lot_id in prefixes.items():
            start = len(prefix)
            out[lot_id] = [(*unpack(key[start:]), tx_id) for key, tx_id in found[prefix]]
        return out


class Ledger(LedgerView):
    """State that rules write to; `kv` is the block's Overlay, journalling the tx's writes."""

    kv: WritableKV

    def __init__(self, kv: WritableKV) -> None:
        super().__init__(kv)

    def put_org(self, org: OrgRecord) -> None:
        self.kv.put(keys.org_key(org.id), _encode(org))

    def put_site(self, site: SiteRecord) -> None:
        self.kv.put(keys.site_key(site.id), _encode(site))

    def put_signer(self, public_key: bytes, rec: KeyRecord) -> None:
        self.kv.put(keys.signer_key(public_key), _encode(rec))

    def put_param(self, name: str, value: int) -> None:
        self.kv.put(keys.param_key(name), codec.encode(value))

    def put_admin(self, admin: AdminSet) -> None:
        self.kv.put(keys.governance_key("admin"),
                    codec.encode({"threshold": admin.threshold, "keys": list(admin.keys)}))

    def put_governance(self, name: str, value: Any) -> None:
        self.kv.put(keys.governance_key(name), codec.encode(value))

    def delete_governance(self, name: str) -> None:
        self.kv.delete(keys.governance_key(name))

    def put_lot(self, lot: Lot) -> None:
        raw = lot.encoded()
        self.kv.put(keys.lot_key(lot.lot_id), raw)
        _LOTS.remember(raw, lot)          # the next event on this lot reads these bytes

    def index_event(self, lot_id: str, height: int, index: int, tx_id: bytes) -> None:
        self.kv.put(keys.lot_event_key(lot_id, height, index), tx_id)

    def index_governance_event(self, height: int, index: int, tx_id: bytes) -> None:
        """Record an accepted governance tx, so provenance answers can carry every
        governance action the lot rules they prove depended on."""
        self.kv.put(keys.governance_key(_gov_event_name(height, index)), tx_id)
