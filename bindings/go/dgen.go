// Package dgen generates synthetic data for storage testing: bytes with a
// chosen deduplication ratio and compression ratio, reproducible from a seed
// and seekable, produced straight into the caller's buffer by libdgen.
//
// A Generator is an io.Reader (a stream that ends at Config.Size, or never
// when Size is 0), an io.ReaderAt that may be used from many goroutines at
// once, and an io.WriterTo, so io.Copy needs no extra buffer. Every byte is a
// pure function of the seed, the ratios, the dedup unit, the size and the
// byte's offset: the same Config gives the same bytes in Go, C, C++, Rust and
// the dgen command, for any thread count and any read sizes.
//
//	g, err := dgen.New(dgen.Config{Size: 1 << 30, DedupRatio: 2, CompressRatio: 3, Seed: 42, HasSeed: true})
//	if err != nil { ... }
//	defer g.Close()
//	n, err := io.Copy(file, g)
package dgen

/*
#include <stdlib.h>
#include <string.h>
#include "dgen.h"

// Each call below returns the status together with a private copy of the
// thread-local error message, taken in the same C call: a goroutine may move
// to another OS thread as soon as a cgo call returns, so dgen_last_error
// cannot be read by a separate call. The copy is made only on failure and
// freed by the Go side.
typedef struct {
	dgen_status status;
	char *message;
} dgen_go_result;

static dgen_go_result dgen_go_result_of(dgen_status status) {
	dgen_go_result r = { status, NULL };
	if (status != DGEN_STATUS_OK) {
		const char *m = dgen_last_error();
		r.message = strdup(m != NULL ? m : "");
	}
	return r;
}

static dgen_go_result dgen_go_create(const dgen_config *cfg, dgen_generator **out) {
	return dgen_go_result_of(dgen_create(cfg, out));
}

static dgen_go_result dgen_go_fill(dgen_generator *gen, void *buf, size_t len, size_t *written) {
	return dgen_go_result_of(dgen_fill(gen, buf, len, written));
}

static dgen_go_result dgen_go_fill_at(const dgen_generator *gen, uint64_t offset, void *buf, size_t len) {
	return dgen_go_result_of(dgen_fill_at(gen, offset, buf, len));
}

static dgen_go_result dgen_go_verify_at(const dgen_generator *gen, uint64_t offset, const void *buf,
		size_t len, uint64_t *mismatch) {
	dgen_status s = dgen_verify_at(gen, offset, buf, len, mismatch);
	if (s == DGEN_STATUS_MISMATCH) {
		dgen_go_result r = { s, NULL };
		return r;
	}
	return dgen_go_result_of(s);
}

static dgen_go_result dgen_go_topology(const dgen_config *cfg, char *buf, size_t len, size_t *needed) {
	return dgen_go_result_of(dgen_topology(cfg, buf, len, needed));
}
*/
import "C"

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"unsafe"
)

// NumaMode says how generation threads are placed on NUMA nodes.
type NumaMode uint32

const (
	// NumaAuto pins threads across nodes only on multi-node hosts.
	NumaAuto NumaMode = C.DGEN_NUMA_MODE_AUTO
	// NumaOff never pins.
	NumaOff NumaMode = C.DGEN_NUMA_MODE_OFF
	// NumaForce pins across nodes even on a single-node host.
	NumaForce NumaMode = C.DGEN_NUMA_MODE_FORCE
)

// Config says what to generate. The zero value is valid: an endless stream
// of incompressible, unique bytes with a fresh random seed.
type Config struct {
	// Size is the length of the stream in bytes; 0 means endless.
	Size uint64
	// DedupRatio is total / distinct dedup units, from 1 to 1024; 0 means 1.
	DedupRatio float64
	// CompressRatio is input / output bytes for LZ-family compressors
	// (zstd, lz4, gzip), from 1 to 32; 0 means 1.
	CompressRatio float64
	// DedupUnit is the dedup block size in bytes, a multiple of 4096 up to
	// 64 MiB; 0 means the library default (4096).
	DedupUnit uint32
	// Seed selects the stream when HasSeed is true; otherwise each
	// generator draws a fresh seed, which Generator.Seed reads back.
	Seed    uint64
	HasSeed bool
	// Threads used for large reads; 0 means every CPU this process may run
	// on (or every such CPU of NumaNode). Leave CPUs for I/O goroutines by
	// asking for fewer, for example half of runtime.NumCPU().
	Threads int
	// NumaMode places the threads; the zero value is NumaAuto.
	NumaMode NumaMode
	// NumaNode keeps the threads on that NUMA node's CPUs when HasNumaNode
	// is true.
	NumaNode    int
	HasNumaNode bool
}

