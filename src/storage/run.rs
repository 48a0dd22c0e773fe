//! The parallel positional run: the range is cut into blocks, workers claim
//! them from one counter and write (or read and check) each at its own
//! offset; the calling thread watches, reports progress and passes on a
//! request to stop.
//!
//! In the order a run goes: [`run`] checks the options and the range, opens
//! the target and plans what to move ([`Plan`]); streams go to `stream.rs`.
//! [`Positional::run`] picks the engine, moves the unaligned head and tail
//! on the calling thread ([`Positional::edges`]), starts the workers
//! ([`run_workers`]: [`sync_worker`] here, io_uring's in `uring.rs`) and
//! watches them ([`watch`]); then it sums up what is complete, syncs and
//! cuts a written file, and counts what a verification found missing.

use std::fs::File;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::common::{blocks_touching, body, finish, read_full_at, write_all_at, AlignedBuf, Body, Ctx, Tally};
use super::report::{Operation, Report, TargetKind};
use super::target::{self, Target};
use super::{Control, Fault, IoEngine, IoOptions, Progress, StorageError, StorageErrorKind, ALIGN};
use crate::generator::Generator;
use crate::model::GRANULE;
use crate::state::{StateCheck, WriteState};

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
    let stop = match refuse_early(op, gen, path, opts, control.state) {
        Ok(s) => s,
        Err(f) => return Err(f.into_error(report)),
    };
    let cancel = control.cancel;
    let cancelled = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let target = match target::open(path, op, opts.direct, &cancelled) {
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
                field: None,
            }
            .into_error(report));
        }
        return super::stream::run(op, gen, &target, opts, stop, control, report);
    }
    let plan = match Plan::new(op, gen, &target, opts, stop, &mut report) {
        Ok(p) => p,
        Err(f) => return Err(f.into_error(report)),
    };
    report.length = plan.stop - plan.offset;
    if op == Operation::Verify {
        report.blocks = blocks_touching(plan.offset, plan.stop);
    }
    let body = body(plan.offset, plan.end, opts.block_size);
    Positional { op, gen, target: &target, opts, plan, body }.run(control, report)
}

/// The range `[offset, stop)` in the stream, after every check that needs
/// no open file: the range against the dataset, a write state against the
/// run, and I/O buffers too large for the range (refused before the open
/// creates a file; the run checks again once the target's size is known).
fn refuse_early(
    op: Operation,
    gen: &Generator,
    path: &Path,
    opts: &IoOptions,
    state: Option<&WriteState>,
) -> Result<Option<u64>, Fault> {
    let stop = range(op, gen, opts)?;
    if let Some(state) = state {
        check_state(op, gen, opts, stop, state)?;
    }
    if let Some(stop) = stop {
        let positional = !target::is_std(path)
            && std::fs::metadata(path).map_or(true, |m| m.is_file() || m.file_type().is_block_device());
        if positional {
            let Body { nblocks, buf_len, .. } = body(opts.offset, stop, opts.block_size);
            let depth = if opts.engine == IoEngine::Sync { 1 } else { opts.iodepth };
            let workers = opts.workers().min(nblocks.try_into().unwrap_or(usize::MAX));
            check_buffers(workers, depth, nblocks, buf_len)?;
        }
    }
    Ok(stop)
}

fn out_of_range(message: String) -> Fault {
    Fault { kind: StorageErrorKind::OutOfRange, message, os_error: None, field: None }
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
            field: Some(crate::Field::Length),
        });
    }
    Ok(stop)
}

