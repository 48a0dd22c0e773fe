package dgen_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	dgen "github.com/libdgen/dgen/bindings/go"
)

// Stream a sized dataset into any io.Writer (a file, a socket, an object
// store upload); io.Copy uses the generator's WriteTo.
func Example() {
	g, err := dgen.New(dgen.Config{
		Size:          64 << 20, // 64 MiB
		DedupRatio:    2,        // every block has, on average, one copy
		CompressRatio: 3,        // zstd, lz4 and gzip shrink it about 3:1
		Seed:          dgen.SeedOf(42),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	h := sha256.New()
	n, err := io.Copy(h, g)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "bytes")
	// Output: 67108864 bytes
}

// ReadAt reaches any offset, from many goroutines at once, and gives the
// bytes that Read would give there.
func ExampleGenerator_ReadAt() {
	g, err := dgen.New(dgen.Config{Size: 1 << 30, DedupRatio: 2.5, CompressRatio: 3, DedupUnit: 8192, Seed: dgen.SeedOf(42)})
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	block := make([]byte, 4096)
	if _, err := g.ReadAt(block, 512<<20); err != nil {
		log.Fatal(err)
	}
	fmt.Println(g.Verify(block, 512<<20) == nil)
	// Output: true
}

// Verify reports the offset of the first byte that differs, for example in
// data read back from storage.
func ExampleGenerator_Verify() {
	g, err := dgen.New(dgen.Config{Size: 1 << 20, Seed: dgen.SeedOf(7)})
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	data := make([]byte, 8192)
	g.ReadAt(data, 4096)
	data[100] ^= 1 // as if the storage flipped a bit
	var m *dgen.MismatchError
	if err := g.Verify(data, 4096); errors.As(err, &m) {
		fmt.Println("first wrong byte at offset", m.Offset)
	}
	// Output: first wrong byte at offset 4196
}

// A bad config is an error naming the field and the value.
func ExampleNew_badConfig() {
	_, err := dgen.New(dgen.Config{DedupRatio: 0.5})
	fmt.Println(errors.Is(err, dgen.ErrInvalidDedupRatio))
	fmt.Println(err)
	// Output:
	// true
	// dgen: dedup_ratio must be a number from 1.0 to 1024.0, got 0.5
}

// Without a seed each generator draws its own; Seed reads it back so that
// the run can be repeated.
func ExampleGenerator_Seed() {
	g, err := dgen.New(dgen.Config{Size: 1 << 20})
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	again, err := dgen.New(dgen.Config{Size: 1 << 20, Seed: dgen.SeedOf(g.Seed())})
	if err != nil {
		log.Fatal(err)
	}
	defer again.Close()
	a, b := make([]byte, 4096), make([]byte, 4096)
	g.Read(a)
	again.Read(b)
	fmt.Println(string(a) == string(b))
	// Output: true
}

// Generate returns a whole sized stream in one call, for data that fits in
// memory.
func ExampleGenerate() {
	data, err := dgen.Generate(dgen.Config{Size: 1 << 20, DedupRatio: 2, CompressRatio: 3, Seed: dgen.SeedOf(42)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(data), "bytes")
	// Output: 1048576 bytes
}

// Seek moves the position Read continues from; past the end of a sized
// stream it is an error and the position stays.
func ExampleGenerator_Seek() {
	g, err := dgen.New(dgen.Config{Size: 1 << 20, Seed: dgen.SeedOf(7)})
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	pos, _ := g.Seek(-4096, io.SeekEnd)
	fmt.Println(pos, g.IsComplete())
	_, err = g.Seek(1, io.SeekEnd)
	fmt.Println(errors.Is(err, dgen.ErrOutOfRange), g.Position())
	n, _ := io.Copy(io.Discard, g)
	fmt.Println(n, g.IsComplete())
	// Output:
	// 1044480 false
	// true 1044480
	// 4096 true
}

// A compressor given by name, for example from a command-line flag, tunes
// the layout for that compressor.
func ExampleParseCompressor() {
	c, err := dgen.ParseCompressor("zstd")
	if err != nil {
		log.Fatal(err)
	}
	g, err := dgen.New(dgen.Config{Size: 1 << 20, CompressRatio: 3, Compressor: c})
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	_, err = dgen.ParseCompressor("rar")
	fmt.Println(c, err)
	// Output: zstd dgen: compressor must be one of auto, zstd, lz4, gzip, snappy, lzo, lzjb, got rar
}

// Seeded float32 vectors for a vector-database benchmark: vectors 1000 to
// 1003 of dimension 8, which any worker can produce on its own.
func ExampleFillFloat32At() {
	const dim = 8
	first := uint64(1000)
	vectors := make([]float32, 4*dim)
	if err := dgen.FillFloat32At(vectors, 42, first*dim, -1, 1); err != nil {
		log.Fatal(err)
	}
	// Vector 1002 alone is the same as in the batch.
	one := make([]float32, dim)
	if err := dgen.FillFloat32At(one, 42, (first+2)*dim, -1, 1); err != nil {
		log.Fatal(err)
	}
	fmt.Println(one[0] == vectors[2*dim], len(vectors)/dim, "vectors")
	// Output: true 4 vectors
}

// A write state makes each write of a dedup unit carry its next version, so
// an overwrite writes new data and a lost write is found: here the target
// is a slice, and the overwrite of one unit never reaches it.
func ExampleOpenState() {
	g, err := dgen.New(dgen.Config{Size: 1 << 20, DedupRatio: 2, CompressRatio: 3, Seed: dgen.SeedOf(7)})
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	dir, err := os.MkdirTemp("", "dgen-state")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := dgen.OpenState(g, filepath.Join(dir, "disk.state"), true)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	disk := make([]byte, g.Size())
	write := func(off, n int, lost bool) {
		buf := make([]byte, n)
		if err := st.Fill(int64(off), buf); err != nil { // the next version of each unit
			log.Fatal(err)
		}
		if !lost {
			copy(disk[off:], buf) // the write itself: a device, a file, an object
		}
		if err := st.Complete(int64(off), n); err != nil { // after the write, done or failed
			log.Fatal(err)
		}
	}
	for off := 0; off < len(disk); off += 64 << 10 {
		write(off, 64<<10, false) // version 0: the dataset itself
	}
	for off := 0; off < len(disk); off += 4096 {
		write(off, 4096, off == 40960) // version 1, but unit 10's write is lost
	}

	check := dgen.NewStateCheck()
	defer check.Close()
	if err := st.Verify(g, 0, disk, check); err != nil {
		log.Fatal(err)
	}
	res, err := st.Finish(g, check)
	fmt.Println(errors.Is(err, dgen.ErrMismatch), res.UnitsOK, "right,", res.Stale, "stale at", res.FirstStale)
	info, _ := st.Summary()
	fmt.Println(info.Written, "units written,", info.Overwritten, "overwritten, latest version", info.MaxVersion)
	// Output:
	// true 255 right, 1 stale at 40960
	// 256 units written, 256 overwritten, latest version 1
}
