//! The parallel positional run: the range is cut into blocks, workers claim
//! them from one counter and write (or read and check) each at its own
//! offset; the calling thread watches, reports progress and passes on a
//! request to stop.

use std::fs::File;
use std::os::unix::fs::{FileExt, FileTypeExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::report::{Latency, Mismatch, Operation, Report, TargetKind};
use super::target::{self, Target};
use super::{Control, Fault, IoEngine, IoOptions, Progress, StorageError, StorageErrorKind, ALIGN};
use crate::generator::Generator;
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

/// The bytes of I/O buffers a run may hold: `block_size` for each I/O that
/// can be in flight, `min(jobs x iodepth, blocks in the range)`.
pub(super) fn buffer_bytes(workers: usize, iodepth: usize, nblocks: u64, buf_len: usize) -> u64 {
    (workers as u64).saturating_mul(iodepth as u64).min(nblocks).saturating_mul(buf_len as u64)
}

/// The aligned body of a range: what positional I/O moves in whole blocks.
struct Body {
    /// First aligned offset at or after the range's start (the end when none).
    a0: u64,
    /// Last aligned offset at or before the range's end (at least `a0`).
    a1: u64,
    /// Blocks in `[a0, a1)`.
    nblocks: u64,
    /// Length of a buffer for one of them: a block, or the body when shorter.
    buf_len: usize,
}

/// The aligned body of `[offset, end)` in blocks of `block` bytes.
fn body(offset: u64, end: u64, block: usize) -> Body {
    let align = ALIGN as u64;
    let a0 = offset.next_multiple_of(align).min(end);
    let a1 = (end / align * align).max(a0);
    let buf_len = usize::try_from(a1 - a0).map_or(block, |body| body.min(block));
    Body { a0, a1, nblocks: (a1 - a0).div_ceil(block as u64), buf_len }
}

/// Refuses a run whose I/O buffers would pass [`super::MAX_BUFFER_BYTES`].
pub(super) fn check_buffers(workers: usize, iodepth: usize, nblocks: u64, buf_len: usize) -> Result<(), Fault> {
    let need = buffer_bytes(workers, iodepth, nblocks, buf_len);
    if need <= super::MAX_BUFFER_BYTES {
        return Ok(());
    }
    Err(Fault {
        kind: StorageErrorKind::InvalidOption,
        message: format!(
            "jobs x iodepth x block_size must need at most {} bytes (1 GiB) of I/O buffers, got {workers} x \
             {iodepth} x {buf_len} = {need} bytes in flight; use fewer jobs, a lower iodepth or smaller blocks",
            super::MAX_BUFFER_BYTES
        ),
        os_error: None,
    })
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
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1);
        // An auto-resizing histogram takes any value; saturate anyway.
        let _ = self.hist.record(ns);
    }

    pub(super) fn found(&mut self, first: Option<Mismatch>, wrong: u64) {
        self.wrong += wrong;
        if let Some(m) = first {
            if self.first.is_none_or(|f| m.offset < f.offset) {
                self.first = Some(m);
            }
        }
    }

    fn merge(&mut self, o: Tally) {
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

impl Ctx<'_> {
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

/// One piece written or read and checked on the calling thread through
/// `file`: the unaligned head or tail, or a block of a worker using
/// blocking calls. `Ok(false)` when stopped.
pub(super) fn do_block(ctx: &Ctx, file: &File, off: u64, buf: &mut [u8], t: &mut Tally) -> Result<bool, Fault> {
    let len = buf.len();
    let stop = || ctx.stopped();
    match ctx.op {
        Operation::Write => {
            let t0 = Instant::now();
            let claim = ctx.fill_write(off, buf)?;
            let t1 = Instant::now();
            let written = write_all_at(file, buf, off, &stop);
            ctx.end_write(claim);
            let done = written.map_err(|e| ctx.write_fault(off, len, &e))?;
            let t2 = Instant::now();
            t.gen += t1 - t0;
            t.io += t2 - t1;
            if !done {
                return Ok(false);
            }
            t.latency(t2 - t1);
            t.ios += 1;
            t.bytes += len as u64;
            ctx.done.fetch_add(len as u64, Ordering::Relaxed);
        }
        Operation::Verify => {
            let t0 = Instant::now();
            let got = read_full_at(file, buf, off, &stop).map_err(|e| ctx.read_fault(off, len, &e))?;
            let t1 = Instant::now();
            t.io += t1 - t0;
            let Some(got) = got else { return Ok(false) };
            if got < len {
                ctx.short_read(off + got as u64);
            }
            ctx.check_read(off, &buf[..got], t);
            t.gen += t1.elapsed();
            t.latency(t1 - t0);
            t.ios += 1;
            t.bytes += got as u64;
            ctx.done.fetch_add(got as u64, Ordering::Relaxed);
        }
    }
    Ok(true)
}

/// A worker with one blocking `pwrite`/`pread` at a time.
fn sync_worker(ctx: &Ctx, t: &mut Tally) -> Result<(), Fault> {
    // Allocated with the first block: a worker that gets none takes none.
    let mut buf: Option<AlignedBuf> = None;
    while let Some((i, off, len)) = ctx.claim() {
        t.unfinished = Some(i);
        let b = match &mut buf {
            Some(b) => b,
            None => buf.insert(AlignedBuf::new(ctx.buf_len)?),
        };
        if !do_block(ctx, ctx.file, off, &mut b.get()[..len], t)? {
            return Ok(());
        }
        t.unfinished = None;
    }
    Ok(())
}

/// Marks a worker finished, even when it panics, and wakes the watcher.
struct Finished<'a> {
    ctx: &'a Ctx<'a>,
}

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        let _lock = self.ctx.ended.0.lock().unwrap_or_else(|e| e.into_inner());
        self.ctx.active.fetch_sub(1, Ordering::AcqRel);
        self.ctx.ended.1.notify_all();
    }
}

