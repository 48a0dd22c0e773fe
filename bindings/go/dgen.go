// Package dgen generates synthetic data for storage testing: bytes with a
// chosen deduplication ratio and compression ratio, reproducible from a seed
// and seekable, produced straight into the caller's buffer by libdgen.
//
// A Generator is an io.Reader (a stream that ends at Config.Size, or never
// when Size is 0), an io.Seeker, an io.ReaderAt that may be used from many
// goroutines at once, and an io.WriterTo, so io.Copy needs no extra buffer.
// Every byte is a pure function of the seed, the ratios, the dedup unit, the
// compressor, the size and the byte's offset: the same Config gives the same
// bytes in Go, C, C++, Rust and the dgen command, for any thread count and
// any read sizes.
//
//	g, err := dgen.New(dgen.Config{Size: 1 << 30, DedupRatio: 2, CompressRatio: 3, Seed: dgen.SeedOf(42)})
//	if err != nil { ... }
//	defer g.Close()
//	n, err := io.Copy(file, g)
//
// Generate does it in one call for data that fits in memory.
package dgen

/*
#include "result.h"

static dgen_go_result dgen_go_create(const dgen_config *cfg, dgen_generator **out) {
	return dgen_go_result_of(dgen_create(cfg, out));
}

static dgen_go_result dgen_go_compressor_from_name(const char *name, uint32_t *out) {
	return dgen_go_result_of(dgen_compressor_from_name(name, out));
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

static dgen_go_result dgen_go_seek(dgen_generator *gen, uint64_t position) {
	return dgen_go_result_of(dgen_seek(gen, position));
}

static dgen_go_result dgen_go_generate(const dgen_config *cfg, void *buf, size_t len) {
	return dgen_go_result_of(dgen_generate(cfg, buf, len));
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

// Compressor names the compressor that Config.CompressRatio is calibrated
// for (dgen_compressor in C).
type Compressor uint32

const (
	// CompressorAuto lays data out so that the geometric mean of zstd-1
	// and lz4 hits the target and every LZ-family compressor storage
	// systems run finds the copies (the zero value).
	CompressorAuto Compressor = C.DGEN_COMPRESSOR_AUTO
	// CompressorZstd tunes the layout for zstd.
	CompressorZstd Compressor = C.DGEN_COMPRESSOR_ZSTD
	// CompressorLz4 tunes it for lz4.
	CompressorLz4 Compressor = C.DGEN_COMPRESSOR_LZ4
	// CompressorGzip tunes it for deflate: zlib and gzip.
	CompressorGzip Compressor = C.DGEN_COMPRESSOR_GZIP
	// CompressorSnappy tunes it for snappy.
	CompressorSnappy Compressor = C.DGEN_COMPRESSOR_SNAPPY
	// CompressorLzo tunes it for LZO1X-1.
	CompressorLzo Compressor = C.DGEN_COMPRESSOR_LZO
	// CompressorLzjb tunes it for LZJB.
	CompressorLzjb Compressor = C.DGEN_COMPRESSOR_LZJB
)

// compressorNames are the names every face uses, indexed by value.
var compressorNames = [...]string{"auto", "zstd", "lz4", "gzip", "snappy", "lzo", "lzjb"}

// String gives the compressor's name ("zstd"), or Compressor(N) for a value
// that names none.
func (c Compressor) String() string {
	if int(c) < len(compressorNames) {
		return compressorNames[c]
	}
	return fmt.Sprintf("Compressor(%d)", uint32(c))
}

// ParseCompressor returns the compressor with this name: auto, zstd, lz4,
// gzip (also zlib or deflate), snappy, lzo (also lzo1x or lzo1x-1) or lzjb,
// in any letter case. Another name is an *Error with StatusInvalidCompressor.
func ParseCompressor(name string) (Compressor, error) {
	// The library's names and message, as every face reads them.
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var v C.uint32_t
	if err := callError(C.dgen_go_compressor_from_name(cname, &v)); err != nil {
		return CompressorAuto, err
	}
	return Compressor(v), nil
}

// MarshalText gives the name, so a Compressor reads well in JSON and other
// text formats.
func (c Compressor) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a name as ParseCompressor does (flag.TextVar and
// encoding/json use it).
func (c *Compressor) UnmarshalText(text []byte) error {
	v, err := ParseCompressor(string(text))
	if err == nil {
		*c = v
	}
	return err
}

// Config says what to generate. The zero value is valid: an endless stream
// of incompressible, unique bytes with a fresh random seed.
//
// The fields are checked in the order they are declared, and an error names
// the first bad one.
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
	// Seed selects the stream when set (any value, 0 included): write
	// SeedOf(42). Nil draws a fresh seed per generator, which
	// Generator.Seed reads back so the run can be repeated.
	Seed *uint64
	// Threads used for large reads; 0 means every CPU this process may run
	// on (or every such CPU of NumaNode). Up to 4096 is accepted and capped
	// at those CPUs; Generator.Threads reports the number in use. Leave CPUs
	// for I/O goroutines by asking for fewer, for example half of
	// runtime.NumCPU().
	Threads int
	// NumaMode places the threads; the zero value is NumaAuto.
	NumaMode NumaMode
	// NumaNode keeps the threads on that NUMA node's CPUs when set: write
	// NodeOf(1). Nil means any node.
	NumaNode *int
	// Compressor is the compressor CompressRatio is calibrated for; the zero
	// value, CompressorAuto, suits them all.
	Compressor Compressor
}

// SeedOf returns a pointer to seed, for Config.Seed.
func SeedOf(seed uint64) *uint64 { return &seed }

// NodeOf returns a pointer to node, for Config.NumaNode.
func NodeOf(node int) *int { return &node }

// toC converts the config field by field, in declaration order. A field Go
// can hold but C cannot (a negative thread count) stops it: the fields
// before it are set, the later ones keep the library's defaults, and the
// problem is returned for cConfig to report.
func (cfg Config) toC() (C.dgen_config, *Error) {
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
	if cfg.Seed != nil {
		c.seed = C.uint64_t(*cfg.Seed)
		c.has_seed = true
	}
	if cfg.Threads < 0 || uint64(cfg.Threads) > math.MaxUint32 {
		lo, hi, _ := ParamBounds(FieldThreads)
		return c, &Error{Status: StatusInvalidThreads,
			Message: fmt.Sprintf("threads must be from %.0f (all CPUs) to %.0f, got %d", lo, hi, cfg.Threads)}
	}
	c.threads = C.uint32_t(cfg.Threads)
	c.numa_mode = C.uint32_t(cfg.NumaMode)
	if cfg.NumaNode != nil {
		if n := *cfg.NumaNode; n < 0 || n > math.MaxInt32 {
			return c, &Error{Status: StatusInvalidConfig,
				Message: fmt.Sprintf("numa_node must be a NUMA node number (0 or more), got %d", n)}
		}
		c.numa_node = C.int32_t(*cfg.NumaNode)
	}
	c.compressor = C.uint32_t(cfg.Compressor)
	return c, nil
}

// cConfig converts the config for the library. A problem toC finds is
// reported only when the fields before it pass the library's checks, so the
// error always names the first bad field in declaration order, whichever
// side finds it.
func (cfg Config) cConfig() (C.dgen_config, error) {
	c, bad := cfg.toC()
	if bad == nil {
		return c, nil
	}
	if err := configCheck(&c); err != nil {
		return c, err
	}
	return c, bad
}

// Generator produces one stream. Read and WriteTo continue the stream from
// the position, which Seek moves; ReadAt and Verify reach any offset and may
// run from many goroutines at once. Close releases the library's memory and
// threads; a finalizer does it for a Generator that is dropped without Close,
// but threads and memory are held until the garbage collector runs, so call
// Close.
type Generator struct {
	// mu guards gen and pos: Read, WriteTo, Seek and Close take it for
	// writing, ReadAt and Verify for reading. The library lets dgen_fill,
	// dgen_seek and dgen_rewind run at once on one handle (only dgen_free
	// needs it alone); Read and Seek take the lock to keep pos, Go's copy
	// of the library's position, moving with it.
	mu   sync.RWMutex
	gen  *C.dgen_generator
	pos  uint64 // the library's position, which only calls under mu move
	size uint64
	seed uint64
	// threads is the library's worker count, after the cap at the CPUs.
	threads int
}

// New creates a generator. A bad config returns an *Error whose Status names
// the field (compare with errors.Is, e.g. ErrInvalidDedupRatio) and whose
// message gives the field and the value.
func New(cfg Config) (*Generator, error) {
	c, err := cfg.cConfig()
	if err != nil {
		return nil, err
	}
	var h *C.dgen_generator
	if err := callError(C.dgen_go_create(&c, &h)); err != nil {
		return nil, err
	}
	g := &Generator{gen: h, size: cfg.Size, seed: uint64(C.dgen_seed(h)), threads: int(C.dgen_threads(h))}
	runtime.SetFinalizer(g, (*Generator).free)
	return g, nil
}

// Generate returns the whole of a sized stream: Config.Size bytes, the same
// bytes a Generator's ReadAt(p, 0) gives. Size 0 (an endless stream) and
// sizes no slice can hold are an *Error naming size; the other fields are
// checked as New checks them. Without a Seed each call draws a fresh one,
// which is not reported: use New to read it back.
func Generate(cfg Config) ([]byte, error) {
	if cfg.Size == 0 || cfg.Size > math.MaxInt {
		return nil, &Error{Status: StatusInvalidConfig, Message: fmt.Sprintf(
			"size must be from 1 to %d bytes for Generate (0 is an endless stream), got %d", math.MaxInt, cfg.Size)}
	}
	c, err := cfg.cConfig()
	if err != nil {
		return nil, err
	}
	out := make([]byte, int(cfg.Size))
	err = callError(C.dgen_go_generate(&c, unsafe.Pointer(&out[0]), C.size_t(len(out))))
	runtime.KeepAlive(out)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Seed returns the seed of the stream: Config.Seed, or the one drawn when it
// was nil, so that the run can be repeated.
func (g *Generator) Seed() uint64 { return g.seed }

// Size returns Config.Size: the length of the stream, 0 for endless.
func (g *Generator) Size() uint64 { return g.size }

// Threads returns the worker threads the library uses for large reads:
// Config.Threads, or every CPU the process may use when it was 0, capped at
// those CPUs.
func (g *Generator) Threads() int { return g.threads }

// Position returns the offset the next Read starts at.
func (g *Generator) Position() uint64 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.pos
}

// IsComplete reports whether a sized stream's position is at its end, so
// Read returns io.EOF; never for an endless stream.
func (g *Generator) IsComplete() bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.size != 0 && g.pos >= g.size
}

// Seek moves the position Read and WriteTo continue from, as io.Seeker.
// A position before 0 or past the end of a sized stream is an *Error with
// StatusOutOfRange and leaves the position alone; the end itself is allowed
// (Read then returns io.EOF). io.SeekEnd on an endless stream is an error
// too, as it has no end.
func (g *Generator) Seek(offset int64, whence int) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gen == nil {
		return 0, ErrClosed
	}
	var base uint64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = g.pos
	case io.SeekEnd:
		if g.size == 0 {
			return 0, &Error{Status: StatusOutOfRange, Message: "cannot seek from the end of an endless stream (size 0)"}
		}
		base = g.size
	default:
		return 0, &Error{Status: StatusOutOfRange,
			Message: fmt.Sprintf("whence must be io.SeekStart, io.SeekCurrent or io.SeekEnd, got %d", whence)}
	}
	// base + offset in uint64, with its wrap-around detected: a negative
	// offset must land below base, a positive one at or above it.
	target := base + uint64(offset)
	if (offset < 0) != (target < base) || target > math.MaxInt64 {
		return 0, &Error{Status: StatusOutOfRange,
			Message: fmt.Sprintf("seek to %d%+d is outside 0 to 2^63 - 1", base, offset)}
	}
	if err := callError(C.dgen_go_seek(g.gen, C.uint64_t(target))); err != nil {
		return 0, err
	}
	g.pos = target
	return int64(target), nil
}

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
	err := callError(C.dgen_go_fill(g.gen, unsafe.Pointer(&p[0]), C.size_t(len(p)), &written))
	runtime.KeepAlive(p)
	runtime.KeepAlive(g)
	if err != nil {
		return 0, err
	}
	if written == 0 {
		return 0, io.EOF
	}
	g.pos += uint64(written)
	return int(written), nil
}

// ReadAt fills p with the bytes at offset off, as io.ReaderAt: it may be
// called from many goroutines at once and does not move the position of
// Read. On a sized stream a range that passes the end is filled up to the
// end and returns io.EOF with the count filled, as io.ReaderAt asks (an
// offset past the end gives 0 and io.EOF); Verify, which checks rather than
// reads, refuses such ranges instead.
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
		err := callError(C.dgen_go_fill_at(g.gen, C.uint64_t(off), unsafe.Pointer(&p[0]), C.size_t(n)))
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
// wrong byte when one differs, and an *Error with StatusOutOfRange for a
// range outside the stream, as in C, C++ and Rust: an empty p at an offset
// past the end of a sized stream is outside it too (at the end it is not).
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
	// An empty p still goes to the library, which checks its offset.
	var first unsafe.Pointer
	if len(p) > 0 {
		first = unsafe.Pointer(&p[0])
	}
	var at C.uint64_t
	r := C.dgen_go_verify_at(g.gen, C.uint64_t(off), first, C.size_t(len(p)), &at)
	if r.status == C.DGEN_STATUS_MISMATCH {
		i := uint64(at) - uint64(off)
		var want [1]byte
		if err := callError(C.dgen_go_fill_at(g.gen, at, unsafe.Pointer(&want[0]), 1)); err != nil {
			return err
		}
		err := &MismatchError{Offset: int64(at), Expected: want[0], Actual: p[i], Found: p[i]}
		runtime.KeepAlive(p)
		runtime.KeepAlive(g)
		return err
	}
	runtime.KeepAlive(p)
	runtime.KeepAlive(g)
	return callError(r)
}

// Close releases the generator, waiting for reads in progress on other
// goroutines. It always returns nil, a second Close included; Read, ReadAt,
// Verify, WriteTo and Seek after it return ErrClosed (Seed, Size, Threads,
// Position and IsComplete keep answering from what the generator last knew).
func (g *Generator) Close() error { return closed(g, g.free) }

func (g *Generator) free() { locked(&g.mu, g.freeLocked) }

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
	c, err := cfg.cConfig()
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
			return "", callError(r)
		}
		C.free(unsafe.Pointer(r.message))
	}
}

// callError turns a call's result into nil or an *Error, freeing the message.
func callError(r C.dgen_go_result) error {
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

// closed frees a wrapper's C object with free and drops the finalizer that
// would have: what Close does, returning nil.
func closed(wrapper any, free func()) error {
	free()
	runtime.SetFinalizer(wrapper, nil)
	return nil
}

// locked runs f holding mu: the wrappers' free, which a finalizer calls,
// takes the lock that Close takes.
func locked(mu sync.Locker, f func()) {
	mu.Lock()
	defer mu.Unlock()
	f()
}

// Version returns the version of the linked libdgen, e.g. "0.1.0".
func Version() string { return C.GoString(C.dgen_version()) }
