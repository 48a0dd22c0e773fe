/* The C ABI as a C program uses it. Each case is one ctest test:
 *   test_dgen CASE     runs one case
 *   test_dgen          runs them all
 * A case fails on the first unmet check and prints where and why. */
#define _POSIX_C_SOURCE 200809L

#include "dgen.h"
#include "golden.h"
#include "sha256.h"

#define CHECK_LEAVE return
#include "check.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static dgen_config base_config(void) {
    dgen_config cfg;
    dgen_config_init(&cfg);
    return cfg;
}

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

/* ---------------------------------------------------------------------- */

static void test_defaults(void) {
    dgen_config cfg;
    char want[64];
    memset(&cfg, 0xAB, sizeof cfg);
    dgen_config_init(&cfg);
    CHECK(cfg.size == 0);
    CHECK(cfg.dedup_ratio == 1.0);
    CHECK(cfg.compress_ratio == 1.0);
    CHECK(cfg.dedup_unit == 4096);
    CHECK(!cfg.has_seed);
    CHECK(cfg.threads == 0);
    CHECK(cfg.numa_mode == DGEN_NUMA_MODE_AUTO);
    CHECK(cfg.numa_node == -1);
    CHECK(cfg.compressor == DGEN_COMPRESSOR_AUTO);
    CHECK(cfg.seed == 0);
    dgen_config_init(NULL);
    CHECK_MESSAGE("dgen_config_init: cfg must not be NULL");

    snprintf(want, sizeof want, "%d.%d.%d", DGEN_VERSION_MAJOR, DGEN_VERSION_MINOR, DGEN_VERSION_PATCH);
    CHECK(strcmp(dgen_version(), want) == 0);
    CHECK(strcmp(dgen_version(), DGEN_VERSION) == 0);
}

