/* The C side of bench.py: the same measurements through the C ABI, so that
 * the Python figures can be read as a share of C's on the same machine in
 * the same run.
 *
 *   bench_c fill BYTES THREADS CALLS ROUNDS     dgen_fill into one BYTES buffer
 *   bench_c fill_at BYTES THREADS CALLS ROUNDS  dgen_fill_at at scattered offsets
 *   bench_c write BYTES JOBS PATH ROUNDS        dgen_write_file of a BYTES dataset to PATH
 *                                              (no final sync), the whole call timed
 *
 * Prints the best round in GB/s (10^9 bytes per second). bench.py builds it
 * with target/release/libdgen.a. */
#include <dgen.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int fail(const char *what) {
    fprintf(stderr, "bench_c: %s: %s\n", what, dgen_last_error());
    return 1;
}

/* What Python's Generator.write_file does, from C. */
static int write_file(char **argv) {
    dgen_config cfg;
    dgen_config_init(&cfg);
    cfg.size = strtoull(argv[2], NULL, 10);
    cfg.seed = 1;
    cfg.has_seed = true;
    dgen_generator *gen;
    if (dgen_create(&cfg, &gen) != DGEN_STATUS_OK) return fail("dgen_create");
    dgen_io_options opts;
    dgen_io_options_init(&opts);
    opts.jobs = (uint32_t)strtoul(argv[3], NULL, 10);
    opts.sync = false;
    int rounds = atoi(argv[5]);
    double best = 0;
    for (int r = 0; r < rounds; r++) {
        dgen_io_report report;
        double t0 = now();
        if (dgen_write_file(gen, argv[4], &opts, &report) != DGEN_STATUS_OK) return fail("dgen_write_file");
        double rate = (double)cfg.size / (now() - t0) / 1e9;
        if (rate > best) best = rate;
    }
    printf("%.3f\n", best);
    dgen_free(gen);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: bench_c fill|fill_at BYTES THREADS CALLS ROUNDS | write BYTES JOBS PATH ROUNDS\n");
        return 2;
    }
    if (strcmp(argv[1], "write") == 0) return write_file(argv);
    int at = strcmp(argv[1], "fill_at") == 0;
    size_t len = strtoull(argv[2], NULL, 10);
    unsigned threads = (unsigned)strtoul(argv[3], NULL, 10);
    long calls = strtol(argv[4], NULL, 10);
    int rounds = atoi(argv[5]);

    dgen_config cfg;
    dgen_config_init(&cfg);
    cfg.seed = 1;
    cfg.has_seed = true;
    cfg.threads = threads;
    dgen_generator *gen;
    if (dgen_create(&cfg, &gen) != DGEN_STATUS_OK) return fail("dgen_create");
    unsigned char *buf = malloc(len);
    if (!buf) return 1;
    size_t n;
    /* Touch the pages and start the worker pool before timing. */
    if (dgen_fill(gen, buf, len, &n) != DGEN_STATUS_OK) return fail("dgen_fill");

    double best = 0;
    uint64_t state = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (long i = 0; i < calls; i++) {
            if (at) {
                /* The offsets bench.py uses: 4 KiB-aligned over 1 TiB. */
                state = state * 6364136223846793005ull + 1442695040888963407ull;
                if (dgen_fill_at(gen, (state >> 24) << 12, buf, len) != DGEN_STATUS_OK) return fail("dgen_fill_at");
            } else if (dgen_fill(gen, buf, len, &n) != DGEN_STATUS_OK) {
                return fail("dgen_fill");
            }
        }
        double rate = (double)len * calls / (now() - t0) / 1e9;
        if (rate > best) best = rate;
    }
    printf("%.3f\n", best);
    free(buf);
    dgen_free(gen);
    return 0;
}
