/* SHA-256 compression with the x86 SHA extensions (SHA-NI).
 *
 * Only the functions below are compiled for SHA/SSE4.1/SSSE3 (per-function target
 * attributes), so the rest of the module stays baseline x86-64 and still loads on
 * CPUs without them; ore_sha256_select() only installs these after cpuid says yes.
 */
#include "sha256.h"

#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

#define SHANI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

int ore_cpu_has_shani(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & bit_SSE4_1) || !(ecx & bit_SSSE3)) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx & bit_SHA) != 0;
}

/* The instructions keep the working variables as two vectors, ABEF and CDGH
 * (A in the top lane), instead of FIPS order A..H; these macros convert. */
#define TO_ABEF_CDGH(state, abef, cdgh)                                            \
    do {                                                                           \
        __m128i dcba_ = _mm_shuffle_epi32(                                         \
            _mm_loadu_si128((const __m128i *)&(state)[0]), 0xb1);                  \
        __m128i efgh_ = _mm_shuffle_epi32(                                         \
            _mm_loadu_si128((const __m128i *)&(state)[4]), 0x1b);                  \
        (abef) = _mm_alignr_epi8(dcba_, efgh_, 8);                                 \
        (cdgh) = _mm_blend_epi16(efgh_, dcba_, 0xf0);                              \
    } while (0)

#define FROM_ABEF_CDGH(state, abef, cdgh)                                          \
    do {                                                                           \
        __m128i abef_ = _mm_shuffle_epi32((abef), 0x1b);                           \
        __m128i cdgh_ = _mm_shuffle_epi32((cdgh), 0xb1);                           \
        _mm_storeu_si128((__m128i *)&(state)[0], _mm_blend_epi16(abef_, cdgh_, 0xf0)); \
        _mm_storeu_si128((__m128i *)&(state)[4], _mm_alignr_epi8(cdgh_, abef_, 8));   \
    } while (0)

/* Message words i*4 .. i*4+3 of a block, converted from big-endian. */
#define LOAD_W(block, i) \
    _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)((block) + 16 * (i))), bswap)

/* Four rounds (group g, rounds 4g .. 4g+3) with message words w. */
#define ROUNDS4(abef, cdgh, w, g)                                                  \
    do {                                                                           \
        __m128i wk_ = _mm_add_epi32(                                               \
            (w), _mm_loadu_si128((const __m128i *)&ore_sha256_k[4 * (g)]));        \
        (cdgh) = _mm_sha256rnds2_epu32((cdgh), (abef), wk_);                       \
        (abef) = _mm_sha256rnds2_epu32((abef), (cdgh), _mm_shuffle_epi32(wk_, 0x0e)); \
    } while (0)

/* The next four schedule words, replacing w0; w0..w3 hold the previous sixteen,
 * oldest first. */
#define SCHEDULE(w0, w1, w2, w3)                                                   \
    ((w0) = _mm_sha256msg2_epu32(                                                  \
         _mm_add_epi32(_mm_sha256msg1_epu32((w0), (w1)), _mm_alignr_epi8((w3), (w2), 4)), \
         (w3)))

/* All 64 rounds of one block, for a state held in registers abef/cdgh. */
#define BLOCK(abef, cdgh, block)                                                   \
    do {                                                                           \
        __m128i abef0_ = (abef), cdgh0_ = (cdgh);                                  \
        __m128i w0 = LOAD_W(block, 0), w1 = LOAD_W(block, 1);                      \
        __m128i w2 = LOAD_W(block, 2), w3 = LOAD_W(block, 3);                      \
        ROUNDS4(abef, cdgh, w0, 0);                                                \
        ROUNDS4(abef, cdgh, w1, 1);                                                \
        ROUNDS4(abef, cdgh, w2, 2);                                                \
        ROUNDS4(abef, cdgh, w3, 3);                                                \
        for (int g_ = 4; g_ < 16; g_ += 4) {                                       \
            SCHEDULE(w0, w1, w2, w3);                                              \
            ROUNDS4(abef, cdgh, w0, g_);                                           \
            SCHEDULE(w1, w2, w3, w0);                                              \
            ROUNDS4(abef, cdgh, w1, g_ + 1);                                       \
            SCHEDULE(w2, w3, w0, w1);                                              \
            ROUNDS4(abef, cdgh, w2, g_ + 2);                                       \
            SCHEDULE(w3, w0, w1, w2);                                              \
            ROUNDS4(abef, cdgh, w3, g_ + 3);                                       \
        }                                                                          \
        (abef) = _mm_add_epi32((abef), abef0_);                                    \
        (cdgh) = _mm_add_epi32((cdgh), cdgh0_);                                    \
    } while (0)

SHANI_TARGET
void ore_sha256_compress_shani(uint32_t state[8], const uint8_t *blocks, size_t nblocks) {
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i abef, cdgh;
    TO_ABEF_CDGH(state, abef, cdgh);
    for (; nblocks > 0; nblocks--, blocks += ORE_SHA256_BLOCK_SIZE) BLOCK(abef, cdgh, blocks);
    FROM_ABEF_CDGH(state, abef, cdgh);
}

/* Two messages of nblocks blocks each, block by block in lockstep: the round
 * instructions have a long latency, and the out-of-order core fills one chain's
 * stalls with the other's work. */
SHANI_TARGET
static void compress_pair(uint32_t state_a[8], const uint8_t *blocks_a, uint32_t state_b[8],
                          const uint8_t *blocks_b, size_t nblocks) {
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i abef_a, cdgh_a, abef_b, cdgh_b;
    TO_ABEF_CDGH(state_a, abef_a, cdgh_a);
    TO_ABEF_CDGH(state_b, abef_b, cdgh_b);
    for (size_t b = 0; b < nblocks; b++) {
        BLOCK(abef_a, cdgh_a, blocks_a + ORE_SHA256_BLOCK_SIZE * b);
        BLOCK(abef_b, cdgh_b, blocks_b + ORE_SHA256_BLOCK_SIZE * b);
    }
    FROM_ABEF_CDGH(state_a, abef_a, cdgh_a);
    FROM_ABEF_CDGH(state_b, abef_b, cdgh_b);
}

void ore_sha256_batch_shani(const uint8_t *blocks, size_t nblocks, size_t count,
                            uint8_t *digests) {
    const size_t stride = ORE_SHA256_BLOCK_SIZE * nblocks;
    size_t j = 0;
    for (; j + 1 < count; j += 2) {
        uint32_t state_a[8], state_b[8];
        memcpy(state_a, ore_sha256_iv, sizeof state_a);
        memcpy(state_b, ore_sha256_iv, sizeof state_b);
        compress_pair(state_a, blocks + stride * j, state_b, blocks + stride * (j + 1), nblocks);
        ore_sha256_store(state_a, digests + ORE_SHA256_DIGEST_SIZE * j);
        ore_sha256_store(state_b, digests + ORE_SHA256_DIGEST_SIZE * (j + 1));
    }
    if (j < count) {
        uint32_t state[8];
        memcpy(state, ore_sha256_iv, sizeof state);
        ore_sha256_compress_shani(state, blocks + stride * j, nblocks);
        ore_sha256_store(state, digests + ORE_SHA256_DIGEST_SIZE * j);
    }
}

#endif
