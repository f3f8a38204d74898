"""EPCIS 2.0 events -> orechain lot event bodies: pure functions, no keys, no I/O.

| EPCIS event | orechain |
| --- | --- |
| ObjectEvent ADD, bizStep commissioning | `register_lot` per lot |
| ObjectEvent OBSERVE, shipping / departing | `dispatch` per lot (`export` with `orechain:export`) |
| ObjectEvent OBSERVE, receiving / arriving | `receive` per lot |
| ObjectEvent OBSERVE, inspecting, element sensor reports | `assay` per lot |
| AggregationEvent ADD (children into parentID) | `merge` |
| AggregationEvent DELETE (parentID into children) | `split` |
| TransformationEvent | `transform` |

Each event maps to its bodies or to one MappingError naming the event index and the
field at fault, with what would be accepted. docs/epcis.md is the full contract.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from node.epcis.directory import Directory
from node.epcis.identifiers import (
    ORECHAIN_NS,
    IdentifierError,
    element_from_uri,
    lot_id_from_uri,
)
from node.epcis.units import UnitError, grade_ppm, mass_grams, time_ms
from node.provenance.schema import EventFormatError, validate_body

_BIZSTEP_FORMS = ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-",
                  "https://gs1.org/voc/Bizstep-")
DISPATCH_STEPS = ("shipping", "departing")
RECEIVE_STEPS = ("receiving", "arriving")
# Who a dispatch goes to, most specific first: custody, then ownership, then place.
_RECIPIENT_TYPES = ("possessing_party", "owning_party", "location")


@dataclass(frozen=True)
class LotEvent:
    """One orechain event body mapped from an EPCIS event, not yet signed."""

    kind: str
    body: dict[str, Any]


@dataclass(frozen=True)
class MappingError:
    """Why the EPCIS event at `index` of the event list cannot become lot events."""

    index: int
    event_id: str | None
    field: str
    reason: str

    def __str__(self) -> str:
        named = f" ({self.event_id})" if self.event_id else ""
        return f"event {self.index}{named}: {self.field}: {self.reason}"


class DocumentError(ValueError):
    """The whole document is not an EPCIS 2.0 document orechain can read."""


class _Unmappable(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason


def event_list(document: Any) -> list[Any]:
    """The events of an EPCISDocument or EPCISQueryDocument (REST capture takes both)."""
    if not isinstance(document, dict):
        raise DocumentError("the body must be a JSON object (an EPCISDocument)")
    body = document.get("epcisBody")
    kind = document.get("type")
    if kind == "EPCISQueryDocument" and isinstance(body, dict):
        body = (body.get("queryResults") or {}).get("resultsBody")
    elif kind != "EPCISDocument":
        raise DocumentError(f"type must be EPCISDocument or EPCISQueryDocument, got {kind!r}")
    events = body.get("eventList") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise DocumentError("epcisBody.eventList (a list of events) is missing")
    return events


class Extensions:
    """orechain's extension terms, found under whichever prefix @context binds to them
    (`{"orechain": "urn:orechain:"}`) or written as full IRIs."""

    def __init__(self, prefixes: tuple[str, ...] = (ORECHAIN_NS,)) -> None:
        self.prefixes = prefixes

    def within(self, context: Any) -> Extensions:
        """These terms plus the prefixes a (document or event) @context binds."""
        entries = context if isinstance(context, list) else [context]
        bound = tuple(f"{p}:" for entry in entries if isinstance(entry, dict)
                      for p, iri in entry.items() if iri == ORECHAIN_NS)
        return Extensions(self.prefixes + bound)

    def get(self, obj: Mapping[str, Any], term: str) -> Any:
        return next((obj[p + term] for p in self.prefixes if p + term in obj), None)


NO_CONTEXT = Extensions()


def map_document(document: Any, directory: Directory) -> list[list[LotEvent] | MappingError]:
    """Every event of the document mapped, in order: its lot events or why it cannot be."""
    events = event_list(document)
    outer = Extensions().within(document.get("@context"))
    return [map_event(event, index, directory, outer) for index, event in enumerate(events)]


def map_event(event: Any, index: int, directory: Directory,
              outer: Extensions = NO_CONTEXT) -> list[LotEvent] | MappingError:
    """One event's lot events, or a MappingError naming `index` and the field at fault."""
    event_id = event.get("eventID") if isinstance(event, dict) else None
    try:
        if not isinstance(event, dict):
            raise _Unmappable("event", "must be a JSON object")
        mapped = _map(event, directory, outer.within(event.get("@context")))
        for n, lot_event in enumerate(mapped):
            try:
                validate_body(lot_event.kind, lot_event.body)
            except EventFormatError as exc:
                raise _Unmappable(f"(mapped {lot_event.kind} {n})", str(exc)) from None
        return mapped
    except _Unmappable as exc:
        return MappingError(index, event_id if isinstance(event_id, str) else None,
                            exc.field, exc.reason)


