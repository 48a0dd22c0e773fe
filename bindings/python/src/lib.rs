//! `dgen._dgen`, the extension module behind the Python package `dgen`.
//!
//! libdgen's generator as Python objects: zero-copy fills into any writable
//! buffer with the GIL released, errors as exceptions that name the field
//! and the value, and no panic ever reaching the interpreter (every call into
//! the library runs under `errors::guarded`).

#![deny(unsafe_op_in_unsafe_fn)]

mod args;
mod buffer;
mod config;
mod errors;
mod generator;
mod object;
mod pool;
mod state;
mod storage;
mod vectors;
mod view;

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyList, PyTuple};

use crate::args::py_fn;
use crate::buffer::NewObject;
use crate::config::Args;
use crate::errors::{guarded, lib_error, MismatchError};
use crate::generator::Generator;

py_fn! {
    /// Generates `size` bytes in one call and returns them as a bytearray: the
    /// first `size` bytes of `Generator(size, **config)`. The keyword arguments
    /// are the Generator's. The GIL is released while the bytes are generated.
    fn generate<'py>(py; size; dedup_ratio, compress_ratio, dedup_unit, seed, threads, numa_mode, numa_node, compressor)
        -> PyResult<Bound<'py, PyByteArray>>,
    text_signature = "(size, dedup_ratio=1.0, compress_ratio=1.0, dedup_unit=4096, seed=None, threads=0, \
                      numa_mode='auto', numa_node=None, compressor='auto')",
    {
        let config = Args {
            size: None, dedup_ratio, compress_ratio, dedup_unit, seed, threads, numa_mode, numa_node, compressor,
        };
        new_bytearray(py, size, config)
    }
}

/// What `generate` returns, in a function of its own so that rustfmt
/// formats it (it leaves what is inside `py_fn! { }` as written).
fn new_bytearray<'py>(
    py: Python<'py>,
    size: &Bound<'py, PyAny>,
    config: Args<'_, 'py>,
) -> PyResult<Bound<'py, PyByteArray>> {
    const RANGE: &str = "must be an integer from 0 to 2**63-1 (a bytearray's limit)";
    let len: u64 = args::uint(size, "size", RANGE)?;
    if len > isize::MAX as u64 {
        return Err(args::invalid("size", RANGE, size));
    }
    let config = Args { size: Some(size), ..config }.config()?;
    let gen = dgen::Generator::new(config).map_err(|e| lib_error(py, e))?;
    let array = buffer::new_filled(py, NewObject::ByteArray, len as usize, move |buf| {
        // A new object's pages were never written: ordinary stores, each
        // page first touched by the thread that fills it.
        gen.fill_uninit_at(0, buf)?;
        // Dropping the generator joins its worker threads: not under the GIL.
        drop(gen);
        Ok(())
    })?;
    Ok(array.cast_into()?)
}

/// The machine as libdgen sees it, and where a generator with these settings
/// would run its worker threads, as a dict: `source` ("sysfs", "hwloc" or
/// "fallback"), `nodes` (each with `node` and `cpus`), `allowed_cpus`,
/// `cores` and `placement` (`threads`, `numa_node`, `pinned`).
#[pyfunction]
#[pyo3(signature = (threads=None, numa_mode=None, numa_node=None),
       text_signature = "(threads=0, numa_mode='auto', numa_node=None)")]
fn topology<'py>(
    py: Python<'py>,
    threads: Option<&Bound<'py, PyAny>>,
    numa_mode: Option<&Bound<'py, PyAny>>,
    numa_node: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let config = Args { threads, numa_mode, numa_node, ..Args::default() }.config()?;
    let json = guarded(|| {
        let topo = dgen::Topology::current();
        let placement = topo.plan(config.threads, config.numa_mode, config.numa_node)?;
        Ok(topo.to_json(&placement))
    })
    .map_err(|f| f.into_pyerr(py))?;
    py.import("json")?.call_method1("loads", (json,))
}