/// Refuses a run with a write state that the state cannot record.
fn check_state(
    op: Operation,
    gen: &Generator,
    opts: &IoOptions,
    stop: Option<u64>,
    state: &WriteState,
) -> Result<(), Fault> {
    let invalid =
        |message: String| Fault { kind: StorageErrorKind::InvalidOption, message, os_error: None, field: None };
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

/// Where a positional run goes in the opened file or device.
struct Plan {
    offset: u64,
    /// End of the range.
    stop: u64,
    /// End of what is read or written: `stop`, or less where a file or
    /// device ends first.
    end: u64,
}

impl Plan {
    /// The plan for `[offset, stop)` of the opened `target`: a write to a
    /// device must fit in it; a verification reads up to where the data
    /// ends, and notes in `report` where that falls short of the range or
    /// whether a file goes on past the end of a sized dataset.
    fn new(
        op: Operation,
        gen: &Generator,
        target: &Target,
        opts: &IoOptions,
        stop: Option<u64>,
        report: &mut Report,
    ) -> Result<Plan, Fault> {
        let offset = opts.offset;
        let data = target.size.unwrap_or(u64::MAX);
        match (op, target.kind) {
            (Operation::Write, kind) => {
                let stop = stop.unwrap_or(offset);
                if kind == TargetKind::BlockDevice && stop > data {
                    return Err(out_of_range(format!(
                        "range out of bounds: it ends at {stop}, past the end of {} ({data} bytes)",
                        report.path
                    )));
                }
                Ok(Plan { offset, stop, end: stop })
            }
            (Operation::Verify, kind) => {
                let stop = stop.unwrap_or(data.max(offset));
                let end = stop.min(data).max(offset);
                if data < stop {
                    report.data_end = Some(data);
                }
                // A file longer than a sized dataset that the range runs to
                // the end of holds something else after it.
                report.extra_data =
                    kind == TargetKind::File && opts.length.is_none() && gen.size() != 0 && data > gen.size();
                Ok(Plan { offset, stop, end })
            }
        }
    }
}

/// One positional run: what it works on, fixed once the target is open.
struct Positional<'a> {
    op: Operation,
    gen: &'a Generator,
    target: &'a Target,
    opts: &'a IoOptions,
    plan: Plan,
    /// The aligned body of `[plan.offset, plan.end)`, which the workers move.
    body: Body,
}

/// How the unaligned head and tail went.
struct Edges {
    /// Both done (or empty): the workers may start.
    done: bool,
    /// A verification found a wrong byte in the tail.
    tail_wrong: bool,
}

