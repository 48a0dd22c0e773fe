package dgen

// #include "dgen.h"
import "C"

import (
	"errors"
	"fmt"
)

// Status is a libdgen status code (dgen_status in C); StatusOK is 0.
type Status int

// The statuses a call can fail with, the same codes as in C.
const (
	StatusOK                   Status = C.DGEN_STATUS_OK
	StatusNullPointer          Status = C.DGEN_STATUS_NULL_POINTER
	StatusInvalidDedupRatio    Status = C.DGEN_STATUS_INVALID_DEDUP_RATIO
	StatusInvalidCompressRatio Status = C.DGEN_STATUS_INVALID_COMPRESS_RATIO
	StatusInvalidDedupUnit     Status = C.DGEN_STATUS_INVALID_DEDUP_UNIT
	StatusInvalidThreads       Status = C.DGEN_STATUS_INVALID_THREADS
	StatusInvalidConfig        Status = C.DGEN_STATUS_INVALID_CONFIG
	StatusOutOfRange           Status = C.DGEN_STATUS_OUT_OF_RANGE
	StatusMismatch             Status = C.DGEN_STATUS_MISMATCH
	// StatusThreadPool: a file or device writer could not start its I/O
	// worker threads. Reads never return it: when their worker threads
	// cannot start, they run on the calling thread (with the same bytes) and
	// the threads are tried again a second later.
	StatusThreadPool        Status = C.DGEN_STATUS_THREAD_POOL
	StatusPanic             Status = C.DGEN_STATUS_PANIC
	StatusInvalidCompressor Status = C.DGEN_STATUS_INVALID_COMPRESSOR
	StatusIO                Status = C.DGEN_STATUS_IO
	// StatusInterrupted: a write or verification of a file or device was
	// stopped before its end (by its progress callback); what was done is
	// in its report.
	StatusInterrupted Status = C.DGEN_STATUS_INTERRUPTED
	// StatusInvalidState: a write state file cannot be used (another
	// dataset's, damaged, of a newer format, or a range that is not whole
	// dedup units); the message names the difference.
	StatusInvalidState Status = C.DGEN_STATUS_INVALID_STATE
)

// String gives the library's description of the status, e.g.
// "DGEN_STATUS_OUT_OF_RANGE: range outside the stream".
func (s Status) String() string {
	return C.GoString(C.dgen_status_str(C.dgen_status(s)))
}

// Error is a failed libdgen call: the status and the library's message,
// which names the field or argument and its value.
type Error struct {
	Status  Status
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "dgen: " + e.Status.String()
	}
	return "dgen: " + e.Message
}

// Is makes errors.Is(err, ErrInvalidDedupRatio) and the other sentinels
// match any *Error with the same status.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && (t.Message == "" || t.Message == e.Message)
}

// Sentinels for errors.Is: each matches every *Error with its status.
var (
	ErrNullPointer          = &Error{Status: StatusNullPointer}
	ErrInvalidDedupRatio    = &Error{Status: StatusInvalidDedupRatio}
	ErrInvalidCompressRatio = &Error{Status: StatusInvalidCompressRatio}
	ErrInvalidDedupUnit     = &Error{Status: StatusInvalidDedupUnit}
	ErrInvalidThreads       = &Error{Status: StatusInvalidThreads}
	ErrInvalidConfig        = &Error{Status: StatusInvalidConfig}
	ErrOutOfRange           = &Error{Status: StatusOutOfRange}
	ErrMismatch             = &Error{Status: StatusMismatch}
	ErrThreadPool           = &Error{Status: StatusThreadPool}
	ErrPanic                = &Error{Status: StatusPanic}
	ErrInvalidCompressor    = &Error{Status: StatusInvalidCompressor}
	ErrIO                   = &Error{Status: StatusIO}
	ErrInterrupted          = &Error{Status: StatusInterrupted}
	ErrInvalidState         = &Error{Status: StatusInvalidState}
)

// ErrClosed is returned by Read, ReadAt, Verify, WriteTo and Seek on a
// Generator after Close (Close itself returns nil, however often it runs).
var ErrClosed = errors.New("dgen: generator is closed")

// MismatchError is what Verify returns when the data differs from the
// stream: Offset is the stream offset of the first wrong byte, Expected the
// stream's byte there and Actual the data's (the names of every face).
// errors.Is(err, ErrMismatch) holds for it.
type MismatchError struct {
	Offset   int64
	Expected byte
	Actual   byte
	// Found is Actual, under the name this package used first.
	//
	// Deprecated: use Actual.
	Found byte
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("dgen: data differs from the stream at offset %d (expected 0x%02x, found 0x%02x)",
		e.Offset, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrMismatch) hold.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }
