/* RFC 6962 / RFC 9162 Merkle trees: leaf and node hashing, roots, proofs, verifiers. */
#include "merkle.h"

#include <string.h>

#include "sha256.h"

/* SHA-256 of the empty string: the Merkle Tree Hash of an empty tree. */
static const uint8_t EMPTY_ROOT[ORE_HASH_SIZE] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

/* Longest leaf that still fits one block with its prefix byte, the 0x80
 * terminator and the 8-byte length: 64 - 1 - 1 - 8. */
#define ONE_BLOCK_LEAF 54

/* Pads 0x00 || data (len <= ONE_BLOCK_LEAF) into a single final block. */
static void leaf_block(const uint8_t *data, size_t len, uint8_t block[ORE_SHA256_BLOCK_SIZE]) {
    uint64_t bits = (uint64_t)(len + 1) * 8;
    memset(block, 0, ORE_SHA256_BLOCK_SIZE);
    if (len > 0) memcpy(block + 1, data, len);
    block[len + 1] = 0x80;
    block[62] = (uint8_t)(bits >> 8);
    block[63] = (uint8_t)bits;
}

/* Pads 0x01 || left || right (65 bytes) into its two blocks. */
static void node_blocks(const uint8_t *left, const uint8_t *right,
                        uint8_t blocks[2 * ORE_SHA256_BLOCK_SIZE]) {
    blocks[0] = 0x01;
    memcpy(blocks + 1, left, ORE_HASH_SIZE);
    memcpy(blocks + 1 + ORE_HASH_SIZE, right, ORE_HASH_SIZE);
    blocks[65] = 0x80;
    memset(blocks + 66, 0, 60);
    blocks[126] = 0x02; /* 65 bytes = 520 bits = 0x0208 */
    blocks[127] = 0x08;
}

void ore_leaf_hash(const uint8_t *data, size_t len, uint8_t out[ORE_HASH_SIZE]) {
    if (len <= ONE_BLOCK_LEAF) {
        uint8_t block[ORE_SHA256_BLOCK_SIZE];
        uint32_t state[8];
        leaf_block(data, len, block);
        memcpy(state, ore_sha256_iv, sizeof state);
        ore_sha256_compress(state, block, 1);
        ore_sha256_store(state, out);
        return;
    }
    static const uint8_t prefix = 0x00;
    ore_sha256_ctx ctx;
    ore_sha256_init(&ctx, ore_sha256_compress);
    ore_sha256_update(&ctx, &prefix, 1);
    ore_sha256_update(&ctx, data, len);
    ore_sha256_final(&ctx, out);
}

void ore_node_hash(const uint8_t left[ORE_HASH_SIZE], const uint8_t right[ORE_HASH_SIZE],
                   uint8_t out[ORE_HASH_SIZE]) {
    uint8_t blocks[2 * ORE_SHA256_BLOCK_SIZE];
    uint32_t state[8];
    node_blocks(left, right, blocks); /* copies the inputs first, so out may alias them */
    memcpy(state, ore_sha256_iv, sizeof state);
    ore_sha256_compress(state, blocks, 2);
    ore_sha256_store(state, out);
}

/* Messages hashed per ore_sha256_batch call: a multiple of every batch width,
 * and small enough for the blocks to sit on the stack (8 KiB for nodes). */
#define BATCH 64

void ore_leaf_hashes(const uint8_t *data, const size_t *offsets, size_t n, uint8_t *out) {
    uint8_t blocks[BATCH * ORE_SHA256_BLOCK_SIZE];
    size_t i = 0;
    while (i < n) {
        /* A run of one-block leaves goes to the batch hasher; a longer leaf is
         * hashed on its own. */
        size_t count = 0;
        while (count < BATCH && i + count < n &&
               offsets[i + count + 1] - offsets[i + count] <= ONE_BLOCK_LEAF) {
            leaf_block(data + offsets[i + count], offsets[i + count + 1] - offsets[i + count],
                       blocks + ORE_SHA256_BLOCK_SIZE * count);
            count++;
        }
        if (count > 0) {
            ore_sha256_batch(blocks, 1, count, out + ORE_HASH_SIZE * i);
            i += count;
        } else {
            ore_leaf_hash(data + offsets[i], offsets[i + 1] - offsets[i], out + ORE_HASH_SIZE * i);
            i++;
        }
    }
}

/* Pairing neighbours level by level and carrying an odd last node up unchanged
 * gives exactly RFC 6962's recursive split at the largest power of two below n,
 * without recursion and in place: node i of a level lands where hash i was,
 * after its children (at 2i and 2i + 1) have been copied into the blocks. */
