"""GET /metrics over real HTTP on 127.0.0.1, beside the real JSON-RPC server."""

import asyncio
import time

from aiohttp import ClientSession, web

from node.metrics import NodeMetrics
from node.metrics.routes import register_routes
from node.rpc.access import AccessPolicy, RateLimiter
from node.rpc.errors import METHOD_NOT_FOUND, NOT_FOUND, RpcError
from node.rpc.server import JsonRpcServer
from tests.helpers import free_port
from tests.metrics.exposition import parse


async def _lot_get(params):
    raise RpcError(NOT_FOUND, f"lot {params.get('lot_id')} is not on chain")


async def _chain_head(params):
    return {"height": 0}


async def _scrape_around_calls() -> tuple[str, str, dict]:
    metrics = NodeMetrics()
    app = web.Application()
    handlers = metrics.instrument_rpc({"chain_head": _chain_head, "lot_get": _lot_get})
    no_limit = RateLimiter(rate_per_s=0, burst=0, clock=time.monotonic)
    JsonRpcServer(handlers, AccessPolicy("", no_limit)).routes(app)
    register_routes(app, metrics.registry)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    try:
        async with ClientSession() as http:
            calls = [{"jsonrpc": "2.0", "id": 1, "method": "chain_head"},
                     {"jsonrpc": "2.0", "id": 2, "method": "lot_get",
                      "params": {"lot_id": "PK-RE-2026-0404"}},
                     {"jsonrpc": "2.0", "id": 3, "method": "no_such_method"}]
            async with http.post(base + "/rpc", json=calls) as reply:
                answers = {a["id"]: a for a in await reply.json()}
            async with http.get(base + "/metrics") as reply:
                return reply.headers["Content-Type"], await reply.text(), answers
    finally:
        await runner.cleanup()


def test_metrics_endpoint_serves_parseable_text_counting_rpc_calls():
    content_type, text, answers = asyncio.run(_scrape_around_calls())
    assert answers[2]["error"]["code"] == NOT_FOUND
    assert answers[3]["error"]["code"] == METHOD_NOT_FOUND
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    fams = parse(text)
    duration = fams["orechain_rpc_duration_seconds"]
    assert duration.value("orechain_rpc_duration_seconds_count", method="chain_head") == 1
    assert duration.value("orechain_rpc_duration_seconds_count", method="lot_get") == 1
    assert fams["orechain_rpc_errors_total"].value(method="lot_get", code=str(NOT_FOUND)) == 1
    # An unknown method never reaches a handler: the method label stays a closed set.
    assert not any("no_such_method" in str(key) for f in fams.values() for key in f.samples)
