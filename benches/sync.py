"""Sync run: a fresh full node catching up a chain of many events from one peer.

    python -m benches.sync --events 200000

Builds the chain fast in this process: a single-validator genesis (devnet's, cut down
to validator-1), blocks of `--block` events built, certified by validator-1's key and
committed straight into the home of that validator. Then starts the validator as a
real node serving the chain, starts a fresh full node (mine-1-node) with the same
genesis and the validator as its only peer, and times how long the full node takes
to reach the head: every block fetched in batches over the encrypted link, its commit
certificate verified (the > 2/3 of power behind it verified every tx signature, so a
certified block's tx signatures are not checked again), every rule re-run, every block
committed. Reports events/s from the fresh node's start (process start, handshake and
all), events/s from the first block it reported (the streaming rate), and the full
node's CPU and memory (the resident set, and the process's own part of it: see
benches.procstat).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benches.devnet_procs import NodeProc, bench_parser, emit_report, free_base_port
from benches.procstat import sample
from benches.workload import EventStream, extend, open_ledger, single_validator_genesis
from node.crypto import devnet_key, write_key_file
from node.types.genesis import Genesis


def build_chain(chain_dir: Path, genesis_doc: dict[str, Any], events: int,
                block: int) -> float:
    """Commit `events` events in blocks of `block`; return the seconds it took."""
    ledger = open_ledger(chain_dir, Genesis.from_json(genesis_doc))
    stream = EventStream("SYNC", ledger.height)   # a resumed chain gets fresh lot ids
    start = time.monotonic()
    try:
        while ledger.height * block < events:
            executed = extend(ledger, list(stream.events(block)))
            rejected = [r.reason for r in executed.results if not r.accepted]
            if rejected:
                raise RuntimeError(f"the sync chain must be all accepted: {rejected[0]}")
    finally:
        ledger.store.close()
    return time.monotonic() - start


def _node(home: Path, name: str, genesis: Path, rpc_port: int, p2p_port: int,
          peers: list[str]) -> NodeProc:
    key_file = home / "node.key"
    if not key_file.exists():
        write_key_file(key_file, devnet_key("orechain-devnet-node:" + name))
    argv = [sys.executable, "-m", "node", "run", "--home", str(home), "--genesis", str(genesis),
            "--node-key", str(key_file), "--rpc-port", str(rpc_port),
            "--p2p-port", str(p2p_port), "--moniker", name]
    for peer in peers:
        argv += ["--peer", peer]
    return NodeProc(name, "validator" if name.startswith("validator") else "full",
                    f"http://127.0.0.1:{rpc_port}/rpc", argv, home)


def run(args: argparse.Namespace) -> dict[str, Any]:
    home = Path(args.home or tempfile.mkdtemp(prefix="orechain-sync-"))
    genesis = single_validator_genesis()
    doc = genesis.document
    genesis_file = home / "genesis.json"
    home.mkdir(parents=True, exist_ok=True)
    genesis_file.write_text(json.dumps(doc))
    server_home = home / "validator-1"
    server_home.mkdir(parents=True, exist_ok=True)
    # Resumes a chain an earlier run left in --home; the ports are picked only now,
    # after the long build, so that they are still free when the nodes bind them.
    build_s = build_chain(server_home / "data" / "chain", doc, args.events, args.block)
    base = free_base_port(2)
    server = _node(server_home, "validator-1", genesis_file, base + 57, base + 56, [])
    server.start()
    try:
        server.wait_ready()
    except (RuntimeError, TimeoutError):
        server.stop()
        raise
    head = server.rpc.call("chain_head")["height"]
    shutil.rmtree(home / "mine-1-node", ignore_errors=True)  # fresh on every run
    (home / "mine-1-node").mkdir(parents=True)
    fresh = _node(home / "mine-1-node", "mine-1-node", genesis_file, base + 59, base + 58,
                  [f"127.0.0.1:{base + 56}"])

    try:
        started = time.monotonic()
        fresh.start()
        fresh.wait_ready()
        ready_s = time.monotonic() - started
        peak_rss = peak_anon = 0
        first: tuple[float, int] | None = None     # (when, height) of the first block seen
        while (height := fresh.rpc.call("chain_head")["height"]) < head:
            if time.monotonic() - started > args.timeout:
                raise TimeoutError(f"the fresh node reached {height} of {head} in "
                                   f"{args.timeout} s")
            if first is None and height > 0:
                first = (time.monotonic(), height)
            now = sample(fresh.proc.pid)
            peak_rss, peak_anon = max(peak_rss, now.rss_kib), max(peak_anon, now.anon_kib)
            time.sleep(0.2)
        took = time.monotonic() - started
        first = first or (started, 0)
        streaming_s = max(time.monotonic() - first[0], 1e-9)
        final = sample(fresh.proc.pid)
    finally:
        fresh.stop()
        server.stop()
    events = head * args.block
    return {
        "events": events,
        "blocks": head,
        "events_per_block": args.block,
        "chain_build_s": round(build_s, 1),
        "catch_up_s": round(took, 1),
        "sync_events_per_s": round(events / took, 1),
        "fresh_node_ready_s": round(ready_s, 1),
        # From the first block the fresh node reported on: start-up, the handshake and
        # the first batch's round trip left out.
        "sync_events_per_s_streaming": round((head - first[1]) * args.block / streaming_s, 1),
        "fresh_node_cpu_s": round(final.cpu_seconds, 1),
        "fresh_node_events_per_cpu_s": round(events / final.cpu_seconds, 1),
        "fresh_node_peak_rss_mib": round(max(peak_rss, final.hwm_kib) / 1024, 1),
        "fresh_node_rss_mib": round(final.rss_kib / 1024, 1),
        # The resident set's own part (benches.procstat): LevelDB's mapped tables and
        # the libraries are the rest.
        "fresh_node_peak_anon_mib": round(max(peak_anon, final.anon_kib) / 1024, 1),
        "fresh_node_anon_mib": round(final.anon_kib / 1024, 1),
        "fresh_node_file_mib": round(final.file_kib / 1024, 1),
    }


def main(argv: list[str] | None = None) -> None:
    p = bench_parser("python -m benches.sync", __doc__)
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--block", type=int, default=5_000, help="events per block (<= max)")
    p.add_argument("--timeout", type=float, default=1800.0)
    args = p.parse_args(argv)
    emit_report(run(args), args.json)


if __name__ == "__main__":
    main()
