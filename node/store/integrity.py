"""Start-up checks of a node's data: is the database and the consensus WAL safe to use?

A node must never run on damaged data without saying so: a corrupt block store
would serve wrong proofs, and a damaged WAL could make a validator forget what it
signed. `check_node_data` runs before the daemon opens anything and raises
IntegrityError with a message that names the file and the recovery path
(docs/operations.md, "When the database is damaged": move the database aside and
resync from peers).

What is checked:

- the LevelDB directory: a CURRENT file when table or log files exist (without it
  LevelDB would quietly create an empty database over the old files); opening
  with paranoid checks (a damaged MANIFEST or write-ahead log is refused); and,
  unless `scan=False`, reading every key with block checksums verified, so a
  flipped bit in any .ldb table is found now rather than when a proof is served;
- the chain: schema version, the genesis it belongs to, a head that points at a
  stored block, and for the newest `depth` blocks: each block decodes and hashes
  to what its child (or the head) names, its height index and commit certificate
  are present and prove it final under the validator set, its results are all
  there and every tx is indexed at its place; nothing is stored above the head;
  every pending event an earlier layout kept in the database decodes;
- the consensus WAL and the mempool journal: any damage before the last record (a
  torn last record is what a crash leaves and is repaired by the file's owner).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plyvel

from node import codec
from node.consensus.wal import WALCorruptError, parse
from node.store import keys
from node.store.journal import JournalCorruptError, read_journal
from node.store.kv import KV
from node.types import Block, Commit, CommitError, Tx, TxFormatError, TxResult, verify_commit
from node.types.genesis import Genesis

DEFAULT_DEPTH = 256
RECOVERY = ("Stop the node, move HOME/data/chain aside (keep it for investigation), keep "
            "HOME/data/signer_state.json and HOME/node.key, and restart: the node rebuilds "
            "the database from genesis and resyncs from its peers (docs/operations.md)")
WAL_RECOVERY = ("The WAL covers only the height in progress: stop the node, wait until a "
                "peer's chain_head is above that height, move the WAL aside and restart; "
                "HOME/data/signer_state.json still keeps this validator from signing twice "
                "(docs/operations.md)")


class IntegrityError(Exception):
    """The node's data is damaged; the message names what and how to recover."""


Fail = Callable[[str], IntegrityError]
"""Builds the error for a problem found (adds where it is and the recovery path)."""


@dataclass(frozen=True)
class IntegrityReport:
    """What a successful check covered."""

    height: int           # the head height (0: only genesis, or a fresh database)
    blocks_checked: int   # blocks verified back from the head
    keys_scanned: int     # keys read with checksums verified (0 if the scan was skipped)
    wal_records: int      # intact records in the consensus WAL
    journal_events: int   # intact records (pending events) in the mempool journal


def check_node_data(data_dir: Path, genesis: Genesis, depth: int = DEFAULT_DEPTH,
                    scan: bool = True) -> IntegrityReport:
    """Check HOME/data before the node opens it; raise IntegrityError if it is damaged.

    A data directory that does not exist yet (first start) passes.
    """
    height, checked, scanned = check_database(Path(data_dir) / "chain", genesis, depth, scan)
    return IntegrityReport(height, checked, scanned, check_wal(Path(data_dir) / "consensus.wal"),
                           check_journal(Path(data_dir) / "mempool.journal"))


def check_database(path: Path, genesis: Genesis, depth: int = DEFAULT_DEPTH,
                   scan: bool = True) -> tuple[int, int, int]:
    """(head height, blocks checked, keys scanned) of the LevelDB at `path`."""
    path = Path(path)
    if not path.exists():
        return 0, 0, 0
    files = [p.name for p in path.iterdir()]
    if "CURRENT" not in files:
        if any(n.endswith((".ldb", ".sst", ".log")) or n.startswith("MANIFEST") for n in files):
            raise IntegrityError(f"the database at {path} has data files but no CURRENT file; "
                                 f"it is damaged. {RECOVERY}")
        return 0, 0, 0
    try:
        db = plyvel.DB(str(path), create_if_missing=False, paranoid_checks=True)
    except plyvel.IOError as exc:
        if "lock" in str(exc).lower():
            raise IntegrityError(f"cannot open the database at {path}: {exc} (is another "
                                 "orechain process using this --home?)") from None
        raise IntegrityError(f"the database at {path} is damaged: {exc}. {RECOVERY}") from None
    except plyvel.Error as exc:
        raise IntegrityError(f"the database at {path} is damaged: {exc}. {RECOVERY}") from None
    try:
        scanned = _scan(db, path) if scan else 0
        height, checked = check_chain(_PlyvelKV(db), genesis, depth, where=str(path))
    finally:
        db.close()
    return height, checked, scanned


def _scan(db: plyvel.DB, path: Path) -> int:
    """Read every key and value with checksums verified; the number of keys."""
    count = 0
    try:
        for _ in db.iterator(verify_checksums=True, fill_cache=False):
            count += 1
    except plyvel.Error as exc:
        raise IntegrityError(f"the database at {path} is damaged (after {count} readable "
                             f"keys): {exc}. {RECOVERY}") from None
    return count


class _PlyvelKV:
    """The KV view of a raw LevelDB handle, reading with checksums verified."""

    def __init__(self, db: plyvel.DB) -> None:
        self._db = db

    def get(self, key: bytes) -> bytes | None:
        return self._db.get(key, verify_checksums=True)

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return self._db.iterator(prefix=prefix, verify_checksums=True)


