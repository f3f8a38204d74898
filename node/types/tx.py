"""A signed transaction: [chain_id, kind, body, signer, nonce, signature].

The signature covers the canonical encoding of everything before it. The tx id is
SHA-256 of the whole canonical encoding.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import msgpack

from node import codec
from node.crypto.keys import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, PrivateKey
from node.merkle import sha256

MAX_TX_BYTES = 64 * 1024
_KIND = re.compile(r"[a-z][a-z_]{0,31}")       # the whole kind: fullmatch
_NONCE_LIMIT = 1 << 63
# msgpack headers of the canonical encodings: fixarray of 5 (unsigned) and of 6 (signed)
# fields, and bin 8 of 64 bytes for the signature.
_UNSIGNED_HEADER = b"\x95"
_SIGNED_HEADER = b"\x96"
_SIGNATURE_PREFIX = b"\xc4\x40"
# Where the signed fields of a canonical signed tx end: before the signature's bin 8.
_SIGNED_TAIL = -len(_SIGNATURE_PREFIX) - SIGNATURE_SIZE


def _native_fields() -> Callable[[Callable[[bytes], Any], bytes], dict[str, Any] | None] | None:
    """node._codec's check of a whole signed tx in one call, where it is built (and not
    ORECHAIN_PURE_PYTHON=1). It answers only for a tx that passes every check; the
    general path of Tx.decode judges the rest, with the reason."""
    if not codec.native():          # ORECHAIN_PURE_PYTHON=1, or node._codec not built
        return None
    try:
        from node._codec import tx_fields
    except ImportError:
        return None
    return tx_fields


_NATIVE_FIELDS = _native_fields()


class TxFormatError(ValueError):
    """A transaction is malformed (a shape error, not a rule of the lot lifecycle)."""


@dataclass(frozen=True)
class Tx:
    chain_id: str
    kind: str
    body: dict[str, Any]
    signer: bytes
    nonce: int
    signature: bytes = field(default=b"")

    def __init__(self, chain_id: str, kind: str, body: dict[str, Any], signer: bytes,
                 nonce: int, signature: bytes = b"") -> None:
        # Written instead of generated: the frozen dataclass's __init__ sets each field
        # through object.__setattr__, and every node builds a Tx for every event it
        # decodes. The fields are still set once, here, and checked at once.
        self.__dict__.update(chain_id=chain_id, kind=kind, body=body, signer=signer,
                             nonce=nonce, signature=signature)
        self._check_fields()

    def _check_fields(self) -> None:
        if not isinstance(self.chain_id, str) or not 0 < len(self.chain_id) <= 64:
            raise TxFormatError("chain_id must be a non-empty string of at most 64 characters")
        if not isinstance(self.kind, str) or not _KIND.fullmatch(self.kind):
            raise TxFormatError(f"kind {self.kind!r} is not a lower-case event name")
        if not isinstance(self.body, dict):
            raise TxFormatError("body must be an object")
        if not isinstance(self.signer, bytes) or len(self.signer) != PUBLIC_KEY_SIZE:
            raise TxFormatError("signer must be a 32-byte Ed25519 public key")
        if isinstance(self.nonce, bool) or not isinstance(self.nonce, int):
            raise TxFormatError("nonce must be an integer")
        if not -_NONCE_LIMIT <= self.nonce < _NONCE_LIMIT:
            raise TxFormatError("nonce must fit in a signed 64-bit integer")
        if not isinstance(self.signature, bytes) or len(self.signature) not in (0, SIGNATURE_SIZE):
            raise TxFormatError("signature must be 64 bytes")

    def unsigned_fields(self) -> list[Any]:
        return [self.chain_id, self.kind, self.body, self.signer, self.nonce]

    @cached_property
    def signing_bytes(self) -> bytes:
        try:
            return codec.encode(self.unsigned_fields())
        except codec.CodecError as exc:
            raise TxFormatError(f"body: {exc}") from None

    @cached_property
    def encoded(self) -> bytes:
        if not self.signature:
            raise TxFormatError("transaction is not signed")
        # The canonical 6-array is the 5-array of signing_bytes with its one-byte header
        # bumped and the 64-byte signature appended as bin 8: no second walk of the body.
        data = _SIGNED_HEADER + self.signing_bytes[1:] + _SIGNATURE_PREFIX + self.signature
        if len(data) > MAX_TX_BYTES:
            raise TxFormatError(f"transaction is {len(data)} bytes, over the {MAX_TX_BYTES} limit")
        return data

    @cached_property
    def tx_id(self) -> bytes:
        return sha256(self.encoded)

    def signed(self, key: PrivateKey) -> Tx:
        if key.public_key != self.signer:
            raise TxFormatError("signing key does not match the tx signer")
        return Tx(self.chain_id, self.kind, self.body, self.signer, self.nonce,
                  key.sign(self.signing_bytes))

    @classmethod
    def decode(cls, data: bytes) -> Tx:
        if _NATIVE_FIELDS is not None and type(data) is bytes and len(data) <= MAX_TX_BYTES:
            attributes = _NATIVE_FIELDS(msgpack.unpackb, data)
            if attributes is not None:
                # Every check below passed, in C: set what they would have set.
                tx = object.__new__(cls)
                tx.__dict__.update(attributes)
                return tx
        try:
            fields = codec.decode(data, max_size=MAX_TX_BYTES)
        except codec.CodecError as exc:
            raise TxFormatError(str(exc)) from None
        if not isinstance(fields, list) or len(fields) != 6:
            raise TxFormatError("a transaction is an array of 6 fields")
        tx = cls(*fields)
        if not tx.signature:
            raise TxFormatError("transaction is not signed")
        data = bytes(data)
        # codec.decode proved `data` canonical, so it is the encoding, and the signed
        # prefix is a slice of it: seed both caches rather than re-encode the body.
        tx.__dict__["encoded"] = data
        tx.__dict__["signing_bytes"] = _UNSIGNED_HEADER + data[1:_SIGNED_TAIL]
        return tx

    # JSON form used by the RPC: keys and signature as lowercase hex.
    def to_json(self) -> dict[str, Any]:
        out = {
            "chain_id": self.chain_id,
            "kind": self.kind,
            "body": self.body,
            "signer": self.signer.hex(),
            "nonce": self.nonce,
        }
        if self.signature:
            out["signature"] = self.signature.hex()
        return out

    @classmethod
    def from_json(cls, obj: Any, *, require_signature: bool = True) -> Tx:
        if not isinstance(obj, dict):
            raise TxFormatError("event must be a JSON object")
        missing = [k for k in ("chain_id", "kind", "body", "signer", "nonce") if k not in obj]
        if require_signature and "signature" not in obj:
            missing.append("signature")
        if missing:
            raise TxFormatError(f"event is missing field(s): {', '.join(missing)}")
        extra = set(obj) - {"chain_id", "kind", "body", "signer", "nonce", "signature"}
        if extra:
            raise TxFormatError(f"event has unknown field(s): {', '.join(sorted(extra))}")
        tx = cls(
            obj["chain_id"], obj["kind"], obj["body"],
            _hex(obj["signer"], "signer"), obj["nonce"],
            _hex(obj.get("signature", ""), "signature"),
        )
        _ = tx.signing_bytes  # rejects floats and other non-canonical bodies now
        return tx


def _hex(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise TxFormatError(f"{name} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise TxFormatError(f"{name} is not valid hex") from None