void ore_tree_root(uint8_t *hashes, size_t n) {
    uint8_t blocks[BATCH * 2 * ORE_SHA256_BLOCK_SIZE];
    while (n > 1) {
        size_t pairs = n / 2;
        for (size_t i = 0; i < pairs; i += BATCH) {
            size_t count = pairs - i < BATCH ? pairs - i : BATCH;
            for (size_t j = 0; j < count; j++) {
                const uint8_t *children = hashes + 2 * ORE_HASH_SIZE * (i + j);
                node_blocks(children, children + ORE_HASH_SIZE,
                            blocks + 2 * ORE_SHA256_BLOCK_SIZE * j);
            }
            ore_sha256_batch(blocks, 2, count, hashes + ORE_HASH_SIZE * i);
        }
        if (n & 1)
            memmove(hashes + ORE_HASH_SIZE * pairs, hashes + ORE_HASH_SIZE * (n - 1), ORE_HASH_SIZE);
        n = pairs + (n & 1);
    }
}

/* Largest power of two strictly below n (n >= 2): RFC 6962's split point k. */
static size_t split_point(size_t n) {
    return (size_t)1 << (63 - __builtin_clzll((unsigned long long)(n - 1)));
}

void ore_tree_builder_init(ore_tree_builder *builder) { builder->size = 0; }

/* Adds a perfect subtree of 2^height leaves after the others; size must be a
 * multiple of 2^height. Like binary addition: each equal-sized subtree already
 * there is a left sibling, and merging with it carries into the next bit. */
static void builder_push(ore_tree_builder *builder, const uint8_t subtree_root[ORE_HASH_SIZE],
                         unsigned height) {
    uint8_t root[ORE_HASH_SIZE];
    memcpy(root, subtree_root, ORE_HASH_SIZE);
    uint64_t bit = (uint64_t)1 << height;
    while (builder->size & bit) {
        ore_node_hash(builder->roots[height], root, root);
        builder->size &= ~bit;
        height++;
        bit <<= 1;
    }
    memcpy(builder->roots[height], root, ORE_HASH_SIZE);
    builder->size |= bit;
}

void ore_tree_builder_append(ore_tree_builder *builder, uint8_t *hashes, size_t count) {
    while (count > 0) {
        /* The largest perfect subtree that fits in what is left and starts on
         * a multiple of its own size, as every perfect subtree of the tree does. */
        unsigned height = 63 - (unsigned)__builtin_clzll((unsigned long long)count);
        if (builder->size != 0) {
            unsigned align = (unsigned)__builtin_ctzll(builder->size);
            if (align < height) height = align;
        }
        size_t leaves = (size_t)1 << height;
        ore_tree_root(hashes, leaves);
        builder_push(builder, hashes, height);
        hashes += ORE_HASH_SIZE * leaves;
        count -= leaves;
    }
}

/* Folds the subtree roots from the smallest (rightmost) up: RFC 6962's split at
 * the largest power of two makes the tree H(P1, H(P2, ... H(Pk-1, Pk))) over the
 * perfect subtrees, largest first. */
void ore_tree_builder_root(const ore_tree_builder *builder, uint8_t out[ORE_HASH_SIZE]) {
    if (builder->size == 0) {
        memcpy(out, EMPTY_ROOT, ORE_HASH_SIZE);
        return;
    }
    unsigned height = (unsigned)__builtin_ctzll(builder->size);
    uint8_t root[ORE_HASH_SIZE];
    memcpy(root, builder->roots[height], ORE_HASH_SIZE);
    for (height++; height < 64; height++)
        if (builder->size & ((uint64_t)1 << height))
            ore_node_hash(builder->roots[height], root, root);
    memcpy(out, root, ORE_HASH_SIZE);
}

/* A run of leaf hashes [start, start + len) whose subtree root is a proof element. */
typedef struct {
    size_t start, len;
} subtree;

/* Writes the roots of the subtrees in reverse order of discovery: the proof
 * builders walk from the root down, and RFC 9162 lists proofs from the leaves up.
 * The subtrees are disjoint, so reducing each in place leaves the others intact. */
static size_t emit_roots(uint8_t *hashes, const subtree *subtrees, size_t count, uint8_t *proof) {
    for (size_t i = 0; i < count; i++) {
        const subtree *s = &subtrees[count - 1 - i];
        ore_tree_root(hashes + ORE_HASH_SIZE * s->start, s->len);
        memcpy(proof + ORE_HASH_SIZE * i, hashes + ORE_HASH_SIZE * s->start, ORE_HASH_SIZE);
    }
    return count;
}

