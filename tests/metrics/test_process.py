"""The process metrics read /proc at each scrape; where there is no /proc they are
left out rather than reported as zero."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

from node.metrics import Registry
from node.metrics.process import register_process_metrics
from tests.metrics.exposition import parse

# A process named with a space and a parenthesis, as comm may be: fields after the
# last ')' are what counts. utime 250, stime 50, starttime 1000 ticks.
_STAT = ("4242 (orechain (node)) S 1 4242 4242 0 -1 4194560 9 0 0 0 250 50 0 0 20 0 7 0 "
         "1000 123456 789 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n")
_STATUS = """Name:\torechain
VmPeak:\t  900000 kB
VmSize:\t  800000 kB
VmHWM:\t  300000 kB
VmRSS:\t  250000 kB
RssAnon:\t  130000 kB
RssFile:\t  119000 kB
RssShmem:\t    1000 kB
Threads:\t7
"""


def _fake_proc(root: Path, *, fds: int) -> Path:
    me = root / "self"
    (me / "fd").mkdir(parents=True)
    (me / "stat").write_text(_STAT)
    (me / "status").write_text(_STATUS)
    for n in range(fds):
        (me / "fd" / str(n)).write_text("")
    (root / "stat").write_text("cpu  1 2 3 4\nbtime 1700000000\nprocesses 9\n")
    return root


def test_each_figure_is_read_from_its_proc_field(tmp_path: Path) -> None:
    registry = Registry()
    assert register_process_metrics(registry, _fake_proc(tmp_path, fds=5))
    ticks = os.sysconf("SC_CLK_TCK")
    fams = parse(registry.render())
    assert fams["process_cpu_seconds_total"].type == "counter"
    assert fams["process_cpu_seconds_total"].value() == 300 / ticks
    assert fams["process_resident_memory_bytes"].value() == 250_000 * 1024
    assert fams["orechain_resident_memory_own_bytes"].value() == 130_000 * 1024
    assert fams["orechain_resident_memory_mapped_files_bytes"].value() == 119_000 * 1024
    assert fams["process_virtual_memory_bytes"].value() == 800_000 * 1024
    assert fams["process_open_fds"].value() == 5
    assert fams["process_max_fds"].value() == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert fams["process_start_time_seconds"].value() == 1_700_000_000 + 1000 / ticks


def test_figures_are_read_again_at_each_scrape(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path, fds=2)
    registry = Registry()
    register_process_metrics(registry, proc)
    (proc / "self" / "status").write_text(_STATUS.replace("250000", "260000"))
    (proc / "self" / "fd" / "9").write_text("")
    fams = parse(registry.render())
    assert fams["process_resident_memory_bytes"].value() == 260_000 * 1024
    assert fams["process_open_fds"].value() == 3


def test_this_process_reads_plausibly() -> None:
    registry = Registry()
    assert register_process_metrics(registry)
    fams = parse(registry.render())
    rss = fams["process_resident_memory_bytes"].value()
    own = fams["orechain_resident_memory_own_bytes"].value()
    files = fams["orechain_resident_memory_mapped_files_bytes"].value()
    assert 0 < own < rss and 0 < files < rss
    # Each figure is its own read of /proc, so the process may grow between them.
    assert own + files <= rss + (1 << 20)
    assert fams["process_open_fds"].value() >= 3
    assert fams["process_cpu_seconds_total"].value() > 0
    assert time.time() - 86_400 < fams["process_start_time_seconds"].value() <= time.time()


def test_without_proc_nothing_is_added(tmp_path: Path) -> None:
    registry = Registry()
    assert not register_process_metrics(registry, tmp_path)
    assert registry.render().strip() == ""


def test_a_partial_proc_adds_nothing(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path, fds=1)
    (proc / "stat").write_text("cpu  1 2 3 4\n")          # no btime line
    registry = Registry()
    assert not register_process_metrics(registry, proc)
    assert registry.render().strip() == ""


def test_fields_an_old_kernel_lacks_are_left_out(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path, fds=1)
    status = proc / "self" / "status"
    status.write_text("".join(line + "\n" for line in _STATUS.splitlines()
                              if not line.startswith(("RssAnon", "RssFile"))))
    registry = Registry()
    assert register_process_metrics(registry, proc)
    fams = parse(registry.render())
    assert "orechain_resident_memory_own_bytes" not in fams
    assert fams["process_resident_memory_bytes"].value() == 250_000 * 1024
