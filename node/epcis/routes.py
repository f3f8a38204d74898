"""The core of the EPCIS 2.0 REST binding under /epcis/ on the node's RPC listener.

POST /epcis/capture           an EPCISDocument in; 202 and a capture job (per-event tx ids)
GET  /epcis/capture           the capture jobs this node remembers
GET  /epcis/capture/{id}      one job, with each tx's current status
GET  /epcis/events            SimpleEventQuery: EPCs, eventType, EQ_bizStep, event time

Errors are RFC 7807 problem documents with the binding's `epcisException:` types. Capture
jobs live in memory (the newest MAX_JOBS); the txs themselves are durable once accepted.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import web

from node.crypto import PrivateKey
from node.daemon.ledger import Ledger, Rejected
from node.daemon.mempool import MempoolFull
from node.epcis.capture import Captured, capture
from node.epcis.directory import Directory
from node.epcis.export import CONTEXT
from node.epcis.mapping import DocumentError, MappingError
from node.epcis.query import EventQuery, QueryError, run_query
from node.epcis.units import iso_time, load_document
from node.provenance.ledger import LedgerView
from node.rpc.access import is_loopback
from node.store import StoreError
from node.types import Tx

MAX_CAPTURE_BYTES = 1024 * 1024        # well above a day's events of a mine site
MAX_JOBS = 1000
VERSION_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
BEHAVIOURS = ("rollback", "proceed")
JOBS = web.AppKey("epcis_jobs", OrderedDict)
NODE = web.AppKey("epcis_node", object)
MAY_WRITE = web.AppKey("epcis_may_write", object)
WritePolicy = Callable[[str | None, str | None], bool]   # (remote address, Authorization)


def loopback_only(remote: str | None, authorization: str | None) -> bool:
    return is_loopback(remote)


class EpcisNode(Protocol):
    ledger: Ledger
    org_key: PrivateKey | None

    async def submit(self, tx: Tx) -> str: ...


def register_routes(app: web.Application, node: EpcisNode,
                    may_write: WritePolicy = loopback_only) -> None:
    """Serve the EPCIS routes of `node` on `app` (the RPC listener's application).

    Capture makes the node sign with its org key, so it obeys the same write policy as
    lot_submitEvent (pass the RPC's `AccessPolicy.may_write`); queries are open reads.
    """
    app[NODE] = node
    app[MAY_WRITE] = may_write
    app[JOBS] = OrderedDict()
    app.router.add_post("/epcis/capture", _capture)
    app.router.add_get("/epcis/capture", _jobs)
    app.router.add_get("/epcis/capture/{capture_id}", _job)
    app.router.add_get("/epcis/events", _events)


def _problem(status: int, kind: str, detail: str, **extra: Any) -> web.Response:
    body = {"type": f"epcisException:{kind}", "title": kind, "status": status,
            "detail": detail, **extra}
    return web.json_response(body, status=status, content_type="application/problem+json",
                             headers=VERSION_HEADERS)


def _now_ms() -> int:
    """Wall-clock time for job and query timestamps only; nothing on chain depends on it."""
    return time.time_ns() // 1_000_000


async def _read_document(request: web.Request) -> Any:
    if request.content_type not in ("application/json", "application/ld+json"):
        raise _HttpProblem(415, "UnsupportedMediaType",
                           "send the EPCISDocument as application/json or application/ld+json")
    data = await request.content.read(MAX_CAPTURE_BYTES + 1)
    if len(data) > MAX_CAPTURE_BYTES:
        raise _HttpProblem(413, "CapturePayloadTooLarge",
                           f"a capture is at most {MAX_CAPTURE_BYTES} bytes; split the events "
                           "over several documents")
    try:
        return load_document(data)
    except ValueError as exc:
        raise _HttpProblem(400, "ValidationException", f"the body is not JSON: {exc}") from None


class _HttpProblem(Exception):
    def __init__(self, status: int, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.response = _problem(status, kind, detail)


def _admission_errors(ledger: Ledger, results: list[Captured | MappingError]) -> list[str]:
    """Reasons the node would refuse captured txs at submission (unregistered key, ...)."""
    errors = []
    for result in results:
        for tx in result.txs if isinstance(result, Captured) else ():
            try:
                ledger.check_tx(tx)
            except Rejected as exc:
                errors.append(f"event {result.index}: {exc}")
    return errors


def _directory(node: EpcisNode) -> Directory:
    """The sites and orgs registered as of the node's head: genesis and governance ones."""
    return Directory.from_state(LedgerView(node.ledger.store))


async def _capture(request: web.Request) -> web.Response:
    node: EpcisNode = request.app[NODE]
    if not request.app[MAY_WRITE](request.remote, request.headers.get("Authorization")):
        return _problem(403, "ClientUnauthorized", "capture signs with this node's org key: "
                        "call from loopback or send Authorization: Bearer <rpc_token>")
    behaviour = request.headers.get("GS1-Capture-Error-Behaviour", "rollback")
    if behaviour not in BEHAVIOURS:
        return _problem(400, "ValidationException", f"GS1-Capture-Error-Behaviour "
                        f"{behaviour!r} is not supported ({', '.join(BEHAVIOURS)})")
    if node.org_key is None:
        return _problem(503, "ImplementationException", "this node holds no org key, so it "
                        "cannot sign captured events (set org_key_file in its config)")
    try:
        document = await _read_document(request)
        results = capture(document, _directory(node), node.org_key, node.ledger.chain_id)
    except _HttpProblem as problem:
        return problem.response
    except DocumentError as exc:
        return _problem(400, "ValidationException", str(exc))
    errors = [str(r) for r in results if isinstance(r, MappingError)]
    errors += _admission_errors(node.ledger, results)
    if errors and behaviour == "rollback":
        return _problem(400, "ValidationException", "no event was captured: "
                        f"{len(errors)} could not be recorded (GS1-Capture-Error-Behaviour: "
                        "rollback)", errors=errors)
    job = await _submit_all(node, results, behaviour)
    jobs = request.app[JOBS]
    jobs[job["captureID"]] = job
    while len(jobs) > MAX_JOBS:
        jobs.popitem(last=False)
    return web.json_response(_job_view(node.ledger, job), status=202, headers={
        **VERSION_HEADERS, "Location": f"/epcis/capture/{job['captureID']}"})


async def _submit_all(node: EpcisNode, results: list[Captured | MappingError],
                      behaviour: str) -> dict[str, Any]:
    events: list[dict[str, Any]] = []
    for result in results:
        if isinstance(result, MappingError):
            events.append({"index": result.index, "error": str(result)})
            continue
        txs = []
        for tx in result.txs:
            entry = {"tx_id": tx.tx_id.hex(), "kind": tx.kind}
            try:
                await node.submit(tx)
            except (Rejected, MempoolFull, StoreError) as exc:
                entry["error"] = str(exc)
            txs.append(entry)
        events.append({"index": result.index, "txs": txs})
    # The same document captured again is the same job (its txs are duplicates too).
    digest = hashlib.sha256(repr((behaviour, events)).encode()).hexdigest()[:24]
    return {"captureID": digest, "createdAt": iso_time(_now_ms()),
            "captureErrorBehaviour": behaviour, "events": events}


def _job_view(ledger: Ledger, job: dict[str, Any]) -> dict[str, Any]:
    """The job with each tx's status as of now (pending, final, rejected)."""
    events, errors, running = [], [], False
    for event in job["events"]:
        if "error" in event:
            errors.append(event["error"])
            events.append(event)
            continue
        txs = []
        for entry in event["txs"]:
            view = dict(entry)
            if "error" in entry:
                view["status"] = "refused"
                errors.append(f"event {event['index']}: {entry['error']}")
            else:
                status, height, _, result = ledger.tx_status(bytes.fromhex(entry["tx_id"]))
                view["status"] = "pending" if status == "unknown" else status
                running = running or status == "unknown"
                if height is not None:
                    view["height"] = height
                if result is not None and not result.accepted:
                    view["reason"] = result.reason
                    errors.append(f"event {event['index']}: {result.reason}")
            txs.append(view)
        events.append({"index": event["index"], "txs": txs})
    return {**job, "events": events, "running": running, "success": not errors,
            "errors": errors}


async def _jobs(request: web.Request) -> web.Response:
    node: EpcisNode = request.app[NODE]
    return web.json_response([_job_view(node.ledger, job)
                              for job in request.app[JOBS].values()], headers=VERSION_HEADERS)


async def _job(request: web.Request) -> web.Response:
    node: EpcisNode = request.app[NODE]
    job = request.app[JOBS].get(request.match_info["capture_id"])
    if job is None:
        return _problem(404, "NoSuchResourceException", "no capture job with that id on this "
                        "node (jobs are kept in memory; the txs themselves are on chain)")
    return web.json_response(_job_view(node.ledger, job), headers=VERSION_HEADERS)


async def _events(request: web.Request) -> web.Response:
    node: EpcisNode = request.app[NODE]
    try:
        query = EventQuery.from_params(request.query)
    except QueryError as exc:
        return _problem(400, "QueryParameterException", str(exc))
    events, next_token = run_query(node.ledger.store, query, _directory(node))
    headers = dict(VERSION_HEADERS)
    if next_token is not None:
        url = request.rel_url.update_query({"nextPageToken": next_token})
        headers["Link"] = f'<{url}>; rel="next"'
    body = {"@context": CONTEXT, "type": "EPCISQueryDocument", "schemaVersion": "2.0",
            "creationDate": iso_time(_now_ms()),
            "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery",
                                           "resultsBody": {"eventList": events}}}}
    return web.json_response(body, headers=headers)

