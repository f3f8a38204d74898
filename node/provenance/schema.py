"""The shape of every tx body: required and optional fields, types and bounds, per kind.

`validate_body` is a pure check, run when an event is submitted (a malformed body is
refused with a JSON-RPC error and never reaches a block) and again when a block is
applied. It knows nothing about state: whether a lot exists or who holds it is for
`node.provenance.rules`. Every message names the field (`body.children[2].mass_g`) and
says what would be accepted, so the person at the weighbridge can fix the event.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from node.provenance.codes import ELEMENTS, ISO3166_ALPHA2
from node.provenance.currencies import ISO4217
from node.types.genesis import MINERALS, ROLES, SITE_KINDS

PPM = 1_000_000
MAX_MASS_G = 10**13            # 10 Mt: far above any real lot, far below overflow worries
MAX_CHILDREN = 64              # split children, merge parents, transform inputs/outputs
MAX_DOCUMENTS = 16
MAX_APPROVALS = 32
MAX_VALIDATORS = 128
MAX_TIME_MS = 1 << 53

LOT_ID = re.compile(r"^[A-Z0-9][A-Z0-9._-]{2,63}$")
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")   # org, site, validator ids (genesis)
FORM = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
KEY_HEX = SHA256_HEX
SIGNATURE_HEX = re.compile(r"^[0-9a-f]{128}$")

LOT_KINDS = ("register_lot", "assay", "dispatch", "receive", "split", "merge", "transform",
             "export", "attest", "flag", "hold", "release")
# Lot-backed units (docs/assets.md): judged by node.provenance.units, not lot events.
UNIT_KINDS = ("tokenize", "transfer_units", "redeem_units")
GOV_KINDS = ("gov_add_org", "gov_add_site", "gov_add_key", "gov_revoke_key",
             "gov_rotate_key", "gov_revoke_org", "gov_set_validators",
             "grant_licence", "revoke_licence", "set_royalty_schedule")
# Evidence of a validator signing two conflicting votes, reported by any registered node.
EVIDENCE_KIND = "report_equivocation"
KINDS = (*LOT_KINDS, *UNIT_KINDS, *GOV_KINDS, EVIDENCE_KIND)
MAX_CAPACITY_G = 10**15        # a licence's annual capacity: far above any real mine
MAX_VALUE = 10**18             # a declared value in minor units (fits a signed int64)
MAX_BENEFICIARIES = 16


class EventFormatError(ValueError):
    """A tx body does not have the shape its kind requires."""


class _Bad(Exception):
    """A field check failed. The check knows only the problem; each container the error
    passes through adds the field's place, so a path is built only for a failure (every
    event passes these checks at least once per node, and building every field's path
    on the way down cost more than the checks)."""

    def __init__(self, problem: str, place: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.places = [place] if place else []     # innermost first

    def at(self, place: str) -> _Bad:
        self.places.append(place)
        return self


Check = Callable[[Any], None]


def validate_body(kind: str, body: Any) -> None:
    """Raise EventFormatError unless `body` is a well-formed body of `kind`."""
    if kind not in _SCHEMAS:
        raise EventFormatError(f"unknown event kind {kind!r}; known kinds: {', '.join(KINDS)}")
    try:
        _SCHEMAS[kind](body)
    except _Bad as bad:
        raise EventFormatError(f"body{''.join(reversed(bad.places))}: {bad.problem}") from None


_WELL_FORMED: dict[bytes, None] = {}     # ids of txs whose bodies passed
_WELL_FORMED_LIMIT = 1 << 16


def validate_tx_body(tx_id: bytes, kind: str, body: Any) -> None:
    """validate_body, remembered for the tx `tx_id` (which commits to its kind and
    body): a tx is checked at submission, at admission and in every block execution
    that includes it, and the answer cannot change. Only passes are remembered."""
    if tx_id in _WELL_FORMED:
        return
    validate_body(kind, body)
    if len(_WELL_FORMED) >= _WELL_FORMED_LIMIT:
        _WELL_FORMED.clear()
    _WELL_FORMED[tx_id] = None


def forget_well_formed() -> None:
    """Forget which txs passed (a benchmark of a node that never saw them does)."""
    _WELL_FORMED.clear()


def lots_named(kind: str, body: Mapping[str, Any]) -> list[str]:
    """Every lot id a (well-formed) body of `kind` names, in body order, without repeats."""
    ids: list[str] = []
    if "lot_id" in body:
        ids.append(body["lot_id"])
    ids.extend(child["lot_id"] for child in body.get("children", ()))
    ids.extend(body.get("lot_ids", ()))
    if "new_lot_id" in body:
        ids.append(body["new_lot_id"])
    if kind == "transform":
        ids.extend(body["inputs"])
        ids.extend(out["lot_id"] for out in body["outputs"])
    return list(dict.fromkeys(ids))


# --- field checks -------------------------------------------------------------------
# Each check takes the common case first (a plain int in range, a str that matches) and
# returns; anything else falls through to the checks that name the problem.

def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "a decimal number", str: "string",
            list: "list", dict: "object", bytes: "bytes"}.get(type(value), type(value).__name__)


def integer(lo: int, hi: int, unit: str) -> Check:
    def check(value: Any) -> None:
        if type(value) is int and lo <= value <= hi:
            return
        if isinstance(value, float):
            raise _Bad(f"decimals are not allowed; give a whole number of {unit}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(f"must be an integer number of {unit}, got {_type_name(value)}")
        if not lo <= value <= hi:
            raise _Bad(f"must be between {lo} and {hi} {unit}, got {value}")
    return check


def text(max_len: int, min_len: int = 1) -> Check:
    def check(value: Any) -> None:
        if not isinstance(value, str):
            raise _Bad(f"must be a string, got {_type_name(value)}")
        if not min_len <= len(value) <= max_len:
            raise _Bad(f"must be {min_len} to {max_len} characters, got {len(value)}")
        if not value.isprintable():
            raise _Bad("must not contain control characters (newlines, tabs, ...)")
    return check


def pattern(regex: re.Pattern[str], what: str) -> Check:
    match = regex.match

    def check(value: Any) -> None:
        if not isinstance(value, str) or not match(value):
            raise _Bad(f"{value!r} is not {what}")
    return check


def one_of(choices: frozenset[str] | tuple[str, ...], what: str) -> Check:
    known = frozenset(choices)

    def check(value: Any) -> None:
        if not isinstance(value, str) or value not in known:
            shown = ", ".join(sorted(choices)) if len(choices) <= 12 else f"a valid {what}"
            raise _Bad(f"{value!r} is not a known {what} (expected {shown})")
    return check


def list_of(item: Check, lo: int, hi: int, *, distinct: bool = False,
            key: Callable[[Any], Any] | None = None) -> Check:
    def check(value: Any) -> None:
        if not isinstance(value, list):
            raise _Bad(f"must be a list, got {_type_name(value)}")
        if not lo <= len(value) <= hi:
            raise _Bad(f"must have {lo} to {hi} entries, got {len(value)}")
        for i, entry in enumerate(value):
            try:
                item(entry)
            except _Bad as bad:
                raise bad.at(f"[{i}]") from None
        if distinct:
            seen: set[Any] = set()
            for entry in value:
                k = key(entry) if key else entry
                if k in seen:
                    raise _Bad(f"{k!r} appears more than once")
                seen.add(k)
    return check


def record(required: dict[str, Check], optional: dict[str, Check] | None = None) -> Check:
    """An object with exactly these fields: unknown fields are refused, not ignored,
    so a typo (`mass_kg`) is caught before it is signed into the chain forever."""
    optional = optional or {}
    must = frozenset(required)
    allowed = must | frozenset(optional)
    fields = (*required.items(), *optional.items())

    def check(value: Any) -> None:
        if not isinstance(value, dict):
            raise _Bad(f"must be an object, got {_type_name(value)}")
        names = value.keys()
        if not (names >= must and names <= allowed):
            _refuse_fields(value)
        for name, field_check in fields:
            if name in value:
                try:
                    field_check(value[name])
                except _Bad as bad:
                    raise bad.at(f".{name}") from None

    def _refuse_fields(value: dict[Any, Any]) -> None:
        missing = [f for f in required if f not in value]
        if missing:
            raise _Bad(f"missing field(s): {', '.join(missing)}")
        unknown = sorted(f for f in value if f not in required and f not in optional)
        allowed_text = ", ".join([*required, *optional])
        raise _Bad(f"unknown field(s): {', '.join(map(str, unknown))} "
                   f"(allowed: {allowed_text})")
    return check


def _composition(value: Any) -> None:
    if not isinstance(value, dict):
        raise _Bad(f"must be an object of element symbol -> ppm, got {_type_name(value)}")
    if len(value) > MAX_CHILDREN:
        raise _Bad(f"at most {MAX_CHILDREN} elements, got {len(value)}")
    for element, grade in value.items():
        if element not in ELEMENTS:
            raise _Bad(f"{element!r} is not an element symbol (e.g. Cu, Sb, Nd)")
        try:
            _ppm(grade)
        except _Bad as bad:
            raise bad.at(f".{element}") from None
    total = sum(value.values())
    if total > PPM:
        raise _Bad(f"grades sum to {total} ppm, more than the whole lot ({PPM} ppm)")


_ppm = integer(1, PPM, "ppm")


# --- field vocabulary -----------------------------------------------------------------

lot_id = pattern(LOT_ID, "a lot id (upper-case letters, digits, . _ -; 3 to 64 characters, "
                         "e.g. PK-CU-2026-0001)")
ident = pattern(ID, "an id (letters, digits, . _ : -; at most 64 characters)")
mass_g = integer(1, MAX_MASS_G, "grams")
time_ms = integer(0, MAX_TIME_MS, "milliseconds since the epoch")
mineral = one_of(MINERALS, "mineral")
form = pattern(FORM, "a form (lower-case word such as ore, concentrate, cathode, oxide)")
documents = list_of(pattern(SHA256_HEX, "a SHA-256 document hash (64 lower-case hex digits)"),
                    0, MAX_DOCUMENTS, distinct=True)
reason = text(512)
location = record({"lat_e6": integer(-90_000_000, 90_000_000, "microdegrees"),
                   "lon_e6": integer(-180_000_000, 180_000_000, "microdegrees")})
public_key = pattern(KEY_HEX, "an Ed25519 public key (64 lower-case hex digits)")
approvals = list_of(record({"key": public_key,
                            "signature": pattern(SIGNATURE_HEX,
                                                 "an Ed25519 signature (128 hex digits)")}),
                    1, MAX_APPROVALS, distinct=True, key=lambda a: a.get("key"))



def _one_subject(check: Check) -> Check:
    """An attest names exactly one subject: a lot, or an account (an org, e.g. the KYC
    attestation that admits an investor to hold units)."""
    def subject(value: Any) -> None:
        if isinstance(value, dict) and ("lot_id" in value) == ("org_id" in value):
            raise _Bad("must name exactly one subject: lot_id (a lot) or org_id (an "
                       "account, e.g. the KYC attestation of an investor)")
        check(value)
    return subject


def _shares_within_value(check: Check) -> Check:
    def within(value: Any) -> None:
        check(value)
        total = sum(share["share_ppm"] for share in value["shares"])
        if total > PPM:
            raise _Bad(f"shares sum to {total} ppm, more than the whole declared value "
                       f"({PPM} ppm)", ".shares")
    return within


units = integer(1, MAX_MASS_G, "units (grams of contained metal)")
element = one_of(ELEMENTS, "element symbol (e.g. Cu, Sb, Nd)")
royalty_shares = list_of(record({"beneficiary": ident,
                                 "share_ppm": integer(1, PPM, "ppm of the declared value")}),
                         1, MAX_BENEFICIARIES, distinct=True, key=lambda s: s.get("beneficiary"))

# A vote's canonical encoding (node.types.Vote.to_wire) in hex: about 230 characters.
encoded_vote = pattern(re.compile(r"^(?:[0-9a-f]{2}){64,256}$"),
                       "a vote's canonical encoding in lower-case hex")

_SCHEMAS: dict[str, Check] = {
    EVIDENCE_KIND: record({"first": encoded_vote, "second": encoded_vote}),
    "register_lot": record(
        {"lot_id": lot_id, "mineral": mineral, "form": form, "mass_g": mass_g,
         "site_id": ident, "extracted_at_ms": time_ms},
        {"location": location, "documents": documents}),
    "assay": record({"lot_id": lot_id, "composition": _composition}, {"documents": documents}),
    "dispatch": record(
        {"lot_id": lot_id, "to_org": ident, "mass_g": mass_g},
        {"carrier_org": ident, "vehicle": text(64), "documents": documents}),
    "receive": record({"lot_id": lot_id, "site_id": ident, "mass_g": mass_g},
                      {"documents": documents}),
    "split": record(
        {"lot_id": lot_id,
         "children": list_of(record({"lot_id": lot_id, "mass_g": mass_g}), 2, MAX_CHILDREN,
                             distinct=True, key=lambda c: c.get("lot_id"))},
        {"documents": documents}),
    "merge": record(
        {"lot_ids": list_of(lot_id, 2, MAX_CHILDREN, distinct=True), "new_lot_id": lot_id},
        {"form": form, "documents": documents}),
    "transform": record(
        {"site_id": ident,
         "inputs": list_of(lot_id, 1, MAX_CHILDREN, distinct=True),
         "outputs": list_of(record({"lot_id": lot_id, "mineral": mineral, "form": form,
                                    "mass_g": mass_g, "composition": _composition}),
                            1, MAX_CHILDREN, distinct=True, key=lambda o: o.get("lot_id"))},
        {"documents": documents}),
    "export": record(
        {"lot_id": lot_id,
         "destination": one_of(ISO3166_ALPHA2, "ISO 3166-1 alpha-2 country code (e.g. CN, DE)"),
         "buyer": text(128), "permit_ref": text(64)},
        {"declared_value": record({"amount": integer(1, MAX_VALUE, "minor currency units"),
                                   "currency": one_of(ISO4217, "ISO 4217 currency code")}),
         "documents": documents}),
    "attest": _one_subject(record({"standard": text(64), "finding": text(1024)},
                                  {"lot_id": lot_id, "org_id": ident, "documents": documents})),
    "flag": record({"lot_id": lot_id, "reason": reason}),
    "hold": record({"lot_id": lot_id, "reason": reason}),
    "release": record({"lot_id": lot_id, "reason": reason}),
    "tokenize": record({"lot_id": lot_id, "element": element, "units": units}),
    "transfer_units": record({"lot_id": lot_id, "to_org": ident, "units": units}),
    "redeem_units": record({"lot_id": lot_id, "units": units}),
    # Governance: `approvals` are admin signatures over the rest of the body
    # (node.state.governance.approval_message).
    "gov_add_org": record(
        {"org_id": ident, "name": text(128),
         "roles": list_of(one_of(ROLES, "role"), 1, len(ROLES), distinct=True),
         "keys": list_of(public_key, 0, MAX_DOCUMENTS, distinct=True),
         "approvals": approvals}),
    "gov_add_site": record(
        {"site_id": ident, "org_id": ident, "kind": one_of(SITE_KINDS, "site kind"),
         "name": text(128), "approvals": approvals},
        {"minerals": list_of(mineral, 1, len(MINERALS), distinct=True),
         "location": location, "gln": pattern(re.compile(r"^\d{13}$"), "a 13-digit GS1 GLN")}),
    "gov_add_key": record({"org_id": ident, "key": public_key, "approvals": approvals}),
    "gov_revoke_key": record({"key": public_key, "reason": reason, "approvals": approvals}),
    "gov_rotate_key": record({"org_id": ident, "old_key": public_key, "new_key": public_key,
                              "approvals": approvals}),
    "gov_revoke_org": record({"org_id": ident, "reason": reason, "approvals": approvals}),
    "gov_set_validators": record(
        {"validators": list_of(record({"name": ident, "org_id": ident, "node_key": public_key,
                                       "power": integer(1, 1 << 32, "units of power")}),
                               1, MAX_VALIDATORS, distinct=True,
                               key=lambda v: v.get("node_key")),
         "approvals": approvals}),
    "grant_licence": record(
        {"licence_id": ident, "org_id": ident,
         "roles": list_of(one_of(ROLES, "role"), 1, len(ROLES), distinct=True),
         "expires_at_ms": time_ms, "approvals": approvals},
        {"sites": list_of(ident, 1, MAX_CHILDREN, distinct=True),
         "minerals": list_of(mineral, 1, len(MINERALS), distinct=True),
         "annual_capacity_g": integer(1, MAX_CAPACITY_G, "grams per year")}),
    "revoke_licence": record({"licence_id": ident, "reason": reason, "approvals": approvals}),
    "set_royalty_schedule": _shares_within_value(record(
        {"mineral": mineral, "shares": royalty_shares, "approvals": approvals})),
}
