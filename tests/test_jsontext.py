"""Replies with JSON written ahead of time are spliced into the JSON-RPC envelope as
they are, alone and inside a batch, and read back as the same values."""

from __future__ import annotations

import json

from node.rpc.jsontext import JsonText, reply_body

ANSWER = {"lot_id": "PK-CU-1", "events": [{"n": 1}, {"n": 2}], "note": "é \"quoted\""}


def _parts(value: object) -> JsonText:
    text = json.dumps(value, separators=(",", ":")).encode()
    return JsonText([text[:10], text[10:25], text[25:]])


def test_a_prewritten_result_is_spliced_into_its_reply() -> None:
    body = reply_body({"jsonrpc": "2.0", "id": 7, "result": _parts(ANSWER)})
    assert json.loads(body) == {"jsonrpc": "2.0", "id": 7, "result": ANSWER}


def test_a_batch_mixes_prewritten_and_plain_results_in_order() -> None:
    replies = [{"jsonrpc": "2.0", "id": 1, "result": {"height": 3}},
               {"jsonrpc": "2.0", "id": "two", "result": _parts(ANSWER)},
               {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "bad"}}]
    assert json.loads(reply_body(replies)) == [
        replies[0], {"jsonrpc": "2.0", "id": "two", "result": ANSWER}, replies[2]]
