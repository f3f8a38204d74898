"""Effects of the consensus core: what the driver must do after a `step`.

Effects are executed in the order returned. The core never signs, sends, sleeps
or stores anything itself; docs/consensus.md lists what the driver does for each.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.consensus.inputs import Step
from node.types.vote import Commit, Proposal, Vote


@dataclass(frozen=True)
class SignProposal:
    """Sign ⟨PROPOSAL, height, round, block_hash, pol_round⟩ and feed it back as an input.

    The signer persists the last-signed state before releasing the signature;
    the driver logs the signed proposal to the WAL (synced) and then passes it to
    `step` as `ProposalReceived`, which answers with `Broadcast`.
    """

    height: int
    round: int
    pol_round: int
    block_hash: bytes


@dataclass(frozen=True)
class SignVote:
    """Sign a prevote or precommit (block_hash NIL for nil) and feed it back as an input."""

    type: int
    height: int
    round: int
    block_hash: bytes


@dataclass(frozen=True)
class Broadcast:
    """Send an own signed message to every peer. Emitted only after it was fed back as input,
    so it is already in the WAL and the signer state when it leaves."""

    message: Proposal | Vote


@dataclass(frozen=True)
class ScheduleTimeout:
    """Fire `TimeoutFired(height, round, step)` after `duration_ms` milliseconds."""

    height: int
    round: int
    step: Step
    duration_ms: int


@dataclass(frozen=True)
class RequestValue:
    """getValue(): build a block for (height, round) and answer with `ValueReady`.

    Rounds >= 1 must be answered promptly (an empty block is fine); the core has
    already armed timeoutPropose, so a slow answer costs at most this round.
    """

    height: int
    round: int


@dataclass(frozen=True)
class ValidateBlock:
    """valid(v): fetch the block with this hash if needed, check it against state, and
    answer with `BlockValidated`. Until then proposals for it are pending."""

    height: int
    block_hash: bytes


@dataclass(frozen=True)
class Decide:
    """`block_hash` is final at `height`; `commit` holds > 2/3 of the power of precommits
    of one round. Store block and commit, apply the block, then `StartHeight(height + 1)`."""

    height: int
    block_hash: bytes
    commit: Commit


@dataclass(frozen=True)
class Evidence:
    """Two conflicting votes of one validator for the same (height, round, type)."""

    first: Vote
    second: Vote


Effect = (SignProposal | SignVote | Broadcast | ScheduleTimeout | RequestValue | ValidateBlock
          | Decide | Evidence)