// toC converts the config, checking the fields Go can hold out of the C
// range (the library checks the rest and names the field and value).
func (cfg Config) toC() (C.dgen_config, error) {
	var c C.dgen_config
	C.dgen_config_init(&c)
	c.size = C.uint64_t(cfg.Size)
	if cfg.DedupRatio != 0 {
		c.dedup_ratio = C.double(cfg.DedupRatio)
	}
	if cfg.CompressRatio != 0 {
		c.compress_ratio = C.double(cfg.CompressRatio)
	}
	if cfg.DedupUnit != 0 {
		c.dedup_unit = C.uint32_t(cfg.DedupUnit)
	}
	c.seed = C.uint64_t(cfg.Seed)
	c.has_seed = C.bool(cfg.HasSeed)
	if cfg.Threads < 0 || uint64(cfg.Threads) > math.MaxUint32 {
		return c, &Error{Status: StatusInvalidThreads,
			Message: fmt.Sprintf("threads must be from 0 (all CPUs) to 4096, got %d", cfg.Threads)}
	}
	c.threads = C.uint32_t(cfg.Threads)
	c.numa_mode = C.uint32_t(cfg.NumaMode)
	if cfg.HasNumaNode {
		if cfg.NumaNode < 0 || cfg.NumaNode > math.MaxInt32 {
			return c, &Error{Status: StatusInvalidConfig,
				Message: fmt.Sprintf("numa_node must be a NUMA node number (0 or more), got %d", cfg.NumaNode)}
		}
		c.numa_node = C.int32_t(cfg.NumaNode)
	}
	return c, nil
}

// Generator produces one stream. Read and WriteTo continue the stream;
// ReadAt and Verify reach any offset and may run from many goroutines at
// once. Close releases the library's memory and threads; a finalizer does it
// for a Generator that is dropped without Close, but threads and memory are
// held until the garbage collector runs, so call Close.
type Generator struct {
	// mu guards gen: Read, WriteTo and Close take it for writing (the
	// library needs the handle to itself for them), ReadAt and Verify for
	// reading.
	mu   sync.RWMutex
	gen  *C.dgen_generator
	size uint64
	seed uint64
}

// New creates a generator. A bad config returns an *Error whose Status names
// the field (compare with errors.Is, e.g. ErrInvalidDedupRatio) and whose
// message gives the field and the value.
func New(cfg Config) (*Generator, error) {
	c, err := cfg.toC()
	if err != nil {
		return nil, err
	}
	var h *C.dgen_generator
	if err := check(C.dgen_go_create(&c, &h)); err != nil {
		return nil, err
	}
	g := &Generator{gen: h, size: cfg.Size, seed: uint64(C.dgen_seed(h))}
	runtime.SetFinalizer(g, (*Generator).free)
	return g, nil
}

// Seed returns the seed of the stream: Config.Seed, or the one drawn when
// HasSeed was false, so that the run can be repeated.
func (g *Generator) Seed() uint64 { return g.seed }

// Size returns Config.Size: the length of the stream, 0 for endless.
func (g *Generator) Size() uint64 { return g.size }

// Read fills p with the next bytes of the stream. It returns io.EOF, and no
// bytes, once a sized stream is complete; a read that reaches the end is
// short.
func (g *Generator) Read(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gen == nil {
		return 0, ErrClosed
	}
	return g.readLocked(p)
}

func (g *Generator) readLocked(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var written C.size_t
	err := check(C.dgen_go_fill(g.gen, unsafe.Pointer(&p[0]), C.size_t(len(p)), &written))
	runtime.KeepAlive(p)
	runtime.KeepAlive(g)
	if err != nil {
		return 0, err
	}
	if written == 0 {
		return 0, io.EOF
	}
	return int(written), nil
}

// ReadAt fills p with the bytes at offset off, as io.ReaderAt: it may be
// called from many goroutines at once and does not move the position of
// Read. On a sized stream a range that passes the end is filled up to the
// end and returns io.EOF with the count filled.
func (g *Generator) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &Error{Status: StatusOutOfRange, Message: fmt.Sprintf("offset must not be negative, got %d", off)}
	}
	n, eof := g.clip(len(p), uint64(off))
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.gen == nil {
		return 0, ErrClosed
	}
	if n > 0 {
		err := check(C.dgen_go_fill_at(g.gen, C.uint64_t(off), unsafe.Pointer(&p[0]), C.size_t(n)))
		runtime.KeepAlive(p)
		runtime.KeepAlive(g)
		if err != nil {
			return 0, err
		}
	}
	if eof {
		return n, io.EOF
	}
	return n, nil
}