# --- per event type -------------------------------------------------------------------

def _map(ev: dict[str, Any], directory: Directory, ext: Extensions) -> list[LotEvent]:
    if "errorDeclaration" in ev:
        raise _Unmappable("errorDeclaration", "orechain's record is append-only and cannot "
                          "retract an event; record the correction as new events (and ask an "
                          "auditor to flag the lot)")
    handler = _HANDLERS.get(ev.get("type"))
    if handler is None:
        raise _Unmappable("type", f"{ev.get('type')!r} has no orechain equivalent "
                          f"(mapped: {', '.join(_HANDLERS)})")
    events = handler(ev, directory, ext)
    documents = ext.get(ev, "documents")
    if documents is not None:
        for lot_event in events:
            lot_event.body["documents"] = documents
    return events


def _object_event(ev: dict[str, Any], directory: Directory,
                  ext: Extensions) -> list[LotEvent]:
    _no_instances(ev, "epcList")
    action, step = ev.get("action"), _biz_step(ev)
    if action == "ADD" and step == "commissioning":
        lots = _lots(ev, "quantityList", mass=True)
        site = _site(ev, directory)
        origin = {"site_id": site, "extracted_at_ms": _event_time(ev)}
        if (location := ext.get(ev, "location")) is not None:
            origin["location"] = location
        return [LotEvent("register_lot", {"lot_id": lot, "mass_g": grams, **origin,
                                          **_master_data(ev, ext, lot, "register_lot")})
                for lot, grams in lots]
    if action != "OBSERVE":
        raise _Unmappable("action", f"{action!r} with bizStep {step!r} has no orechain "
                          "equivalent (ADD maps only with bizStep commissioning)")
    if step in DISPATCH_STEPS and (export := ext.get(ev, "export")) is not None:
        return [LotEvent("export", {"lot_id": lot, **_export_fields(export)})
                for lot, _ in _lots(ev, "quantityList", mass=False)]
    if step in DISPATCH_STEPS:
        lots = _lots(ev, "quantityList", mass=True)
        common = {"to_org": _recipient(ev, directory)}
        for term, field in (("carrierOrg", "carrier_org"), ("vehicle", "vehicle")):
            if (value := ext.get(ev, term)) is not None:
                common[field] = value
        return [LotEvent("dispatch", {"lot_id": lot, "mass_g": grams, **common})
                for lot, grams in lots]
    if step in RECEIVE_STEPS:
        lots = _lots(ev, "quantityList", mass=True)
        site = _site(ev, directory)
        return [LotEvent("receive", {"lot_id": lot, "site_id": site, "mass_g": grams})
                for lot, grams in lots]
    if step == "inspecting":
        lots = _lots(ev, "quantityList", mass=False)
        composition = _composition(ev)
        return [LotEvent("assay", {"lot_id": lot, "composition": composition})
                for lot, _ in lots]
    raise _Unmappable("bizStep", f"{step!r} has no orechain equivalent for an ObjectEvent "
                      "(mapped: commissioning with ADD; shipping, departing, receiving, "
                      "arriving, inspecting with OBSERVE)")


