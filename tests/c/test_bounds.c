/* dgen_param_bounds and dgen_config_check agree with dgen_create: for every
 * config field with numeric bounds, both bounds are accepted, one step past
 * either is refused with the field's own status, and the message names the
 * field and the same bounds. No limit is written in this file. */
#define CHECK_LEAVE return
#include "check.h"

#include <stdint.h>
#include <stdio.h>

struct field_case {
    dgen_field field;
    const char *name;
    dgen_status refused;
    double step;
    const char *format; /* how the message prints a bound */
};

static void set_field(dgen_config *cfg, dgen_field field, double v) {
    switch (field) {
    case DGEN_FIELD_DEDUP_RATIO: cfg->dedup_ratio = v; break;
    case DGEN_FIELD_COMPRESS_RATIO: cfg->compress_ratio = v; break;
    case DGEN_FIELD_DEDUP_UNIT: cfg->dedup_unit = (uint32_t)v; break;
    case DGEN_FIELD_THREADS: cfg->threads = (uint32_t)v; break;
    default: break;
    }
}

static void test_config_fields(void) {
    static const struct field_case cases[] = {
        {DGEN_FIELD_DEDUP_RATIO, "dedup_ratio", DGEN_STATUS_INVALID_DEDUP_RATIO, 0.5, "%.1f"},
        {DGEN_FIELD_COMPRESS_RATIO, "compress_ratio", DGEN_STATUS_INVALID_COMPRESS_RATIO, 0.5, "%.1f"},
        {DGEN_FIELD_DEDUP_UNIT, "dedup_unit", DGEN_STATUS_INVALID_DEDUP_UNIT, 4096, "%.0f"},
        {DGEN_FIELD_THREADS, "threads", DGEN_STATUS_INVALID_THREADS, 1, "%.0f"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct field_case *c = &cases[i];
        double min = -1, max = -1, bad[2];
        char want_min[64], want_max[64];
        dgen_config cfg;
        dgen_generator *gen = NULL;
        int k;
        CHECK_STATUS(dgen_param_bounds(c->field, &min, &max), DGEN_STATUS_OK);
        CHECK(min >= 0 && max > min);
        for (k = 0; k < 2; k++) {
            dgen_config_init(&cfg);
            set_field(&cfg, c->field, k == 0 ? min : max);
            CHECK_STATUS(dgen_config_check(&cfg), DGEN_STATUS_OK);
        }
        snprintf(want_min, sizeof want_min, c->format, min);
        snprintf(want_max, sizeof want_max, c->format, max);
        bad[0] = min - c->step;
        bad[1] = max + c->step;
        for (k = 0; k < 2; k++) {
            if (bad[k] < 0) {
                continue; /* an unsigned field cannot hold it */
            }
            dgen_config_init(&cfg);
            set_field(&cfg, c->field, bad[k]);
            CHECK_STATUS(dgen_config_check(&cfg), c->refused);
            if (strncmp(dgen_last_error(), c->name, strlen(c->name)) != 0 ||
                strstr(dgen_last_error(), want_min) == NULL || strstr(dgen_last_error(), want_max) == NULL) {
                CHECK_FAIL("%s = %g: message \"%s\" does not name the field and %s..%s\n", c->name, bad[k],
                           dgen_last_error(), want_min, want_max);
            }
            /* dgen_create says the same. */
            CHECK_STATUS(dgen_create(&cfg, &gen), c->refused);
            CHECK(gen == NULL);
        }
    }
}

static void test_no_bounds(void) {
    double min = 7, max = 7;
    CHECK_STATUS(dgen_param_bounds(DGEN_FIELD_NUMA_NODE, &min, &max), DGEN_STATUS_INVALID_CONFIG);
    CHECK(min == 7 && max == 7);
    CHECK_STATUS(dgen_param_bounds(1000, &min, &max), DGEN_STATUS_INVALID_CONFIG);
    CHECK_STATUS(dgen_param_bounds(DGEN_FIELD_DEDUP_RATIO, NULL, &max), DGEN_STATUS_NULL_POINTER);
    CHECK_STATUS(dgen_config_check(NULL), DGEN_STATUS_NULL_POINTER);
}

static const struct test_case cases[] = {
    {"config_fields", test_config_fields},
    {"no_bounds", test_no_bounds},
};

int main(int argc, char **argv) {
    return run_cases(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
