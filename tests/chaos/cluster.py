"""A devnet of real `orechain run` processes whose p2p links all go through proxies.

Homes, keys and the genesis come from node.cli.devnet.plan_devnet; each node's argv
is the planned one with fresh loopback ports and every `--peer` pointing at the
proxy for that link. Restarting a node reuses exactly the same argv, so it comes
back on its own data as an operator's service manager would restart it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from node.cli.client import RpcClient
from node.cli.devnet import plan_devnet
from tests.chaos.proxy import ProxyMesh
from tests.helpers import REPO, free_port_base, terminate


class ChaosNode:
    """One node process the nemesis may kill, restart, pause and resume."""

    def __init__(self, entry: dict[str, Any], argv: list[str], rpc_port: int) -> None:
        self.name: str = entry["name"]
        self.role: str = entry["role"]
        self.home = Path(entry["home"])
        self.argv = argv
        self.rpc = RpcClient(f"http://127.0.0.1:{rpc_port}/rpc", timeout=5)
        self.proc: subprocess.Popen[bytes] | None = None
        self.paused = False
        self.starts = 0

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        log = open(self.home / "node.log", "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=log, cwd=REPO,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        log.close()
        self.paused = False
        self.starts += 1

    def signal(self, sig: signal.Signals) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut."""
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.paused = False

    def pause(self) -> None:
        self.signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        self.signal(signal.SIGCONT)
        self.paused = False

    def stop(self) -> int | None:
        """SIGTERM (after SIGCONT, or a stopped process never sees it); the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
        return terminate(self.proc, grace=20)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n"
                                     f"{self.log_tail()}")
            try:
                self.rpc.call("chain_head")
                return
            except ConnectionError:
                time.sleep(0.2)
        raise AssertionError(f"{self.name} did not answer within {timeout}s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        path = self.home / "node.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


class Cluster:
    """Validators plus full nodes, fully meshed through a ProxyMesh."""

    def __init__(self, home: Path, rng: random.Random, full_nodes: int = 1) -> None:
        entries = plan_devnet(home, 20000, full_nodes)
        self.genesis_file = home / "genesis.json"
        # One block of distinct ports: ports picked one at a time can repeat.
        base = free_port_base(2 * len(entries))
        p2p_ports = [base + i for i in range(len(entries))]
        self.mesh = ProxyMesh(p2p_ports, rng)
        self.nodes: list[ChaosNode] = []
        for i, entry in enumerate(entries):
            rpc_port = base + len(entries) + i
            argv = _without_peers(entry["argv"])
            argv = _set_option(argv, "--rpc-port", str(rpc_port))
            argv = _set_option(argv, "--p2p-port", str(p2p_ports[i]))
            for j in range(len(entries)):
                if j != i:
                    argv += ["--peer", self.mesh.peer_address(i, j)]
            self.nodes.append(ChaosNode(entry, argv, rpc_port))

    @property
    def validators(self) -> list[ChaosNode]:
        return [n for n in self.nodes if n.role == "validator"]

    def start(self) -> None:
        for n in self.nodes:
            n.start()
        for n in self.nodes:
            n.wait_ready()

    def revive_all(self) -> None:
        """Every node running and unpaused: the state the checks need."""
        for n in self.nodes:
            if n.paused:
                n.resume()
            if not n.alive:
                n.start()
        for n in self.nodes:
            n.wait_ready()

    def close(self) -> dict[str, int | None]:
        """Stop every node cleanly; their exit codes (0 means a clean shutdown)."""
        codes = {n.name: n.stop() for n in self.nodes}
        self.mesh.close()
        return codes


def _without_peers(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--peer":
            skip = True
        else:
            out.append(arg)
    return out


def _set_option(argv: list[str], option: str, value: str) -> list[str]:
    i = argv.index(option)
    return [*argv[:i + 1], value, *argv[i + 2:]]
