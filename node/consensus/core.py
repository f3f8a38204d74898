"""The Tendermint state machine (Algorithm 1 of "The latest gossip on BFT consensus").

`ConsensusCore.step(input) -> list[Effect]` is the only way in. It has no clock,
randomness, sockets or disk: time arrives as `TimeoutFired`, values and their
validity as `ValueReady` / `BlockValidated`, and everything the node must do
leaves as effects (docs/consensus.md describes the driver's side).

Trust boundary: the driver verifies the signature of every proposal and vote
before it becomes an input. The core still ignores messages of another chain,
of another height, and from keys outside the height's validator set, and it
accepts proposals only from proposer(h, r).

Rules carry the line numbers of Algorithm 1 (CONSENSUS.md section 1). After
every input the upon-rules run to a fixpoint; each rule's guard makes it fire
at most once for the state it reacts to, so the order in which enabled rules
are tried does not change the outcome.
"""

from __future__ import annotations

from collections import Counter

from node.consensus.config import Limits, TimeoutConfig
from node.consensus.effects import (
    Broadcast,
    Decide,
    Effect,
    Evidence,
    RequestValue,
    ScheduleTimeout,
    SignProposal,
    SignVote,
    ValidateBlock,
)
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
from node.consensus.votekeeper import Added, VoteKeeper
from node.types.validators import ValidatorSet
from node.types.vote import NIL, PRECOMMIT, PREVOTE, Commit, Proposal, Vote


