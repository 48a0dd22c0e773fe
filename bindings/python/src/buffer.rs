//! Borrowing a caller's buffer through the buffer protocol, in place, and
//! filling a new `bytes` or `bytearray`, both with the GIL released.
//!
//! Any exporter works (bytearray, memoryview and its slices, array.array,
//! numpy arrays of any dtype, mmap) as long as it hands out one C-contiguous
//! block of memory, writable for fills. The element type is ignored: the
//! generator writes bytes, and the view is asked for no format string, so a
//! float64 array is filled as its 8 * n bytes.
//!
//! The `Py_buffer` lives on the caller's stack (no allocation per call, which
//! matters at 4 KiB per call) and is released by `View`'s `Drop`. `View` is
//! not `Send`, so it cannot be moved into a closure that runs with the GIL
//! released: the release always happens with the GIL held.

use std::ffi::{c_char, c_int, c_void};
use std::mem::MaybeUninit;

use pyo3::exceptions::{PyBufferError, PyMemoryError, PyTypeError, PyValueError};
use pyo3::ffi::{self, PyObject, Py_ssize_t};
use pyo3::prelude::*;

use crate::errors::{guarded, Failure};

/// CPython's `Py_buffer` (PEP 3118).
///
/// Declared here because PyO3 offers it to abi3 builds only from Python 3.11,
/// the version that added it to the stable ABI. The struct and the two
/// functions below are unchanged since Python 3.0 (3.11 declared them stable
/// as they were), and every CPython interpreter exports the functions, so an
/// abi3 wheel built for 3.9 finds them on 3.9 and 3.10 too.
///
/// `view.rs` fills one of these when a `BytesView` exports its memory.
#[repr(C)]
pub struct Py_buffer {
    pub buf: *mut c_void,
    pub obj: *mut PyObject,
    pub len: Py_ssize_t,
    pub itemsize: Py_ssize_t,
    pub readonly: c_int,
    pub ndim: c_int,
    pub format: *mut c_char,
    pub shape: *mut Py_ssize_t,
    pub strides: *mut Py_ssize_t,
    pub suboffsets: *mut Py_ssize_t,
    pub internal: *mut c_void,
}

/// The buffer flags used here (`object.h`; fixed by PEP 3118).
pub const PYBUF_WRITABLE: c_int = 0x0001;
pub const PYBUF_FORMAT: c_int = 0x0004;
pub const PYBUF_ND: c_int = 0x0008;
pub const PYBUF_STRIDES: c_int = 0x0010 | PYBUF_ND;
const PYBUF_C_CONTIGUOUS: c_int = 0x0020 | PYBUF_STRIDES;

extern "C" {
    fn PyObject_GetBuffer(obj: *mut PyObject, view: *mut Py_buffer, flags: c_int) -> c_int;
    fn PyBuffer_Release(view: *mut Py_buffer);
}

/// Stack space for one buffer view, to pass to [`View::get`].
pub struct Slot(MaybeUninit<Py_buffer>);

impl Slot {
    /// Uninitialised space; [`View::get`] fills it.
    pub fn new() -> Slot {
        Slot(MaybeUninit::uninit())
    }
}

/// A buffer obtained with `PyObject_GetBuffer`, released on drop.
pub struct View<'a> {
    raw: &'a mut Py_buffer,
}

