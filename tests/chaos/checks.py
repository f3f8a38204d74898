"""The checks after a chaos run: nothing acknowledged is lost, nothing is final twice,
and every node holds the very same chain.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from node.cli.client import RpcCallError
from tests.chaos.cluster import ChaosNode


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
    while time.monotonic() < deadline:
        try:
            for n in nodes:
                undecided[n.name] = {tx for tx in undecided[n.name]
                                     if _status(n, tx) == "pending"}
            heads = [(n.name, n.rpc.call("chain_head")) for n in nodes]
        except ConnectionError as exc:
            last = str(exc)
        else:
            left = {name: len(txs) for name, txs in undecided.items() if txs}
            if not left and len({h["hash"] for _, h in heads}) == 1:
                return int(heads[0][1]["height"])
            last = f"heads {[(name, h['height']) for name, h in heads]}, undecided {left}"
        time.sleep(1)
    raise AssertionError(f"the network did not converge within {timeout}s: {last}")


def _status(node: ChaosNode, tx_id: str) -> str:
    try:
        return str(node.rpc.call("tx_get", tx_id=tx_id)["status"])
    except RpcCallError:
        return "pending"  # not known here yet (gossip or sync still on the way)


def check_history(nodes: list[ChaosNode], acked: dict[str, str], height: int) -> Verdict:
    """Every node: identical block hashes at every height, each acked tx exactly once,
    at the same (height, index) everywhere, with the status its result says."""
    reference: list[str] = []
    tx_ids: list[str] = []
    for h in range(1, height + 1):
        block = nodes[0].rpc.call("block_get", height=h)
        reference.append(block["hash"])
        tx_ids += block["tx_ids"]
        assert block["commit"] is not None, f"block {h} has no commit certificate"
    for node in nodes[1:]:
        for h in range(1, height + 1):
            got = node.rpc.call("block_get", height=h)["hash"]
            assert got == reference[h - 1], \
                f"{node.name} has block {got} at height {h}, {nodes[0].name} has {reference[h - 1]}"
    twice = [tx for tx, n in Counter(tx_ids).items() if n > 1]
    assert not twice, f"txs final more than once: {twice[:5]}"
    on_chain = set(tx_ids)
    lost = [tx for tx in acked if tx not in on_chain]
    assert not lost, f"{len(lost)} acknowledged txs never became final, e.g. {lost[:5]}"
    statuses: Counter[str] = Counter()
    for tx in acked:
        answers = [n.rpc.call("tx_get", tx_id=tx) for n in nodes]
        where = {(a["status"], a["height"], a["index"]) for a in answers}
        assert len(where) == 1, f"tx {tx} is decided differently across nodes: {where}"
        status = answers[0]["status"]
        assert status in ("final", "rejected"), f"tx {tx} is {status}"
        statuses[status] += 1
    return Verdict(height, len(tx_ids), statuses["final"], statuses["rejected"])
