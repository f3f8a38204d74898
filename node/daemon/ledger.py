"""The ledger: the node's view of the chain, and the one place blocks are built, checked
and committed.

It joins the store (what is on disk) and the state machine (what a block means). It
never reads the clock: callers pass block times in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from node.crypto import VerifiedCache
from node.daemon.sigbatch import SignatureBatcher
from node.merkle import merkle_root
from node.state import AdmissionError, apply_block, check_admission, init_state
from node.state.schedule import validator_set_at
from node.store import BlockStore, Overlay
from node.types import (
    Block,
    Commit,
    CommitError,
    Header,
    Tx,
    TxResult,
    ValidatorSet,
    results_root,
    verify_commit,
)
from node.types.genesis import Genesis


class InvalidBlock(ValueError):
    """A proposed or synced block breaks a rule; the message says which."""


class Rejected(ValueError):
    """A tx refused at submission (bad signature, unknown key, malformed); never on chain."""


@dataclass(frozen=True)
class Executed:
    """A block with its execution: results and the state writes it makes."""

    block: Block
    results: list[TxResult]
    state: Overlay


class Ledger:
    def __init__(self, store: BlockStore, genesis: Genesis,
                 signatures: VerifiedCache | None = None) -> None:
        self.store = store
        self.genesis = genesis
        self.signatures = signatures or VerifiedCache()
        self._signature_batches = SignatureBatcher(self.signatures)
        genesis_state = Overlay(store)
        init_state(genesis_state, genesis)
        store.init_genesis(genesis.hash, genesis_state)
        self._head_time_ms = self._load_head_time()
        self._validator_sets: dict[int, ValidatorSet] = {}
        # Told of every block this node commits, however it arrived (consensus, gossip, sync).
        self.on_commit: Callable[[Block, Commit], None] = lambda block, commit: None

    def _load_head_time(self) -> int:
        height, _ = self.store.head()
        block = self.store.block(height) if height else None
        return block.header.time_ms if block else self.genesis.genesis_time_ms

    @property
    def chain_id(self) -> str:
        return self.genesis.chain_id

    @property
    def height(self) -> int:
        return self.store.head()[0]

    @property
    def head_hash(self) -> bytes:
        return self.store.head()[1]

    @property
    def head_time_ms(self) -> int:
        return self._head_time_ms

    def validators_at(self, height: int) -> ValidatorSet:
        """The set whose precommits finalise `height`, following gov_set_validators.

        Cached until the next commit: a commit can schedule a set for later heights.
        """
        cached = self._validator_sets.get(height)
        if cached is None:
            cached = validator_set_at(self.store, self.genesis, height)
            if len(self._validator_sets) > 64:
                self._validator_sets.clear()
            self._validator_sets[height] = cached
        return cached

    # --- transactions ----------------------------------------------------------

    async def preverify(self, txs: Sequence[Tx]) -> None:
        """Verify the txs' signatures off the event loop, together with any others asked
        for in this turn of it, so check_tx finds them verified (a bad one it checks
        again, and refuses)."""
        await self._signature_batches.verify_many(
            [(tx.signer, tx.signing_bytes, tx.signature) for tx in txs],
            [tx.tx_id for tx in txs])

    def check_tx(self, tx: Tx) -> None:
        """Everything judged at submission: signature, chain, key registration, shape."""
        if tx.chain_id != self.chain_id:
            raise Rejected(f"wrong chain id {tx.chain_id!r}; this node runs {self.chain_id!r}")
        if not self.signatures.verify(tx.signer, tx.signing_bytes, tx.signature, tx.tx_id):
            raise Rejected("bad signature: the signature does not match the event and signer "
                           "(sign exactly the bytes lot_prepareEvent returns)")
        try:
            check_admission(self.store, self.genesis, tx)
        except AdmissionError as exc:
            raise Rejected(str(exc)) from None

    def tx_status(self, tx_id: bytes) -> tuple[str, int | None, int | None, TxResult | None]:
        """('final'|'rejected', height, index, result) for a tx on chain, else ('unknown', ...)."""
        loc = self.store.tx_location(tx_id)
        if loc is None:
            return "unknown", None, None, None
        height, index = loc
        result = self.store.results(height)[index]
        return ("final" if result.accepted else "rejected"), height, index, result

    # --- blocks --------------------------------------------------------------------

    def _execute(self, height: int, time_ms: int, txs: Sequence[Tx]) -> tuple[list[TxResult],
                                                                          Overlay]:
        state = Overlay(self.store)
        results = apply_block(state, self.genesis, height, time_ms, txs)
        return results, state

    def build_block(self, time_ms: int, proposer: bytes, txs: Sequence[Tx]) -> Executed:
        """Execute `txs` on the head and wrap them in the next block (execute-then-propose)."""
        height = self.height + 1
        time_ms = max(time_ms, self._head_time_ms + 1)
        results, state = self._execute(height, time_ms, txs)
        header = Header(
            chain_id=self.chain_id, height=height, time_ms=time_ms, parent_hash=self.head_hash,
            tx_root=merkle_root([tx.tx_id for tx in txs]), tx_count=len(txs),
            results_root=results_root(results),
            validators_hash=self.validators_at(height).hash, proposer=proposer,
        )
        return Executed(Block(header, tuple(txs)), results, state)

    def validate_block(self, block: Block, commit: Commit | None = None) -> Executed:
        """Re-run every structural, signature and state rule on a block from elsewhere.

        With `commit` (a synced or gossiped final block) the certificate is checked
        first; its > 2/3 of the power include honest validators that verified every tx
        signature before precommitting, so those are not verified again here. Every
        structural and state rule still runs, and the execution must reproduce the
        header's results_root (a certificate is no excuse to skip rules: CVE-2018-17144).
        """
        h = block.header
        if commit is not None:
            self._verify_commit(block, commit)
        expected = self.height + 1
        problems = list(block.structure_errors())
        if h.chain_id != self.chain_id:
            problems.append(f"block is for chain {h.chain_id!r}")
        if h.height != expected:
            problems.append(f"block height {h.height}, expected {expected}")
        if h.parent_hash != self.head_hash:
            problems.append("parent hash is not the current head")
        if h.time_ms <= self._head_time_ms:
            problems.append("block time does not advance past its parent")
        validators = self.validators_at(h.height)
        if h.validators_hash != validators.hash:
            problems.append("validators_hash does not match the validator set of this height")
        if validators.get(h.proposer) is None:
            problems.append("proposer is not a validator")
        if len(block.encoded) > self.genesis.params["max_block_bytes"]:
            problems.append("block is over the size limit")
        if len(block.txs) > self.genesis.params["max_block_txs"]:
            problems.append("block has more txs than the limit")
        # Registration and every lot rule are judged by apply_block and recorded as
        # results; here only what can never be on chain: foreign or forged txs.
        problems += [f"tx {tx.tx_id.hex()[:16]} is for another chain" for tx in block.txs
                     if tx.chain_id != self.chain_id]
        # A tx is on chain once: its index entry names the one block and place it has.
        problems += [f"tx {tx.tx_id.hex()[:16]} is already final at height {loc[0]}"
                     for tx in block.txs
                     if (loc := self.store.tx_location(tx.tx_id)) is not None]
        if commit is None:
            verdicts = self.signatures.verify_many(
                [(tx.signer, tx.signing_bytes, tx.signature) for tx in block.txs],
                block.tx_ids)
            problems += [f"tx {tx.tx_id.hex()[:16]} has a bad signature"
                         for tx, ok in zip(block.txs, verdicts, strict=True) if not ok]
        if problems:
            raise InvalidBlock("; ".join(problems))
        results, state = self._execute(h.height, h.time_ms, block.txs)
        if results_root(results) != h.results_root:
            raise InvalidBlock("results_root does not match re-execution of the block")
        return Executed(block, results, state)

    def _verify_commit(self, block: Block, commit: Commit) -> None:
        try:
            verify_commit(commit, self.chain_id, block.height, block.hash,
                          self.validators_at(block.height), self.signatures.verify)
        except CommitError as exc:
            raise InvalidBlock(f"commit certificate rejected: {exc}") from None

    def commit(self, executed: Executed, commit: Commit) -> None:
        block = executed.block
        self._verify_commit(block, commit)
        self.store.commit_block(block, commit, executed.results, executed.state)
        self._head_time_ms = block.header.time_ms
        self._validator_sets.clear()
        self.on_commit(block, commit)
