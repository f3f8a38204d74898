"""`orechain status`: a node's health at a glance, and sync progress as a bar."""

from __future__ import annotations

import time
from typing import Any

from node.cli.client import RpcClient

BAR_WIDTH = 30


def progress_bar(done: int, total: int) -> str:
    total = max(total, 1)
    filled = min(BAR_WIDTH, BAR_WIDTH * done // total)
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} ({100 * done // total}%)"


def best_known_height(status: dict[str, Any]) -> int:
    heights = [p["height"] for p in status.get("peers", []) if p.get("height") is not None]
    return max([status["height"], *heights])


def verdict(status: dict[str, Any]) -> str:
    """One word an operator can act on, with the reason."""
    target = best_known_height(status)
    if status.get("clock_suspect"):
        return (f"CLOCK: this node's clock is about {abs(status.get('clock_skew_ms') or 0)} ms "
                "off the validators'; its proposals and votes on time are refused (fix NTP)")
    if not status.get("peers"):
        return "ISOLATED: no peers (check --peer addresses, firewalls, and that this node's key "\
               "is in the genesis node registry)"
    if status.get("syncing") or target > status["height"] + 1:
        return f"SYNCING: {target - status['height']} blocks behind"
    return "OK: in step with its peers"


def render(status: dict[str, Any]) -> str:
    lines = [
        f"{status.get('name') or status.get('moniker')} ({status['role']}, "
        f"org {status.get('org')}) on {status['chain_id']}",
        f"  health:   {verdict(status)}",
        f"  height:   {status['height']}  head {status['head_hash'][:16]}",
        f"  mempool:  {status['mempool_size']} pending events"
        + ("" if status.get("tx_relay", True) else " (its own: takes no relayed events)"),
        *([] if status.get("consensus_relay", True) else
          ["  blocks:   arrive final, with their certificates (takes no votes)"]),
        f"  version:  {status.get('version')}",
        f"  peers:    {len(status.get('peers', []))}",
    ]
    for p in status.get("peers", []):
        direction = "out" if p.get("outbound") else "in "
        lines.append(f"    {direction} {p['node_id'][:16]} {p['address']:<21} "
                     f"height {p.get('height')} score {p.get('score')}")
    target = best_known_height(status)
    if target > status["height"]:
        lines.append(f"  sync:     {progress_bar(status['height'], target)}")
    return "\n".join(lines)


def watch(client: RpcClient, interval: float = 1.0) -> None:
    """Redraw the status until interrupted."""
    while True:
        print("\x1b[2J\x1b[H" + render(client.call("node_status")), flush=True)
        time.sleep(interval)