// clip returns how many of len bytes at off lie inside the stream, and
// whether the range reaches past its end.
func (g *Generator) clip(length int, off uint64) (int, bool) {
	if g.size == 0 {
		return length, false
	}
	if off >= g.size {
		return 0, length > 0 || off > g.size
	}
	if rest := g.size - off; uint64(length) > rest {
		return int(rest), true
	}
	return length, false
}

// WriteTo writes the rest of the stream to w, as io.WriterTo, through one
// 1 MiB buffer; io.Copy(w, g) uses it. On an endless stream it runs until w
// returns an error. ReadAt may run while it does.
func (g *Generator) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, 1<<20)
	var total int64
	for {
		g.mu.Lock()
		var n int
		var err error
		if g.gen == nil {
			err = ErrClosed
		} else {
			n, err = g.readLocked(buf)
		}
		g.mu.Unlock()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		m, werr := w.Write(buf[:n])
		total += int64(m)
		if werr != nil {
			return total, werr
		}
		if m != n {
			return total, io.ErrShortWrite
		}
	}
}

// Verify checks that p holds the stream's bytes at offset off. It returns
// nil when every byte matches, a *MismatchError with the offset of the first
// wrong byte when one differs, and an *Error for a range outside the stream.
// Safe for concurrent use.
func (g *Generator) Verify(p []byte, off int64) error {
	if off < 0 {
		return &Error{Status: StatusOutOfRange, Message: fmt.Sprintf("offset must not be negative, got %d", off)}
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.gen == nil {
		return ErrClosed
	}
	if len(p) == 0 {
		return nil
	}
	var at C.uint64_t
	r := C.dgen_go_verify_at(g.gen, C.uint64_t(off), unsafe.Pointer(&p[0]), C.size_t(len(p)), &at)
	if r.status == C.DGEN_STATUS_MISMATCH {
		i := uint64(at) - uint64(off)
		var want [1]byte
		if err := check(C.dgen_go_fill_at(g.gen, at, unsafe.Pointer(&want[0]), 1)); err != nil {
			return err
		}
		err := &MismatchError{Offset: int64(at), Expected: want[0], Found: p[i]}
		runtime.KeepAlive(p)
		runtime.KeepAlive(g)
		return err
	}
	runtime.KeepAlive(p)
	runtime.KeepAlive(g)
	return check(r)
}

// Close releases the generator. It is safe to call more than once, and
// waits for reads in progress on other goroutines; calls after it return
// ErrClosed.
func (g *Generator) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.freeLocked()
	runtime.SetFinalizer(g, nil)
	return nil
}

func (g *Generator) free() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.freeLocked()
}

func (g *Generator) freeLocked() {
	if g.gen != nil {
		C.dgen_free(g.gen)
		g.gen = nil
	}
}

// Topology describes the machine as the library sees it, as JSON: NUMA
// nodes and their CPUs, the CPUs this process may use, and where a
// generator made from cfg would run its threads.
func Topology(cfg Config) (string, error) {
	c, err := cfg.toC()
	if err != nil {
		return "", err
	}
	// Ask for the length with an empty buffer (OUT_OF_RANGE with needed
	// set), then fill; ask again if the text grew in between (CPUs going
	// online or offline).
	var needed C.size_t
	for attempt := 0; ; attempt++ {
		buf := make([]byte, int(needed))
		var p *C.char
		if len(buf) > 0 {
			p = (*C.char)(unsafe.Pointer(&buf[0]))
		}
		r := C.dgen_go_topology(&c, p, C.size_t(len(buf)), &needed)
		if r.status == C.DGEN_STATUS_OK {
			return string(buf[:needed-1]), nil
		}
		if r.status != C.DGEN_STATUS_OUT_OF_RANGE || int(needed) <= len(buf) || attempt == 3 {
			return "", check(r)
		}
		C.free(unsafe.Pointer(r.message))
	}
}

// check turns a call's result into nil or an *Error, freeing the message.
func check(r C.dgen_go_result) error {
	if r.status == C.DGEN_STATUS_OK {
		return nil
	}
	e := &Error{Status: Status(r.status)}
	if r.message != nil {
		e.Message = C.GoString(r.message)
		C.free(unsafe.Pointer(r.message))
	}
	return e
}

// Version returns the version of the linked libdgen, e.g. "0.1.0".
func Version() string { return C.GoString(C.dgen_version()) }
