/* SHA-256 of sixteen messages at once with AVX-512: lane j of every 512-bit
 * register belongs to message j.
 *
 * SHA-NI runs one message through dedicated round instructions; here the plain
 * FIPS 180-4 round runs on sixteen messages per instruction, with rotates and
 * three-input logic (vprord, vpternlogd) doing what takes several instructions in
 * scalar code. On CPUs with both, this outpaces SHA-NI for batches, which is what
 * Merkle trees are made of. Only these functions are compiled for AVX-512
 * (per-function target attributes); ore_sha256_select() installs them after
 * cpuid and xgetbv say the CPU and OS support them.
 */
#include "sha256.h"

#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw")))

/* XCR0 bits the OS must set: SSE, AVX, opmask, ZMM0-15 upper halves, ZMM16-31. */
#define XCR0_AVX512_STATE 0xe6u

int ore_cpu_has_avx512(void) {
    unsigned int eax, ebx, ecx, edx, xcr0_lo, xcr0_hi;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_OSXSAVE)) return 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    (void)xcr0_hi;
    if ((xcr0_lo & XCR0_AVX512_STATE) != XCR0_AVX512_STATE) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx & bit_AVX512F) && (ebx & bit_AVX512BW);
}

#define ADD(x, y) _mm512_add_epi32((x), (y))
#define ROR(x, n) _mm512_ror_epi32((x), (n))
/* vpternlogd truth tables: 0x96 = x ^ y ^ z, 0xca = x ? y : z, 0xe8 = majority. */
#define XOR3(x, y, z) _mm512_ternarylogic_epi32((x), (y), (z), 0x96)
#define CH(e, f, g) _mm512_ternarylogic_epi32((e), (f), (g), 0xca)
#define MAJ(a, b, c) _mm512_ternarylogic_epi32((a), (b), (c), 0xe8)
#define BSIG0(x) XOR3(ROR((x), 2), ROR((x), 13), ROR((x), 22))
#define BSIG1(x) XOR3(ROR((x), 6), ROR((x), 11), ROR((x), 25))
#define SSIG0(x) XOR3(ROR((x), 7), ROR((x), 18), _mm512_srli_epi32((x), 3))
#define SSIG1(x) XOR3(ROR((x), 17), ROR((x), 19), _mm512_srli_epi32((x), 10))

/* Round t0 + i. w[] is a ring of the last sixteen schedule words, so slot i
 * holds W[t-16] until SCHED replaces it with W[t]. */
#define ROUND(a, b, c, d, e, f, g, h, i, t0, sched)                                    \
    do {                                                                               \
        if (sched)                                                                     \
            w[i] = ADD(ADD(w[i], SSIG0(w[((i) + 1) & 15])),                            \
                       ADD(w[((i) + 9) & 15], SSIG1(w[((i) + 14) & 15])));             \
        __m512i t1_ = ADD(ADD((h), BSIG1(e)),                                          \
                          ADD(CH((e), (f), (g)),                                       \
                              ADD(w[i], _mm512_set1_epi32((int)ore_sha256_k[(t0) + (i)])))); \
        __m512i t2_ = ADD(BSIG0(a), MAJ((a), (b), (c)));                               \
        (d) = ADD((d), t1_);                                                           \
        (h) = ADD(t1_, t2_);                                                           \
    } while (0)

/* Sixteen rounds from t0; the working variables rotate through the names
 * instead of being moved. */
