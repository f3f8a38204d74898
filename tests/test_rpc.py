"""JSON-RPC 2.0 over a real daemon: spec error codes, application codes, batches, limits."""

import json
import urllib.error
import urllib.request

import pytest

from node.crypto import PrivateKey
from node.types import Tx
from tests.helpers import NodeProcess, devnet_doc, event, org_key

pytestmark = pytest.mark.network

REGISTER = {"lot_id": "PK-SB-2026-0001", "mineral": "antimony", "form": "ore",
            "mass_g": 1_000_000, "site_id": "mine-2-adit-1", "extracted_at_ms": 1_795_200_000_000}


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    home = tmp_path_factory.mktemp("rpc")
    genesis_file = home / "genesis.json"
    genesis_file.write_text(json.dumps(devnet_doc(validators=1)))
    n = NodeProcess(home / "validator-1", genesis_file, "validator-1").start()
    yield n
    n.stop()


def post(node, body: bytes) -> tuple[int, object]:
    req = urllib.request.Request(node.rpc.url, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def call(node, method, params=None, req_id=1):
    return post(node, json.dumps({"jsonrpc": "2.0", "id": req_id, "method": method,
                                  "params": params or {}}).encode())[1]


def code(reply):
    return reply["error"]["code"]


def test_parse_error(node):
    _, reply = post(node, b'{"jsonrpc": "2.0", "id": 1, "method": ')
    assert code(reply) == -32700 and reply["id"] is None


@pytest.mark.parametrize("body", [b'{"id": 1, "method": "chain_head"}', b"[]", b"42",
                                  b'{"jsonrpc": "2.0", "id": 1, "method": 5}'])
def test_invalid_request(node, body):
    assert code(post(node, body)[1]) == -32600


def test_method_not_found(node):
    reply = call(node, "lot_steal")
    assert code(reply) == -32601 and "rpc.discover" in reply["error"]["message"]


@pytest.mark.parametrize("params, words", [
    ({}, "missing parameter 'event'"),
    ({"event": {"chain_id": "x"}}, "missing field"),
])
def test_invalid_params(node, params, words):
    reply = call(node, "lot_submitEvent", params)
    assert code(reply) == -32602 and words in reply["error"]["message"]


def test_a_signed_event_with_a_malformed_body_is_refused_naming_the_field(node):
    body = {**REGISTER, "lot_id": "PK-SB-2026-0099", "mass_g": -5}
    reply = call(node, "lot_submitEvent",
                 {"event": event("mine-2", "register_lot", body, nonce=99).to_json()})
    assert code(reply) == -32602
    assert "malformed event" in reply["error"]["message"]
    assert "mass_g" in reply["error"]["message"]


def test_floats_are_refused(node):
    tx = event("mine-2", "register_lot", REGISTER).to_json()
    tx["body"] = {**REGISTER, "mass_g": 1.5}
    reply = call(node, "lot_submitEvent", {"event": tx})
    assert code(reply) == -32602


def test_bad_signature_wrong_chain_and_unknown_key_are_refused(node):
    good = event("mine-2", "register_lot", REGISTER, nonce=3)
    forged = {**good.to_json(), "signature": "00" * 64}
    reply = call(node, "lot_submitEvent", {"event": forged})
    assert code(reply) == -32010 and "bad signature" in reply["error"]["message"]

    other_chain = event("mine-2", "register_lot", REGISTER, chain_id="another-chain")
    reply = call(node, "lot_submitEvent", {"event": other_chain.to_json()})
    assert code(reply) == -32010 and "chain" in reply["error"]["message"]

    stranger = PrivateKey(b"\x42" * 32)
    tx = Tx("orechain-devnet-1", "register_lot", REGISTER, stranger.public_key, 1).signed(stranger)
    reply = call(node, "lot_submitEvent", {"event": tx.to_json()})
    assert code(reply) == -32010 and "regist" in reply["error"]["message"]
    assert code(call(node, "tx_get", {"tx_id": tx.tx_id.hex()})) == -32011


def test_prepare_returns_exactly_the_bytes_to_sign(node):
    key = org_key("mine-2")
    unsigned = Tx("orechain-devnet-1", "register_lot", REGISTER, key.public_key, 11)
    reply = call(node, "lot_prepareEvent", {"event": unsigned.to_json()})
    signing = bytes.fromhex(reply["result"]["signing_bytes"])
    assert signing == unsigned.signing_bytes
    signed = {**unsigned.to_json(), "signature": key.sign(signing).hex()}
    assert call(node, "lot_submitEvent", {"event": signed})["result"]["status"] == "pending"


def test_not_found(node):
    assert code(call(node, "lot_get", {"lot_id": "PK-NONE-0000"})) == -32011
    assert code(call(node, "block_get", {"height": 10**6})) == -32011
    assert code(call(node, "tx_get", {"tx_id": "zz"})) == -32602


def test_batch_and_notification(node):
    body = json.dumps([
        {"jsonrpc": "2.0", "id": "a", "method": "chain_head", "params": {}},
        {"jsonrpc": "2.0", "id": "b", "method": "nope"},
        {"jsonrpc": "2.0", "method": "chain_head"},  # notification: no reply
    ]).encode()
    status, replies = post(node, body)
    assert status == 200 and [r["id"] for r in replies] == ["a", "b"]
    assert "result" in replies[0] and code(replies[1]) == -32601
    status, reply = post(node, b'{"jsonrpc": "2.0", "method": "chain_head"}')
    assert status == 204 and reply is None


def test_oversized_body_is_refused(node):
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "chain_head", "params": {"x": "' + \
        b"a" * (2 << 20) + b'"}}'
    status, reply = post(node, body)
    assert status == 413 and code(reply) == -32600


def test_deep_nesting_is_refused(node):
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "chain_head", "params": {"x": ' + \
        b"[" * 100 + b"]" * 100 + b"}}"
    assert code(post(node, body)[1]) == -32600


def test_discover_lists_every_method(node):
    doc = call(node, "rpc.discover")["result"]
    names = {m["name"] for m in doc["methods"]}
    assert {"lot_submitEvent", "lot_prepareEvent", "tx_get", "lot_get", "lot_history",
            "lot_provenance", "chain_head", "chain_genesis", "block_get", "node_status",
            "rpc.discover"} <= names
    assert call(node, "chain_genesis")["result"]["chain_id"] == "orechain-devnet-1"
    status = call(node, "node_status")["result"]
    assert status["validator"] is True and status["version"]
