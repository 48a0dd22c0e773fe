// A program outside the binding's module that requires it through a
// replace directive, as a Go storage tool would: it prints the SHA-256 of
// the first 16 MiB of the cross-language golden config, or of the config
// given by flags.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"

	dgen "github.com/libdgen/dgen/bindings/go"
)

func main() {
	size := flag.Uint64("size", 1<<30, "stream size in bytes")
	dedup := flag.Float64("dedup", 2.5, "dedup ratio")
	compress := flag.Float64("compress", 3, "compression ratio")
	unit := flag.Uint("unit", 8192, "dedup unit in bytes")
	seed := flag.Uint64("seed", 42, "seed")
	n := flag.Int64("bytes", 16<<20, "bytes to hash")
	flag.Parse()
	g, err := dgen.New(dgen.Config{Size: *size, DedupRatio: *dedup, CompressRatio: *compress,
		DedupUnit: uint32(*unit), Seed: dgen.SeedOf(*seed)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dgen-consumer:", err)
		os.Exit(2)
	}
	defer g.Close()
	h := sha256.New()
	if _, err := io.CopyN(h, g, *n); err != nil {
		fmt.Fprintln(os.Stderr, "dgen-consumer:", err)
		os.Exit(1)
	}
	fmt.Printf("%x\n", h.Sum(nil))
}