static void test_sha256_vectors(void) {
    /* FIPS 180-4 examples, so the golden test below checks libdgen and not
     * this test's hash. */
    sha256_ctx c;
    char hex[65];
    static char million[1000000];
    sha256_init(&c);
    sha256_final_hex(&c, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    sha256_init(&c);
    sha256_update(&c, "abc", 3);
    sha256_final_hex(&c, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    sha256_init(&c);
    sha256_update(&c, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
    sha256_final_hex(&c, hex);
    CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
    memset(million, 'a', sizeof million);
    sha256_init(&c);
    sha256_update(&c, million, 333333);
    sha256_update(&c, million, sizeof million - 333333);
    sha256_final_hex(&c, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
}

static void test_golden(void) {
    /* The cross-language golden stream: 16 MiB of a 1 GiB stream. */
    dgen_config cfg = dgen_golden_config(DGEN_GOLDEN_SIZE);
    dgen_generator *gen = NULL;
    sha256_ctx c;
    char hex[65];
    size_t chunk = 1000003; /* odd on purpose: the bytes do not depend on call sizes */
    size_t left = DGEN_GOLDEN_PREFIX_BYTES;
    unsigned char *buf = xmalloc(chunk);
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    sha256_init(&c);
    while (left > 0) {
        size_t want = left < chunk ? left : chunk;
        size_t written = 0;
        CHECK_STATUS(dgen_fill(gen, buf, want, &written), DGEN_STATUS_OK);
        CHECK(written == want);
        sha256_update(&c, buf, written);
        left -= written;
    }
    sha256_final_hex(&c, hex);
    dgen_free(gen);
    free(buf);
    if (strcmp(hex, DGEN_GOLDEN_SHA256) != 0) {
        fprintf(stderr, "golden SHA-256 %s, expected %s\n", hex, DGEN_GOLDEN_SHA256);
    }
    CHECK(strcmp(hex, DGEN_GOLDEN_SHA256) == 0);
}

static void test_stream(void) {
    /* Fill a sized stream to its end: full fills, one short one, then 0. */
    const uint64_t size = 10 * 4096 + 123;
    const size_t chunk = 3 * 4096;
    dgen_config cfg = base_config();
    dgen_generator *gen = NULL;
    /* Room for a whole chunk past the end: the last call offers a full chunk
     * and gets back a short count. */
    unsigned char *stream = xmalloc((size_t)size + chunk);
    unsigned char *direct = xmalloc((size_t)size);
    uint64_t pos = 0;
    size_t written = 1;
    cfg.size = size;
    cfg.dedup_ratio = 2.0;
    cfg.compress_ratio = 2.0;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    CHECK(strcmp(dgen_last_error(), "") == 0);
    for (;;) {
        CHECK(!dgen_is_complete(gen));
        CHECK(dgen_position(gen) == pos);
        CHECK_STATUS(dgen_fill(gen, stream + pos, chunk, &written), DGEN_STATUS_OK);
        pos += written;
        if (written < chunk) {
            CHECK(written == size % chunk);
            break;
        }
    }
    CHECK(pos == size);
    CHECK(dgen_is_complete(gen));
    CHECK(dgen_position(gen) == size);
    {
        unsigned char more[4096];
        written = 99;
        CHECK_STATUS(dgen_fill(gen, more, sizeof more, &written), DGEN_STATUS_OK);
        CHECK(written == 0);
        CHECK(dgen_is_complete(gen));
    }
    /* The stream equals dgen_fill_at over the same offsets, and verifies. */
    CHECK_STATUS(dgen_fill_at(gen, 0, direct, (size_t)size), DGEN_STATUS_OK);
    CHECK(memcmp(stream, direct, (size_t)size) == 0);
    CHECK_STATUS(dgen_verify_at(gen, 0, stream, (size_t)size, NULL), DGEN_STATUS_OK);
    dgen_free(gen);
    free(stream);
    free(direct);
}

/* An endless generator is never complete. */
static void test_endless(void) {
    dgen_config cfg = base_config();
    dgen_generator *gen = NULL;
    unsigned char buf[8192];
    size_t written = 0;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill(gen, buf, sizeof buf, &written), DGEN_STATUS_OK);
    CHECK(written == sizeof buf);
    CHECK(!dgen_is_complete(gen));
    CHECK(dgen_position(gen) == sizeof buf);
    dgen_free(gen);
}

/* ---------------------------------------------------------------------- */

#define THREADS 4
#define SHARED_LEN ((size_t)12 << 20)

struct worker {
    const dgen_generator *gen;
    unsigned char *buf;
    uint64_t begin, end; /* this thread's bytes */
    size_t piece;        /* call size, different per thread */
    dgen_status status;
};

static void *fill_worker(void *arg) {
    struct worker *w = arg;
    uint64_t off;
    w->status = DGEN_STATUS_OK;
    for (off = w->begin; off < w->end && w->status == DGEN_STATUS_OK; off += w->piece) {
        size_t len = (size_t)(w->end - off < w->piece ? w->end - off : w->piece);
        w->status = dgen_fill_at(w->gen, off, w->buf + off, len);
        if (w->status == DGEN_STATUS_OK) {
            w->status = dgen_verify_at(w->gen, off, w->buf + off, len, NULL);
        }
    }
    return NULL;
}

static void test_threads(void) {
    /* Many threads on one handle with dgen_fill_at give the serial bytes. */
    dgen_config cfg = base_config();
    dgen_generator *gen = NULL;
    unsigned char *serial = xmalloc(SHARED_LEN);
    unsigned char *parallel = xmalloc(SHARED_LEN);
    pthread_t tid[THREADS];
    struct worker w[THREADS];
    int i;
    cfg.size = SHARED_LEN;
    cfg.dedup_ratio = 3.0;
    cfg.compress_ratio = 2.5;
    cfg.dedup_unit = 16384;
    cfg.seed = 2024;
    cfg.has_seed = true;
    cfg.threads = 2;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill_at(gen, 0, serial, SHARED_LEN), DGEN_STATUS_OK);
    memset(parallel, 0, SHARED_LEN);
    for (i = 0; i < THREADS; i++) {
        w[i].gen = gen;
        w[i].buf = parallel;
        w[i].begin = (uint64_t)i * (SHARED_LEN / THREADS);
        w[i].end = (uint64_t)(i + 1) * (SHARED_LEN / THREADS);
        w[i].piece = 4096 * (size_t)(i + 1) + 13 * (size_t)i; /* uneven, unaligned */
        CHECK(pthread_create(&tid[i], NULL, fill_worker, &w[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        CHECK(pthread_join(tid[i], NULL) == 0);
        CHECK(w[i].status == DGEN_STATUS_OK);
    }
    CHECK(memcmp(serial, parallel, SHARED_LEN) == 0);
    dgen_free(gen);
    free(serial);
    free(parallel);
}

/* ---------------------------------------------------------------------- */

/* A thread that continues one shared stream with dgen_fill until it ends,
 * keeping what it got: its chunks one after another in `arena`, their
 * lengths in `lens`. */
struct streamer {
    dgen_generator *gen;
    pthread_barrier_t *start;
    size_t piece; /* call size, different per thread */
    unsigned char *arena;
    size_t *lens;
    size_t count;
    dgen_status status;
};

static void *stream_worker(void *arg) {
    struct streamer *s = arg;
    size_t used = 0, written = 0;
    s->count = 0;
    pthread_barrier_wait(s->start);
    for (;;) {
        s->status = dgen_fill(s->gen, s->arena + used, s->piece, &written);
        if (s->status != DGEN_STATUS_OK || written == 0) {
            return NULL;
        }
        s->lens[s->count++] = written;
        used += written;
    }
}

static void test_shared_stream(void) {
    /* THREADS threads call dgen_fill on one handle at once: each call takes
     * its own consecutive range, so the chunks tile the stream exactly once.
     * dgen_fill does not say where a chunk lies; the bytes do. Each thread's
     * chunks come in stream order, so the chunk at the first offset not yet
     * placed heads some thread's list, and dgen_verify_at tells which. */
    const size_t pieces[THREADS] = {4097, 65537, ((size_t)2 << 20) + 3, 12345}; /* one for the pool */
    dgen_config cfg = base_config();
    dgen_generator *gen = NULL;
    pthread_t tid[THREADS];
    pthread_barrier_t start;
    struct streamer s[THREADS];
    size_t head[THREADS], done[THREADS];
    uint64_t next = 0;
    int i, placed;
    cfg.size = SHARED_LEN + 11;
    cfg.compress_ratio = 2.0;
    cfg.seed = 77;
    cfg.has_seed = true;
    cfg.threads = 2;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    CHECK(pthread_barrier_init(&start, NULL, THREADS) == 0);
    for (i = 0; i < THREADS; i++) {
        s[i].gen = gen;
        s[i].start = &start;
        s[i].piece = pieces[i];
        s[i].arena = xmalloc(cfg.size + pieces[i]); /* one thread may get it all */
        s[i].lens = xmalloc(sizeof(size_t) * (cfg.size / pieces[i] + 2));
        CHECK(pthread_create(&tid[i], NULL, stream_worker, &s[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        CHECK(pthread_join(tid[i], NULL) == 0);
        CHECK_STATUS(s[i].status, DGEN_STATUS_OK);
        head[i] = 0;
        done[i] = 0;
    }
    pthread_barrier_destroy(&start);
    CHECK(dgen_is_complete(gen));
    CHECK(dgen_position(gen) == cfg.size);
    do {
        placed = 0;
        for (i = 0; i < THREADS && next < cfg.size; i++) {
            if (head[i] < s[i].count &&
                dgen_verify_at(gen, next, s[i].arena + done[i], s[i].lens[head[i]], NULL) == DGEN_STATUS_OK) {
                next += s[i].lens[head[i]];
                done[i] += s[i].lens[head[i]];
                head[i]++;
                placed = 1;
            }
        }
    } while (placed);
    if (next != cfg.size) {
        CHECK_FAIL("no chunk is the stream's bytes at %llu (of %llu)\n", (unsigned long long)next,
                   (unsigned long long)cfg.size);
    }
    for (i = 0; i < THREADS; i++) {
        CHECK(head[i] == s[i].count); /* no chunk left over: nothing twice */
        free(s[i].arena);
        free(s[i].lens);
    }
    dgen_free(gen);
}

/* What the child of test_fork checks: 0 when a stream fill and a fill at an
 * offset give `want` and freeing works, 1 otherwise. */
static int fork_child(dgen_generator *gen, dgen_generator *other, const unsigned char *want, size_t len) {
    unsigned char *got = malloc(len);
    size_t written = 0;
    int ok;
    /* `other`'s workers stayed in the parent: this must not wait for them. */
    dgen_free(other);
    if (got == NULL) {
        return 1;
    }
    ok = dgen_fill(gen, got, len, &written) == DGEN_STATUS_OK && written == len && memcmp(got, want, len) == 0 &&
         dgen_position(gen) == 2 * (uint64_t)len;
    memset(got, 0, len);
    ok = ok && dgen_fill_at(gen, len, got, len) == DGEN_STATUS_OK && memcmp(got, want, len) == 0;
    ok = ok && dgen_verify_at(gen, len, want, len, NULL) == DGEN_STATUS_OK;
    free(got);
    dgen_free(gen); /* stops the worker threads the child started */
    return ok ? 0 : 1;
}

static void test_fork(void) {
    /* A generator whose worker pool ran before fork() works in the child:
     * the child has only the thread that called fork, so a fill there that
     * waited for the parent's workers would never return. */
    const size_t len = ((size_t)4 << 20) + 12345; /* >= 2 MiB: the pool runs */
    dgen_config cfg = base_config();
    dgen_generator *gen = NULL, *other = NULL;
    unsigned char *before = xmalloc(len), *want = xmalloc(len);
    size_t written = 0;
    struct timespec tick = {0, 20000000};
    int status = 0, waited;
    pid_t pid, done = 0;
    cfg.size = 4 * (uint64_t)len;
    cfg.compress_ratio = 3.0;
    cfg.seed = 5;
    cfg.has_seed = true;
    cfg.threads = 2;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_create(&cfg, &other), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill(gen, before, len, &written), DGEN_STATUS_OK);
    CHECK(written == len);
    CHECK_STATUS(dgen_fill_at(other, 0, before, len), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill_at(gen, len, want, len), DGEN_STATUS_OK);
    if (dgen_threads(gen) < 2) {
        printf("fork: one CPU, so no worker pool: only the plain case is tested\n");
    }
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        _exit(fork_child(gen, other, want, len));
    }
    /* Up to 120 s: valgrind runs this too, far slower. */
    for (waited = 0; waited < 6000 && done == 0; waited++) {
        done = waitpid(pid, &status, WNOHANG);
        if (done == 0) {
            nanosleep(&tick, NULL);
        }
    }
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        CHECK_FAIL("%s\n", "the child hung on a generator whose worker pool started before fork");
    }
    CHECK(done == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    /* The parent's generator goes on from where it was. */
    CHECK_STATUS(dgen_fill(gen, before, len, &written), DGEN_STATUS_OK);
    CHECK(written == len && memcmp(before, want, len) == 0);
    dgen_free(gen);
    dgen_free(other);
    free(before);
    free(want);
}

/* ---------------------------------------------------------------------- */

static void test_verify(void) {
    /* A flipped bit is found at its exact stream offset; only the first
     * wrong byte is reported. */
    static const size_t flips[] = {0, 1, 4095, 4096, 65537, ((size_t)3 << 20) - 1};
    const uint64_t base = 7777777;
    const size_t len = (size_t)3 << 20;
    dgen_config cfg = base_config();
    dgen_generator *gen = NULL;
    unsigned char *buf = xmalloc(len);
    size_t i;
    cfg.compress_ratio = 4.0;
    cfg.dedup_ratio = 1.5;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill_at(gen, base, buf, len), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_verify_at(gen, base, buf, len, NULL), DGEN_STATUS_OK);
    for (i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        size_t at = flips[i];
        unsigned char good = buf[at];
        uint64_t found = 0;
        char want[160];
        buf[at] ^= 0x04;
        if (at + 10 < len) {
            buf[at + 10] ^= 0x80;
        }
        CHECK_STATUS(dgen_verify_at(gen, base, buf, len, &found), DGEN_STATUS_MISMATCH);
        CHECK(found == base + at);
        snprintf(want, sizeof want, "data mismatch at offset %llu: expected 0x%02x, found 0x%02x",
                 (unsigned long long)(base + at), good, (unsigned)(good ^ 0x04));
        CHECK_MESSAGE(want);
        /* Verifying from inside the buffer finds the same stream offset. */
        found = 0;
        if (at >= 100) {
            CHECK_STATUS(dgen_verify_at(gen, base + 100, buf + 100, len - 100, &found), DGEN_STATUS_MISMATCH);
            CHECK(found == base + at);
        }
        buf[at] = good;
        if (at + 10 < len) {
            buf[at + 10] ^= 0x80;
        }
    }
    CHECK_STATUS(dgen_verify_at(gen, base, buf, len, NULL), DGEN_STATUS_OK);
    /* A buffer checked at the wrong offset is a mismatch, not a success. */
    CHECK_STATUS(dgen_verify_at(gen, base + 1, buf, len - 1, NULL), DGEN_STATUS_MISMATCH);
    dgen_free(gen);
    free(buf);
}

/* ---------------------------------------------------------------------- */

static void test_null_pointers(void) {
    dgen_config cfg = base_config();
    dgen_generator *gen = (dgen_generator *)&cfg; /* must be reset to NULL */
    unsigned char buf[64];
    size_t written = 5;
    uint64_t at = 0;

    CHECK_STATUS(dgen_create(NULL, &gen), DGEN_STATUS_NULL_POINTER);
    CHECK_MESSAGE("dgen_create: cfg must not be NULL");
    CHECK(gen == NULL);
    CHECK_STATUS(dgen_create(&cfg, NULL), DGEN_STATUS_NULL_POINTER);
    CHECK_MESSAGE("dgen_create: out must not be NULL");

    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    CHECK_MESSAGE("");

    CHECK_STATUS(dgen_fill(NULL, buf, sizeof buf, &written), DGEN_STATUS_NULL_POINTER);
    CHECK_MESSAGE("dgen_fill: gen must not be NULL");
    CHECK(written == 0);
    CHECK_STATUS(dgen_fill(gen, NULL, sizeof buf, &written), DGEN_STATUS_NULL_POINTER);
    CHECK_MESSAGE("dgen_fill: buf must not be NULL");
    CHECK_STATUS(dgen_fill(gen, buf, sizeof buf, NULL), DGEN_STATUS_NULL_POINTER);
    CHECK_MESSAGE("dgen_fill: written must not be NULL");
    CHECK(dgen_position(gen) == 0); /* refused calls do not move the stream */
    /* NULL with length 0 is an empty buffer. */
    CHECK_STATUS(dgen_fill(gen, NULL, 0, &written), DGEN_STATUS_OK);
    CHECK(written == 0);

    CHECK_STATUS(dgen_fill_at(NULL, 0, buf, sizeof buf), DGEN_STATUS_NULL_POINTER);
    CHECK_MESSAGE("dgen_fill_at: gen must not be NULL");
    CHECK_STATUS(dgen_fill_at(gen, 0, NULL, sizeof buf), DGEN_STATUS_NULL_POINTER);
    CHECK_MESSAGE("dgen_fill_at: buf must not be NULL");
    CHECK_STATUS(dgen_fill_at(gen, 0, NULL, 0), DGEN_STATUS_OK);

    CHECK_STATUS(dgen_verify_at(NULL, 0, buf, sizeof buf, &at), DGEN_STATUS_NULL_POINTER);
    CHECK_MESSAGE("dgen_verify_at: gen must not be NULL");
    CHECK_STATUS(dgen_verify_at(gen, 0, NULL, sizeof buf, &at), DGEN_STATUS_NULL_POINTER);
    CHECK_MESSAGE("dgen_verify_at: buf must not be NULL");

    CHECK(!dgen_is_complete(NULL));
    CHECK_MESSAGE("dgen_is_complete: gen must not be NULL");
    CHECK(dgen_seed(NULL) == 0);
    CHECK_MESSAGE("dgen_seed: gen must not be NULL");
    CHECK(dgen_position(NULL) == 0);
    CHECK_MESSAGE("dgen_position: gen must not be NULL");
    dgen_free(NULL);
    CHECK_MESSAGE("");
    dgen_free(gen);
}

struct bad_case {
    const char *what;
    dgen_config cfg;
    dgen_status status;
    const char *message;
};

#define RATIO_RANGE "must be a number from 1.0 to 1024.0"
#define CRATIO_RANGE "must be a number from 1.0 to 32.0"
#define UNIT_RANGE "must be a multiple of 4096 from 4096 to 67108864 (64 MiB)"
#define THREADS_RANGE "must be from 0 (all CPUs) to 4096"

static void test_bad_config(void) {
    struct bad_case cases[24];
    size_t n = 0, i;
    dgen_config ok = base_config();

#define BAD(field, value, st, msg)                          \
    do {                                                    \
        cases[n].what = #field " = " #value;                \
        cases[n].cfg = ok;                                  \
        cases[n].cfg.field = (value);                       \
        cases[n].status = (st);                             \
        cases[n].message = (msg);                           \
        n++;                                                \
    } while (0)

    BAD(dedup_ratio, 0.5, DGEN_STATUS_INVALID_DEDUP_RATIO, "dedup_ratio " RATIO_RANGE ", got 0.5");
    BAD(dedup_ratio, 0.0, DGEN_STATUS_INVALID_DEDUP_RATIO, "dedup_ratio " RATIO_RANGE ", got 0");
    BAD(dedup_ratio, -2.0, DGEN_STATUS_INVALID_DEDUP_RATIO, "dedup_ratio " RATIO_RANGE ", got -2");
    BAD(dedup_ratio, NAN, DGEN_STATUS_INVALID_DEDUP_RATIO, "dedup_ratio " RATIO_RANGE ", got NaN");
    BAD(dedup_ratio, INFINITY, DGEN_STATUS_INVALID_DEDUP_RATIO, "dedup_ratio " RATIO_RANGE ", got inf");
    BAD(dedup_ratio, 1024.5, DGEN_STATUS_INVALID_DEDUP_RATIO, "dedup_ratio " RATIO_RANGE ", got 1024.5");
    BAD(compress_ratio, 0.5, DGEN_STATUS_INVALID_COMPRESS_RATIO, "compress_ratio " CRATIO_RANGE ", got 0.5");
    BAD(compress_ratio, NAN, DGEN_STATUS_INVALID_COMPRESS_RATIO, "compress_ratio " CRATIO_RANGE ", got NaN");
    BAD(compress_ratio, -INFINITY, DGEN_STATUS_INVALID_COMPRESS_RATIO, "compress_ratio " CRATIO_RANGE ", got -inf");
    BAD(compress_ratio, INFINITY, DGEN_STATUS_INVALID_COMPRESS_RATIO, "compress_ratio " CRATIO_RANGE ", got inf");
    BAD(compress_ratio, 32.5, DGEN_STATUS_INVALID_COMPRESS_RATIO, "compress_ratio " CRATIO_RANGE ", got 32.5");
    BAD(dedup_unit, 0, DGEN_STATUS_INVALID_DEDUP_UNIT, "dedup_unit " UNIT_RANGE ", got 0");
    BAD(dedup_unit, 1000, DGEN_STATUS_INVALID_DEDUP_UNIT, "dedup_unit " UNIT_RANGE ", got 1000");
    BAD(dedup_unit, 4097, DGEN_STATUS_INVALID_DEDUP_UNIT, "dedup_unit " UNIT_RANGE ", got 4097");
    BAD(dedup_unit, 67112960u, DGEN_STATUS_INVALID_DEDUP_UNIT, "dedup_unit " UNIT_RANGE ", got 67112960");
    BAD(threads, 4097u, DGEN_STATUS_INVALID_THREADS, "threads " THREADS_RANGE ", got 4097");
    BAD(threads, 4294967295u, DGEN_STATUS_INVALID_THREADS, "threads " THREADS_RANGE ", got 4294967295");
    BAD(numa_mode, 3u, DGEN_STATUS_INVALID_CONFIG,
        "numa_mode must be DGEN_NUMA_MODE_AUTO (0), DGEN_NUMA_MODE_OFF (1) or DGEN_NUMA_MODE_FORCE (2), got 3");
    BAD(numa_node, -2, DGEN_STATUS_INVALID_CONFIG, "numa_node must be -1 (none) or a NUMA node number, got -2");
    BAD(numa_node, 4000, DGEN_STATUS_INVALID_CONFIG,
        "numa_node must be a NUMA node of this machine (see `dgen topology`), got 4000");
    BAD(compressor, 7u, DGEN_STATUS_INVALID_COMPRESSOR,
        "compressor must be a dgen_compressor: DGEN_COMPRESSOR_AUTO (0) to DGEN_COMPRESSOR_LZJB (6), got 7");
    BAD(seed, 42u, DGEN_STATUS_INVALID_CONFIG,
        "seed is 42 but has_seed is false: set has_seed to use it, or leave seed 0 to draw a fresh seed");
#undef BAD

    for (i = 0; i < n; i++) {
        dgen_generator *gen = (dgen_generator *)&ok;
        dgen_status st = dgen_create(&cases[i].cfg, &gen);
        const char *msg = dgen_last_error();
        if (st != cases[i].status || strcmp(msg, cases[i].message) != 0 || gen != NULL) {
            fprintf(stderr, "%s: got %s \"%s\"\n  expected %s \"%s\"\n", cases[i].what,
                    dgen_status_str(st), msg, dgen_status_str(cases[i].status), cases[i].message);
            failed = 1;
        }
        dgen_free(gen);
    }
    CHECK(!failed);

    {
        /* The limits themselves are accepted. */
        dgen_generator *gen = NULL;
        dgen_config edge = ok;
        edge.dedup_ratio = 1024.0;
        edge.compress_ratio = 32.0;
        edge.dedup_unit = 64u << 20;
        edge.threads = 4096;
        CHECK_STATUS(dgen_create(&edge, &gen), DGEN_STATUS_OK);
        dgen_free(gen);
    }
}

static void test_out_of_range(void) {
    dgen_config cfg = base_config();
    dgen_generator *sized = NULL, *endless = NULL;
    unsigned char buf[100];
    char want[200];
    uint64_t at = 123;
    size_t written = 0;
    cfg.size = 8192;
    CHECK_STATUS(dgen_create(&cfg, &sized), DGEN_STATUS_OK);
    cfg.size = 0;
    CHECK_STATUS(dgen_create(&cfg, &endless), DGEN_STATUS_OK);

    CHECK_STATUS(dgen_fill_at(sized, 8092, buf, sizeof buf), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill_at(sized, 8093, buf, sizeof buf), DGEN_STATUS_OUT_OF_RANGE);
    CHECK_MESSAGE("range out of bounds: offset 8093 + length 100 passes the stream size 8192");
    CHECK_STATUS(dgen_verify_at(sized, 9000, buf, sizeof buf, &at), DGEN_STATUS_OUT_OF_RANGE);
    CHECK_MESSAGE("range out of bounds: offset 9000 + length 100 passes the stream size 8192");
    CHECK(at == 123); /* written only on a mismatch */

    /* An empty range is fine at the end and refused past it. */
    CHECK_STATUS(dgen_fill_at(sized, 8192, buf, 0), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_verify_at(sized, 8192, buf, 0, NULL), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill_at(sized, 8193, buf, 0), DGEN_STATUS_OUT_OF_RANGE);
    CHECK_MESSAGE("range out of bounds: offset 8193 + length 0 passes the stream size 8192");
    CHECK_STATUS(dgen_verify_at(sized, 8193, NULL, 0, NULL), DGEN_STATUS_OUT_OF_RANGE);

    /* offset + len past 2^64 - 1 */
    CHECK_STATUS(dgen_fill_at(endless, UINT64_MAX - 100, buf, sizeof buf), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill_at(endless, UINT64_MAX - 99, buf, sizeof buf), DGEN_STATUS_OUT_OF_RANGE);
    snprintf(want, sizeof want,
             "range out of bounds: offset %llu + length 100 passes the 2^64-byte limit of an endless stream",
             (unsigned long long)(UINT64_MAX - 99));
    CHECK_MESSAGE(want);
    CHECK_STATUS(dgen_fill_at(endless, UINT64_MAX, buf, 1), DGEN_STATUS_OUT_OF_RANGE);
    CHECK_STATUS(dgen_verify_at(endless, UINT64_MAX, buf, 2, NULL), DGEN_STATUS_OUT_OF_RANGE);

    /* A length no buffer can have is refused before the buffer is touched. */
    CHECK_STATUS(dgen_fill_at(endless, 0, buf, SIZE_MAX), DGEN_STATUS_OUT_OF_RANGE);
    snprintf(want, sizeof want, "dgen_fill_at: len %llu is larger than any buffer can be",
             (unsigned long long)SIZE_MAX);
    CHECK_MESSAGE(want);
    CHECK_STATUS(dgen_fill(endless, buf, SIZE_MAX, &written), DGEN_STATUS_OUT_OF_RANGE);
    CHECK(written == 0);
    CHECK_STATUS(dgen_verify_at(endless, 0, buf, SIZE_MAX, NULL), DGEN_STATUS_OUT_OF_RANGE);

    dgen_free(sized);
    dgen_free(endless);
}

static void test_huge(void) {
    /* A 2^63-byte generator is as cheap as a small one, and its bytes near
     * 2^62 are consistent however they are asked for. */
    const uint64_t size = (uint64_t)1 << 63;
    const uint64_t off = ((uint64_t)1 << 62) - 5000;
    const size_t len = (size_t)3 << 20;
    dgen_config cfg = base_config();
    dgen_generator *gen = NULL;
    unsigned char *whole = xmalloc(len);
    unsigned char part[7001];
    unsigned char tail[16];
    cfg.size = size;
    cfg.dedup_ratio = 3.0;
    cfg.compress_ratio = 2.0;
    cfg.dedup_unit = 65536;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill_at(gen, off, whole, len), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill_at(gen, off + 4321, part, sizeof part), DGEN_STATUS_OK);
    CHECK(memcmp(part, whole + 4321, sizeof part) == 0);
    CHECK_STATUS(dgen_verify_at(gen, off, whole, len, NULL), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill_at(gen, size - sizeof tail, tail, sizeof tail), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill_at(gen, size - sizeof tail + 1, tail, sizeof tail), DGEN_STATUS_OUT_OF_RANGE);
    CHECK(!dgen_is_complete(gen));
    dgen_free(gen);
    free(whole);
}

static void test_status_str(void) {
    static const char *const names[] = {
        "DGEN_STATUS_OK", "DGEN_STATUS_NULL_POINTER", "DGEN_STATUS_INVALID_DEDUP_RATIO",
        "DGEN_STATUS_INVALID_COMPRESS_RATIO", "DGEN_STATUS_INVALID_DEDUP_UNIT",
        "DGEN_STATUS_INVALID_THREADS", "DGEN_STATUS_INVALID_CONFIG", "DGEN_STATUS_OUT_OF_RANGE",
        "DGEN_STATUS_MISMATCH", "DGEN_STATUS_THREAD_POOL", "DGEN_STATUS_PANIC",
        "DGEN_STATUS_INVALID_COMPRESSOR", "DGEN_STATUS_IO", "DGEN_STATUS_INTERRUPTED", "DGEN_STATUS_INVALID_STATE",
    };
    dgen_config cfg = base_config();
    dgen_generator *gen = NULL;
    int i;
    CHECK(DGEN_STATUS_OK == 0);
    CHECK(DGEN_STATUS_PANIC == 10);
    for (i = 0; i < (int)(sizeof names / sizeof names[0]); i++) {
        const char *s = dgen_status_str((dgen_status)i);
        size_t n = strlen(names[i]);
        CHECK(strncmp(s, names[i], n) == 0 && s[n] == ':');
    }
    CHECK(strcmp(dgen_status_str((dgen_status)(sizeof names / sizeof names[0])), "unknown dgen_status") == 0);
    CHECK(strcmp(dgen_status_str((dgen_status)1000), "unknown dgen_status") == 0);

    /* dgen_status_str and dgen_version leave the last message alone, so they
     * can sit in one printf with dgen_last_error. */
    cfg.dedup_unit = 1000;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_INVALID_DEDUP_UNIT);
    (void)dgen_status_str(DGEN_STATUS_OK);
    (void)dgen_version();
    CHECK_MESSAGE("dedup_unit " UNIT_RANGE ", got 1000");
}

static void *other_thread_message(void *arg) {
    *(int *)arg = strcmp(dgen_last_error(), "") == 0;
    return NULL;
}

static void test_thread_local_message(void) {
    dgen_config cfg = base_config();
    dgen_generator *gen = NULL;
    pthread_t t;
    int empty = 0;
    cfg.threads = 5000;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_INVALID_THREADS);
    CHECK(pthread_create(&t, NULL, other_thread_message, &empty) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(empty); /* the other thread has its own (empty) message */
    CHECK_MESSAGE("threads " THREADS_RANGE ", got 5000");
}

static void test_topology(void) {
    dgen_config cfg;
    size_t needed = 0;
    char *text;
    dgen_config_init(&cfg);
    cfg.threads = 2;
    cfg.numa_mode = DGEN_NUMA_MODE_FORCE;
    CHECK_STATUS(dgen_topology(&cfg, NULL, 0, &needed), DGEN_STATUS_OUT_OF_RANGE);
    CHECK(needed > 10);
    text = (char *)xmalloc(needed);
    CHECK_STATUS(dgen_topology(&cfg, text, needed, &needed), DGEN_STATUS_OK);
    CHECK(strlen(text) + 1 == needed);
    CHECK(strncmp(text, "{\"source\":", 10) == 0);
    CHECK(strstr(text, "\"placement\":{\"threads\":2,") != NULL);
    free(text);
    CHECK_STATUS(dgen_topology(NULL, NULL, 0, &needed), DGEN_STATUS_NULL_POINTER);
}

static void test_seed(void) {
    /* Without a seed one is drawn; reading it back repeats the stream. */
    dgen_config cfg = base_config();
    dgen_generator *a = NULL, *b = NULL, *again = NULL;
    unsigned char x[10000], y[10000];
    cfg.compress_ratio = 3.0;
    CHECK_STATUS(dgen_create(&cfg, &a), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_create(&cfg, &b), DGEN_STATUS_OK);
    CHECK(dgen_seed(a) != dgen_seed(b));
    cfg.seed = dgen_seed(a);
    cfg.has_seed = true;
    CHECK_STATUS(dgen_create(&cfg, &again), DGEN_STATUS_OK);
    CHECK(dgen_seed(again) == dgen_seed(a));
    CHECK_STATUS(dgen_fill_at(a, 999, x, sizeof x), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill_at(again, 999, y, sizeof y), DGEN_STATUS_OK);
    CHECK(memcmp(x, y, sizeof x) == 0);
    CHECK_STATUS(dgen_fill_at(b, 999, y, sizeof y), DGEN_STATUS_OK);
    CHECK(memcmp(x, y, sizeof x) != 0);
    dgen_free(a);
    dgen_free(b);
    dgen_free(again);
}


/* ---------------------------------------------------------------------- */

static void test_seed_rule(void) {
    /* A seed that is set is used; one written without has_seed is refused,
     * never silently replaced by a random one. */
    dgen_config cfg = base_config();
    dgen_generator *gen = (dgen_generator *)&cfg;
    cfg.seed = 42;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_INVALID_CONFIG);
    CHECK_MESSAGE("seed is 42 but has_seed is false: set has_seed to use it, or leave seed 0 to draw a fresh seed");
    CHECK(gen == NULL);
    cfg.has_seed = true;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    CHECK(dgen_seed(gen) == 42);
    dgen_free(gen);
    cfg.seed = 0; /* 0 is a seed like any other when has_seed is true */
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    CHECK(dgen_seed(gen) == 0);
    dgen_free(gen);
}

static void test_field_order(void) {
    /* With several bad fields, the first one in declaration order is named. */
    dgen_config cfg = base_config();
    dgen_generator *gen = NULL;
    cfg.dedup_ratio = NAN;
    cfg.numa_mode = 9;
    cfg.compressor = 99;
    cfg.threads = 5000;
    cfg.seed = 5;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_INVALID_DEDUP_RATIO);
    CHECK_MESSAGE("dedup_ratio " RATIO_RANGE ", got NaN");
    cfg.dedup_ratio = 2.0;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_INVALID_CONFIG);
    CHECK(strncmp(dgen_last_error(), "seed is 5 ", 10) == 0);
    cfg.seed = 0;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_INVALID_THREADS);
    cfg.threads = 0;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_INVALID_CONFIG);
    CHECK(strncmp(dgen_last_error(), "numa_mode ", 10) == 0);
    cfg.numa_mode = DGEN_NUMA_MODE_OFF;
    cfg.numa_node = 4000;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_INVALID_CONFIG);
    CHECK(strncmp(dgen_last_error(), "numa_node ", 10) == 0);
    cfg.numa_node = -1;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_INVALID_COMPRESSOR);
    cfg.compressor = DGEN_COMPRESSOR_ZSTD;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    dgen_free(gen);
}

