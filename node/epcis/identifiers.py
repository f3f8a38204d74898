"""GS1 and orechain identifiers in EPCIS: lots, locations, parties, elements.

A lot is a class of bulk material, so in EPCIS it appears as an `epcClass`: a GS1 LGTIN
(`urn:epc:class:lgtin:<company prefix>.<indicator+item ref>.<lot>`), its GS1 Digital Link
form (`https://<resolver>/01/<GTIN>/10/<lot>`), or, for lots that carry no GTIN, the
orechain URN `urn:orechain:lot:<lot id>`. A GS1 lot becomes the orechain lot id
`<GTIN-14>.<lot>`, so both GS1 forms of one lot name the same orechain lot and the
mapping can be reversed. Sites are located by GLN (SGLN URN, Digital Link 414/417, or
a PGLN for a party) and resolved through `node.epcis.directory`.

Every parser raises IdentifierError with a sentence saying what was expected.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from node.provenance.schema import LOT_ID

ORECHAIN_NS = "urn:orechain:"           # prefix IRI of orechain's EPCIS extension terms
LOT_URN = ORECHAIN_NS + "lot:"
SITE_URN = ORECHAIN_NS + "site:"
ORG_URN = ORECHAIN_NS + "org:"
ELEMENT_URN = ORECHAIN_NS + "element:"
DIGITAL_LINK_HOST = "https://id.gs1.org"

_LGTIN = re.compile(r"^urn:epc:class:lgtin:(\d{6,12})\.(\d{1,7})\.(.{1,60})$")
_SGLN = re.compile(r"^urn:epc:id:sgln:(\d{6,12})\.(\d{0,6})\.(.{1,60})$")
_PGLN = re.compile(r"^urn:epc:id:pgln:(\d{6,12})\.(\d{0,6})$")
_DL_LOT = re.compile(r"^/01/(\d{8}|\d{12,14})/10/([^/]{1,60})$")
_DL_GLN = re.compile(r"^/(?:414|417)/(\d{13})(?:/254/[^/]+)?$")
# What orechain lot ids can carry of a GS1 lot number (AI 10 allows more: lower case,
# punctuation; those would not survive the lot id pattern, so they are refused rather
# than folded, which would make two GS1 lots one orechain lot).
_GS1_LOT = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,19}$")
_GS1_LOT_ID = re.compile(r"^(\d{14})\.(.+)$")


class IdentifierError(ValueError):
    """A URI is not an identifier orechain can map; the message says what would be."""


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of `digits` (weights 3, 1, 3, ... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


def _valid_check_digit(number: str) -> bool:
    return check_digit(number[:-1]) == number[-1]


def _gs1_lot_id(gtin14: str, lot: str, uri: str) -> str:
    if not _GS1_LOT.match(lot):
        raise IdentifierError(
            f"{uri}: lot number {lot!r} has characters an orechain lot id cannot carry "
            "(upper-case letters, digits, . _ -; at most 20)")
    return f"{gtin14}.{lot}"


def lot_id_from_uri(uri: str) -> str:
    """The orechain lot id named by an LGTIN, a Digital Link lot URI or an orechain lot URN."""
    if uri.startswith(LOT_URN):
        lot_id = uri[len(LOT_URN):]
        if not LOT_ID.match(lot_id):
            raise IdentifierError(f"{uri}: {lot_id!r} is not an orechain lot id")
        return lot_id
    if m := _LGTIN.match(uri):
        prefix, item, lot = m.groups()
        if len(prefix) + len(item) != 13:
            raise IdentifierError(f"{uri}: company prefix and item reference must have "
                                  "13 digits together")
        body = item[0] + prefix + item[1:]
        return _gs1_lot_id(body + check_digit(body), unquote(lot), uri)
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and (m := _DL_LOT.match(parts.path)):
        gtin14 = m.group(1).rjust(14, "0")
        if not _valid_check_digit(gtin14):
            raise IdentifierError(f"{uri}: GTIN {m.group(1)} has a wrong check digit")
        return _gs1_lot_id(gtin14, unquote(m.group(2)), uri)
    if uri.startswith(("urn:epc:id:", "urn:epc:idpat:")) or (
            parts.scheme in ("http", "https") and "/21/" in parts.path):
        raise IdentifierError(
            f"{uri} identifies a serialised item or a pattern, not a lot; orechain tracks "
            "bulk lots: name the lot by LGTIN (urn:epc:class:lgtin:...), GS1 Digital Link "
            "(https://id.gs1.org/01/<GTIN>/10/<lot>) or urn:orechain:lot:<lot id>")
    raise IdentifierError(
        f"{uri} is not a lot identifier (expected an LGTIN, a GS1 Digital Link with a lot, "
        "or urn:orechain:lot:<lot id>)")


def lot_uri(lot_id: str) -> str:
    """The EPCIS epcClass of an orechain lot: Digital Link for GS1 lots, else the URN.

    Digital Link needs no company-prefix length, which an LGTIN URN would and a lot id
    does not record.
    """
    m = _GS1_LOT_ID.match(lot_id)
    if m and _valid_check_digit(m.group(1)) and _GS1_LOT.match(m.group(2)):
        return f"{DIGITAL_LINK_HOST}/01/{m.group(1)}/10/{quote(m.group(2), safe='')}"
    return LOT_URN + lot_id


def gln_from_uri(uri: str) -> str:
    """The 13-digit GLN of an SGLN or PGLN URN or a GS1 Digital Link 414/417 URI.

    An SGLN extension (a spot inside the location, such as a dock door) is dropped:
    orechain records events at the site, not below it.
    """
    m = _SGLN.match(uri) or _PGLN.match(uri)
    if m:
        prefix, ref = m.group(1), m.group(2)
        if len(prefix) + len(ref) != 12:
            raise IdentifierError(f"{uri}: company prefix and location reference must have "
                                  "12 digits together")
        return prefix + ref + check_digit(prefix + ref)
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and (m := _DL_GLN.match(parts.path)):
        if not _valid_check_digit(m.group(1)):
            raise IdentifierError(f"{uri}: GLN {m.group(1)} has a wrong check digit")
        return m.group(1)
    raise IdentifierError(
        f"{uri} is not a location (expected urn:epc:id:sgln:..., urn:epc:id:pgln:..., "
        "a GS1 Digital Link https://id.gs1.org/414/<GLN>, or urn:orechain:site:<site id>)")


def gln_uri(gln: str) -> str:
    return f"{DIGITAL_LINK_HOST}/414/{gln}"


def element_from_uri(uri: str) -> str:
    """The element symbol of `urn:orechain:element:<symbol>` (a sensor report's substance)."""
    if not uri.startswith(ELEMENT_URN):
        raise IdentifierError(f"{uri} is not an element (expected urn:orechain:element:<symbol>,"
                              " e.g. urn:orechain:element:Cu)")
    return uri[len(ELEMENT_URN):]