class ConsensusCore:
    """One validator's (or observer's) consensus state for the current height.

    Read-only state for drivers and tests: `height`, `round`, `current_step`,
    `locked_value`, `locked_round`, `valid_value`, `valid_round`, `decision`,
    `rule_hits` (how often each line of Algorithm 1 fired, for metrics).
    """

    def __init__(self, chain_id: str, own_key: bytes | None,
                 timeouts: TimeoutConfig | None = None, limits: Limits | None = None) -> None:
        self.chain_id = chain_id
        self.own_key = own_key
        self.timeouts = timeouts or TimeoutConfig()
        self.limits = limits or Limits()
        self.rule_hits: Counter[str] = Counter()
        self.height = 0  # 0: no StartHeight yet, every message is ignored
        self.round = 0
        self.current_step = Step.PROPOSE
        self.locked_value: bytes | None = None
        self.locked_round = -1
        self.valid_value: bytes | None = None
        self.valid_round = -1
        self.decision: bytes | None = None
        self._validators: ValidatorSet | None = None
        self._next_validators: ValidatorSet | None = None
        self._keeper: VoteKeeper | None = None
        self._validity: dict[bytes, bool | None] = {}
        self._awaiting_value: tuple[int, int] | None = None
        self._armed: set[tuple[int, Step]] = set()  # L34 / L47 "first time" per round
        self._l36_done: set[int] = set()  # L36 "first time" per round
        self._own_messages: list[Proposal | Vote] = []
        self._next_height: dict[bytes, list[Input]] = {}

    # -- public --------------------------------------------------------------------------

    def step(self, event: Input) -> list[Effect]:
        """Handle one input atomically and return the effects, in the order to execute them."""
        effects: list[Effect] = []
        if isinstance(event, StartHeight):
            self._start_height(event, effects)
        elif self.height == 0:
            return effects
        elif isinstance(event, ProposalReceived):
            self._on_proposal(event, effects)
        elif isinstance(event, VoteReceived):
            self._on_vote(event, effects)
        elif isinstance(event, TimeoutFired):
            self._on_timeout(event, effects)
        elif isinstance(event, ValueReady):
            self._on_value(event, effects)
        elif isinstance(event, BlockValidated):
            self._on_validated(event)
        else:
            raise TypeError(f"not a consensus input: {event!r}")
        self._run_rules(effects)
        return effects

    @property
    def awaiting_value(self) -> tuple[int, int] | None:
        """(height, round) of an unanswered RequestValue that is still wanted."""
        return self._awaiting_value

    @property
    def validators(self) -> ValidatorSet | None:
        return self._validators

    def own_messages(self) -> list[Proposal | Vote]:
        """Own signed messages of this height (after they were fed back), oldest first."""
        return list(self._own_messages)

    def messages_to_regossip(self) -> list[Proposal | Vote]:
        """What the driver should re-broadcast periodically while the height is undecided.

        Best-effort links lose messages; the paper assumes every message a correct node
        received eventually reaches all (CONSENSUS.md pitfall 17). Re-sending our own
        messages and the polka behind validValue (proposal + prevotes of validRound)
        restores that: lagging nodes can skip rounds (L55) and nodes locked on an older
        value can be unlocked through L28 ("hidden lock").
        """
        if self._keeper is None or self.decision is not None:
            return []
        messages: list[Proposal | Vote] = list(self._own_messages)
        if self.valid_value is not None:
            proposal = self._keeper.proposal_for(self.valid_round, self.valid_value)
            if proposal is not None:
                messages.append(proposal)
            messages.extend(self._keeper.votes_for(self.valid_round, PREVOTE, self.valid_value))
        unique = dict.fromkeys(messages)
        return list(unique)

    # -- inputs --------------------------------------------------------------------------

    def _start_height(self, event: StartHeight, effects: list[Effect]) -> None:
        """L10 / L54: a new height with empty state, then StartRound(0)."""
        if event.height <= self.height:
            raise ValueError(f"StartHeight({event.height}) does not move past {self.height}")
        buffered = self._next_height if event.height == self.height + 1 else {}
        self.height = event.height
        self._validators = event.validators
        self._next_validators = event.next_validators
        self._keeper = VoteKeeper(event.validators, self.limits.future_rounds,
                                  self.limits.proposals_per_round, self.limits.values_per_vote)
        self.locked_value, self.locked_round = None, -1
        self.valid_value, self.valid_round = None, -1
        self.decision = None
        self._validity = {}
        self._armed = set()
        self._l36_done = set()
        self._own_messages = []
        self._next_height = {}
        self._start_round(0, effects)
        for messages in buffered.values():
            for message in messages:
                if isinstance(message, ProposalReceived):
                    self._on_proposal(message, effects)
                elif isinstance(message, VoteReceived):
                    self._on_vote(message, effects)

    def _on_proposal(self, event: ProposalReceived, effects: list[Effect]) -> None:
        p = event.proposal
        if p.chain_id != self.chain_id or self._buffered_for_next(p.height, p.proposer, event):
            return
        if p.height != self.height or self.decision is not None:
            return
        assert self._validators is not None and self._keeper is not None
        if p.proposer != self._validators.proposer(self.height, p.round).node_key:
            self.rule_hits["ignored_not_proposer"] += 1
            return
        if not -1 <= p.pol_round < p.round:
            return  # vr >= round can never be justified (ErrInvalidProposalPOLRound)
        if not self._keeper.admits(p.proposer, p.round, self.round):
            return
        added = self._keeper.add_proposal(p)
        if added is Added.CONFLICT:
            self.rule_hits["proposal_equivocation"] += 1
        if added in (Added.NEW, Added.CONFLICT):
            if p.proposer == self.own_key:
                self._own_messages.append(p)
                effects.append(Broadcast(p))
            if p.block_hash not in self._validity:
                self._validity[p.block_hash] = None
                effects.append(ValidateBlock(self.height, p.block_hash))

    def _on_vote(self, event: VoteReceived, effects: list[Effect]) -> None:
        v = event.vote
        if v.chain_id != self.chain_id or self._buffered_for_next(v.height, v.validator, event):
            return
        if v.height != self.height or self.decision is not None:
            return
        assert self._validators is not None and self._keeper is not None
        if self._validators.get(v.validator) is None or v.type not in (PREVOTE, PRECOMMIT):
            return
        if not self._keeper.admits(v.validator, v.round, self.round):
            return
        added, first = self._keeper.add_vote(v)
        if added is Added.NEW and v.validator == self.own_key:
            self._own_messages.append(v)
            effects.append(Broadcast(v))
        elif added is Added.CONFLICT and first is not None:
            self.rule_hits["evidence"] += 1
            effects.append(Evidence(first, v))

    def _buffered_for_next(self, height: int, sender: bytes,
                           event: ProposalReceived | VoteReceived) -> bool:
        """Keep a bounded number of height + 1 messages from next-height validators."""
        if height != self.height + 1:
            return False
        nxt = self._next_validators
        if nxt is not None and nxt.get(sender) is not None:
            kept = self._next_height.setdefault(sender, [])
            if event not in kept and len(kept) < self.limits.next_height_per_validator:
                kept.append(event)
        return True

    def _on_timeout(self, event: TimeoutFired, effects: list[Effect]) -> None:
        if (event.height, event.round) != (self.height, self.round) or self.decision is not None:
            return
        if event.step is Step.PROPOSE and self.current_step is Step.PROPOSE:
            # L57-60: no acceptable proposal in time (or our own getValue was too slow).
            self.rule_hits["L59"] += 1
            self._vote(PREVOTE, NIL, effects)
            self.current_step = Step.PREVOTE
        elif event.step is Step.PREVOTE and self.current_step is Step.PREVOTE:
            # L61-64
            self.rule_hits["L61"] += 1
            self._vote(PRECOMMIT, NIL, effects)
            self.current_step = Step.PRECOMMIT
        elif event.step is Step.PRECOMMIT:
            # L65-67: any step.
            self.rule_hits["L67"] += 1
            self._start_round(self.round + 1, effects)

    def _on_value(self, event: ValueReady, effects: list[Effect]) -> None:
        """L18-19: getValue() answered; propose it if this round still wants it."""
        wanted = self._awaiting_value == (event.height, event.round)
        if not wanted or self.current_step is not Step.PROPOSE:
            return
        self._awaiting_value = None
        self._validity[event.block_hash] = True
        self._propose(event.block_hash, -1, effects)

    def _on_validated(self, event: BlockValidated) -> None:
        # valid(v) is a pure function of v at this height, and verdicts come only from our
        # own driver, so a verdict is kept even when its proposal is not (yet) known here:
        # a proposal buffered during the previous height is consumed at StartHeight and is
        # not in this height's WAL, so on replay its verdict arrives first; the proposal
        # is re-gossiped later. A verdict already recorded is never changed.
        if self._validity.get(event.block_hash) is None:
            self._validity[event.block_hash] = event.valid

    # -- StartRound and actions ------------------------------------------------------------

    def _start_round(self, round_: int, effects: list[Effect]) -> None:
        """L11-21."""
        assert self._validators is not None
        self.round = round_
        self.current_step = Step.PROPOSE
        self._awaiting_value = None
        if self._validators.proposer(self.height, round_).node_key == self.own_key:
            if self.valid_value is not None:
                self.rule_hits["L16"] += 1
                self._propose(self.valid_value, self.valid_round, effects)
            else:
                self.rule_hits["L18"] += 1
                self._awaiting_value = (self.height, round_)
                effects.append(RequestValue(self.height, round_))
            # getValue is asynchronous, so the proposer arms timeoutPropose as well: a slow
            # block builder must not leave it the only node still in the propose step.
        else:
            self.rule_hits["L21"] += 1
        effects.append(self._timeout(Step.PROPOSE))

    def _propose(self, value: bytes, pol_round: int, effects: list[Effect]) -> None:
        """L19: the signed proposal comes back as ProposalReceived and is broadcast then."""
        self.rule_hits["L19"] += 1
        effects.append(SignProposal(self.height, self.round, pol_round, value))

    def _vote(self, type_: int, value: bytes, effects: list[Effect]) -> None:
        assert self._validators is not None
        if self.own_key is not None and self._validators.get(self.own_key) is not None:
            effects.append(SignVote(type_, self.height, self.round, value))

    def _timeout(self, step: Step) -> ScheduleTimeout:
        return ScheduleTimeout(self.height, self.round, step,
                               self.timeouts.duration_ms(step, self.round))

    # -- upon rules ----------------------------------------------------------------------

    def _run_rules(self, effects: list[Effect]) -> None:
        while self.height and self.decision is None and (
            self._upon_commit(effects)
            or self._upon_round_skip(effects)
            or self._upon_proposal_in_propose(effects)
            or self._upon_prevote_any(effects)
            or self._upon_polka_for_value(effects)
            or self._upon_polka_for_nil(effects)
            or self._upon_precommit_any(effects)
        ):
            pass

    def _upon_proposal_in_propose(self, effects: list[Effect]) -> bool:
        """L22-27 (vr = -1) and L28-33 (0 <= vr < round), while step = propose."""
        assert self._keeper is not None
        if self.current_step is not Step.PROPOSE:
            return False
        for p in self._keeper.proposals(self.round):
            v, vr = p.block_hash, p.pol_round
            if vr >= 0 and not self._keeper.has_quorum_for(vr, PREVOTE, v):
                continue  # L28 needs the polka of round vr; wait for it, never fall back to L22
            valid = self._validity.get(v)
            if valid is None:
                continue  # valid(v) pending: BlockValidated re-runs the rules
            if vr == -1:
                if valid and (self.locked_round == -1 or self.locked_value == v):
                    self.rule_hits["L24"] += 1
                    if self.locked_round != -1:
                        self.rule_hits["L24_locked"] += 1
                    self._vote(PREVOTE, v, effects)
                else:
                    self.rule_hits["L26"] += 1
                    self._vote(PREVOTE, NIL, effects)
            elif valid and (self.locked_round <= vr or self.locked_value == v):
                self.rule_hits["L30"] += 1
                self._vote(PREVOTE, v, effects)
            else:
                self.rule_hits["L32"] += 1
                self._vote(PREVOTE, NIL, effects)
            self.current_step = Step.PREVOTE
            return True
        return False

    def _upon_prevote_any(self, effects: list[Effect]) -> bool:
        """L34-35: 2f+1 prevotes of any kind while step = prevote, first time only."""
        assert self._keeper is not None
        key = (self.round, Step.PREVOTE)
        if (self.current_step is not Step.PREVOTE or key in self._armed
                or not self._keeper.has_quorum_any(self.round, PREVOTE)):
            return False
        self._armed.add(key)
        self.rule_hits["L34"] += 1
        effects.append(self._timeout(Step.PREVOTE))
        return True

    def _upon_polka_for_value(self, effects: list[Effect]) -> bool:
        """L36-43: this round's proposal of v, 2f+1 prevotes for v, valid(v), step >= prevote,
        first time only. Locks only from the prevote step; validValue in either step."""
        assert self._keeper is not None
        if self.current_step is Step.PROPOSE or self.round in self._l36_done:
            return False
        for p in self._keeper.proposals(self.round):
            v = p.block_hash
            if self._validity.get(v) is not True:
                continue
            if not self._keeper.has_quorum_for(self.round, PREVOTE, v):
                continue
            self._l36_done.add(self.round)
            self.rule_hits["L36"] += 1
            if self.current_step is Step.PREVOTE:
                self.rule_hits["L36_lock"] += 1
                self.locked_value, self.locked_round = v, self.round
                self._vote(PRECOMMIT, v, effects)
                self.current_step = Step.PRECOMMIT
            else:
                self.rule_hits["L42_alone"] += 1
            self.valid_value, self.valid_round = v, self.round
            return True
        return False

    def _upon_polka_for_nil(self, effects: list[Effect]) -> bool:
        """L44-46: 2f+1 prevotes for nil while step = prevote. The lock is kept (the paper
        never unlocks on a nil polka)."""
        assert self._keeper is not None
        if self.current_step is not Step.PREVOTE or not self._keeper.has_quorum_for(
                self.round, PREVOTE, NIL):
            return False
        self.rule_hits["L44"] += 1
        self._vote(PRECOMMIT, NIL, effects)
        self.current_step = Step.PRECOMMIT
        return True

    def _upon_precommit_any(self, effects: list[Effect]) -> bool:
        """L47-48: 2f+1 precommits of any kind in this round, any step, first time only."""
        assert self._keeper is not None
        key = (self.round, Step.PRECOMMIT)
        if key in self._armed or not self._keeper.has_quorum_any(self.round, PRECOMMIT):
            return False
        self._armed.add(key)
        self.rule_hits["L47"] += 1
        effects.append(self._timeout(Step.PRECOMMIT))
        return True

    def _upon_commit(self, effects: list[Effect]) -> bool:
        """L49-54: proposal of v from proposer(h, r) and 2f+1 precommits for v in that same
        round r, for any r (past, current or future), valid(v), not yet decided."""
        assert self._keeper is not None
        for r, v in self._keeper.precommit_quorums():
            if self._keeper.proposal_for(r, v) is None or self._validity.get(v) is not True:
                continue
            label = "L49_past" if r < self.round else "L49_future" if r > self.round else "L49"
            self.rule_hits[label] += 1
            self.decision = v
            votes = self._keeper.votes_for(r, PRECOMMIT, v)
            commit = Commit(self.height, r, v, tuple((x.validator, x.signature) for x in votes))
            effects.append(Decide(self.height, v, commit))
            return True
        return False

    def _upon_round_skip(self, effects: list[Effect]) -> bool:
        """L55-56: f+1 power of distinct validators sent messages of a round above ours."""
        assert self._keeper is not None and self._validators is not None
        for r in reversed(self._keeper.rounds_above(self.round)):
            if self._validators.has_one_third(self._keeper.round_power(r)):
                self.rule_hits["L55"] += 1
                self._start_round(r, effects)
                return True
        return False
