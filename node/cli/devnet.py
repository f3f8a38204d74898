"""`orechain devnet`: a local network of real node processes on loopback.

Writes HOME/genesis.json (the embedded devnet genesis), a home per node with its
well-known devnet node key, HOME/keys/<org>.key for every devnet org (so events can
be signed at once), and HOME/devnet.json describing every node: name, role, rpc_url,
p2p address, pid, key file, and the argv that starts that node again on its own data.
Runs until SIGINT/SIGTERM, then stops every node cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from node.cli.client import RpcClient
from node.cli.errors import CliError
from node.crypto import devnet_key, write_key_file
from node.daemon.config import default_genesis_text
from node.types.genesis import Genesis


def plan_devnet(home: Path, base_port: int, full_nodes: int) -> list[dict[str, Any]]:
    """Create the homes, keys and genesis; return one entry per node (not yet started)."""
    home.mkdir(parents=True, exist_ok=True)
    genesis_path = home / "genesis.json"
    if not genesis_path.exists():
        genesis_path.write_text(default_genesis_text())
    genesis = Genesis.from_json(json.loads(genesis_path.read_text()))
    for org in genesis.orgs:
        key_path = home / "keys" / f"{org.id}.key"
        if not key_path.exists():
            write_key_file(key_path, devnet_key("orechain-devnet:" + org.id))

    validator_keys = {v.node_key for v in genesis.validators.validators}
    chosen = [n for n in genesis.nodes if n.node_key in validator_keys]
    chosen += [n for n in genesis.nodes if n.node_key not in validator_keys][:full_nodes]
    entries = []
    for i, entry in enumerate(chosen):
        node_home = home / entry.name
        key_file = node_home / "node.key"
        if not key_file.exists():
            write_key_file(key_file, devnet_key("orechain-devnet-node:" + entry.name))
        rpc_port, p2p_port = base_port + 2 * i + 57, base_port + 2 * i + 56
        entries.append({
            "name": entry.name,
            "org": entry.org,
            "role": "validator" if entry.node_key in validator_keys else "full",
            "home": str(node_home),
            "rpc_url": f"http://127.0.0.1:{rpc_port}/rpc",
            "p2p": f"127.0.0.1:{p2p_port}",
            "key_file": str(key_file),
            "node_key": entry.node_key.hex(),
            "rpc_port": rpc_port,
            "p2p_port": p2p_port,
        })
    for entry in entries:
        argv = [sys.executable, "-m", "node", "run", "--home", entry["home"],
                "--genesis", str(genesis_path), "--node-key", entry["key_file"],
                "--rpc-port", str(entry["rpc_port"]), "--p2p-port", str(entry["p2p_port"]),
                "--moniker", entry["name"]]
        for other in entries:
            if other is not entry:
                argv += ["--peer", other["p2p"]]
        if entry["role"] == "full":
            # Mine sites: their own events out, final blocks in; no one else's events
            # and no votes.
            argv += ["--no-tx-relay", "--no-consensus-relay"]
        entry["argv"] = argv
    return entries


def run_devnet(home: Path, base_port: int = 26600, full_nodes: int = 2) -> None:
    entries = plan_devnet(home, base_port, full_nodes)
    procs: list[subprocess.Popen[bytes]] = []
    stop = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for entry in entries:
            log = open(Path(entry["home"]) / "node.log", "ab")  # noqa: SIM115 - child owns it
            # A new session: Ctrl-C reaches the devnet, which then stops nodes in order.
            proc = subprocess.Popen(entry["argv"], stdout=log, stderr=log,
                                    start_new_session=True)
            procs.append(proc)
            entry["pid"] = proc.pid
        _write_manifest(home, entries)
        _wait_ready(entries, procs)
        print(f"devnet up: {len(entries)} nodes; manifest {home / 'devnet.json'}")
        for e in entries:
            print(f"  {e['name']:<14} {e['role']:<9} rpc {e['rpc_url']}  p2p {e['p2p']}")
        print(f"org keys for signing events: {home / 'keys'}/<org>.key; Ctrl-C stops the devnet")
        sys.stdout.flush()
        while not stop:
            for entry, proc in zip(entries, procs, strict=True):
                if proc.poll() is not None:
                    print(f"node {entry['name']} exited with {proc.returncode}; see "
                          f"{entry['home']}/node.log", file=sys.stderr)
                    stop = True
            time.sleep(0.2)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        print("devnet stopped")


def _write_manifest(home: Path, entries: list[dict[str, Any]]) -> None:
    keep = ("name", "org", "role", "rpc_url", "p2p", "pid", "key_file", "node_key", "home",
            "argv")
    doc = {"genesis": str(home / "genesis.json"), "keys_dir": str(home / "keys"),
           "nodes": [{k: e[k] for k in keep} for e in entries]}
    tmp = home / "devnet.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, home / "devnet.json")


def _wait_ready(entries: list[dict[str, Any]], procs: list[subprocess.Popen[bytes]],
                timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    for entry, proc in zip(entries, procs, strict=True):
        client = RpcClient(entry["rpc_url"], timeout=2)
        while True:
            if proc.poll() is not None:
                raise CliError(f"node {entry['name']} exited at start; see "
                                   f"{entry['home']}/node.log")
            try:
                client.call("chain_head")
                break
            except ConnectionError:
                if time.monotonic() > deadline:
                    raise CliError(f"node {entry['name']} did not start") from None
                time.sleep(0.1)
