"""The blocks proposed at the height in progress, one file each, named by block hash.

They are kept beside the database rather than in it: each is wanted only until its
height is decided, and a block in LevelDB was written to its log, flushed to a table
and compacted again after its deletion (a fifth of a loaded validator's LevelDB bytes).
Here a block costs one file write, and deciding the height one unlink per proposal.

A file is trusted only if its bytes decode to a block with the hash of its name, so
one that a crash left half-written reads as absent, as an unsynced LevelDB write would.
"""

from __future__ import annotations

import os
from pathlib import Path

from node.store.blockstore import StoreError
from node.store.files import fsync_dir
from node.types import Block


class CandidateBlocks:
    def __init__(self, folder: Path) -> None:
        self._folder = Path(folder)
        self._folder.mkdir(parents=True, exist_ok=True)
        self._dir = str(self._folder)

    def _path(self, block_hash: bytes) -> str:
        return os.path.join(self._dir, block_hash.hex())

    def save(self, block: Block, *, sync: bool) -> None:
        """Keep `block`; when `sync`, durable on return (an own proposal, before it is
        signed: after a crash the same block is proposed again)."""
        try:
            with open(self._path(block.hash), "wb") as fh:
                fh.write(block.encoded)
                if sync:
                    fh.flush()
                    os.fsync(fh.fileno())
            if sync:
                fsync_dir(self._dir)
        except OSError as exc:
            raise StoreError(f"cannot keep proposed block {block.hash.hex()[:16]} under "
                             f"{self._dir}: {exc} (is the disk full?)") from None

    def get(self, block_hash: bytes) -> Block | None:
        try:
            with open(self._path(block_hash), "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return None
        try:
            block = Block.decode(data)
        except ValueError:
            return None     # torn by a crash before it was synced
        return block if block.hash == block_hash else None

    def clear(self) -> None:
        """Forget every kept block (their height is decided)."""
        for entry in os.scandir(self._dir):
            os.unlink(entry.path)

