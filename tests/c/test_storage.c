/* dgen_write_file and dgen_verify_file as a C program uses them. Each case is
 * one ctest test:
 *   test_storage CASE     runs one case
 *   test_storage          runs them all
 * Files go to a fresh directory under $TMPDIR (or /tmp), removed at the end. */
#define _POSIX_C_SOURCE 200809L

#include "dgen.h"
#include "golden.h"
#include "sha256.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

#define CHECK_LEAVE goto out
#include "check.h"

/* Every case here calls the library, so a failed check shows its last
 * message too. */
#undef CHECK
#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            CHECK_FAIL("check failed: %s\n  last error: %s\n", #cond,         \
                       dgen_last_error());                                    \
        }                                                                     \
    } while (0)

static dgen_generator *make(uint64_t size, uint64_t seed) {
    dgen_config cfg;
    dgen_generator *gen = NULL;
    dgen_config_init(&cfg);
    cfg.size = size;
    cfg.dedup_ratio = 2.0;
    cfg.compress_ratio = 3.0;
    cfg.seed = seed;
    cfg.has_seed = true;
    cfg.threads = 1;
    if (dgen_create(&cfg, &gen) != DGEN_STATUS_OK) {
        fprintf(stderr, "dgen_create: %s\n", dgen_last_error());
        exit(2);
    }
    return gen;
}

static void path_of(char *out, size_t len, const char *name) {
    snprintf(out, len, "%s/%s", dir, name);
}

/* The whole file, or NULL; its length in *len. */
static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

/* True when the file holds the stream's bytes [offset, offset + n) at offset. */
static int holds(dgen_generator *gen, const char *path, uint64_t offset, size_t n) {
    size_t len = 0;
    unsigned char *got = slurp(path, &len);
    unsigned char *want = malloc(n ? n : 1);
    int ok = got != NULL && len >= offset + n && dgen_fill_at(gen, offset, want, n) == DGEN_STATUS_OK &&
             memcmp(got + offset, want, n) == 0;
    free(got);
    free(want);
    return ok;
}

/* ---------------------------------------------------------------------- */

static void test_defaults(void) {
    dgen_io_options o;
    /* The same numbers as the layout test in ffi/src/storage.rs. */
    CHECK(sizeof(dgen_io_options) == 72 && offsetof(dgen_io_options, block_size) == 24 &&
          offsetof(dgen_io_options, progress) == 48 && offsetof(dgen_io_options, progress_interval_ms) == 64);
    CHECK(sizeof(dgen_io_report) == 536 && offsetof(dgen_io_report, latency_us) == 216 &&
          offsetof(dgen_io_report, extra_data) == 528);
    memset(&o, 0xAB, sizeof o);
    dgen_io_options_init(&o);
    CHECK(o.offset == 0 && !o.has_length);
    CHECK(o.jobs == 0 && o.block_size == 1048576 && o.iodepth == 1);
    CHECK(!o.direct && o.sync && o.truncate);
    CHECK(o.engine == DGEN_IO_ENGINE_AUTO);
    CHECK(o.progress == NULL && o.progress_user == NULL);
    dgen_io_options_init(NULL);
    CHECK(strstr(dgen_last_error(), "opts must not be NULL") != NULL);
out:;
}