/// Where a run goes: the range, the generator and the opened target.
struct Plan {
    offset: u64,
    /// End of the range.
    stop: u64,
    /// End of what is read or written: `stop`, or less where a file or
    /// device ends first.
    end: u64,
}

fn out_of_range(message: String) -> Fault {
    Fault { kind: StorageErrorKind::OutOfRange, message, os_error: None }
}

/// The range `[offset, stop)` in the stream, checked against the dataset.
fn range(op: Operation, gen: &Generator, opts: &IoOptions) -> Result<Option<u64>, Fault> {
    let size = gen.size();
    let offset = opts.offset;
    let stop = match opts.length {
        Some(l) => Some(offset.checked_add(l).ok_or_else(|| {
            out_of_range(format!("range out of bounds: offset {offset} + length {l} passes 2^64 - 1"))
        })?),
        None if size != 0 => Some(size),
        None => None,
    };
    if size != 0 {
        let end = stop.unwrap_or(size);
        if offset > size || end > size {
            return Err(out_of_range(format!(
                "range out of bounds: offset {offset} + length {} passes the dataset size {size}",
                end.saturating_sub(offset)
            )));
        }
    }
    if stop.is_none() && op == Operation::Write {
        return Err(Fault {
            kind: StorageErrorKind::InvalidOption,
            message: "length must be given to write the endless stream (size 0), got none".into(),
            os_error: None,
        });
    }
    Ok(stop)
}

/// Units wholly past `data_end` (up to `stop`) that the state says hold a
/// write: the missing ones. The others are counted unwritten or in doubt in
/// `check`, as if read.
fn missing_units(state: &WriteState, data_end: u64, stop: u64, check: &mut StateCheck) -> u64 {
    let unit = state.header().unit_bytes;
    let mut missing = 0;
    for u in data_end.div_ceil(unit)..stop.div_ceil(unit) {
        let e = state.entry(u);
        match e.accepted() {
            _ if !e.written => check.unwritten += 1,
            None => check.in_doubt += 1,
            Some(_) => missing += 1,
        }
    }
    missing
}

/// Refuses a run with a write state that the state cannot record.
fn check_state(
    op: Operation,
    gen: &Generator,
    opts: &IoOptions,
    stop: Option<u64>,
    state: &WriteState,
) -> Result<(), Fault> {
    let invalid = |message: String| Fault { kind: StorageErrorKind::InvalidOption, message, os_error: None };
    state.check_generator(gen).map_err(|e| invalid(e.message))?;
    if op == Operation::Write && !state.writable() {
        return Err(invalid(format!("state file {} was opened for verifying, not writing", state.path())));
    }
    let unit = u64::from(gen.config().dedup_unit);
    if !gen.size().is_multiple_of(ALIGN as u64) {
        return Err(invalid(format!(
            "with a write state the dataset size must be a multiple of 4096, got {}",
            gen.size()
        )));
    }
    if !opts.offset.is_multiple_of(unit) || !(opts.block_size as u64).is_multiple_of(unit) {
        return Err(invalid(format!(
            "with a write state the offset and block size must be multiples of the dedup unit ({unit}), got offset {} \
             and block size {}",
            opts.offset, opts.block_size
        )));
    }
    let end = stop.unwrap_or(gen.size());
    state.check_range(opts.offset, end - opts.offset).map_err(|e| invalid(e.message))
}

