"""Steady client load: threads that sign register_lot events and submit them over JSON-RPC.

Each client behaves as a mine-site device on a flaky link would: it picks a node
at random, and when the node does not answer (killed, paused, cut off) it retries
the very same signed event elsewhere, which the idempotent submit path must turn
into the same tx id. Only a tx id some node returned counts as acknowledged; those
are what the checks later demand to find final, once, on every node.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

from node.cli.client import RpcCallError, RpcClient
from node.rpc.errors import NOT_ACCEPTING
from tests.helpers import event

SUBMIT_ATTEMPTS = 4


@dataclass
class LoadStats:
    """What the clients saw; shared by the threads under a lock."""

    acked: dict[str, str] = field(default_factory=dict)  # tx_id -> lot id
    outcomes: Counter[str] = field(default_factory=Counter)
    anomalies: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1


class Load:
    """`clients` threads submitting to `urls` until stopped."""

    def __init__(self, urls: list[str], seed: int, clients: int = 3,
                 pause: tuple[float, float] = (0.05, 0.3)) -> None:
        self.urls = urls
        self.seed = seed
        self.pause = pause
        self.stats = LoadStats()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, args=(c,), daemon=True,
                                          name=f"chaos-client-{c}") for c in range(clients)]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> LoadStats:
        self._stop.set()
        for t in self._threads:
            t.join(30)
        return self.stats

    def _client(self, index: int) -> None:
        rng = random.Random(f"{self.seed}/client/{index}")
        clients = [RpcClient(u, timeout=4) for u in self.urls]
        n = 0
        while not self._stop.is_set():
            n += 1
            lot_id = f"PK-RE-{self.seed % 100000:05d}-{index}-{n:05d}"
            body = {"lot_id": lot_id, "mineral": "rare_earth", "form": "ore",
                    "mass_g": rng.randrange(1_000, 50_000_000), "site_id": "mine-3-pit-1",
                    "extracted_at_ms": 1_795_200_000_000 + n}
            tx = event("mine-3", "register_lot", body, nonce=index * 1_000_000 + n)
            self._submit(rng, clients, tx.to_json(), tx.tx_id.hex(), lot_id)
            if self.stats.acked and rng.random() < 0.1:
                self._resubmit(rng, clients)
            self._stop.wait(rng.uniform(*self.pause))

    def _submit(self, rng: random.Random, clients: list[RpcClient], tx: dict, tx_id: str,
                lot_id: str) -> None:
        for _ in range(SUBMIT_ATTEMPTS):
            client = rng.choice(clients)
            try:
                reply = client.call("lot_submitEvent", event=tx)
            except ConnectionError:
                self.stats.count("unreachable")
                continue
            except RpcCallError as exc:
                if exc.code == NOT_ACCEPTING:
                    self.stats.count("not_accepting")
                    continue
                self._anomaly(f"{client.url} refused a valid event: {exc}")
                return
            if reply.get("tx_id") != tx_id:
                self._anomaly(f"{client.url} returned tx id {reply.get('tx_id')} for {tx_id}")
                return
            with self.stats.lock:
                self.stats.acked[tx_id] = lot_id
            self.stats.count("acked")
            return
        self.stats.count("gave_up")

    def _resubmit(self, rng: random.Random, clients: list[RpcClient]) -> None:
        """Send an acknowledged event again: the answer must name the same tx."""
        with self.stats.lock:
            tx_id = rng.choice(list(self.stats.acked))
        lot_id = self.stats.acked[tx_id]
        client = rng.choice(clients)
        try:
            result = client.call("tx_get", tx_id=tx_id)
        except (ConnectionError, RpcCallError):
            return  # not every node has heard of it yet; that is allowed
        try:
            reply = client.call("lot_submitEvent", event=result["tx"])
        except (ConnectionError, RpcCallError):
            return
        self.stats.count("resubmitted")
        if reply.get("tx_id") != tx_id:
            self._anomaly(f"resubmitting {lot_id} gave tx id {reply.get('tx_id')}, not {tx_id}")

    def _anomaly(self, text: str) -> None:
        with self.stats.lock:
            self.stats.anomalies.append(text)
