"""Reads a provenance answer strictly into typed values.

Every object must have exactly its fields, and each part must be the canonical JSON of
the value parsed from it (lower-case hex of the right length, integers that are not
booleans or decimals): a part is parsed, rendered again, and refused unless the two are
identical. So no byte of an answer can change without changing a value that a hash, a
signature or the replay covers.
"""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass
from typing import Any

from node.lightclient.errors import VerificationError
from node.types import Commit, Header, Tx, TxFormatError, TxResult

ANSWER_FIELDS = frozenset({"lot_id", "direction", "chain_id", "lots", "events", "blocks"})
EVENT_FIELDS = frozenset({"tx_id", "tx", "height", "index", "proof", "result",
                          "result_proof"})
BLOCK_FIELDS = frozenset({"hash", "header", "commit"})
RESULT_FIELDS = frozenset({"accepted", "reason"})
DIRECTIONS = ("backward", "forward", "both")
_HASH_HEX = re.compile(r"[0-9a-f]{64}")
_STR, _HASH_LEN = frozenset({str}), frozenset({64})
_SCALARS = frozenset({str, int, bool, float, type(None)})


@dataclass(frozen=True)
class ProvenBlock:
    height: int
    hash_hex: str
    header: Header
    commit: Commit


@dataclass(frozen=True)
class ProvenEvent:
    n: int                   # position in the answer, for messages
    tx_id_hex: str
    tx: Tx
    height: int
    index: int
    proof: list[bytes]
    result: TxResult
    result_proof: list[bytes]

    @property
    def where(self) -> str:
        return f"event {self.n} ({self.tx.kind} {self.tx_id_hex[:16]} at {self.height}/" \
               f"{self.index})"


@dataclass(frozen=True)
class Answer:
    lot_id: str
    direction: str
    chain_id: str
    lots: dict[str, Any]
    events: list[ProvenEvent]
    blocks: dict[int, ProvenBlock]


def same(a: Any, b: Any) -> bool:
    """JSON equality that also tells 1, 1.0 and true apart."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        return a.keys() == b.keys() and all(
            x is y or (type(x) is type(y) and (x == y if type(x) in _SCALARS else same(x, y)))
            for x, y in ((a[k], b[k]) for k in a))
    if kind is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _object(value: Any, fields: frozenset[str], what: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise VerificationError(f"{what} must be a JSON object")
    if value.keys() != fields:
        extra, missing = sorted(value.keys() - fields), sorted(fields - value.keys())
        raise VerificationError(f"{what} has unknown fields {extra} or lacks {missing}")
    return value


def _nat(value: Any, what: str) -> int:
    if type(value) is not int or value < 0:
        raise VerificationError(f"{what} must be a non-negative integer")
    return value


def _text(value: Any, what: str) -> str:
    if type(value) is not str:
        raise VerificationError(f"{what} must be a string")
    return value


def _hashes(value: Any, what: str) -> list[bytes]:
    if type(value) is not list:
        raise VerificationError(f"{what} must be a list of hashes")
    # One hex decode for the whole list (an answer holds ~20 hashes per event): items
    # of 64 characters each, joined, are the lower-case hex of the decoded bytes only
    # if every item is (whitespace or upper case would not survive the round trip).
    if set(map(type, value)) <= _STR and set(map(len, value)) <= _HASH_LEN:
        joined = "".join(value)
        try:
            raw = bytes.fromhex(joined)
        except ValueError:
            raw = b""
        if raw.hex() == joined:
            return list(_split32(len(value)).unpack(raw))
    bad = next(item for item in value
               if type(item) is not str or not _HASH_HEX.fullmatch(item))
    raise VerificationError(f"{what} holds {bad!r}, not 64 lower-case hex digits")


@functools.lru_cache(maxsize=64)
def _split32(count: int) -> struct.Struct:
    """Splits `count` hashes laid end to end, in one call (bounded: a hostile answer
    may list proofs of any length)."""
    return struct.Struct("32s" * count)


def _block(key: str, entry: Any) -> ProvenBlock:
    where = f"block {key}"
    if not (key.isascii() and key.isdigit()) or str(int(key)) != key:
        raise VerificationError(f"{where}: a block is listed under its decimal height")
    entry = _object(entry, BLOCK_FIELDS, where)
    try:
        header = Header.from_json(entry["header"])
        commit = Commit.from_json(entry["commit"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise VerificationError(f"{where}: malformed header or commit ({exc})") from None
    if not same(header.to_json(), entry["header"]) or not same(commit.to_json(),
                                                                entry["commit"]):
        raise VerificationError(f"{where}: header or commit is not in canonical form")
    return ProvenBlock(int(key), _text(entry["hash"], f"{where} hash"), header, commit)


def _event(n: int, entry: Any) -> ProvenEvent:
    where = f"event {n}"
    entry = _object(entry, EVENT_FIELDS, where)
    try:
        tx = Tx.from_json(entry["tx"])
    except TxFormatError as exc:
        raise VerificationError(f"{where}: malformed tx ({exc})") from None
    # Tx.from_json keeps every other field as the JSON gave it (and refused any extra
    # or missing one), so the keys are all a canonical spelling could change.
    if tx.signer.hex() != entry["tx"]["signer"] or \
            tx.signature.hex() != entry["tx"]["signature"]:
        raise VerificationError(f"{where}: tx is not in canonical form")
    result = _object(entry["result"], RESULT_FIELDS, f"{where} result")
    if type(result["accepted"]) is not bool:
        raise VerificationError(f"{where}: result.accepted must be true or false")
    return ProvenEvent(
        n=n,
        tx_id_hex=_text(entry["tx_id"], f"{where} tx_id"),
        tx=tx,
        height=_nat(entry["height"], f"{where} height"),
        index=_nat(entry["index"], f"{where} index"),
        proof=_hashes(entry["proof"], f"{where} proof"),
        result=TxResult(tx.tx_id, result["accepted"],
                        _text(result["reason"], f"{where} result.reason")),
        result_proof=_hashes(entry["result_proof"], f"{where} result_proof"),
    )


def parse_answer(doc: Any) -> Answer:
    """The answer's typed parts, or VerificationError naming the first malformed one."""
    doc = _object(doc, ANSWER_FIELDS, "the answer")
    direction = _text(doc["direction"], "direction")
    if direction not in DIRECTIONS:
        raise VerificationError(f"direction {direction!r} is not one of {DIRECTIONS}")
    if type(doc["lots"]) is not dict or type(doc["blocks"]) is not dict \
            or type(doc["events"]) is not list:
        raise VerificationError("lots and blocks must be objects, events a list")
    return Answer(
        lot_id=_text(doc["lot_id"], "lot_id"),
        direction=direction,
        chain_id=_text(doc["chain_id"], "chain_id"),
        lots=doc["lots"],
        events=[_event(n, e) for n, e in enumerate(doc["events"])],
        blocks={b.height: b for b in (_block(k, v) for k, v in doc["blocks"].items())},
    )