pub(super) fn run(
    op: Operation,
    gen: &Generator,
    path: &Path,
    opts: &IoOptions,
    control: Control<'_>,
) -> Result<Report, StorageError> {
    let name = target::shown(path);
    let mut report = Report::new(op, &name, TargetKind::File, gen.seed());
    report.offset = opts.offset;
    report.block_size = opts.block_size;
    report.iodepth = opts.iodepth;
    report.direct = opts.direct;
    if let Err(e) = opts.validate() {
        return Err(StorageError { report: Box::new(report), ..e });
    }
    let stop = match range(op, gen, opts) {
        Ok(s) => s,
        Err(f) => return Err(f.into_error(report)),
    };
    if let Some(state) = control.state {
        if let Err(f) = check_state(op, gen, opts, stop, state) {
            return Err(f.into_error(report));
        }
    }
    // Buffers too large for the range are refused before the open creates
    // a file; the run checks again once the target's size is known.
    if let Some(stop) = stop {
        let positional = !target::is_std(path)
            && std::fs::metadata(path).map_or(true, |m| m.is_file() || m.file_type().is_block_device());
        if positional {
            let Body { nblocks, buf_len, .. } = body(opts.offset, stop, opts.block_size);
            let depth = if opts.engine == IoEngine::Sync { 1 } else { opts.iodepth };
            let workers = opts.workers().min(nblocks.try_into().unwrap_or(usize::MAX));
            if let Err(f) = check_buffers(workers, depth, nblocks, buf_len) {
                return Err(f.into_error(report));
            }
        }
    }
    let cancel = control.cancel;
    let cancelled = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let opened = match op {
        Operation::Write => target::open_write(path, opts.direct, &cancelled),
        Operation::Verify => target::open_read(path, opts.direct, &cancelled),
    };
    let target = match opened {
        Ok(t) => t,
        Err(f) => {
            report.interrupted = f.kind == StorageErrorKind::Interrupted;
            return Err(f.into_error(report));
        }
    };
    report.target = target.kind;
    report.data_size = target.size;
    if target.kind == TargetKind::Stream {
        if control.state.is_some() {
            return Err(Fault {
                kind: StorageErrorKind::InvalidOption,
                message: format!("a write state needs a regular file or block device, and {name} is a stream"),
                os_error: None,
            }
            .into_error(report));
        }
        return super::stream::run(op, gen, &target, opts, stop, control, report);
    }
    let offset = opts.offset;
    let data = target.size.unwrap_or(u64::MAX);
    let plan = match (op, target.kind) {
        (Operation::Write, TargetKind::BlockDevice) => {
            let stop = stop.unwrap_or(offset);
            if stop > data {
                return Err(out_of_range(format!(
                    "range out of bounds: it ends at {stop}, past the end of {name} ({data} bytes)"
                ))
                .into_error(report));
            }
            Plan { offset, stop, end: stop }
        }
        (Operation::Write, _) => {
            let stop = stop.unwrap_or(offset);
            Plan { offset, stop, end: stop }
        }
        (Operation::Verify, _) => {
            let stop = stop.unwrap_or(data.max(offset));
            let end = stop.min(data).max(offset);
            if data < stop {
                report.data_end = Some(data);
            }
            // A file longer than a sized dataset that the range runs to the
            // end of holds something else after it.
            report.extra_data =
                target.kind == TargetKind::File && opts.length.is_none() && gen.size() != 0 && data > gen.size();
            Plan { offset, stop, end }
        }
    };
    report.length = plan.stop - plan.offset;
    if op == Operation::Verify {
        report.blocks = blocks_touching(plan.offset, plan.stop);
    }
    positional(op, gen, &target, opts, &plan, control, report)
}

