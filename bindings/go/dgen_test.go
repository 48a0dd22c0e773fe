package dgen_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"sync"
	"testing"

	dgen "github.com/libdgen/dgen/bindings/go"
	"github.com/libdgen/dgen/bindings/go/internal/cloop"
)

// A Generator is every io interface it promises.
var _ interface {
	io.ReadSeeker
	io.ReaderAt
	io.WriterTo
	io.Closer
} = (*dgen.Generator)(nil)

// The SHA-256 of the first 16 MiB of goldenConfig; ffi/src/tests.rs and
// tests/c/golden.h assert the same constant, so Go, C and Rust agree.
const golden16MiB = "4a84921f9562c02d4836b178f56a0f0dd023496020d67947817f0430c141eb0a"

var goldenConfig = dgen.Config{
	Size: 1 << 30, DedupRatio: 2.5, CompressRatio: 3.0, DedupUnit: 8192, Seed: dgen.SeedOf(42),
}

func mustNew(t testing.TB, cfg dgen.Config) *dgen.Generator {
	t.Helper()
	g, err := dgen.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// reference returns the whole of a sized stream, read with one ReadAt.
func reference(t testing.TB, cfg dgen.Config) []byte {
	t.Helper()
	g := mustNew(t, cfg)
	buf := make([]byte, cfg.Size)
	if n, err := g.ReadAt(buf, 0); n != len(buf) || err != nil {
		t.Fatalf("ReadAt(whole stream) = %d, %v", n, err)
	}
	return buf
}

func TestGoldenSHA256MatchesCAndRust(t *testing.T) {
	g := mustNew(t, goldenConfig)
	h := sha256.New()
	// Odd read sizes: the stream does not depend on them.
	buf := make([]byte, 1_000_000)
	left := 16 << 20
	for left > 0 {
		want := len(buf)
		if left < want {
			want = left
		}
		n, err := g.Read(buf[:want])
		if err != nil {
			t.Fatal(err)
		}
		h.Write(buf[:n])
		left -= n
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != golden16MiB {
		t.Fatalf("SHA-256 of the first 16 MiB = %s, want %s", got, golden16MiB)
	}
}

func TestReadStreamsTheSizedStreamThenEOF(t *testing.T) {
	cfg := dgen.Config{Size: 10<<20 + 123, DedupRatio: 2, CompressRatio: 3, Seed: dgen.SeedOf(7)}
	want := reference(t, cfg)
	g := mustNew(t, cfg)
	var got []byte
	sizes := []int{1, 4095, 1 << 20, 7, 3 << 20, 65536 + 13}
	for i := 0; ; i++ {
		buf := make([]byte, sizes[i%len(sizes)])
		n, err := g.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			if n != 0 {
				t.Fatalf("io.EOF came with %d bytes", n)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("Read returned 0 bytes and no error")
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("streamed %d bytes that differ from ReadAt's %d", len(got), len(want))
	}
	if n, err := g.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Fatalf("Read after the end = %d, %v; want 0, io.EOF", n, err)
	}
	if n, err := g.Read(nil); n != 0 || err != nil {
		t.Fatalf("Read(nil) = %d, %v; want 0, nil", n, err)
	}
}

func TestReadAtFromManyGoroutines(t *testing.T) {
	cfg := dgen.Config{Size: 8 << 20, DedupRatio: 4, CompressRatio: 2, Seed: dgen.SeedOf(11), Threads: 2}
	want := reference(t, cfg)
	g := mustNew(t, cfg)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				off := (w*7919 + i*104729) % (len(want) - 70000)
				n := 1 + (w*31+i*17)%70000
				buf := make([]byte, n)
				if got, err := g.ReadAt(buf, int64(off)); got != n || err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(buf, want[off:off+n]) {
					errs <- errors.New("ReadAt bytes differ from the reference")
					return
				}
			}
		}(w)
	}
	// A stream reader at the same time: it must neither disturb ReadAt nor
	// be disturbed.
	wg.Add(1)
	go func() {
		defer wg.Done()
		got, err := io.ReadAll(g)
		if err != nil || !bytes.Equal(got, want) {
			errs <- errors.New("Read alongside ReadAt gave other bytes")
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestReadAtEdges(t *testing.T) {
	g := mustNew(t, dgen.Config{Size: 10000, Seed: dgen.SeedOf(3)})
	full := make([]byte, 10000)
	if n, err := g.ReadAt(full, 0); n != 10000 || err != nil {
		t.Fatalf("ReadAt(all) = %d, %v", n, err)
	}
	buf := make([]byte, 100)
	if n, err := g.ReadAt(buf, 9950); n != 50 || err != io.EOF || !bytes.Equal(buf[:50], full[9950:]) {
		t.Fatalf("ReadAt across the end = %d, %v; want 50, io.EOF", n, err)
	}
	if n, err := g.ReadAt(buf, 10000); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at the end = %d, %v; want 0, io.EOF", n, err)
	}
	if n, err := g.ReadAt(buf, 1<<40); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt far past the end = %d, %v; want 0, io.EOF", n, err)
	}
	if _, err := g.ReadAt(buf, -1); !errors.Is(err, dgen.ErrOutOfRange) || !strings.Contains(err.Error(), "-1") {
		t.Fatalf("ReadAt(-1) = %v; want ErrOutOfRange naming -1", err)
	}
	// An endless stream reaches the largest offset io.ReaderAt can name.
	e := mustNew(t, dgen.Config{DedupRatio: 3.7, Seed: dgen.SeedOf(1)})
	if n, err := e.ReadAt(buf, math.MaxInt64-int64(len(buf))); n != len(buf) || err != nil {
		t.Fatalf("ReadAt near 2^63 = %d, %v", n, err)
	}
}

