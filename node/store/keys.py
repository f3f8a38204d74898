"""The one key schema of the node's LevelDB. Every key the node writes is built here.

Heights and indexes are big-endian fixed width so LevelDB's bytewise order is
numeric order. Namespaces:

  m/<name>                     metadata (head, genesis hash, schema version)
  b/<height:8>                 block (canonical encoding)
  h/<hash:32>                  height of a block hash
  c/<height:8>                 commit certificate of the block
  r/<height:8>                 encoded tx results of the block, in block order
  t/<tx_id:32>                 [height, index] of a final tx
  p/<tx_id:32>                 pending tx in the persisted mempool
  s/...                        application state (lots, orgs, keys, ...), see below
"""

from __future__ import annotations

import struct

SCHEMA_VERSION = 1

META_HEAD = b"m/head"
META_GENESIS = b"m/genesis"
META_SCHEMA = b"m/schema"

BLOCK = b"b/"
BLOCK_HASH = b"h/"
COMMIT = b"c/"
RESULTS = b"r/"
TX_INDEX = b"t/"
MEMPOOL = b"p/"       # pending events, as an earlier layout kept them (now node.store.journal)
STATE = b"s/"


def u64(n: int) -> bytes:
    return struct.pack(">Q", n)


def read_u64(b: bytes) -> int:
    return struct.unpack(">Q", b)[0]


def block_key(height: int) -> bytes:
    return BLOCK + u64(height)


def block_hash_key(block_hash: bytes) -> bytes:
    return BLOCK_HASH + block_hash


def commit_key(height: int) -> bytes:
    return COMMIT + u64(height)


def results_key(height: int) -> bytes:
    return RESULTS + u64(height)


def tx_index_key(tx_id: bytes) -> bytes:
    return TX_INDEX + tx_id


def mempool_key(tx_id: bytes) -> bytes:
    return MEMPOOL + tx_id


# --- application state (written by node.state through an Overlay) ---------------

def _text(s: str) -> bytes:
    # Ids never contain NUL (validated), so NUL terminates a variable-length id.
    return s.encode() + b"\x00"


def lot_key(lot_id: str) -> bytes:
    return STATE + b"lot/" + _text(lot_id)


def lot_event_key(lot_id: str, height: int, index: int) -> bytes:
    return lot_event_prefix(lot_id) + u64(height) + struct.pack(">I", index)


def lot_event_prefix(lot_id: str) -> bytes:
    return STATE + b"lotev/" + _text(lot_id)


ORG_PREFIX = STATE + b"org/"
SITE_PREFIX = STATE + b"site/"


def org_key(org_id: str) -> bytes:
    return ORG_PREFIX + _text(org_id)


def site_key(site_id: str) -> bytes:
    return SITE_PREFIX + _text(site_id)


def signer_key(public_key: bytes) -> bytes:
    return STATE + b"key/" + public_key


def param_key(name: str) -> bytes:
    return STATE + b"param/" + _text(name)


def governance_key(name: str) -> bytes:
    return STATE + b"gov/" + _text(name)


def governance_prefix(name_prefix: str) -> bytes:
    """The prefix of every governance_key whose name starts with `name_prefix` (the
    name follows it, then the NUL terminator)."""
    return STATE + b"gov/" + name_prefix.encode()


# --- consensus working set ------------------------------------------------------------

EVIDENCE = b"v/"       # v/<height:8><validator:32><round:8><type:1> -> two conflicting votes


def evidence_key(height: int, validator: bytes, round_: int, type_: int) -> bytes:
    return EVIDENCE + u64(height) + validator + u64(round_) + bytes([type_])
