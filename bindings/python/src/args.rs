//! Python arguments to Rust values, with errors that name the argument and
//! the value: `ValueError` for a value of the right kind out of range,
//! `TypeError` for a value of the wrong kind.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};

/// The message every face uses for a bad field: `field expected, got value`.
pub fn invalid(field: &str, expected: &str, value: &Bound<'_, PyAny>) -> PyErr {
    PyValueError::new_err(format!("{field} {expected}, got {}", shown(value)))
}

/// `repr(value)`, shortened so an error line stays one line.
pub fn shown(value: &Bound<'_, PyAny>) -> String {
    let text = value.repr().map(|r| r.to_string()).unwrap_or_else(|_| "<unprintable>".into());
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

/// The message for a value of the wrong type: `field must be want, got type
/// repr`.
pub fn wrong_type(field: &str, want: &str, value: &Bound<'_, PyAny>) -> PyErr {
    let ty = value.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
    PyTypeError::new_err(format!("{field} must be {want}, got {ty} {}", shown(value)))
}

/// An integer argument that must fit `T` (an unsigned Rust integer).
///
/// Accepts `int` and anything with `__index__` (numpy integers); refuses
/// `bool`, floats and strings with a `TypeError`, and integers outside `T`
/// with a `ValueError` that says `expected`.
pub fn uint<'py, T>(value: &Bound<'py, PyAny>, field: &str, expected: &str) -> PyResult<T>
where
    T: for<'a> FromPyObject<'a, 'py>,
{
    if value.is_instance_of::<PyBool>() {
        return Err(wrong_type(field, "an integer", value));
    }
    match value.extract::<T>() {
        Ok(v) => Ok(v),
        Err(_) => {
            if value.is_instance_of::<PyInt>() || value.hasattr("__index__").unwrap_or(false) {
                Err(invalid(field, expected, value))
            } else {
                Err(wrong_type(field, "an integer", value))
            }
        }
    }
}

/// `None` or an integer argument; see [`uint`].
pub fn opt_uint<'py, T>(value: Option<&Bound<'py, PyAny>>, field: &str, expected: &str) -> PyResult<Option<T>>
where
    T: for<'a> FromPyObject<'a, 'py>,
{
    match value {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) if v.is_instance_of::<PyBool>() => Err(wrong_type(field, "None or an integer", v)),
        Some(v) => uint(v, field, expected).map(Some).map_err(|e| {
            if e.is_instance_of::<PyTypeError>(v.py()) {
                wrong_type(field, "None or an integer", v)
            } else {
                e
            }
        }),
    }
}

/// A ratio: an `int` or a `float` (or anything with `__float__`, such as a
/// numpy float). Its range is the library's to check, so that every face
/// says the same thing; `expected` is for a number too large for a float.
pub fn ratio(value: &Bound<'_, PyAny>, field: &str, expected: &str) -> PyResult<f64> {
    if value.is_instance_of::<PyBool>() || value.is_instance_of::<PyString>() {
        return Err(wrong_type(field, "a number", value));
    }
    if value.is_instance_of::<PyFloat>() || value.is_instance_of::<PyInt>() || value.hasattr("__float__")? {
        return value.extract::<f64>().map_err(|_| invalid(field, expected, value));
    }
    Err(wrong_type(field, "a number", value))
}

/// A string argument, such as a mode or a compressor name.
pub fn string(value: &Bound<'_, PyAny>, field: &str) -> PyResult<String> {
    match value.cast::<PyString>() {
        Ok(s) => Ok(s.to_cow()?.into_owned()),
        Err(_) => Err(wrong_type(field, "a string", value)),
    }
}

/// Any integer argument as an `i128` (positions and counts that may be
/// negative, such as `seek`'s offset or `read`'s `n`).
pub fn int(value: &Bound<'_, PyAny>, field: &str) -> PyResult<i128> {
    if value.is_instance_of::<PyBool>() {
        return Err(wrong_type(field, "an integer", value));
    }
    match value.extract::<i128>() {
        Ok(v) => Ok(v),
        Err(_) if value.is_instance_of::<PyInt>() => Err(invalid(field, "is out of range", value)),
        Err(_) => Err(wrong_type(field, "an integer", value)),
    }
}

/// Declares a `#[pyfunction]` whose arguments are all Python objects, as
/// passed: the `$arg`s are required and positional, the `$opt`s positional
/// and the `$kw`s (after `*`) keyword-only, these two `None` when left out.
/// PyO3 wants every name twice, in `signature` and as a parameter, in the
/// same order; here each is written once, so that the functions that take
/// the long config and I/O keyword lists do not spell them out twice.
macro_rules! py_fn {
    (
        $(#[doc = $doc:literal])*
        $vis:vis fn $name:ident<$lt:lifetime>($py:ident; $($arg:ident),*; $($opt:ident),* $(; *, $($kw:ident),+)?)
            -> $ret:ty,
        text_signature = $sig:literal,
        $body:block
    ) => {
        $(#[doc = $doc])*
        #[pyfunction]
        #[pyo3(signature = ($($arg,)* $($opt=None,)* $(*, $($kw=None,)+)?), text_signature = $sig)]
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<$lt>(
            $py: Python<$lt>,
            $($arg: &Bound<$lt, PyAny>,)*
            $($opt: Option<&Bound<$lt, PyAny>>,)*
            $($($kw: Option<&Bound<$lt, PyAny>>,)+)?
        ) -> $ret $body
    };
}
pub(crate) use py_fn;

/// Declares a struct of optional arguments as passed, each an
/// `Option<&Bound<PyAny>>` (`None`: not given) with the struct's
/// visibility, and `Default` (none given): how the functions `py_fn!`
/// declares hand their keyword arguments on.
macro_rules! arg_struct {
    ($(#[doc = $doc:literal])* $vis:vis struct $name:ident { $($field:ident),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Default)]
        $vis struct $name<'a, 'py> {
            $($vis $field: Option<&'a Bound<'py, PyAny>>,)+
        }
    };
}
pub(crate) use arg_struct;

/// A stream offset: `fill_at`'s and `verify_at`'s first argument, read once
/// per call (so once per 4 KiB at fio-like call sizes).
///
/// For an exact `int` this asks `PyLong_AsUnsignedLong` (64 bits on Linux),
/// which converts digit by digit; the generic conversion goes through
/// `PyLong_AsUnsignedLongLong`, which CPython runs through a byte-array
/// conversion for any value above 2^30, a measurable share of a 4 KiB call.
/// Anything else, and every error, takes the generic path and its messages.
#[inline]
pub fn offset(value: &Bound<'_, PyAny>) -> PyResult<u64> {
    #[cfg(all(target_pointer_width = "64", not(windows)))]
    {
        let obj = value.as_ptr();
        // SAFETY: `value` is a live object and the GIL is held (we have a
        // `Bound`); both calls only read it.
        if unsafe { ffi::PyLong_CheckExact(obj) } != 0 {
            let v = unsafe { ffi::PyLong_AsUnsignedLong(obj) };
            // SAFETY: the GIL is held.
            if v != std::ffi::c_ulong::MAX || unsafe { ffi::PyErr_Occurred() }.is_null() {
                return Ok(v as u64);
            }
            // Negative or too large: drop this error, the generic path below
            // raises one that names the argument and the value.
            // SAFETY: the GIL is held and an error is set.
            unsafe { ffi::PyErr_Clear() };
        }
    }
    uint(value, "offset", "must be an integer from 0 to 2**64-1")
}
