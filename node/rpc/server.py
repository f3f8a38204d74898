"""HTTP transport of the JSON-RPC API: POST /rpc (single calls and batches).

Limits are enforced before work: the body size (aiohttp refuses a larger body while
reading, without buffering it whole), the batch length, and the JSON nesting depth.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from node.rpc.access import WRITE_METHODS, AccessPolicy
from node.rpc.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RATE_LIMITED,
    UNAUTHORIZED,
    RpcError,
)
from node.rpc.jsontext import reply_body

log = logging.getLogger("orechain.rpc")

MAX_BODY_BYTES = 1 << 20
MAX_BATCH = 200
MAX_JSON_DEPTH = 32

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


def _depth(value: Any, limit: int) -> bool:
    """True if `value` nests no deeper than `limit`, a scalar inside a container counting
    one level below it. Walked level by level over containers only (iterative: hostile
    input can't recurse; a batch's scalars, most of its values, are not stacked)."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 1
    while level:
        inner: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            if children and depth == limit:
                return False         # its entries would sit deeper than the limit
            inner += [c for c in children if isinstance(c, (dict, list))]
        level = inner
        depth += 1
    return True


class JsonRpcServer:
    def __init__(self, methods: dict[str, Handler], policy: AccessPolicy) -> None:
        self.methods = methods
        self.policy = policy

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/rpc", self.handle_http)
        app.router.add_post("/", self.handle_http)

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return self._too_large()  # refused from the header, before reading any body
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._too_large()
        try:
            payload = json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            return self._reply(_error(None, RpcError(PARSE_ERROR, f"parse error: {exc}")))
        except RecursionError:
            return self._reply(_error(None, RpcError(
                INVALID_REQUEST, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")))
        may_write = self.policy.may_write(request.remote, request.headers.get("Authorization"))
        if not _depth(payload, MAX_JSON_DEPTH):
            return self._reply(_error(None, RpcError(
                INVALID_REQUEST, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")))
        if isinstance(payload, list):
            if not payload:
                return self._reply(_error(None, RpcError(INVALID_REQUEST, "empty batch")))
            if len(payload) > MAX_BATCH:
                return self._reply(_error(None, RpcError(
                    INVALID_REQUEST, f"batch of {len(payload)} calls; the limit is {MAX_BATCH}")))
            if not self.policy.limiter.allow(request.remote or "", len(payload)):
                return self._rate_limited()
            # Concurrently, so the batch's submissions share one fsync (group commit);
            # gather keeps the replies in call order.
            done = await asyncio.gather(*(self.call(item, may_write) for item in payload))
            replies = [r for r in done if r is not None]
            return self._reply(replies) if replies else web.Response(status=204)
        if not self.policy.limiter.allow(request.remote or ""):
            return self._rate_limited()
        reply = await self.call(payload, may_write)
        return self._reply(reply) if reply is not None else web.Response(status=204)

    def _too_large(self) -> web.Response:
        return self._reply(_error(None, RpcError(
            INVALID_REQUEST, f"request body over the {MAX_BODY_BYTES} byte limit")), 413)

    def _rate_limited(self) -> web.Response:
        return self._reply(_error(None, RpcError(
            RATE_LIMITED, f"rate limit of {self.policy.limiter.rate} calls/s exceeded; "
            "retry after a pause")), 429)

    @staticmethod
    def _reply(body: Any, status: int = 200) -> web.Response:
        return web.Response(body=reply_body(body), status=status,
                            content_type="application/json")

    async def call(self, request: Any, may_write: bool) -> dict[str, Any] | None:
        """One JSON-RPC call; None for a notification (no id)."""
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0":
            return _error(None, RpcError(INVALID_REQUEST,
                                         'a request is an object with "jsonrpc": "2.0"'))
        req_id = request.get("id")
        is_notification = "id" not in request
        if (req_id is not None and not isinstance(req_id, (str, int))) or isinstance(req_id, bool):
            return _error(None, RpcError(INVALID_REQUEST, "id must be a string, integer or null"))
        method = request.get("method")
        if not isinstance(method, str):
            return _error(req_id, RpcError(INVALID_REQUEST, "method must be a string"))
        params = request.get("params", {})
        if isinstance(params, list) and not params:
            params = {}
        if not isinstance(params, dict):
            return _error(req_id, RpcError(INVALID_PARAMS, "params must be an object (by name)"))
        handler = self.methods.get(method)
        if handler is None:
            return _error(req_id, RpcError(METHOD_NOT_FOUND, f"method {method!r} not found; "
                                           "rpc.discover lists the methods"))
        if method in WRITE_METHODS and not may_write:
            return _error(req_id, RpcError(
                UNAUTHORIZED, f"{method} from beyond 127.0.0.1 needs the node's bearer token "
                "(Authorization: Bearer <rpc_token from config.json>)"))
        try:
            result = await handler(params)
        except RpcError as exc:
            return None if is_notification else _error(req_id, exc)
        except Exception:
            log.exception("internal error in %s", method)
            return None if is_notification else _error(req_id, RpcError(
                INTERNAL_ERROR, "internal error; the node's log has details"))
        if is_notification:
            return None
        return {"jsonrpc": "2.0", "id": req_id, "result": result}


def _error(req_id: Any, exc: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": req_id, "error": exc.to_json()}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
