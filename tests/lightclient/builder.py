"""A real chain in one process for light-client tests and benches: the daemon's Ledger
over LevelDB, every block finalised by precommits that the validators in force sign
with their devnet node keys. No network and no consensus rounds; everything a verifier
checks (headers, commits, results, state) is the node's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from node.crypto import PrivateKey, devnet_key
from node.daemon.ledger import Ledger
from node.rpc.proofs import provenance_answer
from node.state import approve
from node.store import BlockStore
from node.types import PRECOMMIT, Commit, Tx, TxResult, ValidatorSet
from node.types.genesis import Genesis
from node.types.vote import vote_sign_bytes

ADMINS = ("admin-1", "regulator-1")      # two of the devnet's three admin keys: its quorum


def org_key(org: str) -> PrivateKey:
    return devnet_key("orechain-devnet:" + org)


def node_key(name: str) -> PrivateKey:
    return devnet_key("orechain-devnet-node:" + name)


class StaleLedger(Ledger):
    """A ledger whose validators ignore governance: the genesis set signs every block."""

    def validators_at(self, height: int) -> ValidatorSet:
        return self.genesis.validators


class LocalChain:
    def __init__(self, path: Path, genesis: Genesis, signers: list[PrivateKey],
                 ledger: type[Ledger] = Ledger) -> None:
        self.genesis = genesis
        self.ledger = ledger(BlockStore(path), genesis)
        self._signers = {k.public_key: k for k in signers}
        self._nonce = 0

    def close(self) -> None:
        self.ledger.store.close()

    def tx(self, signer: str | PrivateKey, kind: str, body: dict[str, Any]) -> Tx:
        key = org_key(signer) if isinstance(signer, str) else signer
        self._nonce += 1
        return Tx(self.genesis.chain_id, kind, body, key.public_key, self._nonce).signed(key)

    def gov(self, kind: str, body: dict[str, Any]) -> Tx:
        approvals = [approve(org_key(a), self.genesis.chain_id, kind, body) for a in ADMINS]
        return self.tx(ADMINS[0], kind, {**body, "approvals": approvals})

    def block(self, *txs: Tx) -> list[TxResult]:
        """Build, execute and commit the next block; every validator in force signs."""
        height = self.ledger.height + 1
        validators = self.ledger.validators_at(height)
        executed = self.ledger.build_block(self.genesis.genesis_time_ms + 1_000 * height,
                                           validators.proposer(height, 0).node_key, txs)
        block_hash = executed.block.hash
        message = vote_sign_bytes(self.genesis.chain_id, PRECOMMIT, height, 0, block_hash)
        signatures = tuple((v.node_key, self._signers[v.node_key].sign(message))
                           for v in validators.validators)
        self.ledger.commit(executed, Commit(height, 0, block_hash, signatures))
        return executed.results

    def ok(self, *txs: Tx) -> None:
        results = self.block(*txs)
        refused = [r.reason for r in results if not r.accepted]
        assert not refused, refused

    def answer(self, lot_id: str, direction: str = "backward") -> dict[str, Any]:
        """The lot_provenance answer, as the RPC method assembles it."""
        return provenance_answer(self.ledger.store, self.genesis.chain_id, lot_id,
                                 direction)  # type: ignore[arg-type]
