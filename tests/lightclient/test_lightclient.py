"""The light client against a real chain (LevelDB, the daemon's Ledger, real Ed25519):
backward, forward and both answers verify by replay from genesis across a validator-set
change; stale validator sets, missing events and edited answers are refused by name."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node.daemon.ledger import Ledger
from node.lightclient import VerificationError, verify_provenance
from node.merkle import inclusion_proof
from node.rpc.proofs import AuditTree
from node.state.schedule import validator_set_at
from node.types.genesis import Genesis
from tests.lightclient.builder import LocalChain, StaleLedger, node_key
from tests.lightclient.tamper import default_stride, flip_all, sample_positions
from tests.provenance.lotchain import devnet_genesis

A, B, M, C = "PK-CU-2026-0101", "PK-CU-2026-0102", "PK-CU-2026-0103", "PK-CU-2026-0104-C"
VALIDATORS = [f"validator-{i}" for i in range(1, 6)]
NEW_SET = [{"name": name, "org_id": "admin-1" if name == "validator-5" else "regulator-1",
            "node_key": node_key(name).public_key.hex(), "power": 10}
           for name in ("validator-1", "validator-2", "validator-3", "validator-5")]


def register(lot_id: str, mass_g: int) -> dict[str, Any]:
    return {"lot_id": lot_id, "mineral": "copper", "form": "ore", "mass_g": mass_g,
            "site_id": "mine-1-pit-a", "extracted_at_ms": 1_795_000_000_000}


def build(path: Path, genesis: Genesis, ledger: type[Ledger] | None = None) -> LocalChain:
    """A-->M<--B merged at the mine, a validator change, then M refined into C."""
    kwargs = {"ledger": ledger} if ledger else {}
    chain = LocalChain(path, genesis, [node_key(n) for n in VALIDATORS], **kwargs)
    chain.ok(chain.tx("mine-1", "register_lot", register(A, 4_000_000)),
             chain.tx("mine-1", "register_lot", register(B, 6_000_000)))
    chain.ok(chain.tx("lab-1", "assay", {"lot_id": A, "composition": {"Cu": 8_000}}),
             chain.tx("lab-1", "assay", {"lot_id": B, "composition": {"Cu": 5_000}}))
    chain.ok(chain.tx("mine-1", "merge", {"lot_ids": [A, B], "new_lot_id": M}))
    chain.ok(chain.gov("gov_set_validators", {"validators": NEW_SET}))
    chain.ok(chain.tx("mine-1", "dispatch", {"lot_id": M, "to_org": "refinery-1",
                                             "mass_g": 10_000_000}))
    chain.ok(chain.tx("refinery-1", "receive", {"lot_id": M, "site_id": "refinery-1-qasim",
                                                "mass_g": 10_000_000}))
    chain.ok(chain.tx("refinery-1", "transform", {
        "site_id": "refinery-1-qasim", "inputs": [M],
        "outputs": [{"lot_id": C, "mineral": "copper", "form": "concentrate",
                     "mass_g": 250_000, "composition": {"Cu": 240_000}}]}))
    return chain


@pytest.fixture(scope="module")
def genesis() -> Genesis:
    return devnet_genesis()


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, genesis: Genesis) -> Iterator[LocalChain]:
    chain = build(tmp_path_factory.mktemp("lc") / "db", genesis)
    yield chain
    chain.close()


def without_event(answer: dict[str, Any], kind: str) -> dict[str, Any]:
    """The answer with its (first) `kind` event, and that event's block if no other
    event needs it, left out: what a node hiding an event would send."""
    out = copy.deepcopy(answer)
    gone = next(e for e in out["events"] if e["tx"]["kind"] == kind)
    out["events"].remove(gone)
    if all(e["height"] != gone["height"] for e in out["events"]):
        del out["blocks"][str(gone["height"])]
    return out


def test_audit_tree_paths_are_rfc6962_inclusion_proofs() -> None:
    for size in [*range(1, 40), 64, 65, 100, 257]:
        leaves = [i.to_bytes(4, "big") for i in range(size)]
        tree = AuditTree(leaves)
        assert [json.loads(tree.path_json(i)) for i in range(size)] == \
            [[p.hex() for p in inclusion_proof(leaves, i)] for i in range(size)], size


def test_validator_set_follows_governance_after_the_delay(chain: LocalChain,
                                                          genesis: Genesis) -> None:
    store = chain.ledger.store
    gov_height = 4                                   # the fourth block carries the change
    delay = genesis.params["validator_change_delay"]
    assert validator_set_at(store, genesis, gov_height + delay - 1) == genesis.validators
    new = validator_set_at(store, genesis, gov_height + delay)
    assert [v.node_key.hex() for v in new.validators] == [v["node_key"] for v in NEW_SET]
    assert validator_set_at(store, genesis, 10**9) == new


def test_backward_answer_verifies_across_the_validator_change(chain: LocalChain,
                                                              genesis: Genesis) -> None:
    answer = json.loads(json.dumps(chain.answer(C, "backward")))
    assert set(answer["lots"]) == {A, B, M, C}
    assert [e["tx"]["kind"] for e in answer["events"]].count("gov_set_validators") == 1
    report = verify_provenance(answer, genesis)
    assert (report.events, report.blocks, report.lots) == (9, 7, 4)
    assert report.governance == 1 and report.validator_sets == 2


@pytest.mark.parametrize("direction, lots", [("forward", {A, M, C}),
                                              ("both", {A, M, C})])
def test_forward_answers_carry_co_parents_and_replay_fully(chain: LocalChain, genesis: Genesis,
                                                           direction: str,
                                                           lots: set[str]) -> None:
    answer = json.loads(json.dumps(chain.answer(A, direction)))
    assert set(answer["lots"]) == lots
    bodies = [e["tx"]["body"] for e in answer["events"]]
    assert {"lot_id": B, "composition": {"Cu": 5_000}} in bodies   # the co-parent's assay
    assert verify_provenance(answer, genesis).lots == len(lots)


def test_blocks_signed_by_a_superseded_set_are_refused(tmp_path: Path,
                                                       genesis: Genesis) -> None:
    # A chain whose validators ignored the scheduled change: every block from the
    # effective height on is signed by, and names, the genesis set.
    stale = build(tmp_path / "stale", genesis, ledger=StaleLedger)
    try:
        answer = json.loads(json.dumps(stale.answer(C)))
    finally:
        stale.close()
    with pytest.raises(VerificationError, match="validator set other than the one in force"):
        verify_provenance(answer, genesis)


@pytest.mark.parametrize("kind, reason", [
    ("gov_set_validators", "validator set other than the one in force"),
    ("dispatch", "replayed from genesis, the lot rules refuse it: .*not in transit"),
    ("assay", "lot rules refuse it: transform creates .* of Cu not present in inputs"),
])
def test_hidden_events_are_caught(chain: LocalChain, genesis: Genesis, kind: str,
                                  reason: str) -> None:
    answer = without_event(json.loads(json.dumps(chain.answer(C))), kind)
    with pytest.raises(VerificationError, match=reason):
        verify_provenance(answer, genesis)


def test_answer_for_another_lot_or_direction_is_refused(chain: LocalChain,
                                                        genesis: Genesis) -> None:
    answer = json.loads(json.dumps(chain.answer(C)))
    with pytest.raises(VerificationError, match="lots differ from the replay"):
        verify_provenance({**answer, "lot_id": M}, genesis)
    with pytest.raises(VerificationError, match="lots differ from the replay"):
        verify_provenance({**answer, "direction": "forward"}, genesis)
    with pytest.raises(VerificationError, match="not one of"):
        verify_provenance({**answer, "direction": "sideways"}, genesis)
    with pytest.raises(VerificationError, match="unknown fields"):
        verify_provenance({**answer, "note": "trust me"}, genesis)


def test_flipping_any_byte_of_an_answer_makes_it_fail(chain: LocalChain,
                                                      genesis: Genesis) -> None:
    text = json.dumps(chain.answer(C, "both"), indent=1)
    positions = sample_positions(text, default_stride())
    outcome = flip_all(text, genesis, positions)
    assert outcome.tried == len(positions) > len(text) // 5
    assert outcome.verified == [], [text[p - 40:p + 40] for p in outcome.verified[:5]]
    assert outcome.identical == []       # XOR 0x01 never yields the same JSON value
    assert len(outcome.reasons) > 10     # refused for many different reasons
