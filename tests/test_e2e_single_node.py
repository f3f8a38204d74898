"""End to end on a real daemon process: a copper lot's journey from pit to refinery over
HTTP, the provenance answer verified offline, and the history surviving a restart."""

import json

import pytest

from node.merkle import verify_inclusion
from node.types import Header
from node.types.genesis import Genesis
from node.verify import VerificationError, verify_provenance
from tests.helpers import NodeProcess, devnet_doc, event, wait_final

pytestmark = pytest.mark.network

LOT = "PK-CU-2026-0001"
OUT = "PK-CU-2026-0001-C1"

JOURNEY = [
    ("mine-1", "register_lot", {"lot_id": LOT, "mineral": "copper", "form": "ore",
                                "mass_g": 25_000_000, "site_id": "mine-1-pit-a",
                                "extracted_at_ms": 1_795_200_000_000,
                                "location": {"lat_e6": 29_282_000, "lon_e6": 61_567_000}}),
    ("lab-1", "assay", {"lot_id": LOT, "composition": {"Cu": 6_200}}),
    ("mine-1", "dispatch", {"lot_id": LOT, "to_org": "refinery-1", "mass_g": 25_000_000,
                            "carrier_org": "transporter-1"}),
    ("refinery-1", "receive", {"lot_id": LOT, "site_id": "refinery-1-qasim",
                               "mass_g": 24_950_000}),
    ("refinery-1", "transform", {"site_id": "refinery-1-qasim", "inputs": [LOT],
                                 "outputs": [{"lot_id": OUT, "mineral": "copper",
                                              "form": "concentrate", "mass_g": 600_000,
                                              "composition": {"Cu": 250_000}}]}),
]


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    home = tmp_path_factory.mktemp("solo")
    genesis_file = home / "genesis.json"
    genesis_file.write_text(json.dumps(devnet_doc(validators=1)))
    node = NodeProcess(home / "validator-1", genesis_file, "validator-1").start()
    yield node, Genesis.from_json(json.loads(genesis_file.read_text()))
    node.stop()


@pytest.fixture(scope="module")
def journeyed(chain):
    """The JOURNEY's events submitted one by one, each final; their tx ids in order."""
    node, _ = chain
    tx_ids = []
    for nonce, (org, kind, body) in enumerate(JOURNEY, start=1):
        tx = event(org, kind, body, nonce)
        reply = node.rpc.call("lot_submitEvent", event=tx.to_json())
        assert reply == {"tx_id": tx.tx_id.hex(), "status": "pending"} or reply["status"] in (
            "final",)
        result = wait_final(node.rpc, reply["tx_id"])
        assert result["status"] == "final", result
        tx_ids.append(reply["tx_id"])
    return tx_ids


def test_journey_is_final_and_provable_offline(chain, journeyed):
    node, genesis = chain
    tx_ids = journeyed
    out = node.rpc.call("lot_get", lot_id=OUT)
    assert out["mass_g"] == 600_000 and out["holder"] == "refinery-1"
    assert node.rpc.call("lot_get", lot_id=LOT)["status"] == "consumed"

    answer = node.rpc.call("lot_provenance", lot_id=OUT, direction="backward")
    assert set(answer["lots"]) == {LOT, OUT}
    assert [e["tx_id"] for e in answer["events"]] == tx_ids
    for ev in answer["events"]:
        header = Header.from_json(answer["blocks"][str(ev["height"])]["header"])
        proof = [bytes.fromhex(p) for p in ev["proof"]]
        assert verify_inclusion(bytes.fromhex(ev["tx_id"]), ev["index"], header.tx_count,
                                proof, header.tx_root)
        assert answer["blocks"][str(ev["height"])]["commit"]["signatures"]
    report = verify_provenance(answer, genesis)
    assert report.events == len(JOURNEY) and report.lots == 2

    tampered = json.loads(json.dumps(answer))
    tampered["events"][0]["tx"]["body"]["mass_g"] = 26_000_000
    with pytest.raises(VerificationError, match=r"signature|tx_id"):
        verify_provenance(tampered, genesis)
    forged = json.loads(json.dumps(answer))
    forged["blocks"][str(answer["events"][0]["height"])]["commit"]["signatures"] = []
    with pytest.raises(VerificationError, match="2/3"):
        verify_provenance(forged, genesis)


def test_duplicate_submission_is_idempotent(chain):
    node, _ = chain
    tx = event("mine-1", "register_lot", {**JOURNEY[0][2], "lot_id": "PK-CU-2026-0002"}, 99)
    first = node.rpc.call("lot_submitEvent", event=tx.to_json())
    again = node.rpc.call("lot_submitEvent", event=tx.to_json())
    assert first["tx_id"] == again["tx_id"] == tx.tx_id.hex()
    wait_final(node.rpc, first["tx_id"])
    assert node.rpc.call("lot_submitEvent", event=tx.to_json()) == {
        "tx_id": tx.tx_id.hex(), "status": "final"}


@pytest.mark.usefixtures("journeyed")
def test_rule_breaking_event_is_recorded_rejected_with_reason(chain):
    node, _ = chain
    theft = event("transporter-2", "dispatch", {"lot_id": OUT, "to_org": "exporter-1",
                                                "mass_g": 600_000}, 5)
    reply = node.rpc.call("lot_submitEvent", event=theft.to_json())
    result = wait_final(node.rpc, reply["tx_id"])
    assert result["status"] == "rejected"
    assert "refinery-1" in result["reason"] and "transporter-2" in result["reason"]
    assert node.rpc.call("lot_get", lot_id=OUT)["holder"] == "refinery-1"


@pytest.mark.usefixtures("journeyed")
def test_history_survives_restart(chain):
    node, _ = chain
    before = node.rpc.call("lot_history", lot_id=LOT)
    head = node.rpc.call("chain_head")
    assert node.stop() == 0
    node.start()
    assert node.rpc.call("chain_head") == head
    assert node.rpc.call("lot_history", lot_id=LOT) == before
    block = node.rpc.call("block_get", height=1)
    assert block["commit"]["height"] == 1 and block["tx_ids"]
    assert node.rpc.call("block_get", hash=block["hash"])["height"] == 1


def test_kill_9_keeps_everything_acknowledged(chain):
    node, _ = chain
    txs = [event("mine-1", "register_lot", {**JOURNEY[0][2], "lot_id": f"PK-CU-2026-1{i:03d}"},
                 1000 + i) for i in range(20)]
    acked = [node.rpc.call("lot_submitEvent", event=t.to_json())["tx_id"] for t in txs]
    node.kill()
    node.start()
    for tx_id in acked:
        assert wait_final(node.rpc, tx_id)["status"] == "final"
