"""The checks after a chaos run: nothing acknowledged is lost, nothing is final twice,
and every node holds the very same chain.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from node.cli.client import RpcCallError, RpcClient
from tests.chaos.cluster import ChaosNode

BATCH = 50  # well under the node's batch limit of 200: tx_get answers carry proofs
CHECK_TIMEOUT = 120.0  # a loaded machine answers a batch slowly; the load's 5 s is too short


@dataclass(frozen=True)
class Verdict:
    """What the checks established (kept for the run's report)."""

    height: int
    txs_on_chain: int
    acked_final: int
    acked_rejected: int


def wait_converged(nodes: list[ChaosNode], acked: Iterable[str], timeout: float) -> int:
    """Wait until every node has every acked tx decided and all heads agree; the height."""
    undecided = {n.name: set(acked) for n in nodes}  # shrinks as each node decides txs
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        try:
            for n in nodes:
                answers = tx_answers(n, undecided[n.name])
                undecided[n.name] = {tx for tx, a in answers.items()
                                     if a is None or a["status"] == "pending"}
            heads = [(n.name, n.rpc.call("chain_head")) for n in nodes]
        except ConnectionError as exc:
            last = str(exc)
        else:
            left = {name: len(txs) for name, txs in undecided.items() if txs}
            if not left and len({h["hash"] for _, h in heads}) == 1:
                return int(heads[0][1]["height"])
            last = f"heads {[(name, h['height']) for name, h in heads]}, undecided {left}"
        if time.monotonic() > deadline:
            raise AssertionError(f"the network did not converge within {timeout}s: {last}")
        time.sleep(1)


def tx_answers(node: ChaosNode, tx_ids: Iterable[str]) -> dict[str, dict[str, Any] | None]:
    """tx_get of every id, in batches; None where the node does not know the tx yet."""
    ids = list(tx_ids)
    out: dict[str, dict[str, Any] | None] = {}
    for i in range(0, len(ids), BATCH):
        chunk = ids[i:i + BATCH]
        replies = _checker(node).batch([("tx_get", {"tx_id": tx}) for tx in chunk])
        for tx, reply in zip(chunk, replies, strict=True):
            out[tx] = None if isinstance(reply, RpcCallError) else reply
    return out


def _checker(node: ChaosNode) -> RpcClient:
    return RpcClient(node.rpc.url, timeout=CHECK_TIMEOUT)


def _blocks(node: ChaosNode, height: int) -> list[dict[str, Any]]:
    """block_get of heights 1..height, in batches."""
    out: list[dict[str, Any]] = []
    for start in range(1, height + 1, BATCH):
        calls = [("block_get", {"height": h}) for h in range(start, min(start + BATCH, height + 1))]
        for reply in _checker(node).batch(calls):
            assert not isinstance(reply, RpcCallError), f"{node.name}: {reply}"
            out.append(reply)
    return out


def check_history(nodes: list[ChaosNode], acked: dict[str, str], height: int) -> Verdict:
    """Every node: identical block hashes at every height, each acked tx exactly once,
    at the same (height, index) everywhere, with the status its result says."""
    chains = [_blocks(n, height) for n in nodes]
    tx_ids = [tx for block in chains[0] for tx in block["tx_ids"]]
    for h, block in enumerate(chains[0], start=1):
        assert block["commit"] is not None, f"block {h} has no commit certificate"
    reference = [b["hash"] for b in chains[0]]
    for node, chain in zip(nodes[1:], chains[1:], strict=True):
        hashes = [b["hash"] for b in chain]
        diverged = [h for h, (a, b) in enumerate(zip(hashes, reference, strict=True), 1) if a != b]
        assert not diverged, f"{node.name} differs from {nodes[0].name} at heights {diverged[:5]}"
    twice = [tx for tx, n in Counter(tx_ids).items() if n > 1]
    assert not twice, f"txs final more than once: {twice[:5]}"
    on_chain = set(tx_ids)
    lost = [tx for tx in acked if tx not in on_chain]
    assert not lost, f"{len(lost)} acknowledged txs never became final, e.g. {lost[:5]}"
    statuses: Counter[str] = Counter()
    per_node = [tx_answers(n, acked) for n in nodes]
    for tx in acked:
        answers = [answers_of[tx] for answers_of in per_node]
        assert None not in answers, f"tx {tx} is unknown to some node"
        where = {(a["status"], a["height"], a["index"]) for a in answers if a}
        assert len(where) == 1, f"tx {tx} is decided differently across nodes: {where}"
        status = where.pop()[0]
        assert status in ("final", "rejected"), f"tx {tx} is {status}"
        statuses[status] += 1
    return Verdict(height, len(tx_ids), statuses["final"], statuses["rejected"])