fn positional(
    op: Operation,
    gen: &Generator,
    target: &Target,
    opts: &IoOptions,
    plan: &Plan,
    mut control: Control<'_>,
    mut report: Report,
) -> Result<Report, StorageError> {
    let (offset, end) = (plan.offset, plan.end);
    let block = opts.block_size;
    // A body shorter than one block needs no buffer longer than itself.
    let Body { a0, a1, nblocks, buf_len } = body(offset, end, block);
    let name = report.path.clone();
    let ctx = Ctx {
        op,
        model: gen.model(),
        state: control.state,
        file: &target.file,
        name: &name,
        direct: opts.direct,
        a0,
        a1,
        block,
        nblocks,
        buf_len,
        iodepth: opts.iodepth,
        next: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        interrupted: AtomicBool::new(false),
        done: AtomicU64::new(0),
        cancel: control.cancel,
        data_end: AtomicU64::new(u64::MAX),
        failure: Mutex::new(None),
        active: AtomicUsize::new(0),
        ended: (Mutex::new(()), Condvar::new()),
    };

    // The engine: io_uring when asked for (or when more than one I/O per
    // worker is wanted), checked once here so a refusal is said once.
    let verb = if op == Operation::Write { "pwrite" } else { "pread" };
    let want_uring = match opts.engine {
        IoEngine::Sync => false,
        IoEngine::IoUring => true,
        IoEngine::Auto => opts.iodepth > 1,
    };
    let mut uring = false;
    report.engine = verb.to_string();
    if want_uring {
        #[cfg(target_os = "linux")]
        let probe = super::uring::probe(opts.iodepth);
        #[cfg(not(target_os = "linux"))]
        let probe: std::io::Result<()> =
            Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "io_uring is Linux only"));
        match probe {
            Ok(()) => {
                uring = true;
                report.engine = "io_uring".into();
            }
            Err(e) if opts.engine == IoEngine::IoUring => {
                return Err(Fault {
                    kind: StorageErrorKind::Unsupported,
                    message: format!("cannot use io_uring: {e}"),
                    os_error: e.raw_os_error(),
                }
                .into_error(report));
            }
            Err(e) => report.engine = format!("{verb} (io_uring unavailable: {e})"),
        }
    }
    let iodepth = if uring { opts.iodepth } else { 1 };
    report.iodepth = iodepth;
    // No worker can have more blocks in flight than the range holds.
    let mut ctx = ctx;
    ctx.iodepth = iodepth.min(usize::try_from(nblocks).unwrap_or(usize::MAX)).max(1);
    let max_workers = opts.workers().min(nblocks.try_into().unwrap_or(usize::MAX));
    if let Err(f) = check_buffers(max_workers, ctx.iodepth, nblocks, buf_len) {
        return Err(f.into_error(report));
    }

    if let Some(cb) = control.started.as_mut() {
        cb(&report);
    }
    let started = Instant::now();
    let mut total = Tally::new();
    let edge_file = target.buffered.as_ref().unwrap_or(&target.file);
    // The unaligned head and tail first, on this thread.
    let head = (offset, a0);
    let tail = (a1, end);
    let mut tail_wrong = false;
    let mut edges_done = true;
    for (i, (s, e)) in [head, tail].into_iter().enumerate() {
        if e <= s {
            continue;
        }
        let mut buf = vec![0u8; (e - s) as usize];
        let before = total.wrong;
        let t0 = Instant::now();
        let r = do_block(&ctx, edge_file, s, &mut buf, &mut total);
        total.wall += t0.elapsed();
        match r {
            Ok(true) => {}
            Ok(false) => edges_done = false,
            Err(f) => {
                ctx.fail(f);
                edges_done = false;
            }
        }
        if i == 1 {
            tail_wrong = total.wrong > before;
        }
        if !edges_done {
            break;
        }
    }

    // The body, on the workers.
    let workers = if edges_done { max_workers } else { 0 };
    report.jobs = workers.max(1);
    let total_bytes = end - offset;
    let results: Vec<(Tally, Result<(), Fault>)> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for k in 0..workers {
            ctx.active.fetch_add(1, Ordering::AcqRel);
            let ctx = &ctx;
            let spawned = std::thread::Builder::new().name(format!("dgen-io-{k}")).spawn_scoped(s, move || {
                let _finished = Finished { ctx };
                let mut t = Tally::new();
                let t0 = Instant::now();
                #[cfg(target_os = "linux")]
                let r = if uring { super::uring::worker(ctx, &mut t) } else { sync_worker(ctx, &mut t) };
                #[cfg(not(target_os = "linux"))]
                let r = sync_worker(ctx, &mut t);
                t.wall += t0.elapsed();
                (t, r)
            });
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    ctx.active.fetch_sub(1, Ordering::AcqRel);
                    ctx.fail(Fault {
                        kind: StorageErrorKind::Generator,
                        message: format!("cannot start I/O worker threads: {e}"),
                        os_error: e.raw_os_error(),
                    });
                    break;
                }
            }
        }
        watch(&ctx, &mut control, total_bytes, started);
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    (
                        Tally::new(),
                        Err(Fault {
                            kind: StorageErrorKind::Io,
                            message: "internal error in an I/O worker".into(),
                            os_error: None,
                        }),
                    )
                })
            })
            .collect()
    });
    for (t, r) in results {
        total.merge(t);
        if let Err(f) = r {
            ctx.fail(f);
        }
    }
    if ctx.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        ctx.interrupted.store(true, Ordering::Relaxed);
    }
    let interrupted = ctx.interrupted.load(Ordering::Relaxed);
    let mut failure = ctx.failure.lock().unwrap_or_else(|e| e.into_inner()).take();

    // Bytes from `offset` on that are all done: the body up to the first
    // block that was not claimed or not finished, and the edges.
    let claimed = ctx.next.load(Ordering::Relaxed).min(nblocks);
    let first_gap = total.unfinished.map_or(claimed, |u| u.min(claimed));
    let mut prefix_end = if !edges_done {
        offset
    } else if first_gap >= nblocks {
        end
    } else {
        a0 + first_gap * block as u64
    };
    let data_end = ctx.data_end.load(Ordering::Relaxed);
    if data_end != u64::MAX {
        prefix_end = prefix_end.min(data_end);
        report.data_end = Some(report.data_end.map_or(data_end, |d| d.min(data_end)));
    }
    let complete = failure.is_none() && !interrupted;

    if op == Operation::Write {
        let t0 = Instant::now();
        if opts.sync {
            if let Err(f) = target::sync(target, &name) {
                failure.get_or_insert(f);
            }
        }
        report.sync_seconds = t0.elapsed().as_secs_f64();
        // A file written up to the end of a sized dataset ends there; one
        // that stopped early ends where its complete part does, so that
        // what it holds is a prefix of the range.
        let cut_to = if complete { end } else { prefix_end };
        if target.kind == TargetKind::File && opts.truncate && gen.size() != 0 && plan.stop == gen.size() {
            let longer = target.file.metadata().map(|m| m.len() > cut_to).unwrap_or(false);
            if longer {
                if let Err(e) = target.file.set_len(cut_to) {
                    failure.get_or_insert(Fault::io(format!("cannot cut {name} to {cut_to} bytes"), &e));
                }
            }
        }
    } else if let Some(d) = report.data_end {
        match ctx.state {
            // With a state, only units it says were written are missing.
            Some(state) => {
                let missing = missing_units(state, d.max(offset), plan.stop, &mut total.state);
                report.missing_blocks = missing * (u64::from(gen.config().dedup_unit) / GRANULE as u64);
                if missing == 0 {
                    report.data_end = None;
                }
            }
            None => {
                let straddle = !d.is_multiple_of(GRANULE as u64) && d > offset && tail_wrong;
                report.missing_blocks = blocks_touching(d.max(offset), plan.stop).saturating_sub(straddle as u64);
            }
        }
    }

    if let (Some(state), Operation::Verify) = (ctx.state, op) {
        state.resolve_model(ctx.model, &mut total.state);
        report.state = Some(total.state.clone());
    }
    report.prefix = prefix_end - offset;
    finish(report.with_tally(total, started, interrupted && failure.is_none()), failure)
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
        return Err(Fault { kind: StorageErrorKind::Interrupted, message, os_error: None }.into_error(report));
    }
    Ok(report)
}

/// The calling thread while workers run: progress calls and stop requests.
fn watch(ctx: &Ctx, control: &mut Control<'_>, total: u64, started: Instant) {
    let tick = control.interval.clamp(Duration::from_millis(1), Duration::from_millis(50));
    let mut last = Instant::now();
    loop {
        let busy = ctx.active.load(Ordering::Acquire) > 0;
        // Checks the cancel flag even with no worker left to do it.
        ctx.stopped();
        if let Some(cb) = control.progress.as_mut() {
            if !busy || last.elapsed() >= control.interval {
                last = Instant::now();
                let p = Progress { bytes: ctx.done.load(Ordering::Relaxed), total, elapsed: started.elapsed() };
                if !cb(p) && busy {
                    ctx.interrupted.store(true, Ordering::Relaxed);
                    ctx.stop.store(true, Ordering::Relaxed);
                }
            }
        }
        if !busy {
            return;
        }
        let lock = ctx.ended.0.lock().unwrap_or_else(|e| e.into_inner());
        if ctx.active.load(Ordering::Acquire) > 0 {
            drop(ctx.ended.1.wait_timeout(lock, tick));
        }
    }
}
