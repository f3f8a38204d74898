"""Rebuild a core from its WAL after a restart, and say what the driver must still do.

Replaying the logged inputs re-runs the core deterministically to the state it
had (lock, valid value, round and step included). The effects of the replay are
then filtered down to what is still owed to the world:

- Broadcast of own messages of the current height: re-sent, so peers that missed
  them before the crash get them and the restarted validator does not stall.
- SignProposal / SignVote whose signed result is already in the log: dropped (its
  Broadcast covers it). One whose result is not logged crashed between signing
  and logging; it is executed again and the signer returns the identical stored
  signature (the same inputs give the same request, so the same value is
  proposed again: getValue is never re-run once ValueReady was logged).
- ScheduleTimeout of the current (height, round) that has not fired: re-armed.
- RequestValue still awaited, ValidateBlock still unanswered: re-requested.
- Decide and Evidence: executed again; the driver makes both idempotent (the
  block may already be stored if the crash came after storing it).
"""

from __future__ import annotations

from node.consensus.core import ConsensusCore
from node.consensus.effects import (
    Broadcast,
    Effect,
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
    Step,
    TimeoutFired,
    VoteReceived,
)
from node.consensus.wal import since_last_start


def replay(core: ConsensusCore, records: list[Input]) -> list[Effect]:
    """Feed the current height's records to a fresh `core`; return the effects still owed."""
    records = since_last_start(records)
    produced: list[Effect] = []
    for event in records:
        produced.extend(core.step(event))

    signed: set[tuple[int, int, int]] = set()
    fired: set[tuple[int, int, Step]] = set()
    answered: set[bytes] = set()
    for event in records:
        if isinstance(event, ProposalReceived) and event.proposal.proposer == core.own_key:
            p = event.proposal
            signed.add((p.height, p.round, Step.PROPOSE))
        elif isinstance(event, VoteReceived) and event.vote.validator == core.own_key:
            v = event.vote
            signed.add((v.height, v.round, v.type))
        elif isinstance(event, TimeoutFired):
            fired.add((event.height, event.round, event.step))
        elif isinstance(event, BlockValidated):
            answered.add(event.block_hash)

    owed: list[Effect] = []
    for effect in produced:
        if isinstance(effect, Broadcast):
            keep = effect.message.height == core.height
        elif isinstance(effect, SignProposal):
            keep = (effect.height, effect.round, Step.PROPOSE) not in signed
        elif isinstance(effect, SignVote):
            keep = (effect.height, effect.round, effect.type) not in signed
        elif isinstance(effect, ScheduleTimeout):
            keep = ((effect.height, effect.round) == (core.height, core.round)
                    and (effect.height, effect.round, effect.step) not in fired)
        elif isinstance(effect, RequestValue):
            keep = core.awaiting_value == (effect.height, effect.round)
        elif isinstance(effect, ValidateBlock):
            keep = effect.block_hash not in answered
        else:
            keep = True
        if keep:
            owed.append(effect)
    return owed
