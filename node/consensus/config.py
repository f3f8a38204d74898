"""Consensus parameters: round timeouts (linear in the round, capped) and buffer bounds."""

from __future__ import annotations

from dataclasses import dataclass

from node.consensus.inputs import Step


@dataclass(frozen=True)
class TimeoutConfig:
    """timeoutX(r) = X_ms + r * X_delta_ms, capped at max_ms.

    Linear growth (not doubling) keeps a long stall from stretching into hours,
    and the f+1 round skip (L55) lets a node that fell behind catch up without
    waiting out every round. The cap sits far above the deltas so it only bounds
    pathological runs; it must be identical on all validators (genesis params).
    """

    propose_ms: int = 3000
    propose_delta_ms: int = 500
    prevote_ms: int = 1000
    prevote_delta_ms: int = 500
    precommit_ms: int = 1000
    precommit_delta_ms: int = 500
    max_ms: int = 60_000

    def __post_init__(self) -> None:
        values = (self.propose_ms, self.propose_delta_ms, self.prevote_ms, self.prevote_delta_ms,
                  self.precommit_ms, self.precommit_delta_ms, self.max_ms)
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values):
            raise ValueError("timeouts are non-negative integers of milliseconds")
        if min(self.propose_delta_ms, self.prevote_delta_ms, self.precommit_delta_ms) == 0:
            raise ValueError("timeouts must grow with the round: deltas must be positive")

    def duration_ms(self, step: Step, round_: int) -> int:
        base, delta = {
            Step.PROPOSE: (self.propose_ms, self.propose_delta_ms),
            Step.PREVOTE: (self.prevote_ms, self.prevote_delta_ms),
            Step.PRECOMMIT: (self.precommit_ms, self.precommit_delta_ms),
        }[step]
        return min(base + round_ * delta, self.max_ms)


@dataclass(frozen=True)
class Limits:
    """Bounds on what the core keeps from peers, so no sender can exhaust memory.

    future_rounds: distinct rounds above the current one kept per validator (CometBFT
    allows 2 "catch-up" rounds per peer); the f+1 skip still works because honest
    validators re-gossip, and each skip frees the slots.
    proposals_per_round: distinct proposals kept per round; more than one only comes
    from an equivocating proposer, but a polka or commit may form for any of them.
    values_per_vote: distinct values (nil included) one validator's votes count toward in
    one (round, type); more than one only comes from an equivocator.
    next_height_per_validator: messages for height + 1 buffered per validator.
    """

    future_rounds: int = 2
    proposals_per_round: int = 4
    values_per_vote: int = 3
    next_height_per_validator: int = 12
