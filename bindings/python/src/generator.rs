//! `dgen.Generator`: the library's generator as a Python object.
//!
//! The class is frozen (no per-call borrow flag) and shared freely between
//! Python threads. Every fill and verify runs with the GIL released. The
//! library's generator is thread-safe as it is: its stream position is an
//! atomic (`fill` is `dgen::Generator::fill_shared`, which reserves its range
//! with one compare-and-swap, so threads that share a stream each get their
//! own consecutive range), and it works in the child of a fork. `close` takes
//! the generator out under a write lock, so it waits for calls in flight and
//! later calls see that it is closed.

use std::mem::MaybeUninit;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use crate::args;
use crate::buffer::{self, Access, NewObject, Raw};
use crate::config::{numa_mode_name, Args};
use crate::errors::{closed_error, guarded, lib_error, Failure};
use crate::storage::{self, IoArgs, Source};
use crate::view::{self, Block};
use dgen::storage::Operation;

/// A seekable, reproducible stream of synthetic bytes with the dedup ratio and
/// compression ratio you ask for.
///
/// Every byte is a pure function of (seed, config, offset). `size=0` makes an
/// endless stream. `seed=None` draws a seed, readable back as `g.seed`.
/// `fill`/`read`/`readinto` continue the stream; `fill_at` and `verify_at`
/// work on any range and may be called from many threads at once. The GIL is
/// released during every fill and verify, and buffers are filled in place.
///
/// Bad arguments raise ValueError (naming the field and the value) or
/// TypeError; ranges past the end of a sized stream raise ValueError.
#[pyclass(module = "dgen", name = "Generator", frozen)]
pub struct Generator {
    inner: RwLock<Option<dgen::Generator>>,
    /// The position when `close` took the generator, which `position` reads
    /// from then on.
    closed_pos: AtomicU64,
    config: dgen::Config,
    /// The seed in use (the drawn one when `seed=None`).
    #[pyo3(get)]
    seed: u64,
    /// Worker threads used for fills of 2 MiB and more (resolved from
    /// `threads=0`).
    #[pyo3(get)]
    threads: usize,
    /// The stream window small `_read_view`s are cut from.
    window: Mutex<Window>,
}

/// Bytes of the stream that views of small reads share: `block` holds the
/// stream's bytes at `[at, at + block.len())` when `valid`. A stream's bytes
/// at an offset never change, so a window stays right for as long as it is
/// kept; a new one is generated in place once no view holds the old one.
struct Window {
    block: Arc<Block>,
    at: u64,
    valid: bool,
}

/// The size of a [`Window`], and the alignment of its start.
const WINDOW: u64 = 1 << 20;

impl Generator {
    /// Builds the Python object from a parsed config.
    pub fn from_config(py: Python<'_>, config: dgen::Config) -> PyResult<Generator> {
        let gen = dgen::Generator::new(config.clone()).map_err(|e| lib_error(py, e))?;
        let seed = gen.seed();
        let threads = gen.threads();
        Ok(Generator {
            inner: RwLock::new(Some(gen)),
            closed_pos: AtomicU64::new(0),
            config: dgen::Config { seed: Some(seed), ..config },
            seed,
            threads,
            window: Mutex::new(Window { block: Arc::new(Block::empty()), at: 0, valid: false }),
        })
    }