static void test_write_verify(void) {
    const uint64_t size = 3 * 1048576 + 123;
    dgen_generator *gen = make(size, 42);
    dgen_io_options o;
    dgen_io_report r;
    char path[512];
    path_of(path, sizeof path, "wv.bin");
    dgen_io_options_init(&o);
    o.jobs = 2;
    o.block_size = 65536;
    CHECK_STATUS(dgen_write_file(gen, path, &o, &r), DGEN_STATUS_OK);
    CHECK(r.bytes == size && r.prefix == size && r.target == DGEN_IO_TARGET_FILE);
    CHECK(r.ios > 0 && r.gbps > 0 && r.seconds > 0);
    CHECK(r.latency_us.p50 > 0 && r.latency_us.p50 <= r.latency_us.p99 && r.latency_us.p99 <= r.latency_us.max);
    CHECK(strstr(r.bottleneck, "took") != NULL && strcmp(r.engine, "pwrite") == 0);
    CHECK(r.seed == 42 && r.passed);
    CHECK(holds(gen, path, 0, size));
    CHECK_STATUS(dgen_verify_file(gen, path, &o, &r), DGEN_STATUS_OK);
    CHECK(r.passed && r.bytes == size && !r.has_mismatch && r.blocks == (size + 4095) / 4096);
    /* NULL options and report: the defaults. */
    CHECK_STATUS(dgen_verify_file(gen, path, NULL, NULL), DGEN_STATUS_OK);
out:
    dgen_free(gen);
}

static void test_ranges(void) {
    const uint64_t size = 2 * 1048576 + 4097;
    const uint64_t split = 777777;
    dgen_generator *gen = make(size, 7);
    dgen_io_options o;
    dgen_io_report r;
    char path[512];
    path_of(path, sizeof path, "ranges.bin");
    /* The second part first, with io_uring, then the first with O_DIRECT
     * where the file system has it. */
    dgen_io_options_init(&o);
    o.offset = split;
    o.iodepth = 4;
    o.jobs = 3;
    o.block_size = 8192;
    CHECK_STATUS(dgen_write_file(gen, path, &o, &r), DGEN_STATUS_OK);
    CHECK(r.bytes == size - split);
    dgen_io_options_init(&o);
    o.length = split;
    o.has_length = true;
    o.direct = true;
    o.block_size = 4096 * 5;
    if (dgen_write_file(gen, path, &o, &r) != DGEN_STATUS_OK) {
        CHECK(strstr(dgen_last_error(), "O_DIRECT") != NULL);
        o.direct = false;
        CHECK_STATUS(dgen_write_file(gen, path, &o, &r), DGEN_STATUS_OK);
    }
    CHECK(r.bytes == split && r.prefix == split);
    CHECK(holds(gen, path, 0, size));
    CHECK_STATUS(dgen_verify_file(gen, path, NULL, &r), DGEN_STATUS_OK);
out:
    dgen_free(gen);
}

static void test_mismatch(void) {
    const uint64_t size = 1048576;
    dgen_generator *gen = make(size, 3);
    dgen_io_report r;
    char path[512];
    FILE *f;
    path_of(path, sizeof path, "bad.bin");
    CHECK_STATUS(dgen_write_file(gen, path, NULL, NULL), DGEN_STATUS_OK);
    f = fopen(path, "r+b");
    CHECK(f != NULL);
    fseek(f, 300000, SEEK_SET);
    fputc(0, f);
    fseek(f, 300001, SEEK_SET);
    fputc(0, f);
    fclose(f);
    CHECK_STATUS(dgen_verify_file(gen, path, NULL, &r), DGEN_STATUS_MISMATCH);
    CHECK(!r.passed && r.has_mismatch && r.wrong_blocks == 1 && r.blocks == 256);
    CHECK(r.mismatch_offset == 300000 || r.mismatch_offset == 300001);
    CHECK(strstr(dgen_last_error(), "first wrong byte at offset 30000") != NULL);
    /* Cut short. */
    CHECK(truncate(path, 524288) == 0);
    CHECK_STATUS(dgen_verify_file(gen, path, NULL, &r), DGEN_STATUS_MISMATCH);
    CHECK(r.has_data_end && r.data_end == 524288 && r.missing_blocks == 128);
    CHECK(strstr(dgen_last_error(), "data ends at 524288, the dataset is 1048576") != NULL);
out:
    dgen_free(gen);
}

