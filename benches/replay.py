"""The per-event cost of catching up, in one process: CPU time, or instructions.

    python -m benches.replay --blocks 20
    python -m benches.replay --blocks 5 --instructions

Builds a single-validator chain of `--blocks` blocks of 1,000 events once (kept in
`--home` for the next run), then replays it into a fresh ledger the way a syncing node
applies what it fetched: each stored block and commit decoded, the certificate checked,
every rule re-run, the block committed. Reports the main thread's CPU time per event,
the least of `--rounds` replays.

On a virtual machine whose speed drifts between runs, CPU time cannot tell two
versions of the code apart by a few per cent. `--instructions` counts the
instructions per event instead, with valgrind's callgrind (installed separately:
Debian's `valgrind`): one run with a replay and one without, the difference divided by
the events. The count is the same from run to run whatever else the machine is doing,
so a change of 1 % shows.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benches.devnet_procs import bench_parser, emit_report
from benches.sync import build_chain
from benches.workload import open_ledger, single_validator_genesis
from node import codec
from node.provenance.ledger import forget_decoded
from node.provenance.schema import forget_well_formed
from node.types import Block, Commit

EVENTS_PER_BLOCK = 1000


def _chain(home: Path, blocks: int) -> list[tuple[bytes, bytes]]:
    """The stored (block, commit) encodings of a chain of `blocks` blocks in `home`."""
    genesis = single_validator_genesis()
    build_chain(home, genesis.document, blocks * EVENTS_PER_BLOCK, EVENTS_PER_BLOCK)
    # Read back from a second opening: the first opening after the build moves
    # LevelDB's log into a table, work that must not fall into a measured run.
    ledger = open_ledger(home, genesis)
    try:
        finals = [ledger.store.final_block_bytes(h) for h in range(1, blocks + 1)]
    finally:
        ledger.store.close()
    return [f for f in finals if f is not None]


def replay(finals: list[tuple[bytes, bytes]]) -> float:
    """Apply `finals` to a fresh ledger as sync does; return the main thread's CPU s."""
    forget_decoded()
    forget_well_formed()
    target = Path(tempfile.mkdtemp(prefix="orechain-replay-"))
    ledger = open_ledger(target / "chain", single_validator_genesis())
    try:
        started = time.thread_time()
        for block_bytes, commit_bytes in finals:
            block = Block.decode(block_bytes)
            commit = Commit.from_wire(codec.decode(commit_bytes))
            ledger.commit(ledger.validate_block(block, commit), commit)
        return time.thread_time() - started
    finally:
        ledger.store.close()
        shutil.rmtree(target)


def _instructions(args: argparse.Namespace, home: Path, rounds: int) -> int:
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
            sys.executable, "-m", "benches.replay", "--home", str(home),
            "--blocks", str(args.blocks), "--rounds", str(rounds)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind reported no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def run(args: argparse.Namespace) -> dict[str, Any]:
    home = Path(args.home or tempfile.mkdtemp(prefix="orechain-replay-chain-"))
    finals = _chain(home, args.blocks)
    events = len(finals) * EVENTS_PER_BLOCK
    report: dict[str, Any] = {"blocks": len(finals), "events": events}
    if args.instructions:
        if shutil.which("valgrind") is None:
            raise SystemExit("--instructions needs valgrind (Debian: apt install valgrind)")
        per_event = (_instructions(args, home, 1) - _instructions(args, home, 0)) / events
        report["instructions_per_event"] = round(per_event)
        return report
    if args.rounds:
        best = min(replay(finals) for _ in range(args.rounds))
        report["cpu_us_per_event"] = round(best * 1e6 / events, 1)
    return report


def main(argv: list[str] | None = None) -> None:
    p = bench_parser("python -m benches.replay", __doc__,
                     home_help="where the chain is built and kept (default: a new "
                               "temporary directory)")
    p.add_argument("--blocks", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3, help="replays; the least CPU is kept")
    p.add_argument("--instructions", action="store_true",
                   help="count instructions per event with valgrind's callgrind")
    args = p.parse_args(argv)
    emit_report(run(args), args.json)


if __name__ == "__main__":
    main()
