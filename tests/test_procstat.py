"""benches.procstat reads a process's CPU and its resident set, split into the
process's own memory and mapped files."""

from __future__ import annotations

import os

from benches.procstat import sample


def test_the_resident_set_is_its_own_memory_and_mapped_files() -> None:
    now = sample(os.getpid())
    assert now.anon_kib > 0 and now.file_kib > 0      # a Python process maps libraries
    # Shared memory is the rest of the resident set; this process has next to none.
    assert abs(now.rss_kib - now.anon_kib - now.file_kib) < 1024
    assert now.hwm_kib >= now.rss_kib


def test_memory_the_process_writes_to_counts_as_its_own() -> None:
    before = sample(os.getpid())
    block = bytearray(64 << 20)
    block[::4096] = b"\x01" * len(block[::4096])     # touch every page
    after = sample(os.getpid())
    assert after.anon_kib - before.anon_kib >= 60 << 10
    del block
