"""Building and signing lot events on the client side."""

from __future__ import annotations

import time
from typing import Any

from node.crypto import PrivateKey
from node.types import Tx


def signed_event(key: PrivateKey, chain_id: str, kind: str, body: dict[str, Any],
                 nonce: int | None = None) -> Tx:
    """A signed tx; the default nonce is the signer's microsecond clock (unique per event)."""
    if nonce is None:
        nonce = time.time_ns() // 1_000
    return Tx(chain_id, kind, body, key.public_key, nonce).signed(key)