static void test_seek(void) {
    const uint64_t size = 100000;
    dgen_config cfg = base_config();
    dgen_generator *gen = NULL, *endless = NULL;
    unsigned char *all = xmalloc((size_t)size);
    unsigned char buf[1000];
    size_t written = 0;
    cfg.size = size;
    cfg.compress_ratio = 2.0;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    CHECK(dgen_size(gen) == size);
    CHECK_STATUS(dgen_fill_at(gen, 0, all, (size_t)size), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_seek(gen, 70000), DGEN_STATUS_OK);
    CHECK(dgen_position(gen) == 70000);
    CHECK_STATUS(dgen_fill(gen, buf, sizeof buf, &written), DGEN_STATUS_OK);
    CHECK(written == sizeof buf && memcmp(buf, all + 70000, sizeof buf) == 0);
    /* Past the end is refused and the position stays; the end itself is fine. */
    CHECK_STATUS(dgen_seek(gen, size + 1), DGEN_STATUS_OUT_OF_RANGE);
    CHECK_MESSAGE("dgen_seek: position 100001 passes the end of the stream (size 100000)");
    CHECK(dgen_position(gen) == 71000);
    CHECK_STATUS(dgen_seek(gen, size), DGEN_STATUS_OK);
    CHECK(dgen_is_complete(gen));
    CHECK_STATUS(dgen_rewind(gen), DGEN_STATUS_OK);
    CHECK(dgen_position(gen) == 0 && !dgen_is_complete(gen));
    CHECK_STATUS(dgen_fill(gen, buf, sizeof buf, &written), DGEN_STATUS_OK);
    CHECK(memcmp(buf, all, sizeof buf) == 0);
    CHECK_STATUS(dgen_seek(NULL, 0), DGEN_STATUS_NULL_POINTER);
    CHECK_STATUS(dgen_rewind(NULL), DGEN_STATUS_NULL_POINTER);
    CHECK(dgen_size(NULL) == 0);
    CHECK_MESSAGE("dgen_size: gen must not be NULL");

    cfg.size = 0;
    CHECK_STATUS(dgen_create(&cfg, &endless), DGEN_STATUS_OK);
    CHECK(dgen_size(endless) == 0);
    CHECK_STATUS(dgen_seek(endless, UINT64_MAX), DGEN_STATUS_OK);
    dgen_free(endless);
    dgen_free(gen);
    free(all);
}

