"""Per-rule scenarios for the subtle points of CONSENSUS.md section 2.

Validator 0 is "us". At height 1 the proposer of round r is validator (1 + r) % 4:
round 0 -> v1, round 1 -> v2, round 2 -> v3, round 3 -> v0.
"""

from __future__ import annotations

from node.consensus import (
    BlockValidated,
    ConsensusCore,
    Decide,
    Evidence,
    RequestValue,
    ScheduleTimeout,
    SignProposal,
    StartHeight,
    Step,
    TimeoutConfig,
    TimeoutFired,
    ValidateBlock,
    ValueReady,
)
from node.types.validators import Validator, ValidatorSet
from node.types.vote import NIL, PRECOMMIT, PREVOTE, verify_commit
from tests.consensus.harness import (
    CHAIN,
    PUB,
    VALIDATORS,
    Driver,
    proposal,
    value,
    vote,
)

X, Y = value("x"), value("y")


def timeouts(effects: list, step: Step) -> list[ScheduleTimeout]:
    return [e for e in effects if isinstance(e, ScheduleTimeout) and e.step is step]


def to_round_1_without_lock(d: Driver) -> None:
    """Round 0 ends with nil everywhere: propose timeout, nil polka, nil precommits."""
    d.feed(TimeoutFired(1, 0, Step.PROPOSE))
    d.feed(vote(1, PREVOTE, 1, 0, NIL), vote(2, PREVOTE, 1, 0, NIL))
    d.feed(vote(1, PRECOMMIT, 1, 0, NIL), vote(2, PRECOMMIT, 1, 0, NIL))
    d.feed(TimeoutFired(1, 0, Step.PRECOMMIT))
    assert (d.core.round, d.core.current_step) == (1, Step.PROPOSE)


def lock_in_round_1(d: Driver, v: bytes) -> None:
    d.feed(proposal(2, 1, 1, -1, v), BlockValidated(v, True))
    d.feed(vote(2, PREVOTE, 1, 1, v), vote(3, PREVOTE, 1, 1, v))
    assert (d.core.locked_value, d.core.locked_round) == (v, 1)


def test_l22_prevote_lock_and_decide_with_a_valid_commit() -> None:
    d = Driver()
    out = d.feed(proposal(1, 1, 0, -1, X))
    assert ValidateBlock(1, X) in out and d.sent_votes(out) == []  # valid(v) pending
    out = d.feed(BlockValidated(X, True))
    assert d.sent_votes(out) == [(PREVOTE, 0, X)]
    d.feed(vote(1, PREVOTE, 1, 0, X), vote(2, PREVOTE, 1, 0, X))
    assert (d.core.locked_value, d.core.locked_round) == (X, 0)
    assert (d.core.valid_value, d.core.valid_round) == (X, 0)
    assert d.sent_votes()[-1] == (PRECOMMIT, 0, X)
    out = d.feed(vote(1, PRECOMMIT, 1, 0, X), vote(3, PRECOMMIT, 1, 0, X))
    decided = [e for e in out if isinstance(e, Decide)]
    assert len(decided) == 1 and decided[0].block_hash == X and decided[0].commit.round == 0
    verify_commit(decided[0].commit, CHAIN, 1, X, VALIDATORS)
    assert d.core.rule_hits["L24"] == 1 and d.core.rule_hits["L36_lock"] == 1


def test_a_verdict_replayed_before_its_proposal_is_kept() -> None:
    """On replay a height's WAL can hold the verdict on a block whose proposal arrived
    during the previous height (buffered, so not in this height's log); when the
    proposal comes again the kept verdict applies and no second validation is asked."""
    d = Driver()
    d.feed(BlockValidated(X, True))
    out = d.feed(proposal(1, 1, 0, -1, X))
    assert not any(isinstance(e, ValidateBlock) for e in out)
    assert d.sent_votes(out) == [(PREVOTE, 0, X)]
    out = d.feed(BlockValidated(X, False))  # a recorded verdict never changes
    assert d.sent_votes(out) == []


def test_invalid_value_gets_a_nil_prevote() -> None:
    d = Driver()
    out = d.feed(proposal(1, 1, 0, -1, X), BlockValidated(X, False))
    assert d.sent_votes(out) == [(PREVOTE, 0, NIL)] and d.core.rule_hits["L26"] == 1


def test_proposal_from_wrong_proposer_is_ignored() -> None:
    d = Driver()
    out = d.feed(proposal(2, 1, 0, -1, X), BlockValidated(X, True))
    assert out == [] and d.core.current_step is Step.PROPOSE
    assert d.core.rule_hits["ignored_not_proposer"] == 1


