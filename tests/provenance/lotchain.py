"""A chain in memory for rule and query tests: devnet genesis, real Ed25519 keys, real
apply_block, one MemoryKV. No mocks: the same code path a node runs, minus disk and
consensus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from node.crypto import PrivateKey, devnet_key
from node.provenance import query
from node.state import apply_block, approve, init_state
from node.store.kv import MemoryKV, Overlay
from node.types import Tx, TxResult
from node.types.genesis import Genesis

DEVNET = Path(__file__).resolve().parents[2] / "genesis" / "devnet.json"
ADMINS = ("admin-1", "regulator-1", "auditor-1")   # the devnet admin keys' orgs


def devnet_genesis() -> Genesis:
    return Genesis.from_json(json.loads(DEVNET.read_text()))


def org_key(org: str) -> PrivateKey:
    return devnet_key(f"orechain-devnet:{org}")


class Chain:
    def __init__(self, genesis: Genesis | None = None) -> None:
        self.genesis = genesis or devnet_genesis()
        self.kv = MemoryKV()
        view = Overlay(self.kv)
        init_state(view, self.genesis)
        view.apply_to(self.kv)
        self.height = 0
        self.txs: dict[bytes, tuple[int, int, Tx]] = {}
        self._nonce = 0

    def tx(self, signer: str | PrivateKey, kind: str, body: dict[str, Any], *,
           chain_id: str | None = None) -> Tx:
        key = org_key(signer) if isinstance(signer, str) else signer
        self._nonce += 1
        unsigned = Tx(chain_id or self.genesis.chain_id, kind, body, key.public_key,
                      self._nonce)
        return unsigned.signed(key)

    def gov(self, kind: str, body: dict[str, Any], approvers: tuple[str, ...] = ADMINS[:2],
            signer: str = "admin-1") -> Tx:
        approvals = [approve(org_key(a), self.genesis.chain_id, kind, body) for a in approvers]
        return self.tx(signer, kind, {**body, "approvals": approvals})

    def block(self, *txs: Tx) -> list[TxResult]:
        self.height += 1
        view = Overlay(self.kv)
        results = apply_block(view, self.genesis, self.height, self.time_ms, list(txs))
        view.apply_to(self.kv)
        for index, tx in enumerate(txs):
            self.txs[tx.tx_id] = (self.height, index, tx)
        return results

    @property
    def time_ms(self) -> int:
        return self.genesis.genesis_time_ms + 1_000 * self.height

    def submit(self, signer: str | PrivateKey, kind: str, body: dict[str, Any]) -> TxResult:
        return self.block(self.tx(signer, kind, body))[0]

    def ok(self, signer: str | PrivateKey, kind: str, body: dict[str, Any]) -> None:
        result = self.submit(signer, kind, body)
        assert result.accepted, result.reason

    def rejected(self, signer: str | PrivateKey, kind: str, body: dict[str, Any]) -> str:
        result = self.submit(signer, kind, body)
        assert not result.accepted, f"{kind} was accepted"
        return result.reason

    def lot(self, lot_id: str) -> dict[str, Any]:
        state = query.lot_state(self.kv, lot_id)
        assert state is not None, f"no lot {lot_id}"
        return state

    def answer(self, lot_id: str, direction: str = "backward") -> dict[str, Any]:
        """The lot_provenance answer shape (without proofs, headers and commits)."""
        lots, events = query.provenance(self.kv, lot_id, direction)  # type: ignore[arg-type]
        return {
            "lot_id": lot_id, "direction": direction, "blocks": {},
            "lots": {lot: query.lot_state(self.kv, lot) for lot in lots},
            "events": [{"tx_id": tx_id.hex(), "tx": self.txs[tx_id][2].to_json(),
                        "height": height, "index": index, "proof": []}
                       for height, index, tx_id in events],
        }

    # --- a standard journey ---------------------------------------------------------

    def register(self, lot_id: str, mass_g: int = 1_000_000, mine: str = "mine-1",
                 site: str = "mine-1-pit-a", mineral: str = "copper") -> None:
        self.ok(mine, "register_lot", {"lot_id": lot_id, "mineral": mineral, "form": "ore",
                                       "mass_g": mass_g, "site_id": site,
                                       "extracted_at_ms": self.genesis.genesis_time_ms})

    def move(self, lot_id: str, frm: str, to: str, site: str, mass_g: int,
             received_g: int | None = None) -> None:
        self.ok(frm, "dispatch", {"lot_id": lot_id, "to_org": to, "mass_g": mass_g})
        self.ok(to, "receive", {"lot_id": lot_id, "site_id": site,
                                "mass_g": mass_g if received_g is None else received_g})

    def to_refinery(self, lot_id: str, mass_g: int = 1_000_000,
                    composition: dict[str, int] | None = None, **register: Any) -> None:
        """Register, assay and bring a lot to refinery-1's site."""
        self.register(lot_id, mass_g, **register)
        self.ok("lab-1", "assay", {"lot_id": lot_id,
                                   "composition": composition or {"Cu": 250_000}})
        self.move(lot_id, register.get("mine", "mine-1"), "refinery-1", "refinery-1-qasim",
                  mass_g)
