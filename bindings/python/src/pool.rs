//! `dgen.compat.BufferPool`: many small objects cut from 1 MiB blocks of one
//! generated stream, handed out as `BytesView`s without a copy, as dgen-py's
//! pool hands them out; and `bench_rolling_pool`, which times the same pool
//! without Python in the loop.
//!
//! A block is refilled in place when no view holds it any more (the common
//! case: a caller writes each object and drops it), so a long run of small
//! slices allocates nothing but the view objects. A block that views still
//! hold is left to them and a new one is made.

use std::sync::Arc;
use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::args;
use crate::config::given;
use crate::errors::{guarded, Failure};
use crate::view::{self, Block};

/// The pool's block: slices up to this size are cut from the current block.
pub const BLOCK: usize = 1 << 20;

/// The pool without Python: blocks of an endless stream, in stream order.
struct Pool {
    gen: Arc<dgen::Generator>,
    /// Stream offset of the next block (or large slice).
    next: u64,
    block: Arc<Block>,
    used: usize,
}

impl Pool {
    /// A pool over a fresh endless stream with these ratios (a new seed),
    /// its first block generated. The generator fills on the calling thread
    /// only, so no worker thread is ever left behind a fork.
    fn new(dedup_ratio: f64, compress_ratio: f64) -> Result<Pool, Failure> {
        let config = dgen::Config { size: 0, dedup_ratio, compress_ratio, threads: 1, ..dgen::Config::default() };
        let gen = Arc::new(dgen::Generator::new(config)?);
        let mut pool = Pool { gen, next: 0, block: Arc::new(Block::empty()), used: 0 };
        pool.refill()?;
        Ok(pool)
    }

    fn remaining(&self) -> usize {
        self.block.len() - self.used
    }

    /// Generates the next block: into the current one when no view holds
    /// it, else into a new one.
    fn refill(&mut self) -> Result<(), Failure> {
        let at = self.next;
        match Arc::get_mut(&mut self.block) {
            Some(block) if block.len() == BLOCK => self.gen.fill_at(at, block.bytes_mut())?,
            _ => {
                let mut block = Block::try_zeroed(BLOCK).ok_or(Failure::NoMemory)?;
                self.gen.fill_at(at, block.bytes_mut())?;
                self.block = Arc::new(block);
            }
        }
        self.next += BLOCK as u64;
        self.used = 0;
        Ok(())
    }

    /// The next `n` bytes (1 to [`BLOCK`]): their block and where they start.
    #[inline]
    fn take(&mut self, n: usize) -> Result<(Arc<Block>, usize), Failure> {
        if n > self.remaining() {
            self.refill()?;
        }
        let start = self.used;
        self.used += n;
        Ok((Arc::clone(&self.block), start))
    }

    /// Claims `n` bytes of the stream for a slice larger than a block:
    /// where they start, and the generator to fill them with.
    fn claim_large(&mut self, n: usize) -> (u64, Arc<dgen::Generator>) {
        let at = self.next;
        self.next += n as u64;
        (at, Arc::clone(&self.gen))
    }
}

/// A block of `n` bytes of the stream at `at`.
fn large_block(gen: &dgen::Generator, at: u64, n: usize) -> Result<Block, Failure> {
    let mut block = Block::try_zeroed(n).ok_or(Failure::NoMemory)?;
    gen.fill_at(at, block.bytes_mut())?;
    Ok(block)
}

/// `size` of `next_slice` and `obj_size` of `bench_rolling_pool`: an integer
/// above 0. An exact small `int` is read without the generic conversion.
#[inline]
fn positive_size(value: &Bound<'_, PyAny>, field: &str) -> PyResult<usize> {
    let obj = value.as_ptr();
    // SAFETY: `value` is a live object and the GIL is held (we have a `Bound`).
    if unsafe { pyo3::ffi::PyLong_CheckExact(obj) } != 0 {
        // SAFETY: as above; an overflow sets an error, cleared below.
        let v = unsafe { pyo3::ffi::PyLong_AsLong(obj) };
        if v > 0 {
            return Ok(v as usize);
        }
        // SAFETY: the GIL is held; clears an overflow error, if any, which the
        // generic path below reports with the argument's name.
        unsafe { pyo3::ffi::PyErr_Clear() };
    }
    let v: u64 = args::uint(value, field, "must be an integer > 0")?;
    if v == 0 {
        return Err(args::invalid(field, "must be an integer > 0", value));
    }
    usize::try_from(v).map_err(|_| args::invalid(field, "is more bytes than memory holds", value))
}

/// A ratio argument with a default of 1.0; its range is the library's to check.
fn ratio_arg(value: Option<&Bound<'_, PyAny>>, field: &str, range: &str) -> PyResult<f64> {
    match given(value) {
        Some(v) => args::ratio(v, field, range),
        None => Ok(1.0),
    }
}

const DEDUP_RANGE: &str = "must be a number from 1.0 to 1024.0";
const COMPRESS_RANGE: &str = "must be a number from 1.0 to 32.0";

/// Many small objects cut from one generated stream, without copies.
///
/// `next_slice(n)` returns a `BytesView` of the next `n` bytes: for `n` up to
/// 1 MiB a view into the current 1 MiB block (a new block is generated when
/// too few bytes are left), above that a block of its own. Slices stay valid
/// however long they are kept; a block is reused in place only once no slice
/// of it is left. Ratios are honoured as given (fractional ones included).
#[pyclass(module = "dgen.compat", name = "BufferPool")]
pub struct BufferPool {
    pool: Pool,
    dedup_ratio: f64,
    compress_ratio: f64,
}

