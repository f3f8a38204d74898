"""Pacing of heights by the genesis: block_interval_ms spaces a node's own height starts
(so events that arrive meanwhile share a block), heartbeat_ms makes an idle chain
advance with empty blocks, and with no heartbeat an idle chain makes none."""

import json
import time
from itertools import pairwise
from pathlib import Path

import pytest

from node.daemon.pacing import Pacing
from tests.chaos.solo import lot_event
from tests.helpers import NodeProcess, devnet_doc, wait_final


def test_work_waits_for_the_interval_and_no_longer() -> None:
    pacing = Pacing(interval_s=0.2, heartbeat_s=0)
    assert pacing.next_start(now=10.05, last_start=10.0, has_work=True) == pytest.approx(10.2)
    assert pacing.next_start(now=10.5, last_start=10.0, has_work=True) == 10.5


def test_an_idle_chain_waits_for_work_unless_a_heartbeat_is_set() -> None:
    assert Pacing(0.2, 0).next_start(now=99.0, last_start=10.0, has_work=False) is None
    beating = Pacing(interval_s=0.2, heartbeat_s=5.0)
    assert beating.next_start(now=11.0, last_start=10.0, has_work=False) == 15.0
    assert beating.next_start(now=16.0, last_start=10.0, has_work=False) == 16.0
    assert Pacing.from_params({"block_interval_ms": 250, "heartbeat_ms": 0}) == Pacing(0.25, 0)


def _solo(home: Path, **params: int) -> NodeProcess:
    doc = devnet_doc(validators=1)
    doc["params"].update(params)
    home.mkdir(parents=True)
    (home / "genesis.json").write_text(json.dumps(doc))
    return NodeProcess(home / "validator-1", home / "genesis.json", "validator-1")


def _blocks(node: NodeProcess) -> list[dict]:
    head = node.rpc.call("chain_head")["height"]
    return [node.rpc.call("block_get", height=h) for h in range(1, head + 1)]


@pytest.mark.network
def test_events_arriving_within_the_interval_share_blocks(tmp_path: Path) -> None:
    node = _solo(tmp_path / "paced", block_interval_ms=500).start()
    try:
        tx_ids = []
        for i in range(12):                        # one event every 80 ms, about a second
            tx_ids.append(node.rpc.call("lot_submitEvent", event=lot_event("PACE", i))["tx_id"])
            time.sleep(0.08)
        assert all(wait_final(node.rpc, t)["status"] == "final" for t in tx_ids)
        blocks = _blocks(node)
    finally:
        node.stop()
    times = [b["header"]["time_ms"] for b in blocks]
    assert sum(len(b["tx_ids"]) for b in blocks) == 12
    assert len(blocks) <= 4, [len(b["tx_ids"]) for b in blocks]
    assert min(later - earlier for earlier, later in pairwise(times)) >= 480, times


@pytest.mark.network
def test_a_heartbeat_makes_empty_blocks_and_without_one_an_idle_chain_makes_none(
        tmp_path: Path) -> None:
    beating = _solo(tmp_path / "beating", heartbeat_ms=300).start()
    quiet = _solo(tmp_path / "quiet").start()
    try:
        deadline = time.monotonic() + 10
        while beating.rpc.call("chain_head")["height"] < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        blocks = _blocks(beating)
        quiet_height = quiet.rpc.call("chain_head")["height"]
    finally:
        beating.stop()
        quiet.stop()
    assert len(blocks) >= 3 and all(b["tx_ids"] == [] for b in blocks)
    times = [b["header"]["time_ms"] for b in blocks]
    assert min(later - earlier for earlier, later in pairwise(times)) >= 280, times
    assert quiet_height == 0
