"""The validator set of a height: who votes, with what power, and who proposes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from node import codec
from node.merkle import sha256


@dataclass(frozen=True)
class Validator:
    name: str
    node_key: bytes
    power: int
    org: str = ""


@dataclass(frozen=True)
class ValidatorSet:
    validators: tuple[Validator, ...]

    def __post_init__(self) -> None:
        if not self.validators:
            raise ValueError("a validator set needs at least one validator")
        keys = [v.node_key for v in self.validators]
        if len(set(keys)) != len(keys):
            raise ValueError("a node key appears twice in the validator set")
        for v in self.validators:
            if isinstance(v.power, bool) or not isinstance(v.power, int) or v.power <= 0:
                raise ValueError(f"validator {v.name} needs a positive integer power")

    @classmethod
    def of(cls, validators: Iterable[Validator]) -> ValidatorSet:
        return cls(tuple(validators))

    @cached_property
    def total_power(self) -> int:
        return sum(v.power for v in self.validators)

    @cached_property
    def _by_key(self) -> dict[bytes, Validator]:
        return {v.node_key: v for v in self.validators}

    def get(self, node_key: bytes) -> Validator | None:
        return self._by_key.get(node_key)

    def power_of(self, node_keys: Iterable[bytes]) -> int:
        """Voting power of the distinct members among `node_keys` (others count zero)."""
        return sum(self._by_key[k].power for k in set(node_keys) if k in self._by_key)

    def has_quorum(self, power: int) -> bool:
        """More than 2/3 of the total power (the paper's 2f+1), in integers."""
        return 3 * power > 2 * self.total_power

    def has_one_third(self, power: int) -> bool:
        """More than 1/3 of the total power (the paper's f+1)."""
        return 3 * power > self.total_power

    def proposer(self, height: int, round_: int) -> Validator:
        """Round-robin in genesis order by (height, round): every validator within n rounds."""
        return self.validators[(height + round_) % len(self.validators)]

    @cached_property
    def hash(self) -> bytes:
        return sha256(codec.encode([[v.node_key, v.power] for v in self.validators]))
