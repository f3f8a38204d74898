/* Portable SHA-256 compression, run-time selection, and the streaming context. */
#include "sha256.h"

#include <string.h>

const uint32_t ore_sha256_iv[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

const uint32_t ore_sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

ore_sha256_compress_fn ore_sha256_compress = ore_sha256_compress_portable;
ore_sha256_batch_fn ore_sha256_batch = ore_sha256_batch_serial;

static inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x) (rotr((x), 2) ^ rotr((x), 13) ^ rotr((x), 22))
#define BSIG1(x) (rotr((x), 6) ^ rotr((x), 11) ^ rotr((x), 25))
#define SSIG0(x) (rotr((x), 7) ^ rotr((x), 18) ^ ((x) >> 3))
#define SSIG1(x) (rotr((x), 17) ^ rotr((x), 19) ^ ((x) >> 10))

void ore_sha256_compress_portable(uint32_t state[8], const uint8_t *blocks, size_t nblocks) {
    for (; nblocks > 0; nblocks--, blocks += ORE_SHA256_BLOCK_SIZE) {
        uint32_t w[64];
        for (int t = 0; t < 16; t++) w[t] = load_be32(blocks + 4 * t);
        for (int t = 16; t < 64; t++)
            w[t] = SSIG1(w[t - 2]) + w[t - 7] + SSIG0(w[t - 15]) + w[t - 16];

        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int t = 0; t < 64; t++) {
            uint32_t t1 = h + BSIG1(e) + CH(e, f, g) + ore_sha256_k[t] + w[t];
            uint32_t t2 = BSIG0(a) + MAJ(a, b, c);
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

void ore_sha256_batch_serial(const uint8_t *blocks, size_t nblocks, size_t count,
                             uint8_t *digests) {
    for (size_t j = 0; j < count; j++) {
        uint32_t state[8];
        memcpy(state, ore_sha256_iv, sizeof state);
        ore_sha256_compress(state, blocks + ORE_SHA256_BLOCK_SIZE * nblocks * j, nblocks);
        ore_sha256_store(state, digests + ORE_SHA256_DIGEST_SIZE * j);
    }
}

const char *ore_sha256_select(unsigned allowed) {
    ore_sha256_compress = ore_sha256_compress_portable;
    ore_sha256_batch = ore_sha256_batch_serial;
    const char *name = "portable";
#if defined(__x86_64__)
    if ((allowed & ORE_SHA256_USE_SHANI) && ore_cpu_has_shani()) {
        ore_sha256_compress = ore_sha256_compress_shani;
        ore_sha256_batch = ore_sha256_batch_shani;
        name = "sha-ni";
    }
    if ((allowed & ORE_SHA256_USE_AVX512) && ore_cpu_has_avx512()) {
        ore_sha256_batch = ore_sha256_batch_avx512;
        name = ore_sha256_compress == ore_sha256_compress_shani ? "sha-ni+avx512" : "avx512";
    }
#else
    (void)allowed;
#endif
    return name;
}

void ore_sha256_init(ore_sha256_ctx *ctx, ore_sha256_compress_fn compress) {
    memcpy(ctx->state, ore_sha256_iv, sizeof ctx->state);
    ctx->total = 0;
    ctx->fill = 0;
    ctx->compress = compress;
}

void ore_sha256_update(ore_sha256_ctx *ctx, const uint8_t *data, size_t len) {
    if (len == 0) return; /* an empty buffer may come with a NULL pointer */
    ctx->total += len;
    if (ctx->fill > 0) {
        size_t take = ORE_SHA256_BLOCK_SIZE - ctx->fill;
        if (take > len) take = len;
        memcpy(ctx->buf + ctx->fill, data, take);
        ctx->fill += take;
        data += take;
        len -= take;
        if (ctx->fill < ORE_SHA256_BLOCK_SIZE) return;
        ctx->compress(ctx->state, ctx->buf, 1);
        ctx->fill = 0;
    }
    /* Whole blocks straight from the caller's memory: one call, no copying. */
    size_t whole = len / ORE_SHA256_BLOCK_SIZE;
    if (whole > 0) {
        ctx->compress(ctx->state, data, whole);
        data += whole * ORE_SHA256_BLOCK_SIZE;
        len -= whole * ORE_SHA256_BLOCK_SIZE;
    }
    memcpy(ctx->buf, data, len);
    ctx->fill = len;
}

void ore_sha256_final(ore_sha256_ctx *ctx, uint8_t out[ORE_SHA256_DIGEST_SIZE]) {
    uint64_t bits = ctx->total * 8;
    size_t fill = ctx->fill;
    ctx->buf[fill++] = 0x80;
    if (fill > ORE_SHA256_BLOCK_SIZE - 8) {
        memset(ctx->buf + fill, 0, ORE_SHA256_BLOCK_SIZE - fill);
        ctx->compress(ctx->state, ctx->buf, 1);
        fill = 0;
    }
    memset(ctx->buf + fill, 0, ORE_SHA256_BLOCK_SIZE - 8 - fill);
    store_be32(ctx->buf + 56, (uint32_t)(bits >> 32));
    store_be32(ctx->buf + 60, (uint32_t)bits);
    ctx->compress(ctx->state, ctx->buf, 1);
    ore_sha256_store(ctx->state, out);
}

void ore_sha256(const uint8_t *data, size_t len, uint8_t out[ORE_SHA256_DIGEST_SIZE]) {
    ore_sha256_ctx ctx;
    ore_sha256_init(&ctx, ore_sha256_compress);
    ore_sha256_update(&ctx, data, len);
    ore_sha256_final(&ctx, out);
}

void ore_sha256_store(const uint32_t state[8], uint8_t out[ORE_SHA256_DIGEST_SIZE]) {
    for (int i = 0; i < 8; i++) store_be32(out + 4 * i, state[i]);
}
