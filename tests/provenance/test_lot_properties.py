"""Property: whatever sequence of events arrives, no lot is consumed twice and split and
merge never create or destroy mass."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from node.provenance import query
from node.provenance.schema import lots_named
from tests.provenance.lotchain import Chain

# Lots are named by reference, resolved when the step runs: an integer picks one of the
# lots that exist by then (consumed ones included, so double spends are attempted),
# and a new id is usually fresh but sometimes an existing one (id reuse is attempted).
ref = st.integers(0, 31)
new = st.one_of(st.just(None), st.just(None), ref)
mass = st.integers(1, 2_000)

op = st.one_of(
    st.tuples(st.just("register_lot"), mass),
    # Split masses are cut from the lot's current mass, off by `error` grams (mostly 0).
    st.tuples(st.just("split"), ref, st.lists(new, min_size=2, max_size=3),
              st.sampled_from([0, 0, 0, 1, -1])),
    st.tuples(st.just("merge"), st.lists(ref, min_size=2, max_size=3), new),
    st.tuples(st.just("transform"), st.lists(ref, min_size=1, max_size=2),
              st.lists(st.tuples(new, mass, st.integers(1, 400_000)), min_size=1, max_size=2)),
    st.tuples(st.just("move"), ref),
    st.tuples(st.just("hold"), ref),
    st.tuples(st.just("release"), ref),
)


class Run:
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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=5, max_size=40))
def test_no_double_consumption_and_split_merge_conserve_mass(steps: list[tuple[Any, ...]]) -> None:
    run = Run()
    consumed: set[str] = set()
    for step in [("register_lot", 1_000), ("register_lot", 700), *steps]:
        for signer, kind, body in run.txs(step):
            before = {lot_id: query.lot_state(run.chain.kv, lot_id) for lot_id in run.lots}
            result = run.chain.submit(signer, kind, body)
            if not result.accepted:
                continue
            event(f"accepted {kind}")   # --hypothesis-show-statistics: what was exercised
            inputs = {"split": [body.get("lot_id")], "merge": body.get("lot_ids", []),
                      "transform": body.get("inputs", [])}.get(kind, [])
            made = [i for i in lots_named(kind, body) if i not in inputs and i not in before]
            run.lots.extend(made)
            after = {lot_id: query.lot_state(run.chain.kv, lot_id) for lot_id in run.lots}
            for lot_id in inputs:
                assert lot_id not in consumed, f"{lot_id} consumed twice"
                assert before[lot_id] is not None and before[lot_id]["status"] == "active"
                consumed.add(lot_id)
            if kind in ("split", "merge"):
                assert sum(after[i]["mass_g"] for i in made) == sum(
                    before[i]["mass_g"] for i in inputs)
            for lot_id in consumed:
                assert after[lot_id] is not None and after[lot_id]["status"] == "consumed"