impl Positional<'_> {
    fn run(&self, mut control: Control<'_>, mut report: Report) -> Result<Report, StorageError> {
        let uring = match self.engine(&mut report) {
            Ok(u) => u,
            Err(f) => return Err(f.into_error(report)),
        };
        let iodepth = if uring { self.opts.iodepth } else { 1 };
        report.iodepth = iodepth;
        let nblocks = self.body.nblocks;
        // No worker can have more blocks in flight than the range holds.
        let depth = iodepth.min(usize::try_from(nblocks).unwrap_or(usize::MAX)).max(1);
        let name = report.path.clone();
        let ctx = Ctx::new(self.op, self.gen.model(), &self.target.file, &name, self.opts, &self.body, depth, &control);
        let max_workers = self.opts.workers().min(nblocks.try_into().unwrap_or(usize::MAX));
        if let Err(f) = check_buffers(max_workers, ctx.iodepth, nblocks, self.body.buf_len) {
            return Err(f.into_error(report));
        }
        if let Some(cb) = control.started.as_mut() {
            cb(&report);
        }
        let started = Instant::now();
        let mut total = Tally::new();
        let edges = self.edges(&ctx, &mut total);
        let workers = if edges.done { max_workers } else { 0 };
        report.jobs = workers.max(1);
        let range_bytes = self.plan.end - self.plan.offset;
        for (t, r) in run_workers(&ctx, workers, uring, &mut control, range_bytes, started) {
            total.merge(t);
            if let Err(f) = r {
                ctx.fail(f);
            }
        }
        self.conclude(&ctx, &edges, total, started, report)
    }

    /// The engine, io_uring when asked for (or when more than one I/O per
    /// worker is wanted), checked once here so that a refusal is said once;
    /// true for io_uring. `report.engine` says which, and why a fallback.
    fn engine(&self, report: &mut Report) -> Result<bool, Fault> {
        let opts = self.opts;
        let verb = if self.op == Operation::Write { "pwrite" } else { "pread" };
        report.engine = verb.to_string();
        let want_uring = match opts.engine {
            IoEngine::Sync => false,
            IoEngine::IoUring => true,
            IoEngine::Auto => opts.iodepth > 1,
        };
        if !want_uring {
            return Ok(false);
        }
        #[cfg(target_os = "linux")]
        let probe = super::uring::probe(opts.iodepth);
        #[cfg(not(target_os = "linux"))]
        let probe: std::io::Result<()> =
            Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "io_uring is Linux only"));
        match probe {
            Ok(()) => {
                report.engine = "io_uring".into();
                Ok(true)
            }
            Err(e) if opts.engine == IoEngine::IoUring => Err(Fault {
                kind: StorageErrorKind::Unsupported,
                message: format!("cannot use io_uring: {e}"),
                os_error: e.raw_os_error(),
                field: None,
            }),
            Err(e) => {
                report.engine = format!("{verb} (io_uring unavailable: {e})");
                Ok(false)
            }
        }
    }

    /// The unaligned head and tail of the range, on the calling thread
    /// before the workers start, through the descriptor without `O_DIRECT`.
    fn edges(&self, ctx: &Ctx, total: &mut Tally) -> Edges {
        let file = self.target.buffered.as_ref().unwrap_or(&self.target.file);
        let head = (self.plan.offset, self.body.a0);
        let tail = (self.body.a1, self.plan.end);
        let mut edges = Edges { done: true, tail_wrong: false };
        for (i, (s, e)) in [head, tail].into_iter().enumerate() {
            if e <= s {
                continue;
            }
            let mut buf = vec![0u8; (e - s) as usize];
            let before = total.wrong;
            let t0 = Instant::now();
            let r = do_block(ctx, file, s, &mut buf, total);
            total.wall += t0.elapsed();
            match r {
                Ok(true) => {}
                Ok(false) => edges.done = false,
                Err(f) => {
                    ctx.fail(f);
                    edges.done = false;
                }
            }
            if i == 1 {
                edges.tail_wrong = total.wrong > before;
            }
            if !edges.done {
                break;
            }
        }
        edges
    }

    /// The report of the finished run: what is complete, the sync and cut
    /// of a written file, what a verification found missing.
    fn conclude(
        &self,
        ctx: &Ctx,
        edges: &Edges,
        mut total: Tally,
        started: Instant,
        mut report: Report,
    ) -> Result<Report, StorageError> {
        if ctx.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            ctx.interrupted.store(true, Ordering::Relaxed);
        }
        let interrupted = ctx.interrupted.load(Ordering::Relaxed);
        let mut failure = ctx.failure.lock().unwrap_or_else(|e| e.into_inner()).take();
        let prefix_end = self.complete_prefix(ctx, edges, &total, &mut report);
        let complete = failure.is_none() && !interrupted;
        if self.op == Operation::Write {
            let cut_to = if complete { self.plan.end } else { prefix_end };
            if let Err(f) = self.sync_and_cut(ctx.name, cut_to, &mut report) {
                failure.get_or_insert(f);
            }
        } else if let Some(d) = report.data_end {
            self.count_missing(ctx, d, edges.tail_wrong, &mut total, &mut report);
        }
        if let (Some(state), Operation::Verify) = (ctx.state, self.op) {
            state.resolve_model(ctx.model, &mut total.state);
            report.state = Some(total.state.clone());
        }
        report.prefix = prefix_end - self.plan.offset;
        finish(report.with_tally(total, started, interrupted && failure.is_none()), failure)
    }

    /// Where the bytes from `offset` on that are all done end: the body up
    /// to the first block that was not claimed or not finished, and the
    /// edges; no further than where a read found the data's end (which goes
    /// into `report.data_end`).
    fn complete_prefix(&self, ctx: &Ctx, edges: &Edges, total: &Tally, report: &mut Report) -> u64 {
        let nblocks = self.body.nblocks;
        let claimed = ctx.next.load(Ordering::Relaxed).min(nblocks);
        let first_gap = total.unfinished.map_or(claimed, |u| u.min(claimed));
        let mut prefix_end = if !edges.done {
            self.plan.offset
        } else if first_gap >= nblocks {
            self.plan.end
        } else {
            self.body.a0 + first_gap * self.body.block as u64
        };
        let data_end = ctx.data_end.load(Ordering::Relaxed);
        if data_end != u64::MAX {
            prefix_end = prefix_end.min(data_end);
            report.data_end = Some(report.data_end.map_or(data_end, |d| d.min(data_end)));
        }
        prefix_end
    }

    /// After a write: the sync, and the cut of a regular file written up to
    /// the end of a sized dataset, to `cut_to` (the range's end, or where
    /// the complete part of a stopped run ends, so that what the file holds
    /// is a prefix of the range).
    fn sync_and_cut(&self, name: &str, cut_to: u64, report: &mut Report) -> Result<(), Fault> {
        let (target, opts) = (self.target, self.opts);
        let t0 = Instant::now();
        let synced = if opts.sync { target::sync(target, name) } else { Ok(()) };
        report.sync_seconds = t0.elapsed().as_secs_f64();
        let mut result = synced;
        let size = self.gen.size();
        if target.kind == TargetKind::File && opts.truncate && size != 0 && self.plan.stop == size {
            let longer = target.file.metadata().map(|m| m.len() > cut_to).unwrap_or(false);
            if longer {
                if let Err(e) = target.file.set_len(cut_to) {
                    result = result.and(Err(Fault::io(format!("cannot cut {name} to {cut_to} bytes"), &e)));
                }
            }
        }
        result
    }

    /// After a verification whose data ended at `data_end`: the 4 KiB
    /// blocks missing from the range (with a state, only units it says were
    /// written are missing).
    fn count_missing(&self, ctx: &Ctx, data_end: u64, tail_wrong: bool, total: &mut Tally, report: &mut Report) {
        let (offset, stop) = (self.plan.offset, self.plan.stop);
        match ctx.state {
            Some(state) => {
                let missing = missing_units(state, data_end.max(offset), stop, &mut total.state);
                report.missing_blocks = missing * (u64::from(self.gen.config().dedup_unit) / GRANULE as u64);
                if missing == 0 {
                    report.data_end = None;
                }
            }
            None => {
                // The 4 KiB block the data ends in is wrong or missing, not
                // both.
                let straddle = !data_end.is_multiple_of(GRANULE as u64) && data_end > offset && tail_wrong;
                report.missing_blocks = blocks_touching(data_end.max(offset), stop).saturating_sub(straddle as u64);
            }
        }
    }
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