    /// The live generator, or `Failure::Closed`. Taken with the GIL released:
    /// a `close` in progress may hold the write lock.
    fn live(&self) -> Result<RwLockReadGuard<'_, Option<dgen::Generator>>, Failure> {
        // Writers only swap the Option (a panic in between leaves it either
        // way), so a poisoned lock still holds a usable value.
        let guard = self.inner.read().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            return Err(Failure::Closed);
        }
        Ok(guard)
    }

    /// Runs `f` on the live generator, which stays in use (a `close` waits)
    /// until `f` returns. Called with the GIL released, as [`live`](Self::live).
    pub fn with_live<R>(&self, f: impl FnOnce(&dgen::Generator) -> R) -> Result<R, Failure> {
        let live = self.live()?;
        let gen = live.as_ref().ok_or(Failure::Closed)?;
        Ok(f(gen))
    }

    /// Claims the next `want` bytes of the stream (fewer at the end of a sized
    /// stream): `dgen::Generator::reserve`.
    fn reserve(&self, want: u64) -> Result<Range<u64>, Failure> {
        self.with_live(|gen| gen.reserve(want))
    }

    /// Gives back a range claimed by `reserve` whose fill failed, unless
    /// another thread has moved the position since.
    fn unreserve(&self, range: Range<u64>) {
        let _ = self.with_live(|gen| gen.unreserve(range));
    }

    /// Continues the stream into `raw`; runs with the GIL released.
    fn stream_fill(&self, raw: Raw) -> Result<usize, Failure> {
        // SAFETY: `raw` comes from a writable view that the caller holds
        // until this returns; nothing else in this process borrows it.
        let buf = unsafe { raw.as_mut() };
        self.with_live(|gen| gen.fill_shared(buf))?.map_err(Failure::from)
    }

    /// Fills `buf` with the stream's bytes at `start` (a range `reserve`
    /// claimed; an empty one asks the library nothing).
    fn fill_range(&self, start: u64, buf: &mut [u8]) -> Result<(), Failure> {
        self.with_live(|gen| if buf.is_empty() { Ok(()) } else { gen.fill_at(start, buf) })?.map_err(Failure::from)
    }

    /// As `fill_range`, into a new object's bytes that were never written
    /// (`dgen::Generator::fill_uninit_at`), every one of which it writes.
    fn fill_new(&self, start: u64, buf: &mut [MaybeUninit<u8>]) -> Result<(), Failure> {
        self.with_live(|gen| if buf.is_empty() { Ok(()) } else { gen.fill_uninit_at(start, buf).map(drop) })?
            .map_err(Failure::from)
    }

    /// `filled`, after giving `range` back (see `unreserve`) when it failed.
    fn unreserve_on_error<T>(&self, range: Range<u64>, filled: PyResult<T>) -> PyResult<T> {
        if filled.is_err() {
            self.unreserve(range);
        }
        filled
    }

    /// The position: the live generator's, or the one it had when closed.
    fn current_position(&self) -> u64 {
        self.with_live(|gen| gen.position()).unwrap_or_else(|_| self.closed_pos.load(Ordering::Acquire))
    }

    /// `read`'s `n` as a byte count: None or negative for the rest of a sized
    /// stream (refused for an endless one).
    fn read_count(&self, n: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
        let want: u64 = match n {
            Some(v) if !v.is_none() => {
                let signed: i128 = args::int(v, "n")?;
                if signed < 0 {
                    u64::MAX
                } else {
                    u64::try_from(signed).map_err(|_| args::invalid("n", "must be at most 2**64-1", v))?
                }
            }
            _ => u64::MAX,
        };
        if want == u64::MAX && self.config.size == 0 {
            return Err(PyValueError::new_err(
                "read() of an endless stream (size=0) needs a byte count n; read(-1) reads to the end of sized streams only",
            ));
        }
        // A bytes object is at most isize::MAX long.
        Ok(want.min(isize::MAX as u64))
    }

    /// The stream's `len` bytes at `start` in a new bytes object, filled with
    /// the GIL held (for small reads).
    fn read_attached<'py>(&self, py: Python<'py>, start: u64, len: usize) -> PyResult<Bound<'py, PyAny>> {
        buffer::new_bytes_attached(py, len, |buf| self.fill_new(start, buf))
    }

    /// A view of the stream's `len` bytes at `start` (a small read) cut from
    /// the window that holds them, or None when they cross a window's end.
    /// Runs with the GIL held.
    fn window_view<'py>(&self, py: Python<'py>, start: u64, len: usize) -> PyResult<Option<Bound<'py, PyAny>>> {
        let at = start - start % WINDOW;
        let end = if self.config.size == 0 { u64::MAX } else { self.config.size };
        let size = WINDOW.min(end - at) as usize;
        if start - at + len as u64 > size as u64 {
            return Ok(None);
        }
        let block = {
            let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
            if !w.valid || w.at != at || w.block.len() != size {
                w.valid = false;
                let fill = |block: &mut Block| -> Result<(), Failure> {
                    self.with_live(|gen| gen.fill_at(at, block.bytes_mut()))?.map_err(Failure::from)
                };
                match Arc::get_mut(&mut w.block).filter(|b| b.len() == size) {
                    Some(block) => guarded(|| fill(block)),
                    None => guarded(|| {
                        let mut block = Block::try_zeroed(size).ok_or(Failure::NoMemory)?;
                        fill(&mut block)?;
                        w.block = Arc::new(block);
                        Ok(())
                    }),
                }
                .map_err(|f| f.into_pyerr(py))?;
                w.at = at;
                w.valid = true;
            }
            Arc::clone(&w.block)
        };
        view::new_view(py, block, (start - at) as usize, len).map(Some)
    }

    fn fill_into(&self, py: Python<'_>, buf: &Bound<'_, PyAny>) -> PyResult<usize> {
        buffer::detached(py, buf, Access::Write, |raw| self.stream_fill(raw))
    }

    fn check_open(&self) -> PyResult<()> {
        if self.closed() {
            return Err(closed_error());
        }
        Ok(())
    }
}

