"""One chaos run: start the cluster, load it, let the nemesis loose, heal, check.

Used by the short test in the default run and by the soak test (ORECHAIN_CHAOS_SECONDS).
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.chaos.checks import Verdict, check_history, wait_converged
from tests.chaos.cluster import Cluster
from tests.chaos.load import Load, LoadStats
from tests.chaos.nemesis import Nemesis

CONVERGE_SECONDS = 180  # dial backoff is capped at 30 s; a few rounds of it, then sync


@dataclass
class RunReport:
    seed: int
    seconds: float
    faults: Counter[str]
    load: LoadStats
    verdict: Verdict
    exit_codes: dict[str, int | None]
    tracebacks: dict[str, int]


def run_chaos(home: Path, seed: int, seconds: float, clients: int = 3) -> RunReport:
    print(f"chaos seed={seed} seconds={seconds:.0f} (replay: ORECHAIN_CHAOS_SEED={seed})",
          flush=True)
    rng = random.Random(seed)
    started = time.monotonic()
    cluster = Cluster(home, rng)
    load: Load | None = None
    codes: dict[str, int | None] = {}
    try:
        cluster.start()
        load = Load([n.rpc.url for n in cluster.nodes], seed, clients=clients)
        load.start()
        faults = Nemesis(cluster, rng, log=lambda s: print(s, flush=True)).run(seconds)
        stats = load.stop()
        cluster.mesh.heal()
        cluster.revive_all()
        healed = time.monotonic()
        height = wait_converged(cluster.nodes, stats.acked, CONVERGE_SECONDS)
        print(f"converged at height {height} {time.monotonic() - healed:.1f}s after healing",
              flush=True)
        verdict = check_history(cluster.nodes, stats.acked, height)
    finally:
        if load is not None:
            load.stop()
        codes = cluster.close()
    report = RunReport(seed, time.monotonic() - started, faults, stats, verdict, codes,
                       _tracebacks(cluster))
    print(f"chaos seed={seed}: {report.verdict}, faults {dict(faults)}, "
          f"client outcomes {dict(stats.outcomes)}, proxies {cluster.mesh.stats()}, "
          f"exit codes {codes}, tracebacks in logs {report.tracebacks}", flush=True)
    return report


def _tracebacks(cluster: Cluster) -> dict[str, int]:
    """How many tracebacks each node logged (unexpected exceptions inside the daemon)."""
    return {n.name: len(re.findall(r"^Traceback", (n.home / "node.log").read_text(
        errors="replace"), re.M)) for n in cluster.nodes}
