"""The validator's signer: never signs two different messages for one (height, round, step).

Before a signature leaves `sign_*`, the signer makes the new last-signed state
(height, round, step, sign_bytes, signature) durable. A request for the same
(h, r, step) with identical sign bytes returns the stored signature (a restarted
node re-sends what it already sent); anything else at or below the last-signed
(h, r, step) is refused with DoubleSignError.

The state records the public key it belongs to, so pairing a state file with
another key file is refused rather than silently starting from scratch.

FileSignerState writes JSON atomically: write a temporary file, fsync it, rename
it over the old one, fsync the directory. MemorySignerState is the simulator's
twin: every store is "synced", so exactly what was stored survives a crash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from node.consensus.inputs import Step
from node.crypto.keys import PrivateKey
from node.store.files import replace_durably
from node.types.vote import Proposal, Vote, proposal_sign_bytes, vote_sign_bytes


class DoubleSignError(Exception):
    """The request conflicts with, or goes back behind, what this validator already signed."""


class SignerStateError(Exception):
    """The last-signed state on disk is unreadable or belongs to another key."""


@dataclass(frozen=True)
class LastSigned:
    public_key: bytes
    height: int
    round: int
    step: int
    sign_bytes: bytes
    signature: bytes


class SignerState(Protocol):
    def load(self) -> LastSigned | None: ...

    def store(self, state: LastSigned) -> None:
        """Make `state` durable before returning."""


class GuardedSigner:
    """Signs proposals and votes for one key, guarded by its last-signed state."""

    def __init__(self, key: PrivateKey, state: SignerState) -> None:
        self._key = key
        self.public_key = key.public_key
        self._state = state
        self._last = state.load()
        if self._last is not None and self._last.public_key != self.public_key:
            raise SignerStateError(
                "the last-signed state belongs to another validator key; refusing to sign")

    @property
    def last_signed(self) -> LastSigned | None:
        return self._last

    def sign_proposal(self, chain_id: str, height: int, round_: int, pol_round: int,
                      block_hash: bytes) -> Proposal:
        message = proposal_sign_bytes(chain_id, height, round_, pol_round, block_hash)
        signature = self._sign(height, round_, Step.PROPOSE, message)
        return Proposal(chain_id, height, round_, pol_round, block_hash, self.public_key,
                        signature)

    def sign_vote(self, chain_id: str, type_: int, height: int, round_: int,
                  block_hash: bytes) -> Vote:
        message = vote_sign_bytes(chain_id, type_, height, round_, block_hash)
        signature = self._sign(height, round_, Step(type_), message)
        return Vote(chain_id, type_, height, round_, block_hash, self.public_key, signature)

    def _sign(self, height: int, round_: int, step: Step, message: bytes) -> bytes:
        last = self._last
        hrs = (height, round_, int(step))
        if last is not None:
            last_hrs = (last.height, last.round, last.step)
            if hrs == last_hrs:
                if message == last.sign_bytes:
                    return last.signature
                raise DoubleSignError(
                    f"already signed a different message at height {height} round {round_}"
                    f" step {step.name}")
            if hrs < last_hrs:
                raise DoubleSignError(
                    f"refusing to sign h={height} r={round_} {step.name}: already signed"
                    f" h={last.height} r={last.round} {Step(last.step).name}")
        signature = self._key.sign(message)
        state = LastSigned(self.public_key, height, round_, int(step), message, signature)
        self._state.store(state)  # durable before the signature is released
        self._last = state
        return signature


class FileSignerState:
    """Last-signed state in a JSON file, replaced atomically and fsync'd."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Strings made once: store runs before every signature is released.
        self._file = str(self.path)
        self._tmp = self._file + ".tmp"
        self._dir = str(self.path.parent)

    def load(self) -> LastSigned | None:
        try:
            doc = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise SignerStateError(f"signer state {self.path} is unreadable: {exc}") from None
        try:
            return LastSigned(bytes.fromhex(doc["public_key"]), int(doc["height"]),
                              int(doc["round"]), int(doc["step"]),
                              bytes.fromhex(doc["sign_bytes"]), bytes.fromhex(doc["signature"]))
        except (KeyError, TypeError, ValueError):
            raise SignerStateError(f"signer state {self.path} is malformed") from None

    def store(self, state: LastSigned) -> None:
        doc = {"public_key": state.public_key.hex(), "height": state.height,
               "round": state.round, "step": state.step,
               "sign_bytes": state.sign_bytes.hex(), "signature": state.signature.hex()}
        replace_durably(self._file, self._tmp, self._dir, json.dumps(doc).encode())


class MemorySignerState:
    """In-memory twin for the simulator: a stored state always survives a simulated crash."""

    def __init__(self) -> None:
        self._state: LastSigned | None = None

    def load(self) -> LastSigned | None:
        return self._state

    def store(self, state: LastSigned) -> None:
        self._state = state
