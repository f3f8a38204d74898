"""Assembles proof-carrying answers from the store: inclusion proofs, headers, commits.

Every event in an answer carries the RFC 6962 inclusion proof of its tx id under the
block's tx_root, and of its result under results_root, so `orechain verify` can check
the answer offline against the genesis. Each block's two trees are built once, level by
level, and every proof in it is a walk up those levels: a block's proofs cost one tree,
not one tree per event.

Blocks and results are read from the node's own store, which wrote them canonically,
so they are unpacked without the canonical re-encoding check that guards input from
peers (the same trust node.provenance.ledger gives state records).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack

from node.merkle import leaf_hash, node_hash, sha256
from node.provenance import query
from node.provenance.ledger import LedgerView
from node.store import BlockStore, keys
from node.types import Header

EventRef = tuple[int, int, bytes]


class AuditTree:
    """Every node of an RFC 6962 tree, hex-encoded, level by level.

    Building bottom-up, an unpaired last node moves up a level unchanged; that is the
    same tree as RFC 6962's split at the largest power of two, so a leaf's audit path
    is its sibling on each level that has one.
    """

    def __init__(self, leaves: list[bytes]) -> None:
        level = [leaf_hash(leaf) for leaf in leaves]
        levels = [[h.hex() for h in level]]
        while len(level) > 1:
            paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                paired.append(level[-1])
            level = paired
            levels.append([h.hex() for h in level])
        # Every leaf's path at once, top down: a node's path is its sibling (if it has
        # one) followed by its parent's path, so paths share their upper parts and a
        # block's proofs cost a list concatenation per node, not a walk per event.
        paths: list[list[str]] = [[]]
        for nodes in reversed(levels[:-1]):
            size = len(nodes)
            paths = [([nodes[j ^ 1]] if j ^ 1 < size else []) + paths[j >> 1]
                     for j in range(size)]
        self._paths = paths if leaves else []

    def path(self, index: int) -> list[str]:
        """The inclusion proof of leaf `index`, leaf end first, as hex."""
        return self._paths[index]


@dataclass
class _StoredBlock:
    header: Header
    tx_blobs: list[bytes]
    result_blobs: list[bytes]
    _tx_tree: AuditTree | None = None
    _result_tree: AuditTree | None = None

    @property
    def tx_tree(self) -> AuditTree:
        if self._tx_tree is None:
            self._tx_tree = AuditTree([sha256(blob) for blob in self.tx_blobs])
        return self._tx_tree

    @property
    def result_tree(self) -> AuditTree:
        if self._result_tree is None:
            self._result_tree = AuditTree(self.result_blobs)
        return self._result_tree


def _tx_json(blob: bytes) -> dict[str, Any]:
    """The RPC form of a stored tx (Tx.to_json without building a Tx)."""
    chain_id, kind, body, signer, nonce, signature = msgpack.unpackb(blob, raw=False)
    return {"chain_id": chain_id, "kind": kind, "body": body, "signer": signer.hex(),
            "nonce": nonce, "signature": signature.hex()}


class BlockCache:
    """Blocks, results and their trees, read once per answer (events share blocks)."""

    def __init__(self, store: BlockStore) -> None:
        self._store = store
        self._blocks: dict[int, _StoredBlock] = {}

    def _block(self, height: int) -> _StoredBlock:
        block = self._blocks.get(height)
        if block is None:
            raw = self._store.get(keys.block_key(height))
            if raw is None:
                raise LookupError(f"block {height} is missing from the store")
            header_fields, tx_blobs = msgpack.unpackb(raw, raw=False)
            results = self._store.get(keys.results_key(height))
            result_blobs = msgpack.unpackb(results, raw=False) if results else []
            block = _StoredBlock(Header.from_fields(header_fields), tx_blobs, result_blobs)
            self._blocks[height] = block
        return block

    def event(self, height: int, index: int) -> dict[str, Any]:
        block = self._block(height)
        blob = block.tx_blobs[index]
        _, accepted, reason = msgpack.unpackb(block.result_blobs[index], raw=False)
        return {
            "tx_id": sha256(blob).hex(),
            "tx": _tx_json(blob),
            "height": height,
            "index": index,
            "proof": block.tx_tree.path(index),
            "result": {"accepted": accepted, "reason": reason},
            "result_proof": block.result_tree.path(index),
        }

    def block_summary(self, height: int) -> dict[str, Any]:
        header = self._block(height).header
        commit = self._store.commit(height)
        return {
            "hash": header.hash.hex(),
            "header": header.to_json(),
            "commit": commit.to_json() if commit else None,
        }

    def heights(self) -> list[int]:
        return sorted(self._blocks)


def provenance_answer(store: BlockStore, chain_id: str, lot_id: str,
                      direction: query.Direction) -> dict[str, Any]:
    """The lot_provenance answer (docs/verification.md): the lots reached and every event
    a verifier needs to replay them from genesis, each with its proofs and block."""
    lots, events = query.provenance(store, lot_id, direction)
    if direction != "backward":
        # A forward walk reaches merges and transforms whose other inputs, and the
        # reached lot's own origin, lie outside it; their histories let a verifier
        # replay every event rather than take those lots on trust.
        events = sorted(set(events) | _support_events(store, lots))
    top = events[-1][0] if events else 0
    governance = LedgerView(store).governance_events(top)
    cache = BlockCache(store)
    return {
        "lot_id": lot_id,
        "direction": direction,
        "chain_id": chain_id,
        "lots": lots,
        "events": [cache.event(h, i) for h, i, _ in sorted(set(events) | set(governance))],
        "blocks": {str(h): cache.block_summary(h) for h in cache.heights()},
    }


def _support_events(store: BlockStore, reached: dict[str, Any]) -> set[EventRef]:
    """Every event of every ancestor of the reached lots (one walk from all of them)."""
    ledger = LedgerView(store)
    stack, seen = list(reached), set(reached)
    events: set[EventRef] = set()
    while stack:
        lot = stack.pop()
        events.update(ledger.lot_events(lot))
        record = ledger.lot_record(lot)
        for parent in record["parents"] if record else ():
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return events