func TestIOCopyWritesTheWholeStream(t *testing.T) {
	cfg := dgen.Config{Size: 5<<20 + 1, DedupRatio: 2, CompressRatio: 2, Seed: dgen.SeedOf(5)}
	want := reference(t, cfg)
	g := mustNew(t, cfg)
	var out bytes.Buffer
	n, err := io.Copy(&out, g)
	if err != nil || n != int64(len(want)) || !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("io.Copy = %d, %v; want %d identical bytes", n, err, len(want))
	}
	// A writer that fails stops WriteTo with its error and the count written.
	g2 := mustNew(t, cfg)
	boom := errors.New("disk full")
	n, err = g2.WriteTo(&failingWriter{limit: 3 << 20, err: boom})
	if !errors.Is(err, boom) || n != 3<<20 {
		t.Fatalf("WriteTo into a failing writer = %d, %v; want %d, %v", n, err, 3<<20, boom)
	}
}

type failingWriter struct {
	limit, done int
	err         error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.done+len(p) > w.limit {
		n := w.limit - w.done
		w.done = w.limit
		return n, w.err
	}
	w.done += len(p)
	return len(p), nil
}

func TestVerifyFindsAFlippedByte(t *testing.T) {
	cfg := dgen.Config{Size: 4 << 20, DedupRatio: 2, CompressRatio: 3, Seed: dgen.SeedOf(9)}
	g := mustNew(t, cfg)
	const off = 1<<20 + 17
	buf := make([]byte, 256<<10)
	if _, err := g.ReadAt(buf, off); err != nil {
		t.Fatal(err)
	}
	if err := g.Verify(buf, off); err != nil {
		t.Fatalf("Verify(good data) = %v", err)
	}
	for _, i := range []int{0, 12345, len(buf) - 1} {
		good := buf[i]
		buf[i] ^= 0x10
		err := g.Verify(buf, off)
		var m *dgen.MismatchError
		if !errors.As(err, &m) || m.Offset != off+int64(i) || m.Expected != good || m.Found != good^0x10 {
			t.Fatalf("flipped byte %d: Verify = %v; want a MismatchError at %d", i, err, off+i)
		}
		if !errors.Is(err, dgen.ErrMismatch) || !strings.Contains(err.Error(), "offset ") {
			t.Fatalf("mismatch error %q does not match ErrMismatch or lacks the offset", err)
		}
		buf[i] = good
	}
	// Data checked at the wrong offset differs too.
	if err := g.Verify(buf, off+4096); !errors.Is(err, dgen.ErrMismatch) {
		t.Fatalf("Verify at another offset = %v; want a mismatch", err)
	}
	if err := g.Verify(buf, int64(cfg.Size)-100); !errors.Is(err, dgen.ErrOutOfRange) {
		t.Fatalf("Verify past the end = %v; want ErrOutOfRange", err)
	}
	if err := g.Verify(buf, -5); !errors.Is(err, dgen.ErrOutOfRange) {
		t.Fatalf("Verify(-5) = %v; want ErrOutOfRange", err)
	}
}

