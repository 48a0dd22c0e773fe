/*
 * The status of a libdgen call together with a private copy of the calling
 * thread's error message, taken in the same C call: a goroutine may move to
 * another OS thread as soon as a cgo call returns, so dgen_last_error cannot
 * be read by a separate call. The copy is made only on failure and freed by
 * the Go side (check in dgen.go). Every file of the package wraps its calls
 * with dgen_go_result_of.
 */
#ifndef DGEN_GO_RESULT_H
#define DGEN_GO_RESULT_H

#include <stdlib.h>
#include <string.h>
#include "dgen.h"

typedef struct {
	dgen_status status;
	char *message;
} dgen_go_result;

static inline dgen_go_result dgen_go_result_of(dgen_status status) {
	dgen_go_result r = { status, NULL };
	if (status != DGEN_STATUS_OK) {
		const char *m = dgen_last_error();
		r.message = strdup(m != NULL ? m : "");
	}
	return r;
}

#endif
