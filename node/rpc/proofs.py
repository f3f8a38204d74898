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

import json
from typing import Any

import msgpack

from node.merkle import leaf_hash, node_hash, sha256
from node.provenance import query
from node.provenance.ledger import LedgerView
from node.rpc.jsontext import JsonText, dumps
from node.store import BlockStore, keys
from node.types import Header

EventRef = tuple[int, int, bytes]


class AuditTree:
    """Every leaf's RFC 6962 audit path, as the JSON text of its list of hex hashes.

    Building bottom-up, an unpaired last node moves up a level unchanged; that is the
    same tree as RFC 6962's split at the largest power of two, so a leaf's audit path
    is its sibling on each level that has one.
    """

    def __init__(self, leaves: list[bytes]) -> None:
        level = [leaf_hash(leaf) for leaf in leaves]
        levels = [[f'"{h.hex()}"' for h in level]]
        while len(level) > 1:
            paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                paired.append(level[-1])
            level = paired
            levels.append([f'"{h.hex()}"' for h in level])
        # Every leaf's path at once, top down: a node's path is its sibling (if it has
        # one) followed by its parent's path, so paths share their upper parts and a
        # block's proofs cost a string concatenation per node, not a walk per event.
        paths = [""]
        for nodes in reversed(levels[:-1]):
            size = len(nodes)
            paths = [(nodes[j ^ 1] + ("," if paths[j >> 1] else "") if j ^ 1 < size else "")
                     + paths[j >> 1] for j in range(size)]
        self._paths = [f"[{path}]" for path in paths] if leaves else []

    def path_json(self, index: int) -> str:
        """The inclusion proof of leaf `index`, leaf end first, as a JSON list of hex."""
        return self._paths[index]


class _StoredBlock:
    """One final block as answers need it: its header, and each event of it in the
    answer's form (tx id, RPC form of the tx, result, both inclusion proofs) as JSON,
    worked out once, when first asked for.

    Final blocks never change (no forks, no reorgs), so a prepared block is kept
    across answers (`_PREPARED`), under its stored bytes and its results' bytes: a key
    that names nothing but this block's content."""

    def __init__(self, block_raw: bytes, results_raw: bytes | None) -> None:
        header_fields, self._tx_blobs = msgpack.unpackb(block_raw, raw=False)
        self.header = Header.from_fields(header_fields)
        self._result_blobs: list[bytes] = (msgpack.unpackb(results_raw, raw=False)
                                           if results_raw else [])
        self._events: list[bytes | None] = [None] * len(self._tx_blobs)
        self._trees: tuple[list[bytes], AuditTree, AuditTree] | None = None

    def __len__(self) -> int:
        return len(self._tx_blobs)

    def event_json(self, index: int) -> bytes:
        """The event's JSON, written once (answers join these)."""
        found = self._events[index]
        if found is None:
            if self._trees is None:
                # Every proof of the block comes from these, so build them once.
                tx_ids = [sha256(blob) for blob in self._tx_blobs]
                self._trees = (tx_ids, AuditTree(tx_ids), AuditTree(self._result_blobs))
            tx_ids, tx_tree, result_tree = self._trees
            # Laid out by hand: hex, integers and the proofs' JSON need no escaping,
            # and one dumps call per event would cost more than the rest together.
            found = self._events[index] = (
                f'{{"tx_id":"{tx_ids[index].hex()}","tx":{_tx_text(self._tx_blobs[index])},'
                f'"height":{self.header.height},"index":{index},'
                f'"proof":{tx_tree.path_json(index)},'
                f'"result":{_result_text(self._result_blobs[index])},'
                f'"result_proof":{result_tree.path_json(index)}}}').encode()
        return found

    def event(self, index: int) -> dict[str, Any]:
        """The event as data (a fresh copy the caller may change)."""
        found: dict[str, Any] = json.loads(self.event_json(index))
        return found