static void test_errors(void) {
    dgen_generator *gen = make(1048576, 1);
    dgen_generator *big = NULL;
    dgen_io_options o;
    dgen_io_report r;
    char path[512];
    path_of(path, sizeof path, "err.bin");
    CHECK_STATUS(dgen_write_file(NULL, path, NULL, NULL), DGEN_STATUS_NULL_POINTER);
    CHECK(strcmp(dgen_last_error(), "dgen_write_file: gen must not be NULL") == 0);
    CHECK_STATUS(dgen_verify_file(gen, NULL, NULL, NULL), DGEN_STATUS_NULL_POINTER);
    dgen_io_options_init(&o);
    o.block_size = 1000;
    CHECK_STATUS(dgen_write_file(gen, path, &o, NULL), DGEN_STATUS_INVALID_CONFIG);
    CHECK(strstr(dgen_last_error(), "block_size must be a multiple of 4096") != NULL);
    dgen_io_options_init(&o);
    o.engine = 9;
    CHECK_STATUS(dgen_write_file(gen, path, &o, NULL), DGEN_STATUS_INVALID_CONFIG);
    CHECK(strstr(dgen_last_error(), "got 9") != NULL);
    dgen_io_options_init(&o);
    o.offset = 4096;
    o.length = 1048576;
    o.has_length = true;
    CHECK_STATUS(dgen_write_file(gen, path, &o, NULL), DGEN_STATUS_OUT_OF_RANGE);
    CHECK(access(path, F_OK) != 0);
    /* 8 x 256 x 1 MiB of buffers in flight passes the 1 GiB cap: refused
     * before the file is created, naming the three fields. */
    big = make(64ULL << 30, 1);
    dgen_io_options_init(&o);
    o.jobs = 8;
    o.iodepth = 256;
    CHECK_STATUS(dgen_write_file(big, path, &o, NULL), DGEN_STATUS_INVALID_CONFIG);
    CHECK(strstr(dgen_last_error(), "jobs x iodepth x block_size must need at most 1073741824 bytes") != NULL);
    CHECK(strstr(dgen_last_error(), "8 x 256 x 1048576") != NULL);
    CHECK(access(path, F_OK) != 0);
    CHECK_STATUS(dgen_write_file(gen, "/dev/full", NULL, &r), DGEN_STATUS_IO);
    CHECK(strstr(dgen_last_error(), "cannot write /dev/full at offset 0") != NULL);
    CHECK(r.bytes == 0 && r.target == DGEN_IO_TARGET_STREAM);
    CHECK_STATUS(dgen_write_file(gen, "/dev/null", NULL, &r), DGEN_STATUS_OK);
    CHECK(r.bytes == 1048576 && r.target == DGEN_IO_TARGET_STREAM);
    CHECK_STATUS(dgen_verify_file(gen, dir, NULL, NULL), DGEN_STATUS_IO);
    CHECK(strstr(dgen_last_error(), "is a directory") != NULL);
    CHECK(strcmp(dgen_status_str(DGEN_STATUS_INTERRUPTED),
                 "DGEN_STATUS_INTERRUPTED: stopped by the progress callback") == 0);
out:
    dgen_free(big);
    dgen_free(gen);
}

struct counter {
    int calls;
    int stop_at;
    uint64_t last;
};

static bool on_progress(void *user, uint64_t done, uint64_t total) {
    struct counter *c = user;
    c->calls++;
    c->last = done;
    return done <= total && c->calls < c->stop_at;
}

