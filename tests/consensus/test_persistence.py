"""The signer's last-signed guard, the WAL's framing and recovery, and replay after a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node.consensus import (
    BlockValidated,
    Broadcast,
    ConsensusCore,
    DoubleSignError,
    FileSignerState,
    FileWAL,
    GuardedSigner,
    MemorySignerState,
    MemoryWAL,
    MemoryWALDisk,
    ProposalReceived,
    RequestValue,
    ScheduleTimeout,
    SignerStateError,
    SignProposal,
    SignVote,
    StartHeight,
    Step,
    TimeoutFired,
    ValueReady,
    VoteReceived,
    WALCorruptError,
    replay,
)
from node.consensus.wal import frame, parse
from node.types.vote import NIL, PRECOMMIT, PREVOTE
from tests.consensus.harness import CHAIN, KEYS, PUB, TIMEOUTS, VALIDATORS, proposal, value, vote

X, Y = value("x"), value("y")
START = StartHeight(1, VALIDATORS, VALIDATORS)


@pytest.fixture(params=["file", "memory"])
def signer_state(request: pytest.FixtureRequest, tmp_path: Path):
    return FileSignerState(tmp_path / "signer.json") if request.param == "file" \
        else MemorySignerState()


def test_signer_returns_stored_signature_and_refuses_conflicts(signer_state) -> None:
    signer = GuardedSigner(KEYS[0], signer_state)
    first = signer.sign_vote(CHAIN, PREVOTE, 1, 0, X)
    again = GuardedSigner(KEYS[0], signer_state)  # a restart
    assert again.sign_vote(CHAIN, PREVOTE, 1, 0, X).signature == first.signature
    with pytest.raises(DoubleSignError):
        again.sign_vote(CHAIN, PREVOTE, 1, 0, Y)
    with pytest.raises(DoubleSignError):
        again.sign_vote(CHAIN, PREVOTE, 1, 0, NIL)
    again.sign_vote(CHAIN, PRECOMMIT, 1, 0, X)
    with pytest.raises(DoubleSignError):  # going back to an earlier step
        again.sign_vote(CHAIN, PREVOTE, 1, 0, X)
    with pytest.raises(DoubleSignError):  # or an earlier round's proposal
        again.sign_proposal(CHAIN, 1, 0, -1, X)
    assert again.sign_proposal(CHAIN, 1, 1, -1, Y).round == 1


def test_signer_state_of_another_key_is_refused(signer_state) -> None:
    GuardedSigner(KEYS[0], signer_state).sign_vote(CHAIN, PREVOTE, 1, 0, X)
    with pytest.raises(SignerStateError):
        GuardedSigner(KEYS[1], signer_state)


def test_file_signer_state_is_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "signer.json"
    GuardedSigner(KEYS[0], FileSignerState(path)).sign_vote(CHAIN, PREVOTE, 3, 2, X)
    doc = json.loads(path.read_text())
    assert (doc["height"], doc["round"], doc["step"]) == (3, 2, 1)
    assert not (tmp_path / "signer.json.tmp").exists()
    path.write_text("{not json")
    with pytest.raises(SignerStateError):
        FileSignerState(path).load()


RECORDS = [START, proposal(1, 1, 0, -1, X), BlockValidated(X, True),
           vote(0, PREVOTE, 1, 0, X), TimeoutFired(1, 0, Step.PREVOTE), ValueReady(1, 3, Y)]


def test_records_round_trip_through_the_file_wal(tmp_path: Path) -> None:
    wal = FileWAL(tmp_path / "wal")
    for i, record in enumerate(RECORDS):
        wal.append(record, sync=i % 2 == 0)
    wal.close()
    reopened = FileWAL(tmp_path / "wal")
    assert reopened.recovered == RECORDS and reopened.truncated_bytes == 0


def test_torn_last_record_is_truncated_at_every_offset(tmp_path: Path) -> None:
    data = b"".join(frame(r) for r in RECORDS)
    last = len(frame(RECORDS[-1]))
    for cut in range(1, last):
        path = tmp_path / f"wal-{cut}"
        path.write_bytes(data[: len(data) - cut])
        wal = FileWAL(path)
        assert wal.recovered == RECORDS[:-1]
        wal.append(RECORDS[-1], sync=True)  # the log continues cleanly after the cut
        wal.close()
        assert FileWAL(path).recovered == RECORDS


def test_torn_last_record_with_garbage_payload_is_truncated() -> None:
    data = bytearray(b"".join(frame(r) for r in RECORDS))
    data[-1] ^= 0xFF
    records, good = parse(bytes(data))
    assert records == RECORDS[:-1] and good == len(data) - len(frame(RECORDS[-1]))


def test_mid_log_corruption_is_an_error_not_a_skip(tmp_path: Path) -> None:
    data = bytearray(b"".join(frame(r) for r in RECORDS))
    data[len(frame(RECORDS[0])) + 10] ^= 0x01  # inside the second record
    (tmp_path / "wal").write_bytes(bytes(data))
    with pytest.raises(WALCorruptError, match="checksum"):
        FileWAL(tmp_path / "wal")


def test_memory_wal_keeps_synced_bytes_and_a_prefix_of_the_rest() -> None:
    disk = MemoryWALDisk()
    wal = MemoryWAL(disk)
    wal.append(RECORDS[0])
    wal.append(RECORDS[1], sync=True)
    wal.append(RECORDS[2])
    disk.power_loss(surviving_unsynced=3)  # a torn third record
    again = MemoryWAL(disk)
    assert again.recovered == RECORDS[:2] and again.truncated_bytes == 3
    again.restart(StartHeight(2, VALIDATORS, VALIDATORS))
    assert MemoryWAL(disk).recovered == [StartHeight(2, VALIDATORS, VALIDATORS)]


def _run_logged(core: ConsensusCore, wal: MemoryWAL, signer: GuardedSigner, events) -> list:
    """A minimal driver: log, step, sign (after syncing), feed own messages back."""
    effects = []
    queue = list(events)
    while queue:
        event = queue.pop(0)
        if isinstance(event, StartHeight):
            wal.restart(event)
        else:
            own = (isinstance(event, VoteReceived) and event.vote.validator == PUB[0]) or (
                isinstance(event, ProposalReceived) and event.proposal.proposer == PUB[0])
            wal.append(event, sync=own)
        out = core.step(event)
        effects.extend(out)
        for effect in out:
            if isinstance(effect, SignProposal):
                wal.sync()
                queue.append(ProposalReceived(signer.sign_proposal(
                    CHAIN, effect.height, effect.round, effect.pol_round, effect.block_hash)))
            elif isinstance(effect, SignVote):
                wal.sync()
                queue.append(VoteReceived(signer.sign_vote(
                    CHAIN, effect.type, effect.height, effect.round, effect.block_hash)))
    return effects


def test_replay_restores_the_lock_and_re_emits_own_votes() -> None:
    disk, state = MemoryWALDisk(), MemorySignerState()
    core = ConsensusCore(CHAIN, PUB[0], TIMEOUTS)
    _run_logged(core, MemoryWAL(disk), GuardedSigner(KEYS[0], state), [
        START, proposal(1, 1, 0, -1, X), BlockValidated(X, True),
        vote(1, PREVOTE, 1, 0, X), vote(2, PREVOTE, 1, 0, X)])
    assert core.locked_value == X
    disk.power_loss(surviving_unsynced=0)

    restarted = ConsensusCore(CHAIN, PUB[0], TIMEOUTS)
    owed = replay(restarted, MemoryWAL(disk).recovered)
    assert (restarted.locked_value, restarted.locked_round, restarted.current_step) == \
        (X, 0, Step.PRECOMMIT)
    sent = [(e.message.type, e.message.block_hash) for e in owed if isinstance(e, Broadcast)]
    assert sent == [(PREVOTE, X), (PRECOMMIT, X)]
    assert not any(isinstance(e, (SignVote, SignProposal)) for e in owed)
    # Timers of the current round that never fired are armed again (stale ones are no-ops).
    armed = [e.step for e in owed if isinstance(e, ScheduleTimeout)]
    assert armed == [Step.PROPOSE, Step.PREVOTE]


def test_proposer_crashing_after_proposing_reproposes_the_same_value() -> None:
    disk, state = MemoryWALDisk(), MemorySignerState()
    core = ConsensusCore(CHAIN, PUB[0], TIMEOUTS)
    wal = MemoryWAL(disk)
    # Height 3: validator 0 proposes round 1 ((3 + 1) % 4 == 0).
    start = StartHeight(3, VALIDATORS, VALIDATORS)
    _run_logged(core, wal, GuardedSigner(KEYS[0], state), [
        start, TimeoutFired(3, 0, Step.PROPOSE),
        vote(1, PREVOTE, 3, 0, NIL), vote(2, PREVOTE, 3, 0, NIL),
        vote(1, PRECOMMIT, 3, 0, NIL), vote(2, PRECOMMIT, 3, 0, NIL),
        TimeoutFired(3, 0, Step.PRECOMMIT)])
    assert core.awaiting_value == (3, 1)
    # The value is ready and signed, then the node dies before the WAL holds the proposal.
    wal.append(ValueReady(3, 1, X), sync=True)
    first = GuardedSigner(KEYS[0], state).sign_proposal(CHAIN, 3, 1, -1, X)
    disk.power_loss(surviving_unsynced=0)

    restarted = ConsensusCore(CHAIN, PUB[0], TIMEOUTS)
    owed = replay(restarted, MemoryWAL(disk).recovered)
    assert SignProposal(3, 1, -1, X) in owed
    assert not any(isinstance(e, RequestValue) for e in owed)  # getValue is not re-run
    again = GuardedSigner(KEYS[0], state).sign_proposal(CHAIN, 3, 1, -1, X)
    assert again.signature == first.signature
    with pytest.raises(DoubleSignError):
        GuardedSigner(KEYS[0], state).sign_proposal(CHAIN, 3, 1, -1, Y)


def test_replay_of_an_unanswered_value_request_asks_again() -> None:
    disk = MemoryWALDisk()
    core = ConsensusCore(CHAIN, PUB[1], TIMEOUTS)  # v1 proposes height 1 round 0
    wal = MemoryWAL(disk)
    wal.restart(START)
    assert RequestValue(1, 0) in core.step(START)
    owed = replay(ConsensusCore(CHAIN, PUB[1], TIMEOUTS), MemoryWAL(disk).recovered)
    assert RequestValue(1, 0) in owed
