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
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from benches.workload import EventStream
from node.rpc.errors import NOT_ACCEPTING

BUSY_PAUSE_S = 0.5  # how long a client waits before sending events a node refused as busy


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


class Batch:
    """One batch's calls, each pre-serialised, and the tx id each submits."""

    def __init__(self, calls: list[bytes], tx_ids: list[str]) -> None:
        self.calls = calls
        self.tx_ids = tx_ids

    def body(self, ids: list[int]) -> bytes:
        """The HTTP body of the calls with these ids (a retry sends only the refused)."""
        return b"[" + b",".join(self.calls[i] for i in ids) + b"]"


def _batches(plan: ClientPlan) -> list[Batch]:
    stream = EventStream(plan.tag, plan.stream)
    batches = int(plan.rate * plan.duration / plan.batch) + 1
    out = []
    for _ in range(batches):
        txs = list(stream.events(plan.batch))
        calls = [json.dumps({"jsonrpc": "2.0", "id": i, "method": "lot_submitEvent",
                             "params": {"event": tx.to_json()}}).encode()
                 for i, tx in enumerate(txs)]
        out.append(Batch(calls, [tx.tx_id.hex() for tx in txs]))
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


class Tally:
    """What a client learnt: submit times of acknowledged txs, errors, retries, lag."""

    def __init__(self) -> None:
        self.submitted: dict[str, float] = {}
        self.errors: Counter[str] = Counter()
        self.busy_retries = 0
        self.max_lag = 0.0

    def error(self, message: str, count: int = 1) -> None:
        self.errors[message[:80]] += count

    def write(self, path: str) -> None:
        with open(path, "w") as fh:
            json.dump({"submitted": self.submitted, "errors": self.errors,
                       "busy_retries": self.busy_retries, "max_lag_s": self.max_lag}, fh)


def run_client(plan: ClientPlan) -> None:
    batches = _batches(plan)
    conns = Connections(plan.rpc_urls)
    interval = plan.batch / plan.rate
    tally = Tally()
    while time.monotonic() < plan.start_at:
        time.sleep(0.01)
    end = plan.start_at + plan.duration
    for n, batch in enumerate(batches):
        due = plan.start_at + n * interval
        if due >= end:
            break
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        tally.max_lag = max(tally.max_lag, time.monotonic() - due)
        _submit(conns, (n + plan.stream) % len(plan.rpc_urls), batch, end, tally)
    tally.write(plan.out_path)


def _submit(conns: Connections, node: int, batch: Batch, end: float, tally: Tally) -> None:
    """Send a batch; calls a node refuses as busy are sent again after a pause, as a
    real client would, until the run's end. A tx's submit time is the first send."""
    sent_at = time.monotonic()
    ids = list(range(len(batch.calls)))
    while ids:
        try:
            replies = conns.post(node, batch.body(ids))
        except (OSError, http.client.HTTPException) as exc:
            tally.error(type(exc).__name__, len(ids))
            return
        if isinstance(replies, dict):  # the whole request refused (e.g. a batch too long)
            tally.error(replies["error"]["message"], len(ids))
            return
        ids = []
        for reply in replies:
            if "result" in reply:
                tally.submitted[batch.tx_ids[reply["id"]]] = sent_at
            elif reply["error"]["code"] == NOT_ACCEPTING and time.monotonic() < end:
                ids.append(reply["id"])
            else:
                tally.error(reply["error"]["message"])
        if ids:
            tally.busy_retries += 1
            time.sleep(BUSY_PAUSE_S)
