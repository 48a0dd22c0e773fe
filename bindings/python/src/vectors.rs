//! Seeded float32 vectors (`dgen.fill_f32_at`, `dgen.normalize_rows`) and
//! the `BytesView` of them that `dgen.compat`'s float functions return.
//!
//! The values are the library's (`dgen::vectors`), so they equal what the C,
//! Go and Rust faces give for the same seed and indexes. Large calls are
//! split over threads with the GIL released; each value is a pure function
//! of its index, so the split never changes a value.

use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::args;
use crate::buffer;
use crate::config::given;
use crate::errors::{guarded, lib_error, Failure};
use crate::view::{self, Block};

/// Values per call below which one thread does the work (starting threads
/// costs more than they save).
const PARALLEL_VALUES: usize = 1 << 20;

/// Runs `f(first, part)` over `data` split into parts of whole `unit`s
/// (`first` is the index of the part's first value in `data`), on this
/// thread and up to `threads - 1` scoped threads that take parts from a
/// shared list, so that parts of a thread that could not start are done by
/// the others. Small data is done here in one part.
fn split<F>(threads: usize, unit: usize, data: &mut [f32], f: F) -> Result<(), dgen::Error>
where
    F: Fn(usize, &mut [f32]) -> Result<(), dgen::Error> + Sync,
{
    let unit = unit.max(1);
    let units = data.len() / unit;
    let parts = threads.min(units).min(data.len() / PARALLEL_VALUES).max(1);
    if parts == 1 {
        return f(0, data);
    }
    let per = units.div_ceil(parts) * unit;
    let queue = Mutex::new(data.chunks_mut(per).enumerate().collect::<Vec<_>>());
    let work = || -> Result<(), dgen::Error> {
        loop {
            // A panic in `f` is re-raised below, so a poisoned list is never
            // read after it.
            let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match next {
                Some((i, part)) => f(i * per, part)?,
                None => return Ok(()),
            }
        }
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> =
            (1..parts).filter_map(|_| std::thread::Builder::new().spawn_scoped(scope, work).ok()).collect();
        let mut result = work();
        for h in helpers {
            let r = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            result = result.and(r);
        }
        result
    })
}

/// The thread count a `threads` argument asks for: 0 is every CPU.
fn thread_count(threads: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
    let n: usize = match given(threads) {
        Some(v) => args::uint(v, "threads", "must be from 0 (all CPUs) to 4096")?,
        None => 0,
    };
    if n > dgen::MAX_THREADS {
        return Err(args::invalid("threads", "must be from 0 (all CPUs) to 4096", threads.unwrap()));
    }
    Ok(if n == 0 { dgen::default_threads() } else { n })
}

/// A bound of the range as a float32: the library says what is wrong with
/// a NaN, an infinity or `low >= high`; a finite number beyond float32's
/// range is named here, as given.
fn bound(value: Option<&Bound<'_, PyAny>>, field: &str, default: f32) -> PyResult<f32> {
    let Some(v) = given(value) else { return Ok(default) };
    let x = args::ratio(v, field, "must be a finite number")?;
    let y = x as f32;
    if x.is_finite() && !y.is_finite() {
        return Err(args::invalid(field, "must be within float32's range (about ±3.4e38)", v));
    }
    Ok(y)
}

/// Fills `out` with the values from `index` on, split over `threads`.
fn fill(seed: u64, index: u64, low: f32, high: f32, threads: usize, out: &mut [f32]) -> Result<(), Failure> {
    // Checked once for the whole range, so that no part fills before a
    // bad argument is reported.
    dgen::vectors::check_f32_args(index, out.len(), low, high)?;
    split(threads, 1, out, |first, part| dgen::vectors::fill_f32_at(seed, index + first as u64, low, high, part))?;
    Ok(())
}

fn normalize(dim: usize, threads: usize, data: &mut [f32]) -> Result<(), Failure> {
    // Checked for the whole buffer first: parts are whole rows only if it is.
    dgen::vectors::normalize_rows(&mut [], dim)?;
    if !data.len().is_multiple_of(dim) {
        return Err(dgen::vectors::normalize_rows(data, dim).unwrap_err().into());
    }
    split(threads, dim, data, |_, part| dgen::vectors::normalize_rows(part, dim))?;
    Ok(())
}

const SEED: &str = "must be an integer from 0 to 2**64-1";
const INDEX: &str = "must be an integer from 0 to 2**64-1";

