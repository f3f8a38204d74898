"""The replay bench runs end to end on a short chain (benches/replay.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benches.replay import _chain, main, replay
from node.daemon.ledger import InvalidBlock


def test_replay_reports_cpu_per_event(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--blocks", "2", "--rounds", "1", "--home", str(tmp_path)])
    out = capsys.readouterr().out
    assert '"events": 2000' in out and '"cpu_us_per_event"' in out


def test_replay_applies_every_block_and_refuses_one_out_of_order(tmp_path: Path) -> None:
    finals = _chain(tmp_path, 2)
    assert len(finals) == 2 and replay(finals) > 0
    with pytest.raises(InvalidBlock):
        replay(finals[1:])              # height 2 on a fresh ledger


def test_a_kept_chain_is_extended_with_fresh_lot_ids(tmp_path: Path) -> None:
    assert len(_chain(tmp_path, 1)) == 1
    finals = _chain(tmp_path, 2)      # a repeated lot id would be refused, and raise
    assert len(finals) == 2 and replay(finals) > 0
