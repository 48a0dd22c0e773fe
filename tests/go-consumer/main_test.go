package main

import (
	"errors"
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
