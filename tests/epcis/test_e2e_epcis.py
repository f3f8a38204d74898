"""End to end on a real daemon holding mine-1's org key: EPCIS capture over HTTP becomes
final lot events, rollback and proceed behave as the REST binding says, GET /epcis/events
answers from chain data, and the provenance answer exports to a schema-valid document.

Needs `register_routes` wired into node.daemon.node (docs/epcis.md, "Wiring")."""

import json
import urllib.error
import urllib.request

import pytest

from node.cli.client import RpcCallError
from node.crypto import write_key_file
from node.epcis.export import CONTEXT, provenance_to_epcis
from tests.epcis.fixtures import devnet_directory, gs1_example, schema_errors
from tests.helpers import NodeProcess, devnet_doc, event, org_key, wait_final

pytestmark = pytest.mark.network

LOT = "PK-CU-2026-0101"
DL_LOT = "https://id.gs1.org/01/00614141777778/10/ORE7"
PIT = "urn:epc:id:sgln:896000.000001.0"          # GLN 8960000000016: mine-1-pit-a


def _commission(lot_uri, kg, when):
    return {"type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
            "eventTime": when, "eventTimeZoneOffset": "+05:00",
            "quantityList": [{"epcClass": lot_uri, "quantity": kg, "uom": "KGM"}],
            "bizLocation": {"id": PIT},
            "ilmd": {"orechain:lots": {lot_uri: {"mineral": "copper", "form": "ore"}}}}


def _document(*events):
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-11-20T00:00:00Z", "epcisBody": {"eventList": list(events)}}


