"""The node process's own resources on /metrics, read from /proc when scraped (Linux).

Named as Prometheus's client libraries name them (`process_*`), so dashboards made for
any service read them. Beside the resident set, its two parts: the node's own memory,
and pages of mapped files. LevelDB reads its tables through mmap, and those pages of
the page cache count in the resident set while mapped (the kernel drops them under
memory pressure), so after a long sync the resident set can be twice the node's own
memory (docs/performance.md).
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

from node.metrics.registry import Registry

PROC = Path("/proc")
_KIB = 1024
_MEMORY = (  # (metric, field of /proc/PID/status, help)
    ("process_resident_memory_bytes", "VmRSS",
     "Resident set size: the node's own memory and the mapped files' pages."),
    ("orechain_resident_memory_own_bytes", "RssAnon",
     "Of the resident set, the node's own memory (anonymous pages: the heap, LevelDB's "
     "memtables and caches, thread stacks)."),
    ("orechain_resident_memory_mapped_files_bytes", "RssFile",
     "Of the resident set, pages of mapped files (LevelDB's tables, libraries); page cache "
     "the kernel reclaims under memory pressure."),
    ("process_virtual_memory_bytes", "VmSize", "Virtual memory size in bytes."),
)


def register_process_metrics(registry: Registry, proc: Path = PROC) -> bool:
    """Add this process's metrics to `registry`; False, adding nothing, where `proc`
    has no readable status for it (not Linux, or a sandbox's partial /proc): the
    figures are a convenience, and must not keep a node from starting."""
    here = proc / "self"
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        started = _boot_time(proc) + stat_ticks(here)[2] / ticks
        reported = status_kib(here).keys()
    except (OSError, ValueError, IndexError):
        return False

    def cpu_seconds() -> float:
        utime, stime, _ = stat_ticks(here)
        return (utime + stime) / ticks

    registry.counter("process_cpu_seconds_total",
                     "User and system CPU time the node has spent, in seconds."
                     ).set_function(cpu_seconds)
    # A kernel older than 4.5 has no RssAnon or RssFile: those are left out.
    for name, field, help_text in _MEMORY:
        if field in reported:
            registry.gauge(name, help_text).set_function(
                lambda field=field: status_kib(here)[field] * _KIB)
    registry.gauge("process_open_fds", "Open file descriptors (files, sockets, LevelDB)."
                   ).set_function(lambda: len(os.listdir(here / "fd")))
    registry.gauge("process_max_fds", "The limit on open file descriptors."
                   ).set_function(lambda: resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    registry.gauge("process_start_time_seconds",
                   "When the node started, in seconds since the Unix epoch."
                   ).set(started)
    return True


def status_kib(here: Path) -> dict[str, int]:
    """The kB-valued fields of /proc/PID/status, in KiB."""
    fields = {}
    for line in (here / "status").read_text().splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            fields[name] = int(parts[0])
    return fields


def stat_ticks(here: Path) -> tuple[int, int, int]:
    """utime, stime and starttime of /proc/PID/stat, in clock ticks."""
    stat = (here / "stat").read_text()
    # The command name (field 2) may hold spaces and parentheses; fields after the last
    # ')' are fixed: utime and stime are fields 14 and 15, starttime field 22.
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]), int(fields[12]), int(fields[19])


def _boot_time(proc: Path) -> int:
    for line in (proc / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return int(line.split()[1])
    raise ValueError(f"{proc / 'stat'} has no btime line")
