"""Frozen value objects of the chain: transactions, blocks, votes, commits, validator sets.

This is the bottom layer: it imports node.codec, node.crypto and node.merkle only.
"""

from node.types.block import Block, Header, TxResult, results_root
from node.types.tx import Tx, TxFormatError
from node.types.validators import Validator, ValidatorSet
from node.types.vote import (
    PRECOMMIT,
    PREVOTE,
    Commit,
    CommitError,
    Proposal,
    Vote,
    verify_commit,
)

__all__ = [
    "PRECOMMIT",
    "PREVOTE",
    "Block",
    "Commit",
    "CommitError",
    "Header",
    "Proposal",
    "Tx",
    "TxFormatError",
    "TxResult",
    "Validator",
    "ValidatorSet",
    "Vote",
    "results_root",
    "verify_commit",
]