#define ROUNDS16(t0, sched)                                 \
    do {                                                    \
        ROUND(a, b, c, d, e, f, g, h, 0, t0, sched);        \
        ROUND(h, a, b, c, d, e, f, g, 1, t0, sched);        \
        ROUND(g, h, a, b, c, d, e, f, 2, t0, sched);        \
        ROUND(f, g, h, a, b, c, d, e, 3, t0, sched);        \
        ROUND(e, f, g, h, a, b, c, d, 4, t0, sched);        \
        ROUND(d, e, f, g, h, a, b, c, 5, t0, sched);        \
        ROUND(c, d, e, f, g, h, a, b, 6, t0, sched);        \
        ROUND(b, c, d, e, f, g, h, a, 7, t0, sched);        \
        ROUND(a, b, c, d, e, f, g, h, 8, t0, sched);        \
        ROUND(h, a, b, c, d, e, f, g, 9, t0, sched);        \
        ROUND(g, h, a, b, c, d, e, f, 10, t0, sched);       \
        ROUND(f, g, h, a, b, c, d, e, 11, t0, sched);       \
        ROUND(e, f, g, h, a, b, c, d, 12, t0, sched);       \
        ROUND(d, e, f, g, h, a, b, c, 13, t0, sched);       \
        ROUND(c, d, e, f, g, h, a, b, 14, t0, sched);       \
        ROUND(b, c, d, e, f, g, h, a, 15, t0, sched);       \
    } while (0)

/* Hashes the messages in the lanes set in `lanes` (message j at
 * blocks + 64 * nblocks * j) into digests + 32 * j. Unset lanes read nothing. */
AVX512_TARGET
static void hash_x16(const uint8_t *blocks, size_t nblocks, __mmask16 lanes, uint8_t *digests) {
    const __m512i bswap = _mm512_broadcast_i32x4(
        _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL));
    const __m512i message_offsets = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)(ORE_SHA256_BLOCK_SIZE * nblocks)));
    __m512i state[8], w[16];
    for (int k = 0; k < 8; k++) state[k] = _mm512_set1_epi32((int)ore_sha256_iv[k]);

    for (size_t n = 0; n < nblocks; n++) {
        const uint8_t *block = blocks + ORE_SHA256_BLOCK_SIZE * n;
        /* Gathering word t of every message transposes sixteen blocks into the
         * lane layout in sixteen instructions. */
        for (int t = 0; t < 16; t++)
            w[t] = _mm512_shuffle_epi8(
                _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), lanes, message_offsets,
                                            block + 4 * t, 1),
                bswap);
        __m512i a = state[0], b = state[1], c = state[2], d = state[3];
        __m512i e = state[4], f = state[5], g = state[6], h = state[7];
        ROUNDS16(0, 0);
        for (int t0 = 16; t0 < 64; t0 += 16) ROUNDS16(t0, 1);
        state[0] = ADD(state[0], a);
        state[1] = ADD(state[1], b);
        state[2] = ADD(state[2], c);
        state[3] = ADD(state[3], d);
        state[4] = ADD(state[4], e);
        state[5] = ADD(state[5], f);
        state[6] = ADD(state[6], g);
        state[7] = ADD(state[7], h);
    }

    /* Back from lanes to one big-endian digest per message. */
    uint32_t words[8][16] __attribute__((aligned(64)));
    for (int k = 0; k < 8; k++)
        _mm512_store_si512((__m512i *)words[k], _mm512_shuffle_epi8(state[k], bswap));
    for (int j = 0; j < 16; j++) {
        if (!(lanes & (1u << j))) continue;
        uint32_t *out = (uint32_t *)(void *)(digests + ORE_SHA256_DIGEST_SIZE * j);
        for (int k = 0; k < 8; k++) __builtin_memcpy(out + k, &words[k][j], 4);
    }
}

/* Below this many messages, running sixteen lanes costs more than hashing them
 * one by one through ore_sha256_compress. */
#define MIN_LANES 8

void ore_sha256_batch_avx512(const uint8_t *blocks, size_t nblocks, size_t count,
                             uint8_t *digests) {
    const size_t stride = ORE_SHA256_BLOCK_SIZE * nblocks;
    size_t j = 0;
    for (; j + 16 <= count; j += 16)
        hash_x16(blocks + stride * j, nblocks, 0xffff, digests + ORE_SHA256_DIGEST_SIZE * j);
    size_t rest = count - j;
    if (rest >= MIN_LANES)
        hash_x16(blocks + stride * j, nblocks, (__mmask16)((1u << rest) - 1),
                 digests + ORE_SHA256_DIGEST_SIZE * j);
    else if (rest > 0)
        ore_sha256_batch_serial(blocks + stride * j, nblocks, rest,
                                digests + ORE_SHA256_DIGEST_SIZE * j);
}

#endif
