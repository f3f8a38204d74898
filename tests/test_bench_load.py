"""The load bench runs end to end on a short window (benches/load.py): a devnet of six
real node processes, a client process, and a report built from the nodes' own counters."""

from __future__ import annotations

from pathlib import Path

import pytest

from benches.load import parse_args, run


def test_a_short_load_run_finalises_every_event_and_reports_each_node(tmp_path: Path) -> None:
    args = parse_args(["--duration", "4", "--clients", "1", "--rate", "50", "--batch", "10",
                       "--home", str(tmp_path)])
    report = run(args)
    assert report["acknowledged"] == 200 and report["submit_errors"] == {}
    assert report["busy_retries"] == 0 and report["topology"]["submit_max_pending"] == 0
    assert report["never_final"] == 0 and report["finalised_events_per_s"] > 0
    assert report["sampled_status"] == {"final": 200}
    assert report["latency_s"]["p50"] <= report["latency_s"]["p99"]
    assert set(report["nodes"]) == {"validator-1", "validator-2", "validator-3",
                                    "validator-4", "mine-1-node", "mine-2-node"}
    for name, node in report["nodes"].items():
        assert node["cpu_percent"] > 0 and node["rss_mib"] > 0, name
    # validator-1, whose chain the bench follows, checked every event's signature when
    # it admitted or validated it; votes add a few more checks per block.
    assert report["nodes"]["validator-1"]["ed25519_checks_per_event"] >= 1.0
    assert 0 < report["fraction_of_ceiling"] < 1
    assert report["nodes_cpu_us_per_event"] > 0 and report["blocks_in_window"] > 0


def test_a_batch_over_the_rpc_limit_is_refused_before_any_node_starts() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--batch", "400"])
