"""Block validation and state apply of 1,000 and 10,000-event blocks; admission of 1,000.

    python -m pytest benches/bench_block.py -p no:cacheprovider

Ledger.validate_block is timed twice: with a cold signature cache (a node that never
saw the txs, as in sync: every signature is verified) and with a warm one (a validator
whose mempool already verified them at gossip receive: verify-once). Both re-run every
structural and state rule; the warm run asserts that no signature was verified again.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benches.workload import EventStream, validator_key
from node.crypto import VerifiedCache
from node.daemon.ledger import Ledger
from node.state import apply_block
from node.store import Overlay
from node.types import Block, Tx

SIZES = [1_000, 10_000]


def _proposal(ledger: Ledger, stream: EventStream, n: int) -> Block:
    """A block of `n` fresh events built on the head, as a proposer would send it."""
    executed = ledger.build_block(ledger.head_time_ms + 1000, validator_key().public_key,
                                  list(stream.events(n)))
    return executed.block


@pytest.mark.parametrize("n", SIZES)
def test_validate_block_cold_cache(benchmark: BenchmarkFixture, ledger: Ledger,
                                   stream: EventStream, n: int) -> None:
    block = _proposal(ledger, stream, n)

    def fresh_cache():  # type: ignore[no-untyped-def]
        ledger.signatures = VerifiedCache()
        return (block,), {}

    executed = benchmark.pedantic(ledger.validate_block, setup=fresh_cache, rounds=3)
    assert all(r.accepted for r in executed.results)


@pytest.mark.parametrize("n", SIZES)
def test_validate_block_warm_cache(benchmark: BenchmarkFixture, ledger: Ledger,
                                   stream: EventStream, n: int) -> None:
    block = _proposal(ledger, stream, n)
    for tx in block.txs:  # what gossip receive -> mempool admission did
        ledger.check_tx(tx)
    verified = ledger.signatures.verified
    executed = benchmark.pedantic(ledger.validate_block, args=(block,), rounds=3)
    assert ledger.signatures.verified == verified, "a tx signature was verified twice"
    assert all(r.accepted for r in executed.results)


@pytest.mark.parametrize("n", SIZES)
def test_decode_block(benchmark: BenchmarkFixture, ledger: Ledger, stream: EventStream,
                      n: int) -> None:
    """What a peer does with a proposal's bytes before it can validate them."""
    data = _proposal(ledger, stream, n).encoded
    assert len(benchmark.pedantic(Block.decode, args=(data,), rounds=3).txs) == n


@pytest.mark.parametrize("n", SIZES)
def test_state_apply(benchmark: BenchmarkFixture, ledger: Ledger, stream: EventStream,
                     n: int) -> None:
    """node.state.apply_block alone: every lot rule, into a fresh overlay each round."""
    txs = list(stream.events(n))
    genesis = ledger.genesis

    def run():  # type: ignore[no-untyped-def]
        return apply_block(Overlay(ledger.store), genesis, 1, ledger.head_time_ms + 1000, txs)

    results = benchmark.pedantic(run, rounds=3)
    assert all(r.accepted for r in results)


def test_admission_after_batch_check(benchmark: BenchmarkFixture, ledger: Ledger,
                                     stream: EventStream) -> None:
    """Ledger.check_tx of 1,000 fresh events whose signatures the batch check already
    verified, as a node admits a relayed batch: chain, cached signature, key, org and
    the body's shape (checked once per tx, so fresh events each round)."""
    batches: list[list[Tx]] = []

    def verified_batch():  # type: ignore[no-untyped-def]
        txs = list(stream.events(1_000))
        ledger.signatures.verify_many([(tx.signer, tx.signing_bytes, tx.signature)
                                       for tx in txs], [tx.tx_id for tx in txs])
        batches.append(txs)
        return (txs,), {}

    def admit(txs: list[Tx]) -> int:
        verified = ledger.signatures.verified
        for tx in txs:
            ledger.check_tx(tx)
        return ledger.signatures.verified - verified

    assert benchmark.pedantic(admit, setup=verified_batch, rounds=5) == 0
    assert len(batches) == 5
