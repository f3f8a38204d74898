"""A small JSON-RPC client over HTTP (stdlib only), used by the CLI and tests."""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from typing import Any


class RpcCallError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} (code {code})")
        self.code = code
        self.message = message


class RpcClient:
    def __init__(self, url: str, timeout: float = 30.0, token: str = "") -> None:
        self.url = url
        self.timeout = timeout
        self.token = token
        self._ids = itertools.count(1)

    def _post(self, payload: Any) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url, data=json.dumps(payload).encode(),
                                     headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            body = exc.read()
            if not body:
                raise ConnectionError(f"{self.url} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ConnectionError(f"cannot reach the node at {self.url}: {reason}") from None
        return json.loads(body) if body else None

    def call(self, method: str, **params: Any) -> Any:
        reply = self._post({"jsonrpc": "2.0", "id": next(self._ids), "method": method,
                            "params": params})
        if "error" in reply:
            raise RpcCallError(reply["error"]["code"], reply["error"]["message"])
        return reply["result"]

    def batch(self, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Results (or RpcCallError instances) in call order."""
        first = next(self._ids)
        ids = [first + i for i in range(len(calls))]
        self._ids = itertools.count(first + len(calls))
        replies = self._post([{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
                              for i, (m, p) in zip(ids, calls, strict=True)])
        by_id = {r["id"]: r for r in replies}
        out: list[Any] = []
        for i in ids:
            r = by_id[i]
            out.append(RpcCallError(r["error"]["code"], r["error"]["message"])
                       if "error" in r else r["result"])
        return out
