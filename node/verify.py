"""Offline verification of a provenance answer against a genesis document.

Trusts nothing but the genesis: every block header must hash to its claimed hash and
carry a commit certificate with more than 2/3 of the genesis validators' power; every
event's tx must be validly signed, be included under its block's tx_root (RFC 6962),
and be recorded as accepted under its block's results_root; every lot in the answer
must be created by an event in it when the answer walks backward.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node.crypto import verify
from node.merkle import verify_inclusion
from node.types import (
    Commit,
    CommitError,
    Header,
    Tx,
    TxFormatError,
    TxResult,
    verify_commit,
)
from node.types.genesis import Genesis


class VerificationError(Exception):
    """The answer does not prove what it claims; the message says where it fails."""


@dataclass(frozen=True)
class Report:
    lot_id: str
    events: int
    blocks: int
    lots: int


def _created_lots(kind: str, body: dict[str, Any]) -> list[str]:
    """Lot ids an accepted event brings into existence (DESIGN.md bodies)."""
    if kind == "register_lot":
        return [body["lot_id"]]
    if kind == "split":
        return [c["lot_id"] for c in body["children"]]
    if kind == "merge":
        return [body["new_lot_id"]]
    if kind == "transform":
        return [o["lot_id"] for o in body["outputs"]]
    return []


def _check_block(height: int, entry: Any, genesis: Genesis) -> Header:
    try:
        header = Header.from_json(entry["header"])
        commit = Commit.from_json(entry["commit"])
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"block {height}: malformed header or commit ({exc})") from None
    if header.height != height:
        raise VerificationError(f"block listed at {height} has height {header.height}")
    if header.chain_id != genesis.chain_id:
        raise VerificationError(f"block {height} belongs to chain {header.chain_id!r}")
    if header.hash.hex() != entry.get("hash"):
        raise VerificationError(f"block {height}: header does not hash to the claimed hash")
    if header.validators_hash != genesis.validators.hash:
        raise VerificationError(f"block {height} names a validator set other than genesis")
    try:
        verify_commit(commit, genesis.chain_id, height, header.hash, genesis.validators)
    except CommitError as exc:
        raise VerificationError(f"block {height}: {exc}") from None
    return header


def _check_event(n: int, event: Any, headers: dict[int, Header]) -> Tx:
    try:
        tx = Tx.from_json(event["tx"])
        height, index = int(event["height"]), int(event["index"])
        proof = [bytes.fromhex(p) for p in event["proof"]]
        result = event["result"]
        result_proof = [bytes.fromhex(p) for p in event["result_proof"]]
    except (KeyError, TypeError, ValueError, TxFormatError) as exc:
        raise VerificationError(f"event {n}: malformed ({exc})") from None
    where = f"event {n} (tx {tx.tx_id.hex()[:16]} at {height}/{index})"
    if tx.tx_id.hex() != event.get("tx_id"):
        raise VerificationError(f"{where}: tx does not hash to its tx_id")
    if not verify(tx.signer, tx.signing_bytes, tx.signature):
        raise VerificationError(f"{where}: bad signature")
    header = headers.get(height)
    if header is None:
        raise VerificationError(f"{where}: its block {height} is not in the answer")
    if not verify_inclusion(tx.tx_id, index, header.tx_count, proof, header.tx_root):
        raise VerificationError(f"{where}: inclusion proof does not match the block's tx_root")
    outcome = TxResult(tx.tx_id, bool(result.get("accepted")), str(result.get("reason", "")))
    if not verify_inclusion(outcome.encoded, index, header.tx_count, result_proof,
                            header.results_root):
        raise VerificationError(f"{where}: result proof does not match the block's "
                                "results_root")
    if not outcome.accepted:
        raise VerificationError(f"{where}: the chain recorded this event as rejected "
                                f"({outcome.reason})")
    return tx


def verify_provenance(answer: Any, genesis: Genesis) -> Report:
    if not isinstance(answer, dict):
        raise VerificationError("the answer must be a JSON object")
    try:
        lot_id, lots, events, blocks = (answer["lot_id"], answer["lots"], answer["events"],
                                        answer["blocks"])
    except KeyError as exc:
        raise VerificationError(f"the answer has no {exc} field") from None
    if answer.get("chain_id", genesis.chain_id) != genesis.chain_id:
        raise VerificationError(f"answer is for chain {answer['chain_id']!r}, genesis is "
                                f"{genesis.chain_id!r}")
    headers = {int(h): _check_block(int(h), entry, genesis) for h, entry in blocks.items()}
    for h, header in headers.items():
        parent = headers.get(h - 1)
        if parent is not None and header.parent_hash != parent.hash:
            raise VerificationError(f"block {h} does not link to block {h - 1}")
    created: set[str] = set()
    mentioned = False
    for n, event in enumerate(events):
        tx = _check_event(n, event, headers)
        try:
            created.update(_created_lots(tx.kind, tx.body))
        except (KeyError, TypeError):
            raise VerificationError(f"event {n}: {tx.kind} body lacks its lot ids") from None
        mentioned = mentioned or lot_id in repr(tx.body)
    if lot_id not in lots or not mentioned:
        raise VerificationError(f"no event in the answer concerns lot {lot_id}")
    if answer.get("direction", "backward") in ("backward", "both"):
        missing = sorted(set(lots) - created)
        if missing:
            raise VerificationError(f"no proven event creates lot(s) {', '.join(missing)}; "
                                    "the origin is not established")
    return Report(lot_id, len(events), len(headers), len(lots))
