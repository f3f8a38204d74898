"""The explorer's HTTP side, served by a real aiohttp server on 127.0.0.1: what it
serves, the headers that keep it same-origin, and no asset that reaches elsewhere."""

import asyncio
import re

from aiohttp import ClientSession, web

from node.explorer.routes import STATIC, register_routes
from tests.helpers import free_port


async def _fetch_all(paths: list[str]) -> dict[str, tuple[int, dict[str, str], str]]:
    app = web.Application()
    register_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    out = {}
    try:
        async with ClientSession() as http:
            for path in paths:
                async with http.get(f"http://127.0.0.1:{port}{path}",
                                    allow_redirects=False) as reply:
                    out[path] = (reply.status, dict(reply.headers), await reply.text())
    finally:
        await runner.cleanup()
    return out


def test_page_and_assets_are_served_same_origin_only():
    assets = sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file())
    paths = ["/", "/explorer", "/explorer/../routes.py",
             *(f"/explorer/{a}" for a in assets)]
    replies = asyncio.run(_fetch_all(paths))
    status, headers, page = replies["/"]
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "connect-src 'self'" in headers["Content-Security-Policy"]
    assert replies["/explorer"][0] == 302 and replies["/explorer"][1]["Location"] == "/"
    assert replies["/explorer/../routes.py"][0] == 404
    # Every asset the page names exists and is served with a type browsers execute.
    for ref in re.findall(r'(?:src|href)="(/explorer/[^"]+)"', page):
        assert replies[ref][0] == 200, ref
    for asset in assets:
        status, headers, text = replies[f"/explorer/{asset}"]
        assert status == 200
        assert headers["X-Content-Type-Options"] == "nosniff"
        if asset.endswith(".js"):
            assert "javascript" in headers["Content-Type"]
            for module in re.findall(r"from '\./([^']+)'", text):
                assert f"js/{module}" in assets, (asset, module)
        # No CDN, font service or any other origin: the only URLs are the SVG namespace
        # and the loopback address the page tells people to use.
        urls = set(re.findall(r"https?://[^\s'\"]+", text))
        assert urls <= {"http://www.w3.org/2000/svg", "http://127.0.0.1"}, (asset, urls)
