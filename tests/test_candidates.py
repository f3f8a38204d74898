"""Proposed blocks of the height in progress, kept as files beside the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.store import BlockStore, Overlay, StoreError
from node.store.candidates import CandidateBlocks
from node.types import Block
from tests.store_writer import GENESIS, block_after


@pytest.fixture
def blocks(tmp_path: Path) -> list[Block]:
    store = BlockStore(tmp_path / "chain")
    store.init_genesis(GENESIS, Overlay(store))
    made = [block_after(store, n)[0] for n in (3, 5)]
    store.close()
    return made


def test_a_kept_block_comes_back_by_hash_across_a_reopen(tmp_path: Path,
                                                        blocks: list[Block]) -> None:
    kept = CandidateBlocks(tmp_path / "candidates")
    kept.save(blocks[0], sync=True)
    kept.save(blocks[1], sync=False)
    reopened = CandidateBlocks(tmp_path / "candidates")
    for block in blocks:
        found = reopened.get(block.hash)
        assert found is not None and found.encoded == block.encoded
    assert reopened.get(b"\x01" * 32) is None


def test_clear_forgets_every_block(tmp_path: Path, blocks: list[Block]) -> None:
    kept = CandidateBlocks(tmp_path / "candidates")
    for block in blocks:
        kept.save(block, sync=False)
    kept.clear()
    assert [kept.get(block.hash) for block in blocks] == [None, None]
    assert list((tmp_path / "candidates").iterdir()) == []


def test_a_torn_or_misnamed_file_reads_as_absent(tmp_path: Path, blocks: list[Block]) -> None:
    folder = tmp_path / "candidates"
    kept = CandidateBlocks(folder)
    kept.save(blocks[0], sync=True)
    torn = folder / blocks[0].hash.hex()
    torn.write_bytes(blocks[0].encoded[: len(blocks[0].encoded) // 2])
    assert kept.get(blocks[0].hash) is None
    # Whole bytes of another block under this block's name: the hash check refuses them.
    torn.write_bytes(blocks[1].encoded)
    assert kept.get(blocks[0].hash) is None


def test_a_failed_write_is_a_store_error_naming_the_block(tmp_path: Path,
                                                          blocks: list[Block]) -> None:
    folder = tmp_path / "candidates"
    kept = CandidateBlocks(folder)
    folder.rmdir()
    folder.write_bytes(b"")     # the folder is gone; writing under it fails
    with pytest.raises(StoreError, match=f"cannot keep proposed block {blocks[0].hash.hex()[:16]}"):
        kept.save(blocks[0], sync=True)
