"""Fixtures of the explorer tests: Chromium (installed from Debian when missing) and a
real single-validator daemon that has recorded a copper lot's journey."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.explorer.browser import Chromium
from tests.helpers import NodeProcess, devnet_doc, event, wait_final
from tests.test_e2e_single_node import JOURNEY

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium_binary() -> str:
    """Debian's chromium; a fresh CI machine (as root) gets it from apt first."""
    if not Path(CHROMIUM).exists():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        # Another apt run on the machine holds the lock for a while; wait for it.
        lock = ["-o", "DPkg::Lock::Timeout=600"]
        subprocess.run(["apt-get", *lock, "update"], check=True, env=env)
        subprocess.run(["apt-get", *lock, "install", "-y",
                        "chromium", "chromium-driver"], check=True, env=env)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    profile = tmp_path_factory.mktemp("chromium") / "profile"
    profile.mkdir()
    chromium = Chromium(chromium_binary, profile).start()
    yield chromium
    chromium.stop()


@pytest.fixture(scope="module")
def journey_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NodeProcess,
                                                                           list[str]]]:
    """A validator that has finalised the README's journey; with its tx ids in order."""
    home = tmp_path_factory.mktemp("explorer-node")
    genesis_file = home / "genesis.json"
    genesis_file.write_text(json.dumps(devnet_doc(validators=1)))
    node = NodeProcess(home / "validator-1", genesis_file, "validator-1").start()
    tx_ids = []
    try:
        for nonce, (org, kind, body) in enumerate(JOURNEY, start=1):
            reply = node.rpc.call("lot_submitEvent", event=event(org, kind, body, nonce).to_json())
            assert wait_final(node.rpc, reply["tx_id"])["status"] == "final"
            tx_ids.append(reply["tx_id"])
        yield node, tx_ids
    finally:
        node.stop()
