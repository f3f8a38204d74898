"""Failover: how soon blocks are final again after a validator is killed.

    python -m benches.failover --heights 12

Starts the devnet's 4 validators, SIGKILLs validator-2, then submits one event per
height to validator-1 and times submit -> final. At heights whose round-0 proposer is
the dead validator, the others wait out timeout_propose, then finalise in round 1; the
report gives those delays beside the genesis timeout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from benches.devnet_procs import devnet, start_all, stop_all
from benches.workload import EventStream
from tests.helpers import wait_final


def run(heights: int) -> dict:
    with tempfile.TemporaryDirectory() as home:
        nodes = devnet(Path(home), full_nodes=0)[:4]
        start_all(nodes)
        try:
            rpc = nodes[0].rpc
            params = rpc.call("chain_genesis")["params"]
            nodes[1].proc.kill()  # type: ignore[union-attr]
            nodes[1].proc.wait()  # type: ignore[union-attr]
            stream = EventStream("FAILOVER", 0)
            normal, after_timeout = [], []
            for tx in list(stream.events(2 * heights))[::2]:  # registrations only
                started = time.monotonic()
                result = wait_final(rpc, rpc.call("lot_submitEvent", event=tx.to_json())["tx_id"],
                                    timeout=60, poll=0.01)
                elapsed = time.monotonic() - started
                block = rpc.call("block_get", height=result["height"])
                (after_timeout if block["commit"]["round"] > 0 else normal).append(elapsed)
        finally:
            stop_all(nodes)
    return {
        "timeout_propose_ms": params["timeout_propose_ms"],
        "heights": heights,
        "round0_final_s": {"count": len(normal),
                           "median": round(statistics.median(normal), 3) if normal else None},
        "after_dead_proposer_s": {"count": len(after_timeout),
                                  "max": round(max(after_timeout), 3) if after_timeout else None},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heights", type=int, default=12)
    print(json.dumps(run(parser.parse_args().heights), indent=2))


if __name__ == "__main__":
    main()
