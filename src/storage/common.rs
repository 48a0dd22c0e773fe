//! What every runner shares: the aligned I/O buffer, the tally a worker
//! keeps, the check of read bytes against the stream, the state of one
//! positional run ([`Ctx`]) that the blocking and the io_uring workers both
//! work from, the positional read and write loops, and how a run ends
//! ([`finish`]). The positional runner (`run.rs`), the stream runner
//! (`stream.rs`) and the io_uring worker (`uring.rs`) all build on these.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;

use super::report::{Latency, Mismatch, Operation, Report};
use super::{Control, Fault, IoOptions, StorageError, StorageErrorKind, ALIGN};
use crate::model::{Model, GRANULE};
use crate::state::{Claim, StateCheck, WriteState};

/// A buffer whose start is aligned for `O_DIRECT`, allocated without
/// being zeroed: a write fills it with the stream and a read fills it from
/// the file before anything looks at it, so zeroing would only cost time and
/// touch every page of memory that a run may never use. Allocation failure
/// is an error, not an abort: `jobs x iodepth x block_size` is the caller's
/// choice and may be more than the machine has.
pub(super) struct AlignedBuf {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

impl AlignedBuf {
    pub(super) fn new(len: usize) -> Result<AlignedBuf, Fault> {
        let fail = || Fault {
            kind: StorageErrorKind::Io,
            message: format!("cannot allocate an I/O buffer of {len} bytes (block_size x iodepth x jobs is too large)"),
            os_error: None,
            field: None,
        };
        let layout = std::alloc::Layout::from_size_align(len.max(1), ALIGN).map_err(|_| fail())?;
        // SAFETY: the layout's size is at least 1. The memory is freed in
        // Drop with the same layout.
        let ptr = unsafe { std::alloc::alloc(layout) };
        let ptr = std::ptr::NonNull::new(ptr).ok_or_else(fail)?;
        Ok(AlignedBuf { ptr, len })
    }

    /// The buffer. Its bytes are unspecified until written: every caller
    /// writes a range first (`Model::fill`, or a read that says how many
    /// bytes it stored) and then reads that range and no more, so no
    /// uninitialized byte is ever read, checked or written out.
    pub(super) fn get(&mut self) -> &mut [u8] {
        // SAFETY: `ptr` is a live allocation of `len` bytes (at least 1)
        // that only this value owns, and `&mut self` makes the borrow
        // unique. Writes into it are always sound; reads happen only after a
        // write of the same bytes (see above).
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this size and alignment, which
        // `from_size_align` accepted there.
        unsafe {
            std::alloc::dealloc(
                self.ptr.as_ptr(),
                std::alloc::Layout::from_size_align_unchecked(self.len.max(1), ALIGN),
            )
        }
    }
}

/// What one worker (or the calling thread, for the head and tail) did.
pub(super) struct Tally {
    pub hist: Histogram<u64>,
    pub gen: Duration,
    pub io: Duration,
    pub wall: Duration,
    pub ios: u64,
    pub bytes: u64,
    /// The lowest block this worker claimed and did not finish.
    pub unfinished: Option<u64>,
    pub first: Option<Mismatch>,
    pub wrong: u64,
    /// A verification against a write state: what each unit held.
    pub state: StateCheck,
}

impl Tally {
    pub(super) fn new() -> Tally {
        Tally {
            // Three significant digits, auto-resizing: any latency fits.
            hist: super::report::new_histogram(),
            gen: Duration::ZERO,
            io: Duration::ZERO,
            wall: Duration::ZERO,
            ios: 0,
            bytes: 0,
            unfinished: None,
            first: None,
            wrong: 0,
            state: StateCheck::default(),
        }
    }

