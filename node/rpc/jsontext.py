"""Replies whose JSON is written ahead of time.

A provenance answer is megabytes of JSON made mostly of parts of final blocks, which
never change; those parts are kept as encoded JSON, and the answer is joined from them
rather than serialised value by value on every call. A method returns such an answer
as JsonText, and the server joins its parts into the reply body in one copy.
"""

from __future__ import annotations

import json
from typing import Any

COMPACT = (",", ":")


class JsonText:
    """The JSON of a value as UTF-8 parts, joined once, when the reply is written (an
    answer is megabytes, and every copy of it counts)."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts

    def encoded(self) -> bytes:
        return b"".join(self.parts)


# One encoder for every reply: json.dumps with any non-default option builds a new
# encoder per call, a third of the time of a small reply.
_COMPACT_ENCODER = json.JSONEncoder(separators=COMPACT)


def dumps(value: Any) -> str:
    """Compact JSON, as every reply is written."""
    return _COMPACT_ENCODER.encode(value)


def reply_body(body: Any) -> bytes:
    """The JSON of a reply or a batch of replies, splicing JsonText results in."""
    parts: list[bytes] = []
    _reply_parts(body, parts)
    return b"".join(parts)


def _reply_parts(body: Any, parts: list[bytes]) -> None:
    if isinstance(body, list):
        parts.append(b"[")
        for n, item in enumerate(body):
            if n:
                parts.append(b",")
            _reply_parts(item, parts)
        parts.append(b"]")
        return
    result = body.get("result") if isinstance(body, dict) else None
    if isinstance(result, JsonText):
        envelope = dumps({key: value for key, value in body.items() if key != "result"})
        parts.append(envelope[:-1].encode() + b',"result":')
        parts.extend(result.parts)
        parts.append(b"}")
        return
    parts.append(dumps(body).encode())
