"""Block header, block, and the per-tx execution results committed in the header.

Header: [chain_id, height, time_ms, parent_hash, tx_root, tx_count, results_root,
validators_hash, proposer]. Block hash = SHA-256 of the header's canonical bytes.
tx_root is the RFC 6962 root of the tx ids in block order; results_root is the
RFC 6962 root of each tx's encoded TxResult, so an offline verifier can prove a
tx was accepted (or rejected, and why), not only that it was included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import msgpack

from node import codec
from node.merkle import merkle_root, sha256
from node.types.tx import Tx, TxFormatError

MAX_BLOCK_BYTES = 16 * 1024 * 1024
HASH_SIZE = 32


@dataclass(frozen=True)
class TxResult:
    tx_id: bytes
    accepted: bool
    reason: str = ""

    @property
    def encoded(self) -> bytes:
        return codec.encode([self.tx_id, self.accepted, self.reason])

    @classmethod
    def decode(cls, data: bytes) -> TxResult:
        tx_id, accepted, reason = codec.decode(data)
        return cls(tx_id, accepted, reason)


def _tx(blob: Any, known: Callable[[bytes], Tx | None] | None) -> Tx:
    if known is None or not isinstance(blob, bytes):
        return Tx.decode(blob)
    # Equal SHA-256 means equal bytes: the known tx is exactly this blob, decoded.
    tx_id = sha256(blob)
    tx = known(tx_id)
    if tx is None:
        tx = Tx.decode(blob)
        tx.__dict__["tx_id"] = tx_id    # the id is the hash just taken of these bytes
    return tx


def results_root(results: list[TxResult]) -> bytes:
    return merkle_root([r.encoded for r in results])


@dataclass(frozen=True)
class Header:
    chain_id: str
    height: int
    time_ms: int
    parent_hash: bytes
    tx_root: bytes
    tx_count: int
    results_root: bytes
    validators_hash: bytes
    proposer: bytes

    def fields(self) -> list[Any]:
        return [self.chain_id, self.height, self.time_ms, self.parent_hash, self.tx_root,
                self.tx_count, self.results_root, self.validators_hash, self.proposer]

    @cached_property
    def encoded(self) -> bytes:
        return codec.encode(self.fields())

    @cached_property
    def hash(self) -> bytes:
        return sha256(self.encoded)

    @classmethod
    def from_fields(cls, f: Any) -> Header:
        if not isinstance(f, list) or len(f) != 9:
            raise ValueError("a header is an array of 9 fields")
        h = cls(*f)
        ints = (h.height, h.time_ms, h.tx_count)
        if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ints):
            raise ValueError("header height, time and tx_count must be non-negative integers")
        hashes = (h.parent_hash, h.tx_root, h.results_root, h.validators_hash)
        if not all(isinstance(x, bytes) and len(x) == HASH_SIZE for x in hashes):
            raise ValueError("header hashes must be 32 bytes")
        if not isinstance(h.chain_id, str) or not isinstance(h.proposer, bytes):
            raise ValueError("malformed header")
        return h

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "height": self.height,
            "time_ms": self.time_ms,
            "parent_hash": self.parent_hash.hex(),
            "tx_root": self.tx_root.hex(),
            "tx_count": self.tx_count,
            "results_root": self.results_root.hex(),
            "validators_hash": self.validators_hash.hex(),
            "proposer": self.proposer.hex(),
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Header:
        return cls.from_fields([
            obj["chain_id"], obj["height"], obj["time_ms"], bytes.fromhex(obj["parent_hash"]),
            bytes.fromhex(obj["tx_root"]), obj["tx_count"], bytes.fromhex(obj["results_root"]),
            bytes.fromhex(obj["validators_hash"]), bytes.fromhex(obj["proposer"]),
        ])


@dataclass(frozen=True)
class Block:
    header: Header
    txs: tuple[Tx, ...]

    @property
    def hash(self) -> bytes:
        return self.header.hash

    @property
    def height(self) -> int:
        return self.header.height

    @cached_property
    def tx_ids(self) -> list[bytes]:
        return [tx.tx_id for tx in self.txs]

    @cached_property
    def encoded(self) -> bytes:
        return codec.encode([self.header.fields(), [tx.encoded for tx in self.txs]])

    @classmethod
    def decode(cls, data: bytes, known: Callable[[bytes], Tx | None] | None = None) -> Block:
        """Decode a block; `known(tx_id)` may return a tx already decoded and checked
        here (the mempool's), which then stands in for decoding the same bytes again."""
        try:
            header_fields, tx_blobs = codec.decode(data, max_size=MAX_BLOCK_BYTES)
            header = Header.from_fields(header_fields)
            if not isinstance(tx_blobs, list):
                raise ValueError("block txs must be an array")
            txs = tuple(_tx(b, known) for b in tx_blobs)
        except (ValueError, TypeError, TxFormatError, codec.CodecError) as exc:
            raise ValueError(f"malformed block: {exc}") from None
        block = cls(header, txs)
        # Proven canonical by codec.decode: keep the bytes instead of re-encoding them.
        block.__dict__["encoded"] = bytes(data)
        return block

    @staticmethod
    def claimed_height(data: bytes) -> int | None:
        """The height an encoded block claims, read from the start of its header alone;
        None if that is not where a block's height would be. Nothing is checked: it only
        lets a node drop a block it already has without decoding its txs."""
        unpacker = msgpack.Unpacker(raw=False, max_buffer_size=len(data) or 1)
        unpacker.feed(data)
        try:
            if unpacker.read_array_header() != 2 or unpacker.read_array_header() != 9:
                return None
            unpacker.skip()                             # chain_id
            height = unpacker.unpack()
        except (ValueError, msgpack.OutOfData, msgpack.FormatError, msgpack.StackError):
            return None
        return height if type(height) is int else None

    def structure_errors(self) -> list[str]:
        """Checks that need nothing but the block itself."""
        errors = []
        if self.header.tx_count != len(self.txs):
            errors.append(f"header says {self.header.tx_count} txs, block has {len(self.txs)}")
        if self.header.tx_root != merkle_root(self.tx_ids):
            errors.append("tx_root does not match the block's transactions")
        if len(set(self.tx_ids)) != len(self.tx_ids):
            errors.append("block contains the same transaction twice")
        return errors
