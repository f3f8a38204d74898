"""Inputs of the consensus core: everything that can happen to a validator, as values.

The driver turns network messages, fired timers and answers to the core's own
requests into these frozen values and hands them to `ConsensusCore.step`. The
same values are what the write-ahead log records, so replaying the log replays
the core exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from node.types.validators import ValidatorSet
from node.types.vote import PRECOMMIT, PREVOTE, Proposal, Vote


class Step(IntEnum):
    """The step of a round. PREVOTE and PRECOMMIT equal the vote types of node.types.vote."""

    PROPOSE = 0
    PREVOTE = PREVOTE
    PRECOMMIT = PRECOMMIT


@dataclass(frozen=True)
class StartHeight:
    """Begin `height` (L10: the previous height is final and applied).

    `next_validators` is the set of height + 1, known in advance because a
    validator-set change applies two heights after the block that makes it
    (docs/consensus.md); the core uses it to buffer early messages for height + 1
    from members only.
    """

    height: int
    validators: ValidatorSet
    next_validators: ValidatorSet


@dataclass(frozen=True)
class ProposalReceived:
    """A proposal whose signature the driver has verified (own proposals included)."""

    proposal: Proposal


@dataclass(frozen=True)
class VoteReceived:
    """A vote whose signature the driver has verified (own votes included)."""

    vote: Vote


@dataclass(frozen=True)
class TimeoutFired:
    """A timer armed by a `ScheduleTimeout` effect has expired."""

    height: int
    round: int
    step: Step


@dataclass(frozen=True)
class ValueReady:
    """The driver's answer to `RequestValue`: the hash of a block it built and stored.

    A value the node built itself is valid by construction (the driver built it
    against its own state), so the core records valid(v) = true for it.
    """

    height: int
    round: int
    block_hash: bytes


@dataclass(frozen=True)
class BlockValidated:
    """The driver's answer to `ValidateBlock`: valid(v) of the paper."""

    block_hash: bytes
    valid: bool


Input = StartHeight | ProposalReceived | VoteReceived | TimeoutFired | ValueReady | BlockValidated
