/* Writes a dataset with a 2:1 dedup ratio and a 3:1 compression ratio to a
 * file, reads it back to verify it, then checks a few ranges produced
 * directly with dgen_fill_at, by seeking the stream, and in one shot with
 * dgen_generate.
 *
 *   dgen_stream_c FILE [MIB]      (default 64 MiB)
 */
#include "dgen.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK ((size_t)1 << 20)

static int fail(const char *what, dgen_status st) {
    fprintf(stderr, "%s: %s: %s\n", what, dgen_status_str(st), dgen_last_error());
    return 1;
}

int main(int argc, char **argv) {
    dgen_config cfg;
    dgen_generator *gen = NULL;
    dgen_status st;
    unsigned char *buf;
    void *mem = NULL;
    FILE *f;
    size_t written, got;
    uint64_t offset = 0, mismatch = 0;
    unsigned long mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 64;
    int i;

    if (argc < 2 || mib == 0) {
        fprintf(stderr, "usage: %s FILE [MIB]\n", argv[0]);
        return 2;
    }
    dgen_config_init(&cfg);
    cfg.size = (uint64_t)mib << 20;
    cfg.dedup_ratio = 2.0;
    cfg.compress_ratio = 3.0;
    cfg.dedup_unit = 8192;
    cfg.seed = 42;
    cfg.has_seed = true;
    if ((st = dgen_create(&cfg, &gen)) != DGEN_STATUS_OK) {
        return fail("dgen_create", st);
    }
    /* Aligned as O_DIRECT needs, though this example uses stdio. */
    if ((st = dgen_alloc_aligned(CHUNK, 4096, &mem)) != DGEN_STATUS_OK) {
        return fail("dgen_alloc_aligned", st);
    }
    buf = mem;
    f = fopen(argv[1], "w+b");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }

    /* Stream the dataset: dgen_fill continues where the last call ended and
     * reports 0 bytes once the sized stream is complete. */
    for (;;) {
        if ((st = dgen_fill(gen, buf, CHUNK, &written)) != DGEN_STATUS_OK) {
            return fail("dgen_fill", st);
        }
        if (written == 0) {
            break;
        }
        if (fwrite(buf, 1, written, f) != written) {
            perror("fwrite");
            return 1;
        }
    }
    printf("wrote %llu bytes (seed %llu, complete: %s)\n", (unsigned long long)dgen_position(gen),
           (unsigned long long)dgen_seed(gen), dgen_is_complete(gen) ? "yes" : "no");

    /* Read it back and verify every byte against the stream. */
    rewind(f);
    while ((got = fread(buf, 1, CHUNK, f)) > 0) {
        st = dgen_verify_at(gen, offset, buf, got, &mismatch);
        if (st == DGEN_STATUS_MISMATCH) {
            fprintf(stderr, "corrupt byte at offset %llu\n", (unsigned long long)mismatch);
            return 1;
        } else if (st != DGEN_STATUS_OK) {
            return fail("dgen_verify_at", st);
        }
        offset += got;
    }
    printf("verified %llu bytes read back from %s\n", (unsigned long long)offset, argv[1]);

    /* Any range can be produced directly, e.g. to rewrite or check one block. */
    for (i = 0; i < 3; i++) {
        uint64_t at = i == 0 ? 0 : i == 1 ? cfg.size / 2 + 123 : cfg.size - 4096;
        unsigned char block[4096], on_disk[4096];
        if ((st = dgen_fill_at(gen, at, block, sizeof block)) != DGEN_STATUS_OK) {
            return fail("dgen_fill_at", st);
        }
        if (fseek(f, (long)at, SEEK_SET) != 0 || fread(on_disk, 1, sizeof on_disk, f) != sizeof on_disk) {
            perror("read back");
            return 1;
        }
        if (memcmp(block, on_disk, sizeof block) != 0) {
            fprintf(stderr, "dgen_fill_at(%llu) differs from the file\n", (unsigned long long)at);
            return 1;
        }
        printf("fill_at(%llu, 4096) matches the file\n", (unsigned long long)at);
    }

    /* The stream can be moved: seek to the last 4 KiB and continue there. */
    if ((st = dgen_seek(gen, dgen_size(gen) - 4096)) != DGEN_STATUS_OK ||
        (st = dgen_fill(gen, buf, CHUNK, &written)) != DGEN_STATUS_OK) {
        return fail("dgen_seek", st);
    }
    printf("dgen_seek to the last 4 KiB, then dgen_fill: %zu bytes, complete: %s\n", written,
           dgen_is_complete(gen) ? "yes" : "no");

    /* One shot, without a generator: the first MiB of the same stream. */
    if ((st = dgen_generate(&cfg, buf, CHUNK)) != DGEN_STATUS_OK) {
        return fail("dgen_generate", st);
    }
    if ((st = dgen_verify_at(gen, 0, buf, CHUNK, &mismatch)) != DGEN_STATUS_OK) {
        return fail("dgen_generate differs from the stream", st);
    }
    printf("dgen_generate gives the stream's first MiB\n");

    /* Past the end is an error with a message, never a crash. */
    st = dgen_fill_at(gen, cfg.size - 10, buf, 4096);
    printf("fill_at past the end: %s (%s)\n", dgen_status_str(st), dgen_last_error());

    fclose(f);
    dgen_free_aligned(buf);
    dgen_free(gen);
    return st == DGEN_STATUS_OUT_OF_RANGE ? 0 : 1;
}
