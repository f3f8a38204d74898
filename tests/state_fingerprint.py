"""The digest of everything a seeded history of events does to state: each event's
result (reason included) and every key and value left in the store.

    python -m tests.state_fingerprint SEED STEPS

prints the digest, the modules that applied the events and how many events were
accepted and refused. tests/test_compiled_python.py runs it on the compiled state
machine and on its Python source (ORECHAIN_PURE_PYTHON=1); the two must agree byte for
byte, as every node of a network must.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from collections import Counter

from node import codec
from node.state import apply
from node.types import TxResult
from tests.assets.assetchain import AssetChain
from tests.provenance.lotchain import Chain
from tests.provenance.lotsteps import Run, random_step


def _lot_history(seed: int, steps: int) -> tuple[Chain, list[tuple[str, TxResult]]]:
    """Random splits, merges, transforms, moves and holds, double spends included."""
    run = Run()
    rng = random.Random(seed)
    results = []
    for step in [("register_lot", 1_000), ("register_lot", 700),
                 *(random_step(rng) for _ in range(steps))]:
        for signer, kind, body in run.txs(step):
            results.append((kind, run.submit(signer, kind, body)[0]))
    return run.chain, results


def _asset_history() -> tuple[Chain, list[tuple[str, TxResult]]]:
    """Licences, a cathode's units issued, moved and redeemed, and an export's royalties."""
    chain = AssetChain()
    events = []

    def submit(signer: str, kind: str, body: dict) -> None:  # type: ignore[type-arg]
        events.append((kind, chain.submit(signer, kind, body)))

    chain.assayed_at_refinery("PK-CU-1")
    chain.cathode("PK-CU-1", "PK-CU-1-CATH", 252_000, 999_900)
    for units in (250_001, 200_000):
        submit("refinery-1", "tokenize", {"lot_id": "PK-CU-1-CATH", "element": "Cu",
                                          "units": units})
    transfer = {"lot_id": "PK-CU-1-CATH", "to_org": "investor-1", "units": 400}
    submit("refinery-1", "transfer_units", transfer)
    chain.kyc("investor-1")
    submit("refinery-1", "transfer_units", transfer)
    submit("investor-1", "redeem_units", {"lot_id": "PK-CU-1-CATH", "units": 150})
    chain.assayed_at_refinery("PK-CU-2")
    chain.move("PK-CU-2", "refinery-1", "exporter-1", "exporter-1-karachi", 1_000_000)
    submit("exporter-1", "export", chain.export_body("PK-CU-2", None))
    submit("exporter-1", "export", chain.export_body("PK-CU-2", 2_000_000_00))
    return chain, events


def fingerprint(seed: int, steps: int) -> dict[str, object]:
    digest = hashlib.sha256()
    tally: Counter[str] = Counter()
    for chain, events in (_lot_history(seed, steps), _asset_history()):
        for kind, result in events:
            digest.update(codec.encode([kind, result.accepted, result.reason or ""]))
            tally[f"{kind} {'accepted' if result.accepted else 'refused'}"] += 1
        for key, value in chain.kv.iter_prefix(b""):
            digest.update(codec.encode([key, value]))
    return {"digest": digest.hexdigest(), "applied_by": apply.__file__, "events": tally}


if __name__ == "__main__":
    print(json.dumps(fingerprint(int(sys.argv[1]), int(sys.argv[2]))))
