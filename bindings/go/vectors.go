package dgen

/*
#include "result.h"

static dgen_go_result dgen_go_fill_f32_at(uint64_t seed, uint64_t index, float low, float high, float *out,
		size_t count) {
	return dgen_go_result_of(dgen_fill_f32_at(seed, index, low, high, out, count));
}
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// FillFloat32At fills out with elements index, index+1, ... of the float32
// sequence of seed, uniform over [low, high): seeded vectors for
// vector-database benchmarks.
//
// Vector v of dimension dim is the elements [v*dim, (v+1)*dim), so
// FillFloat32At(out[:n*dim], seed, v*dim, low, high) gives vectors v to
// v+n-1. Every value is a pure function of the seed, the element index, low
// and high (see dgen_fill_f32_at in dgen.h), so any range can be filled on
// its own, by any number of goroutines, and the same arguments give the same
// values in Go, C, Rust and Python.
//
// Errors: low or high not finite, or high not greater than low (an *Error
// with StatusInvalidConfig); index+len(out) past 2^64 (StatusOutOfRange).
// The message names the argument and its value, and out is left unchanged.
func FillFloat32At(out []float32, seed, index uint64, low, high float32) error {
	var ptr *C.float
	if len(out) > 0 {
		ptr = (*C.float)(unsafe.Pointer(&out[0]))
	}
	r := C.dgen_go_fill_f32_at(C.uint64_t(seed), C.uint64_t(index), C.float(low), C.float(high), ptr,
		C.size_t(len(out)))
	runtime.KeepAlive(out)
	return callError(r)
}
