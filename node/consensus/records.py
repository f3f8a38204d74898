"""Canonical msgpack records of consensus inputs: what the WAL stores for each input.

A record is an array whose first element names the input:
  ["start", height, validators, next_validators]   validators: [[name, node_key, power, org]]
  ["proposal", proposal wire fields]               (node.types.vote.Proposal.to_wire)
  ["vote", vote wire fields]                       (node.types.vote.Vote.to_wire)
  ["timeout", height, round, step]                 step 0 propose, 1 prevote, 2 precommit
  ["value", height, round, block_hash]
  ["validated", block_hash, valid]
"""

from __future__ import annotations

from typing import Any

from node import codec
from node.consensus.inputs import (
    BlockValidated,
    Input,
    ProposalReceived,
    StartHeight,
    Step,
    TimeoutFired,
    ValueReady,
    VoteReceived,
)
from node.types.validators import Validator, ValidatorSet
from node.types.vote import Proposal, Vote


class RecordError(ValueError):
    """Bytes that passed the WAL checksum do not decode to a consensus input."""


def encode_input(event: Input) -> bytes:
    return codec.encode(_fields(event))


def _fields(event: Input) -> list[Any]:
    if isinstance(event, StartHeight):
        return ["start", event.height, _validators(event.validators),
                _validators(event.next_validators)]
    if isinstance(event, ProposalReceived):
        return ["proposal", event.proposal.to_wire()]
    if isinstance(event, VoteReceived):
        return ["vote", event.vote.to_wire()]
    if isinstance(event, TimeoutFired):
        return ["timeout", event.height, event.round, int(event.step)]
    if isinstance(event, ValueReady):
        return ["value", event.height, event.round, event.block_hash]
    if isinstance(event, BlockValidated):
        return ["validated", event.block_hash, event.valid]
    raise TypeError(f"not a consensus input: {event!r}")


def decode_input(data: bytes) -> Input:
    try:
        fields = codec.decode(data)
        tag, *rest = fields
        if tag == "start":
            height, validators, next_validators = rest
            return StartHeight(height, _validator_set(validators), _validator_set(next_validators))
        if tag == "proposal":
            (wire,) = rest
            return ProposalReceived(Proposal.from_wire(wire))
        if tag == "vote":
            (wire,) = rest
            return VoteReceived(Vote.from_wire(wire))
        if tag == "timeout":
            height, round_, step = rest
            return TimeoutFired(height, round_, Step(step))
        if tag == "value":
            height, round_, block_hash = rest
            return ValueReady(height, round_, block_hash)
        if tag == "validated":
            block_hash, valid = rest
            return BlockValidated(block_hash, bool(valid))
    except (ValueError, TypeError) as exc:
        raise RecordError(f"undecodable consensus record: {exc}") from None
    raise RecordError(f"unknown consensus record kind {tag!r}")


def _validators(vs: ValidatorSet) -> list[list[Any]]:
    return [[v.name, v.node_key, v.power, v.org] for v in vs.validators]


def _validator_set(rows: Any) -> ValidatorSet:
    return ValidatorSet.of(Validator(name, key, power, org) for name, key, power, org in rows)