def _http(node, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{node.rpc_port}{path}", data=data, method=method,
        headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    home = tmp_path_factory.mktemp("epcis")
    genesis_file = home / "genesis.json"
    genesis_file.write_text(json.dumps(devnet_doc(validators=1)))
    write_key_file(home / "mine-1.key", org_key("mine-1"))
    process = NodeProcess(home / "validator-1", genesis_file, "validator-1")
    process.argv += ["--org-key", str(home / "mine-1.key")]
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def commissioned(node):
    """LOT and the Digital Link lot captured and final: what the queries below read."""
    document = _document(_commission("urn:orechain:lot:" + LOT, 25_000, "2026-11-20T10:00:00Z"),
                         _commission(DL_LOT, 12.5, "2026-11-20T11:00:00+05:00"))
    status, headers, job = _http(node, "POST", "/epcis/capture", document)
    assert status == 202, job
    for tx_id in [t["tx_id"] for e in job["events"] for t in e["txs"]]:
        wait_final(node.rpc, tx_id)
    return document, headers, job


@pytest.fixture(scope="module")
def assayed(node, commissioned):
    """LOT assayed by the lab as well (an inspecting event)."""
    lab = event("lab-1", "assay", {"lot_id": LOT, "composition": {"Cu": 6_200}}, 7)
    wait_final(node.rpc, node.rpc.call("lot_submitEvent", event=lab.to_json())["tx_id"])


def test_capture_becomes_final_lot_events(node, commissioned):
    document, headers, job = commissioned
    assert headers["Location"] == f"/epcis/capture/{job['captureID']}"
    tx_ids = [t["tx_id"] for e in job["events"] for t in e["txs"]]
    assert len(tx_ids) == 2
    for tx_id in tx_ids:
        assert wait_final(node.rpc, tx_id)["status"] == "final"
    assert node.rpc.call("lot_get", lot_id=LOT)["mass_g"] == 25_000_000
    assert node.rpc.call("lot_get", lot_id="00614141777778.ORE7")["mass_g"] == 12_500
    _, _, done = _http(node, "GET", headers["Location"])
    assert (done["running"], done["success"]) == (False, True)
    assert [t["status"] for e in done["events"] for t in e["txs"]] == ["final", "final"]
    status, _, again = _http(node, "POST", "/epcis/capture", document)   # a retry
    assert status == 202 and again["captureID"] == job["captureID"]


def test_rollback_refuses_the_whole_document_and_proceed_keeps_the_good_events(node):
    good = _commission("urn:orechain:lot:PK-CU-2026-0102", 1_000, "2026-11-20T12:00:00Z")
    bad = gs1_example("Example_9.6.1-ObjectEvent.jsonld")["epcisBody"]["eventList"][0]
    bad["eventTime"] = "2005-04-03T20:33:31.116-06:00"
    status, _, problem = _http(node, "POST", "/epcis/capture", _document(good, bad))
    assert status == 400 and problem["type"] == "epcisException:ValidationException"
    assert problem["errors"] == [problem["errors"][0]] and "event 1" in problem["errors"][0]
    assert "epcList[0]" in problem["errors"][0]
    with pytest.raises(RpcCallError, match="not on chain"):
        node.rpc.call("lot_get", lot_id="PK-CU-2026-0102")

    status, _, job = _http(node, "POST", "/epcis/capture", _document(good, bad),
                           {"GS1-Capture-Error-Behaviour": "proceed"})
    assert status == 202 and job["success"] is False
    assert [("txs" in e, "error" in e) for e in job["events"]] == [(True, False), (False, True)]
    assert wait_final(node.rpc, job["events"][0]["txs"][0]["tx_id"])["status"] == "final"


def test_capture_at_a_site_of_another_org_is_rejected_on_chain_with_a_reason(node):
    at_refinery = _commission("urn:orechain:lot:PK-CU-2026-0103", 5, "2026-11-20T13:00:00Z")
    at_refinery["bizLocation"] = {"id": "https://id.gs1.org/414/8960000000078"}
    status, _, job = _http(node, "POST", "/epcis/capture", _document(at_refinery))
    assert status == 202
    result = wait_final(node.rpc, job["events"][0]["txs"][0]["tx_id"])
    assert result["status"] == "rejected" and "refinery-1-qasim" in result["reason"]


def test_event_query_answers_from_chain_data(node, assayed):
    status, headers, answer = _http(
        node, "GET", "/epcis/events?MATCH_epcClass=urn:orechain:lot:" + LOT)
    assert status == 200 and headers["GS1-EPCIS-Version"] == "2.0.0"
    events = answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["bizStep"] for e in events] == ["commissioning", "inspecting"]
    report = events[1]["sensorElementList"][0]["sensorReport"][0]
    assert (report["value"], report["uom"]) == (6_200, "59")

    lgtin = "urn:epc:class:lgtin:0614141.077777.ORE7"      # the Digital Link lot, as LGTIN
    _, _, by_lgtin = _http(node, "GET", f"/epcis/events?MATCH_anyEPCClass={lgtin}"
                                        "&EQ_bizStep=commissioning&eventType=ObjectEvent")
    [found] = by_lgtin["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert found["quantityList"][0] == {"epcClass": DL_LOT, "quantity": 12_500, "uom": "GRM"}
    assert found["eventTime"] == "2026-11-20T06:00:00.000Z"

    window = ("/epcis/events?eventType=ObjectEvent&EQ_bizStep=commissioning"
              "&GE_eventTime=2026-11-20T10:00:00Z&LT_eventTime=2026-11-20T12:00:00Z")
    _, _, in_window = _http(node, "GET", window)
    assert [e["quantityList"][0]["epcClass"] for e in
            in_window["epcisBody"]["queryResults"]["resultsBody"]["eventList"]] == [
        "urn:orechain:lot:" + LOT]

    _, headers, page = _http(node, "GET", "/epcis/events?EQ_bizStep=commissioning&perPage=1")
    assert len(page["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 1
    next_url = headers["Link"].split(">")[0].lstrip("<")
    _, _, second = _http(node, "GET", next_url)
    first_id = page["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["eventID"]
    second_ids = [e["eventID"] for e in
                  second["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
    assert second_ids and first_id not in second_ids

    status, _, problem = _http(node, "GET", "/epcis/events?EQ_bizstep=shipping")
    assert status == 400 and "EQ_bizstep" in problem["detail"]


def test_provenance_exports_to_a_schema_valid_epcis_document(node, assayed):
    answer = node.rpc.call("lot_provenance", lot_id=LOT, direction="both")
    document = provenance_to_epcis(answer, devnet_directory())
    assert schema_errors(document) == []
    assert [e["bizStep"] for e in document["epcisBody"]["eventList"]] == [
        "commissioning", "inspecting"]
