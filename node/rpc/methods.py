"""The JSON-RPC methods of DESIGN.md. Reads go to the store and queries; writes go
through the node's submit path. No rules live here."""

from __future__ import annotations

from typing import Any, Protocol

from node import __version__
from node.daemon.ledger import Ledger, Rejected
from node.daemon.mempool import MempoolFull
from node.provenance import query
from node.provenance.schema import EventFormatError, validate_body, validate_tx_body
from node.rpc.assets import AssetsApi
from node.rpc.errors import EVENT_REJECTED, INVALID_PARAMS, NOT_ACCEPTING, NOT_FOUND, RpcError
from node.rpc.jsontext import JsonText
from node.rpc.proofs import BlockCache, provenance_answer_text
from node.store import StoreError
from node.types import Tx, TxFormatError

DIRECTIONS = ("backward", "forward", "both")


class NodeView(Protocol):
    ledger: Ledger

    async def submit(self, tx: Tx) -> str: ...

    def status(self) -> dict[str, Any]: ...

    def pending(self, tx_id: bytes) -> Tx | None: ...


def _param(params: dict[str, Any], name: str, kind: type) -> Any:
    if name not in params:
        raise RpcError(INVALID_PARAMS, f"missing parameter {name!r}")
    value = params[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise RpcError(INVALID_PARAMS, f"parameter {name!r} must be a {kind.__name__}")
    return value


def _hash_param(params: dict[str, Any], name: str) -> bytes:
    text = _param(params, name, str)
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) != 32:
        raise RpcError(INVALID_PARAMS, f"{name} must be 64 hex characters")
    return value


def _event(params: dict[str, Any], *, signed: bool) -> Tx:
    event = _param(params, "event", dict)
    try:
        tx = Tx.from_json(event, require_signature=signed)
        if signed:  # remembered by tx id: admission, which checks it again, finds it done
            validate_tx_body(tx.tx_id, tx.kind, tx.body)
        else:
            validate_body(tx.kind, tx.body)
    except (TxFormatError, EventFormatError) as exc:
        raise RpcError(INVALID_PARAMS, f"malformed event: {exc}") from None
    return tx


class RpcApi:
    def __init__(self, node: NodeView, openrpc: dict[str, Any]) -> None:
        self.node = node
        self.openrpc = openrpc

    @property
    def ledger(self) -> Ledger:
        return self.node.ledger

    def handlers(self) -> dict[str, Any]:
        return {
            "lot_submitEvent": self.lot_submit_event,
            "lot_prepareEvent": self.lot_prepare_event,
            "tx_get": self.tx_get,
            "lot_get": self.lot_get,
            "lot_history": self.lot_history,
            "lot_provenance": self.lot_provenance,
            "chain_head": self.chain_head,
            "chain_genesis": self.chain_genesis,
            "block_get": self.block_get,
            "node_status": self.node_status,
            "rpc.discover": self.discover,
            **AssetsApi(self.node).handlers(),
        }

    async def lot_submit_event(self, params: dict[str, Any]) -> dict[str, Any]:
        tx = _event(params, signed=True)
        try:
            status = await self.node.submit(tx)
        except Rejected as exc:
            raise RpcError(EVENT_REJECTED, str(exc)) from None
        except (MempoolFull, StoreError) as exc:
            raise RpcError(NOT_ACCEPTING, str(exc)) from None
        return {"tx_id": tx.tx_id.hex(), "status": status}

    async def lot_prepare_event(self, params: dict[str, Any]) -> dict[str, Any]:
        tx = _event(params, signed=False)
        return {"signing_bytes": tx.signing_bytes.hex()}

    async def tx_get(self, params: dict[str, Any]) -> dict[str, Any]:
        tx_id = _hash_param(params, "tx_id")
        status, height, index, _ = self.ledger.tx_status(tx_id)
        if height is not None and index is not None:
            cache = BlockCache(self.ledger.store)
            event = cache.event(height, index)
            answer = {**event, "status": status, "block": cache.block_summary(height)}
            if not event["result"]["accepted"]:
                answer["reason"] = event["result"]["reason"]
            return answer
        pending = self.node.pending(tx_id)
        if pending is None:
            relay = "" if self.node.config.tx_relay else (
                " (it takes no events relayed by peers, tx_relay = false: an event "
                "submitted elsewhere shows here once it is final)")
            raise RpcError(NOT_FOUND, f"tx {tx_id.hex()} is not known to this node{relay}")
        return {"tx_id": tx_id.hex(), "tx": pending.to_json(), "status": "pending"}

    def _lot_id(self, params: dict[str, Any]) -> str:
        lot_id = _param(params, "lot_id", str)
        if query.lot_state(self.ledger.store, lot_id) is None:
            raise RpcError(NOT_FOUND, f"lot {lot_id} is not on chain")
        return lot_id

    async def lot_get(self, params: dict[str, Any]) -> dict[str, Any]:
        lot_id = _param(params, "lot_id", str)
        state = query.lot_state(self.ledger.store, lot_id)
        if state is None:
            raise RpcError(NOT_FOUND, f"lot {lot_id} is not on chain")
        return state

    async def lot_history(self, params: dict[str, Any]) -> dict[str, Any]:
        lot_id = self._lot_id(params)
        cache = BlockCache(self.ledger.store)
        events = [cache.event(h, i) for h, i, _ in query.lot_events(self.ledger.store, lot_id)]
        return {"lot_id": lot_id, "events": events}

    async def lot_provenance(self, params: dict[str, Any]) -> JsonText:
        lot_id = self._lot_id(params)
        direction = params.get("direction", "backward")
        if direction not in DIRECTIONS:
            raise RpcError(INVALID_PARAMS, f"direction must be one of {', '.join(DIRECTIONS)}")
        return provenance_answer_text(self.ledger.store, self.ledger.chain_id, lot_id,
                                      direction)

    async def chain_head(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"height": self.ledger.height, "hash": self.ledger.head_hash.hex(),
                "time_ms": self.ledger.head_time_ms}

    async def chain_genesis(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ledger.genesis.document

    async def block_get(self, params: dict[str, Any]) -> dict[str, Any]:
        if "hash" in params:
            height = self.ledger.store.height_of(_hash_param(params, "hash"))
            if height is None:
                raise RpcError(NOT_FOUND, "no block with that hash")
        else:
            height = _param(params, "height", int)
            if not 0 <= height < 1 << 63:
                raise RpcError(INVALID_PARAMS, "height must be between 0 and 2^63 - 1")
        block = self.ledger.store.block(height) if height > 0 else None
        if block is None:
            raise RpcError(NOT_FOUND, f"no block at height {height} "
                           f"(head is {self.ledger.height})")
        summary = BlockCache(self.ledger.store).block_summary(height)
        return {**summary, "height": height, "tx_ids": [t.hex() for t in block.tx_ids]}

    async def node_status(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self.node.status(), "version": __version__}

    async def discover(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.openrpc