def test_other_chain_height_and_non_members_are_ignored() -> None:
    d = Driver()
    outsider = ConsensusCore(CHAIN, PUB[0])
    outsider.step(StartHeight(1, ValidatorSet.of([Validator("v1", PUB[1], 1)]),
                              VALIDATORS))
    assert outsider.step(vote(2, PREVOTE, 1, 0, X)) == []  # v2 is not in that set
    before = list(d.effects)
    d.feed(vote(1, PREVOTE, 5, 0, X), vote(2, PREVOTE, 0, 0, X))
    assert d.effects == before
    other = ConsensusCore("another-chain", PUB[0])
    other.step(StartHeight(1, VALIDATORS, VALIDATORS))
    assert other.step(proposal(1, 1, 0, -1, X)) == []


def test_lock_is_not_released_by_a_nil_polka() -> None:
    d = Driver()
    d.feed(proposal(1, 1, 0, -1, X), BlockValidated(X, True))
    d.feed(vote(1, PREVOTE, 1, 0, X), vote(2, PREVOTE, 1, 0, X))
    d.feed(vote(1, PRECOMMIT, 1, 0, NIL), vote(2, PRECOMMIT, 1, 0, NIL))
    d.feed(TimeoutFired(1, 0, Step.PRECOMMIT))
    assert d.core.round == 1
    out = d.feed(proposal(2, 1, 1, -1, Y), BlockValidated(Y, True))
    assert d.sent_votes(out) == [(PREVOTE, 1, NIL)]  # locked on X
    out = d.feed(vote(1, PREVOTE, 1, 1, NIL), vote(2, PREVOTE, 1, 1, NIL))
    assert d.sent_votes(out) == [(PRECOMMIT, 1, NIL)] and d.core.rule_hits["L44"] == 1
    assert (d.core.locked_value, d.core.locked_round) == (X, 0)
    d.feed(vote(1, PRECOMMIT, 1, 1, NIL), vote(2, PRECOMMIT, 1, 1, NIL))
    d.feed(TimeoutFired(1, 1, Step.PRECOMMIT))
    out = d.feed(proposal(3, 1, 2, -1, Y), BlockValidated(Y, True))
    assert d.sent_votes(out) == [(PREVOTE, 2, NIL)]


def test_polka_without_this_rounds_proposal_does_not_lock_then_l28_unlocks() -> None:
    d = Driver()
    # Lock X in round 0.
    d.feed(proposal(1, 1, 0, -1, X), BlockValidated(X, True))
    d.feed(vote(1, PREVOTE, 1, 0, X), vote(2, PREVOTE, 1, 0, X))
    d.feed(vote(1, PRECOMMIT, 1, 0, NIL), vote(2, PRECOMMIT, 1, 0, NIL))
    d.feed(TimeoutFired(1, 0, Step.PRECOMMIT))
    # Round 1: a polka for Y, but we never get round 1's proposal.
    d.feed(TimeoutFired(1, 1, Step.PROPOSE))
    d.feed(vote(1, PREVOTE, 1, 1, Y), vote(2, PREVOTE, 1, 1, Y), vote(3, PREVOTE, 1, 1, Y))
    assert (d.core.locked_value, d.core.locked_round) == (X, 0)
    d.feed(TimeoutFired(1, 1, Step.PREVOTE))
    d.feed(vote(1, PRECOMMIT, 1, 1, NIL), vote(2, PRECOMMIT, 1, 1, NIL))
    d.feed(TimeoutFired(1, 1, Step.PRECOMMIT))
    # Round 2 re-proposes Y with vr = 1: lockedRound 0 <= 1, so prevote Y (L30).
    out = d.feed(proposal(3, 1, 2, 1, Y), BlockValidated(Y, True))
    assert d.sent_votes(out) == [(PREVOTE, 2, Y)] and d.core.rule_hits["L30"] == 1


def test_l28_accepts_locked_round_equal_to_vr() -> None:
    """lockedRound <= vr, not <: with two polkas in round 1 (v2 and v3 equivocate),
    a proposal of the other value with vr = 1 gets our prevote."""
    d = Driver()
    to_round_1_without_lock(d)
    lock_in_round_1(d, X)
    d.feed(vote(1, PREVOTE, 1, 1, Y), vote(2, PREVOTE, 1, 1, Y), vote(3, PREVOTE, 1, 1, Y))
    d.feed(vote(1, PRECOMMIT, 1, 1, NIL), vote(2, PRECOMMIT, 1, 1, NIL))
    d.feed(TimeoutFired(1, 1, Step.PRECOMMIT))
    out = d.feed(proposal(3, 1, 2, 1, Y), BlockValidated(Y, True))
    assert d.sent_votes(out) == [(PREVOTE, 2, Y)]


