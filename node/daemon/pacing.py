"""When a validator starts the next height of its own accord: the genesis parameters
`block_interval_ms` and `heartbeat_ms`.

A height starts when there are pending events, but no sooner than `block_interval_ms`
after this node started the last one: events that arrive meanwhile join the next
block instead of each making a block of their own, so a lightly loaded network makes
fewer, fuller blocks (each height costs every validator a few milliseconds of
signatures, fsyncs and messages, whatever it carries). A loaded network, whose heights
take longer than the interval anyway, is not slowed. With `heartbeat_ms` > 0 a height
also starts, empty if need be, once that long has passed since the last one: the
chain's time then advances on an idle network too. With 0 an idle chain makes no
blocks.

Only when to begin is paced. A node that learns a peer is already at the height joins
it at once, and block validity never depends on these parameters (like CometBFT's
`timeout_commit`, they shape only what a correct proposer does).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pacing:
    interval_s: float
    heartbeat_s: float          # 0: no heartbeat

    @classmethod
    def from_params(cls, params: dict[str, int]) -> Pacing:
        return cls(params["block_interval_ms"] / 1000, params["heartbeat_ms"] / 1000)

    def next_start(self, now: float, last_start: float, has_work: bool) -> float | None:
        """When to start the next height (`now` or later), given when this node
        started the last one; None: not until there is work."""
        earliest = last_start + self.interval_s
        if has_work:
            return max(now, earliest)
        if self.heartbeat_s:
            return max(now, earliest, last_start + self.heartbeat_s)
        return None
