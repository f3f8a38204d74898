"""orechain lot events -> EPCIS 2.0 events and documents (the reverse of mapping).

An accepted tx becomes one EPCIS event whose eventID is `urn:orechain:tx:<tx id>`, so
a reader can fetch the tx and its proofs. Events that capture maps (register_lot,
dispatch, receive, assay, split, merge, transform, export) come out in the form capture
reads back; the regulatory kinds (attest, flag, hold, release) come out as ObjectEvents
carrying `orechain:regulatory`.
"""

from __future__ import annotations

from typing import Any

from node.epcis.directory import Directory, org_uri
from node.epcis.identifiers import ELEMENT_URN, ORECHAIN_NS, lot_uri
from node.epcis.units import iso_time, mass_quantity

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
CONTEXT: list[Any] = [EPCIS_CONTEXT, {"orechain": ORECHAIN_NS}]
TX_URN = ORECHAIN_NS + "tx:"
NO_DIRECTORY = Directory({}, {}, {}, frozenset())
_REGULATORY_STEP = {"attest": "inspecting", "flag": "inspecting", "hold": "holding",
                    "release": "holding"}


def _quantity(lot_id: str, grams: int | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": lot_uri(lot_id)}
    if grams is not None:
        element["quantity"], element["uom"] = mass_quantity(grams)
    return element


def _lots_ilmd(outputs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"orechain:lots": {lot_uri(o["lot_id"]): {k: o[k] for k in
                                                    ("mineral", "form", "composition")
                                                    if k in o}
                              for o in outputs}}


def _object(action: str, step: str, lot_id: str, grams: int | None = None,
            disposition: str | None = None) -> dict[str, Any]:
    event = {"type": "ObjectEvent", "action": action, "bizStep": step,
             "quantityList": [_quantity(lot_id, grams)]}
    if disposition:
        event["disposition"] = disposition
    return event


def _body_event(kind: str, body: dict[str, Any], directory: Directory) -> dict[str, Any]:
    if kind == "register_lot":
        event = _object("ADD", "commissioning", body["lot_id"], body["mass_g"], "active")
        place = {"id": directory.site_uri(body["site_id"])}
        event.update(readPoint=place, bizLocation=place, ilmd=_lots_ilmd([body]))
        if "location" in body:
            event["orechain:location"] = body["location"]
        return event
    if kind == "dispatch":
        event = _object("OBSERVE", "shipping", body["lot_id"], body["mass_g"], "in_transit")
        event["destinationList"] = [{"type": "possessing_party",
                                     "destination": org_uri(body["to_org"])}]
        for field, term in (("carrier_org", "orechain:carrierOrg"),
                            ("vehicle", "orechain:vehicle")):
            if field in body:
                event[term] = body[field]
        return event
    if kind == "receive":
        event = _object("OBSERVE", "receiving", body["lot_id"], body["mass_g"], "in_progress")
        event["bizLocation"] = {"id": directory.site_uri(body["site_id"])}
        return event
    if kind == "assay":
        event = _object("OBSERVE", "inspecting", body["lot_id"])
        event["sensorElementList"] = [{"sensorReport": [
            {"type": "Dimensionless", "chemicalSubstance": ELEMENT_URN + element,
             "value": ppm, "uom": "59"}
            for element, ppm in sorted(body["composition"].items())]}]
        return event
    if kind == "export":
        event = _object("OBSERVE", "departing", body["lot_id"], disposition="in_transit")
        event["orechain:export"] = {"destination": body["destination"],
                                    "buyer": body["buyer"], "permitRef": body["permit_ref"]}
        return event
    if kind == "split":
        return {"type": "AggregationEvent", "action": "DELETE",
                "parentID": lot_uri(body["lot_id"]),
                "childQuantityList": [_quantity(c["lot_id"], c["mass_g"])
                                      for c in body["children"]]}
    if kind == "merge":
        event = {"type": "AggregationEvent", "action": "ADD",
                 "parentID": lot_uri(body["new_lot_id"]),
                 "childQuantityList": [_quantity(lot) for lot in body["lot_ids"]]}
        if "form" in body:
            event["orechain:form"] = body["form"]
        return event
    if kind == "transform":
        return {"type": "TransformationEvent", "bizStep": "commissioning",
                "disposition": "active",
                "inputQuantityList": [_quantity(lot) for lot in body["inputs"]],
                "outputQuantityList": [_quantity(o["lot_id"], o["mass_g"])
                                       for o in body["outputs"]],
                "bizLocation": {"id": directory.site_uri(body["site_id"])},
                "ilmd": _lots_ilmd(body["outputs"])}
    if kind in _REGULATORY_STEP:
        event = _object("OBSERVE", _REGULATORY_STEP[kind], body["lot_id"])
        event["orechain:regulatory"] = {"kind": kind, **{k: v for k, v in body.items()
                                                         if k not in ("lot_id", "documents")}}
        return event
    raise ValueError(f"{kind!r} is not a lot event")


def epcis_event(tx: dict[str, Any], tx_id: str, block_time_ms: int,
                directory: Directory = NO_DIRECTORY) -> dict[str, Any]:
    """The EPCIS event of an accepted lot tx (JSON form) final in a block at `block_time_ms`.

    eventTime is the extraction time for register_lot and the block time otherwise: the
    chain knows when it recorded an event, not when the truck left.
    """
    kind, body = tx["kind"], tx["body"]
    event_ms = body["extracted_at_ms"] if kind == "register_lot" else block_time_ms
    event: dict[str, Any] = {"type": "", "eventTime": iso_time(event_ms),
                             "eventTimeZoneOffset": "+00:00",
                             "recordTime": iso_time(block_time_ms),
                             "eventID": TX_URN + tx_id}
    event.update(_body_event(kind, body, directory))
    if "documents" in body:
        event["orechain:documents"] = body["documents"]
    return event


def epcis_document(events: list[dict[str, Any]], created_ms: int,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """An EPCISDocument holding `events`, created at `created_ms`."""
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": iso_time(created_ms), **(extra or {}),
            "epcisBody": {"eventList": events}}


def provenance_to_epcis(answer: dict[str, Any],
                        directory: Directory = NO_DIRECTORY) -> dict[str, Any]:
    """A lot_provenance answer as an EPCIS 2.0 document, events in chain order.

    Sites are named by GLN when `directory` knows it (Directory.from_state), else by
    `urn:orechain:site:<id>`. The document's creationDate is the newest block's time, so
    the same answer always gives the same document.
    """
    times = {int(h): block["header"]["time_ms"] for h, block in answer["blocks"].items()}
    events = [epcis_event(e["tx"], e["tx_id"], times[e["height"]], directory)
              for e in answer["events"] if e.get("result", {}).get("accepted", True)]
    return epcis_document(events, max(times.values(), default=0),
                          {"orechain:chainId": answer["chain_id"],
                           "orechain:lotId": answer["lot_id"],
                           "orechain:direction": answer["direction"]})
