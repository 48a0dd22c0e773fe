/* The cross-language golden value, asserted by the Rust, C, C++, Go and fio
 * tests alike: config {size = 1 GiB, dedup_ratio 2.5, compress_ratio 3.0,
 * dedup_unit 8192, seed 42} gives a stream whose first 16 MiB hash to this
 * SHA-256. It changes only when the content model does. */
#ifndef DGEN_TEST_GOLDEN_H
#define DGEN_TEST_GOLDEN_H

#include "dgen.h"

#define DGEN_GOLDEN_SIZE 1073741824ull
#define DGEN_GOLDEN_DEDUP_RATIO 2.5
#define DGEN_GOLDEN_COMPRESS_RATIO 3.0
#define DGEN_GOLDEN_DEDUP_UNIT 8192u
#define DGEN_GOLDEN_SEED 42u
#define DGEN_GOLDEN_PREFIX_BYTES ((size_t)16 << 20)
#define DGEN_GOLDEN_SHA256 "4a84921f9562c02d4836b178f56a0f0dd023496020d67947817f0430c141eb0a"

/* Write versions: the same config with size = DGEN_GOLDEN_PREFIX_BYTES,
 * written twice through a new write state in 1 MiB writes; the second pass
 * (version 1 of every unit) hashes to this. */
#define DGEN_GOLDEN_V1_SHA256 "61b0950af30ff2d40541b8df17aaa04d8d3ccac1589d3005b0bd75a8a0a788a4"

/* The golden config with the given size: DGEN_GOLDEN_SIZE for the golden
 * stream, DGEN_GOLDEN_PREFIX_BYTES for the write versions. */
static inline dgen_config dgen_golden_config(uint64_t size) {
    dgen_config cfg;
    dgen_config_init(&cfg);
    cfg.size = size;
    cfg.dedup_ratio = DGEN_GOLDEN_DEDUP_RATIO;
    cfg.compress_ratio = DGEN_GOLDEN_COMPRESS_RATIO;
    cfg.dedup_unit = DGEN_GOLDEN_DEDUP_UNIT;
    cfg.seed = DGEN_GOLDEN_SEED;
    cfg.has_seed = true;
    return cfg;
}

/* The float32 golden value, asserted by the Rust, C, Go and Python tests
 * alike: dgen_fill_f32_at(seed 42, index 1000001, low -1, high 1) of 65536
 * values, as little-endian bytes, hashes to this SHA-256. It changes only
 * when the definition of the values does. */
#define DGEN_GOLDEN_F32_SEED 42u
#define DGEN_GOLDEN_F32_INDEX 1000001u
#define DGEN_GOLDEN_F32_LOW -1.0f
#define DGEN_GOLDEN_F32_HIGH 1.0f
#define DGEN_GOLDEN_F32_COUNT ((size_t)65536)
#define DGEN_GOLDEN_F32_SHA256 "880909259f0482a6fbe9795ea1e674f00cd85fe6d5f07b37033663d03a15f20f"

#endif
