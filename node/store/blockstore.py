"""The node's LevelDB: blocks, commits, results, indexes, state and the persisted mempool.

A block and everything it changes (its txs' results, the tx index, the state and lot
indexes the state machine wrote, the head pointer, and the mempool entries it
finalises) go to disk in one synced write batch, so after any crash the database
holds either all of a block or none of it.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import plyvel

from node import codec
from node.store import keys
from node.store.kv import Overlay
from node.store.txfilter import FinalTxFilter
from node.types import Block, Commit, Tx, TxResult

REOPEN_FREE_BYTES = 8 * 1024 * 1024


class StoreError(Exception):
    """The database cannot be used as it is (corrupt, another chain, locked, disk full)."""


# State reads are remembered until the next write of state: executing a block reads
# the same records (the signer's key and org, network parameters, an org's licences)
# for event after event, and state changes only when this node commits a block. The
# mempool, evidence and sync writes that come between (many a second on a
# loaded node) touch no state key, so they leave the memo be; reads outside the state
# namespace are not remembered at all.
_READ_MEMO_LIMIT = 1 << 14      # values kept between writes (lots are ~1 KB)
_SCAN_MEMO_ITEMS = 64           # a prefix scan longer than this is not kept

# LevelDB's defaults (a 4 MiB memtable, 2 MiB tables, no filters) made its background
# compaction thread cost a loaded node a sixth of its CPU: every event writes a lot
# record, its indexes, its block copy and a mempool entry that the block then deletes.
# A larger memtable flushes (and so compacts) less often, larger tables mean fewer files
# to merge, and Bloom filters let the many lookups of keys that are not there (is this
# tx id final yet?) skip reading table blocks.
LEVELDB_OPTIONS: dict[str, int] = {
    "write_buffer_size": 32 << 20,
    "max_file_size": 8 << 20,
    "bloom_filter_bits": 10,
}


class BlockStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._write_failed = False
        self._reads: dict[bytes, bytes | None] = {}
        self._head: tuple[int, bytes] | None = None     # read often; written only here
        self._scans: dict[bytes, list[tuple[bytes, bytes]]] = {}
        self._writes = 0                # bumped by every write of state; a read that
                                        # spans one is not remembered
        self._final_ids: FinalTxFilter | None = None    # built by load_final_ids or at
                                                        # the first tx lookup
        self._db = self._open()
        schema = self._db.get(keys.META_SCHEMA)
        if schema is not None and keys.read_u64(schema) != keys.SCHEMA_VERSION:
            raise StoreError(f"database schema {keys.read_u64(schema)} is not the supported "
                             f"{keys.SCHEMA_VERSION}")

    def _open(self) -> plyvel.DB:
        try:
            return plyvel.DB(str(self.path), create_if_missing=True, paranoid_checks=True,
                             **LEVELDB_OPTIONS)
        except plyvel.IOError as exc:
            raise StoreError(f"cannot open the database at {self.path}: {exc} "
                             "(is another orechain process using this --home?)") from None
        except plyvel.CorruptionError as exc:
            raise StoreError(f"the database at {self.path} is corrupt: {exc}. Move it aside "
                             "and restart the node to resync from peers (docs/operations.md)"
                             ) from None

    @contextlib.contextmanager
    def _writing(self, changes_state: bool = False) -> Iterator[plyvel.DB]:
        """Every write goes through here. A failed write (a full disk) can leave a torn
        record at the end of LevelDB's log; reopening before the next write makes
        recovery drop it, instead of appending after it and leaving a log that the
        next start refuses as corrupt."""
        if self._write_failed:
            # Reopening needs room for a new log and manifest; with too little, keep the
            # open handle (reads go on) and refuse the write without touching the disk.
            free = shutil.disk_usage(self.path).free
            if free < REOPEN_FREE_BYTES:
                raise StoreError(f"only {free} bytes free under {self.path}; the node takes "
                                 "no events until the disk has room again")
            self._db.close()
            self._db = self._open()
            self._write_failed = False
            self._forget_reads()
        if changes_state:
            self._forget_reads()
        try:
            yield self._db
        except plyvel.IOError as exc:
            self._write_failed = True
            raise StoreError(f"write to {self.path} failed: {exc} (is the disk full? the "
                             "node takes no events until a write succeeds again)") from None
        finally:
            if changes_state:
                self._forget_reads()

    def _forget_reads(self) -> None:
        self._writes += 1
        self._reads.clear()
        self._scans.clear()

    def close(self) -> None:
        self._db.close()

    # --- KV interface (what node.state reads through) ---------------------------

    def get(self, key: bytes) -> bytes | None:
        try:
            return self._reads[key]
        except KeyError:
            pass
        writes = self._writes
        value: bytes | None = self._db.get(key)
        if writes == self._writes and key.startswith(keys.STATE):
            if len(self._reads) >= _READ_MEMO_LIMIT:
                self._reads.clear()
            self._reads[key] = value
        return value

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        kept = self._scans.get(prefix)
        if kept is not None:
            yield from kept
            return
        writes = self._writes
        seen: list[tuple[bytes, bytes]] | None = [] if prefix.startswith(keys.STATE) else None
        with self._db.iterator(prefix=prefix) as items:
            for item in items:
                if seen is not None:
                    seen.append(item)
                    if len(seen) > _SCAN_MEMO_ITEMS:
                        seen = None
                yield item
        if seen is not None and writes == self._writes:
            self._scans[prefix] = seen

    def scan_prefixes(self, prefixes: Iterable[bytes]) -> dict[bytes, list[tuple[bytes, bytes]]]:
        """The items under each prefix, through one iterator that seeks from prefix to
        prefix in key order (a provenance walk reads thousands of lots' event lists;
        an iterator each costs more than the reads)."""
        found: dict[bytes, list[tuple[bytes, bytes]]] = {}
        with self._db.iterator() as items:
            for prefix in sorted(set(prefixes)):
                items.seek(prefix)
                found[prefix] = under = []
                for key, value in items:
                    if not key.startswith(prefix):
                        break
                    under.append((key, value))
        return found

    # --- genesis ---------------------------------------------------------------

    @property
    def genesis_hash(self) -> bytes | None:
        return self._db.get(keys.META_GENESIS)

    def init_genesis(self, genesis_hash: bytes, state: Overlay) -> None:
        """Record the chain this database belongs to and its initial state, once."""
        existing = self.genesis_hash
        if existing is not None:
            if existing != genesis_hash:
                raise StoreError(
                    f"the database at {self.path} belongs to another chain (genesis "
                    f"{existing.hex()[:16]}, configured {genesis_hash.hex()[:16]}); use a "
                    "fresh --home for this genesis")
            return
        self._write(changes_state=True, fill=lambda batch: (
            state.apply_to(batch),
            batch.put(keys.META_SCHEMA, keys.u64(keys.SCHEMA_VERSION)),
            batch.put(keys.META_GENESIS, genesis_hash),
            batch.put(keys.META_HEAD, codec.encode([0, genesis_hash])),
        ))

    # --- blocks ----------------------------------------------------------------

    def head(self) -> tuple[int, bytes]:
        if self._head is None:
            raw = self._db.get(keys.META_HEAD)
            if raw is None:
                raise StoreError("database has no genesis; the node initialises it at start")
            height, block_hash = codec.decode(raw)
            self._head = (height, block_hash)
        return self._head

    def commit_block(self, block: Block, commit: Commit, results: list[TxResult],
                     state: Overlay) -> None:
        height, head_hash = self.head()
        if block.height != height + 1 or block.header.parent_hash != head_hash:
            raise StoreError(f"block {block.height} does not extend the head at {height}")

        def fill(batch: plyvel.WriteBatch) -> None:
            state.apply_to(batch)
            batch.put(keys.block_key(block.height), block.encoded)
            batch.put(keys.block_hash_key(block.hash), keys.u64(block.height))
            batch.put(keys.commit_key(block.height), codec.encode(commit.to_wire()))
            batch.put(keys.results_key(block.height),
                      codec.encode([r.encoded for r in results]))
            for index, tx_id in enumerate(block.tx_ids):
                batch.put(keys.tx_index_key(tx_id), codec.encode([block.height, index]))
            batch.put(keys.META_HEAD, codec.encode([block.height, block.hash]))

        if self._final_ids is not None:
            # Before the write: should it fail, the filter only answers maybe for ids
            # that are not final, which the index then denies.
            self._final_ids.add_all(block.tx_ids)
        self._write(fill, changes_state=True)
        self._head = (block.height, block.hash)

    def _write(self, fill, sync: bool = True,  # type: ignore[no-untyped-def]
               changes_state: bool = False) -> None:
        with self._writing(changes_state) as db, \
                db.write_batch(transaction=True, sync=sync) as batch:
            fill(batch)

    def block(self, height: int) -> Block | None:
        raw = self._db.get(keys.block_key(height))
        return Block.decode(raw) if raw is not None else None

    def final_block_bytes(self, height: int) -> tuple[bytes, bytes] | None:
        """The stored encodings of the block at `height` and its commit, as sync sends
        them (decoding them only to encode them again was most of serving a sync)."""
        block = self._db.get(keys.block_key(height))
        commit = self._db.get(keys.commit_key(height))
        return (block, commit) if block is not None and commit is not None else None

    def height_of(self, block_hash: bytes) -> int | None:
        raw = self._db.get(keys.block_hash_key(block_hash))
        return keys.read_u64(raw) if raw is not None else None

    def commit(self, height: int) -> Commit | None:
        raw = self._db.get(keys.commit_key(height))
        return Commit.from_wire(codec.decode(raw)) if raw is not None else None

    def results(self, height: int) -> list[TxResult]:
        raw = self._db.get(keys.results_key(height))
        return [TxResult.decode(r) for r in codec.decode(raw, max_size=1 << 26)] if raw else []

    def tx_location(self, tx_id: bytes) -> tuple[int, int] | None:
        if not self._final_filter().may_contain(tx_id):
            return None
        raw = self._db.get(keys.tx_index_key(tx_id))
        if raw is None:
            return None
        height, index = codec.decode(raw)
        return height, index

    def load_final_ids(self) -> None:
        """Read the tx index into the filter now rather than at the first lookup (a
        million final txs take about a second): a node does it before it serves."""
        self._final_filter()

    def _final_filter(self) -> FinalTxFilter:
        if self._final_ids is None:
            # Two walks of the index's keys (count, then add) rather than a list of a
            # million ids in memory at once.
            count = sum(1 for _ in self._db.iterator(prefix=keys.TX_INDEX,
                                                     include_value=False))
            found = FinalTxFilter(2 * count)
            start = len(keys.TX_INDEX)
            found.add_all(key[start:] for key in self._db.iterator(prefix=keys.TX_INDEX,
                                                                   include_value=False))
            self._final_ids = found
        return self._final_ids

    # --- consensus working set ------------------------------------------------------

    def save_evidence(self, key: bytes, value: bytes) -> None:
        self._put(key, value, True)

    def evidence(self) -> list[bytes]:
        return [v for _, v in self._db.iterator(prefix=keys.EVIDENCE)]

    def _put(self, key: bytes, value: bytes, sync: bool) -> None:
        with self._writing() as db:
            db.put(key, value, sync=sync)

    # --- an earlier layout's persisted mempool ------------------------------------

    def pending(self) -> Iterator[Tx]:
        """Pending events an earlier orechain kept in the database (the mempool journal
        holds them now; node.daemon.mempool moves these there once)."""
        for _key, raw in self._db.iterator(prefix=keys.MEMPOOL):
            yield Tx.decode(raw)

    def drop_pending(self, tx_ids: Iterable[bytes]) -> None:
        def fill(batch: plyvel.WriteBatch) -> None:
            for tx_id in tx_ids:
                batch.delete(keys.mempool_key(tx_id))

        self._write(fill, sync=True)
