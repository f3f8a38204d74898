"""Signed consensus messages (proposal, prevote, precommit) and commit certificates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from node import codec
from node.crypto.keys import verify
from node.types.validators import ValidatorSet

PREVOTE = 1
PRECOMMIT = 2
NIL = b""

Verifier = Callable[[bytes, bytes, bytes], bool]


class CommitError(ValueError):
    """A commit certificate does not prove finality of the block it names."""


def vote_sign_bytes(
    chain_id: str, type_: int, height: int, round_: int, block_hash: bytes
) -> bytes:
    return codec.encode(["orechain/vote/v1", chain_id, type_, height, round_, block_hash])


@dataclass(frozen=True)
class Vote:
    chain_id: str
    type: int
    height: int
    round: int
    block_hash: bytes  # NIL for a nil vote
    validator: bytes
    signature: bytes

    @property
    def sign_bytes(self) -> bytes:
        return vote_sign_bytes(self.chain_id, self.type, self.height, self.round, self.block_hash)

    def to_wire(self) -> list[Any]:
        return [self.chain_id, self.type, self.height, self.round, self.block_hash,
                self.validator, self.signature]

    @classmethod
    def from_wire(cls, fields: Any) -> Vote:
        if not isinstance(fields, list) or len(fields) != 7:
            raise ValueError("a vote is an array of 7 fields")
        chain_id, type_, height, round_, block_hash, validator, signature = fields
        if not (isinstance(chain_id, str) and type(type_) is int and type_ in (PREVOTE, PRECOMMIT)
                and _nat(height) and _nat(round_) and isinstance(block_hash, bytes)
                and len(block_hash) in (0, 32) and isinstance(validator, bytes)
                and isinstance(signature, bytes)):
            raise ValueError("malformed vote")
        return cls(chain_id, type_, height, round_, block_hash, validator, signature)


def proposal_sign_bytes(chain_id: str, height: int, round_: int, pol_round: int,
                        block_hash: bytes) -> bytes:
    return codec.encode(["orechain/proposal/v1", chain_id, height, round_, pol_round, block_hash])


@dataclass(frozen=True)
class Proposal:
    chain_id: str
    height: int
    round: int
    pol_round: int  # -1 when the proposer has no earlier polka for this block
    block_hash: bytes
    proposer: bytes
    signature: bytes

    @property
    def sign_bytes(self) -> bytes:
        return proposal_sign_bytes(self.chain_id, self.height, self.round, self.pol_round,
                                   self.block_hash)

    def to_wire(self) -> list[Any]:
        return [self.chain_id, self.height, self.round, self.pol_round, self.block_hash,
                self.proposer, self.signature]

    @classmethod
    def from_wire(cls, fields: Any) -> Proposal:
        if not isinstance(fields, list) or len(fields) != 7:
            raise ValueError("a proposal is an array of 7 fields")
        chain_id, height, round_, pol_round, block_hash, proposer, signature = fields
        if not (isinstance(chain_id, str) and _nat(height) and _nat(round_)
                and isinstance(pol_round, int) and not isinstance(pol_round, bool)
                and -1 <= pol_round < round_ and isinstance(block_hash, bytes)
                and len(block_hash) == 32 and isinstance(proposer, bytes)
                and isinstance(signature, bytes)):
            raise ValueError("malformed proposal")
        return cls(chain_id, height, round_, pol_round, block_hash, proposer, signature)


@dataclass(frozen=True)
class Commit:
    """Precommits of one (height, round, block) from validators with > 2/3 of the power."""

    height: int
    round: int
    block_hash: bytes
    signatures: tuple[tuple[bytes, bytes], ...]  # (validator node key, signature)

    def to_wire(self) -> list[Any]:
        return [self.height, self.round, self.block_hash, [list(s) for s in self.signatures]]

    @classmethod
    def from_wire(cls, fields: Any) -> Commit:
        if not isinstance(fields, list) or len(fields) != 4:
            raise ValueError("a commit is an array of 4 fields")
        height, round_, block_hash, sigs = fields
        if not (_nat(height) and _nat(round_) and isinstance(block_hash, bytes)
                and len(block_hash) == 32 and isinstance(sigs, list)):
            raise ValueError("malformed commit")
        pairs = []
        for s in sigs:
            if not (isinstance(s, list) and len(s) == 2 and all(isinstance(x, bytes) for x in s)):
                raise ValueError("malformed commit signature")
            pairs.append((s[0], s[1]))
        return cls(height, round_, block_hash, tuple(pairs))

    def to_json(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "round": self.round,
            "block_hash": self.block_hash.hex(),
            "signatures": [{"validator": k.hex(), "signature": s.hex()}
                           for k, s in self.signatures],
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Commit:
        return cls(
            int(obj["height"]), int(obj["round"]), bytes.fromhex(obj["block_hash"]),
            tuple((bytes.fromhex(s["validator"]), bytes.fromhex(s["signature"]))
                  for s in obj["signatures"]),
        )


def verify_commit(commit: Commit, chain_id: str, height: int, block_hash: bytes,
                  validators: ValidatorSet, verifier: Verifier = verify) -> None:
    """Raise CommitError unless `commit` proves `block_hash` final at `height`.

    Every signature is checked before its power counts; duplicates and keys
    outside the set are refused rather than ignored, so a certificate is exact.
    """
    if commit.height != height:
        raise CommitError(f"commit is for height {commit.height}, not {height}")
    if commit.block_hash != block_hash:
        raise CommitError(f"commit at height {height} is for another block")
    seen: set[bytes] = set()
    message = vote_sign_bytes(chain_id, PRECOMMIT, commit.height, commit.round, commit.block_hash)
    for key, sig in commit.signatures:
        if key in seen:
            raise CommitError(f"validator {key.hex()[:16]} signs the commit twice")
        if validators.get(key) is None:
            raise CommitError(f"commit signer {key.hex()[:16]} is not a validator at {height}")
        if not verifier(key, message, sig):
            raise CommitError(f"bad precommit signature from {key.hex()[:16]} at {height}")
        seen.add(key)
    power = validators.power_of(seen)
    if not validators.has_quorum(power):
        raise CommitError(
            f"commit at height {height} has {power} of {validators.total_power} voting power;"
            " more than 2/3 is needed"
        )


def _nat(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < (1 << 63)