static void test_progress(void) {
    const uint64_t size = 32 * 1048576;
    dgen_generator *gen = make(size, 5);
    dgen_io_options o;
    dgen_io_report r;
    struct counter c = {0, 1000000, 0};
    char path[512];
    path_of(path, sizeof path, "p.bin");
    dgen_io_options_init(&o);
    o.jobs = 1;
    o.block_size = 4096;
    o.sync = false;
    o.progress = on_progress;
    o.progress_user = &c;
    o.progress_interval_ms = 0;
    CHECK_STATUS(dgen_write_file(gen, path, &o, &r), DGEN_STATUS_OK);
    CHECK(c.calls >= 1 && c.last == size);
    /* Stop at the first call: interrupted, and the file is its prefix. */
    c.calls = 0;
    c.stop_at = 1;
    CHECK_STATUS(dgen_verify_file(gen, path, &o, &r), DGEN_STATUS_INTERRUPTED);
    CHECK(r.interrupted && r.bytes < size);
    CHECK(strstr(dgen_last_error(), "interrupted") != NULL);
    c.calls = 0;
    CHECK_STATUS(dgen_write_file(gen, path, &o, &r), DGEN_STATUS_INTERRUPTED);
    CHECK(r.interrupted && r.prefix <= r.bytes && r.bytes < size);
    CHECK(holds(gen, path, 0, (size_t)r.prefix));
out:
    dgen_free(gen);
}

/* A write state through the C calls: a first pass, an overwrite with one
 * write lost (its old bytes kept), a verification that names it stale. */
static void test_state(void) {
    enum { UNIT = 4096, UNITS = 256, SIZE = UNIT * UNITS };
    dgen_generator *gen = make(SIZE, 31);
    dgen_generator *other = make(SIZE, 32);
    dgen_state *st = NULL, *ro = NULL;
    dgen_state_check *check = NULL;
    dgen_state_result res;
    dgen_state_info sum;
    unsigned char *disk = calloc(SIZE, 1), *old = malloc(UNIT), *want = malloc(UNIT);
    char path[512];
    uint64_t offs[4];
    size_t n = 0, u;
    path_of(path, sizeof path, "state");
    CHECK(disk != NULL && old != NULL && want != NULL);
    CHECK_STATUS(dgen_state_open(other, path, true, &st), DGEN_STATUS_OK);
    dgen_state_close(st);
    st = NULL;
    /* The state now belongs to seed 32: seed 31 is refused by name. */
    CHECK_STATUS(dgen_state_open(gen, path, true, &st), DGEN_STATUS_INVALID_STATE);
    CHECK(strstr(dgen_last_error(), "its seed is 32, this run's is 31") != NULL);
    CHECK(unlink(path) == 0);
    CHECK_STATUS(dgen_state_open(gen, path, true, &st), DGEN_STATUS_OK);
    /* First pass: the dataset's own bytes. */
    for (u = 0; u < UNITS; u += 16) {
        CHECK_STATUS(dgen_state_fill(st, gen, u * UNIT, disk + u * UNIT, 16 * UNIT), DGEN_STATUS_OK);
        CHECK_STATUS(dgen_state_complete(st, u * UNIT, 16 * UNIT), DGEN_STATUS_OK);
    }
    CHECK_STATUS(dgen_fill_at(gen, 7 * UNIT, want, UNIT), DGEN_STATUS_OK);
    CHECK(memcmp(want, disk + 7 * UNIT, UNIT) == 0);
    /* Overwrite every unit; the write of unit 7 is lost. */
    memcpy(old, disk + 7 * UNIT, UNIT);
    for (u = 0; u < UNITS; u++) {
        CHECK_STATUS(dgen_state_fill(st, gen, u * UNIT, want, UNIT), DGEN_STATUS_OK);
        CHECK(memcmp(want, disk + u * UNIT, UNIT) != 0);
        if (u != 7) {
            memcpy(disk + u * UNIT, want, UNIT);
        }
        CHECK_STATUS(dgen_state_complete(st, u * UNIT, UNIT), DGEN_STATUS_OK);
    }
    CHECK(memcmp(old, disk + 7 * UNIT, UNIT) == 0);
    memset(disk + 9 * UNIT, 0, UNIT);
    CHECK_STATUS(dgen_state_summary(st, &sum), DGEN_STATUS_OK);
    CHECK(sum.units == UNITS && sum.written == UNITS && sum.overwritten == UNITS && sum.max_version == 1 &&
          sum.in_flight == 0);
    /* A range that is not whole units, and a read-only state, are refused. */
    CHECK_STATUS(dgen_state_fill(st, gen, 100, want, UNIT), DGEN_STATUS_INVALID_STATE);
    CHECK_STATUS(dgen_state_open(gen, path, false, &ro), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_state_fill(ro, gen, 0, want, UNIT), DGEN_STATUS_INVALID_STATE);
    check = dgen_state_check_new();
    CHECK(check != NULL);
    CHECK_STATUS(dgen_state_verify(ro, gen, 0, disk, SIZE / 2, check), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_state_verify(ro, gen, SIZE / 2, disk + SIZE / 2, SIZE / 2, check), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_state_check_finish(ro, gen, check, &res), DGEN_STATUS_MISMATCH);
    CHECK(strstr(dgen_last_error(), "2 of 256 units checked are wrong: 1 stale (first at offset 28672)") != NULL);
    CHECK(res.units_ok == UNITS - 2 && res.stale == 1 && res.zero == 1 && res.misplaced == 0 && res.corrupt == 0);
    CHECK(res.first_stale == 7 * UNIT && res.first_zero == 9 * UNIT && res.first_corrupt == UINT64_MAX);
    CHECK_STATUS(dgen_state_check_offsets(check, 0, offs, 4, &n), DGEN_STATUS_OK);
    CHECK(n == 1 && offs[0] == 7 * UNIT);
    CHECK_STATUS(dgen_state_check_offsets(check, 4, offs, 4, &n), DGEN_STATUS_INVALID_CONFIG);
    CHECK_STATUS(dgen_state_verify(NULL, gen, 0, disk, UNIT, check), DGEN_STATUS_NULL_POINTER);
out:
    dgen_state_check_free(check);
    dgen_state_close(ro);
    dgen_state_close(st);
    free(disk);
    free(old);
    free(want);
    dgen_free(gen);
    dgen_free(other);
}

