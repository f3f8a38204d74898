"""JSON-RPC submission against a real single-validator daemon on loopback: one event per
HTTP call, and batches of 100 lot_submitEvent calls in one POST.

    python -m pytest benches/bench_rpc.py -p no:cacheprovider

Each round sends events never seen before (a resubmission would be the cheap
idempotent path); the timings include signature verification, admission, the synced
mempool write and the TX gossip the node does for every accepted event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benches.load_client import Connections
from benches.workload import EventStream
from tests.helpers import NodeProcess, devnet_doc

BATCH = 100


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    home = Path(tmp_path_factory.mktemp("rpc"))
    genesis = home / "genesis.json"
    genesis.write_text(json.dumps(devnet_doc(validators=1)))
    proc = NodeProcess(home / "validator-1", genesis, "validator-1")
    proc.start()
    yield proc
    proc.stop()


def _bodies(tag: str, size: int, count: int) -> Iterator[bytes]:
    """HTTP bodies of `count` calls: a single call for size 1, else batches of `size`."""
    stream = EventStream(tag, 0)
    for _ in range(count):
        txs = [stream.next_pair()[0]] if size == 1 else list(stream.events(size))
        calls = [{"jsonrpc": "2.0", "id": i, "method": "lot_submitEvent",
                  "params": {"event": tx.to_json()}} for i, tx in enumerate(txs)]
        yield json.dumps(calls if size > 1 else calls[0]).encode()


@pytest.mark.parametrize("size", [1, BATCH])
def test_submit(benchmark: BenchmarkFixture, node: NodeProcess, size: int) -> None:
    rounds = 200 if size == 1 else 20
    bodies = _bodies(f"RPC{size}", size, rounds + 1)
    conns = Connections([f"http://127.0.0.1:{node.rpc_port}/rpc"])

    def send() -> None:
        reply = conns.post(0, next(bodies))
        replies = reply if isinstance(reply, list) else [reply]
        assert all("result" in r for r in replies), replies[0]

    benchmark.pedantic(send, rounds=rounds)
    benchmark.extra_info["events_per_call"] = size