size_t ore_inclusion_proof(uint8_t *hashes, size_t n, size_t index, uint8_t *proof) {
    subtree siblings[ORE_MAX_PROOF];
    size_t count = 0, start = 0;
    while (n > 1) {
        size_t k = split_point(n);
        if (index < k) { /* PATH(m, D[0:k]) : MTH(D[k:n]) */
            siblings[count++] = (subtree){start + k, n - k};
            n = k;
        } else { /* PATH(m - k, D[k:n]) : MTH(D[0:k]) */
            siblings[count++] = (subtree){start, k};
            start += k;
            index -= k;
            n -= k;
        }
    }
    return emit_roots(hashes, siblings, count, proof);
}

size_t ore_consistency_proof(uint8_t *hashes, size_t n, size_t m, uint8_t *proof) {
    subtree parts[ORE_MAX_PROOF];
    size_t count = 0, start = 0;
    int old_is_node = 1; /* SUBPROOF's b: the old tree is still a left edge here */
    while (m != n) {
        size_t k = split_point(n);
        if (m <= k) { /* SUBPROOF(m, D[0:k], b) : MTH(D[k:n]) */
            parts[count++] = (subtree){start + k, n - k};
            n = k;
        } else { /* SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]) */
            parts[count++] = (subtree){start, k};
            start += k;
            n -= k;
            m -= k;
            old_is_node = 0;
        }
    }
    /* SUBPROOF(m, D[m], false) = {MTH(D[m])}; with b true the verifier already
     * holds that hash as the old root. */
    if (!old_is_node) parts[count++] = (subtree){start, n};
    return emit_roots(hashes, parts, count, proof);
}

static int hash_equal(const uint8_t *a, const uint8_t *b) {
    return memcmp(a, b, ORE_HASH_SIZE) == 0;
}

int ore_verify_inclusion(const uint8_t leaf_hash[ORE_HASH_SIZE], uint64_t index,
                         uint64_t size, const uint8_t *proof, size_t proof_len,
                         const uint8_t root[ORE_HASH_SIZE]) {
    if (index >= size) return 0;
    uint64_t fn = index, sn = size - 1;
    uint8_t r[ORE_HASH_SIZE];
    memcpy(r, leaf_hash, ORE_HASH_SIZE);
    for (size_t i = 0; i < proof_len; i++) {
        const uint8_t *p = proof + ORE_HASH_SIZE * i;
        if (sn == 0) return 0; /* proof longer than the path */
        if ((fn & 1) || fn == sn) {
            ore_node_hash(p, r, r);
            /* Skip the levels where this node is a lone right-edge node that is
             * carried up without a sibling. */
            while (fn != 0 && !(fn & 1)) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            ore_node_hash(r, p, r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && hash_equal(r, root);
}

int ore_verify_consistency(uint64_t old_size, uint64_t new_size,
                           const uint8_t old_root[ORE_HASH_SIZE],
                           const uint8_t new_root[ORE_HASH_SIZE], const uint8_t *proof,
                           size_t proof_len) {
    if (old_size > new_size) return 0;
    if (old_size == 0) /* every tree extends the empty one; only its root can be wrong */
        return proof_len == 0 && hash_equal(old_root, EMPTY_ROOT) &&
               (new_size > 0 || hash_equal(new_root, EMPTY_ROOT));
    if (old_size == new_size) return proof_len == 0 && hash_equal(old_root, new_root);
    if (proof_len == 0) return 0;

    /* When old_size is a power of two the old tree is a node of the new one and
     * the proof omits its root; the verifier starts from old_root instead. */
    const uint8_t *seed = proof;
    size_t next = 1;
    if ((old_size & (old_size - 1)) == 0) {
        seed = old_root;
        next = 0;
    }
    uint64_t fn = old_size - 1, sn = new_size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[ORE_HASH_SIZE], sr[ORE_HASH_SIZE];
    memcpy(fr, seed, ORE_HASH_SIZE);
    memcpy(sr, seed, ORE_HASH_SIZE);
    for (size_t i = next; i < proof_len; i++) {
        const uint8_t *c = proof + ORE_HASH_SIZE * i;
        if (sn == 0) return 0;
        if ((fn & 1) || fn == sn) {
            ore_node_hash(c, fr, fr);
            ore_node_hash(c, sr, sr);
            while (fn != 0 && !(fn & 1)) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            ore_node_hash(sr, c, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && hash_equal(fr, old_root) && hash_equal(sr, new_root);
}
