package dgen_test

import (
	"testing"
	"time"

	dgen "github.com/libdgen/dgen/bindings/go"
	"github.com/libdgen/dgen/bindings/go/internal/cloop"
)

// The benchmarks report MB/s through Go and, as "%_of_C", the share of the
// speed of the same calls made in a C loop in the same run (the machine may
// be noisy; the ratio of two runs side by side is what to compare).
//
//	go test -run - -bench . -count 3

var benchConfig = cloop.Config{DedupRatio: 2, CompressRatio: 2, Seed: 42}

func newBench(b *testing.B) *dgen.Generator {
	g, err := dgen.New(dgen.Config{DedupRatio: benchConfig.DedupRatio, CompressRatio: benchConfig.CompressRatio,
		Seed: dgen.SeedOf(benchConfig.Seed)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.Close() })
	return g
}

func reportShareOfC(b *testing.B, goSeconds, cSeconds float64) {
	if goSeconds > 0 && cSeconds > 0 {
		b.ReportMetric(100*cSeconds/goSeconds, "%_of_C")
	}
}

// Read with 1 MiB buffers (a stream, as io.Copy would read it).
func BenchmarkRead1MiB(b *testing.B) {
	g := newBench(b)
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := g.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	goSeconds := time.Since(start).Seconds()
	c, err := cloop.Fill(benchConfig, buf, b.N)
	if err != nil {
		b.Fatal(err)
	}
	reportShareOfC(b, goSeconds, c)
}

// ReadAt with 4 KiB buffers at scattered offsets (a random-write workload).
func BenchmarkReadAt4KiB(b *testing.B) {
	g := newBench(b)
	buf := make([]byte, 4096)
	const blocks = 1 << 24 // offsets over 64 GiB
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		off := int64(uint64(i) * 2654435761 % blocks * uint64(len(buf)))
		if _, err := g.ReadAt(buf, off); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	goSeconds := time.Since(start).Seconds()
	c, err := cloop.FillAt(benchConfig, buf, b.N, blocks)
	if err != nil {
		b.Fatal(err)
	}
	reportShareOfC(b, goSeconds, c)
}

// ReadAt with 4 KiB buffers from all CPUs at once.
func BenchmarkReadAt4KiBParallel(b *testing.B) {
	g := newBench(b)
	b.SetBytes(4096)
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 4096)
		var i uint64
		for pb.Next() {
			i++
			if _, err := g.ReadAt(buf, int64(i*2654435761%(1<<24)*4096)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