/// `(min, max)`: the smallest and largest values the numeric setting
/// `field` accepts, the numbers the library's own checks and messages use
/// (ints for integer settings, floats for the ratios). `dedup_unit` and
/// `block_size` are also multiples of 4096; `compress_ratio` may be capped
/// lower by a named compressor. ValueError for a name that is no setting or
/// a setting that is not a number (`numa_node`, `direct`, `engine` names).
#[pyfunction]
fn param_bounds<'py>(py: Python<'py>, field: &str) -> PyResult<Bound<'py, pyo3::types::PyTuple>> {
    use dgen::Field;
    let f = Field::from_name(field).ok_or_else(|| {
        let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        pyo3::exceptions::PyValueError::new_err(format!("field must be one of {}, got {field:?}", names.join(", ")))
    })?;
    let b = f.bounds().ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err(format!("{f} has no numeric bounds ({})", f.expected()))
    })?;
    match f {
        Field::DedupRatio | Field::CompressRatio => (b.min, b.max).into_pyobject(py),
        // 64-bit settings: the exact 2**64-1, which the f64 bound rounds up.
        _ if b.max >= u64::MAX as f64 => (b.min as u64, u64::MAX).into_pyobject(py),
        _ => (b.min as u64, b.max as u64).into_pyobject(py),
    }
}

/// `count` new bytearrays of `size` bytes each, their contents left as the
/// allocator gives them (not zeroed, so large ones cost no page until they
/// are filled): what `dgen.compat.create_bytearrays` returns.
#[pyfunction]
fn _bytearrays<'py>(py: Python<'py>, count: usize, size: usize) -> PyResult<Bound<'py, PyList>> {
    if size > isize::MAX as usize {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "size must be at most 2**63-1 (a bytearray's limit), got {size}"
        )));
    }
    let list = PyList::empty(py);
    for _ in 0..count {
        list.append(buffer::new_unfilled_bytearray(py, size)?)?;
    }
    Ok(list)
}

/// libdgen for Python: synthetic data for storage testing, with the dedup and
/// compression ratios you ask for, reproducible from a seed, generated in
/// place into your buffers.
#[pymodule]
fn _dgen(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Generator>()?;
    m.add_class::<state::WriteState>()?;
    let mismatch = py.get_type::<MismatchError>();
    // What only verify_file fills in; verify_at's errors read None.
    for attr in ["report", "wrong_blocks", "missing_blocks"] {
        mismatch.setattr(attr, py.None())?;
    }
    m.add("MismatchError", mismatch)?;
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    m.add_function(wrap_pyfunction!(topology, m)?)?;
    m.add_function(wrap_pyfunction!(param_bounds, m)?)?;
    m.add_function(wrap_pyfunction!(storage::write_file, m)?)?;
    m.add_function(wrap_pyfunction!(storage::verify_file, m)?)?;
    m.add_function(wrap_pyfunction!(object::put_objects, m)?)?;
    m.add_function(wrap_pyfunction!(object::get_objects, m)?)?;
    m.add_function(wrap_pyfunction!(object::verify_objects, m)?)?;
    m.add_function(wrap_pyfunction!(vectors::fill_f32_at, m)?)?;
    m.add_function(wrap_pyfunction!(vectors::normalize_rows, m)?)?;
    // What dgen.compat builds dgen-py's API from.
    m.add("BytesView", view::type_object(py)?)?;
    m.add_class::<pool::BufferPool>()?;
    m.add_function(wrap_pyfunction!(pool::bench_rolling_pool, m)?)?;
    m.add_function(wrap_pyfunction!(vectors::_float_view, m)?)?;
    m.add_function(wrap_pyfunction!(_bytearrays, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("LIBRARY_VERSION", dgen::VERSION)?;
    let names: Vec<&str> = dgen::Compressor::ALL.iter().map(|c| c.name()).collect();
    m.add("COMPRESSORS", PyTuple::new(py, names)?)?;
    m.add("GRANULE", dgen::GRANULE)?;
    Ok(())
}
