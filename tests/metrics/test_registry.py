"""The registry renders valid Prometheus text, and the test's reader refuses invalid text."""

import asyncio
import math

import pytest

from node.metrics import NodeMetrics, Registry, heights_behind
from node.metrics.registry import format_value
from node.rpc.errors import INTERNAL_ERROR, NOT_FOUND, RpcError
from tests.metrics.exposition import ExpositionError, parse


def test_every_kind_renders_and_parses_back():
    r = Registry()
    c = r.counter("demo_events_total", "Events seen.")
    g = r.gauge("demo_temperature_celsius", "A gauge that can fall.", ["site"])
    h = r.histogram("demo_latency_seconds", "Latency.", ["method"], buckets=[0.1, 1, 10])
    c.inc()
    c.inc(2.5)
    g.labels(site="mine-1-pit-a").set(41.5)
    g.labels(site="refinery-1-qasim").set(-3)
    for value in (0.05, 0.1, 0.7, 11):
        h.labels(method="chain_head").observe(value)
    fams = parse(r.render())
    assert fams["demo_events_total"].type == "counter"
    assert fams["demo_events_total"].value() == 3.5
    assert fams["demo_events_total"].help == "Events seen."
    assert fams["demo_temperature_celsius"].value(site="mine-1-pit-a") == 41.5
    assert fams["demo_temperature_celsius"].value(site="refinery-1-qasim") == -3
    hist = fams["demo_latency_seconds"]
    bucket = "demo_latency_seconds_bucket"
    # le is inclusive: 0.1 falls in the 0.1 bucket; 11 only in +Inf.
    assert hist.value(bucket, method="chain_head", le="0.1") == 2
    assert hist.value(bucket, method="chain_head", le="1") == 3
    assert hist.value(bucket, method="chain_head", le="10") == 3
    assert hist.value(bucket, method="chain_head", le="+Inf") == 4
    assert hist.value("demo_latency_seconds_count", method="chain_head") == 4
    assert math.isclose(hist.value("demo_latency_seconds_sum", method="chain_head"), 11.85)


def test_unlabelled_metrics_show_zero_before_any_update():
    r = Registry()
    r.counter("demo_total", "Nothing yet.")
    r.histogram("demo_seconds", "Nothing yet.", buckets=[1])
    fams = parse(r.render())
    assert fams["demo_total"].value() == 0
    assert fams["demo_seconds"].value("demo_seconds_bucket", le="+Inf") == 0


def test_label_values_and_help_are_escaped():
    r = Registry()
    awkward = 'lot "PK-CU-1"\\weighed\nagain'
    r.gauge("demo_gauge", "Help with a \\ and\na newline.", ["note"]).labels(note=awkward).set(1)
    text = r.render()
    assert "\nagain" not in text  # a raw newline would end the sample line early
    fams = parse(text)
    assert fams["demo_gauge"].value(note=awkward) == 1
    assert fams["demo_gauge"].help == "Help with a \\\\ and\\na newline."


def test_gauge_function_is_read_at_scrape_time():
    r = Registry()
    mempool: list[str] = []
    r.gauge("demo_mempool", "Live size.").set_function(lambda: len(mempool))
    assert parse(r.render())["demo_mempool"].value() == 0
    mempool.extend(["tx1", "tx2"])
    assert parse(r.render())["demo_mempool"].value() == 2


@pytest.mark.parametrize("number, text", [(3, "3"), (2.5, "2.5"), (float("inf"), "+Inf"),
                                          (float("-inf"), "-Inf"), (float("nan"), "NaN"),
                                          (1e-7, "1e-07")])
def test_numbers_use_prometheus_spelling(number, text):
    assert format_value(number) == text


def test_misuse_is_refused():
    r = Registry()
    c = r.counter("demo_total", "A counter.", ["method"])
    with pytest.raises(ValueError, match="only increases"):
        c.labels(method="x").inc(-1)
    with pytest.raises(ValueError, match="takes labels"):
        c.labels(kind="x")
    with pytest.raises(ValueError, match=r"use \.labels"):
        c.inc()
    with pytest.raises(ValueError, match="already registered"):
        r.gauge("demo_total", "Again.")
    with pytest.raises(ValueError, match="not a valid metric name"):
        r.gauge("2fast", "Bad name.")
    with pytest.raises(ValueError, match="label name"):
        r.histogram("demo_seconds", "Reserved label.", ["le"])
    with pytest.raises(ValueError, match="increasing"):
        r.histogram("demo2_seconds", "Unsorted.", buckets=[1, 0.5])


GOOD_HISTOGRAM = """# TYPE h histogram
h_bucket{le="1"} 1
h_bucket{le="+Inf"} 2
h_sum 3.5
h_count 2
"""


