"""JSON-RPC methods of the asset layer (docs/assets.md): royalty_report,
compliance_flags, units_balance and units_holders. Reads only; no rules live here.

The units answers carry, like lot_provenance, every event they rest on (tokenize,
transfer_units, redeem_units, and the KYC attestations of the holders) with its RFC 6962
inclusion proofs, and each block's header and commit certificate.
"""

from __future__ import annotations

from typing import Any, Protocol

from node.daemon.ledger import Ledger
from node.provenance import compliance, royalties, units
from node.provenance.ledger import LedgerView
from node.provenance.schema import MAX_TIME_MS
from node.rpc.errors import INVALID_PARAMS, NOT_FOUND, RpcError
from node.rpc.proofs import BlockCache
from node.types.genesis import MINERALS


class HasLedger(Protocol):
    ledger: Ledger


def _text(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise RpcError(INVALID_PARAMS, f"parameter {name!r} must be a non-empty string")
    return value


def _time(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TIME_MS:
        raise RpcError(INVALID_PARAMS, f"parameter {name!r} must be a time in ms since the "
                                       "epoch (an integer)")
    return value


class AssetsApi:
    """Handlers over the node's store; `node` is the running node (or anything with a
    daemon Ledger as `.ledger`)."""

    def __init__(self, node: HasLedger) -> None:
        self.node = node

    @property
    def view(self) -> LedgerView:
        return LedgerView(self.node.ledger.store)

    def handlers(self) -> dict[str, Any]:
        return {
            "royalty_report": self.royalty_report,
            "compliance_flags": self.compliance_flags,
            "units_balance": self.units_balance,
            "units_holders": self.units_holders,
        }

    async def royalty_report(self, params: dict[str, Any]) -> dict[str, Any]:
        from_ms = _time(params, "from_ms", 0)
        to_ms = _time(params, "to_ms", MAX_TIME_MS)
        mineral = params.get("mineral")
        if mineral is not None and mineral not in MINERALS:
            raise RpcError(INVALID_PARAMS, f"mineral must be one of {', '.join(MINERALS)}")
        if from_ms > to_ms:
            raise RpcError(INVALID_PARAMS, "from_ms is after to_ms")
        return royalties.report(self.view, from_ms, to_ms, mineral)

    async def compliance_flags(self, params: dict[str, Any]) -> dict[str, Any]:
        if ("lot_id" in params) == ("org_id" in params):
            raise RpcError(INVALID_PARAMS, "give exactly one of lot_id or org_id")
        if "lot_id" in params:
            lot_id = _text(params, "lot_id")
            return {"lot_id": lot_id, "flags": compliance.flags_of_lot(self.view, lot_id)}
        org_id = _text(params, "org_id")
        return {"org_id": org_id, "flags": compliance.flags_of_org(self.view, org_id)}

    async def units_balance(self, params: dict[str, Any]) -> dict[str, Any]:
        org_id = _text(params, "org_id")
        view = self.view
        if view.org(org_id) is None:
            raise RpcError(NOT_FOUND, f"account {org_id} is not a registered org")
        balances = units.balances_of(view, org_id)
        if "lot_id" in params:
            lot_id = _text(params, "lot_id")
            balances = {lot_id: balances.get(lot_id, 0)}
        lots = {lot_id: _lot_units(view, lot_id) for lot_id in balances}
        return {"org_id": org_id, "balances": balances, "lots": lots,
                **self._proven(view, list(lots), [org_id])}

    async def units_holders(self, params: dict[str, Any]) -> dict[str, Any]:
        lot_id = _text(params, "lot_id")
        view = self.view
        summary = _lot_units(view, lot_id)
        if summary is None:
            raise RpcError(NOT_FOUND, f"lot {lot_id} has never been tokenized")
        return {"lot_id": lot_id, **summary,
                **self._proven(view, [lot_id], list(summary["holders"]))}

    def _proven(self, view: LedgerView, lot_ids: list[str],
                accounts: list[str]) -> dict[str, Any]:
        """The events behind the answer, each with its proofs, and their blocks."""
        refs = {(h, i) for lot_id in lot_ids for h, i, _ in units.unit_events(view, lot_id)}
        for org_id in accounts:
            admitted = units.kyc(view, org_id)
            if admitted is not None:
                refs.add((admitted["height"], admitted["index"]))
        cache = BlockCache(self.node.ledger.store)
        events = [cache.event(h, i) for h, i in sorted(refs)]
        return {"events": events,
                "blocks": {str(h): cache.block_summary(h) for h in cache.heights()}}


def _lot_units(view: LedgerView, lot_id: str) -> dict[str, Any] | None:
    record = units.units_record(view, lot_id)
    if record is None:
        return None
    lot = view.lot(lot_id)
    return {"element": record["element"], "supply": record["supply"],
            "holders": record["holders"], "tokenized_height": record["tokenized_height"],
            "frozen": bool(lot and lot.hold)}
