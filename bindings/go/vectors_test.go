package dgen_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"testing"

	dgen "github.com/libdgen/dgen/bindings/go"
)

// The SHA-256 of 65536 float32 values of seed 42 from element 1000001 over
// [-1, 1), as little-endian bytes; ffi/src/tests.rs, tests/c/golden.h and the
// Python tests assert the same constant.
const goldenF32 = "880909259f0482a6fbe9795ea1e674f00cd85fe6d5f07b37033663d03a15f20f"

func TestFillFloat32AtGoldenMatchesCAndRust(t *testing.T) {
	v := make([]float32, 65536)
	if err := dgen.FillFloat32At(v, 42, 1_000_001, -1, 1); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		if x < -1 || x >= 1 {
			t.Fatalf("value %d = %v, outside [-1, 1)", i, x)
		}
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != goldenF32 {
		t.Fatalf("SHA-256 = %s, want %s", got, goldenF32)
	}
	// A part of the range on its own gives the same values.
	part := make([]float32, 100)
	if err := dgen.FillFloat32At(part, 42, 1_000_001+777, -1, 1); err != nil {
		t.Fatal(err)
	}
	for i := range part {
		if part[i] != v[777+i] {
			t.Fatalf("part[%d] = %v, whole has %v", i, part[i], v[777+i])
		}
	}
}

func TestFillFloat32AtErrorsNameTheArgument(t *testing.T) {
	v := []float32{7, 7, 7, 7}
	cases := []struct {
		index     uint64
		low, high float32
		sentinel  error
		msg       string
	}{
		{0, 1, 1, dgen.ErrInvalidConfig, "dgen: high must be greater than low, got 1 (low is 1)"},
		{0, float32(math.NaN()), 1, dgen.ErrInvalidConfig, "dgen: low must be a finite number below high, got NaN"},
		{0, 0, float32(math.Inf(1)), dgen.ErrInvalidConfig, "dgen: high must be a finite number above low, got inf"},
		{math.MaxUint64 - 1, 0, 1, dgen.ErrOutOfRange,
			"dgen: index + count must be at most 2^64 (element indexes are 64-bit), got 18446744073709551614 + 4"},
	}
	for _, c := range cases {
		err := dgen.FillFloat32At(v, 1, c.index, c.low, c.high)
		if !errors.Is(err, c.sentinel) || err.Error() != c.msg {
			t.Errorf("FillFloat32At(index %d, low %v, high %v) = %v, want %q", c.index, c.low, c.high, err, c.msg)
		}
	}
	for i, x := range v {
		if x != 7 {
			t.Fatalf("a refused call changed v[%d] to %v", i, x)
		}
	}
	if err := dgen.FillFloat32At(nil, 1, math.MaxUint64, 0, 1); err != nil {
		t.Fatalf("an empty range: %v", err)
	}
}
