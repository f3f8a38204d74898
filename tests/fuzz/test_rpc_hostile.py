"""Hostile JSON-RPC at a live daemon: random JSON, deep nesting, huge numbers, wrong
types for every parameter of every method, malformed HTTP bodies, oversized bodies.

Every answer must be a JSON-RPC 2.0 reply whose error codes are the spec's or the
documented application codes (never -32603 internal error), the daemon must stay
up and keep finalising events, and its memory must stay bounded.
"""

from __future__ import annotations

import http.client
import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.rpc.errors import (
    APPLICATION_ERRORS,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
)
from node.rpc.server import MAX_BODY_BYTES
from tests.chaos.solo import lot_event
from tests.fuzz.budget import EXAMPLES, FUZZ
from tests.fuzz.conftest import rss_kib
from tests.helpers import wait_final

SPEC_CODES = {PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS}
ALLOWED_CODES = SPEC_CODES | set(APPLICATION_ERRORS)
METHODS = ["lot_submitEvent", "lot_prepareEvent", "tx_get", "lot_get", "lot_history",
           "lot_provenance", "chain_head", "chain_genesis", "block_get", "node_status",
           "rpc.discover"]
PARAMS = ["event", "tx_id", "lot_id", "direction", "height", "hash"]
RSS_GROWTH_KIB = 64 * 1024
# block_get passes any int height to the store's u64 key: 2**64 raises struct.error.
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
              st.floats(allow_nan=False, allow_infinity=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(st.text(max_size=10), inner, max_size=5)),
    max_leaves=30)
calls = st.fixed_dictionaries(
    {"jsonrpc": st.sampled_from(["2.0", "2.0", "1.0", 2]),
     "method": st.one_of(st.sampled_from(METHODS), st.text(max_size=10), st.integers())},
    optional={"id": st.one_of(st.integers(), st.text(max_size=8), st.none(), st.floats(),
                              st.lists(st.integers(), max_size=2)),
              "params": st.one_of(st.dictionaries(st.sampled_from(PARAMS), json_values,
                                                  max_size=4), json_values)})
bodies = st.one_of(calls.map(json.dumps), st.lists(calls, max_size=5).map(json.dumps),
                   json_values.map(json.dumps), st.binary(max_size=200).map(bytes.hex),
                   st.text(max_size=200))


def post(port: int, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/rpc", body, {"Content-Type": "application/json",
                                            **(headers or {})})
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    return resp.status, (json.loads(raw) if raw else None)


def check_reply(reply: Any) -> None:
    """A JSON-RPC 2.0 reply (or batch of them) whose errors carry allowed codes."""
    for r in reply if isinstance(reply, list) else [reply]:
        assert r["jsonrpc"] == "2.0" and "id" in r, r
        assert ("result" in r) != ("error" in r), r
        if "error" in r:
            assert r["error"]["code"] in ALLOWED_CODES, r
            assert isinstance(r["error"]["message"], str) and r["error"]["message"], r


@FUZZ
@given(body=bodies)
def test_random_bodies_get_spec_replies(live_node, body: str) -> None:
    status, reply = post(live_node.rpc_port, body.encode())
    if reply is None:
        assert status == 204  # notifications only: nothing to answer
    else:
        check_reply(reply)


def test_wrong_type_for_every_parameter_of_every_method(live_node) -> None:
    wrong = [None, True, 0, -1, 2**64, 10**400, 1.5, "", "zz", "0" * 64, [], {}, [1] * 50,
             {"a": {"b": {}}}]
    internal = []
    for method in METHODS:
        for name in PARAMS:
            for value in wrong:
                _, reply = post(live_node.rpc_port, json.dumps(
                    {"jsonrpc": "2.0", "id": 1, "method": method,
                     "params": {name: value}}).encode())
                if reply.get("error", {}).get("code") == INTERNAL_ERROR:
                    internal.append((method, name, value))
                else:
                    check_reply(reply)
    shown = [(m, n, str(v)[:12]) for m, n, v in internal]
    assert not internal, f"internal errors on hostile params: {shown}"


