"""CPU time and memory of a running process, read from /proc (Linux)."""

from __future__ import annotations

import os
from dataclasses import dataclass

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcSample:
    cpu_seconds: float  # user + system time since the process started
    rss_kib: int  # resident set now
    hwm_kib: int  # peak resident set so far


def sample(pid: int) -> ProcSample:
    with open(f"/proc/{pid}/stat") as fh:
        stat = fh.read()
    # The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    fields = stat[stat.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])
    memory = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                memory[name] = int(value.split()[0])
    return ProcSample((utime + stime) / TICKS_PER_SECOND, memory.get("VmRSS", 0),
                      memory.get("VmHWM", 0))
