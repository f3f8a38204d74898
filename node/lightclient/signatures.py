"""Signature checks that run beside the rest of verification.

Checking an answer's signatures is about half of verifying it (one Ed25519 check per
event). A batch of checks runs without the GIL (node.crypto.batch), so worker threads
check signatures on the machine's other cores while the caller checks proofs and
replays.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple, Protocol

from node.crypto import SignedItem as Signature

_CHUNK = 256     # checks per task: large enough that task overhead is noise


class BatchVerifier(Protocol):
    def __call__(self, items: Sequence[Signature], /) -> list[bool]: ...


class SignedItem(NamedTuple):
    where: str           # how a failure names the signed thing
    signature: Signature


def _first_bad(verify_many: BatchVerifier, items: Sequence[SignedItem]) -> str | None:
    verdicts = verify_many([item.signature for item in items])
    return next((item.where for item, ok in zip(items, verdicts, strict=True) if not ok),
                None)


class SignatureChecks:
    """Checks submitted signatures on worker threads; `first_bad` waits for them all
    and names the first bad one in submission order, so the verdict does not depend on
    which thread finished first. Use as a context manager: leaving it stops the
    workers."""

    def __init__(self, verify_many: BatchVerifier, workers: int | None = None) -> None:
        self._verify_many = verify_many
        self._pool = ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1,
                                        thread_name_prefix="verify-signatures")
        self._pending: list[Future[str | None]] = []

    def submit(self, items: Sequence[SignedItem]) -> None:
        for start in range(0, len(items), _CHUNK):
            self._pending.append(self._pool.submit(_first_bad, self._verify_many,
                                                   items[start:start + _CHUNK]))

    def first_bad(self) -> str | None:
        return next((bad for bad in (f.result() for f in self._pending) if bad), None)

    def __enter__(self) -> SignatureChecks:
        return self

    def __exit__(self, *exc: object) -> None:
        for future in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True)
