"""Real node processes for the load and sync runs: start, wait until they answer, stop."""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from node.cli.client import RpcClient
from node.cli.devnet import plan_devnet
from tests.helpers import free_port_base, terminate

REPO = Path(__file__).resolve().parent.parent


@dataclass
class NodeProc:
    name: str
    role: str
    rpc_url: str
    argv: list[str]
    home: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def rpc(self) -> RpcClient:
        return RpcClient(self.rpc_url, timeout=30)

    def start(self) -> None:
        log = open(self.home / "node.log", "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=log, cwd=REPO)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.home}/node.log")
            try:
                self.rpc.call("chain_head")
                return
            except ConnectionError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.name} did not answer in {timeout}s") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc, grace=20)


def from_entry(entry: dict[str, Any]) -> NodeProc:
    return NodeProc(entry["name"], entry["role"], entry["rpc_url"], entry["argv"],
                    Path(entry["home"]))


def free_base_port(nodes: int) -> int:
    """A base port whose plan_devnet ports (base + 56 .. base + 57 + 2 * nodes) are free
    now, below the kernel's ephemeral range."""
    return free_port_base(58 + 2 * nodes)


def devnet(home: Path, full_nodes: int, base_port: int | None = None) -> list[NodeProc]:
    """The devnet's 4 validators and `full_nodes` full nodes, planned, not started."""
    base = base_port if base_port is not None else free_base_port(4 + full_nodes)
    return [from_entry(e) for e in plan_devnet(home, base, full_nodes)]


def start_all(nodes: list[NodeProc]) -> None:
    for n in nodes:
        n.start()
    for n in nodes:
        n.wait_ready()


def stop_all(nodes: list[NodeProc]) -> None:
    for n in nodes:
        n.stop()


def bench_parser(prog: str, doc: str | None,
                 home_help: str = "default: a new temporary directory") -> argparse.ArgumentParser:
    """The command line every end-to-end bench starts from (--home, --json); each adds
    its own options."""
    p = argparse.ArgumentParser(prog=prog, description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--home", help=home_help)
    p.add_argument("--json", help="also write the report to this file")
    return p


def emit_report(report: dict[str, Any], json_path: str | None) -> None:
    """Print a bench's report, and write it to `json_path` when given."""
    text = json.dumps(report, indent=2)
    print(text)
    if json_path:
        Path(json_path).write_text(text + "\n")
