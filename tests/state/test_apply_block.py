"""init_state, check_admission and apply_block: genesis state, the admission gate,
per-tx isolation, the lot event index and determinism."""

from __future__ import annotations

import dataclasses

import pytest

from node.crypto import PrivateKey
from node.provenance.ledger import LedgerView
from node.state import AdmissionError, apply_block, check_admission, init_state
from node.store.kv import MemoryKV, Overlay
from node.types import Tx
from tests.provenance.lotchain import Chain, devnet_genesis, org_key

CU = "PK-CU-2026-0001"


def register(chain: Chain, lot_id: str = CU, mass_g: int = 1_000_000) -> Tx:
    return chain.tx("mine-1", "register_lot", {
        "lot_id": lot_id, "mineral": "copper", "form": "ore", "mass_g": mass_g,
        "site_id": "mine-1-pit-a", "extracted_at_ms": 1795132800000})


def test_init_state_writes_orgs_sites_keys_params_and_admin() -> None:
    genesis = devnet_genesis()
    view = Overlay(MemoryKV())
    init_state(view, genesis)
    ledger = LedgerView(view)
    assert ledger.org("refinery-1").roles == ("refinery",)
    assert ledger.site("mine-2-adit-1").minerals == ("antimony",)
    key = ledger.signer(org_key("lab-1").public_key)
    assert key is not None and (key.org, key.active) == ("lab-1", True)
    assert ledger.param("loss_tolerance_ppm") == 5_000
    assert ledger.admin().threshold == 2 and len(ledger.admin().keys) == 3


def test_admission_accepts_a_registered_key() -> None:
    chain = Chain()
    check_admission(chain.kv, chain.genesis, register(chain))


@pytest.mark.parametrize(("make", "reason"), [
    (lambda c: c.tx("mine-1", "register_lot", {}, chain_id="other-chain"),
     "tx is for chain 'other-chain', this network is 'orechain-devnet-1'"),
    (lambda c: c.tx("mine-1", "smelt", {}), "unknown event kind 'smelt'"),
    (lambda c: c.tx("mine-1", "flag", {"lot_id": CU}), "flag body: missing field(s): reason"),
    (lambda c: c.tx(PrivateKey(b"\x07" * 32), "flag", {"lot_id": CU, "reason": "x"}),
     "is not registered on this network"),
])
def test_admission_refusals(make, reason: str) -> None:  # type: ignore[no-untyped-def]
    chain = Chain()
    with pytest.raises(AdmissionError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        check_admission(chain.kv, chain.genesis, make(chain))


def test_admission_refuses_a_revoked_key() -> None:
    chain = Chain()
    key = org_key("mine-1").public_key.hex()
    chain.block(chain.gov("gov_revoke_key", {"key": key, "reason": "device stolen"}))
    with pytest.raises(AdmissionError, match="of mine-1 was revoked at height 1: device stolen"):
        check_admission(chain.kv, chain.genesis, register(chain))


def test_rejected_tx_leaves_no_state_and_keeps_its_place() -> None:
    chain = Chain()
    good, bad = register(chain), register(chain, mass_g=5)   # same id: second is rejected
    results = chain.block(good, bad)
    assert [r.accepted for r in results] == [True, False]
    assert [r.tx_id for r in results] == [good.tx_id, bad.tx_id]
    assert results[1].reason.startswith(f"lot id {CU} is already taken")
    assert chain.lot(CU)["mass_g"] == 1_000_000


def test_a_rule_failing_half_way_writes_nothing() -> None:
    chain = Chain()
    chain.block(register(chain), register(chain, "PK-CU-2026-0002"))
    # The second parent is not movable: the first parent must not stay consumed.
    chain.ok("mine-1", "dispatch", {"lot_id": "PK-CU-2026-0002", "to_org": "transporter-1",
                                    "mass_g": 1_000_000})
    reason = chain.rejected("mine-1", "merge", {"lot_ids": [CU, "PK-CU-2026-0002"],
                                                "new_lot_id": "PK-CU-M"})
    assert "is in transit to transporter-1" in reason
    assert chain.lot(CU)["status"] == "active"
    assert chain.lot(CU)["children"] == []


def test_event_index_lists_every_lot_an_event_touches() -> None:
    chain = Chain()
    chain.block(register(chain))
    split = chain.tx("mine-1", "split", {"lot_id": CU, "children": [
        {"lot_id": "PK-CU-A", "mass_g": 400_000}, {"lot_id": "PK-CU-B", "mass_g": 600_000}]})
    chain.block(chain.tx("auditor-1", "flag", {"lot_id": CU, "reason": "check"}), split)
    ledger = LedgerView(chain.kv)
    assert [(h, i) for h, i, _ in ledger.lot_events(CU)] == [(1, 0), (2, 0), (2, 1)]
    assert ledger.lot_events("PK-CU-A") == [(2, 1, split.tx_id)]
    assert ledger.lot_events("PK-CU-B") == [(2, 1, split.tx_id)]


def test_apply_block_is_deterministic() -> None:
    source = Chain()
    txs = [register(source), register(source, "PK-CU-2026-0002"),
           source.tx("lab-1", "assay", {"lot_id": CU, "composition": {"Cu": 250_000}}),
           source.tx("mine-1", "dispatch", {"lot_id": CU, "to_org": "refinery-1",
                                            "mass_g": 1_000_000}),
           source.tx("refinery-1", "receive", {"lot_id": CU, "site_id": "refinery-1-qasim",
                                               "mass_g": 990_000}),
           source.tx("refinery-1", "transform", {"site_id": "refinery-1-qasim", "inputs": [CU],
                                                 "outputs": [{"lot_id": "PK-CU-C", "mineral":
                                                              "copper", "form": "cathode",
                                                              "mass_g": 240_000,
                                                              "composition": {"Cu": 999_000}}]}),
           register(source)]   # rejected: id taken

    def run() -> tuple[dict[bytes, bytes | None], list[object]]:
        genesis = devnet_genesis()
        kv = MemoryKV()
        init = Overlay(kv)
        init_state(init, genesis)
        init.apply_to(kv)
        view = Overlay(kv)
        results = apply_block(view, genesis, 1, genesis.genesis_time_ms + 1, txs)
        return dict(view.writes), [dataclasses.astuple(r) for r in results]

    first, second = run(), run()
    assert first == second
    assert [r[1] for r in first[1]] == [True] * 6 + [False]


def test_signature_is_not_admissions_job() -> None:
    """The caller verifies signatures (with its cache); a tx with a wrong signature is
    still judged by the rules, so callers must never skip verification."""
    chain = Chain()
    tx = register(chain)
    forged = dataclasses.replace(tx, signature=b"\x00" * 64)
    check_admission(chain.kv, chain.genesis, forged)