# The canonical encoding of an accepted result: fixarray 3, bin 8 of 32 bytes, the
# tx id, true, the empty string.
_ACCEPTED_TAIL = b"\xc3\xa0"
_ACCEPTED_SIZE = 1 + 2 + 32 + len(_ACCEPTED_TAIL)
# Events kept prepared, in whole blocks: ~2 KB of JSON each once written, so at most
# ~80 MB, and room for four answers of 10,000 events.
_PREPARED_EVENTS = 40_000
_PREPARED: dict[tuple[bytes, bytes | None], _StoredBlock] = {}


def _prepared(block_raw: bytes, results_raw: bytes | None) -> _StoredBlock:
    key = (block_raw, results_raw)
    block = _PREPARED.pop(key, None)
    if block is None:
        block = _StoredBlock(block_raw, results_raw)
        kept = sum(map(len, _PREPARED.values()))
        while _PREPARED and kept + len(block) > _PREPARED_EVENTS:
            kept -= len(_PREPARED.pop(next(iter(_PREPARED))))   # least recently used first
    _PREPARED[key] = block
    return block


def forget_prepared() -> None:
    """Drop every prepared block (a benchmark of a cold node does)."""
    _PREPARED.clear()


_ACCEPTED_TEXT = '{"accepted":true,"reason":""}'


def _result_text(blob: bytes) -> str:
    if len(blob) == _ACCEPTED_SIZE and blob.endswith(_ACCEPTED_TAIL):
        return _ACCEPTED_TEXT                          # nearly every result: no decode
    _, accepted, reason = msgpack.unpackb(blob, raw=False)
    return dumps({"accepted": accepted, "reason": reason})


def _tx_text(blob: bytes) -> str:
    """The RPC form of a stored tx (Tx.to_json without building a Tx), as JSON."""
    chain_id, kind, body, signer, nonce, signature = msgpack.unpackb(blob, raw=False)
    return dumps({"chain_id": chain_id, "kind": kind, "body": body, "signer": signer.hex(),
                  "nonce": nonce, "signature": signature.hex()})


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
            block = _prepared(raw, self._store.get(keys.results_key(height)))
            self._blocks[height] = block
        return block

    def event(self, height: int, index: int) -> dict[str, Any]:
        return self._block(height).event(index)

    def event_json(self, height: int, index: int) -> bytes:
        return self._block(height).event_json(index)

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


def provenance_answer_text(store: BlockStore, chain_id: str, lot_id: str,
                           direction: query.Direction) -> JsonText:
    """The lot_provenance answer (docs/verification.md) as JSON text: the lots reached
    and every event a verifier needs to replay them from genesis, each with its proofs
    and block."""
    lots, events = query.provenance(store, lot_id, direction)
    if direction != "backward":
        # A forward walk reaches merges and transforms whose other inputs, and the
        # reached lot's own origin, lie outside it; their histories let a verifier
        # replay every event rather than take those lots on trust.
        events = sorted(set(events) | _support_events(store, lots))
    top = events[-1][0] if events else 0
    governance = LedgerView(store).governance_events(top)
    refs = sorted(set(events) | set(governance)) if governance else events
    cache = BlockCache(store)
    view = LedgerView(store)
    head = dumps({"lot_id": lot_id, "direction": direction, "chain_id": chain_id})
    lots_text = ",".join([f"{dumps(lot)}:{view.lot_text(lot)}" for lot in lots])
    parts = [f'{head[:-1]},"lots":{{{lots_text}}},"events":['.encode()]
    for n, (height, index, _) in enumerate(refs):
        if n:
            parts.append(b",")
        parts.append(cache.event_json(height, index))
    # The blocks the events were read from (the cache has them all by now).
    blocks = dumps({str(h): cache.block_summary(h) for h in cache.heights()})
    parts.append(f'],"blocks":{blocks}}}'.encode())
    return JsonText(parts)


def provenance_answer(store: BlockStore, chain_id: str, lot_id: str,
                      direction: query.Direction) -> dict[str, Any]:
    """The same answer as data."""
    answer: dict[str, Any] = json.loads(provenance_answer_text(store, chain_id, lot_id,
                                                               direction).encoded())
    return answer


def _support_events(store: BlockStore, reached: list[str]) -> set[EventRef]:
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
