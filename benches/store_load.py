"""Store write load: the CPU a node's LevelDB costs, its background compaction included.

    python -m benches.store_load --events 300000
    python -m benches.store_load --events 300000 --leveldb-defaults

Commits `--events` events in blocks of `--block` on a single-validator chain the way a
validator does under load: each event is admitted, queued in the mempool journal
(one unsynced append per block, as relayed txs are) and then finalised by a block
commit, after which the mempool forgets it. Reports the process's CPU seconds (every thread:
LevelDB compacts on its own thread, which Python profilers do not see), the wall
time, the peak RSS and the database's size on disk. `--leveldb-defaults` opens the
store with LevelDB's default options instead of node.store.blockstore.LEVELDB_OPTIONS,
for comparison. Signing the events is left out of the figures (measured on the main
thread and subtracted).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from benches.devnet_procs import bench_parser, emit_report
from benches.workload import EventStream, extend, open_ledger, single_validator_genesis
from node.daemon.mempool import Mempool
from node.store import blockstore


def _disk_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.iterdir()) / (1 << 20)


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.leveldb_defaults:
        blockstore.LEVELDB_OPTIONS.clear()
    home = Path(args.home or tempfile.mkdtemp(prefix="orechain-store-load-"))
    genesis = single_validator_genesis(max_block_txs=args.block,
                                       max_block_bytes=16 * 1024 * 1024)
    ledger = open_ledger(home / "chain", genesis)
    pool = Mempool(ledger.store, home / "mempool.journal")
    stream = EventStream("STORE", 0)
    blocks = args.events // args.block
    signing_cpu = signing_wall = 0.0
    cpu, wall = time.process_time(), time.monotonic()
    for _ in range(blocks):
        started_cpu, started_wall = time.thread_time(), time.monotonic()
        txs = list(stream.events(args.block))
        signing_cpu += time.thread_time() - started_cpu
        signing_wall += time.monotonic() - started_wall
        for tx in txs:
            ledger.check_tx(tx)
        pool.add_relayed(txs)
        extend(ledger, txs)
        pool.remove_committed(tx.tx_id for tx in txs)
    pool.close()
    ledger.store.close()            # waits for the compaction in progress
    cpu = time.process_time() - cpu - signing_cpu
    wall = time.monotonic() - wall - signing_wall
    events = blocks * args.block
    return {
        "events": events,
        "leveldb_options": "defaults" if args.leveldb_defaults else blockstore.LEVELDB_OPTIONS,
        "cpu_s": round(cpu, 1),
        "wall_s": round(wall, 1),
        "cpu_us_per_event": round(cpu / events * 1e6, 1),
        "cpu_beyond_main_thread_s": round(max(cpu - wall, 0.0), 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "disk_mib": round(_disk_mib(home / "chain"), 1),
    }


def main(argv: list[str] | None = None) -> None:
    p = bench_parser("python -m benches.store_load", __doc__)
    p.add_argument("--events", type=int, default=300_000)
    p.add_argument("--block", type=int, default=500, help="events per block")
    p.add_argument("--leveldb-defaults", action="store_true",
                   help="open the store with LevelDB's default options")
    args = p.parse_args(argv)
    emit_report(run(args), args.json)


if __name__ == "__main__":
    main()
