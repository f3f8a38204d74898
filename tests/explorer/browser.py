"""Headless Chromium driven over the DevTools protocol (a websocket, through aiohttp).

`Chromium` is the browser process with its own throwaway profile; `Page` is one tab:
navigate, evaluate JavaScript (awaiting promises), wait for a condition, screenshot.
Uncaught page errors and console errors are kept, so a failing test can show them.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0"]


class BrowserError(RuntimeError):
    pass


class Chromium:
    def __init__(self, binary: str, profile: Path) -> None:
        self.binary = binary
        self.profile = profile
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self, timeout: float = 60) -> Chromium:
        log = open(self.profile.parent / "chromium.log", "wb")  # noqa: SIM115 - the process owns it
        self.proc = subprocess.Popen([self.binary, *FLAGS, f"--user-data-dir={self.profile}",
                                      "about:blank"], stdout=log, stderr=log)
        # With port 0 Chromium picks a free port and writes it to DevToolsActivePort.
        active = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrowserError(f"chromium exited with {self.proc.returncode}")
            if active.exists() and active.read_text().strip():
                self.port = int(active.read_text().split()[0])
                return self
            time.sleep(0.1)
        raise BrowserError(f"chromium did not open its DevTools port within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Page:
    """One tab, opened with `async with Page(port, width, height) as page`."""

    def __init__(self, port: int, width: int = 1280, height: int = 900) -> None:
        self.port = port
        self.size = (width, height)
        self.errors: list[str] = []
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}

    async def __aenter__(self) -> Page:
        self._http = aiohttp.ClientSession()
        async with self._http.put(f"http://127.0.0.1:{self.port}/json/new?about:blank") as r:
            self._target = await r.json()
        self._ws = await self._http.ws_connect(self._target["webSocketDebuggerUrl"],
                                               max_msg_size=64 * 1024 * 1024)
        self._reader = asyncio.create_task(self._read())
        await self.send("Runtime.enable")
        await self.send("Page.enable")
        await self.send("Emulation.setDeviceMetricsOverride", width=self.size[0],
                        height=self.size[1], deviceScaleFactor=1, mobile=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._reader.cancel()
        await self._ws.close()
        async with self._http.get(
                f"http://127.0.0.1:{self.port}/json/close/{self._target['id']}"):
            pass
        await self._http.close()

    async def _read(self) -> None:
        async for msg in self._ws:
            data = json.loads(msg.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
            elif data.get("method") == "Runtime.exceptionThrown":
                details = data["params"]["exceptionDetails"]
                self.errors.append(details.get("exception", {}).get("description")
                                   or details.get("text", "exception"))
            elif data.get("method") == "Runtime.consoleAPICalled" and \
                    data["params"]["type"] == "error":
                self.errors.append(" ".join(str(a.get("value", a.get("description")))
                                            for a in data["params"]["args"]))

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        await self._ws.send_json({"id": msg_id, "method": method, "params": params})
        reply = await asyncio.wait_for(future, 30)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        return reply["result"]

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of `expression` in the page, after awaiting it if it is a promise."""
        result = await self.send("Runtime.evaluate", expression=expression, awaitPromise=True,
                                 returnByValue=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(details.get("exception", {}).get("description")
                               or details["text"])
        return result["result"].get("value")

    async def navigate(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete'")

    async def wait_for(self, expression: str, timeout: float = 20) -> Any:
        """Poll until `expression` is truthy in the page; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {expression!r}; "
                                   f"page errors: {self.errors}")
            await asyncio.sleep(0.1)

    async def screenshot(self) -> bytes:
        """A PNG of the whole page, not only the viewport."""
        content = (await self.send("Page.getLayoutMetrics"))["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": content["width"], "height": content["height"],
                "scale": 1}
        shot = await self.send("Page.captureScreenshot", format="png", clip=clip,
                               captureBeyondViewport=True)
        return base64.b64decode(shot["data"])