/// Reads of at most this many bytes keep the GIL while they fill.
pub const SMALL_READ: usize = 64 << 10;

/// `n` when it is an exact `int` from 0 to [`SMALL_READ`]: the common small
/// read, parsed without the generic (and, under the stable ABI, slower)
/// 128-bit conversion. Anything else takes the generic path.
#[inline]
fn small_count(n: &Bound<'_, PyAny>) -> Option<usize> {
    let obj = n.as_ptr();
    // SAFETY: `n` is a live object and the GIL is held (we have a `Bound`).
    if unsafe { pyo3::ffi::PyLong_CheckExact(obj) } == 0 {
        return None;
    }
    // SAFETY: as above; an overflow sets an error, cleared below.
    let v = unsafe { pyo3::ffi::PyLong_AsLong(obj) };
    if v == -1 {
        // SAFETY: the GIL is held; -1 may be an overflow with an error set,
        // which the generic path reports again with the argument's name.
        unsafe { pyo3::ffi::PyErr_Clear() };
        return None;
    }
    usize::try_from(v).ok().filter(|&v| v <= SMALL_READ)
}

/// `size` as the caller passed it, None included; `SizeArg(None)` only when
/// it was left out. (An `Option` argument cannot tell `size=None` from no
/// size: PyO3 maps both to `None`.)
pub struct SizeArg(Option<Py<PyAny>>);

fn size_given(v: &Bound<'_, PyAny>) -> PyResult<SizeArg> {
    Ok(SizeArg(Some(v.clone().unbind())))
}

