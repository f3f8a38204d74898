"""A live one-validator daemon for the fuzzers that attack a real process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.solo import solo_node
from tests.helpers import NodeProcess


def rss_kib(node: NodeProcess) -> int:
    """Resident set size of the node process, from /proc."""
    assert node.proc is not None
    for line in Path(f"/proc/{node.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc status")


@pytest.fixture(scope="module")
def live_node(tmp_path_factory):
    node = solo_node(tmp_path_factory.mktemp("fuzz-node"))
    node.start()
    yield node
    assert node.stop() == 0, node.log()
