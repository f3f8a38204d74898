"""TCP proxies between nodes, one per directed p2p link, so links can be cut and slowed.

Node i reaches node j only through the proxy (i -> j), which listens on its own
loopback port and forwards to j's real p2p port. Each proxy has a mode the
nemesis changes at any time:

- up: bytes flow, each chunk delayed by `latency` seconds;
- cut: existing connections are closed and new ones closed on accept (a partition
  that TCP notices, as when a site router reboots);
- flaky: like up, but each chunk resets the connection with probability `drop`
  (a lost segment mid-stream breaks the authenticated framing anyway, so dropping
  a whole connection is how a lossy link looks to the p2p layer).

All proxies run on one asyncio loop in a background thread; the controlling test
thread changes modes through thread-safe calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

CHUNK = 65536


@dataclass
class LinkState:
    """What a proxy currently does to the bytes it carries."""

    cut: bool = False
    latency: float = 0.0
    drop: float = 0.0


@dataclass
class LinkProxy:
    """Forwards one directed link: listen port -> target port on 127.0.0.1."""

    name: str
    target_port: int
    rng: random.Random
    state: LinkState = field(default_factory=LinkState)
    port: int = 0
    connections: int = 0
    resets: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.sever()

    def sever(self) -> None:
        """Close every connection this proxy carries (both halves)."""
        for writer in list(self._writers):
            _abort(writer)
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.state.cut:
            _abort(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            _abort(writer)  # the target is down (killed): the dialler sees a refused link
            return
        self.connections += 1
        self._writers |= {writer, up_writer}
        pumps = [asyncio.create_task(self._pump(reader, up_writer)),
                 asyncio.create_task(self._pump(up_reader, writer))]
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for task in pumps:
            task.cancel()
        for w in (writer, up_writer):
            self._writers.discard(w)
            _abort(w)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(CHUNK):
                state = self.state
                if state.cut:
                    return
                if state.drop and self.rng.random() < state.drop:
                    self.resets += 1
                    return
                if state.latency:
                    await asyncio.sleep(state.latency * (0.5 + self.rng.random()))
                writer.write(data)
                await writer.drain()


def _abort(writer: asyncio.StreamWriter) -> None:
    transport = writer.transport
    if transport is not None and not transport.is_closing():
        transport.abort()


class ProxyMesh:
    """One proxy per ordered pair of nodes, on a private event loop thread."""

    def __init__(self, p2p_ports: list[int], rng: random.Random) -> None:
        self.size = len(p2p_ports)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chaos-proxies",
                                        daemon=True)
        self._thread.start()
        self.links: dict[tuple[int, int], LinkProxy] = {
            (i, j): LinkProxy(f"{i}->{j}", p2p_ports[j], random.Random(rng.random()))
            for i in range(self.size) for j in range(self.size) if i != j}
        for link in self.links.values():
            self._run(link.start())

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def _call(self, fn: Any, *args: Any) -> None:
        async def call() -> None:
            fn(*args)
        self._run(call())

    def peer_address(self, src: int, dst: int) -> str:
        """The address node `src` dials to reach node `dst`."""
        return f"127.0.0.1:{self.links[src, dst].port}"

    def set_all(self, *, latency: float = 0.0, drop: float = 0.0) -> None:
        def apply() -> None:
            for link in self.links.values():
                link.state = LinkState(cut=link.state.cut, latency=latency, drop=drop)
        self._call(apply)

    def partition(self, side: set[int]) -> None:
        """Cut every link between `side` and the rest (both directions)."""
        def apply() -> None:
            for (i, j), link in self.links.items():
                if (i in side) != (j in side):
                    link.state = LinkState(cut=True, latency=link.state.latency,
                                           drop=link.state.drop)
                    link.sever()
        self._call(apply)

    def heal(self) -> None:
        """Every link up again, no latency, no drops."""
        def apply() -> None:
            for link in self.links.values():
                link.state = LinkState()
        self._call(apply)

    def stats(self) -> dict[str, int]:
        return {"connections": sum(x.connections for x in self.links.values()),
                "resets": sum(x.resets for x in self.links.values())}

    def close(self) -> None:
        for link in self.links.values():
            self._run(link.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