/// Pointer and length of a borrowed buffer, to be used while the GIL is
/// released.
#[derive(Clone, Copy)]
pub struct Raw {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: `Raw` is only made from a live `View`, and the `View` outlives every
// use of the `Raw` (both stay in one function body, the `View` dropped after
// the closure that uses the `Raw` returns). While a view is held, CPython's
// exporters refuse to resize or free the memory (bytearray resize, mmap close
// and numpy resize raise BufferError), so the pointer stays valid on any
// thread for that time.
unsafe impl Send for Raw {}

impl Raw {
    /// The buffer as bytes to write.
    ///
    /// # Safety
    /// The slice must not outlive the `View` this came from, which must be
    /// writable, and no other reference to the memory may be used while the
    /// slice lives. Other Python threads could still write to the same memory
    /// while the GIL is released; that is a race in the calling program, as
    /// with `file.readinto` or `hashlib`, and changes only which bytes end up
    /// in a buffer the program itself made inconsistent.
    pub unsafe fn as_mut<'b>(self) -> &'b mut [u8] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: as the caller promises, the view is live and writable and
        // `ptr` points at `len` bytes of one contiguous block.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    /// The buffer as bytes to read.
    ///
    /// # Safety
    /// The slice must not outlive the `View` this came from.
    pub unsafe fn as_ref<'b>(self) -> &'b [u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: the view is live and `ptr` points at `len` contiguous bytes.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The buffer as float32 values to write.
    ///
    /// # Safety
    /// As for [`as_mut`](Self::as_mut), and the memory is aligned for f32
    /// and a whole number of f32 values long.
    unsafe fn as_mut_f32<'b>(self) -> &'b mut [f32] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: as the caller promises; every bit pattern is a valid f32.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.cast::<f32>(), self.len / 4) }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }
}

/// What a call needs from the buffer it is given.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The generator writes it (`fill`, `fill_at`, `readinto`).
    Write,
    /// The generator only reads it (`verify_at`).
    Read,
    /// Float32 values are written to it (`fill_f32_at`, `normalize_rows`):
    /// its format must be float32 or plain bytes.
    WriteFloats,
}

impl<'a> View<'a> {
    /// Borrows `obj`'s memory, keeping the `Py_buffer` in `slot` (stack
    /// memory of the caller, so that it never moves while exported: some
    /// exporters point `shape` into the struct itself).
    pub fn get(obj: &Bound<'_, PyAny>, access: Access, slot: &'a mut Slot) -> PyResult<View<'a>> {
        let flags: c_int = match access {
            Access::Write => PYBUF_WRITABLE | PYBUF_C_CONTIGUOUS,
            Access::Read => PYBUF_C_CONTIGUOUS,
            Access::WriteFloats => PYBUF_WRITABLE | PYBUF_C_CONTIGUOUS | PYBUF_FORMAT,
        };
        // SAFETY: `obj` is a live object and the GIL is held (we have a
        // `Bound`); `slot` is writable memory for one Py_buffer, filled by the
        // exporter when the call returns 0.
        let rc = unsafe { PyObject_GetBuffer(obj.as_ptr(), slot.0.as_mut_ptr(), flags) };
        if rc != 0 {
            return Err(explain(obj.py(), access));
        }
        // SAFETY: PyObject_GetBuffer returned 0, so the view is initialised.
        let raw = unsafe { slot.0.assume_init_mut() };
        Ok(View { raw })
    }

    /// Pointer and length, for use while the GIL is released.
    pub fn raw(&self) -> Raw {
        Raw { ptr: self.raw.buf.cast::<u8>(), len: self.raw.len.max(0) as usize }
    }

    /// The element format the exporter reported ("B" when it gave none).
    fn format(&self) -> String {
        if self.raw.format.is_null() {
            return "B".into();
        }
        // SAFETY: a non-NULL format is a NUL-terminated string that the
        // exporter keeps while the view is held.
        unsafe { std::ffi::CStr::from_ptr(self.raw.format) }.to_string_lossy().into_owned()
    }
}

/// Formats that hold float32 values in native (little-endian here) order,
/// and the byte formats whose memory is taken as raw float32 values.
const FLOAT_FORMATS: [&str; 4] = ["f", "<f", "=f", "@f"];
const BYTE_FORMATS: [&str; 7] = ["B", "b", "c", "<B", "=B", "@B", "<b"];

