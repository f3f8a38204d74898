"""JSON-RPC 2.0 error codes: the spec's, plus orechain's application codes."""

from __future__ import annotations

from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

EVENT_REJECTED = -32010      # bad signature, wrong chain, unregistered key, malformed event
NOT_FOUND = -32011           # no such tx, lot or block
NOT_ACCEPTING = -32012       # mempool full or storage unavailable; retry later
UNAUTHORIZED = -32013        # write method without the node's bearer token
RATE_LIMITED = -32014        # too many calls from this client

APPLICATION_ERRORS: dict[int, str] = {
    EVENT_REJECTED: "The event was refused at submission and is not on chain; the message "
                    "says why (signature, chain id, signer key, or event shape).",
    NOT_FOUND: "The tx, lot or block asked for is not known to this node.",
    NOT_ACCEPTING: "The node cannot take events right now (mempool full or disk "
                   "unavailable); nothing already accepted is lost. Retry later.",
    UNAUTHORIZED: "Write methods from beyond 127.0.0.1 need the node's bearer token.",
    RATE_LIMITED: "This client sent more calls than the node's rate limit; slow down.",
}


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err
