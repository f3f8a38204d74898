"""LevelDB (plyvel) storage: one key schema, atomic synced block commits, indexes, mempool."""

from node.store.blockstore import BlockStore, StoreError
from node.store.kv import KV, MemoryKV, Overlay, WritableKV

__all__ = ["KV", "BlockStore", "MemoryKV", "Overlay", "StoreError", "WritableKV"]