func TestBadConfigsNameTheFieldAndValue(t *testing.T) {
	cases := []struct {
		cfg      dgen.Config
		sentinel error
		words    []string
	}{
		{dgen.Config{DedupRatio: 0.5}, dgen.ErrInvalidDedupRatio, []string{"dedup_ratio", "0.5"}},
		{dgen.Config{DedupRatio: -1}, dgen.ErrInvalidDedupRatio, []string{"dedup_ratio", "-1"}},
		{dgen.Config{DedupRatio: math.NaN()}, dgen.ErrInvalidDedupRatio, []string{"dedup_ratio", "NaN"}},
		{dgen.Config{DedupRatio: math.Inf(1)}, dgen.ErrInvalidDedupRatio, []string{"dedup_ratio", "inf"}},
		{dgen.Config{DedupRatio: 5000}, dgen.ErrInvalidDedupRatio, []string{"dedup_ratio", "5000"}},
		{dgen.Config{CompressRatio: 0.9}, dgen.ErrInvalidCompressRatio, []string{"compress_ratio", "0.9"}},
		{dgen.Config{CompressRatio: 1e9}, dgen.ErrInvalidCompressRatio, []string{"compress_ratio"}},
		{dgen.Config{CompressRatio: math.Inf(-1)}, dgen.ErrInvalidCompressRatio, []string{"compress_ratio", "inf"}},
		{dgen.Config{DedupUnit: 1000}, dgen.ErrInvalidDedupUnit, []string{"dedup_unit", "1000"}},
		{dgen.Config{DedupUnit: 1 << 31}, dgen.ErrInvalidDedupUnit, []string{"dedup_unit", "2147483648"}},
		{dgen.Config{Threads: -1}, dgen.ErrInvalidThreads, []string{"threads", "-1"}},
		{dgen.Config{Threads: 5000}, dgen.ErrInvalidThreads, []string{"threads", "5000"}},
		{dgen.Config{Threads: 1 << 40}, dgen.ErrInvalidThreads, []string{"threads", "1099511627776"}},
		{dgen.Config{NumaMode: 7}, dgen.ErrInvalidConfig, []string{"numa_mode", "7"}},
		{dgen.Config{NumaNode: dgen.NodeOf(4096)}, dgen.ErrInvalidConfig, []string{"numa_node", "4096"}},
		{dgen.Config{NumaNode: dgen.NodeOf(-2)}, dgen.ErrInvalidConfig, []string{"numa_node", "-2"}},
		{dgen.Config{NumaNode: dgen.NodeOf(-1)}, dgen.ErrInvalidConfig, []string{"numa_node", "-1"}},
		{dgen.Config{NumaNode: dgen.NodeOf(1 << 40)}, dgen.ErrInvalidConfig, []string{"numa_node", "1099511627776"}},
		{dgen.Config{Compressor: 7}, dgen.ErrInvalidCompressor, []string{"compressor", "got 7"}},
	}
	for _, c := range cases {
		g, err := dgen.New(c.cfg)
		if g != nil || err == nil {
			t.Errorf("New(%+v) succeeded", c.cfg)
			continue
		}
		var e *dgen.Error
		if !errors.As(err, &e) || !errors.Is(err, c.sentinel) {
			t.Errorf("New(%+v) = %v (%T); want %v", c.cfg, err, err, c.sentinel)
			continue
		}
		for _, w := range c.words {
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) {
				t.Errorf("New(%+v) error %q does not name %q", c.cfg, err, w)
			}
		}
		// The sentinel of another status does not match.
		if errors.Is(err, dgen.ErrOutOfRange) {
			t.Errorf("%v matched ErrOutOfRange", err)
		}
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	g, err := dgen.New(dgen.Config{Size: 1 << 20, Seed: dgen.SeedOf(1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	buf := make([]byte, 10)
	if _, err := g.Read(buf); err != dgen.ErrClosed {
		t.Errorf("Read after Close = %v", err)
	}
	if _, err := g.ReadAt(buf, 0); err != dgen.ErrClosed {
		t.Errorf("ReadAt after Close = %v", err)
	}
	if err := g.Verify(buf, 0); err != dgen.ErrClosed {
		t.Errorf("Verify after Close = %v", err)
	}
	if _, err := g.WriteTo(io.Discard); err != dgen.ErrClosed {
		t.Errorf("WriteTo after Close = %v", err)
	}
	if g.Seed() != 1 {
		t.Errorf("Seed after Close = %d", g.Seed())
	}
}

func TestCloseWhileReadersRun(t *testing.T) {
	g, err := dgen.New(dgen.Config{Seed: dgen.SeedOf(2)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			for i := 0; ; i++ {
				if _, err := g.ReadAt(buf, int64(w*i)<<16); err != nil {
					if err != dgen.ErrClosed {
						t.Errorf("ReadAt = %v; want nil or ErrClosed", err)
					}
					return
				}
			}
		}(w)
	}
	buf := make([]byte, 1<<20)
	for i := 0; i < 20; i++ {
		if _, err := g.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	g.Close()
	wg.Wait()
}

func TestSeedsAndThreads(t *testing.T) {
	a := mustNew(t, dgen.Config{Size: 1 << 20})
	b := mustNew(t, dgen.Config{Size: 1 << 20})
	if a.Seed() == b.Seed() {
		t.Fatalf("two unseeded generators drew the same seed %d", a.Seed())
	}
	first := make([]byte, 1<<20)
	if _, err := a.ReadAt(first, 0); err != nil {
		t.Fatal(err)
	}
	// The seed read back repeats the run, with any thread count.
	for _, threads := range []int{1, 2, 3} {
		again := reference(t, dgen.Config{Size: 1 << 20, Seed: dgen.SeedOf(a.Seed()), Threads: threads})
		if !bytes.Equal(first, again) {
			t.Fatalf("seed %d with %d threads gave other bytes", a.Seed(), threads)
		}
	}
	other := make([]byte, 1<<20)
	if _, err := b.ReadAt(other, 0); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first, other) {
		t.Fatal("different seeds gave the same bytes")
	}
}

func TestTopologyAndVersion(t *testing.T) {
	text, err := dgen.Topology(dgen.Config{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	var topo struct {
		Nodes     []struct{ Node int } `json:"nodes"`
		Placement struct {
			Threads int `json:"threads"`
		} `json:"placement"`
	}
	if err := json.Unmarshal([]byte(text), &topo); err != nil {
		t.Fatalf("Topology is not JSON: %v\n%s", err, text)
	}
	if len(topo.Nodes) == 0 || topo.Placement.Threads != 1 {
		t.Fatalf("Topology = %s; want nodes and 1 thread", text)
	}
	if _, err := dgen.Topology(dgen.Config{NumaNode: dgen.NodeOf(4096)}); !errors.Is(err, dgen.ErrInvalidConfig) {
		t.Fatalf("Topology(node 4096) = %v; want ErrInvalidConfig", err)
	}
	if v := dgen.Version(); strings.Count(v, ".") != 2 {
		t.Fatalf("Version() = %q", v)
	}
	if s := dgen.StatusOutOfRange.String(); !strings.HasPrefix(s, "DGEN_STATUS_OUT_OF_RANGE") {
		t.Fatalf("StatusOutOfRange.String() = %q", s)
	}
}

// A seed that is set is used, 0 included; no flag has to go with it.
func TestASeedThatIsSetIsHonoured(t *testing.T) {
	for _, seed := range []uint64{42, 0, math.MaxUint64} {
		g := mustNew(t, dgen.Config{Size: 1 << 20, Seed: dgen.SeedOf(seed)})
		if g.Seed() != seed {
			t.Fatalf("Config{Seed: SeedOf(%d)} gave Seed() = %d", seed, g.Seed())
		}
	}
	a := reference(t, dgen.Config{Size: 1 << 20, Seed: dgen.SeedOf(42)})
	b := reference(t, dgen.Config{Size: 1 << 20, Seed: dgen.SeedOf(42), Threads: 1})
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave other bytes")
	}
}

// The first bad field in declaration order is named, whether the Go side or
// the library finds it.
func TestTheFirstBadFieldIsNamed(t *testing.T) {
	cfg := dgen.Config{DedupRatio: math.NaN(), Threads: -1, NumaMode: 9, NumaNode: dgen.NodeOf(-3), Compressor: 99}
	steps := []struct {
		sentinel error
		field    string
		fix      func()
	}{
		{dgen.ErrInvalidDedupRatio, "dedup_ratio", func() { cfg.DedupRatio = 2 }},
		{dgen.ErrInvalidThreads, "threads", func() { cfg.Threads = 1 << 40 }},
		{dgen.ErrInvalidThreads, "threads", func() { cfg.Threads = 5000 }},
		{dgen.ErrInvalidThreads, "threads", func() { cfg.Threads = 0 }},
		{dgen.ErrInvalidConfig, "numa_mode", func() { cfg.NumaMode = dgen.NumaOff }},
		{dgen.ErrInvalidConfig, "numa_node", func() { cfg.NumaNode = dgen.NodeOf(4000) }},
		{dgen.ErrInvalidConfig, "numa_node", func() { cfg.NumaNode = nil }},
		{dgen.ErrInvalidCompressor, "compressor", func() { cfg.Compressor = dgen.CompressorZstd }},
	}
	for _, step := range steps {
		for name, call := range map[string]func() error{
			"New":      func() error { _, err := dgen.New(cfg); return err },
			"Generate": func() error { c := cfg; c.Size = 100; _, err := dgen.Generate(c); return err },
			"Topology": func() error { _, err := dgen.Topology(cfg); return err },
		} {
			err := call()
			if !errors.Is(err, step.sentinel) || !strings.HasPrefix(err.Error(), "dgen: "+step.field+" ") {
				t.Fatalf("%s(%+v) = %v; want %v naming %s", name, cfg, err, step.sentinel, step.field)
			}
		}
		step.fix()
	}
	mustNew(t, cfg)
}

// An empty range is checked like any other: fine at the end of a sized
// stream, out of range past it, as in C, C++ and Rust.
func TestAnEmptyRangePastTheEndIsOutOfRange(t *testing.T) {
	g := mustNew(t, dgen.Config{Size: 8192, Seed: dgen.SeedOf(1)})
	if err := g.Verify(nil, 8192); err != nil {
		t.Fatalf("Verify(empty, at the end) = %v", err)
	}
	for _, off := range []int64{8193, 1 << 40} {
		err := g.Verify([]byte{}, off)
		if !errors.Is(err, dgen.ErrOutOfRange) || !strings.Contains(err.Error(), "length 0") {
			t.Fatalf("Verify(empty, %d) = %v; want ErrOutOfRange", off, err)
		}
	}
}

func TestSeekPositionAndIsComplete(t *testing.T) {
	const size = 100000
	cfg := dgen.Config{Size: size, CompressRatio: 2, Seed: dgen.SeedOf(6)}
	all := reference(t, cfg)
	g := mustNew(t, cfg)
	if g.Position() != 0 || g.IsComplete() {
		t.Fatal("a new generator is not at 0")
	}
	buf := make([]byte, 1000)
	if pos, err := g.Seek(70000, io.SeekStart); pos != 70000 || err != nil {
		t.Fatalf("Seek(70000) = %d, %v", pos, err)
	}
	if _, err := io.ReadFull(g, buf); err != nil || !bytes.Equal(buf, all[70000:71000]) || g.Position() != 71000 {
		t.Fatalf("Read after Seek = %v; position %d", err, g.Position())
	}
	if pos, err := g.Seek(-1000, io.SeekCurrent); pos != 70000 || err != nil {
		t.Fatalf("Seek(-1000, current) = %d, %v", pos, err)
	}
	for _, bad := range []struct {
		off    int64
		whence int
	}{{size + 1, io.SeekStart}, {1, io.SeekEnd}, {-70001, io.SeekCurrent}, {math.MaxInt64, io.SeekCurrent},
		{math.MinInt64, io.SeekEnd}, {-1, io.SeekStart}, {0, 7}} {
		if _, err := g.Seek(bad.off, bad.whence); !errors.Is(err, dgen.ErrOutOfRange) {
			t.Fatalf("Seek(%d, %d) = %v; want ErrOutOfRange", bad.off, bad.whence, err)
		}
		if g.Position() != 70000 {
			t.Fatalf("a refused Seek(%d, %d) moved the position to %d", bad.off, bad.whence, g.Position())
		}
	}
	if _, err := g.Seek(size+1, io.SeekStart); !strings.Contains(err.Error(), "passes the end of the stream") {
		t.Fatalf("Seek past the end: %v", err)
	}
	if pos, err := g.Seek(-1000, io.SeekEnd); pos != size-1000 || err != nil {
		t.Fatalf("Seek(-1000, end) = %d, %v", pos, err)
	}
	if n, err := g.Read(make([]byte, 4000)); n != 1000 || err != nil || !g.IsComplete() {
		t.Fatalf("Read at the end = %d, %v; complete %v", n, err, g.IsComplete())
	}
	if n, err := g.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read after the end = %d, %v", n, err)
	}
	if pos, err := g.Seek(0, io.SeekStart); pos != 0 || err != nil || g.IsComplete() {
		t.Fatalf("Seek(0) = %d, %v", pos, err)
	}
	var out bytes.Buffer
	if n, err := io.Copy(&out, g); n != size || err != nil || !bytes.Equal(out.Bytes(), all) {
		t.Fatalf("io.Copy after rewinding = %d, %v", n, err)
	}
	endless := mustNew(t, dgen.Config{Seed: dgen.SeedOf(1)})
	if _, err := endless.Seek(0, io.SeekEnd); !errors.Is(err, dgen.ErrOutOfRange) {
		t.Fatalf("Seek from the end of an endless stream = %v", err)
	}
	if pos, err := endless.Seek(math.MaxInt64, io.SeekStart); pos != math.MaxInt64 || err != nil {
		t.Fatalf("Seek(MaxInt64) on an endless stream = %d, %v", pos, err)
	}
	g.Close()
	if _, err := g.Seek(0, io.SeekStart); err != dgen.ErrClosed {
		t.Fatalf("Seek after Close = %v", err)
	}
}

func TestGenerateEqualsReadAt(t *testing.T) {
	cfg := dgen.Config{Size: 3<<20 + 5, DedupRatio: 2, CompressRatio: 3, Seed: dgen.SeedOf(8)}
	got, err := dgen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := reference(t, cfg); !bytes.Equal(got, want) {
		t.Fatal("Generate differs from ReadAt")
	}
	_, err = dgen.Generate(dgen.Config{DedupRatio: 0.5})
	if !errors.Is(err, dgen.ErrInvalidConfig) || !strings.HasPrefix(err.Error(), "dgen: size must be") {
		t.Fatalf("Generate(size 0) = %v; want ErrInvalidConfig naming size", err)
	}
	_, err = dgen.Generate(dgen.Config{Size: 10, DedupRatio: 0.5})
	if !errors.Is(err, dgen.ErrInvalidDedupRatio) {
		t.Fatalf("Generate(dedup 0.5) = %v", err)
	}
}

func TestThreadsAreCappedAtTheCPUs(t *testing.T) {
	all := mustNew(t, dgen.Config{})
	many := mustNew(t, dgen.Config{Threads: 4096})
	if all.Threads() < 1 || many.Threads() != all.Threads() {
		t.Fatalf("Threads() = %d with 4096 asked, %d with 0", many.Threads(), all.Threads())
	}
	if one := mustNew(t, dgen.Config{Threads: 1}); one.Threads() != 1 {
		t.Fatalf("Threads() = %d with 1 asked", one.Threads())
	}
}

// The compressor setting reaches the library: the bytes are those the C ABI
// gives with the same compressor, and a value that names none is refused.
func TestCompressorReachesTheLibrary(t *testing.T) {
	for c := dgen.CompressorAuto; c <= dgen.CompressorLzjb; c++ {
		want, err := cloop.Generate(cloop.Config{DedupRatio: 2, CompressRatio: 3, Seed: 4, Compressor: uint32(c)}, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		g := mustNew(t, dgen.Config{DedupRatio: 2, CompressRatio: 3, Seed: dgen.SeedOf(4), Compressor: c})
		got := make([]byte, 1<<20)
		if _, err := g.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("compressor %v: bytes differ from C's (%v)", c, err)
		}
		back, err := dgen.ParseCompressor(strings.ToUpper(c.String()))
		if err != nil || back != c {
			t.Fatalf("ParseCompressor(%q) = %v, %v", c.String(), back, err)
		}
	}
	_, err := dgen.New(dgen.Config{Compressor: dgen.CompressorLzjb + 1})
	want := "dgen: compressor must be a dgen_compressor: DGEN_COMPRESSOR_AUTO (0) to DGEN_COMPRESSOR_LZJB (6), got 7"
	if !errors.Is(err, dgen.ErrInvalidCompressor) || err.Error() != want {
		t.Fatalf("New(Compressor 7) = %v", err)
	}
	for name, c := range map[string]dgen.Compressor{"zlib": dgen.CompressorGzip, " Deflate ": dgen.CompressorGzip,
		"lzo1x-1": dgen.CompressorLzo, "auto": dgen.CompressorAuto} {
		if got, err := dgen.ParseCompressor(name); got != c || err != nil {
			t.Fatalf("ParseCompressor(%q) = %v, %v", name, got, err)
		}
	}
	_, err = dgen.ParseCompressor("brotli")
	if !errors.Is(err, dgen.ErrInvalidCompressor) ||
		err.Error() != "dgen: compressor must be one of auto, zstd, lz4, gzip, snappy, lzo, lzjb, got brotli" {
		t.Fatalf("ParseCompressor(brotli) = %v", err)
	}
	if s := dgen.Compressor(9).String(); s != "Compressor(9)" {
		t.Fatalf("Compressor(9).String() = %q", s)
	}
	var cfg struct{ Compressor dgen.Compressor }
	if err := json.Unmarshal([]byte(`{"Compressor":"snappy"}`), &cfg); err != nil || cfg.Compressor != dgen.CompressorSnappy {
		t.Fatalf("JSON compressor = %v, %v", cfg.Compressor, err)
	}
	if text, _ := json.Marshal(cfg); string(text) != `{"Compressor":"snappy"}` {
		t.Fatalf("JSON = %s", text)
	}
}