def test_event_fields_of_every_wrong_type_are_invalid_params(live_node) -> None:
    genuine = lot_event("R", 1)
    rng = random.Random(7)
    junk = [None, True, -1, 2**70, "x" * 100_000, [], {}, "g" * 64, 1.5, {"a": [[[[]]]]}]
    for field in [*genuine, "extra"]:
        for value in junk:
            event = {**genuine, field: value}
            for method in ("lot_submitEvent", "lot_prepareEvent"):
                _, reply = post(live_node.rpc_port, json.dumps(
                    {"jsonrpc": "2.0", "id": rng.randrange(1000), "method": method,
                     "params": {"event": event}}).encode())
                check_reply(reply)
                if method == "lot_submitEvent":
                    assert "error" in reply, (field, value, reply)


def test_nesting_numbers_and_sizes_at_and_past_the_limits(live_node) -> None:
    port = live_node.rpc_port
    for depth in (31, 33, 200):
        nested = "[" * depth + "]" * depth
        check_reply(post(port, nested.encode())[1])
        params = '{"event":' + '{"a":' * depth + "1" + "}" * depth + "}"
        body = '{"jsonrpc":"2.0","id":1,"method":"lot_submitEvent","params":' + params + "}"
        check_reply(post(port, body.encode())[1])
    for number in ("1" * 5000, "1e999999", "-0", "NaN", "Infinity", "1" * 100_000):
        body = '{"jsonrpc":"2.0","id":1,"method":"block_get","params":{"height":' + number + "}}"
        check_reply(post(port, body.encode())[1])
    status, reply = post(port, b"[" + b"1," * (MAX_BODY_BYTES // 2) + b"1]")
    assert status == 413 and reply["error"]["code"] == INVALID_REQUEST
    batch = [{"jsonrpc": "2.0", "id": i, "method": "chain_head"} for i in range(201)]
    check_reply(post(port, json.dumps(batch).encode())[1])
    for raw in (b"", b"\xff\xfe", b'{"jsonrpc":"2.0"', b"\x00" * 1000, b'"\xed\xa0\x80"'):
        status, reply = post(port, raw)
        check_reply(reply)
        assert reply["error"]["code"] in (PARSE_ERROR, INVALID_REQUEST)


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_nesting_deeper_than_the_parser_recursion_limit(live_node, depth: int) -> None:
    _, reply = post(live_node.rpc_port, ("[" * depth + "]" * depth).encode())
    check_reply(reply)


def _lying_post(port: int, sent: int) -> int | None:
    """POST announcing 1 GiB but sending only `sent` bytes; the status, None on timeout."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest("POST", "/rpc")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(1 << 30))
        conn.endheaders()
        conn.send(b"[" * sent)
        return conn.getresponse().status
    except TimeoutError:
        return None
    finally:
        conn.close()


def test_oversized_body_is_refused_once_past_the_limit(live_node) -> None:
    """1 GiB announced, 2 MiB sent: refused at the 1 MiB limit, not buffered whole."""
    assert _lying_post(live_node.rpc_port, 2 * MAX_BODY_BYTES) == 413


def test_oversized_content_length_is_refused_from_the_header(live_node) -> None:
    assert _lying_post(live_node.rpc_port, 4096) == 413


def test_daemon_survives_with_bounded_memory_and_still_finalises(live_node) -> None:
    """Runs last in this module: the barrage above must not have hurt the node."""
    before = rss_kib(live_node)
    rng = random.Random(11)
    for _ in range(max(200, EXAMPLES)):
        depth = rng.randrange(1, 40)
        post(live_node.rpc_port, json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": rng.choice(METHODS),
             "params": {"lot_id": "L" * rng.randrange(1, 5000),
                        "event": {"body": [[]] * depth}}}).encode())
    grown = rss_kib(live_node) - before
    assert grown < RSS_GROWTH_KIB, f"RSS grew by {grown} KiB"
    reply = live_node.rpc.call("lot_submitEvent", event=lot_event("S", 1))
    assert wait_final(live_node.rpc, reply["tx_id"])["status"] == "final"