def test_l32_locked_above_vr_prevotes_nil() -> None:
    d = Driver()
    d.feed(TimeoutFired(1, 0, Step.PROPOSE))  # round 0: no proposal for us
    d.feed(vote(1, PREVOTE, 1, 0, Y), vote(2, PREVOTE, 1, 0, Y), vote(3, PREVOTE, 1, 0, Y))
    d.feed(TimeoutFired(1, 0, Step.PREVOTE))
    d.feed(vote(1, PRECOMMIT, 1, 0, NIL), vote(2, PRECOMMIT, 1, 0, NIL))
    d.feed(TimeoutFired(1, 0, Step.PRECOMMIT))
    lock_in_round_1(d, X)
    d.feed(vote(1, PRECOMMIT, 1, 1, NIL), vote(2, PRECOMMIT, 1, 1, NIL))
    d.feed(TimeoutFired(1, 1, Step.PRECOMMIT))
    out = d.feed(proposal(3, 1, 2, 0, Y), BlockValidated(Y, True))
    assert d.sent_votes(out) == [(PREVOTE, 2, NIL)] and d.core.rule_hits["L32"] == 1


def test_l28_waits_for_the_polka_and_never_falls_back_to_l22() -> None:
    d = Driver()
    to_round_1_without_lock(d)
    out = d.feed(proposal(2, 1, 1, 0, Y), BlockValidated(Y, True))
    assert d.sent_votes(out) == [] and d.core.current_step is Step.PROPOSE
    out = d.feed(TimeoutFired(1, 1, Step.PROPOSE))
    assert d.sent_votes(out) == [(PREVOTE, 1, NIL)] and d.core.rule_hits["L59"] == 2


def test_proposal_with_vr_not_below_round_is_rejected() -> None:
    d = Driver()
    out = d.feed(proposal(1, 1, 0, 0, X))
    assert out == []


def test_l42_updates_valid_value_in_precommit_step_without_locking() -> None:
    d = Driver()
    d.feed(TimeoutFired(1, 0, Step.PROPOSE))
    d.feed(vote(1, PREVOTE, 1, 0, X), vote(2, PREVOTE, 1, 0, X), vote(3, PREVOTE, 1, 0, X))
    out = d.feed(TimeoutFired(1, 0, Step.PREVOTE))
    assert d.sent_votes(out) == [(PRECOMMIT, 0, NIL)] and d.core.rule_hits["L61"] == 1
    d.feed(proposal(1, 1, 0, -1, X), BlockValidated(X, True))  # the proposal arrives late
    assert (d.core.valid_value, d.core.valid_round) == (X, 0)
    assert (d.core.locked_value, d.core.locked_round) == (None, -1)
    assert d.core.rule_hits["L42_alone"] == 1


def test_decide_for_a_past_round_with_the_proposal_after_the_precommits() -> None:
    d = Driver()
    d.feed(vote(1, PREVOTE, 1, 1, NIL), vote(2, PREVOTE, 1, 1, NIL))  # f+1 in round 1
    assert d.core.round == 1 and d.core.rule_hits["L55"] == 1
    out = d.feed(vote(1, PRECOMMIT, 1, 0, X), vote(2, PRECOMMIT, 1, 0, X),
                 vote(3, PRECOMMIT, 1, 0, X))
    assert not any(isinstance(e, Decide) for e in out)  # no proposal yet
    out = d.feed(proposal(1, 1, 0, -1, X), BlockValidated(X, True))
    decided = [e for e in out if isinstance(e, Decide)]
    assert decided and decided[0].commit.round == 0 and d.core.rule_hits["L49_past"] == 1


def test_decide_for_a_future_round() -> None:
    """v3 holds 3 of 6: its one precommit completes the quorum and the f+1 of round 1 at
    once, and the decision comes straight from round 1 while we are in round 0."""
    weighted = ValidatorSet.of(Validator(f"v{i}", PUB[i], 3 if i == 3 else 1) for i in range(4))
    d = Driver(validators=weighted)
    d.feed(proposal(2, 1, 1, -1, X), BlockValidated(X, True))
    d.feed(vote(2, PRECOMMIT, 1, 1, X), vote(1, PRECOMMIT, 1, 1, X))
    assert d.core.round == 0
    out = d.feed(vote(3, PRECOMMIT, 1, 1, X))
    decided = [e for e in out if isinstance(e, Decide)]
    assert decided and decided[0].commit.round == 1 and d.core.rule_hits["L49_future"] == 1
    verify_commit(decided[0].commit, CHAIN, 1, X, weighted)


