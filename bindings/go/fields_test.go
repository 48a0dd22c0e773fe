package dgen_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/libdgen/dgen/bindings/go"
)

// The bounds the library reports are accepted and one step past them is
// refused, with the field's status and a message naming the same bounds.
func TestParamBoundsAgreeWithCheck(t *testing.T) {
	cases := []struct {
		field  dgen.Field
		set    func(*dgen.Config, float64)
		status error
		step   float64
	}{
		{dgen.FieldDedupRatio, func(c *dgen.Config, v float64) { c.DedupRatio = v }, dgen.ErrInvalidDedupRatio, 0.5},
		{dgen.FieldCompressRatio, func(c *dgen.Config, v float64) { c.CompressRatio = v }, dgen.ErrInvalidCompressRatio, 0.5},
		{dgen.FieldDedupUnit, func(c *dgen.Config, v float64) { c.DedupUnit = uint32(v) }, dgen.ErrInvalidDedupUnit, 4096},
		{dgen.FieldThreads, func(c *dgen.Config, v float64) { c.Threads = int(v) }, dgen.ErrInvalidThreads, 1},
	}
	for _, tc := range cases {
		lo, hi, err := dgen.ParamBounds(tc.field)
		if err != nil {
			t.Fatalf("dgen.ParamBounds(%d): %v", tc.field, err)
		}
		for _, ok := range []float64{lo, hi} {
			cfg := dgen.Config{Size: 4096}
			tc.set(&cfg, ok)
			if ok == 0 && tc.field != dgen.FieldThreads {
				continue // 0 means "the default" in Go's Config
			}
			if err := cfg.Check(); err != nil {
				t.Errorf("field %d = %v: %v", tc.field, ok, err)
			}
		}
		cfg := dgen.Config{Size: 4096}
		tc.set(&cfg, hi+tc.step)
		err = cfg.Check()
		if !errors.Is(err, tc.status) {
			t.Fatalf("field %d = %v: got %v, want %v", tc.field, hi+tc.step, err, tc.status)
		}
		want := strconv.FormatFloat(hi, 'f', -1, 64)
		if hi == float64(int64(hi)) && (tc.field == dgen.FieldDedupRatio || tc.field == dgen.FieldCompressRatio) {
			want = fmt.Sprintf("%.1f", hi) // "1024.0", as the ratios are written
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not give the bound %v", err, hi)
		}
	}
	if _, _, err := dgen.ParamBounds(dgen.FieldNumaNode); !errors.Is(err, dgen.ErrInvalidConfig) {
		t.Errorf("numa_node has no numeric bounds, got %v", err)
	}
}
