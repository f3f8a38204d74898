"""Misbehaviour scores and bans of remote node keys.

Every fault a peer commits adds penalty points; points drain at a steady rate
so an honest peer's occasional fault (a message that became stale in flight)
is forgotten. Reaching the threshold bans the key: the link is dropped, the key
is refused at handshake and not dialled until the ban ends. Each further ban of
the same key doubles its length, up to a cap. Scores live in memory only: a
restart forgives, which is acceptable in a permissioned network where every
key belongs to a known operator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("orechain.p2p")


@dataclass
class _Record:
    points: int = 0
    updated: float = 0.0
    bans: int = 0
    banned_until: float = 0.0


class Scoreboard:
    """Penalty points and bans per node key."""

    def __init__(
        self,
        *,
        threshold: int,
        decay_per_second: int,
        ban_base: float,
        ban_cap: float,
        clock: Callable[[], float],
    ) -> None:
        self._threshold = threshold
        self._decay = decay_per_second
        self._ban_base = ban_base
        self._ban_cap = ban_cap
        self._clock = clock
        self._records: dict[bytes, _Record] = {}

    def _drained(self, key: bytes) -> _Record:
        record = self._records.setdefault(key, _Record(updated=self._clock()))
        now = self._clock()
        drained = int((now - record.updated) * self._decay)
        if drained:
            record.points = max(0, record.points - drained)
            record.updated = now
        return record

    def score(self, key: bytes) -> int:
        """Current penalty points of `key` (0 is a clean record)."""
        return self._drained(key).points

    def penalise(self, key: bytes, points: int, reason: str) -> bool:
        """Add `points`; True if this pushed `key` into a ban."""
        record = self._drained(key)
        record.points += points
        log.info(
            "peer %s penalised %d (%s): score %d", key.hex()[:16], points, reason, record.points
        )
        if record.points < self._threshold:
            return False
        duration = min(self._ban_cap, self._ban_base * 2**record.bans)
        record.bans += 1
        record.points = 0
        record.banned_until = self._clock() + duration
        log.warning("peer %s banned for %.1f s after: %s", key.hex()[:16], duration, reason)
        return True

    def banned_until(self, key: bytes) -> float | None:
        """Clock time the ban of `key` ends, or None if it is not banned."""
        record = self._records.get(key)
        if record is None or record.banned_until <= self._clock():
            return None
        return record.banned_until