static void test_generate(void) {
    /* dgen_generate fills from offset 0, as a generator's dgen_fill_at does,
     * into memory from dgen_alloc_aligned. */
    const size_t len = (size_t)5 << 20;
    dgen_config cfg = base_config();
    dgen_generator *gen = NULL;
    unsigned char *want = xmalloc(len);
    void *got = NULL;
    cfg.size = len;
    cfg.dedup_ratio = 2.0;
    cfg.compress_ratio = 3.0;
    cfg.seed = 8;
    cfg.has_seed = true;
    CHECK_STATUS(dgen_create(&cfg, &gen), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill_at(gen, 0, want, len), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_alloc_aligned(len + 1, 4096, &got), DGEN_STATUS_OK);
    CHECK(got != NULL && (uintptr_t)got % 4096 == 0);
    CHECK_STATUS(dgen_generate(&cfg, got, len), DGEN_STATUS_OK);
    CHECK(memcmp(got, want, len) == 0);
    CHECK_STATUS(dgen_generate(&cfg, got, 4097), DGEN_STATUS_OK);
    CHECK(memcmp(got, want, 4097) == 0);
    CHECK_STATUS(dgen_generate(&cfg, got, len + 1), DGEN_STATUS_OUT_OF_RANGE);
    CHECK_STATUS(dgen_generate(NULL, got, len), DGEN_STATUS_NULL_POINTER);
    cfg.dedup_ratio = 0.5;
    CHECK_STATUS(dgen_generate(&cfg, got, len), DGEN_STATUS_INVALID_DEDUP_RATIO);
    CHECK_MESSAGE("dedup_ratio " RATIO_RANGE ", got 0.5");
    dgen_free_aligned(got);
    dgen_free_aligned(NULL);

    CHECK_STATUS(dgen_alloc_aligned(100, 512, &got), DGEN_STATUS_OK);
    CHECK((uintptr_t)got % 512 == 0);
    dgen_free_aligned(got);
    CHECK_STATUS(dgen_alloc_aligned(100, 3000, &got), DGEN_STATUS_OUT_OF_RANGE);
    CHECK_MESSAGE("dgen_alloc_aligned: alignment 3000 is not a power of two");
    CHECK(got == NULL);
    CHECK_STATUS(dgen_alloc_aligned(SIZE_MAX, 0, &got), DGEN_STATUS_OUT_OF_RANGE);
    CHECK_STATUS(dgen_alloc_aligned(1, 0, NULL), DGEN_STATUS_NULL_POINTER);
    dgen_free(gen);
    free(want);
}

