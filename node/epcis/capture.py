"""Capture: an EPCIS document becomes signed orechain txs, event by event.

The nonce of each tx is derived from the EPCIS event's content by default, so capturing
the same document twice signs the same txs, and the node's replay protection (by tx id)
makes a retried capture idempotent, as a client on a flaky link needs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from node.crypto import PrivateKey
from node.epcis.directory import Directory
from node.epcis.mapping import MappingError, event_list, map_document
from node.types import Tx

NonceSource = Callable[[Mapping[str, Any], int], int]


@dataclass(frozen=True)
class Captured:
    """The signed txs the EPCIS event at `index` became (one per lot it names)."""

    index: int
    txs: tuple[Tx, ...]


def content_nonce(event: Mapping[str, Any], position: int) -> int:
    """A nonce fixed by the event's content and the tx's position among its txs."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(f"{position}:{canonical}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1      # fits a signed 64-bit nonce


def capture(document: Any, directory: Directory, signer: PrivateKey, chain_id: str,
            nonce_source: NonceSource = content_nonce) -> list[Captured | MappingError]:
    """Map every event of `document` and sign what maps with `signer`, in event order.

    Raises node.epcis.mapping.DocumentError if `document` is not an EPCIS document at all.
    Whether the signer may do what an event says (its role, its sites, the lot rules) is
    judged by the chain when the tx is applied, as for any other submission.
    """
    events = event_list(document)
    results = map_document(document, directory)
    out: list[Captured | MappingError] = []
    for index, mapped in enumerate(results):
        if isinstance(mapped, MappingError):
            out.append(mapped)
            continue
        txs = tuple(
            Tx(chain_id, lot_event.kind, lot_event.body, signer.public_key,
               nonce_source(events[index], position)).signed(signer)
            for position, lot_event in enumerate(mapped))
        out.append(Captured(index, txs))
    return out
