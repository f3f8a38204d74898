"""Equivocation evidence on chain: two conflicting votes of one validator, reported by a
registered node, checked and recorded so the fault is part of the permanent record.

The reporter signs with its node key (not an org key; see node.state.admission): a
validator's node sees the conflict first, and any node of the registry may report it.
The evidence itself is proven by the offender's own two signatures, whoever reports it.
"""

from __future__ import annotations

from typing import Any

from node import codec
from node.crypto import verify
from node.provenance.ledger import Ledger, LedgerView
from node.provenance.rules import RuleError
from node.state.schedule import validator_set_at
from node.types.genesis import Genesis
from node.types.vote import PRECOMMIT, Vote

VOTE_NAMES = {1: "prevote", PRECOMMIT: "precommit"}


def evidence_name(vote: Vote) -> str:
    return (f"evidence/{vote.validator.hex()}/{vote.height:020d}/{vote.round:010d}/"
            f"{vote.type}")


def _vote(encoded_hex: str, field: str) -> Vote:
    try:
        return Vote.from_wire(codec.decode(bytes.fromhex(encoded_hex)))
    except (ValueError, codec.CodecError) as exc:
        raise RuleError(f"evidence {field} is not a vote: {exc}") from None


def apply_evidence(ledger: Ledger, genesis: Genesis, body: dict[str, Any], height: int) -> None:
    first, second = _vote(body["first"], "first"), _vote(body["second"], "second")
    if (first.chain_id, first.height, first.round, first.type, first.validator) != (
            second.chain_id, second.height, second.round, second.type, second.validator):
        raise RuleError("the two votes are not for the same chain, height, round, type and "
                        "validator, so they do not conflict")
    if first.block_hash == second.block_hash:
        raise RuleError("the two votes are for the same block: no equivocation")
    if first.chain_id != genesis.chain_id:
        raise RuleError(f"the votes are for chain {first.chain_id!r}")
    if first.height > height:
        raise RuleError(f"the votes are for height {first.height}, after this block ({height})")
    if validator_set_at(ledger.kv, genesis, first.height).get(first.validator) is None:
        raise RuleError(f"{first.validator.hex()[:16]}… was not a validator at height "
                        f"{first.height}")
    for vote in (first, second):
        if not verify(vote.validator, vote.sign_bytes, vote.signature):
            raise RuleError("a vote's signature is not the validator's; nothing is proven")
    name = evidence_name(first)
    recorded = ledger.governance(name)
    if recorded is not None:
        raise RuleError(f"this equivocation is already on record (reported at height "
                        f"{recorded['reported_height']})")
    ledger.put_governance(name, {"reported_height": height, "first": body["first"],
                                 "second": body["second"]})


def evidence_against(view: LedgerView, validator: bytes) -> list[dict[str, Any]]:
    """Every recorded equivocation of `validator`, oldest vote first."""
    items = view.governance_items(f"evidence/{validator.hex()}/")
    return [{"name": name, **record} for name, record in items]
