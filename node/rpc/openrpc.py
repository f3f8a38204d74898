"""The OpenRPC 1.2 description of the node's API, served by rpc.discover."""

from __future__ import annotations

from typing import Any

from node import __version__
from node.rpc.errors import APPLICATION_ERRORS

_HEX32 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_OBJ = {"type": "object"}
_EVENT = {
    "type": "object",
    "required": ["chain_id", "kind", "body", "signer", "nonce"],
    "properties": {
        "chain_id": {"type": "string"},
        "kind": {"type": "string"},
        "body": {"type": "object", "description": "event fields; integers for quantities"},
        "signer": _HEX32,
        "nonce": {"type": "integer"},
        "signature": {"type": "string", "pattern": "^[0-9a-f]{128}$"},
    },
}

# name -> (summary, params [(name, schema, required)], result schema)
_METHODS: dict[str, tuple[str, list[tuple[str, dict[str, Any], bool]], dict[str, Any]]] = {
    "lot_submitEvent": ("Submit a signed lot event; durable once the call returns. "
                        "Idempotent: resubmitting returns the same tx_id and status.",
                        [("event", _EVENT, True)], _OBJ),
    "lot_prepareEvent": ("Canonical bytes to sign for an unsigned event.",
                         [("event", _EVENT, True)], _OBJ),
    "tx_get": ("A tx with its status (pending, final, rejected + reason), height, index "
               "and inclusion proofs.", [("tx_id", _HEX32, True)], _OBJ),
    "lot_get": ("Current state of a lot.", [("lot_id", {"type": "string"}, True)], _OBJ),
    "lot_history": ("The lot's own events in chain order, with proofs.",
                    [("lot_id", {"type": "string"}, True)], _OBJ),
    "lot_provenance": ("The provenance graph of a lot with every event's tx, inclusion "
                       "proof, block header and commit certificate.",
                       [("lot_id", {"type": "string"}, True),
                        ("direction", {"enum": ["backward", "forward", "both"]}, False)], _OBJ),
    "chain_head": ("Height, hash and time of the latest final block.", [], _OBJ),
    "chain_genesis": ("The genesis document this node runs.", [], _OBJ),
    "block_get": ("A block's header, tx ids and commit certificate, by height or hash.",
                  [("height", {"type": "integer", "minimum": 1}, False),
                   ("hash", _HEX32, False)], _OBJ),
    "node_status": ("Node id, role, height, peers (with bytes sent and received), bytes sent "
                    "to and received from peers, sync state, mempool size, signatures verified "
                    "and answered from the cache, version.", [],
                    _OBJ),
    "royalty_report": ("Royalty shares of exports over a block-time period, per currency and "
                       "beneficiary, each with the export tx ids behind it.",
                       [("from_ms", {"type": "integer", "minimum": 0}, False),
                        ("to_ms", {"type": "integer", "minimum": 0}, False),
                        ("mineral", {"enum": ["antimony", "copper", "rare_earth"]}, False)],
                       _OBJ),
    "compliance_flags": ("Compliance-watch flags on a lot or charged to an org (give one).",
                         [("lot_id", {"type": "string"}, False),
                          ("org_id", {"type": "string"}, False)], _OBJ),
    "units_balance": ("Units an account holds, with every unit event and KYC attestation "
                      "behind them and their proofs.",
                      [("org_id", {"type": "string"}, True),
                       ("lot_id", {"type": "string"}, False)], _OBJ),
    "units_holders": ("Supply and holders of a lot's units, with every unit event and its "
                      "proofs.", [("lot_id", {"type": "string"}, True)], _OBJ),
    "rpc.discover": ("This document.", [], _OBJ),
}


def openrpc_document() -> dict[str, Any]:
    errors = [{"code": code, "message": text} for code, text in APPLICATION_ERRORS.items()]
    return {
        "openrpc": "1.2.6",
        "info": {"title": "orechain node JSON-RPC", "version": __version__},
        "servers": [{"name": "node", "url": "http://127.0.0.1:26657/rpc"}],
        "methods": [
            {
                "name": name,
                "summary": summary,
                "paramStructure": "by-name",
                "params": [{"name": p, "schema": s, "required": r} for p, s, r in params],
                "result": {"name": "result", "schema": result},
                "errors": errors,
            }
            for name, (summary, params, result) in _METHODS.items()
        ],
    }
