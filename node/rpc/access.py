"""Who may call what on the RPC listener, and how often.

- Reads are open to whoever can reach the listener (it binds 127.0.0.1 unless the
  operator says otherwise).
- Write methods from beyond loopback need `Authorization: Bearer <rpc_token>` from
  the node's config; with no token configured they are loopback-only.
- Every client (by address) has a token bucket, so one noisy client cannot starve
  the node; a batch costs one token per call in it.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

WRITE_METHODS = frozenset({"lot_submitEvent"})


@functools.lru_cache(maxsize=1024)
def is_loopback(remote: str | None) -> bool:
    # Cached: every request asks, and a node's clients come from a handful of
    # addresses (3.5 µs to parse one, 0.1 µs to look it up).
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return remote == "localhost"


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per client, bounded in number (least recently seen evicted)."""

    def __init__(self, rate_per_s: int, burst: int, clock: Callable[[], float],
                 max_clients: int = 10_000) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, client: str, cost: int = 1) -> bool:
        if self.rate <= 0:
            return True
        now = self._clock()
        bucket = self._buckets.pop(client, None) or _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._buckets[client] = bucket
        if len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        if bucket.tokens < cost:
            return False
        bucket.tokens -= cost
        return True


class AccessPolicy:
    def __init__(self, token: str, limiter: RateLimiter) -> None:
        self._token = token
        self.limiter = limiter

    def may_write(self, remote: str | None, authorization: str | None) -> bool:
        if is_loopback(remote):
            return True
        if not self._token or not authorization or not authorization.startswith("Bearer "):
            return False
        return hmac.compare_digest(authorization[len("Bearer "):].encode(), self._token.encode())
