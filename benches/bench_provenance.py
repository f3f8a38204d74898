"""Provenance at scale: a refined copper lot with over 10,000 ancestor events.

2,500 ore lots are registered, assayed, dispatched to the refinery and received there
(4 events each), merged 50 at a time and then all together, and refined: 10,052 events
in 23 blocks of at most 500 txs, built through the daemon's Ledger over LevelDB with a
single-validator genesis and real Ed25519 signatures, once per session. Measured:

- answer: the lot_provenance RPC method's work down to the reply's JSON text (graph
  walk, governance index, every tx and result inclusion proof, headers, commits; 19 MB
  of JSON), target under 100 ms; measured warm (final blocks' events already written
  as JSON and lot records decoded by an earlier answer, as on a node that is serving)
  and cold (both dropped before every round);
- verify: reading the saved answer and verifying it offline (every signature, proof
  and commit, and the replay of every event from genesis), target under 2 s.

    python -m pytest benches/bench_provenance.py -p no:cacheprovider

Numbers and their reading are in docs/verification.md.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from node import codec
from node.daemon.ledger import Ledger
from node.lightclient import verify_provenance
from node.provenance.ledger import forget_decoded
from node.rpc.jsontext import reply_body
from node.rpc.methods import RpcApi
from node.rpc.proofs import forget_prepared
from node.store import keys
from node.types.genesis import Genesis
from tests.helpers import devnet_doc
from tests.lightclient.builder import LocalChain, node_key

ORE_LOTS = 2_500
GROUP = 50
BLOCK_TXS = 500
REFINED = "PK-CU-2026-9999-K"
SITE = "refinery-1-qasim"


def ore(i: int) -> str:
    return f"PK-CU-2026-{i:05d}"


def _commit_in_blocks(chain: LocalChain, txs: list[Any]) -> None:
    for start in range(0, len(txs), BLOCK_TXS):
        chain.ok(*txs[start:start + BLOCK_TXS])


def build(chain: LocalChain) -> None:
    mass = 1_000_000
    steps = [
        lambda i: ("mine-1", "register_lot", {
            "lot_id": ore(i), "mineral": "copper", "form": "ore", "mass_g": mass,
            "site_id": "mine-1-pit-a", "extracted_at_ms": 1_795_000_000_000 + i}),
        lambda i: ("lab-1", "assay", {"lot_id": ore(i), "composition": {"Cu": 8_000}}),
        lambda i: ("mine-1", "dispatch", {"lot_id": ore(i), "to_org": "refinery-1",
                                          "mass_g": mass, "carrier_org": "transporter-1"}),
        lambda i: ("refinery-1", "receive", {"lot_id": ore(i), "site_id": SITE,
                                             "mass_g": mass}),
    ]
    for step in steps:
        _commit_in_blocks(chain, [chain.tx(*step(i)) for i in range(ORE_LOTS)])
    groups = [f"PK-CU-2026-M{g:03d}" for g in range(ORE_LOTS // GROUP)]
    _commit_in_blocks(chain, [
        chain.tx("refinery-1", "merge", {"lot_ids": [ore(i) for i in range(g * GROUP,
                                                                            (g + 1) * GROUP)],
                                         "new_lot_id": lot})
        for g, lot in enumerate(groups)])
    chain.ok(chain.tx("refinery-1", "merge", {"lot_ids": groups,
                                              "new_lot_id": "PK-CU-2026-9999-M"}))
    chain.ok(chain.tx("refinery-1", "transform", {
        "site_id": SITE, "inputs": ["PK-CU-2026-9999-M"],
        "outputs": [{"lot_id": REFINED, "mineral": "copper", "form": "cathode",
                     "mass_g": 19_000_000, "composition": {"Cu": 999_900}}]}))


class _LedgerOnly:
    """What lot_provenance reads of a running node: its ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger


@pytest.fixture(scope="session")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalChain]:
    genesis = Genesis.from_json(devnet_doc(validators=1))
    chain = LocalChain(tmp_path_factory.mktemp("provenance") / "db", genesis,
                       [node_key("validator-1")])
    build(chain)
    yield chain
    chain.close()


def _answer_benchmark(benchmark: BenchmarkFixture, chain: LocalChain, cold: bool) -> None:
    api = RpcApi(_LedgerOnly(chain.ledger), {})  # type: ignore[arg-type]
    loop = asyncio.new_event_loop()
    params = {"lot_id": REFINED, "direction": "backward"}

    def forget() -> None:
        forget_prepared()
        forget_decoded()

    def reply() -> bytes:
        result = loop.run_until_complete(api.lot_provenance(params))
        return reply_body({"jsonrpc": "2.0", "id": 1, "result": result})

    try:
        text = benchmark.pedantic(reply, setup=forget if cold else None, rounds=10,
                                  warmup_rounds=0 if cold else 1)
    finally:
        loop.close()
    answer = json.loads(text)["result"]
    assert len(answer["events"]) > 10_000
    assert len(answer["lots"]) == ORE_LOTS + ORE_LOTS // GROUP + 2
    assert answer == chain.answer(REFINED)          # a warm answer is the cold one


def test_answer_assembly(benchmark: BenchmarkFixture, chain: LocalChain) -> None:
    _answer_benchmark(benchmark, chain, cold=False)


def test_answer_assembly_cold(benchmark: BenchmarkFixture, chain: LocalChain) -> None:
    _answer_benchmark(benchmark, chain, cold=True)


def test_lot_records_are_canonical(chain: LocalChain) -> None:
    """Lots are encoded without the generic encoder; every stored one must still be
    the canonical encoding (codec.decode refuses anything else)."""
    records = list(chain.ledger.store.iter_prefix(keys.lot_key("")[:-1]))
    assert len(records) == ORE_LOTS + ORE_LOTS // GROUP + 2
    for _, raw in records:
        codec.decode(raw)


def test_offline_verification(benchmark: BenchmarkFixture, chain: LocalChain) -> None:
    text = json.dumps(chain.answer(REFINED))
    report = benchmark.pedantic(lambda: verify_provenance(json.loads(text), chain.genesis),
                                rounds=3, warmup_rounds=0)
    assert report.events > 10_000 and report.lots == ORE_LOTS + ORE_LOTS // GROUP + 2