/// Borrows `obj` (a writable, C-contiguous buffer of float32 values, or of
/// raw bytes taken as float32 values: a numpy float32 array, array('f'),
/// bytearray) and runs `f` on its values with the GIL released. Another
/// element type is a ValueError naming it, as is a byte length that is not
/// a whole number of values or memory not aligned for float32.
pub fn detached_f32<R: Send>(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    f: impl FnOnce(&mut [f32]) -> Result<R, Failure> + Send,
) -> PyResult<R> {
    let mut slot = Slot::new();
    let view = View::get(obj, Access::WriteFloats, &mut slot)?;
    let format = view.format();
    let raw = view.raw();
    if !FLOAT_FORMATS.contains(&format.as_str()) && !BYTE_FORMATS.contains(&format.as_str()) {
        return Err(PyValueError::new_err(format!(
            "buf must hold float32 values (a numpy float32 array, array('f'), bytearray), got element format '{format}'"
        )));
    }
    if raw.len() % 4 != 0 {
        return Err(PyValueError::new_err(format!(
            "buf must be a whole number of float32 values (a multiple of 4 bytes), got {} bytes",
            raw.len()
        )));
    }
    if raw.len() != 0 && !(raw.ptr as usize).is_multiple_of(std::mem::align_of::<f32>()) {
        return Err(PyValueError::new_err("buf must be aligned to 4 bytes to hold float32 values"));
    }
    // SAFETY: the view is writable, C-contiguous, aligned for f32 and a
    // whole number of f32 values long (checked above), and held until the
    // closure below has returned.
    let result = py.detach(move || guarded(|| f(unsafe { raw.as_mut_f32() })));
    drop(view);
    result.map_err(|f| f.into_pyerr(py))
}

impl Drop for View<'_> {
    fn drop(&mut self) {
        // SAFETY: the view was filled by a successful PyObject_GetBuffer and is
        // released exactly once; `View` is not Send, so this runs on the
        // thread that holds the GIL.
        unsafe { PyBuffer_Release(self.raw) }
    }
}

/// Borrows `obj`'s memory for `access` and runs `f` on it with the GIL
/// released (under [`guarded`]); the view is released once `f` has returned.
pub fn detached<R: Send>(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    access: Access,
    f: impl FnOnce(Raw) -> Result<R, Failure> + Send,
) -> PyResult<R> {
    let mut slot = Slot::new();
    let view = View::get(obj, access, &mut slot)?;
    let raw = view.raw();
    let result = py.detach(move || guarded(|| f(raw)));
    drop(view);
    result.map_err(|f| f.into_pyerr(py))
}

/// The objects [`new_filled`] makes.
#[derive(Clone, Copy)]
pub enum NewObject {
    /// `bytes`, for `read`.
    Bytes,
    /// `bytearray`, for `generate`.
    ByteArray,
}

/// A pointer moved into a closure that runs with the GIL released.
struct SendPtr(*mut u8);

// SAFETY: used only by `new_filled`, for an object that it owns and keeps
// alive until the closure returns; no other thread can reach that object.
unsafe impl Send for SendPtr {}

/// A new `bytes` or `bytearray` of `len` bytes (at most `isize::MAX`) whose
/// contents are not initialised, and a pointer to them.
///
/// The caller owns the object alone until it returns it, and may write the
/// bytes until then (the documented way to build a bytes object); nothing in
/// Rust may read them before they are written.
fn new_uninit<'py>(py: Python<'py>, kind: NewObject, len: usize) -> PyResult<(Bound<'py, PyAny>, *mut u8)> {
    // SAFETY: the GIL is held; a NULL source asks for an uninitialised object
    // of `len` bytes, owned by us.
    let obj = unsafe {
        match kind {
            NewObject::Bytes => ffi::PyBytes_FromStringAndSize(std::ptr::null(), len as Py_ssize_t),
            NewObject::ByteArray => ffi::PyByteArray_FromStringAndSize(std::ptr::null(), len as Py_ssize_t),
        }
    };
    if obj.is_null() {
        let what = match kind {
            NewObject::Bytes => "cannot allocate the bytes",
            NewObject::ByteArray => "cannot allocate the bytearray",
        };
        return Err(PyErr::take(py).unwrap_or_else(|| PyMemoryError::new_err(what)));
    }
    // SAFETY: a new, owned, non-null reference.
    let object = unsafe { Bound::from_owned_ptr(py, obj) };
    // SAFETY: the object is ours alone until returned, and it is not resized
    // before then, so its storage stays where it is.
    let start = unsafe {
        match kind {
            NewObject::Bytes => ffi::PyBytes_AsString(obj),
            NewObject::ByteArray => ffi::PyByteArray_AsString(obj),
        }
    };
    Ok((object, start.cast::<u8>()))
}

