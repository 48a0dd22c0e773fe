//! Library errors as Python exceptions, and the guard that keeps panics out
//! of Python.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::{PyException, PyMemoryError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

pyo3::create_exception!(
    dgen,
    MismatchError,
    PyException,
    "Raised by `Generator.verify_at` when a buffer differs from the stream.\n\n\
     Attributes: `offset` (stream offset of the first wrong byte), `expected`\n\
     (the byte the stream has there, an int) and `actual` (the byte in the buffer;\n\
     `found` is the same, its first name)."
);

/// Why a call failed, in a form that can leave a closure that runs with the
/// GIL released (a `PyErr` is made only once the GIL is held again).
#[derive(Debug)]
pub enum Failure {
    /// The library refused the call.
    Lib(dgen::Error),
    /// The generator was closed.
    Closed,
    /// Memory for a buffer could not be allocated.
    NoMemory,
    /// A write state refused the call.
    State(dgen::state::StateError),
    /// The write state was closed.
    StateClosed,
    /// A bug: library code panicked. The panic is stopped here and reported
    /// as a RuntimeError instead of unwinding into the interpreter.
    Panic(String),
}

impl From<dgen::Error> for Failure {
    fn from(e: dgen::Error) -> Self {
        Failure::Lib(e)
    }
}

/// Runs `f`, turning a panic into [`Failure::Panic`].
pub fn guarded<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Failure::Panic(what))
        }
    }
}

impl Failure {
    /// The Python exception for this failure.
    pub fn into_pyerr(self, py: Python<'_>) -> PyErr {
        match self {
            Failure::Lib(e) => lib_error(py, e),
            Failure::Closed => closed_error(),
            Failure::State(e) => state_error(e),
            Failure::StateClosed => state_closed_error(),
            Failure::NoMemory => PyMemoryError::new_err("cannot allocate memory for the generated data"),
            Failure::Panic(what) => {
                PyRuntimeError::new_err(format!("internal error in libdgen (please report it): {what}"))
            }
        }
    }
}

/// The Python exception class for each kind of library failure: the Python
/// column of the error table in ARCHITECTURE.md, used by every function that
/// turns a library error into an exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// `ValueError`: a bad value, option, range or write state.
    Value,
    /// `dgen.MismatchError`: data that differs from the stream.
    Mismatch,
    /// `OSError` (the subclass its errno picks): a target that cannot be
    /// opened, read, written or synced, or an I/O failure.
    Os,
    /// `KeyboardInterrupt`: a run stopped by its caller.
    Interrupt,
    /// `RuntimeError`: worker threads that cannot start, or a kind newer
    /// than this binding.
    Runtime,
}

/// The class of `kind`.
pub fn class(kind: dgen::ErrorKind) -> Class {
    use dgen::ErrorKind as K;
    match kind {
        K::InvalidConfig | K::InvalidOption | K::OutOfRange | K::InvalidState => Class::Value,
        K::Mismatch => Class::Mismatch,
        K::Open | K::Unsupported | K::Io => Class::Os,
        K::Interrupted => Class::Interrupt,
        _ => Class::Runtime,
    }
}

/// What a call on a closed generator raises.
pub fn closed_error() -> PyErr {
    PyValueError::new_err("the generator is closed")
}

/// What a call on a closed write state raises.
pub fn state_closed_error() -> PyErr {
    PyValueError::new_err("the write state is closed")
}

/// A write state's error: `OSError` when its file cannot be opened,
/// created, mapped or locked (with `errno`, so that it is the subclass
/// `open` would raise, where the system gave one), `ValueError` otherwise:
/// a state of another dataset, a damaged or newer file, a range that is not
/// whole dedup units, a state opened for verifying asked to record a write.
/// The message is the library's, naming the file, the field and the values.
pub fn state_error(e: dgen::state::StateError) -> PyErr {
    if class(e.kind.into()) != Class::Os {
        return PyValueError::new_err(e.message);
    }
    // The library's message ends with the system's reason, which Rust
    // writes as "... (os error N)"; OSError gives the errno its own field.
    let errno = e
        .message
        .rsplit_once(" (os error ")
        .and_then(|(text, tail)| Some((text, tail.strip_suffix(')')?.parse::<i32>().ok()?)));
    match errno {
        Some((text, n)) => PyOSError::new_err((n, text.to_string())),
        None => PyOSError::new_err(e.message),
    }
}

/// `ValueError` for bad values and ranges (the library's message, which names
/// the field and the value), `MismatchError` for a verification failure,
/// `RuntimeError` for anything else.
pub fn lib_error(py: Python<'_>, e: dgen::Error) -> PyErr {
    let msg = e.to_string();
    match e {
        dgen::Error::Mismatch { offset, expected, actual } => {
            let err = MismatchError::new_err(msg);
            let value = err.value(py);
            let set = value
                .setattr("offset", offset)
                .and_then(|_| value.setattr("expected", expected))
                .and_then(|_| value.setattr("actual", actual))
                .and_then(|_| value.setattr("found", actual));
            match set {
                Ok(()) => err,
                Err(other) => other,
            }
        }
        e => match class(e.kind()) {
            Class::Value => PyValueError::new_err(msg),
            Class::Os => PyOSError::new_err(msg),
            Class::Interrupt => pyo3::exceptions::PyKeyboardInterrupt::new_err(msg),
            Class::Mismatch | Class::Runtime => PyRuntimeError::new_err(msg),
        },
    }
}
