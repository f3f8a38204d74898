"""Random lot histories on the devnet chain: the steps the property tests draw with
hypothesis, and seeded draws of the same steps for runs that must repeat exactly.

A step names lots by reference, resolved when it runs: an integer picks one of the
lots that exist by then (consumed ones included, so double spends are attempted), and
a new id is usually fresh but sometimes an existing one (id reuse is attempted).
"""

from __future__ import annotations

import random
from typing import Any

from node.provenance import query
from node.provenance.schema import lots_named
from node.types import TxResult
from tests.provenance.lotchain import Chain

KINDS = ("register_lot", "split", "merge", "transform", "move", "hold", "release")
REFS = 32                      # a reference picks one of the lots by number, modulo
MAX_MASS_G = 2_000


def inputs_of(kind: str, body: dict[str, Any]) -> list[str]:
    """The lots an accepted event of `kind` consumes."""
    return {"split": [body.get("lot_id")], "merge": body.get("lot_ids", []),
            "transform": body.get("inputs", [])}.get(kind, [])


class Run:
    """A devnet chain, the lots made on it so far, and the events each step becomes."""

    def __init__(self) -> None:
        self.chain = Chain()
        self.lots: list[str] = []
        self.counter = 0

    def pick(self, r: int) -> str:
        return self.lots[r % len(self.lots)] if self.lots else "PK-NONE"

    def fresh(self, r: int | None) -> str:
        if r is not None and self.lots:
            return self.pick(r)
        self.counter += 1
        return f"PK-N{self.counter}"

    def state(self, lot_id: str) -> dict[str, Any]:
        return query.lot_state(self.chain.kv, lot_id) or {"mass_g": 1, "holder": "mine-1"}

    def txs(self, step: tuple[Any, ...]) -> list[tuple[str, str, dict[str, Any]]]:
        kind = step[0]
        if kind == "register_lot":
            return [("mine-1", kind, {"lot_id": self.fresh(None), "mineral": "copper",
                                      "form": "ore", "mass_g": step[1],
                                      "site_id": "mine-1-pit-a", "extracted_at_ms": 0})]
        if kind == "split":
            parent = self.state(self.pick(step[1]))
            ids = list(dict.fromkeys(self.fresh(r) for r in step[2]))
            share = max(1, parent["mass_g"] // max(1, len(ids)))
            masses = [share] * (len(ids) - 1)
            masses.append(max(1, parent["mass_g"] - sum(masses) + step[3]))
            kids = [{"lot_id": i, "mass_g": m} for i, m in zip(ids, masses, strict=True)]
            return [(parent["holder"], kind, {"lot_id": self.pick(step[1]), "children": kids})]
        if kind == "merge":
            parents = list(dict.fromkeys(self.pick(r) for r in step[1]))
            return [(self.state(parents[0])["holder"], kind,
                     {"lot_ids": parents, "new_lot_id": self.fresh(step[2])})]
        if kind == "transform":
            outs = [{"lot_id": self.fresh(r), "mineral": "copper", "form": "cathode",
                     "mass_g": m, "composition": {"Cu": ppm}} for r, m, ppm in step[2]]
            outs = list({o["lot_id"]: o for o in outs}.values())
            inputs = list(dict.fromkeys(self.pick(r) for r in step[1]))
            return [("refinery-1", kind, {"site_id": "refinery-1-qasim", "inputs": inputs,
                                          "outputs": outs})]
        lot_id = self.pick(step[1])
        if kind == "move":
            lot = self.state(lot_id)
            return [(lot["holder"], "dispatch",
                     {"lot_id": lot_id, "to_org": "refinery-1", "mass_g": lot["mass_g"]}),
                    ("lab-1", "assay", {"lot_id": lot_id, "composition": {"Cu": 300_000}}),
                    ("refinery-1", "receive", {"lot_id": lot_id, "site_id": "refinery-1-qasim",
                                               "mass_g": lot["mass_g"]})]
        return [("regulator-1", kind, {"lot_id": lot_id, "reason": "property test"})]


    def submit(self, signer: str, kind: str, body: dict[str, Any]) -> tuple[TxResult,
                                                                         list[str]]:
        """Apply one event in a block of its own; its result and the lots it made, which
        later steps can then pick."""
        result = self.chain.submit(signer, kind, body)
        made: list[str] = []
        if result.accepted:
            inputs = inputs_of(kind, body)
            made = [i for i in lots_named(kind, body) if i not in inputs and i not in self.lots]
            self.lots.extend(made)
        return result, made


def random_step(rng: random.Random) -> tuple[Any, ...]:
    """One step, drawn as tests/provenance/test_lot_properties.py's `op` strategy."""
    def ref() -> int:
        return rng.randrange(REFS)

    def new() -> int | None:
        return rng.choice([None, None, ref()])

    def mass() -> int:
        return rng.randint(1, MAX_MASS_G)

    kind = rng.choice(KINDS)
    if kind == "register_lot":
        return (kind, mass())
    if kind == "split":
        return (kind, ref(), [new() for _ in range(rng.randint(2, 3))],
                rng.choice([0, 0, 0, 1, -1]))
    if kind == "merge":
        return (kind, [ref() for _ in range(rng.randint(2, 3))], new())
    if kind == "transform":
        return (kind, [ref() for _ in range(rng.randint(1, 2))],
                [(new(), mass(), rng.randint(1, 400_000)) for _ in range(rng.randint(1, 2))])
    return (kind, ref())
