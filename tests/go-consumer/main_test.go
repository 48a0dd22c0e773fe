package main

import (
	"errors"
	"io"
	"testing"

	dgen "github.com/libdgen/dgen/bindings/go"
)

// The binding works from another module: a config error keeps its type.
func TestBindingFromAnotherModule(t *testing.T) {
	_, err := dgen.New(dgen.Config{CompressRatio: 0.5})
	if !errors.Is(err, dgen.ErrInvalidCompressRatio) {
		t.Fatalf("New(CompressRatio 0.5) = %v; want ErrInvalidCompressRatio", err)
	}
}

// A seed set in another module is the seed used, with no flag beside it, and
// the parity calls are there.
func TestSeedSeekAndGenerateFromAnotherModule(t *testing.T) {
	cfg := dgen.Config{Size: 1 << 20, CompressRatio: 2, Seed: dgen.SeedOf(42), Compressor: dgen.CompressorLz4}
	g, err := dgen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Seed() != 42 {
		t.Fatalf("Seed() = %d; want 42", g.Seed())
	}
	if pos, err := g.Seek(0, io.SeekEnd); pos != 1<<20 || err != nil || !g.IsComplete() {
		t.Fatalf("Seek(0, end) = %d, %v", pos, err)
	}
	data, err := dgen.Generate(cfg)
	if err != nil || g.Verify(data, 0) != nil {
		t.Fatalf("Generate = %v; Verify = %v", err, g.Verify(data, 0))
	}
}
