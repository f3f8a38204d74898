"""GET /metrics on a real daemon: valid exposition, and values that move as it makes blocks."""

import json
import urllib.request

import pytest

from node.cli.client import RpcCallError
from node.rpc.errors import NOT_FOUND
from tests.helpers import NodeProcess, devnet_doc, event, wait_final
from tests.metrics.exposition import Family, parse
from tests.test_e2e_single_node import JOURNEY

pytestmark = pytest.mark.network


def scrape(node: NodeProcess) -> dict[str, Family]:
    url = f"http://127.0.0.1:{node.rpc_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as reply:
        assert reply.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        return parse(reply.read().decode())


def test_metrics_follow_a_validator_making_blocks(tmp_path):
    genesis_file = tmp_path / "genesis.json"
    genesis_file.write_text(json.dumps(devnet_doc(validators=1)))
    node = NodeProcess(tmp_path / "validator-1", genesis_file, "validator-1").start()
    try:
        before = scrape(node)
        for nonce, (org, kind, body) in enumerate(JOURNEY[:3], start=1):
            reply = node.rpc.call("lot_submitEvent", event=event(org, kind, body, nonce).to_json())
            assert wait_final(node.rpc, reply["tx_id"])["status"] == "final"
        with pytest.raises(RpcCallError, match="not on chain"):
            node.rpc.call("lot_get", lot_id="PK-SB-2026-0404")
        after = scrape(node)
        height = node.rpc.call("chain_head")["height"]
    finally:
        node.stop()

    assert before["orechain_height"].value() == 0
    assert after["orechain_height"].value() == height == 3
    assert after["orechain_peers"].value() == 0
    assert after["orechain_mempool_txs"].value() == 0
    assert after["orechain_sync_heights_behind"].value() == 0
    assert after["orechain_blocks_final_total"].value() == 3
    assert after["orechain_txs_final_total"].value() == 3
    rounds = after["orechain_consensus_rounds_per_height"]
    assert rounds.value("orechain_consensus_rounds_per_height_count") == 3
    # A lone validator decides in round 1 unless the loaded machine makes it time out.
    assert rounds.value("orechain_consensus_rounds_per_height_sum") >= 3
    latency = after["orechain_finalisation_latency_seconds"]
    assert latency.value("orechain_finalisation_latency_seconds_count") == 3
    assert 0 < latency.value("orechain_finalisation_latency_seconds_sum") < 60
    rpc = after["orechain_rpc_duration_seconds"]
    assert rpc.value("orechain_rpc_duration_seconds_count", method="lot_submitEvent") == 3
    assert rpc.value("orechain_rpc_duration_seconds_count", method="tx_get") >= 3
    errors = after["orechain_rpc_errors_total"]
    assert errors.value(method="lot_get", code=str(NOT_FOUND)) == 1
    # The process's own figures: a running node holds tens of MiB and some CPU time.
    assert after["process_resident_memory_bytes"].value() > 20 << 20
    assert after["orechain_resident_memory_own_bytes"].value() > 10 << 20
    assert (after["process_cpu_seconds_total"].value()
            > before["process_cpu_seconds_total"].value() > 0)
    assert after["process_open_fds"].value() >= 5        # sockets and LevelDB's files