    pub(super) fn latency(&mut self, d: Duration) {
        super::report::record_ns(&mut self.hist, u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    pub(super) fn found(&mut self, first: Option<Mismatch>, wrong: u64) {
        self.wrong += wrong;
        if let Some(m) = first {
            if self.first.is_none_or(|f| m.offset < f.offset) {
                self.first = Some(m);
            }
        }
    }

    pub(super) fn merge(&mut self, o: Tally) {
        let _ = self.hist.add(&o.hist);
        self.gen += o.gen;
        self.io += o.io;
        self.wall += o.wall;
        self.ios += o.ios;
        self.bytes += o.bytes;
        self.unfinished = match (self.unfinished, o.unfinished) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.found(o.first, o.wrong);
        self.state.merge(o.state);
    }
}

/// The first wrong byte of `buf` against the stream at `off`, and how many
/// aligned 4 KiB blocks of the stream in `buf` hold a wrong byte.
pub(super) fn check(model: &Model, off: u64, buf: &[u8]) -> (Option<Mismatch>, u64) {
    check_with(off, buf.len(), |o, n| model.first_mismatch(o, &buf[(o - off) as usize..][..n]))
}

/// [`check`] of the `len` bytes at `off`, given `mismatch(offset, n)`: the
/// first wrong byte of the `n` bytes at `offset`.
fn check_with(off: u64, len: usize, mismatch: impl Fn(u64, usize) -> Option<(u64, u8, u8)>) -> (Option<Mismatch>, u64) {
    let Some((at, expected, actual)) = mismatch(off, len) else {
        return (None, 0);
    };
    let end = off + len as u64;
    let g = GRANULE as u64;
    let mut wrong = 1;
    let mut k = (at / g + 1) * g;
    while k < end {
        let piece_end = (k + g).min(end);
        if mismatch(k, (piece_end - k) as usize).is_some() {
            wrong += 1;
        }
        k = piece_end;
    }
    (Some(Mismatch { offset: at, expected, actual }), wrong)
}

/// Aligned 4 KiB blocks of the stream that `[start, end)` touches.
pub(super) fn blocks_touching(start: u64, end: u64) -> u64 {
    if end <= start {
        0
    } else {
        (end - 1) / GRANULE as u64 - start / GRANULE as u64 + 1
    }
}

/// The aligned body of a range: what positional I/O moves in whole blocks.
pub(super) struct Body {
    /// First aligned offset at or after the range's start (the end when none).
    pub a0: u64,
    /// Last aligned offset at or before the range's end (at least `a0`).
    pub a1: u64,
    /// Blocks in `[a0, a1)`.
    pub nblocks: u64,
    /// Bytes per block.
    pub block: usize,
    /// Length of a buffer for one of them: a block, or the body when shorter.
    pub buf_len: usize,
}

/// The aligned body of `[offset, end)` in blocks of `block` bytes.
pub(super) fn body(offset: u64, end: u64, block: usize) -> Body {
    let align = ALIGN as u64;
    let a0 = offset.next_multiple_of(align).min(end);
    let a1 = (end / align * align).max(a0);
    let buf_len = usize::try_from(a1 - a0).map_or(block, |body| body.min(block));
    Body { a0, a1, nblocks: (a1 - a0).div_ceil(block as u64), block, buf_len }
}

/// The shared state of one positional run.
pub(super) struct Ctx<'a> {
    pub op: Operation,
    pub model: &'a Model,
    /// The write state: versions to write, or to check against.
    pub state: Option<&'a WriteState>,
    pub file: &'a File,
    pub name: &'a str,
    pub direct: bool,
    /// The body `[a0, a1)`, cut into `nblocks` blocks of `block` bytes.
    pub a0: u64,
    pub a1: u64,
    pub block: usize,
    pub nblocks: u64,
    /// Bytes a worker's buffer needs: a block, or the whole body when it is
    /// shorter than one.
    pub buf_len: usize,
    /// I/Os in flight per worker: the asked depth, or fewer when the range
    /// has fewer blocks.
    pub iodepth: usize,
    pub next: AtomicU64,
    pub stop: AtomicBool,
    pub interrupted: AtomicBool,
    pub done: AtomicU64,
    pub cancel: Option<&'a AtomicBool>,
    /// Where a read first came back short (`u64::MAX`: never).
    pub data_end: AtomicU64,
    pub failure: Mutex<Option<Fault>>,
    active: AtomicUsize,
    /// Wakes the watcher when a worker ends. (Not `Thread::unpark`: asking
    /// for the current thread's handle allocates one for a C caller's thread
    /// that lives as long as the thread.)
    ended: (Mutex<()>, Condvar),
}

impl<'a> Ctx<'a> {
    /// The state of a run that moves `body` of `file` (shown as `name`) with
    /// `iodepth` I/Os in flight per worker.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new<'c: 'a>(
        op: Operation,
        model: &'a Model,
        file: &'a File,
        name: &'a str,
        opts: &IoOptions,
        body: &Body,
        iodepth: usize,
        control: &Control<'c>,
    ) -> Ctx<'a> {
        Ctx {
            op,
            model,
            state: control.state,
            file,
            name,
            direct: opts.direct,
            a0: body.a0,
            a1: body.a1,
            block: body.block,
            nblocks: body.nblocks,
            buf_len: body.buf_len,
            iodepth,
            next: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            interrupted: AtomicBool::new(false),
            done: AtomicU64::new(0),
            cancel: control.cancel,
            data_end: AtomicU64::new(u64::MAX),
            failure: Mutex::new(None),
            active: AtomicUsize::new(0),
            ended: (Mutex::new(()), Condvar::new()),
        }
    }

