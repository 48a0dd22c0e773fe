package dgen_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/libdgen/dgen/bindings/go"
)

// headerStatuses reads the dgen_status enumerators of the C header the
// package is built against: name (without DGEN_STATUS_) to value.
func headerStatuses(t *testing.T) map[string]int {
	t.Helper()
	src, err := os.ReadFile("../../include/dgen.h")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^\s*DGEN_STATUS_([A-Z0-9_]+) = (\d+),`).FindAllStringSubmatch(string(src), -1) {
		v, _ := strconv.Atoi(m[2])
		out[m[1]] = v
	}
	if len(out) == 0 {
		t.Fatal("no DGEN_STATUS_ enumerators found in include/dgen.h")
	}
	return out
}

// goStatuses parses errors.go: the Status constants (Go name to the C
// enumerator each is defined as, without DGEN_STATUS_) and the sentinels
// (Err name to the Status constant of its &Error{Status: ...}).
func goStatuses(t *testing.T) (consts map[string]string, sentinels map[string]string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts, sentinels = map[string]string{}, map[string]string{}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gen.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 {
				continue
			}
			name := vs.Names[0].Name
			switch v := vs.Values[0].(type) {
			case *ast.SelectorExpr: // StatusX Status = C.DGEN_STATUS_X
				if x, ok := v.X.(*ast.Ident); ok && x.Name == "C" && strings.HasPrefix(v.Sel.Name, "DGEN_STATUS_") {
					consts[name] = strings.TrimPrefix(v.Sel.Name, "DGEN_STATUS_")
				}
			case *ast.UnaryExpr: // ErrX = &Error{Status: StatusX}
				lit, ok := v.X.(*ast.CompositeLit)
				if !ok || v.Op != token.AND {
					continue
				}
				for _, elt := range lit.Elts {
					kv, ok := elt.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Status" {
						if s, ok := kv.Value.(*ast.Ident); ok {
							sentinels[name] = s.Name
						}
					}
				}
			}
		}
	}
	return consts, sentinels
}

// Every status of the C header has its Status constant and its sentinel in
// Go, and nothing in Go names a status the header lacks: a status added to
// the library fails here until the Go package has it.
func TestEveryCStatusHasAGoStatusAndSentinel(t *testing.T) {
	header := headerStatuses(t)
	consts, sentinels := goStatuses(t)

	byC := map[string]string{}
	for goName, cName := range consts {
		if _, ok := header[cName]; !ok {
			t.Errorf("%s is defined as DGEN_STATUS_%s, which include/dgen.h does not have", goName, cName)
		}
		if prev, dup := byC[cName]; dup {
			t.Errorf("%s and %s are both DGEN_STATUS_%s", prev, goName, cName)
		}
		byC[cName] = goName
	}
	hasSentinel := map[string]bool{}
	for errName, status := range sentinels {
		if _, ok := consts[status]; !ok {
			t.Errorf("%s has Status %s, which is not a Status constant", errName, status)
		}
		if want := "Err" + strings.TrimPrefix(status, "Status"); errName != want {
			t.Errorf("the sentinel of %s is named %s, want %s", status, errName, want)
		}
		hasSentinel[status] = true
	}

	names := make([]string, 0, len(header))
	for n := range header {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return header[names[i]] < header[names[j]] })
	for _, cName := range names {
		goName, ok := byC[cName]
		if !ok {
			t.Errorf("DGEN_STATUS_%s = %d has no Status constant in errors.go", cName, header[cName])
			continue
		}
		if cName != "OK" && !hasSentinel[goName] {
			t.Errorf("%s has no sentinel Err... = &Error{Status: %s} in errors.go", goName, goName)
		}
		// The library's own name for the value is the header's.
		if s := dgen.Status(header[cName]).String(); !strings.HasPrefix(s, "DGEN_STATUS_"+cName+":") {
			t.Errorf("Status(%d).String() = %q, want the description of DGEN_STATUS_%s", header[cName], s, cName)
		}
	}
}

func TestStatusInterrupted(t *testing.T) {
	if dgen.StatusInterrupted != 13 {
		t.Fatalf("StatusInterrupted = %d, want 13 (DGEN_STATUS_INTERRUPTED)", dgen.StatusInterrupted)
	}
	err := error(&dgen.Error{Status: dgen.StatusInterrupted, Message: "interrupted while writing x, after 4096 bytes"})
	if !errors.Is(err, dgen.ErrInterrupted) {
		t.Fatal("errors.Is(err, ErrInterrupted) is false for an *Error with StatusInterrupted")
	}
	if errors.Is(err, dgen.ErrIO) {
		t.Fatal("an interruption matches ErrIO")
	}
	if got := err.Error(); got != "dgen: interrupted while writing x, after 4096 bytes" {
		t.Fatalf("Error() = %q", got)
	}
}