static void test_threads_cap(void) {
    /* threads above the CPUs the process may use is accepted and capped. */
    dgen_config cfg = base_config();
    dgen_generator *all = NULL, *many = NULL, *one = NULL;
    CHECK_STATUS(dgen_create(&cfg, &all), DGEN_STATUS_OK);
    cfg.threads = 4096;
    CHECK_STATUS(dgen_create(&cfg, &many), DGEN_STATUS_OK);
    cfg.threads = 1;
    CHECK_STATUS(dgen_create(&cfg, &one), DGEN_STATUS_OK);
    CHECK(dgen_threads(all) >= 1);
    CHECK(dgen_threads(many) == dgen_threads(all));
    CHECK(dgen_threads(one) == 1);
    CHECK(dgen_threads(NULL) == 0);
    dgen_free(all);
    dgen_free(many);
    dgen_free(one);
}

static int threads_now(void) {
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

#define SKIP 77

/* The child of test_pool_fallback: large fills succeed while no thread can
 * be started, and the worker pool is started once that is possible again. */
static int pool_fallback_child(void) {
    const size_t len = (size_t)4 << 20;
    const uint64_t off = 12345;
    dgen_config cfg = base_config();
    dgen_generator *gen = NULL;
    unsigned char *want = xmalloc(len), *got = xmalloc(len);
    struct rlimit limit, one;
    struct timespec pause = {1, 200000000}; /* past the library's 1 s retry delay */
    size_t i;
    int before, bad = 0;
    cfg.threads = 2;
    cfg.compress_ratio = 3.0;
    if (dgen_create(&cfg, &gen) != DGEN_STATUS_OK || dgen_threads(gen) < 2) {
        return SKIP; /* one CPU: no fill reaches the pool */
    }
    /* The reference, in pieces too small for the pool. */
    for (i = 0; i < len; i += (size_t)1 << 20) {
        if (dgen_fill_at(gen, off + i, want + i, (size_t)1 << 20) != DGEN_STATUS_OK) {
            return 1;
        }
    }
    /* RLIMIT_NPROC binds every user but root: run as nobody. */
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) {
        return SKIP;
    }
    if (getrlimit(RLIMIT_NPROC, &limit) != 0) {
        return SKIP;
    }
    one = limit;
    one.rlim_cur = 1;
    before = threads_now();
    if (setrlimit(RLIMIT_NPROC, &one) != 0) {
        return SKIP;
    }
    if (dgen_fill_at(gen, off, got, len) != DGEN_STATUS_OK || memcmp(got, want, len) != 0) {
        fprintf(stderr, "pool_fallback: a fill without worker threads failed: %s\n", dgen_last_error());
        bad = 1;
    } else if (threads_now() != before) {
        fprintf(stderr, "pool_fallback: %d threads, %d before, under a limit of 1 process\n", threads_now(), before);
        bad = 1;
    }
    if (dgen_verify_at(gen, off, want, len, NULL) != DGEN_STATUS_OK) {
        fprintf(stderr, "pool_fallback: verify without worker threads failed: %s\n", dgen_last_error());
        bad = 1;
    }
    /* The limit goes away; after the retry delay the pool starts. */
    if (setrlimit(RLIMIT_NPROC, &limit) != 0) {
        return 1;
    }
    nanosleep(&pause, NULL);
    memset(got, 0, len);
    if (dgen_fill_at(gen, off, got, len) != DGEN_STATUS_OK || memcmp(got, want, len) != 0) {
        fprintf(stderr, "pool_fallback: a fill after the limit was lifted failed: %s\n", dgen_last_error());
        bad = 1;
    } else if (threads_now() < before + 2) {
        fprintf(stderr, "pool_fallback: the pool was not started again (%d threads, %d before)\n", threads_now(),
                before);
        bad = 1;
    }
    dgen_free(gen);
    free(want);
    free(got);
    return bad;
}

