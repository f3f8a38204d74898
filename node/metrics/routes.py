"""GET /metrics on the RPC listener: the registry in Prometheus text format."""

from __future__ import annotations

from aiohttp import web

from node.metrics.registry import CONTENT_TYPE, Registry


def register_routes(app: web.Application, registry: Registry) -> None:
    async def metrics(request: web.Request) -> web.Response:
        # aiohttp's content_type argument refuses parameters, so the header is set whole.
        return web.Response(text=registry.render(), headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/metrics", metrics)
