/* dgen.h on its own, as strict C99 with every warning an error (see
 * CMakeLists.txt), and the struct layout C sees, which must equal the one
 * Rust uses (ffi/src/tests.rs checks the same numbers on the Rust side). */
#include "dgen.h"

#include <stddef.h>
#include <stdio.h>

#define EXPECT(cond)                                             \
    do {                                                         \
        if (!(cond)) {                                           \
            fprintf(stderr, "header_c99: failed: %s\n", #cond);  \
            return 1;                                            \
        }                                                        \
    } while (0)

int main(void) {
    EXPECT(sizeof(dgen_config) == 64);
    EXPECT(offsetof(dgen_config, size) == 0);
    EXPECT(offsetof(dgen_config, dedup_ratio) == 8);
    EXPECT(offsetof(dgen_config, compress_ratio) == 16);
    EXPECT(offsetof(dgen_config, dedup_unit) == 24);
    EXPECT(offsetof(dgen_config, seed) == 32);
    EXPECT(offsetof(dgen_config, has_seed) == 40);
    EXPECT(offsetof(dgen_config, threads) == 44);
    EXPECT(offsetof(dgen_config, numa_mode) == 48);
    EXPECT(offsetof(dgen_config, numa_node) == 52);
    EXPECT(offsetof(dgen_config, compressor) == 56);
    EXPECT(sizeof(dgen_status) == 4);
    EXPECT(DGEN_STATUS_OK == 0 && DGEN_STATUS_NULL_POINTER == 1 && DGEN_STATUS_INVALID_DEDUP_RATIO == 2 &&
           DGEN_STATUS_INVALID_COMPRESS_RATIO == 3 && DGEN_STATUS_INVALID_DEDUP_UNIT == 4 &&
           DGEN_STATUS_INVALID_THREADS == 5 && DGEN_STATUS_INVALID_CONFIG == 6 &&
           DGEN_STATUS_OUT_OF_RANGE == 7 && DGEN_STATUS_MISMATCH == 8 && DGEN_STATUS_THREAD_POOL == 9 &&
           DGEN_STATUS_PANIC == 10 &&
           DGEN_STATUS_INVALID_COMPRESSOR == 11 && DGEN_STATUS_IO == 12 && DGEN_STATUS_INTERRUPTED == 13 &&
           DGEN_STATUS_INVALID_STATE == 14);
    EXPECT(DGEN_COMPRESSOR_AUTO == 0 && DGEN_COMPRESSOR_ZSTD == 1 && DGEN_COMPRESSOR_LZ4 == 2 &&
           DGEN_COMPRESSOR_GZIP == 3 && DGEN_COMPRESSOR_SNAPPY == 4 && DGEN_COMPRESSOR_LZO == 5 &&
           DGEN_COMPRESSOR_LZJB == 6);
    EXPECT(DGEN_VERSION_MAJOR >= 0 && DGEN_VERSION_MINOR >= 0 && DGEN_VERSION_PATCH >= 0);
    puts("dgen.h compiles as C99 and its layout is the Rust one");
    return 0;
}