def _aggregation_event(ev: dict[str, Any], directory: Directory,
                       ext: Extensions) -> list[LotEvent]:
    _no_instances(ev, "childEPCs")
    action = ev.get("action")
    if action not in ("ADD", "DELETE"):
        raise _Unmappable("action", f"{action!r}: an AggregationEvent maps only as ADD (merge "
                          "the child lots into the parentID lot) or DELETE (split the "
                          "parentID lot into the child lots)")
    parent = ev.get("parentID")
    if not isinstance(parent, str):
        raise _Unmappable("parentID", "missing: the merged lot (ADD) or the lot split (DELETE)")
    parent_lot = _lot_id(parent, "parentID")
    if action == "ADD":
        body: dict[str, Any] = {"lot_ids": [lot for lot, _ in
                                            _lots(ev, "childQuantityList", mass=False)],
                                "new_lot_id": parent_lot}
        if (form := ext.get(ev, "form")) is not None:
            body["form"] = form
        return [LotEvent("merge", body)]
    children = [{"lot_id": lot, "mass_g": grams}
                for lot, grams in _lots(ev, "childQuantityList", mass=True)]
    return [LotEvent("split", {"lot_id": parent_lot, "children": children})]


def _transformation_event(ev: dict[str, Any], directory: Directory,
                          ext: Extensions) -> list[LotEvent]:
    _no_instances(ev, "inputEPCList")
    _no_instances(ev, "outputEPCList")
    inputs = [lot for lot, _ in _lots(ev, "inputQuantityList", mass=False)]
    outputs = [{"lot_id": lot, "mass_g": grams, **_master_data(ev, ext, lot, "transform")}
               for lot, grams in _lots(ev, "outputQuantityList", mass=True)]
    return [LotEvent("transform", {"site_id": _site(ev, directory), "inputs": inputs,
                                   "outputs": outputs})]


_HANDLERS: dict[Any, Callable[[dict[str, Any], Directory, Extensions], list[LotEvent]]] = {
    "ObjectEvent": _object_event,
    "AggregationEvent": _aggregation_event,
    "TransformationEvent": _transformation_event,
}


# --- fields -----------------------------------------------------------------------------

def normalise_biz_step(step: str) -> str:
    """A CBV business step as its bare word, from any of its URI forms."""
    for form in _BIZSTEP_FORMS:
        if step.startswith(form):
            return step[len(form):]
    return step


def _biz_step(ev: dict[str, Any]) -> str | None:
    step = ev.get("bizStep")
    return normalise_biz_step(step) if isinstance(step, str) else None


def _no_instances(ev: dict[str, Any], field: str) -> None:
    for i, uri in enumerate(ev.get(field) or ()):
        raise _Unmappable(f"{field}[{i}]", f"{uri} is a serialised item; orechain tracks "
                          "bulk lots: give each lot as a quantity list epcClass (LGTIN or "
                          "GS1 Digital Link with a lot) with its mass in KGM")


def _lot_id(uri: Any, field: str) -> str:
    if not isinstance(uri, str):
        raise _Unmappable(field, "must be a URI string")
    try:
        return lot_id_from_uri(uri)
    except IdentifierError as exc:
        raise _Unmappable(field, str(exc)) from None


def _lots(ev: dict[str, Any], field: str, *, mass: bool) -> list[tuple[str, int]]:
    """(lot id, grams) of each quantity element; grams is 0 where mass is not needed and
    not given. A given quantity is always checked, so a bad unit never passes silently."""
    elements = ev.get(field)
    if not isinstance(elements, list) or not elements:
        raise _Unmappable(field, "missing: orechain names lots by the epcClass of quantity "
                          "elements (LGTIN or GS1 Digital Link with a lot)")
    lots = []
    for i, element in enumerate(elements):
        where = f"{field}[{i}]"
        if not isinstance(element, dict):
            raise _Unmappable(where, "must be an object {epcClass, quantity, uom}")
        lot = _lot_id(element.get("epcClass"), f"{where}.epcClass")
        grams = 0
        if "quantity" in element or mass:
            if "quantity" not in element:
                raise _Unmappable(f"{where}.quantity", "missing: orechain needs the lot's "
                                  "mass here (quantity with uom KGM)")
            try:
                grams = mass_grams(element["quantity"], element.get("uom"))
            except UnitError as exc:
                raise _Unmappable(where, str(exc)) from None
        lots.append((lot, grams))
    return lots


