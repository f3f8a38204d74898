"""Drives node.consensus for a validator: the single writer of consensus state.

Every input (a peer's message, a fired timer, an answer to the core's request) goes
through one queue, is written to the WAL, then handed to `ConsensusCore.step`; the
effects run in order. Own messages are signed by the guarded signer (which syncs
its last-signed state first) and logged with an fsync before they are fed back and
broadcast, so a restart can never sign two different votes for one height/round/step.

Heights start when there is work (pending txs, or a peer already at the height),
paced by the genesis's block interval, and on an idle chain only with a heartbeat
(node.daemon.pacing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from node import codec
from node.consensus import (
    BlockValidated,
    Broadcast,
    ConsensusCore,
    Decide,
    Evidence,
    FileSignerState,
    FileWAL,
    GuardedSigner,
    ProposalReceived,
    RequestValue,
    ScheduleTimeout,
    SignProposal,
    SignVote,
    StartHeight,
    Step,
    TimeoutConfig,
    TimeoutFired,
    ValidateBlock,
    ValueReady,
    VoteReceived,
    replay,
)
from node.consensus.inputs import Input
from node.crypto import PrivateKey
from node.daemon.clock import ClockGuard
from node.daemon.ledger import Executed, InvalidBlock, Ledger
from node.daemon.mempool import Mempool
from node.daemon.pacing import Pacing
from node.store import StoreError, keys
from node.store.candidates import CandidateBlocks
from node.types import Block, Commit, Proposal, Vote

log = logging.getLogger("orechain.bft")

PROPOSAL_MSG = 0
VOTE_MSG = 1
REBROADCAST_SECONDS = 2.0
# Executing a block holds the event loop of every node (proposer, validators, full
# nodes) for the whole block. Under load a 5,000-event block held it for seconds, so
# proposals reached peers too late for their clock check and rounds failed one after
# another; 1,000 events keep each hold well under a second and still amortise the
# three consensus steps over many events (docs/performance.md).
PROPOSAL_MAX_TXS = 1_000
PROPOSAL_MIN_TXS = 200
# A paced start may run this much early: the event loop fires a timer within its clock
# resolution of the time asked for.
PACING_SLACK_S = 0.002


class ProposalBudget:
    """How many events a proposal may carry so that executing it, here and then on
    every validator, fits inside the propose timeout.

    It learns the wall time per event of this node's block executions (a moving
    average), so a loaded machine proposes smaller blocks instead of losing rounds to
    timeouts. Only the proposer's choice of txs depends on it, never a block's
    validity, so nodes need not agree on it.
    """

    def __init__(self, propose_timeout_ms: int, cap: int) -> None:
        # The proposer's execution, then each validator's, must both fit in the
        # timeout; each validator's starts from its own round start, so half of it
        # per execution. (A quarter was tried: every round then succeeded, but blocks
        # got so small that the fixed cost of each height halved the throughput.)
        self._budget_s = propose_timeout_ms / 2000
        self._cap = cap
        self._seconds_per_tx = 0.0

    def max_txs(self) -> int:
        if self._seconds_per_tx <= 0:
            return self._cap
        fit = int(self._budget_s / self._seconds_per_tx)
        return max(min(PROPOSAL_MIN_TXS, self._cap), min(self._cap, fit))

    def observe(self, txs: int, seconds: float) -> None:
        if txs < PROPOSAL_MIN_TXS:
            return  # small blocks are dominated by fixed costs and would mislead
        sample = seconds / txs
        self._seconds_per_tx = (sample if self._seconds_per_tx <= 0
                                else 0.7 * self._seconds_per_tx + 0.3 * sample)


def timeouts_from(params: dict[str, int]) -> TimeoutConfig:
    return TimeoutConfig(
        propose_ms=params["timeout_propose_ms"],
        propose_delta_ms=params["timeout_propose_delta_ms"],
        prevote_ms=params["timeout_prevote_ms"],
        prevote_delta_ms=params["timeout_prevote_delta_ms"],
        precommit_ms=params["timeout_precommit_ms"],
        precommit_delta_ms=params["timeout_precommit_delta_ms"],
        max_ms=params["timeout_cap_ms"],
    )


class BftDriver:
    def __init__(self, ledger: Ledger, mempool: Mempool, key: PrivateKey, data_dir: Path,
                 clock_ms: Callable[[], int], broadcast: Callable[[list[Any]], None],
                 resend: Callable[[list[Any], bytes | None], None],
                 on_commit: Callable[[Block, Commit], None]) -> None:
        self.ledger = ledger
        # Told of each equivocation seen, so the node can put the evidence on chain.
        self.on_evidence: Callable[[Vote, Vote], None] = lambda first, second: None
        self.mempool = mempool
        self.clock_ms = clock_ms
        self._broadcast = broadcast
        self._resend = resend
        self._on_commit = on_commit
        self.signer = GuardedSigner(key, FileSignerState(data_dir / "signer_state.json"))
        self.wal = FileWAL(data_dir / "consensus.wal")
        self.candidates = CandidateBlocks(data_dir / "candidates")
        self.timeouts = timeouts_from(ledger.genesis.params)
        self.budget = ProposalBudget(self.timeouts.propose_ms,
                                     min(ledger.genesis.params["max_block_txs"],
                                         PROPOSAL_MAX_TXS))
        self.clock = ClockGuard(ledger.genesis.params["max_clock_drift_ms"], clock_ms)
        self.core = self._new_core()
        self._queue: asyncio.Queue[Callable[[], None]] = asyncio.Queue()
        self._blocks: dict[bytes, Block] = {}
        self._executed: dict[bytes, Executed] = {}
        self._awaiting_block: set[bytes] = set()
        self._unstored_decision: Decide | None = None  # decided, not yet stored
        self._task: asyncio.Task[None] | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self.pacing = Pacing.from_params(ledger.genesis.params)
        self._last_start = 0.0      # the event loop's clock when this node last started a
                                    # height; set at start()
        self._start_timer: asyncio.TimerHandle | None = None

    def _new_core(self) -> ConsensusCore:
        return ConsensusCore(self.ledger.chain_id, self.signer.public_key, self.timeouts)

    @property
    def next_height(self) -> int:
        return self.ledger.height + 1

    @property
    def running_height(self) -> bool:
        return self.core.height == self.next_height

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        self._last_start = asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._consume(), name="bft-driver")
        self._queue.put_nowait(self._recover)
        self._rebroadcaster = asyncio.create_task(self._rebroadcast_loop(), name="bft-resend")

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        if self._start_timer is not None:
            self._start_timer.cancel()
        self._rebroadcaster.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.wal.close()

    async def _consume(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                job()
            except Exception:
                log.exception("consensus job failed")

    def _recover(self) -> None:
        records = self.wal.recovered
        starts = [r for r in records if isinstance(r, StartHeight)]
        if starts and starts[-1].height == self.next_height:
            self.core = self._new_core()
            effects = replay(self.core, records)
            log.info("replayed %d WAL records at height %d round %d", len(records),
                     self.core.height, self.core.round)
            self._run(effects)
        else:
            self._start_if_idle()

    async def _rebroadcast_loop(self) -> None:
        # Gossip is best effort: a peer that was down or cut off when a vote went out
        # would wait forever in a round that lacks a quorum. Re-sending the current
        # height's own messages lets every correct node eventually see them.
        # The same beat retries work a storage failure (a full disk) interrupted.
        while True:
            await asyncio.sleep(REBROADCAST_SECONDS)
            self._queue.put_nowait(lambda: self._send_own(None))
            self._queue.put_nowait(self._retry_interrupted)

    def _retry_interrupted(self) -> None:
        if self._unstored_decision is not None:
            self._decide(self._unstored_decision)
        else:
            self._start_if_idle()

    def peer_connected(self, node_key: bytes) -> None:
        self._queue.put_nowait(lambda: self._send_own(node_key))

    def _send_own(self, node_key: bytes | None) -> None:
        if not self.running_height:
            return
        for message in self.core.messages_to_regossip():
            payload = self._wire(message)
            if payload is not None:
                self._resend(payload, node_key)

    # --- entry points (called from the event loop; serialised through the queue) ----------

    def wake(self) -> None:
        """There is work (a new tx): start the next height if it is idle."""
        self._queue.put_nowait(self._start_if_idle)

    def on_message(self, payload: list[Any]) -> None:
        self._queue.put_nowait(lambda: self._handle_message(payload))

    def executed(self, block_hash: bytes) -> Executed | None:
        """This height's block `block_hash` as this node already validated or built it."""
        return self._executed.get(block_hash)

    def restart_at_head(self) -> None:
        """The ledger moved on without us (a synced block): abandon the old height."""
        self._queue.put_nowait(self._restart_at_head)

    # --- jobs ----------------------------------------------------------------------------

    def _start_if_idle(self) -> None:
        """Start the next height if there is work (or a heartbeat is due) and the block
        interval has passed; else come back when it will have."""
        if self.running_height:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        at = self.pacing.next_start(now, self._last_start, has_work=len(self.mempool) > 0)
        if at is None:
            return
        if at <= now + PACING_SLACK_S:
            self._start_height()
            return
        if self._start_timer is not None:
            if self._start_timer.when() <= at:
                return                  # already coming back by then
            self._start_timer.cancel()
        self._start_timer = loop.call_at(at, self._paced_start)

    def _paced_start(self) -> None:
        self._start_timer = None
        self._queue.put_nowait(self._start_if_idle)

    def _restart_at_head(self) -> None:
        if self.core.height and self.core.height < self.next_height:
            self._reset_height_state()
            self._start_if_idle()

    def _start_height(self) -> None:
        self._last_start = asyncio.get_running_loop().time()
        if self._start_timer is not None:
            self._start_timer.cancel()
            self._start_timer = None
        validators = self.ledger.validators_at(self.next_height)
        start = StartHeight(self.next_height, validators,
                            self.ledger.validators_at(self.next_height + 1))
        self.core = self._new_core()
        try:
            self.wal.restart(start)
        except OSError as exc:  # retried by _retry_interrupted once the disk has room
            log.error("cannot start height %d: writing the consensus WAL failed: %s",
                      start.height, exc)
            return
        self._run(self.core.step(start))

    def _handle_message(self, payload: list[Any]) -> None:
        kind = payload[0]
        if kind == PROPOSAL_MSG:
            proposal = Proposal.from_wire(payload[1])
            block = Block.decode(payload[2], known=self.mempool.get)
            if block.hash != proposal.block_hash:
                return
            if proposal.height == self.next_height:
                delay = self.timeouts.duration_ms(Step.PROPOSE, proposal.round)
                if not self.clock.timely(proposal.pol_round, block.header.time_ms,
                                         proposal.proposer, delay):
                    return
                self._blocks.setdefault(block.hash, block)
                self.candidates.save(block, sync=False)
            event: Input = ProposalReceived(proposal)
            height = proposal.height
        else:
            vote = Vote.from_wire(payload[1])
            event, height = VoteReceived(vote), vote.height
        if height == self.next_height and not self.running_height:
            self._start_height()  # a peer is already at this height: there is work
        if height < self.core.height or not self.core.height:
            return
        self._feed(event)
        if isinstance(event, ProposalReceived) and event.proposal.block_hash in \
                self._awaiting_block:
            self._awaiting_block.discard(event.proposal.block_hash)
            self._validate(event.proposal.block_hash)

    # --- the core loop ------------------------------------------------------------------

    def _feed(self, event: Input, own: bool = False) -> None:
        self.wal.append(event, sync=own)
        self._run(self.core.step(event))

    def _run(self, effects: list[Any]) -> None:
        for effect in effects:
            self._execute(effect)

    def _execute(self, effect: Any) -> None:
        chain_id = self.ledger.chain_id
        if isinstance(effect, (SignProposal, SignVote)):
            # Every input that led here is on disk before the signature exists, so a
            # crash after signing replays to the same request and gets the same
            # signature back, instead of a different request the signer must refuse.
            self.wal.sync()
        if isinstance(effect, SignProposal):
            proposal = self.signer.sign_proposal(chain_id, effect.height, effect.round,
                                                 effect.pol_round, effect.block_hash)
            self._feed(ProposalReceived(proposal), own=True)
        elif isinstance(effect, SignVote):
            vote = self.signer.sign_vote(chain_id, effect.type, effect.height, effect.round,
                                         effect.block_hash)
            self._feed(VoteReceived(vote), own=True)
        elif isinstance(effect, Broadcast):
            self._broadcast_own(effect.message)
        elif isinstance(effect, ScheduleTimeout):
            loop = asyncio.get_running_loop()
            fired = effect
            self._timers = [t for t in self._timers if not t.cancelled()]
            self._timers.append(loop.call_later(
                effect.duration_ms / 1000,
                lambda: self._queue.put_nowait(lambda: self._timeout(fired))))
        elif isinstance(effect, RequestValue):
            self._propose_value(effect)
        elif isinstance(effect, ValidateBlock):
            self._validate(effect.block_hash)
        elif isinstance(effect, Decide):
            self._decide(effect)
        elif isinstance(effect, Evidence):
            self._record_evidence(effect.first, effect.second)

    def _timeout(self, effect: ScheduleTimeout) -> None:
        if effect.height == self.core.height:
            self._feed(TimeoutFired(effect.height, effect.round, effect.step))

    def _broadcast_own(self, message: Proposal | Vote) -> None:
        payload = self._wire(message)
        if payload is not None:
            self._broadcast(payload)

    def _wire(self, message: Proposal | Vote) -> list[Any] | None:
        if isinstance(message, Vote):
            return [VOTE_MSG, message.to_wire()]
        block = self._block(message.block_hash)
        if block is None:
            log.error("own proposal for an unknown block %s", message.block_hash.hex())
            return None
        return [PROPOSAL_MSG, message.to_wire(), block.encoded]

    def _block(self, block_hash: bytes) -> Block | None:
        block = self._blocks.get(block_hash)
        if block is None:
            block = self.candidates.get(block_hash)
            if block is not None:
                self._blocks[block_hash] = block
        return block

    def _propose_value(self, request: RequestValue) -> None:
        signed = self._signed_proposal_block(request.height, request.round)
        if signed is not None:
            # Signed before a crash that lost the WAL record of the value: propose that
            # block again (anything else would be a second proposal the signer refuses).
            self._feed(ValueReady(request.height, request.round, signed.hash), own=True)
            return
        params = self.ledger.genesis.params
        txs = self.mempool.reap(self.budget.max_txs(), params["max_block_bytes"] - 4096)
        started = time.perf_counter()
        executed = self.ledger.build_block(self.clock_ms(), self.signer.public_key, txs)
        self.budget.observe(len(txs), time.perf_counter() - started)
        block = executed.block
        # Durable before the core may sign a proposal for it: after a crash the same
        # value is re-proposed, and its body must still be at hand.
        self.candidates.save(block, sync=True)
        self._blocks[block.hash] = block
        self._executed[block.hash] = executed
        self._feed(ValueReady(request.height, request.round, block.hash), own=True)

    def _signed_proposal_block(self, height: int, round_: int) -> Block | None:
        last = self.signer.last_signed
        if last is None or (last.height, last.round, last.step) != (height, round_,
                                                                    Step.PROPOSE):
            return None
        block_hash = codec.decode(last.sign_bytes)[-1]
        return self._block(block_hash)

    def _validate(self, block_hash: bytes) -> None:
        block = self._block(block_hash)
        if block is None:
            self._awaiting_block.add(block_hash)
            return
        try:
            if block_hash not in self._executed:
                started = time.perf_counter()
                self._executed[block_hash] = self.ledger.validate_block(block)
                self.budget.observe(len(block.txs), time.perf_counter() - started)
            valid = True
        except InvalidBlock as exc:
            log.warning("proposed block %s at %d is invalid: %s", block_hash.hex()[:16],
                        block.height, exc)
            valid = False
        self._feed(BlockValidated(block_hash, valid))

    def _decide(self, decision: Decide) -> None:
        if decision.height != self.next_height:
            return  # already stored (a replayed decision after a crash)
        block = self._block(decision.block_hash)
        if block is None:
            log.warning("decided block %s at %d is not here; waiting for sync",
                        decision.block_hash.hex()[:16], decision.height)
            return
        executed = self._executed.get(block.hash) or self.ledger.validate_block(block)
        try:
            self.ledger.commit(executed, decision.commit)
        except StoreError as exc:  # retried by _retry_interrupted once the disk has room
            log.error("cannot store final block %d: %s", block.height, exc)
            self._unstored_decision = decision
            return
        self._unstored_decision = None
        self.mempool.remove_committed(block.tx_ids)
        log.info("block %d final: %d txs, round %d", block.height, len(block.txs),
                 decision.commit.round)
        self._on_commit(block, decision.commit)
        self._reset_height_state()
        self._start_if_idle()

    def _reset_height_state(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._blocks.clear()
        self._executed.clear()
        self._awaiting_block.clear()
        self.candidates.clear()
        self.core = self._new_core()

    def _record_evidence(self, first: Vote, second: Vote) -> None:
        log.warning("equivocation by %s at height %d round %d", first.validator.hex()[:16],
                    first.height, first.round)
        self.ledger.store.save_evidence(
            keys.evidence_key(first.height, first.validator, first.round, first.type),
            codec.encode([first.to_wire(), second.to_wire()]))
        self.on_evidence(first, second)
