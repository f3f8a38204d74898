"""The nemesis: a seeded schedule of faults applied to a running Cluster.

Faults (each undone before the next starts, so a run ends from a known state):
SIGKILL and restart a node, SIGKILL a node during a partition, partition the
nodes into a minority and a majority (or two halves, neither with a quorum) then
heal, slow every link, make every link lossy, SIGSTOP a node then SIGCONT it.
Which fault, which nodes and how long all come from one random.Random(seed), so
a failing seed replays the same schedule (timings on a shared machine still vary).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable

from tests.chaos.cluster import ChaosNode, Cluster


class Nemesis:
    def __init__(self, cluster: Cluster, rng: random.Random,
                 log: Callable[[str], None] = print) -> None:
        self.cluster = cluster
        self.rng = rng
        self.log = log
        self.done: Counter[str] = Counter()
        self._faults: list[tuple[str, Callable[[], None]]] = [
            ("kill_restart", self.kill_restart),
            ("partition", self.partition),
            ("kill_in_partition", self.kill_in_partition),
            ("latency", self.latency),
            ("lossy", self.lossy),
            ("pause", self.pause),
        ]

    def run(self, seconds: float) -> Counter[str]:
        """Apply faults until `seconds` have passed; how many of each ran."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            name, fault = self.rng.choice(self._faults)
            self.log(f"nemesis: {name}")
            fault()
            self.done[name] += 1
            self._hold(self.rng.uniform(0.5, 2.0))  # quiet spell: progress must resume
        return self.done

    def _hold(self, seconds: float) -> None:
        time.sleep(seconds)

    def _pick(self) -> ChaosNode:
        return self.rng.choice(self.cluster.nodes)

    def kill_restart(self) -> None:
        node = self._pick()
        delay = self.rng.uniform(0.0, 2.0)
        self.log(f"  SIGKILL {node.name}, restart after {delay:.1f}s")
        node.kill()
        self._hold(delay)
        node.start()

    def _split(self) -> set[int]:
        """One side of a partition: a lone node, a minority, or half the nodes."""
        n = len(self.cluster.nodes)
        size = self.rng.choice([1, 1, 2, n // 2])
        return set(self.rng.sample(range(n), size))

    def partition(self) -> None:
        side = self._split()
        hold = self.rng.uniform(2.0, 8.0)
        self.log(f"  partition {sorted(self.cluster.nodes[i].name for i in side)} "
                 f"from the rest for {hold:.1f}s")
        self.cluster.mesh.partition(side)
        self._hold(hold)
        self.cluster.mesh.heal()

    def kill_in_partition(self) -> None:
        side = self._split()
        victim = self._pick()
        self.log(f"  partition {sorted(self.cluster.nodes[i].name for i in side)}, "
                 f"SIGKILL {victim.name} inside it, heal, restart")
        self.cluster.mesh.partition(side)
        self._hold(self.rng.uniform(0.5, 3.0))
        victim.kill()
        self._hold(self.rng.uniform(0.5, 3.0))
        self.cluster.mesh.heal()
        victim.start()

    def latency(self) -> None:
        delay = self.rng.uniform(0.02, 0.4)
        hold = self.rng.uniform(2.0, 6.0)
        self.log(f"  latency {delay * 1000:.0f}ms on every link for {hold:.1f}s")
        self.cluster.mesh.set_all(latency=delay)
        self._hold(hold)
        self.cluster.mesh.heal()

    def lossy(self) -> None:
        drop = self.rng.uniform(0.01, 0.1)
        hold = self.rng.uniform(2.0, 6.0)
        self.log(f"  every link resets {drop:.0%} of chunks for {hold:.1f}s")
        self.cluster.mesh.set_all(drop=drop, latency=0.01)
        self._hold(hold)
        self.cluster.mesh.heal()

    def pause(self) -> None:
        node = self._pick()
        hold = self.rng.uniform(1.0, 8.0)
        self.log(f"  SIGSTOP {node.name} for {hold:.1f}s")
        node.pause()
        self._hold(hold)
        node.resume()