/// A new bytearray of `len` bytes (at most `isize::MAX`) whose contents are
/// left as the allocator gives them: not written, so that a large one costs
/// no page until it is filled. For buffers about to be filled
/// (`dgen.compat.create_bytearrays`, as dgen-py's).
pub fn new_unfilled_bytearray(py: Python<'_>, len: usize) -> PyResult<Bound<'_, PyAny>> {
    new_uninit(py, NewObject::ByteArray, len).map(|(object, _)| object)
}

/// `len` bytes at `ptr`, not yet initialised, as a slice to fill
/// (`dgen::Generator::fill_uninit_at` writes every byte of it).
///
/// # Safety
/// `ptr` points at `len` writable bytes that nothing else uses while the
/// slice lives.
unsafe fn uninit_slice<'a>(ptr: *mut u8, len: usize) -> &'a mut [MaybeUninit<u8>] {
    if len == 0 {
        return &mut [];
    }
    // SAFETY: as the caller promises; `MaybeUninit<u8>` has the layout of
    // `u8` and may hold any byte or none.
    unsafe { std::slice::from_raw_parts_mut(ptr.cast::<MaybeUninit<u8>>(), len) }
}

/// A new `bytes` or `bytearray` of `len` bytes (at most `isize::MAX`),
/// filled by `fill` with the GIL released (under [`guarded`]). `fill`
/// gets the object's bytes uninitialised, as the allocator gave them, and
/// must write every one before it returns `Ok` (a large object's pages are
/// then first touched by the generator's workers, not zeroed on this thread
/// first); on `Err` the object is dropped unseen.
pub fn new_filled<'py>(
    py: Python<'py>,
    kind: NewObject,
    len: usize,
    fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> Result<(), Failure> + Send,
) -> PyResult<Bound<'py, PyAny>> {
    let (object, start) = new_uninit(py, kind, len)?;
    let ptr = SendPtr(start);
    let result = py.detach(move || {
        guarded(|| {
            let ptr = ptr;
            // SAFETY: `ptr` points at the new object's `len` bytes, which only
            // this call can reach until the object is returned.
            fill(unsafe { uninit_slice(ptr.0, len) })
        })
    });
    result.map_err(|f| f.into_pyerr(py))?;
    Ok(object)
}

/// As [`new_filled`] for `bytes`, with the GIL held: for small objects,
/// whose fill takes less time than handing the GIL over and back would.
pub fn new_bytes_attached<'py>(
    py: Python<'py>,
    len: usize,
    fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> Result<(), Failure>,
) -> PyResult<Bound<'py, PyAny>> {
    let (object, start) = new_uninit(py, NewObject::Bytes, len)?;
    // SAFETY: `start` points at the new object's `len` bytes, which only this
    // call can reach until the object is returned.
    guarded(|| fill(unsafe { uninit_slice(start, len) })).map_err(|f| f.into_pyerr(py))?;
    Ok(object)
}

/// The exporter's own error (TypeError for an object without the buffer
/// protocol, BufferError for a read-only or non-contiguous one), with what
/// the call needs said first.
fn explain(py: Python<'_>, access: Access) -> PyErr {
    let err = PyErr::take(py).unwrap_or_else(|| PyBufferError::new_err("the object refused to export a buffer"));
    let need = match access {
        Access::Write => "buf must be a writable, C-contiguous buffer (bytearray, memoryview, numpy array, mmap)",
        Access::Read => "buf must be a C-contiguous buffer (bytes, bytearray, memoryview, numpy array, mmap)",
        Access::WriteFloats => {
            "buf must be a writable, C-contiguous buffer of float32 values (numpy float32 array, array('f'), bytearray)"
        }
    };
    let msg = format!("{need}: {}", err.value(py));
    let new =
        if err.is_instance_of::<PyTypeError>(py) { PyTypeError::new_err(msg) } else { PyBufferError::new_err(msg) };
    new.set_cause(py, Some(err));
    new
}
