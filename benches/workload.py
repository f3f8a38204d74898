"""The events every orechain bench feeds: mines registering lots and the lab assaying them.

One source for the benches, the load generator and the sync run, so their figures
describe the same work: half `register_lot` by the three devnet mines, half `assay`
by the devnet lab of a lot registered just before. Lot ids carry a run tag and a
stream number, so streams of different client processes and runs never collide.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from node.crypto import PrivateKey, devnet_key
from node.daemon.ledger import Executed, Ledger
from node.store import BlockStore
from node.types import PRECOMMIT, Commit, Tx
from node.types.genesis import Genesis
from node.types.vote import vote_sign_bytes
from tests.helpers import devnet_doc

CHAIN_ID = "orechain-devnet-1"
# (org, site, mineral) of each devnet mine; the lab's assay must name the mineral's element.
MINES = (("mine-1", "mine-1-pit-a", "copper", "Cu"),
         ("mine-2", "mine-2-adit-1", "antimony", "Sb"),
         ("mine-3", "mine-3-pit-1", "rare_earth", "Nd"))
EXTRACTED_AT_MS = 1_767_225_600_000  # 2026-01-01, before any devnet block time


def org_key(org_id: str) -> PrivateKey:
    """The well-known devnet key of an org (never for production)."""
    return devnet_key("orechain-devnet:" + org_id)


def validator_key(name: str = "validator-1") -> PrivateKey:
    """The well-known devnet node key of a validator."""
    return devnet_key("orechain-devnet-node:" + name)


class EventStream:
    """Signed register_lot / assay pairs for one client; `next_pair()` gives both txs."""

    def __init__(self, tag: str, stream: int) -> None:
        # Lot ids are upper-case letters, digits and . _ - (node.provenance.schema).
        self.tag = re.sub(r"[^A-Z0-9._-]", "-", tag.upper())
        self.stream = stream
        self.count = 0
        self._mine_keys = {org: org_key(org) for org, *_ in MINES}
        self._lab = org_key("lab-1")

    def next_pair(self) -> tuple[Tx, Tx]:
        i = self.count
        self.count += 1
        org, site, mineral, element = MINES[i % len(MINES)]
        lot_id = f"PK-{self.tag}-{self.stream}-{i}"
        register = _signed(self._mine_keys[org], "register_lot", {
            "lot_id": lot_id, "mineral": mineral, "form": "ore", "mass_g": 1_000_000 + i,
            "site_id": site, "extracted_at_ms": EXTRACTED_AT_MS + i}, i)
        assay = _signed(self._lab, "assay", {"lot_id": lot_id, "composition": {element: 6_200}},
                        i)
        return register, assay

    def events(self, n: int) -> Iterator[Tx]:
        """`n` events (n/2 pairs, register first), in the order a block must hold them."""
        for _ in range(n // 2):
            yield from self.next_pair()


def _signed(key: PrivateKey, kind: str, body: dict, nonce: int) -> Tx:
    return Tx(CHAIN_ID, kind, body, key.public_key, nonce).signed(key)


def single_validator_genesis(**params: int) -> Genesis:
    """The devnet genesis cut down to validator-1 (so one process can finalise blocks),
    with `params` overriding the network parameters (e.g. a larger max_block_txs)."""
    doc = devnet_doc(validators=1)
    doc["params"].update(params)
    return Genesis.from_json(doc)


def open_ledger(path: Path, genesis: Genesis) -> Ledger:
    return Ledger(BlockStore(path), genesis)


def commit_for(ledger: Ledger, executed: Executed, key: PrivateKey | None = None) -> Commit:
    """validator-1's precommit certificate for an executed block."""
    key = key or validator_key()
    block = executed.block
    sig = key.sign(vote_sign_bytes(ledger.chain_id, PRECOMMIT, block.height, 0, block.hash))
    return Commit(block.height, 0, block.hash, ((key.public_key, sig),))


def extend(ledger: Ledger, txs: list[Tx]) -> Executed:
    """Build, certify and commit one block of `txs` on a single-validator ledger."""
    key = validator_key()
    executed = ledger.build_block(ledger.head_time_ms + 1000, key.public_key, txs)
    ledger.commit(executed, commit_for(ledger, executed, key))
    return executed