/* Version 1 of every unit of the golden config, as the Rust, Go and Python
 * tests check it. */
static void test_state_golden(void) {
    dgen_config cfg = dgen_golden_config(DGEN_GOLDEN_PREFIX_BYTES);
    dgen_generator *gen = NULL;
    dgen_state *st = NULL;
    unsigned char *buf = malloc(1 << 20);
    char path[512], hex[65];
    sha256_ctx c;
    uint64_t off;
    int pass;
    path_of(path, sizeof path, "golden_state");
    unlink(path);
    CHECK(buf != NULL);
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_state_open(gen, path, true, &st), DGEN_STATUS_OK);
    sha256_init(&c);
    for (pass = 0; pass < 2; pass++) {
        for (off = 0; off < DGEN_GOLDEN_PREFIX_BYTES; off += 1 << 20) {
            CHECK_STATUS(dgen_state_fill(st, gen, off, buf, 1 << 20), DGEN_STATUS_OK);
            CHECK_STATUS(dgen_state_complete(st, off, 1 << 20), DGEN_STATUS_OK);
            if (pass == 1) {
                sha256_update(&c, buf, 1 << 20);
            }
        }
    }
    sha256_final_hex(&c, hex);
    CHECK(strcmp(hex, DGEN_GOLDEN_V1_SHA256) == 0);
out:
    dgen_state_close(st);
    dgen_free(gen);
    free(buf);
}

static const struct test_case cases[] = {
    {"defaults", test_defaults}, {"write_verify", test_write_verify}, {"ranges", test_ranges},
    {"mismatch", test_mismatch}, {"errors", test_errors},             {"progress", test_progress},
    {"state", test_state},       {"state_golden", test_state_golden},
};

static void cleanup(void) {
    static const char *names[] = {"wv.bin", "ranges.bin", "bad.bin", "err.bin", "p.bin", "state", "golden_state"};
    char path[512];
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        path_of(path, sizeof path, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

int main(int argc, char **argv) {
    int status;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/dgen_storage_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    status = run_cases(argc, argv, cases, sizeof cases / sizeof cases[0]);
    cleanup();
    return status;
}
