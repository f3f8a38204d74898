"""The messages of one height, counted by voting power.

Rules enforced here (CONSENSUS.md section 2, points 6, 7, 9, 10):
- tallies are the power of distinct validators; nil counts toward "any" only;
- the first vote of a validator for (round, type) is its vote for "any" (L34,
  L47): an equivocator's power is never counted twice toward one threshold;
- a second, different vote of the same validator is equivocation: it is reported
  once as evidence (with the first vote) and counted toward its own value only.
  This is the paper's counting (a threshold for v counts the distinct senders of
  ⟨PREVOTE, h, r, id(v)⟩) and what CometBFT ends up doing through peer
  majority claims. Counting only the first vote lets a Byzantine validator show
  different honest nodes different polkas: one honest node locks on v with the
  equivocator's vote while the others discard that vote forever, and L28 can
  never unlock it (a stall found by the simulator; malachite discussion #380).
  Safety is unaffected: two polkas of one round for different values need more
  than 1/3 of the power to equivocate. Each validator counts toward at most
  `values_per_vote` values per (round, type), so memory stays bounded;
- all rounds are kept (L28 and L49 look at earlier rounds), but each validator
  may occupy only `future_rounds` rounds above the current one;
- L55 counts the power of distinct senders of any message type in a round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from node.types.validators import ValidatorSet
from node.types.vote import NIL, PRECOMMIT, Proposal, Vote


class Added(Enum):
    NEW = "new"  # first vote of the validator in this (round, type)
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"  # first vote contradicting the first one: evidence
    EXTRA = "extra"  # a further conflicting value, counted toward that value only
    DROPPED = "dropped"  # over a bound


@dataclass
class _Tally:
    """Votes of one (round, type)."""

    first: dict[bytes, Vote] = field(default_factory=dict)  # validator -> first vote
    by_value: dict[bytes, dict[bytes, Vote]] = field(default_factory=dict)
    power_by_value: dict[bytes, int] = field(default_factory=dict)
    values_of: dict[bytes, int] = field(default_factory=dict)
    power_any: int = 0


class VoteKeeper:
    def __init__(self, validators: ValidatorSet, future_rounds: int,
                 proposals_per_round: int, values_per_vote: int) -> None:
        self._validators = validators
        self._future_rounds = future_rounds
        self._proposals_per_round = proposals_per_round
        self._values_per_vote = values_per_vote
        self._tallies: dict[tuple[int, int], _Tally] = {}
        self._proposals: dict[int, list[Proposal]] = {}
        # round -> senders (dict used as an ordered set: iteration must not depend on hashing)
        self._senders: dict[int, dict[bytes, None]] = {}
        self._rounds_of: dict[bytes, dict[int, None]] = {}
        self._precommit_quorums: list[tuple[int, bytes]] = []

    # -- admission ---------------------------------------------------------------------

    def admits(self, sender: bytes, round_: int, current_round: int) -> bool:
        """False when `sender` already fills its quota of rounds above the current one."""
        if round_ <= current_round:
            return True
        rounds = self._rounds_of.get(sender, {})
        if round_ in rounds:
            return True
        return sum(1 for r in rounds if r > current_round) < self._future_rounds

    def _note_sender(self, sender: bytes, round_: int) -> None:
        self._senders.setdefault(round_, {})[sender] = None
        self._rounds_of.setdefault(sender, {})[round_] = None

    # -- votes -------------------------------------------------------------------------

    def add_vote(self, vote: Vote) -> tuple[Added, Vote | None]:
        """Add a vote from a member; on CONFLICT also return the first vote it contradicts."""
        tally = self._tallies.setdefault((vote.round, vote.type), _Tally())
        voters = tally.by_value.setdefault(vote.block_hash, {})
        if vote.validator in voters:
            return Added.DUPLICATE, None
        first = tally.first.get(vote.validator)
        values = tally.values_of.get(vote.validator, 0)
        if values >= self._values_per_vote:
            return Added.DROPPED, None
        power = self._power(vote.validator)
        tally.values_of[vote.validator] = values + 1
        voters[vote.validator] = vote
        before = tally.power_by_value.get(vote.block_hash, 0)
        tally.power_by_value[vote.block_hash] = before + power
        if (vote.type == PRECOMMIT and vote.block_hash != NIL
                and not self._validators.has_quorum(before)
                and self._validators.has_quorum(before + power)):
            self._precommit_quorums.append((vote.round, vote.block_hash))
        if first is not None:
            return (Added.CONFLICT, first) if values == 1 else (Added.EXTRA, None)
        tally.first[vote.validator] = vote
        tally.power_any += power
        self._note_sender(vote.validator, vote.round)
        return Added.NEW, None

    def has_quorum_for(self, round_: int, type_: int, value: bytes) -> bool:
        """2f+1 ⟨type, h, round, value⟩ (value may be NIL)."""
        tally = self._tallies.get((round_, type_))
        return tally is not None and self._validators.has_quorum(
            tally.power_by_value.get(value, 0))

    def has_quorum_any(self, round_: int, type_: int) -> bool:
        """2f+1 ⟨type, h, round, *⟩: nil and every value together."""
        tally = self._tallies.get((round_, type_))
        return tally is not None and self._validators.has_quorum(tally.power_any)

    def precommit_quorums(self) -> list[tuple[int, bytes]]:
        """(round, value) pairs with 2f+1 non-nil precommits, in the order they formed."""
        return self._precommit_quorums

    def votes_for(self, round_: int, type_: int, value: bytes) -> list[Vote]:
        """Counted votes for `value`, in validator-set order (a deterministic certificate)."""
        tally = self._tallies.get((round_, type_))
        voters = tally.by_value.get(value, {}) if tally is not None else {}
        return [voters[v.node_key] for v in self._validators.validators if v.node_key in voters]

    # -- proposals ---------------------------------------------------------------------

    def add_proposal(self, proposal: Proposal) -> Added:
        """Keep every distinct proposal of a round (up to the bound): a polka or a commit
        may form for any of them when the proposer equivocates."""
        kept = self._proposals.setdefault(proposal.round, [])
        for p in kept:
            if p.block_hash == proposal.block_hash and p.pol_round == proposal.pol_round:
                return Added.DUPLICATE
        if len(kept) >= self._proposals_per_round:
            return Added.DROPPED
        kept.append(proposal)
        self._note_sender(proposal.proposer, proposal.round)
        return Added.NEW if len(kept) == 1 else Added.CONFLICT

    def proposals(self, round_: int) -> list[Proposal]:
        """Proposals of `round_` in arrival order (the first is the one L22 prevotes)."""
        return self._proposals.get(round_, [])

    def proposal_for(self, round_: int, value: bytes) -> Proposal | None:
        for p in self._proposals.get(round_, []):
            if p.block_hash == value:
                return p
        return None

    # -- round skip --------------------------------------------------------------------

    def rounds_above(self, round_: int) -> list[int]:
        return sorted(r for r in self._senders if r > round_)

    def round_power(self, round_: int) -> int:
        """Power of distinct validators that sent any message in `round_` (L55)."""
        return self._validators.power_of(self._senders.get(round_, {}))

    def _power(self, key: bytes) -> int:
        validator = self._validators.get(key)
        assert validator is not None, "the core admits members only"
        return validator.power