#[pymethods]
impl BufferPool {
    #[new]
    #[pyo3(signature = (dedup_ratio=None, compress_ratio=None),
           text_signature = "(dedup_ratio=1.0, compress_ratio=1.0)")]
    fn new(
        py: Python<'_>,
        dedup_ratio: Option<&Bound<'_, PyAny>>,
        compress_ratio: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<BufferPool> {
        let dedup_ratio = ratio_arg(dedup_ratio, "dedup_ratio", DEDUP_RANGE)?;
        let compress_ratio = ratio_arg(compress_ratio, "compress_ratio", COMPRESS_RANGE)?;
        let pool = guarded(|| Pool::new(dedup_ratio, compress_ratio)).map_err(|f| f.into_pyerr(py))?;
        Ok(BufferPool { pool, dedup_ratio, compress_ratio })
    }

    /// A read-only `BytesView` of the next `size` bytes (an integer > 0).
    fn next_slice<'py>(slf: &Bound<'py, Self>, size: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let n = positive_size(size, "size")?;
        if n <= BLOCK {
            // With the GIL held throughout: a refill takes less time than a
            // 1 MiB write, and no other thread can find the pool borrowed.
            let (block, start) = {
                let mut this = slf.borrow_mut();
                guarded(|| this.pool.take(n)).map_err(|f| f.into_pyerr(py))?
            };
            return view::new_view(py, block, start, n);
        }
        let (at, gen) = slf.borrow_mut().pool.claim_large(n);
        let block = py.detach(|| guarded(|| large_block(&gen, at, n))).map_err(|f| f.into_pyerr(py))?;
        view::new_view(py, Arc::new(block), 0, n)
    }

    /// New ratios from the next slice on; the current block is dropped and a
    /// new stream (a new seed) begins. Nothing happens when both are unchanged.
    #[pyo3(signature = (dedup_ratio=None, compress_ratio=None),
           text_signature = "($self, dedup_ratio=1.0, compress_ratio=1.0)")]
    fn reconfigure(
        &mut self,
        py: Python<'_>,
        dedup_ratio: Option<&Bound<'_, PyAny>>,
        compress_ratio: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let dedup_ratio = ratio_arg(dedup_ratio, "dedup_ratio", DEDUP_RANGE)?;
        let compress_ratio = ratio_arg(compress_ratio, "compress_ratio", COMPRESS_RANGE)?;
        if (dedup_ratio, compress_ratio) == (self.dedup_ratio, self.compress_ratio) {
            return Ok(());
        }
        self.pool = guarded(|| Pool::new(dedup_ratio, compress_ratio)).map_err(|f| f.into_pyerr(py))?;
        (self.dedup_ratio, self.compress_ratio) = (dedup_ratio, compress_ratio);
        Ok(())
    }

    /// Bytes left in the current block before the next refill.
    #[getter]
    fn remaining(&self) -> usize {
        self.pool.remaining()
    }

    /// The dedup ratio, as given (dgen-py reports it truncated to an int).
    #[getter]
    fn dedup_ratio(&self) -> f64 {
        self.dedup_ratio
    }

    /// The compress ratio, as given (dgen-py reports it truncated to an int).
    #[getter]
    fn compress_ratio(&self) -> f64 {
        self.compress_ratio
    }

    fn __repr__(&self) -> String {
        format!(
            "dgen.compat.BufferPool(dedup_ratio={:?}, compress_ratio={:?}, remaining={})",
            self.dedup_ratio,
            self.compress_ratio,
            self.pool.remaining()
        )
    }
}

/// Times `BufferPool.next_slice(obj_size)` in Rust, without Python in the
/// loop: max(total_bytes // obj_size, 1) slices of a new pool (ratios 1),
/// after one untimed slice. Returns `(bytes_generated, elapsed_seconds)`. The
/// GIL is released during the run.
#[pyfunction]
#[pyo3(signature = (obj_size, total_bytes))]
pub fn bench_rolling_pool<'py>(
    py: Python<'py>,
    obj_size: &Bound<'py, PyAny>,
    total_bytes: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let n = positive_size(obj_size, "obj_size")?;
    let total: u64 = args::uint(total_bytes, "total_bytes", "must be an integer from 0 to 2**64-1")?;
    let calls = (total / n as u64).max(1);
    let (bytes, seconds) = py
        .detach(|| {
            guarded(|| {
                let mut pool = Pool::new(1.0, 1.0)?;
                let one = |pool: &mut Pool| -> Result<(), Failure> {
                    if n <= BLOCK {
                        drop(pool.take(n)?);
                    } else {
                        let (at, gen) = pool.claim_large(n);
                        drop(large_block(&gen, at, n)?);
                    }
                    Ok(())
                };
                one(&mut pool)?;
                let start = Instant::now();
                for _ in 0..calls {
                    one(&mut pool)?;
                }
                Ok((calls.saturating_mul(n as u64), start.elapsed().as_secs_f64()))
            })
        })
        .map_err(|f| f.into_pyerr(py))?;
    PyTuple::new(py, [bytes.into_pyobject(py)?.into_any(), seconds.into_pyobject(py)?.into_any()])
}