/// Runs `workers` workers over the body while the calling thread watches
/// them ([`watch`]); what each counted, and how it ended.
fn run_workers(
    ctx: &Ctx,
    workers: usize,
    uring: bool,
    control: &mut Control<'_>,
    total_bytes: u64,
    started: Instant,
) -> Vec<(Tally, Result<(), Fault>)> {
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        for k in 0..workers {
            ctx.worker_starts();
            let spawned =
                std::thread::Builder::new().name(format!("dgen-io-{k}")).spawn_scoped(s, move || worker(ctx, uring));
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    ctx.worker_ends();
                    ctx.fail(Fault {
                        kind: StorageErrorKind::Threads,
                        message: format!("cannot start I/O worker threads: {e}"),
                        os_error: e.raw_os_error(),
                        field: None,
                    });
                    break;
                }
            }
        }
        watch(ctx, control, total_bytes, started);
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    let internal = Fault {
                        kind: StorageErrorKind::Io,
                        message: "internal error in an I/O worker".into(),
                        os_error: None,
                        field: None,
                    };
                    (Tally::new(), Err(internal))
                })
            })
            .collect()
    })
}

/// One worker's thread: io_uring's loop or the blocking one.
fn worker(ctx: &Ctx, uring: bool) -> (Tally, Result<(), Fault>) {
    let _finished = Finished { ctx };
    let mut t = Tally::new();
    let t0 = Instant::now();
    #[cfg(target_os = "linux")]
    let r = if uring { super::uring::worker(ctx, &mut t) } else { sync_worker(ctx, &mut t) };
    #[cfg(not(target_os = "linux"))]
    let r = {
        let _ = uring;
        sync_worker(ctx, &mut t)
    };
    t.wall += t0.elapsed();
    (t, r)
}

/// Marks a worker finished, even when it panics, and wakes the watcher.
struct Finished<'a> {
    ctx: &'a Ctx<'a>,
}

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.ctx.worker_ends();
    }
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

/// The calling thread while workers run: progress calls and stop requests.
fn watch(ctx: &Ctx, control: &mut Control<'_>, total: u64, started: Instant) {
    let tick = control.interval.clamp(Duration::from_millis(1), Duration::from_millis(50));
    let mut last = Instant::now();
    loop {
        let busy = ctx.busy();
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
        ctx.wait_for_a_worker(tick);
    }
}

/// The bytes of I/O buffers a run may hold: `block_size` for each I/O that
/// can be in flight, `min(jobs x iodepth, blocks in the range)`.
pub(super) fn buffer_bytes(workers: usize, iodepth: usize, nblocks: u64, buf_len: usize) -> u64 {
    (workers as u64).saturating_mul(iodepth as u64).min(nblocks).saturating_mul(buf_len as u64)
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
        field: None,
    })
}
