"""Time: validators refuse fresh proposals too far from their own clock, and a node whose
own clock is wrong says so. The multi-process test runs one validator under libfaketime."""

import contextlib
import os
import signal
import subprocess
import time

import pytest

from node.cli.client import RpcClient
from node.cli.devnet import plan_devnet
from node.daemon.clock import ClockGuard
from tests.helpers import REPO, apt_install, event, free_port_base, wait_final

SKEW_S = 120


def test_guard_judges_fresh_proposals_only_and_estimates_skew():
    now = [1_000_000]
    guard = ClockGuard(10_000, lambda: now[0])
    assert guard.timely(-1, now[0] + 9_000, b"a", 3_000)
    assert not guard.timely(-1, now[0] + 11_000, b"b", 3_000)
    assert guard.timely(0, now[0] + 500_000, b"b", 3_000)  # a re-proposal is never refused
    assert guard.timely(-1, now[0] - 12_000, b"c", 3_000)  # late by less than drift + delay
    assert not guard.timely(-1, now[0] - 14_000, b"c", 3_000)
    assert not guard.own_clock_suspect()
    guard.timely(-1, now[0] - 60_000, b"a", 3_000)
    guard.timely(-1, now[0] - 61_000, b"b", 3_000)
    guard.timely(-1, now[0] - 59_000, b"c", 3_000)
    assert guard.skew_estimate_ms() == -60_000
    assert guard.own_clock_suspect()


@pytest.mark.network
def test_a_validator_with_a_wrong_clock_cannot_stall_the_chain_and_knows_it(tmp_path):
    faketime = apt_install("faketime", "faketime")
    entries = plan_devnet(tmp_path, free_port_base(), full_nodes=0)
    entries[3]["argv"] = [faketime, "-f", f"+{SKEW_S}s", *entries[3]["argv"]]
    procs = []
    try:
        for e in entries:
            log = open(f"{e['home']}/node.log", "ab")  # noqa: SIM115 - the process owns it
            # A session of its own: faketime runs the node as its child, and a SIGTERM to
            # the wrapper alone would leave the node running after the test.
            procs.append(subprocess.Popen(e["argv"], stdout=log, stderr=log, cwd=REPO,
                                          start_new_session=True))
        clients = [RpcClient(e["rpc_url"], timeout=10) for e in entries]
        deadline = time.monotonic() + 60
        for c in clients:
            while True:
                try:
                    c.call("chain_head")
                    break
                except ConnectionError:
                    assert time.monotonic() < deadline, "nodes did not start"
                    time.sleep(0.2)
        tx_ids = []
        for i in range(8):
            body = {"lot_id": f"PK-SB-2026-{i:04d}", "mineral": "antimony", "form": "ore",
                    "mass_g": 500_000, "site_id": "mine-2-adit-1",
                    "extracted_at_ms": 1_795_000_000_000}
            tx = event("mine-2", "register_lot", body, nonce=i + 1)
            tx_ids.append(clients[i % 3].call("lot_submitEvent", event=tx.to_json())["tx_id"])
            wait_final(clients[i % 3], tx_ids[-1], timeout=90)
        head = clients[0].call("chain_head")["height"]
        rounds = [clients[0].call("block_get", height=h)["commit"]["round"]
                  for h in range(1, head + 1)]
        skewed_key = entries[3]["node_key"]
        proposers = [clients[0].call("block_get", height=h)["header"]["proposer"]
                     for h in range(1, head + 1)]
        assert skewed_key not in proposers  # its proposals from the future were refused
        assert any(r > 0 for r in rounds)   # ...so those heights moved on to the next round
        skewed = clients[3].call("node_status")
        assert skewed["clock_suspect"] is True
        assert skewed["clock_skew_ms"] < -(SKEW_S - 10) * 1000
        assert clients[0].call("node_status")["clock_suspect"] is False
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(20)
            _kill_leftovers(p.pid)


def _kill_leftovers(group: int) -> None:
    """SIGKILL whatever is still in the process group `group` (a node that outlived the
    faketime wrapper)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