    /// Counts a worker that is about to start.
    pub(super) fn worker_starts(&self) {
        self.active.fetch_add(1, Ordering::AcqRel);
    }

    /// Counts a worker out (it ended, or it never started) and wakes the
    /// watcher.
    pub(super) fn worker_ends(&self) {
        let _lock = self.ended.0.lock().unwrap_or_else(|e| e.into_inner());
        self.active.fetch_sub(1, Ordering::AcqRel);
        self.ended.1.notify_all();
    }

    /// True while a worker runs.
    pub(super) fn busy(&self) -> bool {
        self.active.load(Ordering::Acquire) > 0
    }

    /// Waits until a worker ends, at most `tick`.
    pub(super) fn wait_for_a_worker(&self, tick: Duration) {
        let lock = self.ended.0.lock().unwrap_or_else(|e| e.into_inner());
        if self.busy() {
            drop(self.ended.1.wait_timeout(lock, tick));
        }
    }

    /// Fills `buf` with what a write at `off` carries: the stream's bytes,
    /// or with a state each unit's next version, claimed until
    /// [`Ctx::end_write`].
    pub(super) fn fill_write(&self, off: u64, buf: &mut [u8]) -> Result<Option<Claim>, Fault> {
        let Some(state) = self.state else {
            self.model.fill(off, buf);
            return Ok(None);
        };
        let claim = state.claim(off, buf.len() as u64).map_err(|e| Fault {
            kind: StorageErrorKind::InvalidOption,
            message: e.message,
            os_error: None,
            field: None,
        })?;
        WriteState::fill_model(self.model, &claim, buf);
        Ok(Some(claim))
    }

    /// Records that the write `claim` was made for is over (done or failed).
    pub(super) fn end_write(&self, claim: Option<Claim>) {
        if let (Some(state), Some(claim)) = (self.state, claim) {
            state.complete(claim);
        }
    }

    /// Checks `buf`, read at `off`, into `t`: against the stream, or with a
    /// state against each unit's accepted versions (the first wrong byte and
    /// the wrong blocks are then counted against each wrong unit's latest
    /// version).
    pub(super) fn check_read(&self, off: u64, buf: &[u8], t: &mut Tally) {
        let Some(state) = self.state else {
            let (first, wrong) = check(self.model, off, buf);
            t.found(first, wrong);
            return;
        };
        let model = self.model;
        let mut found = Vec::new();
        state.check_units(model, off, buf, &mut t.state, |unit, at, bytes| {
            let cid = model.version_id(unit, state.entry(unit).latest);
            let (first, wrong) = check_with(at, bytes.len(), |o, n| {
                model.first_mismatch_units(o, &bytes[(o - at) as usize..][..n], |_| cid)
            });
            found.push((first, wrong));
        });
        for (first, wrong) in found {
            t.found(first, wrong);
        }
    }