def test_round_skip_counts_distinct_validators_power() -> None:
    d = Driver()
    d.feed(vote(1, PREVOTE, 1, 5, NIL), vote(1, PRECOMMIT, 1, 5, NIL),
           vote(1, PREVOTE, 1, 5, X))  # one validator, three messages: 1 of 4
    assert d.core.round == 0
    d.feed(vote(2, PREVOTE, 1, 5, NIL))
    assert d.core.round == 5


def test_future_rounds_per_validator_are_bounded() -> None:
    d = Driver()
    d.feed(vote(1, PREVOTE, 1, 5, NIL), vote(1, PREVOTE, 1, 6, NIL), vote(1, PREVOTE, 1, 7, NIL))
    d.feed(vote(2, PREVOTE, 1, 7, NIL))  # v1's round 7 was over its quota
    assert d.core.round == 0
    d.feed(vote(2, PREVOTE, 1, 6, NIL))
    assert d.core.round == 6


def test_timeouts_are_armed_once_per_round() -> None:
    d = Driver()
    d.feed(proposal(1, 1, 0, -1, X), BlockValidated(X, True))
    out = d.feed(vote(1, PREVOTE, 1, 0, NIL), vote(2, PREVOTE, 1, 0, Y))
    assert len(timeouts(out, Step.PREVOTE)) == 1
    out = d.feed(vote(3, PREVOTE, 1, 0, NIL))
    assert timeouts(out, Step.PREVOTE) == []
    out = d.feed(vote(1, PRECOMMIT, 1, 0, NIL), vote(2, PRECOMMIT, 1, 0, NIL),
                 vote(0, PRECOMMIT, 1, 0, NIL), vote(3, PRECOMMIT, 1, 0, NIL))
    assert len(timeouts(d.effects, Step.PRECOMMIT)) == 1


def test_stale_and_repeated_timeouts_do_nothing() -> None:
    d = Driver()
    d.feed(TimeoutFired(1, 0, Step.PROPOSE))
    assert d.feed(TimeoutFired(1, 0, Step.PROPOSE)) == []
    assert d.feed(TimeoutFired(1, 3, Step.PRECOMMIT)) == []
    assert d.feed(TimeoutFired(2, 0, Step.PRECOMMIT)) == []


def test_timeouts_grow_linearly_and_are_capped() -> None:
    t = TimeoutConfig(propose_ms=3000, propose_delta_ms=500, max_ms=60_000)
    assert [t.duration_ms(Step.PROPOSE, r) for r in (0, 1, 2)] == [3000, 3500, 4000]
    assert t.duration_ms(Step.PROPOSE, 10_000) == 60_000
    d = Driver()
    to_round_1_without_lock(d)
    assert timeouts(d.effects, Step.PROPOSE)[-1].duration_ms == 3500  # round 1


def test_equivocation_gives_evidence_once_and_counts_once_toward_any() -> None:
    d = Driver()
    out = d.feed(vote(1, PREVOTE, 1, 0, X), vote(1, PREVOTE, 1, 0, Y),
                 vote(1, PREVOTE, 1, 0, NIL))
    evidence = [e for e in out if isinstance(e, Evidence)]
    assert len(evidence) == 1
    assert evidence[0].first.block_hash == X and evidence[0].second.block_hash == Y
    d.feed(vote(2, PREVOTE, 1, 0, X))
    d.feed(TimeoutFired(1, 0, Step.PROPOSE))  # our nil prevote: v1 once + v2 + us = 3 of 4
    assert len(timeouts(d.effects, Step.PREVOTE)) == 1
    assert d.feed(vote(1, PREVOTE, 1, 0, value("z"))) == []  # over the per-vote bound


def test_equivocating_proposer_second_proposal_is_kept_for_a_later_commit() -> None:
    d = Driver()
    d.feed(proposal(1, 1, 0, -1, X), BlockValidated(X, True))
    d.feed(proposal(1, 1, 0, -1, Y), BlockValidated(Y, True))
    assert d.sent_votes() == [(PREVOTE, 0, X)]  # the first proposal only
    out = d.feed(vote(1, PRECOMMIT, 1, 0, Y), vote(2, PRECOMMIT, 1, 0, Y),
                 vote(3, PRECOMMIT, 1, 0, Y))
    assert [e.block_hash for e in out if isinstance(e, Decide)] == [Y]


