"""SHA-256 and RFC 6962 Merkle trees: node._native when built, else the pure-Python twin.

ORECHAIN_PURE_PYTHON=1 forces the twin.
"""

from node.merkle._py import (
    IMPLEMENTATION,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    node_hash,
    sha256,
    verify_inclusion,
)

__all__ = [
    "IMPLEMENTATION",
    "inclusion_proof",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "sha256",
    "verify_inclusion",
]
