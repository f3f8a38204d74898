"""End-to-end load run: a devnet of real processes driven by client processes.

    python -m benches.load --duration 60 --clients 4 --rate 2000 --batch 100

Starts the devnet genesis's 4 validators and 2 mine-site full nodes (plan_devnet, in a
temporary home), has `--clients` processes send signed register_lot / assay pairs as
JSON-RPC batches of lot_submitEvent to the nodes in turn at `--rate` events/s in
total, and watches validator-1's chain for the blocks that finalise them. Reports
sustained finalised events/s, submit -> final latency p50/p95/p99, each node's CPU
and memory over the window, and the throughput as a fraction of the machine's
Ed25519 verification ceiling for this topology: cores / (nodes x verify time).

With `--submit-max-pending N` every node refuses new events as busy while N wait in
its mempool; the clients send refused events again after a pause, and an event's
latency counts from its first send.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benches.devnet_procs import (
    NodeProc,
    bench_parser,
    devnet,
    emit_report,
    start_all,
    stop_all,
)
from benches.load_client import ClientPlan, Connections, run_client
from benches.procstat import ProcSample, sample
from benches.workload import EventStream
from node.crypto import verify_many
from node.daemon.config import NodeConfig
from node.rpc.server import MAX_BATCH

DRAIN_SECONDS = 30.0


class ChainWatcher(threading.Thread):
    """Records when each tx id is first seen in a final block of one node.

    Polls over one keep-alive connection: a connection per poll (50 a second) would
    cost the watched node several points of CPU that the other nodes do not spend."""

    def __init__(self, node: NodeProc, poll_s: float = 0.02) -> None:
        super().__init__(daemon=True, name="chain-watcher")
        self.conns = Connections([node.rpc_url])
        self.poll_s = poll_s
        self.final_at: dict[str, float] = {}
        self.blocks: list[tuple[int, float, int]] = []  # (height, seen at, tx count)
        self.height = self._call("chain_head")["height"]
        self._halt = threading.Event()

    def _call(self, method: str, **params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        reply = self.conns.post(0, json.dumps(body).encode())
        if not isinstance(reply, dict) or "result" not in reply:
            raise RuntimeError(f"{method} failed on the watched node: {reply}")
        return reply["result"]

    def run(self) -> None:
        while not self._halt.is_set():
            head = self._call("chain_head")["height"]
            while self.height < head:
                self.height += 1
                tx_ids = self._call("block_get", height=self.height)["tx_ids"]
                now = time.monotonic()
                self.blocks.append((self.height, now, len(tx_ids)))
                for tx_id in tx_ids:
                    self.final_at.setdefault(tx_id, now)
            time.sleep(self.poll_s)

    def stop(self) -> None:
        self._halt.set()
        self.join(10)


def verify_seconds(n: int = 3000) -> float:
    """CPU seconds of one Ed25519 verification of a devnet event on this machine, the
    way nodes check them (node.crypto.verify_many: batches, without the GIL)."""
    tx = EventStream("ceiling", 0).next_pair()[0]
    items = [(tx.signer, tx.signing_bytes, tx.signature)] * n
    start = time.process_time()
    if not all(verify_many(items)):
        raise RuntimeError("a devnet event's signature did not verify")
    return (time.process_time() - start) / n


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    home = Path(args.home or tempfile.mkdtemp(prefix="orechain-load-"))
    nodes = devnet(home, args.full_nodes, args.base_port)
    if args.submit_max_pending:
        for n in nodes:   # the first run adds the rest of the settings to this file
            NodeConfig(home=n.home, submit_max_pending=args.submit_max_pending).save()
    verify_before = verify_seconds()
    try:
        start_all(nodes)
        return _drive(args, home, nodes, verify_before)
    finally:
        stop_all(nodes)


def _drive(args: argparse.Namespace, home: Path, nodes: list[NodeProc],
           verify_before: float) -> dict[str, Any]:
    watcher = ChainWatcher(nodes[0])
    watcher.start()
    tag = f"L{random.randrange(36**4):04d}"
    prep = max(10.0, args.rate * args.duration * 250e-6 / max(1, args.clients))
    start_at = time.monotonic() + prep
    ctx = multiprocessing.get_context("spawn")
    plans = [ClientPlan(i, tag, [n.rpc_url for n in nodes], args.rate / args.clients,
                        args.batch, start_at, args.duration, str(home / f"client-{i}.json"))
             for i in range(args.clients)]
    clients = [ctx.Process(target=run_client, args=(p,)) for p in plans]
    for c in clients:
        c.start()
    while time.monotonic() < start_at:
        time.sleep(0.05)
    before = _snapshot(nodes)
    time.sleep(args.duration)
    after = _snapshot(nodes)
    end_at = start_at + args.duration
    for c in clients:
        c.join(args.duration + 120)
    clients_said = ClientsSaid.read([p.out_path for p in plans])
    drain_until = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < drain_until and any(t not in watcher.final_at
                                                 for t in clients_said.submitted):
        time.sleep(0.2)
    watcher.stop()
    settled = _snapshot(nodes)
    verify_after = verify_seconds()
    return _report(args, nodes, watcher, clients_said, (before, after, settled),
                   start_at, end_at, min(verify_before, verify_after))


@dataclass
class ClientsSaid:
    """The clients' reports merged: submit time of each acknowledged tx, errors, the
    batches sent again after a node said busy, and the furthest any fell behind."""

    submitted: dict[str, float]
    errors: Counter[str]
    busy_retries: int
    max_lag: float

    @classmethod
    def read(cls, paths: list[str]) -> ClientsSaid:
        merged = cls({}, Counter(), 0, 0.0)
        for path in paths:
            doc = json.loads(Path(path).read_text())
            merged.submitted.update(doc["submitted"])
            merged.max_lag = max(merged.max_lag, doc["max_lag_s"])
            merged.busy_retries += doc["busy_retries"]
            merged.errors.update(doc["errors"])
        return merged


Snapshot = dict[str, tuple[ProcSample, int, int]]


def _snapshot(nodes: list[NodeProc]) -> Snapshot:
    """Each node's CPU and memory, the bytes it has sent to peers, and the Ed25519
    checks it has run."""
    snapshot = {}
    for n in nodes:
        if n.proc:
            status = n.rpc.call("node_status")
            snapshot[n.name] = (sample(n.proc.pid), status["p2p_bytes"]["sent"],
                                status["signatures"]["verified"])
    return snapshot


def _report(args: argparse.Namespace, nodes: list[NodeProc], watcher: ChainWatcher,
            clients_said: ClientsSaid, snapshots: tuple[Snapshot, Snapshot, Snapshot],
            start_at: float, end_at: float, verify_s: float) -> dict[str, Any]:
    """`snapshots`: at the window's start and end, and once the drain is over."""
    before, after, settled = snapshots
    submitted = clients_said.submitted
    final_in_window = sum(1 for t in watcher.final_at.values() if start_at <= t <= end_at)
    latencies = [watcher.final_at[t] - s for t, s in submitted.items() if t in watcher.final_at]
    window_blocks = [b for b in watcher.blocks if start_at <= b[1] <= end_at]
    rate = final_in_window / args.duration
    cores = os.cpu_count() or 1
    ceiling = cores / (len(nodes) * verify_s)
    sampled = random.sample(sorted(submitted), min(200, len(submitted)))
    statuses: dict[str, int] = {}
    for tx_id in sampled:
        status = nodes[-1].rpc.call("tx_get", tx_id=tx_id)["status"]
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "machine": {"cores": cores, "cpu": _cpu_model()},
        "topology": {"validators": sum(n.role == "validator" for n in nodes),
                     "full_nodes": sum(n.role == "full" for n in nodes),
                     "clients": args.clients, "batch": args.batch,
                     "submit_max_pending": args.submit_max_pending},
        "offered_events_per_s": args.rate,
        "duration_s": args.duration,
        "acknowledged": len(submitted),
        "submit_errors": dict(clients_said.errors),
        "busy_retries": clients_said.busy_retries,
        "client_max_lag_s": round(clients_said.max_lag, 3),
        "finalised_in_window": final_in_window,
        "finalised_events_per_s": round(rate, 1),
        "never_final": sum(1 for t in submitted if t not in watcher.final_at),
        "latency_s": {"p50": round(percentile(latencies, 0.50), 3),
                      "p95": round(percentile(latencies, 0.95), 3),
                      "p99": round(percentile(latencies, 0.99), 3),
                      "max": round(max(latencies, default=float("nan")), 3)},
        "blocks_in_window": len(window_blocks),
        "mean_block_txs": round(sum(b[2] for b in window_blocks) / max(1, len(window_blocks)),
                                1),
        "sampled_status": statuses,
        "ed25519_verify_us": round(verify_s * 1e6, 1),
        "verify_ceiling_events_per_s": round(ceiling, 1),
        "fraction_of_ceiling": round(rate / ceiling, 3),
        # Bytes all nodes sent to peers (frames on the wire) per event finalised.
        "p2p_bytes_per_event": round(sum(after[n][1] - before[n][1] for n in after)
                                     / max(1, final_in_window)),
        # CPU of all nodes in the window per event finalised in it: with blocks_in_window,
        # runs of different block sizes separate the cost per event from that per block.
        "nodes_cpu_us_per_event": round(1e6 * sum(after[n][0].cpu_seconds
                                                  - before[n][0].cpu_seconds for n in after)
                                        / max(1, final_in_window)),
        "nodes": {n.name: {"role": n.role,
                           "cpu_percent": round(100 * (after[n.name][0].cpu_seconds
                                                       - before[n.name][0].cpu_seconds)
                                                / args.duration, 1),
                           "p2p_sent_kib_per_s": round((after[n.name][1] - before[n.name][1])
                                                       / 1024 / args.duration, 1),
                           # Each event's signature is checked once per node, when
                           # the node admits it; votes and certificates add a little.
                           "ed25519_checks_per_event": round(
                               (settled[n.name][2] - before[n.name][2])
                               / max(1, len(submitted)), 2),
                           "rss_mib": round(after[n.name][0].rss_kib / 1024, 1),
                           "peak_rss_mib": round(after[n.name][0].hwm_kib / 1024, 1),
                           "anon_mib": round(after[n.name][0].anon_kib / 1024, 1),
                           "height": n.rpc.call("chain_head")["height"]}
                  for n in nodes},
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = bench_parser("python -m benches.load", __doc__,
                     "devnet home (default: a new temporary directory)")
    p.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    p.add_argument("--clients", type=int, default=4, help="client processes")
    p.add_argument("--rate", type=float, default=2000.0, help="offered events/s in total")
    p.add_argument("--batch", type=int, default=100, help="events per JSON-RPC batch (even)")
    p.add_argument("--full-nodes", type=int, default=2)
    p.add_argument("--base-port", type=int, help="default: a free one")
    p.add_argument("--submit-max-pending", type=int, default=0,
                   help="each node's submit_max_pending (0: the default, no bound)")
    args = p.parse_args(argv)
    if args.batch % 2:
        p.error("--batch must be even: each register_lot travels with its assay")
    if args.batch > MAX_BATCH:
        p.error(f"--batch {args.batch}: a node takes at most {MAX_BATCH} calls per batch")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    emit_report(run(args), args.json)


if __name__ == "__main__":
    main()
