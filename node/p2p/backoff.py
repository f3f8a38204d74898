"""Exponential backoff with jitter for redialling peers.

Jitter keeps nodes that lost a common peer (a site uplink dropping) from
redialling it in lockstep; the random source is injected so tests replay.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays that double from `base` up to `cap`, each drawn from [d/2, d]."""

    def __init__(self, base: float, cap: float, rng: random.Random) -> None:
        if not 0 < base <= cap:
            raise ValueError("backoff needs 0 < base <= cap")
        self._base = base
        self._cap = cap
        self._rng = rng
        self._attempt = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one failure."""
        ceiling = min(self._cap, self._base * 2**self._attempt)
        if ceiling < self._cap:
            self._attempt += 1
        # "Equal jitter": at least half the ceiling, so the delay always grows.
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        """Start again from `base` (after a link that stayed up)."""
        self._attempt = 0
