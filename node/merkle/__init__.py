"""SHA-256 and RFC 6962 / RFC 9162 Merkle trees: the node's one implementation of both.

The compiled core node._native is used when it is built; otherwise, or when
ORECHAIN_PURE_PYTHON=1, the pure-Python twin node.merkle._py. Both stay importable
by those names, give the same results, and IMPLEMENTATION says which one is in use.
The contract, edge cases included, is docs/merkle.md.
"""

from node import pure_python

if pure_python():
    from node.merkle._py import (
        IMPLEMENTATION,
        consistency_proof,
        inclusion_proof,
        leaf_hash,
        merkle_root,
        node_hash,
        sha256,
        verify_consistency,
        verify_inclusion,
    )
else:
    try:
        from node._native import (
            IMPLEMENTATION,
            consistency_proof,
            inclusion_proof,
            leaf_hash,
            merkle_root,
            node_hash,
            sha256,
            verify_consistency,
            verify_inclusion,
        )
    except ImportError:
        from node.merkle._py import (
            IMPLEMENTATION,
            consistency_proof,
            inclusion_proof,
            leaf_hash,
            merkle_root,
            node_hash,
            sha256,
            verify_consistency,
            verify_inclusion,
        )

__all__ = [
    "IMPLEMENTATION",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "sha256",
    "verify_consistency",
    "verify_inclusion",
]