static void test_pool_fallback(void) {
    /* In a child process, which may give up root and its thread limit. */
    int status = 0;
    pid_t pid;
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        _exit(pool_fallback_child());
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    if (WEXITSTATUS(status) == SKIP) {
        printf("pool_fallback: skipped (one CPU, or the limit cannot be set)\n");
        return;
    }
    CHECK(WEXITSTATUS(status) == 0);
}

/* ---------------------------------------------------------------------- */

/* Compressor names as every face reads them, through the library. */
static void test_compressor_names(void) {
    uint32_t c = 99;
    CHECK_STATUS(dgen_compressor_from_name("snappy", &c), DGEN_STATUS_OK);
    CHECK(c == DGEN_COMPRESSOR_SNAPPY);
    CHECK_STATUS(dgen_compressor_from_name("Deflate", &c), DGEN_STATUS_OK);
    CHECK(c == DGEN_COMPRESSOR_GZIP);
    CHECK_STATUS(dgen_compressor_from_name("brotli", &c), DGEN_STATUS_INVALID_COMPRESSOR);
    CHECK_MESSAGE("compressor must be one of auto, zstd, lz4, gzip, snappy, lzo, lzjb, got brotli");
    CHECK(c == DGEN_COMPRESSOR_GZIP);
    CHECK_STATUS(dgen_compressor_from_name(NULL, &c), DGEN_STATUS_NULL_POINTER);
    CHECK_STATUS(dgen_compressor_from_name("lz4", NULL), DGEN_STATUS_NULL_POINTER);
}

