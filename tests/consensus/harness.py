"""Hand-driven single-core scenarios: real keys, a driver that signs and feeds back."""

from __future__ import annotations

import hashlib

from node.consensus import (
    Broadcast,
    ConsensusCore,
    Effect,
    GuardedSigner,
    Input,
    MemorySignerState,
    ProposalReceived,
    SignProposal,
    SignVote,
    StartHeight,
    TimeoutConfig,
    VoteReceived,
)
from node.crypto.keys import PrivateKey
from node.types.validators import Validator, ValidatorSet
from node.types.vote import Proposal, Vote

CHAIN = "orechain-unit"
KEYS = [PrivateKey(hashlib.sha256(f"unit-validator-{i}".encode()).digest()) for i in range(4)]
PUB = [k.public_key for k in KEYS]
VALIDATORS = ValidatorSet.of(Validator(f"v{i}", PUB[i], 1) for i in range(4))
TIMEOUTS = TimeoutConfig()


def value(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


def vote(i: int, type_: int, height: int, round_: int, block_hash: bytes) -> VoteReceived:
    unsigned = Vote(CHAIN, type_, height, round_, block_hash, PUB[i], b"")
    return VoteReceived(Vote(CHAIN, type_, height, round_, block_hash, PUB[i],
                             KEYS[i].sign(unsigned.sign_bytes)))


def proposal(i: int, height: int, round_: int, pol_round: int,
             block_hash: bytes) -> ProposalReceived:
    unsigned = Proposal(CHAIN, height, round_, pol_round, block_hash, PUB[i], b"")
    return ProposalReceived(Proposal(CHAIN, height, round_, pol_round, block_hash, PUB[i],
                                     KEYS[i].sign(unsigned.sign_bytes)))


class Driver:
    """Runs one core as validator `me`: signs its requests and feeds them back, like the
    daemon does, and records every effect for assertions."""

    def __init__(self, me: int = 0, validators: ValidatorSet = VALIDATORS,
                 height: int = 1) -> None:
        self.me = me
        self.core = ConsensusCore(CHAIN, PUB[me], TIMEOUTS)
        self.signer = GuardedSigner(KEYS[me], MemorySignerState())
        self.effects: list[Effect] = []
        self.feed(StartHeight(height, validators, validators))

    def feed(self, *events: Input) -> list[Effect]:
        produced: list[Effect] = []
        queue = list(events)
        while queue:
            out = self.core.step(queue.pop(0))
            produced.extend(out)
            for effect in out:
                if isinstance(effect, SignVote):
                    queue.append(VoteReceived(self.signer.sign_vote(
                        CHAIN, effect.type, effect.height, effect.round, effect.block_hash)))
                elif isinstance(effect, SignProposal):
                    queue.append(ProposalReceived(self.signer.sign_proposal(
                        CHAIN, effect.height, effect.round, effect.pol_round,
                        effect.block_hash)))
        self.effects.extend(produced)
        return produced

    def sent_votes(self, produced: list[Effect] | None = None) -> list[tuple[int, int, bytes]]:
        """(type, round, value) of own votes broadcast in `produced` (default: all)."""
        return [(e.message.type, e.message.round, e.message.block_hash)
                for e in (self.effects if produced is None else produced)
                if isinstance(e, Broadcast) and isinstance(e.message, Vote)]
