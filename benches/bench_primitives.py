"""Per-event primitives: canonical codec of a tx, Ed25519 sign and verify, sealing and
opening a p2p frame, and the synced LevelDB commit of a 1,000-tx block.

    python -m pytest benches/bench_primitives.py -p no:cacheprovider

The batch verify figure (per 1,000 signatures, as nodes check them) gives the
machine's Ed25519 ceiling that docs/performance.md divides the network's throughput by.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benches.workload import EventStream, commit_for, validator_key
from node import codec
from node.crypto import verify, verify_many
from node.daemon.ledger import Ledger
from node.p2p import frame
from node.types import Tx


def _tx() -> Tx:
    return EventStream("prim", 0).next_pair()[0]


def test_codec_encode_tx(benchmark: BenchmarkFixture) -> None:
    tx = _tx()
    fields = [*tx.unsigned_fields(), tx.signature]
    assert benchmark(codec.encode, fields) == tx.encoded


def test_codec_decode_tx(benchmark: BenchmarkFixture) -> None:
    """Tx.decode: msgpack, the canonical re-encode check, and the field checks."""
    tx = _tx()
    assert benchmark(Tx.decode, tx.encoded).tx_id == tx.tx_id


def test_ed25519_sign(benchmark: BenchmarkFixture) -> None:
    key = validator_key()
    message = _tx().signing_bytes
    assert len(benchmark(key.sign, message)) == 64


def test_ed25519_verify(benchmark: BenchmarkFixture) -> None:
    tx = _tx()
    assert benchmark(verify, tx.signer, tx.signing_bytes, tx.signature)


def test_ed25519_verify_batch_of_1000(benchmark: BenchmarkFixture) -> None:
    """node.crypto.verify_many: the loop in C, without the GIL (node._ed25519)."""
    txs = list(EventStream("batch", 0).events(1000))
    items = [(tx.signer, tx.signing_bytes, tx.signature) for tx in txs]
    assert all(benchmark(verify_many, items))


# The native cipher where node._aead is built.
FRAME_CIPHERS = {name: cipher for name, cipher in (("native", frame.native_cipher()),
                                                   ("pynacl", frame.PYNACL)) if cipher}


@pytest.mark.parametrize("cipher", FRAME_CIPHERS)
def test_frame_seal_and_open_one_tx(benchmark: BenchmarkFixture, cipher: str) -> None:
    """A frame carrying one tx sealed and opened: from node._aead, and through PyNaCl's
    binding (the per-call cost of a small frame is mostly the binding's)."""
    chosen, key, plaintext = FRAME_CIPHERS[cipher], bytes(32), _tx().encoded

    def round_trip() -> bytes | None:
        sealed = chosen.seal(key, 7, plaintext)
        return chosen.open(key, 7, sealed[:4], sealed[4:])

    assert benchmark(round_trip) == plaintext


def test_store_commit_1000_tx_block(benchmark: BenchmarkFixture, ledger: Ledger,
                                    stream: EventStream) -> None:
    """The synced write batch of a block: block, commit, results, indexes, state, head."""
    key = validator_key()

    def next_block():  # type: ignore[no-untyped-def]
        executed = ledger.build_block(ledger.head_time_ms + 1000, key.public_key,
                                      list(stream.events(1000)))
        return (executed, commit_for(ledger, executed, key)), {}

    def commit(executed, certificate) -> None:  # type: ignore[no-untyped-def]
        ledger.store.commit_block(executed.block, certificate, executed.results,
                                  executed.state)

    benchmark.pedantic(commit, setup=next_block, rounds=5)
    assert ledger.height == 5