static void test_f32(void) {
    /* The cross-language float32 golden value, and any part of the range
     * filled on its own giving the same values. */
    float *v = xmalloc(DGEN_GOLDEN_F32_COUNT * sizeof *v);
    float part[100];
    float kept[4] = {7.0f, 7.0f, 7.0f, 7.0f};
    unsigned char le[4];
    sha256_ctx c;
    char hex[65];
    size_t i;
    int same = 1, in_range = 1;
    CHECK_STATUS(dgen_fill_f32_at(DGEN_GOLDEN_F32_SEED, DGEN_GOLDEN_F32_INDEX, DGEN_GOLDEN_F32_LOW,
                                  DGEN_GOLDEN_F32_HIGH, v, DGEN_GOLDEN_F32_COUNT),
                 DGEN_STATUS_OK);
    CHECK_MESSAGE("");
    sha256_init(&c);
    for (i = 0; i < DGEN_GOLDEN_F32_COUNT; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], sizeof bits);
        le[0] = (unsigned char)bits;
        le[1] = (unsigned char)(bits >> 8);
        le[2] = (unsigned char)(bits >> 16);
        le[3] = (unsigned char)(bits >> 24);
        sha256_update(&c, le, sizeof le);
        in_range &= v[i] >= DGEN_GOLDEN_F32_LOW && v[i] < DGEN_GOLDEN_F32_HIGH;
    }
    sha256_final_hex(&c, hex);
    CHECK_STATUS(dgen_fill_f32_at(DGEN_GOLDEN_F32_SEED, DGEN_GOLDEN_F32_INDEX + 777, DGEN_GOLDEN_F32_LOW,
                                  DGEN_GOLDEN_F32_HIGH, part, 100),
                 DGEN_STATUS_OK);
    for (i = 0; i < 100; i++) {
        same &= memcmp(&part[i], &v[777 + i], sizeof part[i]) == 0;
    }
    free(v);
    if (strcmp(hex, DGEN_GOLDEN_F32_SHA256) != 0) {
        fprintf(stderr, "float32 golden SHA-256 %s, expected %s\n", hex, DGEN_GOLDEN_F32_SHA256);
    }
    CHECK(strcmp(hex, DGEN_GOLDEN_F32_SHA256) == 0);
    CHECK(same);
    CHECK(in_range);

    /* Bad arguments: a status, a message naming the argument and its value,
     * and the buffer untouched. */
    CHECK_STATUS(dgen_fill_f32_at(1, 0, 1.0f, 1.0f, kept, 4), DGEN_STATUS_INVALID_CONFIG);
    CHECK_MESSAGE("high must be greater than low, got 1 (low is 1)");
    CHECK_STATUS(dgen_fill_f32_at(1, 0, (float)NAN, 1.0f, kept, 4), DGEN_STATUS_INVALID_CONFIG);
    CHECK_MESSAGE("low must be a finite number below high, got NaN");
    CHECK_STATUS(dgen_fill_f32_at(1, 0, 0.0f, (float)INFINITY, kept, 4), DGEN_STATUS_INVALID_CONFIG);
    CHECK_MESSAGE("high must be a finite number above low, got inf");
    CHECK_STATUS(dgen_fill_f32_at(1, UINT64_MAX - 1, 0.0f, 1.0f, kept, 4), DGEN_STATUS_OUT_OF_RANGE);
    CHECK_MESSAGE("index + count must be at most 2^64 (element indexes are 64-bit), got 18446744073709551614 + 4");
    CHECK_STATUS(dgen_fill_f32_at(1, 0, 0.0f, 1.0f, NULL, 4), DGEN_STATUS_NULL_POINTER);
    CHECK_MESSAGE("dgen_fill_f32_at: out must not be NULL");
    for (i = 0; i < 4; i++) {
        CHECK(kept[i] == 7.0f);
    }
    CHECK_STATUS(dgen_fill_f32_at(1, 0, 0.0f, 1.0f, NULL, 0), DGEN_STATUS_OK);
    CHECK_STATUS(dgen_fill_f32_at(1, UINT64_MAX - 3, 0.0f, 1.0f, kept, 4), DGEN_STATUS_OK);
}

static const struct test_case cases[] = {
    {"defaults", test_defaults},
    {"sha256", test_sha256_vectors},
    {"golden", test_golden},
    {"stream", test_stream},
    {"endless", test_endless},
    {"threads", test_threads},
    {"shared_stream", test_shared_stream},
    {"fork", test_fork},
    {"verify", test_verify},
    {"null_pointers", test_null_pointers},
    {"bad_config", test_bad_config},
    {"out_of_range", test_out_of_range},
    {"huge", test_huge},
    {"status_str", test_status_str},
    {"thread_local_message", test_thread_local_message},
    {"seed", test_seed},
    {"topology", test_topology},
    {"seed_rule", test_seed_rule},
    {"field_order", test_field_order},
    {"seek", test_seek},
    {"generate", test_generate},
    {"threads_cap", test_threads_cap},
    {"pool_fallback", test_pool_fallback},
    {"compressor_names", test_compressor_names},
    {"f32", test_f32},
};

int main(int argc, char **argv) {
    return run_cases(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
