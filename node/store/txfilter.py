"""A Bloom filter over the ids of final txs, in front of the tx index.

"Is this tx final already?" is asked of nearly every tx a node meets (relayed,
submitted, reaped into a proposal, carried by a block) and the answer is nearly always
no. In LevelDB a key that is not there is still looked for in the memtable and in
every table that might hold it; on a loaded node that cost a few microseconds a
question. The filter answers most of those noes from memory: it never says no for an
id that was added (so a final tx is always found in the index), and says maybe for a
few ids that were not (those are looked up as before).

A tx id is a SHA-256 digest, so its own bytes serve as the filter's hash values: two
probes, from its first and second 8 bytes. At 16 bits per id the filter answers maybe
for about 1.4 % of the ids never added; past its capacity that share grows (5 % at
twice, 15 % at four times) instead of the filter being rebuilt while the node runs.
"""

from __future__ import annotations

from collections.abc import Iterable

BITS_PER_ID = 16
MIN_CAPACITY = 1 << 20      # ids; 2 MiB of bits


class FinalTxFilter:
    def __init__(self, capacity: int) -> None:
        bits = max(capacity, MIN_CAPACITY) * BITS_PER_ID
        self._mask = (1 << (bits - 1).bit_length()) - 1   # a power of two bits
        self._bits = bytearray((self._mask + 1) // 8)

    @property
    def size_bits(self) -> int:
        return len(self._bits) * 8

    def add_all(self, tx_ids: Iterable[bytes]) -> None:
        bits, mask = self._bits, self._mask
        for tx_id in tx_ids:
            first = int.from_bytes(tx_id[:8], "little") & mask
            second = int.from_bytes(tx_id[8:16], "little") & mask
            bits[first >> 3] |= 1 << (first & 7)
            bits[second >> 3] |= 1 << (second & 7)

    def may_contain(self, tx_id: bytes) -> bool:
        """False only for an id never added."""
        bits, mask = self._bits, self._mask
        first = int.from_bytes(tx_id[:8], "little") & mask
        if not bits[first >> 3] & (1 << (first & 7)):
            return False
        second = int.from_bytes(tx_id[8:16], "little") & mask
        return bool(bits[second >> 3] & (1 << (second & 7)))
