"""The BFT state machine (Tendermint, Algorithm 1): pure, sans-IO, driven by inputs.

`ConsensusCore.step(input) -> list[Effect]`; the signer and the WAL make a
validator crash-safe; `replay` rebuilds a core from its WAL. See docs/consensus.md.
"""

from node.consensus.config import Limits, TimeoutConfig
from node.consensus.core import ConsensusCore
from node.consensus.effects import (
    Broadcast,
    Decide,
    Effect,
    Evidence,
    RequestValue,
    ScheduleTimeout,
    SignProposal,
    SignVote,
    ValidateBlock,
)
from node.consensus.inputs import (
    BlockValidated,
    Input,
    ProposalReceived,
    StartHeight,
    Step,
    TimeoutFired,
    ValueReady,
    VoteReceived,
)
from node.consensus.replay import replay
from node.consensus.signer import (
    DoubleSignError,
    FileSignerState,
    GuardedSigner,
    LastSigned,
    MemorySignerState,
    SignerStateError,
)
from node.consensus.wal import FileWAL, MemoryWAL, MemoryWALDisk, WALCorruptError

__all__ = [
    "BlockValidated",
    "Broadcast",
    "ConsensusCore",
    "Decide",
    "DoubleSignError",
    "Effect",
    "Evidence",
    "FileSignerState",
    "FileWAL",
    "GuardedSigner",
    "Input",
    "LastSigned",
    "Limits",
    "MemorySignerState",
    "MemoryWAL",
    "MemoryWALDisk",
    "ProposalReceived",
    "RequestValue",
    "ScheduleTimeout",
    "SignProposal",
    "SignVote",
    "SignerStateError",
    "StartHeight",
    "Step",
    "TimeoutConfig",
    "TimeoutFired",
    "ValidateBlock",
    "ValueReady",
    "VoteReceived",
    "WALCorruptError",
    "replay",
]