def test_proposer_of_a_later_round_requests_a_value_and_arms_timeout_propose() -> None:
    d = Driver(me=1)  # v1 proposes round 0 at height 1 (and round 4)
    assert RequestValue(1, 0) in d.effects and timeouts(d.effects, Step.PROPOSE)
    out = d.feed(ValueReady(1, 0, X))
    assert SignProposal(1, 0, -1, X) in out
    assert d.sent_votes(out) == [(PREVOTE, 0, X)]


def test_valid_value_is_reproposed_with_its_round() -> None:
    d = Driver(me=3)  # v3 proposes round 2
    d.feed(TimeoutFired(1, 0, Step.PROPOSE))
    d.feed(vote(1, PREVOTE, 1, 0, NIL), vote(2, PREVOTE, 1, 0, NIL))
    d.feed(vote(1, PRECOMMIT, 1, 0, NIL), vote(2, PRECOMMIT, 1, 0, NIL))
    d.feed(TimeoutFired(1, 0, Step.PRECOMMIT))
    d.feed(TimeoutFired(1, 1, Step.PROPOSE))  # no round-1 proposal reached us in time
    d.feed(vote(0, PREVOTE, 1, 1, X), vote(1, PREVOTE, 1, 1, X), vote(2, PREVOTE, 1, 1, X))
    d.feed(TimeoutFired(1, 1, Step.PREVOTE))
    d.feed(proposal(2, 1, 1, -1, X), BlockValidated(X, True))  # late: L42 alone
    assert (d.core.valid_value, d.core.locked_value) == (X, None)
    d.feed(vote(1, PRECOMMIT, 1, 1, NIL), vote(2, PRECOMMIT, 1, 1, NIL))
    out = d.feed(TimeoutFired(1, 1, Step.PRECOMMIT))
    assert SignProposal(1, 2, 1, X) in out and d.core.rule_hits["L16"] == 1
    assert not any(isinstance(e, RequestValue) for e in out)


def test_next_height_messages_are_buffered_from_members_and_bounded() -> None:
    d = Driver()
    for r in range(20):
        d.feed(vote(1, PREVOTE, 2, r, NIL))
    d.feed(StartHeight(2, VALIDATORS, VALIDATORS))
    # v1's buffered votes were replayed (its quota of two future rounds: 1 and 2);
    # v1 alone is below f+1.
    assert d.core.round == 0
    d.feed(vote(2, PREVOTE, 2, 3, NIL))
    assert d.core.round == 0  # v1's round 3 was not kept
    d.feed(vote(2, PREVOTE, 2, 2, NIL))
    assert d.core.round == 2
    d.feed(vote(3, PREVOTE, 3, 0, NIL), vote(3, PREVOTE, 4, 0, NIL))  # h+1 from v3, h+2
    assert len(d.core._next_height.get(PUB[3], [])) == 1


def test_exactly_two_thirds_is_not_a_quorum_and_exactly_one_third_does_not_skip() -> None:
    """Power 4 of 6 is not "more than 2/3"; power 2 of 6 is not "more than 1/3"."""
    weighted = ValidatorSet.of(Validator(f"v{i}", PUB[i], 3 if i == 3 else 1) for i in range(4))
    d = Driver(validators=weighted)
    d.feed(proposal(1, 1, 0, -1, X), BlockValidated(X, True))  # we prevote X: power 1
    d.feed(vote(3, PREVOTE, 1, 0, NIL))  # 1 for X + 3 nil = 4 of 6 in all
    assert timeouts(d.effects, Step.PREVOTE) == []
    d.feed(vote(1, PREVOTE, 1, 0, X))  # 2 + 3 = 5 of 6: now 2f+1 of any kind
    assert len(timeouts(d.effects, Step.PREVOTE)) == 1
    assert d.core.locked_round == -1  # X holds 2 of 6
    d.feed(vote(1, PREVOTE, 1, 4, NIL), vote(2, PREVOTE, 1, 4, NIL))  # 2 of 6 in round 4
    assert d.core.round == 0


def test_past_round_proposal_is_kept_after_a_newer_one_arrives() -> None:
    d = Driver()
    d.feed(proposal(1, 1, 0, -1, X), BlockValidated(X, True))
    d.feed(vote(1, PREVOTE, 1, 1, NIL), vote(2, PREVOTE, 1, 1, NIL))  # skip to round 1
    d.feed(proposal(2, 1, 1, -1, Y), BlockValidated(Y, True))
    out = d.feed(vote(1, PRECOMMIT, 1, 0, X), vote(2, PRECOMMIT, 1, 0, X),
                 vote(3, PRECOMMIT, 1, 0, X))
    assert [(e.block_hash, e.commit.round) for e in out if isinstance(e, Decide)] == [(X, 0)]
