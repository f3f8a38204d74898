"""CPU time and memory of a running process, read from /proc (Linux).

The resident set splits in two. Anonymous pages are the process's own memory. File
pages are mapped files: the shared libraries, and the LevelDB table files that
LevelDB reads through mmap. Those are the page cache, counted in the resident set
while mapped; the kernel drops them under memory pressure and reads them again."""

from __future__ import annotations

import os
from dataclasses import dataclass

from node.metrics.process import PROC, stat_ticks, status_kib

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcSample:
    cpu_seconds: float  # user + system time since the process started
    rss_kib: int  # resident set now
    hwm_kib: int  # peak resident set so far
    anon_kib: int  # of the resident set now: the process's own (heap, stacks)
    file_kib: int  # of it: pages of mapped files (libraries, LevelDB's tables)


def sample(pid: int) -> ProcSample:
    here = PROC / str(pid)
    utime, stime, _ = stat_ticks(here)
    memory = status_kib(here)
    return ProcSample((utime + stime) / TICKS_PER_SECOND, memory.get("VmRSS", 0),
                      memory.get("VmHWM", 0), memory.get("RssAnon", 0),
                      memory.get("RssFile", 0))
