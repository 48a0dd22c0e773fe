/* SHA-256 (FIPS 180-4), just enough for the tests to check the golden
 * digest of a stream without depending on a crypto library. */
#ifndef DGEN_TEST_SHA256_H
#define DGEN_TEST_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t total; /* bytes hashed so far */
    uint8_t block[64];
    size_t used;    /* bytes waiting in block */
} sha256_ctx;

void sha256_init(sha256_ctx *ctx);
void sha256_update(sha256_ctx *ctx, const void *data, size_t len);
/* Writes the digest as 64 lowercase hex digits and a NUL. */
void sha256_final_hex(sha256_ctx *ctx, char hex[65]);

#endif
