"""The genesis document: the chain's founding orgs, sites, validators, nodes and rules.

`Genesis.from_json` validates a parsed genesis file and raises GenesisError with the
JSON path of the first problem, so an operator can fix a broken file by reading one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from node import codec
from node.merkle import sha256
from node.types.validators import Validator, ValidatorSet

ROLES = ("mine", "transporter", "lab", "refinery", "exporter", "regulator", "auditor", "admin",
         "investor")
MINERALS = ("antimony", "copper", "rare_earth")
SITE_KINDS = ("mine", "warehouse", "lab", "refinery", "port", "office")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")

DEFAULT_PARAMS: dict[str, int] = {
    "loss_tolerance_ppm": 5_000,          # 0.5 % transport loss before a lot is flagged
    "transform_tolerance_ppm": 10_000,    # 1 % slack on contained metal through refining
    "max_block_txs": 5_000,
    "max_block_bytes": 8 * 1024 * 1024,
    "timeout_propose_ms": 1_000,
    "timeout_propose_delta_ms": 500,
    "timeout_prevote_ms": 500,
    "timeout_prevote_delta_ms": 250,
    "timeout_precommit_ms": 500,
    "timeout_precommit_delta_ms": 250,
    "timeout_cap_ms": 60_000,
    "block_interval_ms": 200,
    "heartbeat_ms": 0,
    "max_clock_drift_ms": 10_000,
    "validator_change_delay": 2,
    # Licences and the compliance watch (docs/assets.md).
    "licences_required": 0,               # 1: licensed activities need a valid licence
    "min_export_age_ms": 172_800_000,     # exports sooner than 2 days after extraction flag
    "recovery_max_ppm": 980_000,          # refinery recovery above 98 % flags
    "recovery_low_grade_ppm": 5_000,      # inputs below 0.5 % grade use the lower ceiling
    "recovery_max_low_grade_ppm": 900_000,
}


class GenesisError(ValueError):
    """The genesis document is invalid; the message names the offending field."""


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    roles: tuple[str, ...]
    keys: tuple[bytes, ...]


@dataclass(frozen=True)
class Site:
    id: str
    org: str
    kind: str
    name: str
    minerals: tuple[str, ...]
    location: dict[str, int] | None
    gln: str


@dataclass(frozen=True)
class NodeEntry:
    name: str
    org: str
    node_key: bytes


@dataclass(frozen=True)
class Genesis:
    chain_id: str
    genesis_time_ms: int
    params: dict[str, int]
    orgs: tuple[Org, ...]
    sites: tuple[Site, ...]
    validators: ValidatorSet
    nodes: tuple[NodeEntry, ...]
    admin_threshold: int
    admin_keys: tuple[bytes, ...]
    document: dict[str, Any]
    # Initial licences and royalty schedule (docs/assets.md), checked by _assets; kept
    # as their JSON shapes because state stores them as the governance txs write them.
    licences: tuple[dict[str, Any], ...] = ()
    royalties: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @cached_property
    def hash(self) -> bytes:
        """Hash of the canonical form of the document: the parent of block 1."""
        return sha256(codec.encode(self.document))

    def node_named(self, name: str) -> NodeEntry | None:
        return next((n for n in self.nodes if n.name == name), None)

    @classmethod
    def from_json(cls, doc: Any) -> Genesis:
        return _parse(doc)


def _fail(path: str, problem: str) -> GenesisError:
    return GenesisError(f"genesis {path}: {problem}")


def _get(obj: Any, key: str, path: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(obj, dict):
        raise _fail(path, "must be an object")
    if key not in obj:
        raise _fail(f"{path}.{key}" if path else key, "is missing")
    value = obj[key]
    where = f"{path}.{key}" if path else key
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise _fail(where, f"must be {names}, got {type(value).__name__}")
    return value


def _ident(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise _fail(path, f"{value!r} is not a valid id (letters, digits, . _ : -; max 64)")
    return value


def _key(value: Any, path: str) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise _fail(path, "must be a 32-byte Ed25519 public key in lowercase hex")
    return bytes.fromhex(value)


def _check_floats(value: Any, path: str) -> None:
    if isinstance(value, float):
        raise _fail(path, "floats are not allowed; use integers (grams, ppm, ms, microdegrees)")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_floats(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_floats(v, f"{path}[{i}]")


def _parse(doc: Any) -> Genesis:
    if not isinstance(doc, dict):
        raise GenesisError("genesis: the document must be a JSON object")
    _check_floats(doc, "")
    chain_id = _get(doc, "chain_id", "", str)
    if not 0 < len(chain_id) <= 64:
        raise _fail("chain_id", "must be 1 to 64 characters")
    genesis_time_ms = _get(doc, "genesis_time_ms", "", int)
    params = dict(DEFAULT_PARAMS)
    for key, value in doc.get("params", {}).items():
        if key not in DEFAULT_PARAMS:
            raise _fail(f"params.{key}", f"unknown parameter (known: {', '.join(DEFAULT_PARAMS)})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _fail(f"params.{key}", "must be a non-negative integer")
        params[key] = value

    orgs = []
    for i, o in enumerate(_get(doc, "orgs", "", list)):
        p = f"orgs[{i}]"
        roles = tuple(_get(o, "roles", p, list))
        for r in roles:
            if r not in ROLES:
                raise _fail(f"{p}.roles", f"unknown role {r!r} (roles: {', '.join(ROLES)})")
        keys = tuple(_key(k, f"{p}.keys[{j}]") for j, k in enumerate(_get(o, "keys", p, list)))
        orgs.append(Org(_ident(_get(o, "id", p, str), f"{p}.id"), _get(o, "name", p, str),
                        roles, keys))
    org_ids = [o.id for o in orgs]
    _unique(org_ids, "orgs", "org id")
    _unique([k for o in orgs for k in o.keys], "orgs", "org key")

    sites = []
    for i, s in enumerate(doc.get("sites", [])):
        p = f"sites[{i}]"
        org = _get(s, "org", p, str)
        if org not in org_ids:
            raise _fail(f"{p}.org", f"names unknown org {org!r}")
        kind = _get(s, "kind", p, str)
        if kind not in SITE_KINDS:
            raise _fail(f"{p}.kind", f"unknown site kind {kind!r} ({', '.join(SITE_KINDS)})")
        minerals = tuple(s.get("minerals", []))
        for m in minerals:
            if m not in MINERALS:
                raise _fail(f"{p}.minerals", f"unknown mineral {m!r} ({', '.join(MINERALS)})")
        if kind == "mine" and not minerals:
            raise _fail(f"{p}.minerals", "a mine site must list the minerals it produces")
        location = s.get("location")
        if location is not None:
            lat = _get(location, "lat_e6", f"{p}.location", int)
            lon = _get(location, "lon_e6", f"{p}.location", int)
            if not (-90_000_000 <= lat <= 90_000_000 and -180_000_000 <= lon <= 180_000_000):
                raise _fail(f"{p}.location", "latitude/longitude out of range (microdegrees)")
        gln = s.get("gln", "")
        if gln and not _valid_gln(gln):
            raise _fail(f"{p}.gln", f"{gln!r} is not a 13-digit GS1 GLN with a valid check digit")
        sites.append(Site(_ident(_get(s, "id", p, str), f"{p}.id"), org, kind,
                          _get(s, "name", p, str), minerals, location, gln))
    _unique([s.id for s in sites], "sites", "site id")
    _unique([s.gln for s in sites if s.gln], "sites", "site GLN")

    validators = []
    for i, v in enumerate(_get(doc, "validators", "", list)):
        p = f"validators[{i}]"
        org = _get(v, "org", p, str)
        if org not in org_ids:
            raise _fail(f"{p}.org", f"names unknown org {org!r}")
        power = _get(v, "power", p, int)
        if power <= 0:
            raise _fail(f"{p}.power", "must be positive")
        validators.append(Validator(_get(v, "name", p, str),
                                    _key(_get(v, "node_key", p, str), f"{p}.node_key"),
                                    power, org))
    if not validators:
        raise _fail("validators", "at least one validator is needed")
    _unique([v.node_key for v in validators], "validators", "validator node_key")

    nodes = []
    for i, n in enumerate(doc.get("nodes", [])):
        p = f"nodes[{i}]"
        org = _get(n, "org", p, str)
        if org not in org_ids:
            raise _fail(f"{p}.org", f"names unknown org {org!r}")
        nodes.append(NodeEntry(_ident(_get(n, "name", p, str), f"{p}.name"), org,
                               _key(_get(n, "node_key", p, str), f"{p}.node_key")))
    _unique([n.name for n in nodes], "nodes", "node name")
    registered = {n.node_key for n in nodes}
    for v in validators:
        if v.node_key not in registered:
            raise _fail("nodes", f"validator {v.name} is missing from the node registry")

    admin = _get(doc, "admin", "", dict)
    admin_keys = tuple(_key(k, f"admin.keys[{j}]")
                       for j, k in enumerate(_get(admin, "keys", "admin", list)))
    threshold = _get(admin, "threshold", "admin", int)
    if not 1 <= threshold <= len(admin_keys):
        raise _fail("admin.threshold", f"must be between 1 and {len(admin_keys)}")

    licences, royalties = _assets(doc, orgs, sites)
    return Genesis(chain_id, genesis_time_ms, params, tuple(orgs), tuple(sites),
                   ValidatorSet(tuple(validators)), tuple(nodes), threshold, admin_keys, doc,
                   licences, royalties)


def _assets(doc: dict[str, Any], orgs: list[Org], sites: list[Site],
            ) -> tuple[tuple[dict[str, Any], ...], dict[str, list[dict[str, Any]]]]:
    """The optional `licences` list and `royalties` map (docs/assets.md)."""
    org_ids = {o.id for o in orgs}
    site_org = {s.id: s.org for s in sites}
    licences = []
    for i, lic in enumerate(doc.get("licences", [])):
        p = f"licences[{i}]"
        org = _get(lic, "org", p, str)
        if org not in org_ids:
            raise _fail(f"{p}.org", f"names unknown org {org!r}")
        _ident(_get(lic, "licence_id", p, str), f"{p}.licence_id")
        roles = _get(lic, "roles", p, list)
        if not roles or any(r not in ROLES for r in roles):
            raise _fail(f"{p}.roles", f"must list roles from {', '.join(ROLES)}")
        for site in lic.get("sites", []):
            if site_org.get(site) != org:
                raise _fail(f"{p}.sites", f"{site!r} is not a site of {org}")
        if any(m not in MINERALS for m in lic.get("minerals", [])):
            raise _fail(f"{p}.minerals", f"minerals must be from {', '.join(MINERALS)}")
        if _get(lic, "expires_at_ms", p, int) <= 0:
            raise _fail(f"{p}.expires_at_ms", "must be a positive time in ms")
        capacity = lic.get("annual_capacity_g", 0)
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
            raise _fail(f"{p}.annual_capacity_g", "must be a non-negative integer of grams")
        unknown = set(lic) - {"licence_id", "org", "roles", "sites", "minerals",
                              "expires_at_ms", "annual_capacity_g"}
        if unknown:
            raise _fail(p, f"unknown field(s) {', '.join(sorted(unknown))}")
        licences.append(lic)
    _unique([lic["licence_id"] for lic in licences], "licences", "licence id")
    royalties = {}
    for mineral, shares in doc.get("royalties", {}).items():
        p = f"royalties.{mineral}"
        if mineral not in MINERALS:
            raise _fail(p, f"unknown mineral (minerals: {', '.join(MINERALS)})")
        if not isinstance(shares, list) or not shares:
            raise _fail(p, "must be a non-empty list of {beneficiary, share_ppm}")
        for j, share in enumerate(shares):
            _ident(_get(share, "beneficiary", f"{p}[{j}]", str), f"{p}[{j}].beneficiary")
            if not 0 < _get(share, "share_ppm", f"{p}[{j}]", int) <= 1_000_000:
                raise _fail(f"{p}[{j}].share_ppm", "must be 1 to 1000000 ppm of the value")
        if sum(share["share_ppm"] for share in shares) > 1_000_000:
            raise _fail(p, "shares sum to more than the whole declared value")
        _unique([share["beneficiary"] for share in shares], p, "beneficiary")
        royalties[mineral] = shares
    return tuple(licences), royalties


def _unique(items: list[Any], path: str, what: str) -> None:
    seen: set[Any] = set()
    for item in items:
        if item in seen:
            shown = item.hex() if isinstance(item, bytes) else item
            raise _fail(path, f"duplicate {what} {shown}")
        seen.add(item)


def _valid_gln(gln: str) -> bool:
    if not re.fullmatch(r"\d{13}", gln):
        return False
    return gln_check_digit(gln[:12]) == int(gln[12])


def gln_check_digit(first12: str) -> int:
    """GS1 mod-10 check digit (weights 1, 3 alternating from the left for 12 digits)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10