#[pymethods]
impl Generator {
    #[new]
    #[pyo3(signature = (size=SizeArg(None), dedup_ratio=None, compress_ratio=None, dedup_unit=None, seed=None,
                        threads=None, numa_mode=None, numa_node=None, compressor=None),
           text_signature = "(size=0, dedup_ratio=1.0, compress_ratio=1.0, dedup_unit=4096, seed=None, threads=0, \
                             numa_mode='auto', numa_node=None, compressor='auto')")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        #[pyo3(from_py_with = size_given)] size: SizeArg,
        dedup_ratio: Option<&Bound<'_, PyAny>>,
        compress_ratio: Option<&Bound<'_, PyAny>>,
        dedup_unit: Option<&Bound<'_, PyAny>>,
        seed: Option<&Bound<'_, PyAny>>,
        threads: Option<&Bound<'_, PyAny>>,
        numa_mode: Option<&Bound<'_, PyAny>>,
        numa_node: Option<&Bound<'_, PyAny>>,
        compressor: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Generator> {
        let size = size.0.as_ref().map(|v| v.bind(py));
        let args =
            Args { size, dedup_ratio, compress_ratio, dedup_unit, seed, threads, numa_mode, numa_node, compressor };
        Generator::from_config(py, args.config()?)
    }

    /// Continues the stream into `buf` (any writable, C-contiguous buffer:
    /// bytearray, memoryview slice, numpy array of any dtype, mmap) and
    /// returns the number of bytes written: `len` of its bytes, less at the
    /// end of a sized stream, 0 after the end.
    fn fill(&self, py: Python<'_>, buf: &Bound<'_, PyAny>) -> PyResult<usize> {
        self.fill_into(py, buf)
    }

    /// Same as `fill`, under the name file objects use, so that code written
    /// for `io.RawIOBase` (and `shutil.copyfileobj` through `read`) works.
    fn readinto(&self, py: Python<'_>, buf: &Bound<'_, PyAny>) -> PyResult<usize> {
        self.fill_into(py, buf)
    }

    /// Fills all of `buf` with the stream's bytes at `[offset, offset +
    /// nbytes)`. Does not move the position. Safe to call from many threads at
    /// once. ValueError when the range passes the end of a sized stream.
    fn fill_at(&self, py: Python<'_>, offset: &Bound<'_, PyAny>, buf: &Bound<'_, PyAny>) -> PyResult<()> {
        let offset = args::offset(offset)?;
        buffer::detached(py, buf, Access::Write, |raw| {
            // SAFETY: `raw` is a writable view held until this returns.
            self.with_live(|gen| gen.fill_at(offset, unsafe { raw.as_mut() }))?.map_err(Failure::from)
        })
    }

    /// Checks that `buf` (any C-contiguous buffer, read-only is fine) holds the
    /// stream's bytes at `offset`. Returns None when it does; raises
    /// `dgen.MismatchError` with the offset of the first wrong byte, the
    /// expected byte and the byte found when it does not.
    fn verify_at(&self, py: Python<'_>, offset: &Bound<'_, PyAny>, buf: &Bound<'_, PyAny>) -> PyResult<()> {
        let offset = args::offset(offset)?;
        buffer::detached(py, buf, Access::Read, |raw| {
            // SAFETY: `raw` is a view held until this returns.
            self.with_live(|gen| gen.verify_at(offset, unsafe { raw.as_ref() }))?.map_err(Failure::from)
        })
    }

    /// Writes the stream's bytes `[offset, offset + length)` to `path` (a
    /// regular file, created when missing; a block device; a FIFO or
    /// character device, written in order; `"-"` is standard output) with the
    /// library's parallel writer, and returns the report as a dict.
    ///
    /// `jobs` workers (0: one per CPU) each take the next `block_size` bytes
    /// of the range (a multiple of 4096, at most 256 MiB), generate them into
    /// an aligned buffer and write them at their offset; `iodepth` above 1
    /// keeps that many writes in flight per worker through io_uring (with
    /// `engine="auto"`, `pwrite` where the kernel refuses it; `"sync"`: always
    /// `pwrite`; `"io_uring"`: an error where refused). `direct=True` opens
    /// the target with O_DIRECT. `length=None` runs to the end of a sized
    /// stream (an endless one needs a length). `sync=True` flushes the data
    /// to stable storage at the end. `truncate=True` cuts a regular file
    /// written to the end of a sized stream there (a range that ends earlier
    /// never cuts, so ranges written apart make one file). `part=(i, n)`
    /// narrows the range to part `i` (from 0, as MPI ranks count) of `n`
    /// contiguous parts on 4 KiB boundaries, the last taking the remainder:
    /// `n` runs with parts 0 to n-1 write exactly the range; a part left
    /// empty (fewer than `n` 4 KiB blocks) is a ValueError.
    ///
    /// The report has `bytes`, `seconds`, `gbps`, `iops`, `latency_us`
    /// (`p50`, `p90`, `p99`, `p999`, `max`, `mean`), `generate_seconds`,
    /// `io_seconds`, `bottleneck` and the rest of the command line's JSON
    /// report (`seed`, `engine`, `target`, `jobs`, ...).
    ///
    /// The GIL is released during the run. About every 0.1 s the calling
    /// thread takes it back to run Python's signal handlers and to call
    /// `progress(bytes_done, total_bytes)` when one is given. Ctrl-C stops
    /// the run: KeyboardInterrupt is raised, with the report of what was
    /// written as its `report` attribute (`prefix`: the bytes from `offset`
    /// on that are complete). An exception raised by `progress` stops the
    /// run the same way and is raised with the same `report`.
    ///
    /// Errors: ValueError for a bad option (naming it and its value) or a
    /// range past the end of the stream; OSError, with `errno` and `filename`
    /// where the system gave a reason (PermissionError, FileNotFoundError,
    /// ...), for a target that cannot be opened, written or synced, or that
    /// refuses O_DIRECT; each with `report`.
    ///
    /// `state=ws` (a `dgen.WriteState` opened for this generator's dataset
    /// with `write=True`) writes each dedup unit's next version and records
    /// it: a first pass gives the stream's bytes, every later pass new bytes
    /// with the same ratios. `offset` and `block_size` must then be
    /// multiples of the dedup unit and the target a file or block device;
    /// a state of another dataset, or opened with `write=False`, is a
    /// ValueError.
    #[pyo3(signature = (path, *, offset=None, length=None, jobs=None, block_size=None, iodepth=None, direct=None,
                        engine=None, sync=None, truncate=None, part=None, progress=None, state=None),
           text_signature = "($self, path, *, offset=0, length=None, jobs=0, block_size=1048576, iodepth=1, \
                             direct=False, engine='auto', sync=True, truncate=True, part=None, progress=None, \
                             state=None)")]
    #[allow(clippy::too_many_arguments)]
    fn write_file<'py>(
        &self,
        py: Python<'py>,
        path: &Bound<'py, PyAny>,
        offset: Option<&Bound<'py, PyAny>>,
        length: Option<&Bound<'py, PyAny>>,
        jobs: Option<&Bound<'py, PyAny>>,
        block_size: Option<&Bound<'py, PyAny>>,
        iodepth: Option<&Bound<'py, PyAny>>,
        direct: Option<&Bound<'py, PyAny>>,
        engine: Option<&Bound<'py, PyAny>>,
        sync: Option<&Bound<'py, PyAny>>,
        truncate: Option<&Bound<'py, PyAny>>,
        part: Option<&Bound<'py, PyAny>>,
        progress: Option<&Bound<'py, PyAny>>,
        state: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        self.check_open()?;
        let io =
            IoArgs { offset, length, jobs, block_size, iodepth, direct, engine, sync, truncate, part, progress, state };
        storage::run(py, Operation::Write, Source::Shared(self), path, io)
    }

    /// Reads `[offset, offset + length)` of `path` (a regular file, a block
    /// device, or a stream read in order; `"-"` is standard input) with the
    /// library's parallel verifier, compares every byte with the stream, and
    /// returns the report as a dict (`passed` is True).
    ///
    /// The I/O keywords, the GIL, Ctrl-C, `progress` and the errors are those
    /// of `write_file`. `length=None` checks to the end of a sized stream (of
    /// an endless one: all the data the target holds); a file longer than a
    /// sized stream fails when the range runs to its end.
    ///
    /// Raises `dgen.MismatchError` when the data is not the stream's: its
    /// message says what was found ("first wrong byte at offset 4100
    /// (expected 0x3a, found 0x00); 1 of 4096 4 KiB blocks are wrong", "data
    /// ends at 5242880, the dataset is 8388608"); `offset` is the first wrong
    /// byte (or where the data ends, or where the stream ends when the data
    /// goes on), `expected` and `found` the bytes there (None when no byte
    /// was wrong), `wrong_blocks` and `missing_blocks` count 4 KiB blocks,
    /// and `report` is the whole report (`passed` False, `problem`).
    ///
    /// `state=ws` (a `dgen.WriteState` of this generator's dataset) checks
    /// each dedup unit against the versions the state says it may hold and
    /// sorts every wrong unit into stale (an earlier write of itself: a
    /// lost write), misplaced (another unit's data), zero and corrupt; the
    /// report's `state` dict has the counts (`units_ok`, `units_unwritten`,
    /// `units_in_doubt`, `stale`, `misplaced`, `zero`, `corrupt`) and the
    /// lowest offsets of each class (`first_stale`, ...: lists of ints).
    /// Units never written are not checked.
    #[pyo3(signature = (path, *, offset=None, length=None, jobs=None, block_size=None, iodepth=None, direct=None,
                        engine=None, part=None, progress=None, state=None),
           text_signature = "($self, path, *, offset=0, length=None, jobs=0, block_size=1048576, iodepth=1, \
                             direct=False, engine='auto', part=None, progress=None, state=None)")]
    #[allow(clippy::too_many_arguments)]
    fn verify_file<'py>(
        &self,
        py: Python<'py>,
        path: &Bound<'py, PyAny>,
        offset: Option<&Bound<'py, PyAny>>,
        length: Option<&Bound<'py, PyAny>>,
        jobs: Option<&Bound<'py, PyAny>>,
        block_size: Option<&Bound<'py, PyAny>>,
        iodepth: Option<&Bound<'py, PyAny>>,
        direct: Option<&Bound<'py, PyAny>>,
        engine: Option<&Bound<'py, PyAny>>,
        part: Option<&Bound<'py, PyAny>>,
        progress: Option<&Bound<'py, PyAny>>,
        state: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        self.check_open()?;
        let io = IoArgs {
            offset,
            length,
            jobs,
            block_size,
            iodepth,
            direct,
            engine,
            part,
            progress,
            state,
            ..IoArgs::default()
        };
        storage::run(py, Operation::Verify, Source::Shared(self), path, io)
    }

    /// Reads up to `n` bytes of the stream as `bytes` (fewer at the end of a
    /// sized stream, empty after it). `n < 0` or None reads the rest of a sized
    /// stream; an endless stream needs an `n`.
    ///
    /// Reads of up to 64 KiB are filled into the new object with the GIL
    /// held: they take less time than handing the GIL to another thread and
    /// back would.
    #[pyo3(signature = (n=None, /))]
    fn read<'py>(&self, py: Python<'py>, n: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyBytes>> {
        self.check_open()?;
        let small = n.and_then(small_count);
        let want = match small {
            Some(small) => small as u64,
            None => self.read_count(n)?,
        };
        let range = self.reserve(want).map_err(|f| f.into_pyerr(py))?;
        let (start, len) = (range.start, (range.end - range.start) as usize);
        let filled = if small.is_some() {
            self.read_attached(py, start, len)
        } else {
            buffer::new_filled(py, NewObject::Bytes, len, |buf| self.fill_new(start, buf))
        };
        Ok(self.unreserve_on_error(range, filled)?.cast_into()?)
    }

    /// Reads up to `n` bytes of the stream (as `read`) into a new
    /// `dgen.compat.BytesView`, without a copy: what `dgen.compat`'s
    /// `get_chunk` returns. Reads of up to 64 KiB are views of a shared 1 MiB
    /// window of the stream, generated once for all the reads it serves.
    fn _read_view<'py>(&self, py: Python<'py>, n: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.check_open()?;
        let want = match small_count(n) {
            Some(small) => small as u64,
            None => self.read_count(Some(n))?,
        };
        let range = self.reserve(want).map_err(|f| f.into_pyerr(py))?;
        let (start, len) = (range.start, range.end - range.start);
        let filled = (|| {
            if len != 0 && len as usize <= SMALL_READ {
                if let Some(view) = self.window_view(py, start, len as usize)? {
                    return Ok(view);
                }
            }
            let mut block = Block::zeroed(py, len)?;
            let len = block.len();
            if len <= SMALL_READ {
                guarded(|| self.fill_range(start, block.bytes_mut())).map_err(|f| f.into_pyerr(py))?;
            } else {
                let buf = block.bytes_mut();
                py.detach(|| guarded(|| self.fill_range(start, buf))).map_err(|f| f.into_pyerr(py))?;
            }
            view::new_view(py, Arc::new(block), 0, len)
        })();
        self.unreserve_on_error(range, filled)
    }

    /// Moves the position, like a file's `seek`: `whence` 0 from the start
    /// (default), 1 from the current position, 2 from the end of a sized
    /// stream. Returns the new position. ValueError for a position before 0
    /// or past the end of a sized stream.
    #[pyo3(signature = (pos, whence=0, /))]
    fn seek(&self, py: Python<'_>, pos: &Bound<'_, PyAny>, whence: i32) -> PyResult<u64> {
        self.check_open()?;
        let delta: i128 = args::int(pos, "pos")?;
        let base: i128 = match whence {
            0 => 0,
            1 => self.current_position() as i128,
            2 if self.config.size != 0 => self.config.size as i128,
            2 => {
                return Err(PyValueError::new_err(
                    "seek from the end (whence=2) needs a sized stream; this one is endless",
                ))
            }
            _ => return Err(PyValueError::new_err(format!("whence must be 0, 1 or 2, got {whence}"))),
        };
        let target = base + delta;
        let end: i128 = if self.config.size == 0 { u64::MAX as i128 } else { self.config.size as i128 };
        if !(0..=end).contains(&target) {
            return Err(PyValueError::new_err(format!(
                "seek position must be from 0 to {end} (the end of the stream), got {target}"
            )));
        }
        // In range (checked above), so the library takes it.
        self.with_live(|gen| gen.set_position(target as u64))
            .map_err(|f| f.into_pyerr(py))?
            .map_err(|e| Failure::from(e).into_pyerr(py))?;
        Ok(target as u64)
    }

    /// The position, as files call it.
    fn tell(&self, py: Python<'_>) -> PyResult<u64> {
        self.with_live(|gen| gen.position()).map_err(|f| f.into_pyerr(py))
    }

    /// Starts the stream over from offset 0.
    fn rewind(&self, py: Python<'_>) -> PyResult<()> {
        self.with_live(|gen| gen.rewind()).map_err(|f| f.into_pyerr(py))
    }

    /// Frees the generator and stops its worker threads, after calls in
    /// flight on other threads finish. Later calls raise ValueError; closing
    /// twice is fine. Properties stay readable.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        // From a progress callback of this generator's own write_file, close
        // would wait for that run, which waits for the callback to return.
        if storage::in_callback_of(self) {
            return Err(PyValueError::new_err(
                "close() cannot run inside a progress callback of this generator's own write_file or verify_file \
                 (it would wait for that call forever); close it after the call returns",
            ));
        }
        // Waiting for calls in flight must not hold the GIL: they need it to
        // return. Dropping the generator joins its workers, also without it.
        let taken = py.detach(|| self.inner.write().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(gen) = &taken {
            self.closed_pos.store(gen.position(), Ordering::Release);
        }
        py.detach(move || drop(taken));
        Ok(())
    }

    /// True once `close` has been called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).is_none()
    }

    /// The stream's size in bytes; 0 for an endless stream.
    #[getter]
    fn size(&self) -> u64 {
        self.config.size
    }

    /// The offset the next `fill`, `read` or `readinto` starts at.
    #[getter]
    fn position(&self) -> u64 {
        self.current_position()
    }

    /// True when a sized stream has produced all its bytes (never for an
    /// endless one).
    #[getter]
    fn is_complete(&self) -> bool {
        self.config.size != 0 && self.current_position() >= self.config.size
    }

    /// Total dedup units / distinct dedup units.
    #[getter]
    fn dedup_ratio(&self) -> f64 {
        self.config.dedup_ratio
    }

    /// Input bytes / compressed bytes for LZ-family compressors.
    #[getter]
    fn compress_ratio(&self) -> f64 {
        self.config.compress_ratio
    }

    /// The dedup unit in bytes.
    #[getter]
    fn dedup_unit(&self) -> u32 {
        self.config.dedup_unit
    }

    /// `"auto"`, `"off"` or `"force"`.
    #[getter]
    fn numa_mode(&self) -> &'static str {
        numa_mode_name(self.config.numa_mode)
    }

    /// The NUMA node the workers are kept on, or None.
    #[getter]
    fn numa_node(&self) -> Option<u32> {
        self.config.numa_node
    }

    /// The compressor `compress_ratio` is calibrated for.
    #[getter]
    fn compressor(&self) -> &'static str {
        self.config.compressor.name()
    }

    /// Always True: the stream can be read.
    fn readable(&self) -> bool {
        true
    }

    /// Always False: a generator cannot be written to.
    fn writable(&self) -> bool {
        false
    }

    /// Always True: `seek` works.
    fn seekable(&self) -> bool {
        true
    }

    /// A closed generator cannot be used again, in a `with` block or not
    /// (as a closed file cannot).
    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.get().check_open()?;
        Ok(slf)
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let c = &self.config;
        let node = c.numa_node.map_or("None".to_string(), |n| n.to_string());
        format!(
            "dgen.Generator(size={}, dedup_ratio={:?}, compress_ratio={:?}, dedup_unit={}, seed={}, threads={}, \
             numa_mode='{}', numa_node={node}, compressor='{}')",
            c.size,
            c.dedup_ratio,
            c.compress_ratio,
            c.dedup_unit,
            self.seed,
            c.threads,
            numa_mode_name(c.numa_mode),
            c.compressor.name()
        )
    }
}
