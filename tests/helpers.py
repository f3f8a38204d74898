"""Shared test helpers: devnet keys, genesis variants, and real node processes."""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from node.cli.client import RpcClient
from node.cli.events import signed_event
from node.crypto import PrivateKey, devnet_key, write_key_file
from node.daemon.config import default_genesis_text
from node.types import Tx

REPO = Path(__file__).resolve().parent.parent


def native_module(name: str) -> ModuleType:
    """The compiled module node.`name`. Its tests skip where it is not built, and fail
    instead under ORECHAIN_REQUIRE_NATIVE=1, which .ci/run sets."""
    try:
        return importlib.import_module(f"node.{name}")
    except ImportError as exc:
        reason = f"node.{name} is not built ({exc}); run: pip install -e ."
        if os.environ.get("ORECHAIN_REQUIRE_NATIVE") == "1":
            pytest.fail(f"ORECHAIN_REQUIRE_NATIVE=1 but {reason}", pytrace=False)
        pytest.skip(reason)


def picks_native(probe: str, pure_python: str | None) -> bool:
    """Whether a fresh interpreter, with ORECHAIN_PURE_PYTHON set to `pure_python` (unset
    for None), prints True for `probe`: the import-time choice of a compiled module."""
    env = {k: v for k, v in os.environ.items() if k != "ORECHAIN_PURE_PYTHON"}
    if pure_python is not None:
        env["ORECHAIN_PURE_PYTHON"] = pure_python
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                            text=True, check=True)
    return result.stdout.strip() == "True"


def org_key(org_id: str) -> PrivateKey:
    return devnet_key("orechain-devnet:" + org_id)


def node_key(name: str) -> PrivateKey:
    return devnet_key("orechain-devnet-node:" + name)


def devnet_doc(validators: int = 4) -> dict[str, Any]:
    doc = json.loads(default_genesis_text())
    doc["validators"] = doc["validators"][:validators]
    return doc


def event(org: str, kind: str, body: dict[str, Any], nonce: int = 1,
          chain_id: str = "orechain-devnet-1") -> Tx:
    return signed_event(org_key(org), chain_id, kind, body, nonce)


def free_port() -> int:
    """A free port below the kernel's ephemeral range: a client connecting to a port in
    that range before its server listens can be given that very port as its own and
    connect to itself (reading its own request back as the reply)."""
    return free_port_base(1)


_PORTS_LOW, _PORTS_HIGH = 20_000, 30_000
_next_port = [0]        # where this process hands out ports next: never the same twice


def free_port_base(count: int = 80) -> int:
    """A base port with `count` free ports above it, below the kernel's ephemeral range so
    outbound connections of concurrent tests cannot take them between check and use.
    Handed out in turn from a random start, so one process never gets a port twice (a
    port checked free stays free only until the node given it binds it)."""
    import random

    if not _next_port[0]:
        _next_port[0] = random.randrange(_PORTS_LOW, _PORTS_HIGH, 2)
    for _ in range(200):
        base = _next_port[0]
        if base + count > _PORTS_HIGH:
            base = _PORTS_LOW
        _next_port[0] = base + count + count % 2
        try:
            for port in range(base, base + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no block of free ports found")


class NodeProcess:
    """A real `orechain run` process on loopback ports."""

    def __init__(self, home: Path, genesis_file: Path, key_name: str,
                 peers: list[str] | None = None, rpc_port: int | None = None,
                 p2p_port: int | None = None) -> None:
        self.home = home
        self.rpc_port = rpc_port or free_port()
        self.p2p_port = p2p_port or free_port()
        key_file = home / "node.key"
        if not key_file.exists():
            write_key_file(key_file, node_key(key_name))
        self.argv = [sys.executable, "-m", "node", "run", "--home", str(home),
                     "--genesis", str(genesis_file), "--rpc-port", str(self.rpc_port),
                     "--p2p-port", str(self.p2p_port), "--moniker", key_name]
        for peer in peers or []:
            self.argv += ["--peer", peer]
        self.proc: subprocess.Popen[bytes] | None = None
        self.rpc = RpcClient(f"http://127.0.0.1:{self.rpc_port}/rpc", timeout=10)

    @property
    def p2p(self) -> str:
        return f"127.0.0.1:{self.p2p_port}"

    def start(self, wait: bool = True) -> NodeProcess:
        log = open(self.home / "node.log", "ab")  # noqa: SIM115 - the process owns it
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=log, cwd=REPO,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"node exited with {self.proc.returncode}:\n{self.log()}")
            try:
                self.rpc.call("chain_head")
                return
            except ConnectionError:
                time.sleep(0.1)
        raise TimeoutError(f"node did not answer within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        path = self.home / "node.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> int:
        return terminate(self.proc, grace=15) if self.proc is not None else 0


@contextmanager
def running(*nodes: NodeProcess) -> Iterator[tuple[NodeProcess, ...]]:
    try:
        for n in nodes:
            n.start(wait=False)
        for n in nodes:
            n.wait_ready()
        yield nodes
    finally:
        for n in nodes:
            n.stop()


def terminate(proc: subprocess.Popen[bytes], grace: float) -> int:
    """SIGTERM, then SIGKILL if the process has not exited after `grace` seconds; its
    exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


def wait_final(rpc: RpcClient, tx_id: str, timeout: float = 20,
               poll: float = 0.05) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = rpc.call("tx_get", tx_id=tx_id)
        if result["status"] != "pending":
            return result
        time.sleep(poll)
    raise TimeoutError(f"tx {tx_id} still pending after {timeout}s")


def apt_install(package: str, binary: str) -> str:
    """Path of `binary`, installing the Debian `package` first if it is missing (tests run
    as root on CI machines that start without it)."""
    import shutil

    found = shutil.which(binary)
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, capture_output=True, env=env, timeout=600)
    subprocess.run(["apt-get", "install", "-y", package], check=True, capture_output=True,
                   env=env, timeout=600)
    found = shutil.which(binary)
    if not found:
        raise RuntimeError(f"installing {package} did not provide {binary}")
    return found
