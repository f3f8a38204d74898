"""Replies whose JSON is written ahead of time.

A provenance answer is megabytes of JSON made mostly of parts of final blocks, which
never change; those parts are kept as JSON text, and the answer is joined from them
rather than serialised value by value on every call. A method returns such an answer
as JsonText, and the server puts it into the reply as it is.
"""

from __future__ import annotations

import json
from typing import Any

COMPACT = (",", ":")


class JsonText:
    """The JSON text of a value, from its parts (joined once, when the reply is
    written: an answer is megabytes, and every copy of it counts)."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[str]) -> None:
        self.parts = parts

    def text(self) -> str:
        return "".join(self.parts)


def dumps(value: Any) -> str:
    """Compact JSON, as every reply is written."""
    return json.dumps(value, separators=COMPACT)


def reply_text(body: Any) -> str:
    """The JSON text of a reply or a batch of replies, splicing JsonText results in."""
    parts: list[str] = []
    _reply_parts(body, parts)
    return "".join(parts)


def _reply_parts(body: Any, parts: list[str]) -> None:
    if isinstance(body, list):
        parts.append("[")
        for n, item in enumerate(body):
            if n:
                parts.append(",")
            _reply_parts(item, parts)
        parts.append("]")
        return
    result = body.get("result") if isinstance(body, dict) else None
    if isinstance(result, JsonText):
        envelope = dumps({key: value for key, value in body.items() if key != "result"})
        parts.append(envelope[:-1] + ',"result":')
        parts.extend(result.parts)
        parts.append("}")
        return
    parts.append(dumps(body))