    /// True once the run should stop taking new blocks.
    pub(super) fn stopped(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return true;
        }
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            self.interrupted.store(true, Ordering::Relaxed);
            self.stop.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// The next block: its index, offset and length.
    pub(super) fn claim(&self) -> Option<(u64, u64, usize)> {
        if self.stopped() {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        if i >= self.nblocks {
            return None;
        }
        let off = self.a0 + i * self.block as u64;
        let len = (self.a1 - off).min(self.block as u64) as usize;
        Some((i, off, len))
    }

    pub(super) fn fail(&self, f: Fault) {
        self.stop.store(true, Ordering::Relaxed);
        let mut slot = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(f);
        }
    }

    pub(super) fn short_read(&self, at: u64) {
        self.data_end.fetch_min(at, Ordering::Relaxed);
    }

    pub(super) fn write_fault(&self, off: u64, len: usize, e: &std::io::Error) -> Fault {
        io_fault(Operation::Write, self.name, self.direct, off, len, e)
    }

    pub(super) fn read_fault(&self, off: u64, len: usize, e: &std::io::Error) -> Fault {
        io_fault(Operation::Verify, self.name, self.direct, off, len, e)
    }
}

pub(super) fn io_fault(op: Operation, name: &str, direct: bool, off: u64, len: usize, e: &std::io::Error) -> Fault {
    let verb = if op == Operation::Write { "write" } else { "read" };
    let mut f = Fault::io(format!("cannot {verb} {name} at offset {off}"), e);
    if direct && e.raw_os_error() == Some(libc::EINVAL) {
        f.message += &format!(
            " (an O_DIRECT {verb} of {len} bytes; the device may need I/O aligned to a logical block larger than 4096)"
        );
    }
    f
}

/// Writes all of `buf` at `off`, going on after short writes and signals.
/// `Ok(false)`: stopped by a cancel request in the middle.
pub(super) fn write_all_at(
    file: &File,
    mut buf: &[u8],
    mut off: u64,
    stop: &dyn Fn() -> bool,
) -> std::io::Result<bool> {
    while !buf.is_empty() {
        match file.write_at(buf, off) {
            Ok(0) => return Err(std::io::Error::new(std::io::ErrorKind::WriteZero, "the write wrote nothing")),
            Ok(n) => {
                buf = &buf[n..];
                off += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                if stop() {
                    return Ok(false);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Reads `buf.len()` bytes at `off`, fewer only where the data ends. `None`:
/// stopped by a cancel request.
pub(super) fn read_full_at(
    file: &File,
    buf: &mut [u8],
    off: u64,
    stop: &dyn Fn() -> bool,
) -> std::io::Result<Option<usize>> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], off + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                if stop() {
                    return Ok(None);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Some(got))
}

impl Report {
    /// The report with what the workers counted, the wall time since
    /// `started` and whether the run was stopped (and nothing failed).
    pub(super) fn with_tally(mut self, t: Tally, started: std::time::Instant, interrupted: bool) -> Report {
        self.seconds = started.elapsed().as_secs_f64();
        self.bytes = t.bytes;
        self.ios = t.ios;
        self.latency = Latency::from_histogram(&t.hist);
        self.latency_histogram = super::report::histogram_pairs(&t.hist);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        self.end_time = now;
        self.start_time = now - self.seconds;
        self.generate_seconds = t.gen.as_secs_f64();
        self.io_seconds = t.io.as_secs_f64();
        self.worker_seconds = t.wall.as_secs_f64();
        self.first_mismatch = t.first;
        self.wrong_blocks = t.wrong;
        self.interrupted = interrupted;
        self
    }
}

/// The run's outcome: its report, or the failure or interruption with it.
pub(super) fn finish(report: Report, failure: Option<Fault>) -> Result<Report, StorageError> {
    if let Some(f) = failure {
        return Err(f.into_error(report));
    }
    if report.interrupted {
        let verb = if report.operation == Operation::Write { "writing" } else { "verifying" };
        let message = format!("interrupted while {verb} {}, after {} bytes", report.path, report.bytes);
        return Err(
            Fault { kind: StorageErrorKind::Interrupted, message, os_error: None, field: None }.into_error(report)
        );
    }
    Ok(report)
}