def _site(ev: dict[str, Any], directory: Directory) -> str:
    for field in ("bizLocation", "readPoint"):
        place = ev.get(field)
        if isinstance(place, dict) and isinstance(place.get("id"), str):
            try:
                return directory.site(place["id"])
            except IdentifierError as exc:
                raise _Unmappable(f"{field}.id", str(exc)) from None
    raise _Unmappable("bizLocation", "missing: orechain needs the site (bizLocation or "
                      "readPoint id: the site's GLN as urn:epc:id:sgln:... or "
                      "https://id.gs1.org/414/<GLN>)")


def _recipient(ev: dict[str, Any], directory: Directory) -> str:
    destinations = ev.get("destinationList") or []
    for wanted in _RECIPIENT_TYPES:
        for i, dest in enumerate(destinations):
            if isinstance(dest, dict) and dest.get("type") == wanted:
                try:
                    return directory.org(dest.get("destination", ""))
                except IdentifierError as exc:
                    raise _Unmappable(f"destinationList[{i}].destination", str(exc)) from None
    raise _Unmappable("destinationList", "missing: a dispatch names the recipient org "
                      "(a possessing_party, owning_party or location destination)")


def _event_time(ev: dict[str, Any]) -> int:
    try:
        return time_ms(ev.get("eventTime"))
    except UnitError as exc:
        raise _Unmappable("eventTime", str(exc)) from None


def _master_data(ev: dict[str, Any], ext: Extensions, lot: str, kind: str) -> dict[str, Any]:
    """mineral and form (and for transform outputs, composition) of a lot the event
    creates, from ILMD `orechain:lots` keyed by the lot's epcClass."""
    by_uri = ext.get(ev.get("ilmd") or {}, "lots")
    if not isinstance(by_uri, dict):
        raise _Unmappable("ilmd", "missing orechain:lots: the mineral and form of each lot "
                          "created (declare {\"orechain\": \"urn:orechain:\"} in @context)")
    for uri, data in by_uri.items():
        if _lot_id(uri, "ilmd.orechain:lots") == lot and isinstance(data, dict):
            fields = {"mineral": data.get("mineral"), "form": data.get("form")}
            if kind == "transform":
                fields["composition"] = data.get("composition", {})
            return fields
    raise _Unmappable("ilmd", f"orechain:lots has no entry for lot {lot} "
                      "(its mineral and form are required)")


def _composition(ev: dict[str, Any]) -> dict[str, int]:
    composition: dict[str, int] = {}
    for i, element in enumerate(ev.get("sensorElementList") or ()):
        for j, report in enumerate(element.get("sensorReport") or ()
                                   if isinstance(element, dict) else ()):
            substance = report.get("chemicalSubstance") if isinstance(report, dict) else None
            if substance is None:
                continue
            where = f"sensorElementList[{i}].sensorReport[{j}]"
            try:
                symbol = element_from_uri(substance)
                ppm = grade_ppm(report.get("value"), report.get("uom"))
            except (IdentifierError, UnitError) as exc:
                raise _Unmappable(where, str(exc)) from None
            if symbol in composition:
                raise _Unmappable(where, f"{symbol} is reported twice")
            composition[symbol] = ppm
    if not composition:
        raise _Unmappable("sensorElementList", "no sensor report gives a grade: an assay "
                          "needs reports with chemicalSubstance urn:orechain:element:<symbol>, "
                          "value and uom 59 (ppm) or P1 (percent)")
    return composition


def _export_fields(export: Any) -> dict[str, Any]:
    if not isinstance(export, dict):
        raise _Unmappable("orechain:export", "must be an object {destination, buyer, "
                          "permitRef}")
    return {"destination": export.get("destination"), "buyer": export.get("buyer"),
            "permit_ref": export.get("permitRef")}