@pytest.mark.parametrize("text, problem", [
    (GOOD_HISTOGRAM.replace('h_bucket{le="+Inf"} 2\n', ""), "no \\+Inf bucket"),
    (GOOD_HISTOGRAM.replace('{le="1"} 1', '{le="1"} 5'), "not cumulative"),
    (GOOD_HISTOGRAM.replace("h_count 2", "h_count 3"), "differs from _count"),
    (GOOD_HISTOGRAM.replace("h_sum 3.5\n", ""), "no _sum"),
    ("c_total 1\n# TYPE c_total counter\n", "comes late"),
    ("# TYPE c_total counter\nc_total -1\n", "counter"),
    ('g{a="x\\q"} 1\n', "bad escape"),
    ('g{a="x" b="y"} 1\n', "commas"),
    ("g 1\nh 1\ng{a=\"b\"} 2\n", "not together"),
    ("g 1\ng 2\n", "twice"),
    ("g one\n", "not a number"),
    ("g 1", "newline"),
    ("# TYPE g gauges\n", "malformed"),
])
def test_reader_refuses_broken_expositions(text, problem):
    with pytest.raises(ExpositionError, match=problem):
        parse(text)


def test_good_histogram_text_passes_the_reader():
    assert parse(GOOD_HISTOGRAM)["h"].value("h_count") == 2


class ManualClock:
    """Time that moves only when the test says so, for exact latencies."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_finalisation_latency_counts_only_events_submitted_here():
    clock = ManualClock()
    m = NodeMetrics(clock=clock)
    m.tx_submitted(b"a" * 32)
    clock.now += 1.5
    m.tx_submitted(b"a" * 32)  # a retried submission keeps its first time
    m.block_final(round_=1, tx_ids=[b"a" * 32, b"g" * 32])  # g arrived by gossip
    fams = parse(m.registry.render())
    latency = fams["orechain_finalisation_latency_seconds"]
    assert latency.value("orechain_finalisation_latency_seconds_count") == 1
    assert latency.value("orechain_finalisation_latency_seconds_sum") == 1.5
    rounds = fams["orechain_consensus_rounds_per_height"]
    assert rounds.value("orechain_consensus_rounds_per_height_bucket", le="1") == 0
    assert rounds.value("orechain_consensus_rounds_per_height_bucket", le="2") == 1
    assert fams["orechain_blocks_final_total"].value() == 1
    assert fams["orechain_txs_final_total"].value() == 2
    m.block_final(round_=0, tx_ids=[b"a" * 32])  # already observed: not counted twice
    assert parse(m.registry.render())["orechain_finalisation_latency_seconds"].value(
        "orechain_finalisation_latency_seconds_count") == 1


def test_bind_reads_live_figures_and_heights_behind():
    m = NodeMetrics()
    node = {"height": 7, "peers": [9, 12]}
    m.bind(height=lambda: node["height"], peers=lambda: len(node["peers"]),
           mempool_size=lambda: 4, peer_heights=lambda: node["peers"],
           traffic=lambda: (1_000, 2_500), signatures=lambda: (31, 87))
    fams = parse(m.registry.render())
    assert fams["orechain_signatures_verified"].value() == 31
    assert fams["orechain_signature_cache_hits"].value() == 87
    assert fams["orechain_p2p_sent_bytes"].value() == 1_000
    assert fams["orechain_p2p_received_bytes"].value() == 2_500
    assert fams["orechain_height"].value() == 7
    assert fams["orechain_peers"].value() == 2
    assert fams["orechain_mempool_txs"].value() == 4
    assert fams["orechain_sync_heights_behind"].value() == 5
    node["height"] = 13
    assert parse(m.registry.render())["orechain_sync_heights_behind"].value() == 0
    assert heights_behind(3, []) == 0


def test_instrumented_handlers_time_calls_and_count_errors_by_code():
    clock = ManualClock()
    m = NodeMetrics(clock=clock)

    async def chain_head(params):
        clock.now += 0.25
        return {"height": 1}

    async def lot_get(params):
        raise RpcError(NOT_FOUND, "lot PK-SB-0 is not on chain")

    async def broken(params):
        raise KeyError("bug")

    handlers = m.instrument_rpc({"chain_head": chain_head, "lot_get": lot_get,
                                 "broken": broken})

    async def calls():
        assert await handlers["chain_head"]({}) == {"height": 1}
        with pytest.raises(RpcError):
            await handlers["lot_get"]({})
        with pytest.raises(KeyError):
            await handlers["broken"]({})

    asyncio.run(calls())
    fams = parse(m.registry.render())
    duration = fams["orechain_rpc_duration_seconds"]
    assert duration.value("orechain_rpc_duration_seconds_sum", method="chain_head") == 0.25
    assert duration.value("orechain_rpc_duration_seconds_count", method="lot_get") == 1
    errors = fams["orechain_rpc_errors_total"]
    assert errors.value(method="lot_get", code=str(NOT_FOUND)) == 1
    assert errors.value(method="broken", code=str(INTERNAL_ERROR)) == 1
    assert ("orechain_rpc_errors_total", (("code", str(NOT_FOUND)), ("method", "chain_head"))) \
        not in errors.samples
