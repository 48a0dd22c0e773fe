/* The checks and the case runner of the C test programs. A case stops at its
 * first unmet check, which prints where and why on stderr; the runner prints
 * one line a case and exits non-zero when any failed.
 *
 * A program defines CHECK_LEAVE before it includes this: how a case leaves
 * on a failed check (`return`, or `goto out` where every case frees what it
 * holds at its label `out`). */
#ifndef DGEN_TEST_CHECK_H
#define DGEN_TEST_CHECK_H

#include "dgen.h"

#include <stdio.h>
#include <string.h>

#ifndef CHECK_LEAVE
#error "define CHECK_LEAVE (return, or goto out) before including check.h"
#endif

/* Set by a failed check; the runner clears it before each case. */
static int failed;

/* Prints "file:line: " and the rest, marks the case failed and leaves it. */
#define CHECK_FAIL(fmt, ...)                                                  \
    do {                                                                      \
        fprintf(stderr, "%s:%d: " fmt, __FILE__, __LINE__, __VA_ARGS__);      \
        failed = 1;                                                           \
        CHECK_LEAVE;                                                          \
    } while (0)

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            CHECK_FAIL("check failed: %s\n", #cond);                          \
        }                                                                     \
    } while (0)

/* `call` returns the status `want`; otherwise says what it returned and the
 * library's message. */
#define CHECK_STATUS(call, want)                                              \
    do {                                                                      \
        dgen_status got_ = (call);                                            \
        if (got_ != (want)) {                                                 \
            CHECK_FAIL("%s\n  returned %s\n  expected %s\n  message: %s\n",   \
                       #call, dgen_status_str(got_), dgen_status_str(want),   \
                       dgen_last_error());                                    \
        }                                                                     \
    } while (0)

/* The library's last message is exactly `want`. */
#define CHECK_MESSAGE(want)                                                   \
    do {                                                                      \
        const char *got_ = dgen_last_error();                                 \
        if (strcmp(got_, (want)) != 0) {                                      \
            CHECK_FAIL("message\n  got      \"%s\"\n  expected \"%s\"\n",     \
                       got_, (want));                                         \
        }                                                                     \
    } while (0)

struct test_case {
    const char *name;
    void (*run)(void);
};

/* Runs the case named by argv[1], or every case when none is named, and
 * prints one line for each. Returns the exit status: 0 when all passed, 1
 * when one failed, 2 when no case has that name. */
static int run_cases(int argc, char **argv, const struct test_case *cases, size_t n) {
    size_t i, ran = 0, bad = 0;
    for (i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) {
            continue;
        }
        failed = 0;
        cases[i].run();
        printf("%-22s %s\n", cases[i].name, failed ? "FAILED" : "ok");
        ran++;
        bad += failed ? 1 : 0;
    }
    if (ran == 0) {
        fprintf(stderr, "no test case named \"%s\"\n", argc > 1 ? argv[1] : "");
        return 2;
    }
    return bad == 0 ? 0 : 1;
}

#endif
