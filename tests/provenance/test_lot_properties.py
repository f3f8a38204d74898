"""Property: whatever sequence of events arrives, no lot is consumed twice and split and
merge never create or destroy mass."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from node.provenance import query
from tests.provenance.lotsteps import MAX_MASS_G, REFS, Run, inputs_of

# How steps name lots: tests/provenance/lotsteps.py; random_step there draws the same.
ref = st.integers(0, REFS - 1)
new = st.one_of(st.just(None), st.just(None), ref)
mass = st.integers(1, MAX_MASS_G)

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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=5, max_size=40))
def test_no_double_consumption_and_split_merge_conserve_mass(steps: list[tuple[Any, ...]]) -> None:
    run = Run()
    consumed: set[str] = set()
    for step in [("register_lot", 1_000), ("register_lot", 700), *steps]:
        for signer, kind, body in run.txs(step):
            before = {lot_id: query.lot_state(run.chain.kv, lot_id) for lot_id in run.lots}
            result, made = run.submit(signer, kind, body)
            if not result.accepted:
                continue
            event(f"accepted {kind}")   # --hypothesis-show-statistics: what was exercised
            inputs = inputs_of(kind, body)
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
