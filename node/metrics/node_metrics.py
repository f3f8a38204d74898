"""The metrics an orechain node exports, and the hook points the daemon calls to feed them.

Live figures (height, peers, mempool, heights behind) are read from the node when
scraped, through `bind`; events (a tx submitted, a block final, an RPC call) are
pushed by the daemon through `tx_submitted`, `block_final` and `instrument_rpc`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from node.metrics.registry import Registry
from node.rpc.errors import INTERNAL_ERROR, RpcError
from node.rpc.server import Handler

# Submissions whose block never arrives (the node stops first, or the event is refused
# later) must not grow memory without end; the oldest are forgotten first.
MAX_TRACKED_SUBMISSIONS = 100_000

ROUND_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16)
FINALITY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0)


def heights_behind(own_height: int, peer_heights: Iterable[int]) -> int:
    """How far the most advanced peer is ahead of this node; 0 when level or ahead."""
    return max(0, max(peer_heights, default=0) - own_height)


class NodeMetrics:
    def __init__(self, registry: Registry | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        r = self.registry = registry or Registry()
        self._clock = clock
        self._submitted: OrderedDict[bytes, float] = OrderedDict()
        self.height = r.gauge("orechain_height", "Height of the newest final block on this node.")
        self.peers = r.gauge("orechain_peers", "Authenticated peer links open now.")
        self.mempool_size = r.gauge("orechain_mempool_txs",
                                    "Events waiting in this node's mempool for a block.")
        self.sync_behind = r.gauge(
            "orechain_sync_heights_behind",
            "Heights the most advanced peer is ahead of this node; 0 when caught up.")
        self.p2p_sent = r.gauge("orechain_p2p_sent_bytes",
                                "Bytes sent to peers since the node started (frames on the wire).")
        self.p2p_received = r.gauge("orechain_p2p_received_bytes",
                                    "Bytes received from peers since the node started.")
        self.signatures_verified = r.gauge(
            "orechain_signatures_verified",
            "Ed25519 signatures checked since the node started (events, votes, certificates).")
        self.signature_cache_hits = r.gauge(
            "orechain_signature_cache_hits",
            "Signature checks answered by the cache of verified signatures since start.")
        self.blocks_final = r.counter("orechain_blocks_final_total",
                                      "Blocks this node has seen finalised since it started.")
        self.txs_final = r.counter(
            "orechain_txs_final_total",
            "Events in blocks this node has seen finalised since it started.")
        self.rounds_per_height = r.histogram(
            "orechain_consensus_rounds_per_height",
            "Consensus rounds a height took to finalise (1: decided in its first round).",
            buckets=ROUND_BUCKETS)
        self.finalisation_latency = r.histogram(
            "orechain_finalisation_latency_seconds",
            "From lot_submitEvent on this node to the event being final on this node.",
            buckets=FINALITY_BUCKETS)
        self.rpc_latency = r.histogram("orechain_rpc_duration_seconds",
                                       "Time to answer one JSON-RPC call, per method.",
                                       labelnames=("method",))
        self.rpc_errors = r.counter("orechain_rpc_errors_total",
                                    "JSON-RPC calls answered with an error, per method and code.",
                                    labelnames=("method", "code"))

    def bind(self, *, height: Callable[[], int], peers: Callable[[], int],
             mempool_size: Callable[[], int], peer_heights: Callable[[], Iterable[int]],
             traffic: Callable[[], tuple[int, int]],
             signatures: Callable[[], tuple[int, int]]) -> None:
        """Read the live figures from the node at each scrape."""
        self.signatures_verified.set_function(lambda: signatures()[0])
        self.signature_cache_hits.set_function(lambda: signatures()[1])
        self.height.set_function(height)
        self.p2p_sent.set_function(lambda: traffic()[0])
        self.p2p_received.set_function(lambda: traffic()[1])
        self.peers.set_function(peers)
        self.mempool_size.set_function(mempool_size)
        self.sync_behind.set_function(lambda: heights_behind(height(), peer_heights()))

    def tx_submitted(self, tx_id: bytes) -> None:
        """An event entered this node's mempool through lot_submitEvent: start its clock."""
        if tx_id in self._submitted:
            return
        self._submitted[tx_id] = self._clock()
        if len(self._submitted) > MAX_TRACKED_SUBMISSIONS:
            self._submitted.popitem(last=False)

    def block_final(self, round_: int, tx_ids: Sequence[bytes]) -> None:
        """A block was committed with a certificate from `round_` (0-based)."""
        now = self._clock()
        self.blocks_final.inc()
        self.txs_final.inc(len(tx_ids))
        self.rounds_per_height.observe(round_ + 1)
        for tx_id in tx_ids:
            started = self._submitted.pop(tx_id, None)
            if started is not None:
                self.finalisation_latency.observe(now - started)

    def instrument_rpc(self, handlers: dict[str, Handler]) -> dict[str, Handler]:
        """The same handlers, each timed and with its errors counted by code."""
        return {name: self._timed(name, handler) for name, handler in handlers.items()}

    def _timed(self, method: str, handler: Handler) -> Handler:
        latency = self.rpc_latency.labels(method=method)

        async def timed(params: dict[str, Any]) -> Any:
            started = self._clock()
            try:
                return await handler(params)
            except RpcError as exc:
                self.rpc_errors.labels(method=method, code=str(exc.code)).inc()
                raise
            except Exception:
                # The server answers any other exception as an internal error.
                self.rpc_errors.labels(method=method, code=str(INTERNAL_ERROR)).inc()
                raise
            finally:
                latency.observe(self._clock() - started)

        return timed
