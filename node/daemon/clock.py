"""Proposal timeliness: a validator refuses a fresh proposal whose block time is too far
from its own clock, and notices when its own clock is the one that is wrong.

Only fresh proposals (pol_round = -1) are judged: a re-proposal carries a value that
a quorum already prevoted, and refusing it on local time could split honest
validators (the PBTS rule). A block time may be ahead of this clock by the drift
bound only, but behind it by the drift plus the round's message delay: a proposer
spends time executing its block after stamping it, and the proposal then travels.
Refusal means the core never sees the proposal, so the validator prevotes nil on
timeoutPropose, exactly as if the proposal were lost.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

log = logging.getLogger("orechain.clock")

_REMEMBERED_PROPOSERS = 64


class ClockGuard:
    def __init__(self, max_drift_ms: int, clock_ms: Callable[[], int]) -> None:
        self.max_drift_ms = max_drift_ms
        self._clock_ms = clock_ms
        self._offsets: OrderedDict[bytes, int] = OrderedDict()  # proposer -> block - local

    def timely(self, pol_round: int, block_time_ms: int, proposer: bytes,
               message_delay_ms: int) -> bool:
        """`message_delay_ms`: how late a timely proposal of this round may arrive (the
        round's propose timeout, which grows with the round)."""
        offset = block_time_ms - self._clock_ms()
        self._offsets.pop(proposer, None)
        self._offsets[proposer] = offset
        if len(self._offsets) > _REMEMBERED_PROPOSERS:
            self._offsets.popitem(last=False)
        if pol_round >= 0 or -(self.max_drift_ms + message_delay_ms) <= offset <= \
                self.max_drift_ms:
            return True
        log.warning("refusing a proposal from %s: its block time is %d ms %s this node's clock "
                    "(limit %d ms)%s", proposer.hex()[:16], abs(offset),
                    "ahead of" if offset > 0 else "behind", self.max_drift_ms,
                    self._own_clock_hint())
        return False

    def skew_estimate_ms(self) -> int | None:
        """Median offset of the latest proposals of distinct proposers: roughly how far
        this node's clock is behind (positive) or ahead (negative) of the validators'."""
        if not self._offsets:
            return None
        ordered = sorted(self._offsets.values())
        return ordered[(len(ordered) - 1) // 2]

    def own_clock_suspect(self) -> bool:
        """True when most of at least two proposers disagree with this clock, all the same
        way: one wrong proposer is that proposer's problem, most of them is ours."""
        offsets = list(self._offsets.values())
        ahead = sum(1 for o in offsets if o > self.max_drift_ms)
        behind = sum(1 for o in offsets if o < -self.max_drift_ms)
        return len(offsets) >= 2 and 2 * max(ahead, behind) > len(offsets)

    def _own_clock_hint(self) -> str:
        if not self.own_clock_suspect():
            return ""
        return (f"; most validators' clocks differ from this one by about "
                f"{abs(self.skew_estimate_ms() or 0)} ms: this node's clock is probably wrong "
                "(check NTP / timedatectl)")
