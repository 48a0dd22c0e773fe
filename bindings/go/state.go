package dgen

/*
#include "result.h"

static dgen_go_result dgen_go_state_open(const dgen_generator *gen, const char *path, bool write,
		dgen_state **out) {
	return dgen_go_result_of(dgen_state_open(gen, path, write, out));
}

static dgen_go_result dgen_go_state_close_remove(dgen_state *st, bool *removed) {
	return dgen_go_result_of(dgen_state_close_remove(st, removed));
}

static dgen_go_result dgen_go_state_fill(const dgen_state *st, const dgen_generator *gen, uint64_t offset,
		void *buf, size_t len) {
	return dgen_go_result_of(dgen_state_fill(st, gen, offset, buf, len));
}

static dgen_go_result dgen_go_state_complete(const dgen_state *st, uint64_t offset, size_t len) {
	return dgen_go_result_of(dgen_state_complete(st, offset, len));
}

static dgen_go_result dgen_go_state_verify(const dgen_state *st, const dgen_generator *gen, uint64_t offset,
		const void *buf, size_t len, dgen_state_check *check) {
	return dgen_go_result_of(dgen_state_verify(st, gen, offset, buf, len, check));
}

static dgen_go_result dgen_go_state_check_finish(const dgen_state *st, const dgen_generator *gen,
		dgen_state_check *check, dgen_state_result *result) {
	return dgen_go_result_of(dgen_state_check_finish(st, gen, check, result));
}

static dgen_go_result dgen_go_state_check_offsets(const dgen_state_check *check, uint32_t class,
		uint64_t *offsets, size_t max, size_t *n) {
	return dgen_go_result_of(dgen_state_check_offsets(check, class, offsets, max, n));
}

static dgen_go_result dgen_go_state_summary(const dgen_state *st, dgen_state_info *out) {
	return dgen_go_result_of(dgen_state_summary(st, out));
}
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"
)

// ErrStateClosed is returned by the methods of a State after Close or
// CloseRemove (which themselves return nil however often they run), and by
// those of a StateCheck after its Close.
var ErrStateClosed = errors.New("dgen: write state is closed")

// State is a write state file, open for the dataset of one Generator: it
// records which write of each dedup unit the target holds, so that each
// write of a unit carries its next version (new bytes with the dataset's
// ratios) and a verification catches lost writes (dgen_state in C).
//
// Version 0 of every unit is the dataset itself, so a first pass through a
// new state writes the bytes ReadAt gives; every later write of a unit
// writes new content. The file holds 8 bytes per dedup unit and a 4 KiB
// header, is mapped into memory, and is shared by every goroutine of the
// process and every process that opens it: Fill and Complete may be called
// from many goroutines at once.
//
// Close releases the mapping; a finalizer does it for a State dropped
// without Close, but only when the garbage collector gets to it.
type State struct {
	// mu guards st: Close takes it for writing, every other call for
	// reading.
	mu    sync.RWMutex
	st    *C.dgen_state
	g     *Generator
	path  string
	write bool
}

// OpenState opens the write state file at path for the dataset of g, a
// sized Generator. With write true the file is created when missing (every
// unit unwritten) and writes are recorded in it; with write false it must
// exist and is only read, to verify against.
//
// A state of another dataset (size, dedup unit, seed, ratios, compressor),
// a damaged or cut-short file, one of a newer format or an endless g is an
// *Error with StatusInvalidState (errors.Is(err, ErrInvalidState)) whose
// message names the difference, and the file is left as it was; a file that
// cannot be opened, created or mapped is one with StatusIO.
func OpenState(g *Generator, path string, write bool) (*State, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.gen == nil {
		return nil, ErrClosed
	}
	var st *C.dgen_state
	err := callError(C.dgen_go_state_open(g.gen, cpath, C.bool(write), &st))
	runtime.KeepAlive(g)
	if err != nil {
		return nil, err
	}
	s := &State{st: st, g: g, path: path, write: write}
	runtime.SetFinalizer(s, (*State).free)
	return s, nil
}

// Path returns the state file's path, as given to OpenState.
func (s *State) Path() string { return s.path }

// Writable reports whether the state was opened with write true, so that
// Fill and Complete record writes.
func (s *State) Writable() bool { return s.write }

// Generator returns the Generator the state was opened for, whose bytes
// Fill writes.
func (s *State) Generator() *Generator { return s.g }

// Fill prepares a write of buf at offset of the target: it claims the next
// version of every dedup unit of [offset, offset+len(buf)) and fills buf
// with it, from the Generator the state was opened for. The range must be
// whole dedup units (the last may end at the end of the dataset), and the
// state open for writing; otherwise the *Error has StatusInvalidState.
//
// Call Complete with the same range once the write is over, done or
// failed; until then each unit accepts its old and its new content, and a
// process that dies in between leaves it so. Safe for concurrent use.
func (s *State) Fill(offset int64, buf []byte) error {
	if offset < 0 {
		return &Error{Status: StatusOutOfRange, Message: fmt.Sprintf("offset must not be negative, got %d", offset)}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.st == nil {
		return ErrStateClosed
	}
	s.g.mu.RLock()
	defer s.g.mu.RUnlock()
	if s.g.gen == nil {
		return ErrClosed
	}
	var first unsafe.Pointer
	if len(buf) > 0 {
		first = unsafe.Pointer(&buf[0])
	}
	err := callError(C.dgen_go_state_fill(s.st, s.g.gen, C.uint64_t(offset), first, C.size_t(len(buf))))
	runtime.KeepAlive(buf)
	runtime.KeepAlive(s)
	return err
}

// Complete records that the write of [offset, offset+n) prepared with Fill
// is over, done or failed. Call it once per Fill, after the write, never
// for a range that was not filled. Safe for concurrent use.
func (s *State) Complete(offset int64, n int) error {
	if offset < 0 || n < 0 {
		return &Error{Status: StatusOutOfRange,
			Message: fmt.Sprintf("offset and length must not be negative, got offset %d and length %d", offset, n)}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.st == nil {
		return ErrStateClosed
	}
	err := callError(C.dgen_go_state_complete(s.st, C.uint64_t(offset), C.size_t(n)))
	runtime.KeepAlive(s)
	return err
}

// StateInfo is what a state holds (dgen_state_info in C).
type StateInfo struct {
	// Units is the number of dedup units of the dataset.
	Units uint64
	// UnitBytes is the dedup unit in bytes.
	UnitBytes uint64
	// Written counts units ever written.
	Written uint64
	// Overwritten counts units written more than once.
	Overwritten uint64
	// MaxVersion is the highest version of any unit (0: none overwritten).
	MaxVersion uint64
	// WritesCompleted counts unit writes completed over the state's life.
	WritesCompleted uint64
	// InFlight counts units with writes in flight now.
	InFlight uint64
	// Ambiguous counts units that may hold one of several versions
	// (overlapping writes, or a writer that died mid-write).
	Ambiguous uint64
	// InDoubt counts units that may never have been written: their first
	// write was in flight when its writer died.
	InDoubt uint64
}

// Summary returns what the state holds now: units written and overwritten,
// the latest version, writes in flight. A pass over every unit.
func (s *State) Summary() (StateInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.st == nil {
		return StateInfo{}, ErrStateClosed
	}
	var out C.dgen_state_info
	if err := callError(C.dgen_go_state_summary(s.st, &out)); err != nil {
		return StateInfo{}, err
	}
	runtime.KeepAlive(s)
	return StateInfo{
		Units:           uint64(out.units),
		UnitBytes:       uint64(out.unit_bytes),
		Written:         uint64(out.written),
		Overwritten:     uint64(out.overwritten),
		MaxVersion:      uint64(out.max_version),
		WritesCompleted: uint64(out.writes_completed),
		InFlight:        uint64(out.in_flight),
		Ambiguous:       uint64(out.ambiguous),
		InDoubt:         uint64(out.in_doubt),
	}, nil
}

// Close unmaps the state and closes its file, after calls in progress on
// other goroutines. It returns nil, also when called again; the other
// methods then return ErrStateClosed.
func (s *State) Close() error { return closed(s, s.free) }

// CloseRemove closes the state as Close does and removes its file when no
// other process has it open, and reports whether it did: for a state made
// for one run and shared by its processes, the last to close removes it.
// On a closed state it returns false and nil.
func (s *State) CloseRemove() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	runtime.SetFinalizer(s, nil)
	if s.st == nil {
		return false, nil
	}
	var removed C.bool
	err := callError(C.dgen_go_state_close_remove(s.st, &removed))
	// The C call frees the state whatever it returns.
	s.st = nil
	return bool(removed), err
}

func (s *State) free() { locked(&s.mu, s.freeLocked) }

func (s *State) freeLocked() {
	if s.st != nil {
		C.dgen_state_close(s.st)
		s.st = nil
	}
}

// StateClass is what a wrong unit holds, as a verification against a
// state sorts it.
type StateClass int

const (
	// StateStale is an earlier write of the unit itself: a lost write.
	StateStale StateClass = 0
	// StateMisplaced is another unit's data: a write at the wrong address.
	StateMisplaced StateClass = 1
	// StateZero is only zero bytes: a hole, or a block never written.
	StateZero StateClass = 2
	// StateCorrupt is none of the above.
	StateCorrupt StateClass = 3
)

var stateClassNames = [...]string{"stale", "misplaced", "zero", "corrupt"}

// String gives the class's name in reports: stale, misplaced, zero or
// corrupt.
func (c StateClass) String() string {
	if c >= 0 && int(c) < len(stateClassNames) {
		return stateClassNames[c]
	}
	return fmt.Sprintf("StateClass(%d)", int(c))
}

// StateCheck collects what a verification against a state finds, range by
// range (State.Verify), until State.Finish sorts and counts it
// (dgen_state_check in C). Its calls are serialized: one verification
// collects into it at a time. Close frees it; a finalizer does it for one
// dropped without Close.
type StateCheck struct {
	mu sync.Mutex
	c  *C.dgen_state_check
}

// NewStateCheck returns an empty verification result for State.Verify.
func NewStateCheck() *StateCheck {
	c := &StateCheck{c: C.dgen_state_check_new()}
	if c.c == nil {
		panic("dgen: out of memory for a state check")
	}
	runtime.SetFinalizer(c, (*StateCheck).free)
	return c
}

// Close frees the result. It returns nil, also when called again; State
// calls given it later return ErrStateClosed.
func (c *StateCheck) Close() error { return closed(c, c.free) }

func (c *StateCheck) free() { locked(&c.mu, c.freeLocked) }

func (c *StateCheck) freeLocked() {
	if c.c != nil {
		C.dgen_state_check_free(c.c)
		c.c = nil
	}
}

// findingsKept bounds the offsets Offsets asks for: more than the library
// keeps per class (16, the lowest), so none is cut.
const findingsKept = 64

// Offsets returns the offsets of the first (lowest, at most 16) units of
// class found by a finished verification (State.Finish), lowest first.
func (c *StateCheck) Offsets(class StateClass) ([]int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		return nil, ErrStateClosed
	}
	// The library names the classes it knows; only what a uint32 cannot
	// carry to it is refused here.
	if class < 0 || int64(class) > math.MaxUint32 {
		return nil, &Error{Status: StatusInvalidConfig,
			Message: fmt.Sprintf("class must be StateStale, StateMisplaced, StateZero or StateCorrupt, got %d", int(class))}
	}
	var buf [findingsKept]C.uint64_t
	var n C.size_t
	err := callError(C.dgen_go_state_check_offsets(c.c, C.uint32_t(class), &buf[0], findingsKept, &n))
	runtime.KeepAlive(c)
	if err != nil {
		return nil, err
	}
	out := make([]int64, int(n))
	for i := range out {
		out[i] = int64(buf[i])
	}
	return out, nil
}

// Verify checks buf, read from [offset, offset+len(buf)) of the target
// (whole dedup units), against the state, and adds what it found to check:
// each unit right, never written, in doubt, or wrong. g is a Generator of
// the state's dataset (another one is an *Error with StatusInvalidState).
// It returns nil whatever the bytes hold; Finish gives the verdict after
// the last range. Ranges may come in any order; Verify may run on several
// goroutines at once with a StateCheck each, or share one (its calls are
// then serialized).
func (s *State) Verify(g *Generator, offset int64, buf []byte, check *StateCheck) error {
	if offset < 0 {
		return &Error{Status: StatusOutOfRange, Message: fmt.Sprintf("offset must not be negative, got %d", offset)}
	}
	if check == nil {
		return &Error{Status: StatusNullPointer, Message: "Verify: check must be a *StateCheck from NewStateCheck, got nil"}
	}
	unlock, err := s.enter(g, check)
	if err != nil {
		return err
	}
	defer unlock()
	var first unsafe.Pointer
	if len(buf) > 0 {
		first = unsafe.Pointer(&buf[0])
	}
	err = callError(C.dgen_go_state_verify(s.st, g.gen, C.uint64_t(offset), first, C.size_t(len(buf)), check.c))
	runtime.KeepAlive(buf)
	runtime.KeepAlive(s)
	runtime.KeepAlive(g)
	runtime.KeepAlive(check)
	return err
}

// enter takes what Verify and Finish hold while they run: check's lock,
// then s and g for reading. It returns the function that lets them go, or
// ErrStateClosed or ErrClosed, holding nothing, when one of them is closed.
func (s *State) enter(g *Generator, check *StateCheck) (func(), error) {
	check.mu.Lock()
	s.mu.RLock()
	g.mu.RLock()
	unlock := func() {
		g.mu.RUnlock()
		s.mu.RUnlock()
		check.mu.Unlock()
	}
	switch {
	case s.st == nil || check.c == nil:
		unlock()
		return nil, ErrStateClosed
	case g.gen == nil:
		unlock()
		return nil, ErrClosed
	}
	return unlock, nil
}

// StateResult is what a verification against a state found
// (dgen_state_result in C): units right and not checked, wrong units by
// class, and the offset of the first unit of each class, -1 when there is
// none (StateCheck.Offsets gives up to 16 of each).
type StateResult struct {
	// UnitsOK counts units that hold a version their entry accepts.
	UnitsOK uint64
	// UnitsUnwritten counts units never written: not checked.
	UnitsUnwritten uint64
	// UnitsInDoubt counts units whose first write was in flight when its
	// writer died: not checked.
	UnitsInDoubt uint64
	// Stale counts units holding an earlier write of themselves.
	Stale uint64
	// Misplaced counts units holding another unit's data.
	Misplaced uint64
	// Zero counts units holding only zero bytes.
	Zero uint64
	// Corrupt counts units holding none of the above.
	Corrupt uint64
	// FirstStale, FirstMisplaced, FirstZero and FirstCorrupt are the
	// offsets of the first unit of each class, or -1.
	FirstStale, FirstMisplaced, FirstZero, FirstCorrupt int64
}

// Wrong counts the wrong units of every class.
func (r StateResult) Wrong() uint64 { return r.Stale + r.Misplaced + r.Zero + r.Corrupt }

// Finish ends a verification: the wrong units that held no earlier write
// of their own are looked up among every unit's data (misplaced) or counted
// corrupt, a pass over the dataset's units made only when such units
// exist. It returns the result and, when any checked unit was wrong, an
// *Error with StatusMismatch (errors.Is(err, ErrMismatch)) whose message
// gives the counts and first offsets ("2 of 256 units checked are wrong: 1
// stale (first at offset 28672), 1 zero (first at offset 36864)").
func (s *State) Finish(g *Generator, check *StateCheck) (StateResult, error) {
	if check == nil {
		return StateResult{}, &Error{Status: StatusNullPointer,
			Message: "Finish: check must be a *StateCheck from NewStateCheck, got nil"}
	}
	unlock, err := s.enter(g, check)
	if err != nil {
		return StateResult{}, err
	}
	defer unlock()
	var r C.dgen_state_result
	err = callError(C.dgen_go_state_check_finish(s.st, g.gen, check.c, &r))
	runtime.KeepAlive(s)
	runtime.KeepAlive(g)
	runtime.KeepAlive(check)
	if err != nil && !errors.Is(err, ErrMismatch) {
		return StateResult{}, err
	}
	first := func(v C.uint64_t) int64 {
		if uint64(v) > math.MaxInt64 {
			return -1
		}
		return int64(v)
	}
	return StateResult{
		UnitsOK:        uint64(r.units_ok),
		UnitsUnwritten: uint64(r.units_unwritten),
		UnitsInDoubt:   uint64(r.units_in_doubt),
		Stale:          uint64(r.stale),
		Misplaced:      uint64(r.misplaced),
		Zero:           uint64(r.zero),
		Corrupt:        uint64(r.corrupt),
		FirstStale:     first(r.first_stale),
		FirstMisplaced: first(r.first_misplaced),
		FirstZero:      first(r.first_zero),
		FirstCorrupt:   first(r.first_corrupt),
	}, err
}
