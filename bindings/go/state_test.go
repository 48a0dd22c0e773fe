package dgen_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	dgen "github.com/libdgen/dgen/bindings/go"
)

// The SHA-256 of version 1 of every unit of the golden config's first
// 16 MiB (as a sized dataset of its own), written twice through a new state
// in 1 MiB writes in order: tests/state.rs and tests/c/golden.h
// (DGEN_GOLDEN_V1_SHA256) assert the same constant.
const goldenV1 = "61b0950af30ff2d40541b8df17aaa04d8d3ccac1589d3005b0bd75a8a0a788a4"

func mustOpenState(t testing.TB, g *dgen.Generator, path string, write bool) *dgen.State {
	t.Helper()
	st, err := dgen.OpenState(g, path, write)
	if err != nil {
		t.Fatalf("OpenState(%s, write=%v): %v", path, write, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// writePass writes disk whole through st in block-byte writes, in order.
func writePass(t testing.TB, st *dgen.State, disk []byte, block int) {
	t.Helper()
	for off := 0; off < len(disk); off += block {
		end := off + block
		if end > len(disk) {
			end = len(disk)
		}
		if err := st.Fill(int64(off), disk[off:end]); err != nil {
			t.Fatalf("Fill(%d): %v", off, err)
		}
		if err := st.Complete(int64(off), end-off); err != nil {
			t.Fatalf("Complete(%d): %v", off, err)
		}
	}
}

func TestStateVersion1OfTheGoldenDatasetHasTheGoldenHash(t *testing.T) {
	cfg := goldenConfig
	cfg.Size = 16 << 20
	g := mustNew(t, cfg)
	st := mustOpenState(t, g, filepath.Join(t.TempDir(), "s"), true)
	disk := make([]byte, cfg.Size)
	writePass(t, st, disk, 1<<20)
	if !bytes.Equal(disk, reference(t, cfg)) {
		t.Fatal("a first pass through a new state is not the stream itself")
	}
	writePass(t, st, disk, 1<<20)
	sum := sha256.Sum256(disk)
	if got := hex.EncodeToString(sum[:]); got != goldenV1 {
		t.Fatalf("SHA-256 of version 1 = %s, want %s", got, goldenV1)
	}
}

const stateUnit = 4096

// lostWriteDisk makes a 1 MiB dataset (seed 31) written twice through a new
// state at path, with the second write of unit 7 lost (its first bytes
// kept) and unit 9 zeroed.
func lostWriteDisk(t *testing.T, path string) (*dgen.Generator, []byte) {
	t.Helper()
	g := mustNew(t, dgen.Config{Size: 256 * stateUnit, DedupRatio: 2, CompressRatio: 2, Seed: dgen.SeedOf(31)})
	st := mustOpenState(t, g, path, true)
	disk := make([]byte, g.Size())
	writePass(t, st, disk, 16*stateUnit)
	first := append([]byte(nil), disk...)
	writePass(t, st, disk, stateUnit)
	for u := 0; u < 256; u++ {
		if bytes.Equal(disk[u*stateUnit:(u+1)*stateUnit], first[u*stateUnit:(u+1)*stateUnit]) {
			t.Fatalf("the overwrite left unit %d as it was", u)
		}
	}
	copy(disk[7*stateUnit:8*stateUnit], first[7*stateUnit:])
	for i := range disk[9*stateUnit : 10*stateUnit] {
		disk[9*stateUnit+i] = 0
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return g, disk
}

func TestStateLostWriteIsReportedStaleAtItsOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	g, disk := lostWriteDisk(t, path)
	ro := mustOpenState(t, g, path, false)
	check := dgen.NewStateCheck()
	defer check.Close()
	// Two ranges, in any order.
	half := len(disk) / 2
	if err := ro.Verify(g, int64(half), disk[half:], check); err != nil {
		t.Fatal(err)
	}
	if err := ro.Verify(g, 0, disk[:half], check); err != nil {
		t.Fatal(err)
	}
	res, err := ro.Finish(g, check)
	if !errors.Is(err, dgen.ErrMismatch) {
		t.Fatalf("Finish = %v, want an error matching ErrMismatch", err)
	}
	for _, says := range []string{"2 of 256 units checked are wrong", "1 stale (first at offset 28672)",
		"1 zero (first at offset 36864)"} {
		if !strings.Contains(err.Error(), says) {
			t.Errorf("Finish's error %q does not say %q", err, says)
		}
	}
	want := dgen.StateResult{UnitsOK: 254, Stale: 1, Zero: 1,
		FirstStale: 7 * stateUnit, FirstMisplaced: -1, FirstZero: 9 * stateUnit, FirstCorrupt: -1}
	if res != want {
		t.Fatalf("Finish = %+v, want %+v", res, want)
	}
	if res.Wrong() != 2 {
		t.Fatalf("Wrong() = %d, want 2", res.Wrong())
	}
	for class, want := range map[dgen.StateClass][]int64{
		dgen.StateStale: {7 * stateUnit}, dgen.StateZero: {9 * stateUnit},
		dgen.StateMisplaced: {}, dgen.StateCorrupt: {},
	} {
		got, err := check.Offsets(class)
		if err != nil || len(got) != len(want) || (len(want) > 0 && got[0] != want[0]) {
			t.Errorf("Offsets(%v) = %v, %v; want %v", class, got, err, want)
		}
	}
	if _, err := check.Offsets(dgen.StateClass(4)); !errors.Is(err, dgen.ErrInvalidConfig) {
		t.Errorf("Offsets(4) = %v, want ErrInvalidConfig", err)
	}

	// The data as the state says it must be passes.
	good := dgen.NewStateCheck()
	defer good.Close()
	st := mustOpenState(t, g, path, true)
	fixed := append([]byte(nil), disk...)
	for _, u := range []int{7, 9} {
		if err := st.Fill(int64(u*stateUnit), fixed[u*stateUnit:(u+1)*stateUnit]); err != nil {
			t.Fatal(err)
		}
		if err := st.Complete(int64(u*stateUnit), stateUnit); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Verify(g, 0, fixed, good); err != nil {
		t.Fatal(err)
	}
	if res, err := st.Finish(g, good); err != nil || res.UnitsOK != 256 || res.FirstStale != -1 {
		t.Fatalf("Finish of the repaired data = %+v, %v", res, err)
	}
}

func TestStateOfAnotherSeedIsRefusedAndLeftAlone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	cfg := dgen.Config{Size: 1 << 20, DedupRatio: 2, CompressRatio: 3, Seed: dgen.SeedOf(32)}
	g := mustNew(t, cfg)
	st := mustOpenState(t, g, path, true)
	writePass(t, st, make([]byte, cfg.Size), 1<<20)
	st.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Seed = dgen.SeedOf(31)
	other := mustNew(t, cfg)
	for _, write := range []bool{true, false} {
		s, err := dgen.OpenState(other, path, write)
		if s != nil || !errors.Is(err, dgen.ErrInvalidState) {
			t.Fatalf("OpenState(another seed, write=%v) = %v, %v; want ErrInvalidState", write, s, err)
		}
		if !strings.Contains(err.Error(), "its seed is 32, this run's is 31") {
			t.Errorf("the error %q does not name the seeds", err)
		}
	}
	// A generator of another seed handed to a state's verification.
	ro := mustOpenState(t, g, path, false)
	check := dgen.NewStateCheck()
	defer check.Close()
	if err := ro.Verify(other, 0, make([]byte, stateUnit), check); !errors.Is(err, dgen.ErrInvalidState) {
		t.Fatalf("Verify with another seed's generator = %v, want ErrInvalidState", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Fatal("a refused state file was changed")
	}

	// Damaged, newer and missing files.
	cut := filepath.Join(dir, "cut")
	os.WriteFile(cut, before[:len(before)-8], 0o644)
	if _, err := dgen.OpenState(g, cut, true); !errors.Is(err, dgen.ErrInvalidState) ||
		!strings.Contains(err.Error(), "cut short") {
		t.Errorf("OpenState(cut short) = %v", err)
	}
	newer := append([]byte(nil), before...)
	newer[8] = 2
	os.WriteFile(filepath.Join(dir, "newer"), newer, 0o644)
	if _, err := dgen.OpenState(g, filepath.Join(dir, "newer"), false); !errors.Is(err, dgen.ErrInvalidState) ||
		!strings.Contains(err.Error(), "format 2 is newer") {
		t.Errorf("OpenState(newer) = %v", err)
	}
	if _, err := dgen.OpenState(g, filepath.Join(dir, "missing"), false); !errors.Is(err, dgen.ErrIO) {
		t.Errorf("OpenState(missing, read-only) = %v, want ErrIO", err)
	}
	endless := mustNew(t, dgen.Config{Seed: dgen.SeedOf(1)})
	if _, err := dgen.OpenState(endless, filepath.Join(dir, "e"), true); !errors.Is(err, dgen.ErrInvalidState) {
		t.Errorf("OpenState(endless) = %v, want ErrInvalidState", err)
	}
}

func TestStateSummaryCountsWritesAndWritesInFlight(t *testing.T) {
	cfg := dgen.Config{Size: 3 << 20, DedupRatio: 1.5, CompressRatio: 2.5, Seed: dgen.SeedOf(99)}
	g := mustNew(t, cfg)
	st := mustOpenState(t, g, filepath.Join(t.TempDir(), "s"), true)
	if got, err := st.Summary(); err != nil || got != (dgen.StateInfo{Units: 768, UnitBytes: 4096}) {
		t.Fatalf("Summary of a new state = %+v, %v", got, err)
	}
	disk := make([]byte, cfg.Size)
	writePass(t, st, disk, 1<<20)
	writePass(t, st, disk[:2*stateUnit], 2*stateUnit)
	want := dgen.StateInfo{Units: 768, UnitBytes: 4096, Written: 768, Overwritten: 2, MaxVersion: 1,
		WritesCompleted: 770}
	if got, err := st.Summary(); err != nil || got != want {
		t.Fatalf("Summary = %+v, %v; want %+v", got, err, want)
	}
	// A write in flight: its unit accepts the old or the new version.
	if err := st.Fill(8*stateUnit, disk[:stateUnit]); err != nil {
		t.Fatal(err)
	}
	want.Overwritten, want.InFlight, want.Ambiguous = 3, 1, 1
	if got, _ := st.Summary(); got != want {
		t.Fatalf("Summary with a write in flight = %+v; want %+v", got, want)
	}
	if err := st.Complete(8*stateUnit, stateUnit); err != nil {
		t.Fatal(err)
	}
	want.InFlight, want.Ambiguous, want.WritesCompleted = 0, 0, 771
	if got, _ := st.Summary(); got != want {
		t.Fatalf("Summary after Complete = %+v; want %+v", got, want)
	}
}

func TestStateRangesReadOnlyStatesAndClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	g := mustNew(t, dgen.Config{Size: 1 << 20, DedupUnit: 8192, Seed: dgen.SeedOf(3)})
	st := mustOpenState(t, g, path, true)
	buf := make([]byte, 8192)
	for _, c := range []struct {
		off  int64
		n    int
		says string
	}{
		{100, 8192, "offset 100 and length 8192 do not"},
		{0, 4096, "offset 0 and length 4096 do not"},
		{1 << 20, 8192, "passes the dataset size"},
	} {
		if err := st.Fill(c.off, buf[:c.n]); !errors.Is(err, dgen.ErrInvalidState) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Fill(%d, %d bytes) = %v; want ErrInvalidState saying %q", c.off, c.n, err, c.says)
		}
	}
	if err := st.Fill(-1, buf); !errors.Is(err, dgen.ErrOutOfRange) {
		t.Errorf("Fill(-1) = %v, want ErrOutOfRange", err)
	}
	if info, _ := st.Summary(); info.Written != 0 {
		t.Fatalf("refused fills claimed %d units", info.Written)
	}
	if !st.Writable() || st.Path() != path || st.Generator() != g {
		t.Fatal("Writable, Path or Generator do not say how the state was opened")
	}

	ro := mustOpenState(t, g, path, false)
	if ro.Writable() {
		t.Fatal("a read-only state says it is writable")
	}
	if err := ro.Fill(0, buf); !errors.Is(err, dgen.ErrInvalidState) ||
		!strings.Contains(err.Error(), "opened for verifying, not writing") {
		t.Errorf("Fill on a read-only state = %v", err)
	}
	if err := ro.Complete(0, 8192); !errors.Is(err, dgen.ErrInvalidState) {
		t.Errorf("Complete on a read-only state = %v", err)
	}

	// Closing: twice is fine, later calls fail, the last holder removes.
	other := mustOpenState(t, g, path, true)
	if removed, err := other.CloseRemove(); removed || err != nil {
		t.Fatalf("CloseRemove with other holders = %v, %v", removed, err)
	}
	ro.Close()
	ro.Close()
	if err := ro.Fill(0, buf); err != dgen.ErrStateClosed {
		t.Errorf("Fill after Close = %v, want ErrStateClosed", err)
	}
	if _, err := ro.Summary(); err != dgen.ErrStateClosed {
		t.Errorf("Summary after Close = %v, want ErrStateClosed", err)
	}
	if removed, err := st.CloseRemove(); !removed || err != nil {
		t.Fatalf("CloseRemove by the last holder = %v, %v", removed, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the state file is still there: %v", err)
	}
	if removed, err := st.CloseRemove(); removed || err != nil {
		t.Fatalf("CloseRemove again = %v, %v", removed, err)
	}
	check := dgen.NewStateCheck()
	check.Close()
	if _, err := check.Offsets(dgen.StateStale); err != dgen.ErrStateClosed {
		t.Errorf("Offsets after Close = %v", err)
	}
	if err := ro.Verify(g, 0, buf, nil); !errors.Is(err, dgen.ErrNullPointer) {
		t.Errorf("Verify with a nil check = %v", err)
	}

	// A closed generator cannot fill.
	g2 := mustNew(t, dgen.Config{Size: 1 << 20, Seed: dgen.SeedOf(4)})
	st2 := mustOpenState(t, g2, filepath.Join(dir, "s2"), true)
	g2.Close()
	if err := st2.Fill(0, buf); err != dgen.ErrClosed {
		t.Errorf("Fill with a closed generator = %v, want ErrClosed", err)
	}
	if _, err := dgen.OpenState(g2, filepath.Join(dir, "s3"), true); err != dgen.ErrClosed {
		t.Errorf("OpenState with a closed generator = %v, want ErrClosed", err)
	}
}

func TestStateFillsFromManyGoroutines(t *testing.T) {
	cfg := dgen.Config{Size: 4 << 20, DedupRatio: 2, CompressRatio: 3, DedupUnit: 8192, Seed: dgen.SeedOf(5), Threads: 1}
	g := mustNew(t, cfg)
	st := mustOpenState(t, g, filepath.Join(t.TempDir(), "s"), true)
	const workers, passes, unit = 4, 3, 8192
	units := int(cfg.Size) / unit
	disk := make([]byte, cfg.Size)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Each goroutine overwrites its own units, pass after pass.
			for p := 0; p < passes; p++ {
				for u := w; u < units; u += workers {
					off := u * unit
					if err := st.Fill(int64(off), disk[off:off+unit]); err != nil {
						errs <- err
						return
					}
					if err := st.Complete(int64(off), unit); err != nil {
						errs <- err
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	info, err := st.Summary()
	want := dgen.StateInfo{Units: uint64(units), UnitBytes: unit, Written: uint64(units), Overwritten: uint64(units),
		MaxVersion: passes - 1, WritesCompleted: uint64(passes * units)}
	if err != nil || info != want {
		t.Fatalf("Summary = %+v, %v; want %+v", info, err, want)
	}
	check := dgen.NewStateCheck()
	defer check.Close()
	if err := st.Verify(g, 0, disk, check); err != nil {
		t.Fatal(err)
	}
	if res, err := st.Finish(g, check); err != nil || res.UnitsOK != uint64(units) {
		t.Fatalf("Finish = %+v, %v", res, err)
	}
}