/// Fills `buf` (a writable float32 buffer: a numpy float32 array,
/// `array('f')`, or a bytearray taken as float32 values) with elements
/// `index, index + 1, ...` of the float32 sequence of `seed`, uniform over
/// `[low, high)`, and returns how many values it wrote.
///
/// Vector `v` of dimension `dim` is the elements `[v * dim, (v + 1) * dim)`.
/// Every value is a pure function of `seed`, its index, `low` and `high`,
/// the same in C (`dgen_fill_f32_at`), Go, Rust and here, so any range can
/// be filled on its own. Calls of a million values and more are split over
/// `threads` threads (0: every CPU) with the GIL released.
///
/// ValueError (naming the argument and the value) for a `low` or `high`
/// that is not finite, `high <= low`, `index + len` past 2**64, or a buffer
/// of another element type; TypeError for an object without the buffer
/// protocol; BufferError for a read-only or non-contiguous one.
#[pyfunction]
#[pyo3(signature = (buf, index=None, *, seed, low=None, high=None, threads=None),
       text_signature = "(buf, index=0, *, seed, low=0.0, high=1.0, threads=0)")]
#[allow(clippy::too_many_arguments)]
pub fn fill_f32_at<'py>(
    py: Python<'py>,
    buf: &Bound<'py, PyAny>,
    index: Option<&Bound<'py, PyAny>>,
    seed: &Bound<'py, PyAny>,
    low: Option<&Bound<'py, PyAny>>,
    high: Option<&Bound<'py, PyAny>>,
    threads: Option<&Bound<'py, PyAny>>,
) -> PyResult<usize> {
    let seed: u64 = args::uint(seed, "seed", SEED)?;
    let index: u64 = match given(index) {
        Some(v) => args::uint(v, "index", INDEX)?,
        None => 0,
    };
    let (low, high) = (bound(low, "low", 0.0)?, bound(high, "high", 1.0)?);
    let threads = thread_count(threads)?;
    buffer::detached_f32(py, buf, |out| {
        fill(seed, index, low, high, threads, out)?;
        Ok(out.len())
    })
}

/// Scales every row of `dim` float32 values in `buf` to unit L2 norm, in
/// place (rows whose norm is 0 or NaN stay as they are). `buf` is as for
/// `fill_f32_at`; its length must be a whole number of rows. Large buffers
/// are split over `threads` threads (0: every CPU) with the GIL released.
#[pyfunction]
#[pyo3(signature = (buf, dim, *, threads=None), text_signature = "(buf, dim, *, threads=0)")]
pub fn normalize_rows<'py>(
    py: Python<'py>,
    buf: &Bound<'py, PyAny>,
    dim: &Bound<'py, PyAny>,
    threads: Option<&Bound<'py, PyAny>>,
) -> PyResult<()> {
    let dim: usize = args::uint(dim, "dim", "must be an integer >= 1")?;
    if dim == 0 {
        return Err(lib_error(py, dgen::vectors::normalize_rows(&mut [], 0).unwrap_err()));
    }
    let threads = thread_count(threads)?;
    buffer::detached_f32(py, buf, |data| normalize(dim, threads, data))
}

/// `count` values of the float32 sequence of `seed` from index 0, in a new
/// `BytesView` (rows of `dim` scaled to unit norm when `normalize`): what
/// `dgen.compat.generate_uniform` and `generate_uniform_vectors` return.
#[pyfunction]
#[pyo3(signature = (count, dim, seed, low, high, normalize, threads))]
#[allow(clippy::too_many_arguments)]
pub fn _float_view<'py>(
    py: Python<'py>,
    count: &Bound<'py, PyAny>,
    dim: usize,
    seed: &Bound<'py, PyAny>,
    low: &Bound<'py, PyAny>,
    high: &Bound<'py, PyAny>,
    normalize: bool,
    threads: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let count: u64 = args::uint(count, "count", "must be an integer from 0 to 2**61")?;
    let seed: u64 = args::uint(seed, "seed", SEED)?;
    let (low, high) = (bound(Some(low), "low", 0.0)?, bound(Some(high), "high", 1.0)?);
    let threads = thread_count(Some(threads))?;
    let bytes = count.checked_mul(4).ok_or_else(|| PyValueError::new_err(format!("count {count} is too large")))?;
    // Arguments first, so that a bad one is reported before any allocation.
    dgen::vectors::check_f32_args(0, 0, low, high).map_err(|e| lib_error(py, e))?;
    let mut block = Block::zeroed(py, bytes)?;
    let out = block.floats_mut();
    py.detach(|| {
        guarded(|| {
            fill(seed, 0, low, high, threads, out)?;
            if normalize && dim > 0 {
                self::normalize(dim, threads, out)?;
            }
            Ok(())
        })
    })
    .map_err(|f| f.into_pyerr(py))?;
    let len = block.len();
    view::new_view(py, Arc::new(block), 0, len)
}
