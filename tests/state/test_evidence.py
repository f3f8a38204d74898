"""Equivocation evidence: reported by a registry node, proven by the offender's two
signatures, recorded once, and refused when it proves nothing."""

from __future__ import annotations

import pytest

from node import codec
from node.crypto import PrivateKey, devnet_key
from node.provenance.ledger import LedgerView
from node.state import AdmissionError, apply_block, check_admission, init_state
from node.state.evidence import evidence_against
from node.store.kv import MemoryKV, Overlay
from node.types import PRECOMMIT, PREVOTE, Tx, Vote
from node.types.vote import vote_sign_bytes
from tests.provenance.lotchain import devnet_genesis

CHAIN = "orechain-devnet-1"
OFFENDER = devnet_key("orechain-devnet-node:validator-3")
REPORTER = devnet_key("orechain-devnet-node:mine-1-node")


def vote(key: PrivateKey, block_hash: bytes, *, height: int = 4, round_: int = 1,
         type_: int = PREVOTE) -> str:
    sig = key.sign(vote_sign_bytes(CHAIN, type_, height, round_, block_hash))
    v = Vote(CHAIN, type_, height, round_, block_hash, key.public_key, sig)
    return codec.encode(v.to_wire()).hex()


def report(first: str, second: str, reporter: PrivateKey = REPORTER, nonce: int = 1) -> Tx:
    return Tx(CHAIN, "report_equivocation", {"first": first, "second": second},
              reporter.public_key, nonce).signed(reporter)


def apply(view: Overlay, *txs: Tx, height: int = 10):
    return apply_block(view, devnet_genesis(), height, 1_795_200_000_000, txs)


@pytest.fixture
def view() -> Overlay:
    v = Overlay(MemoryKV())
    init_state(v, devnet_genesis())
    return v


def test_conflicting_votes_are_recorded_once(view):
    tx = report(vote(OFFENDER, b"\x01" * 32), vote(OFFENDER, b"\x02" * 32))
    check_admission(view, devnet_genesis(), tx)
    again = report(vote(OFFENDER, b"\x01" * 32), vote(OFFENDER, b"\x02" * 32), nonce=2)
    first, second = apply(view, tx, again)
    assert first.accepted, first.reason
    assert not second.accepted and "already on record" in second.reason
    (record,) = evidence_against(LedgerView(view), OFFENDER.public_key)
    assert record["reported_height"] == 10
    nil_vs_block = report(vote(OFFENDER, b"", type_=PRECOMMIT),
                          vote(OFFENDER, b"\x03" * 32, type_=PRECOMMIT), nonce=3)
    assert apply(view, nil_vs_block, height=11)[0].accepted


@pytest.mark.parametrize("first, second, words", [
    (vote(OFFENDER, b"\x01" * 32), vote(OFFENDER, b"\x01" * 32), "same block"),
    (vote(OFFENDER, b"\x01" * 32), vote(OFFENDER, b"\x02" * 32, round_=2), "do not conflict"),
    (vote(OFFENDER, b"\x01" * 32, height=50), vote(OFFENDER, b"\x02" * 32, height=50),
     "after this block"),
    (vote(REPORTER, b"\x01" * 32), vote(REPORTER, b"\x02" * 32), "was not a validator"),
])
def test_evidence_that_proves_nothing_is_rejected(view, first, second, words):
    (result,) = apply(view, report(first, second))
    assert not result.accepted and words in result.reason


def test_forged_signature_is_rejected(view):
    good = bytes.fromhex(vote(OFFENDER, b"\x02" * 32))
    fields = codec.decode(good)
    fields[-1] = bytes(64)
    (result,) = apply(view, report(vote(OFFENDER, b"\x01" * 32), codec.encode(fields).hex()))
    assert not result.accepted and "signature" in result.reason


def test_only_registry_nodes_may_report(view):
    outsider = PrivateKey(b"\x07" * 32)
    tx = report(vote(OFFENDER, b"\x01" * 32), vote(OFFENDER, b"\x02" * 32), reporter=outsider)
    with pytest.raises(AdmissionError, match="node of the registry"):
        check_admission(view, devnet_genesis(), tx)
    (result,) = apply(view, tx)
    assert not result.accepted and "node of the registry" in result.reason
