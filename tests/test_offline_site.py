"""A mine-site full node cut off from the network: it accepts events while offline,
keeps them across a crash, catches up on the chain it missed, and forwards its events
when the validators are back."""

import subprocess
import time
from pathlib import Path

import pytest

from node.cli.client import RpcClient
from node.cli.devnet import plan_devnet
from tests.helpers import REPO, event, free_port_base, wait_final

pytestmark = pytest.mark.network


class Proc:
    def __init__(self, entry: dict) -> None:
        self.entry = entry
        self.rpc = RpcClient(entry["rpc_url"], timeout=10)
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Proc":
        log = open(Path(self.entry["home"]) / "node.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(self.entry["argv"], stdout=log, stderr=log, cwd=REPO)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.rpc.call("chain_head")
                return self
            except ConnectionError:
                assert self.proc.poll() is None, f"{self.entry['name']} exited"
                assert time.monotonic() < deadline, f"{self.entry['name']} did not start"
                time.sleep(0.1)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)


def register(i: int, nonce: int):
    return event("mine-1", "register_lot", {
        "lot_id": f"PK-CU-2026-{i:04d}", "mineral": "copper", "form": "ore",
        "mass_g": 2_000_000, "site_id": "mine-1-pit-a", "extracted_at_ms": 1_795_000_000_000,
    }, nonce=nonce)


def test_site_node_works_offline_survives_a_crash_and_catches_up(tmp_path):
    entries = plan_devnet(tmp_path, free_port_base(), full_nodes=1)
    validators = [Proc(e) for e in entries[:4]]
    site = Proc(entries[4])
    assert site.entry["name"] == "mine-1-node"
    try:
        site.start()  # no validator is running: the site is cut off
        offline = [register(i, i + 1) for i in range(5)]
        for tx in offline:
            assert site.rpc.call("lot_submitEvent", event=tx.to_json())["status"] == "pending"
        site.kill()  # power cut at the mine

        for v in validators:
            v.start()
        online = [register(100 + i, 100 + i) for i in range(5)]
        for tx in online:
            validators[0].rpc.call("lot_submitEvent", event=tx.to_json())
        for tx in online:
            assert wait_final(validators[0].rpc, tx.tx_id.hex(), 60)["status"] == "final"
        missed_height = validators[0].rpc.call("chain_head")["height"]

        site.start()  # the link is back
        for tx in offline:
            assert wait_final(site.rpc, tx.tx_id.hex(), 90)["status"] == "final"
            assert validators[2].rpc.call("tx_get", tx_id=tx.tx_id.hex())["status"] == "final"
        for tx in online:
            assert site.rpc.call("tx_get", tx_id=tx.tx_id.hex())["status"] == "final"
        deadline = time.monotonic() + 30
        while True:
            heads = {p.rpc.call("chain_head")["hash"] for p in [*validators, site]}
            if len(heads) == 1:
                break
            assert time.monotonic() < deadline, "site did not converge on the validators' head"
            time.sleep(0.2)
        assert site.rpc.call("chain_head")["height"] > missed_height
    finally:
        for p in [*validators, site]:
            p.stop()
