"""One load-generating client process: signed register_lot / assay pairs, sent as
JSON-RPC batches of lot_submitEvent to the devnet's nodes in turn, at a fixed rate.

Every batch is signed and serialised before the start time, so during the measured
window the client spends its CPU on HTTP only (a real client signs on its own
device, not on the nodes' cores). A batch keeps each register_lot beside its assay
and goes to one node, so the pair reaches a proposer in order.
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from benches.workload import EventStream


@dataclass(frozen=True)
class ClientPlan:
    stream: int  # this client's number; makes its lot ids unique
    tag: str  # the run's tag; makes lot ids unique across runs on one chain
    rpc_urls: list[str]
    rate: float  # events per second this client offers
    batch: int  # events per JSON-RPC batch (even: pairs stay together)
    start_at: float  # time.monotonic() at which to send the first batch
    duration: float  # seconds to keep sending
    out_path: str  # where to write {tx_id hex: submit time}, errors and lag


def _bodies(plan: ClientPlan) -> list[tuple[bytes, list[str]]]:
    """The pre-serialised HTTP bodies of every batch, with the tx ids each carries."""
    stream = EventStream(plan.tag, plan.stream)
    batches = int(plan.rate * plan.duration / plan.batch) + 1
    out = []
    for _ in range(batches):
        txs = list(stream.events(plan.batch))
        calls = [{"jsonrpc": "2.0", "id": i, "method": "lot_submitEvent",
                  "params": {"event": tx.to_json()}} for i, tx in enumerate(txs)]
        out.append((json.dumps(calls).encode(), [tx.tx_id.hex() for tx in txs]))
    return out


class Connections:
    """One keep-alive HTTP connection per node."""

    def __init__(self, urls: list[str]) -> None:
        self._targets = [urlsplit(u) for u in urls]
        self._conns: dict[int, http.client.HTTPConnection] = {}

    def post(self, index: int, body: bytes) -> list[dict] | dict:
        target = self._targets[index]
        for attempt in (1, 2):
            conn = self._conns.get(index)
            if conn is None:
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                self._conns[index] = conn
            try:
                conn.request("POST", target.path, body, {"Content-Type": "application/json"})
                return json.loads(conn.getresponse().read())
            except (OSError, http.client.HTTPException):
                conn.close()
                del self._conns[index]
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def run_client(plan: ClientPlan) -> None:
    bodies = _bodies(plan)
    conns = Connections(plan.rpc_urls)
    interval = plan.batch / plan.rate
    submitted: dict[str, float] = {}
    errors: dict[str, int] = {}
    max_lag = 0.0
    while time.monotonic() < plan.start_at:
        time.sleep(0.01)
    end = plan.start_at + plan.duration
    for n, (body, tx_ids) in enumerate(bodies):
        due = plan.start_at + n * interval
        if due >= end:
            break
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        max_lag = max(max_lag, time.monotonic() - due)
        sent_at = time.monotonic()
        try:
            replies = conns.post((n + plan.stream) % len(plan.rpc_urls), body)
        except (OSError, http.client.HTTPException) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + len(tx_ids)
            continue
        if isinstance(replies, dict):  # the whole request refused (e.g. a batch too long)
            message = replies["error"]["message"][:80]
            errors[message] = errors.get(message, 0) + len(tx_ids)
            continue
        for reply in replies:
            if "result" in reply:
                submitted[tx_ids[reply["id"]]] = sent_at
            else:
                message = reply["error"]["message"][:80]
                errors[message] = errors.get(message, 0) + 1
    with open(plan.out_path, "w") as fh:
        json.dump({"submitted": submitted, "errors": errors, "max_lag_s": max_lag}, fh)
