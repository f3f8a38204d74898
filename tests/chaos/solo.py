"""A one-validator chain in a real process: every block final at once, for storage tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers import NodeProcess, devnet_doc, event


def solo_node(home: Path) -> NodeProcess:
    """validator-1 alone in a genesis of one validator (not started)."""
    home.mkdir(parents=True, exist_ok=True)
    genesis = home / "genesis.json"
    if not genesis.exists():
        genesis.write_text(json.dumps(devnet_doc(1)))
    return NodeProcess(home / "validator-1", genesis, "validator-1")


def lot_event(tag: str, i: int) -> dict[str, Any]:
    """A signed register_lot event (as JSON) with a lot id unique to (tag, i)."""
    body = {"lot_id": f"PK-CU-{tag}-{i:05d}", "mineral": "copper", "form": "ore",
            "mass_g": 1_000 + i, "site_id": "mine-1-pit-a",
            "extracted_at_ms": 1_795_200_000_000 + i}
    return event("mine-1", "register_lot", body, nonce=i).to_json()
