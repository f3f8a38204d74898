"""Serves the explorer page on the RPC listener: GET / and its assets under /explorer/.

The page is static HTML, CSS and ES modules; everything it shows comes from the node's
own JSON-RPC at /rpc, called by the browser. Nothing is loaded from elsewhere, and the
Content-Security-Policy says so to the browser too.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"
ASSET_PREFIX = "/explorer/"

# Same-origin only: scripts, styles and RPC calls all come from this node.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def _explorer_root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/")


async def _secure(request: web.Request, response: web.StreamResponse) -> None:
    if request.path == "/" or request.path.startswith(ASSET_PREFIX):
        response.headers.update(SECURITY_HEADERS)


def register_routes(app: web.Application) -> None:
    app.router.add_get("/", _index)
    app.router.add_get("/explorer", _explorer_root)
    app.router.add_static(ASSET_PREFIX, STATIC)
    app.on_response_prepare.append(_secure)
