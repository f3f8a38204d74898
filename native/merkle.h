/* RFC 6962 / RFC 9162 Merkle Tree Hashes over SHA-256, for orechain's native core.
 *
 * Trees are handled as a contiguous array of 32-byte leaf hashes. The proof
 * builders reduce parts of that array in place, so callers pass a scratch copy
 * they no longer need. Nothing here touches Python objects; callers may run it
 * without the GIL.
 */
#ifndef ORE_MERKLE_H
#define ORE_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define ORE_HASH_SIZE 32

/* Upper bound on proof lengths for trees of fewer than 2^64 leaves: an inclusion
 * proof has at most 64 hashes, a consistency proof at most 65. */
#define ORE_MAX_PROOF 65

/* SHA-256(0x00 || data) */
void ore_leaf_hash(const uint8_t *data, size_t len, uint8_t out[ORE_HASH_SIZE]);

/* SHA-256(0x01 || left || right) */
void ore_node_hash(const uint8_t left[ORE_HASH_SIZE], const uint8_t right[ORE_HASH_SIZE],
                   uint8_t out[ORE_HASH_SIZE]);

/* Leaf hashes of n leaves packed back to back in data, leaf i being
 * data[offsets[i] .. offsets[i + 1]), into out + 32 * i. */
void ore_leaf_hashes(const uint8_t *data, const size_t *offsets, size_t n, uint8_t *out);

/* Merkle Tree Hash of n >= 1 leaf hashes, left in hashes[0..32). Overwrites the
 * rest of the array. */
void ore_tree_root(uint8_t *hashes, size_t n);

/* The Merkle Tree Hash of a stream of leaf hashes, built with memory for one
 * subtree root per bit of the leaf count: roots[h] holds the root of the
 * perfect subtree of 2^h leaves that bit h of size stands for. */
typedef struct {
    uint8_t roots[64][ORE_HASH_SIZE];
    uint64_t size;
} ore_tree_builder;

void ore_tree_builder_init(ore_tree_builder *builder);

/* Appends count leaf hashes (hashes[32 * i]); overwrites hashes. */
void ore_tree_builder_append(ore_tree_builder *builder, uint8_t *hashes, size_t count);

/* The Merkle Tree Hash of everything appended so far (SHA-256("") if nothing). */
void ore_tree_builder_root(const ore_tree_builder *builder, uint8_t out[ORE_HASH_SIZE]);

/* RFC 9162 inclusion proof PATH(index, D[n]) for 0 <= index < n, written to proof
 * as consecutive hashes; returns how many. Overwrites hashes. */
size_t ore_inclusion_proof(uint8_t *hashes, size_t n, size_t index, uint8_t *proof);

/* RFC 9162 consistency proof PROOF(m, D[n]) for 0 < m <= n (empty when m == n).
 * Returns the number of hashes written to proof. Overwrites hashes. */
size_t ore_consistency_proof(uint8_t *hashes, size_t n, size_t m, uint8_t *proof);

/* RFC 9162 section 2.1.3.2: 1 if proof (proof_len hashes) proves leaf_hash at
 * index in a tree of size leaves with this root, else 0. */
int ore_verify_inclusion(const uint8_t leaf_hash[ORE_HASH_SIZE], uint64_t index,
                         uint64_t size, const uint8_t *proof, size_t proof_len,
                         const uint8_t root[ORE_HASH_SIZE]);

/* RFC 9162 section 2.1.4.2 plus orechain's policy for the cases the RFC leaves
 * open (docs/merkle.md): 1 if the tree of old_size leaves with old_root is a
 * prefix of the tree of new_size leaves with new_root, else 0. */
int ore_verify_consistency(uint64_t old_size, uint64_t new_size,
                           const uint8_t old_root[ORE_HASH_SIZE],
                           const uint8_t new_root[ORE_HASH_SIZE], const uint8_t *proof,
                           size_t proof_len);

#endif
