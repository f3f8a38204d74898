/* SHA-256 (FIPS 180-4) for orechain's native core.
 *
 * Only the compression function is CPU-specific: a portable C version always
 * exists, and on x86-64 a SHA-NI version (one message) and an AVX-512 version
 * (sixteen messages at once) are selected at run time when the CPU has them.
 * Everything else (padding, the streaming context, the Merkle code in merkle.c)
 * calls through ore_sha256_compress / ore_sha256_batch and never cares which
 * one runs.
 */
#ifndef ORE_SHA256_H
#define ORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define ORE_SHA256_DIGEST_SIZE 32
#define ORE_SHA256_BLOCK_SIZE 64

/* Applies the compression function to nblocks consecutive 64-byte blocks. */
typedef void (*ore_sha256_compress_fn)(uint32_t state[8], const uint8_t *blocks,
                                       size_t nblocks);

/* Hashes count independent messages that are already padded to nblocks blocks
 * each (message j at blocks + 64 * nblocks * j) into digests + 32 * j. Merkle
 * trees hash many equal-sized messages at once, and a batch lets the CPU work
 * on several of them side by side. */
typedef void (*ore_sha256_batch_fn)(const uint8_t *blocks, size_t nblocks, size_t count,
                                    uint8_t *digests);

extern const uint32_t ore_sha256_iv[8];
extern const uint32_t ore_sha256_k[64];

/* The implementations in use. They start portable, so the library is correct
 * even if ore_sha256_select() is never called. */
extern ore_sha256_compress_fn ore_sha256_compress;
extern ore_sha256_batch_fn ore_sha256_batch;

void ore_sha256_compress_portable(uint32_t state[8], const uint8_t *blocks, size_t nblocks);

/* One message after another through ore_sha256_compress. */
void ore_sha256_batch_serial(const uint8_t *blocks, size_t nblocks, size_t count,
                             uint8_t *digests);

#if defined(__x86_64__)
/* Nonzero when the CPU has the SHA extensions and the SSE4.1/SSSE3 they lean on. */
int ore_cpu_has_shani(void);
void ore_sha256_compress_shani(uint32_t state[8], const uint8_t *blocks, size_t nblocks);
/* Two messages at a time, interleaved. */
void ore_sha256_batch_shani(const uint8_t *blocks, size_t nblocks, size_t count,
                            uint8_t *digests);

/* Nonzero when the CPU has AVX-512 F and BW and the OS saves the ZMM registers. */
int ore_cpu_has_avx512(void);
/* Sixteen messages at a time, one per 32-bit lane of the 512-bit registers. */
void ore_sha256_batch_avx512(const uint8_t *blocks, size_t nblocks, size_t count,
                             uint8_t *digests);
#endif

/* Features ore_sha256_select() may use; it takes each one only if the CPU has it. */
#define ORE_SHA256_USE_SHANI 1u
#define ORE_SHA256_USE_AVX512 2u
#define ORE_SHA256_USE_ALL (ORE_SHA256_USE_SHANI | ORE_SHA256_USE_AVX512)

/* Points ore_sha256_compress and ore_sha256_batch at the fastest versions this
 * CPU runs among those allowed, and names them: "portable", "sha-ni", "avx512"
 * or "sha-ni+avx512" (single messages use the first, batches the second). Call
 * it before any thread hashes: the pointers are plain, unsynchronised globals. */
const char *ore_sha256_select(unsigned allowed);

/* Streaming SHA-256 over a chosen compression function. */
typedef struct {
    uint32_t state[8];
    uint64_t total;        /* bytes absorbed so far */
    uint8_t buf[ORE_SHA256_BLOCK_SIZE];
    size_t fill;           /* bytes pending in buf */
    ore_sha256_compress_fn compress;
} ore_sha256_ctx;

void ore_sha256_init(ore_sha256_ctx *ctx, ore_sha256_compress_fn compress);
void ore_sha256_update(ore_sha256_ctx *ctx, const uint8_t *data, size_t len);
void ore_sha256_final(ore_sha256_ctx *ctx, uint8_t out[ORE_SHA256_DIGEST_SIZE]);

/* One-shot digest with the selected compression function. */
void ore_sha256(const uint8_t *data, size_t len, uint8_t out[ORE_SHA256_DIGEST_SIZE]);

/* Writes a state as the big-endian digest bytes. */
void ore_sha256_store(const uint32_t state[8], uint8_t out[ORE_SHA256_DIGEST_SIZE]);

#endif
