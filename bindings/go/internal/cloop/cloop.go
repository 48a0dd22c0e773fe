// Package cloop runs libdgen's fill loops entirely in C, so the Go
// benchmarks can state their speed as a share of the same work done without
// cgo in between, and gives the tests bytes made by the C ABI alone, from a
// dgen_config set field by field here, to compare the Go face with.
package cloop

/*
#include <stdint.h>
#include <time.h>
#include "dgen.h"

static double cloop_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// Streams `iters` fills of `len` bytes; returns the seconds taken, or a
// negative status on failure.
static double cloop_fill(dgen_generator *g, void *buf, size_t len, long iters) {
	double start = cloop_now();
	for (long i = 0; i < iters; i++) {
		size_t written = 0;
		dgen_status s = dgen_fill(g, buf, len, &written);
		if (s != DGEN_STATUS_OK || written != len) return -1.0 - (double)s;
	}
	return cloop_now() - start;
}

// `iters` fill_at calls of `len` bytes at the offsets ReadAt benchmarks use:
// block (i * 2654435761) mod `blocks`, times len.
static double cloop_fill_at(const dgen_generator *g, void *buf, size_t len, long iters, uint64_t blocks) {
	double start = cloop_now();
	for (long i = 0; i < iters; i++) {
		uint64_t off = ((uint64_t)i * 2654435761u % blocks) * len;
		dgen_status s = dgen_fill_at(g, off, buf, len);
		if (s != DGEN_STATUS_OK) return -1.0 - (double)s;
	}
	return cloop_now() - start;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Config is the part of a generator's config the loops need.
type Config struct {
	DedupRatio, CompressRatio float64
	Seed                      uint64
	// Compressor is a dgen_compressor value, passed as it is.
	Compressor uint32
}

func (cfg Config) toC() C.dgen_config {
	var c C.dgen_config
	C.dgen_config_init(&c)
	c.dedup_ratio = C.double(cfg.DedupRatio)
	c.compress_ratio = C.double(cfg.CompressRatio)
	c.seed = C.uint64_t(cfg.Seed)
	c.has_seed = true
	c.compressor = C.uint32_t(cfg.Compressor)
	return c
}

// Generate returns the first n bytes of the endless stream of cfg, made by
// one dgen_generate call.
func Generate(cfg Config, n int) ([]byte, error) {
	c := cfg.toC()
	out := make([]byte, n)
	if s := C.dgen_generate(&c, unsafe.Pointer(&out[0]), C.size_t(n)); s != C.DGEN_STATUS_OK {
		return nil, fmt.Errorf("dgen_generate: %s", C.GoString(C.dgen_status_str(C.dgen_status(s))))
	}
	return out, nil
}

func create(cfg Config) (*C.dgen_generator, error) {
	c := cfg.toC()
	var g *C.dgen_generator
	if s := C.dgen_create(&c, &g); s != C.DGEN_STATUS_OK {
		return nil, fmt.Errorf("dgen_create: %s", C.GoString(C.dgen_status_str(C.dgen_status(s))))
	}
	return g, nil
}

// Fill streams iters fills of len(buf) bytes from an endless generator in
// one C loop and returns the seconds it took.
func Fill(cfg Config, buf []byte, iters int) (float64, error) {
	g, err := create(cfg)
	if err != nil {
		return 0, err
	}
	defer C.dgen_free(g)
	secs := float64(C.cloop_fill(g, unsafe.Pointer(&buf[0]), C.size_t(len(buf)), C.long(iters)))
	if secs < 0 {
		return 0, fmt.Errorf("dgen_fill failed with status %d", int(-1-secs))
	}
	return secs, nil
}

// FillAt makes iters fill_at calls of len(buf) bytes at scattered offsets
// among `blocks` blocks of that size, in one C loop, and returns the seconds.
func FillAt(cfg Config, buf []byte, iters int, blocks uint64) (float64, error) {
	g, err := create(cfg)
	if err != nil {
		return 0, err
	}
	defer C.dgen_free(g)
	secs := float64(C.cloop_fill_at(g, unsafe.Pointer(&buf[0]), C.size_t(len(buf)), C.long(iters), C.uint64_t(blocks)))
	if secs < 0 {
		return 0, fmt.Errorf("dgen_fill_at failed with status %d", int(-1-secs))
	}
	return secs, nil
}
