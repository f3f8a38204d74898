"""Assembles proof-carrying answers from the store: inclusion proofs, headers, commits.

Every event in an answer carries the RFC 6962 inclusion proof of its tx id under the
block's tx_root, and of its result under results_root, so `orechain verify` can check
the answer offline against the genesis validator set.
"""

from __future__ import annotations

from typing import Any

from node.merkle import inclusion_proof
from node.store import BlockStore
from node.types import Block


class BlockCache:
    """Blocks and results read once per answer (a lot's events often share blocks)."""

    def __init__(self, store: BlockStore) -> None:
        self._store = store
        self._blocks: dict[int, Block] = {}

    def block(self, height: int) -> Block:
        if height not in self._blocks:
            block = self._store.block(height)
            if block is None:
                raise LookupError(f"block {height} is missing from the store")
            self._blocks[height] = block
        return self._blocks[height]

    def event(self, height: int, index: int) -> dict[str, Any]:
        block = self.block(height)
        tx = block.txs[index]
        results = self._store.results(height)
        return {
            "tx_id": tx.tx_id.hex(),
            "tx": tx.to_json(),
            "height": height,
            "index": index,
            "proof": [p.hex() for p in inclusion_proof(block.tx_ids, index)],
            "result": {"accepted": results[index].accepted, "reason": results[index].reason},
            "result_proof": [p.hex() for p in
                             inclusion_proof([r.encoded for r in results], index)],
        }

    def block_summary(self, height: int) -> dict[str, Any]:
        block = self.block(height)
        commit = self._store.commit(height)
        return {
            "hash": block.hash.hex(),
            "header": block.header.to_json(),
            "commit": commit.to_json() if commit else None,
        }

    def heights(self) -> list[int]:
        return sorted(self._blocks)