def check_chain(store: KV, genesis: Genesis, depth: int = DEFAULT_DEPTH,
                where: str = "the database") -> tuple[int, int]:
    """(head height, blocks checked) after checking the newest `depth` blocks of `store`.

    Works on any KV (an open BlockStore, or a raw handle), so it can also be run
    on a live node's store.
    """
    def fail(problem: str) -> IntegrityError:
        return IntegrityError(f"{where}: {problem}. {RECOVERY}")

    try:
        return _check_chain(store, genesis, depth, fail)
    except plyvel.Error as exc:
        raise fail(f"read failed: {exc}") from None


def _check_chain(store: KV, genesis: Genesis, depth: int, fail: Fail) -> tuple[int, int]:
    stored_genesis = store.get(keys.META_GENESIS)
    if stored_genesis is None:
        if next(iter(store.iter_prefix(keys.BLOCK)), None) is not None:
            raise fail("blocks are stored but the genesis record is missing")
        return 0, 0  # created but never initialised: the node initialises it at start
    if stored_genesis != genesis.hash:
        raise IntegrityError(f"the database belongs to another chain (genesis "
                             f"{stored_genesis.hex()[:16]}, configured "
                             f"{genesis.hash.hex()[:16]}); use a fresh --home for this genesis")
    schema = store.get(keys.META_SCHEMA)
    if schema is None or len(schema) != 8 or keys.read_u64(schema) != keys.SCHEMA_VERSION:
        raise fail(f"schema record is {schema!r}, expected version {keys.SCHEMA_VERSION}")
    head = _decode(store.get(keys.META_HEAD), "the head record", fail)
    if not (isinstance(head, list) and len(head) == 2 and type(head[0]) is int and head[0] >= 0
            and isinstance(head[1], bytes)):
        raise fail("the head record is malformed")
    height, expected_hash = head
    if store.get(keys.block_key(height + 1)) is not None:
        raise fail(f"a block is stored at height {height + 1}, above the head {height}")
    bottom = max(1, height - depth + 1)
    for h in range(height, bottom - 1, -1):
        block = _check_block(store, genesis, h, expected_hash, fail)
        expected_hash = block.header.parent_hash
    if bottom == 1 and expected_hash != genesis.hash:
        raise fail("the chain does not lead back to the configured genesis")
    _check_mempool(store, fail)
    return height, height - bottom + 1 if height else 0


def _check_block(store: KV, genesis: Genesis, h: int, expected_hash: bytes,
                 fail: Fail) -> Block:
    raw = store.get(keys.block_key(h))
    if raw is None:
        raise fail(f"block {h} is missing")
    try:
        block = Block.decode(raw)
    except ValueError as exc:
        raise fail(f"block {h} does not decode: {exc}") from None
    if block.height != h or block.hash != expected_hash:
        raise fail(f"block stored at height {h} is not the block the chain names there")
    problems = block.structure_errors()
    if problems:
        raise fail(f"block {h}: {'; '.join(problems)}")
    index = store.get(keys.block_hash_key(block.hash))
    if index is None or len(index) != 8 or keys.read_u64(index) != h:
        raise fail(f"the hash index of block {h} is missing or wrong")
    try:
        commit = Commit.from_wire(_decode(store.get(keys.commit_key(h)),
                                          f"the commit certificate of block {h}", fail))
        verify_commit(commit, genesis.chain_id, h, block.hash, genesis.validators)
    except (ValueError, CommitError) as exc:
        raise fail(f"the commit certificate of block {h} is invalid: {exc}") from None
    raw_results = store.get(keys.results_key(h))
    try:
        results = [TxResult.decode(r) for r in codec.decode(raw_results or b"", 1 << 26)]
    except (ValueError, TypeError) as exc:
        raise fail(f"the tx results of block {h} do not decode: {exc}") from None
    if [r.tx_id for r in results] != block.tx_ids:
        raise fail(f"the tx results of block {h} do not match its txs")
    for i, tx_id in enumerate(block.tx_ids):
        loc = store.get(keys.tx_index_key(tx_id))
        if loc is None or _decode(loc, "a tx index entry", fail) != [h, i]:
            raise fail(f"tx {tx_id.hex()[:16]} of block {h} is not indexed at its place")
    return block


def _check_mempool(store: KV, fail: Fail) -> None:
    for key, raw in store.iter_prefix(keys.MEMPOOL):
        try:
            tx = Tx.decode(raw)
        except TxFormatError as exc:
            raise fail(f"persisted mempool entry {key[2:].hex()[:16]} does not decode: "
                       f"{exc}") from None
        if keys.mempool_key(tx.tx_id) != key:
            raise fail(f"persisted mempool entry {key[2:].hex()[:16]} holds another tx")


def _decode(raw: bytes | None, what: str, fail: Fail) -> Any:
    if raw is None:
        raise fail(f"{what} is missing")
    try:
        return codec.decode(raw)
    except codec.CodecError as exc:
        raise fail(f"{what} does not decode: {exc}") from None


def check_wal(path: Path) -> int:
    """Intact records of the consensus WAL at `path` (0 if absent).

    A torn last record is what a crash leaves: FileWAL cuts it off when it opens.
    Anything damaged before the end is refused here, naming the byte offset.
    """
    path = Path(path)
    if not path.exists():
        return 0
    try:
        records, _ = parse(path.read_bytes(), str(path))
    except WALCorruptError as exc:
        raise IntegrityError(f"the consensus WAL is damaged: {exc}. {WAL_RECOVERY}") from None
    return len(records)


def check_journal(path: Path) -> int:
    """Intact records of the mempool journal at `path` (0 if absent); damage before
    its last record is refused here, naming the byte offset and what moving it aside
    loses."""
    try:
        txs, _ = read_journal(str(path))
    except JournalCorruptError as exc:
        raise IntegrityError(str(exc)) from None
    return len(txs)
