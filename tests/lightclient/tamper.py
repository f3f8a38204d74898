"""Byte-flip tampering of a saved provenance answer, shared by the light-client and
devnet scenario tests.

A flip XORs one byte with 0x01, which turns every JSON character into a different one
(a digit into its neighbour, a hex digit into another or into a non-hex character, a
quote or bracket into a syntax error). A flip is excluded only when the flipped text
parses to a value identical to the original; the tests count and report those.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from node.crypto import VerifiedCache
from node.lightclient import VerificationError, verify_provenance
from node.lightclient.answer import same
from node.types.genesis import Genesis

# Every JSON token that carries a value: strings (keys included), numbers, literals.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d+|true|false|null')


@dataclass
class Outcome:
    tried: int = 0
    unparsable: int = 0              # verify cannot even read it (the CLI exits 1)
    identical: list[int] = field(default_factory=list)    # excluded, same JSON value
    verified: list[int] = field(default_factory=list)     # flips that still verify: bugs
    reasons: dict[str, int] = field(default_factory=dict)


def default_stride() -> int:
    """1 (every byte) when ORECHAIN_TAMPER_EVERY_BYTE=1, else a dense sample that keeps
    the suite quick on a shared machine."""
    return 1 if os.environ.get("ORECHAIN_TAMPER_EVERY_BYTE") == "1" else 5


def sample_positions(text: str, stride: int) -> list[int]:
    """Every `stride`-th byte, plus the first, middle and last character of every token
    (inside the quotes for strings), so every field of every object is hit."""
    positions = set(range(0, len(text), stride))
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        if text[start] == '"' and end - start > 2:
            start, end = start + 1, end - 1
        positions.update((start, (start + end) // 2, end - 1))
    return sorted(positions)


def flip_all(text: str, genesis: Genesis, positions: list[int]) -> Outcome:
    original: Any = json.loads(text)
    cache = VerifiedCache()         # only successes are cached: a flipped signature is
    outcome = Outcome()             # always checked afresh
    for pos in positions:
        outcome.tried += 1
        flipped = text[:pos] + chr(ord(text[pos]) ^ 0x01) + text[pos + 1:]
        try:
            value = json.loads(flipped)
        except ValueError:
            outcome.unparsable += 1
            continue
        if same(value, original):
            outcome.identical.append(pos)
            continue
        try:
            verify_provenance(value, genesis, cache)
        except VerificationError as exc:
            kind = re.sub(r"\d+|'[^']*'|[0-9a-f]{16}", "#", str(exc))[:60]
            outcome.reasons[kind] = outcome.reasons.get(kind, 0) + 1
            continue
        outcome.verified.append(pos)
    return outcome
