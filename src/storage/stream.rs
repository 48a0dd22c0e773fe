//! Pipes, FIFOs, character devices, standard input and output: written or
//! read in order, one block after the other, by the calling thread.

use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::report::{Operation, Report};
use super::run::{blocks_touching, check, finish, io_fault, AlignedBuf, Tally};
use super::target::Target;
use super::{Control, Fault, IoOptions, Progress, StorageError};
use crate::generator::Generator;
use crate::model::GRANULE;

/// Bytes in the range, 0 while a stream's end is not known.
fn total_of(stop: Option<u64>, offset: u64) -> u64 {
    stop.map_or(0, |s| s - offset)
}

pub(super) enum Step {
    Done(usize),
    /// Stopped by a cancel request after this many bytes.
    Stopped(usize),
}

/// Writes all of `buf`; on failure, the error and the bytes that went out
/// before it (a reader that closes a pipe takes part of a block first).
fn write_all(mut file: &std::fs::File, buf: &[u8], stop: &dyn Fn() -> bool) -> Result<Step, (std::io::Error, usize)> {
    let mut done = 0;
    while done < buf.len() {
        match file.write(&buf[done..]) {
            Ok(0) => return Err((std::io::Error::new(ErrorKind::WriteZero, "the write wrote nothing"), done)),
            // A signal that lands in a blocked pipe write after some bytes
            // went through ends it short rather than with EINTR.
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err((e, done)),
        }
        if done < buf.len() && stop() {
            return Ok(Step::Stopped(done));
        }
    }
    Ok(Step::Done(done))
}

pub(super) fn read_full(mut file: &std::fs::File, buf: &mut [u8], stop: &dyn Fn() -> bool) -> std::io::Result<Step> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {
                if stop() {
                    return Ok(Step::Stopped(got));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Step::Done(got))
}

pub(super) fn run(
    op: Operation,
    gen: &Generator,
    target: &Target,
    opts: &IoOptions,
    stop: Option<u64>,
    mut control: Control<'_>,
    mut report: Report,
) -> Result<Report, StorageError> {
    let offset = opts.offset;
    report.engine = "stream".into();
    report.jobs = 1;
    report.iodepth = 1;
    let model = gen.model();
    // No longer than the range, when its end is known.
    let buf_len = stop.map_or(opts.block_size, |s| {
        usize::try_from(s - offset)
            .map_or(opts.block_size, |l| l.next_multiple_of(super::ALIGN).clamp(super::ALIGN, opts.block_size))
    });
    let mut buf = match AlignedBuf::new(buf_len) {
        Ok(b) => b,
        Err(f) => return Err(finish(report, Some(f)).unwrap_err()),
    };
    report.length = total_of(stop, offset);
    if let Some(cb) = control.started.as_mut() {
        cb(&report);
    }
    let cancel = control.cancel;
    let cancelled = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let total = total_of(stop, offset);
    let started = Instant::now();
    let mut last = Instant::now();
    let mut t = Tally::new();
    let mut pos = offset;
    let mut failure: Option<Fault> = None;
    let mut interrupted = false;
    let mut ended = false;
    let file = &target.file;
    loop {
        if cancelled() {
            interrupted = true;
            break;
        }
        let n = stop.map_or(opts.block_size as u64, |s| (s - pos).min(opts.block_size as u64)) as usize;
        if n == 0 {
            break;
        }
        let b = &mut buf.get()[..n];
        let t0 = Instant::now();
        let step = match op {
            Operation::Write => {
                model.fill(pos, b);
                let t1 = Instant::now();
                t.gen += t1 - t0;
                let r = write_all(file, b, &cancelled);
                t.io += t1.elapsed();
                r.map_err(|(e, done)| {
                    t.bytes += done as u64;
                    e
                })
            }
            Operation::Verify => {
                let r = read_full(file, b, &cancelled);
                t.io += t0.elapsed();
                r
            }
        };
        let got = match step {
            Ok(Step::Done(got)) => got,
            Ok(Step::Stopped(got)) => {
                // What went out of a write counts; a read cut short is not
                // checked.
                if op == Operation::Write {
                    t.bytes += got as u64;
                }
                interrupted = true;
                break;
            }
            Err(e) => {
                failure = Some(io_fault(op, &report.path, false, pos, n, &e));
                break;
            }
        };
        t.latency(t0.elapsed());
        if got > 0 {
            t.ios += 1;
        }
        if op == Operation::Verify {
            let t1 = Instant::now();
            let (first, wrong) = check(model, pos, &b[..got]);
            t.gen += t1.elapsed();
            t.found(first, wrong);
            if got < n {
                ended = true;
                if stop.is_some() {
                    let end = pos + got as u64;
                    report.data_end = Some(end);
                    // The 4 KiB block the data ends in is wrong or missing,
                    // not both.
                    let piece = (end / GRANULE as u64 * GRANULE as u64).max(pos);
                    let straddle = !end.is_multiple_of(GRANULE as u64)
                        && end > offset
                        && model.first_mismatch(piece, &b[(piece - pos) as usize..got]).is_some();
                    report.missing_blocks =
                        blocks_touching(end.max(offset), stop.unwrap_or(end)).saturating_sub(straddle as u64);
                }
            }
        }
        t.bytes += got as u64;
        pos += got as u64;
        if let Some(cb) = control.progress.as_mut() {
            if last.elapsed() >= control.interval {
                last = Instant::now();
                if !cb(Progress { bytes: pos - offset, total, elapsed: started.elapsed() }) {
                    interrupted = true;
                    break;
                }
            }
        }
        if ended {
            break;
        }
    }
    // A stream that should end with the dataset must not go on.
    if op == Operation::Verify && failure.is_none() && !interrupted && !ended {
        if let Some(s) = stop {
            if opts.length.is_none() && gen.size() != 0 && s == gen.size() {
                let mut one = [0u8; 1];
                match read_full(file, &mut one, &cancelled) {
                    Ok(Step::Done(1)) => report.extra_data = true,
                    Ok(_) => {}
                    Err(e) => failure = Some(io_fault(op, &report.path, false, pos, 1, &e)),
                }
            }
        }
    }
    if let Some(cb) = control.progress.as_mut() {
        cb(Progress { bytes: pos - offset, total, elapsed: started.elapsed() });
    }
    t.wall = started.elapsed();
    report.length = stop.map_or(pos - offset, |s| s - offset);
    if op == Operation::Verify {
        report.blocks = blocks_touching(offset, offset + report.length);
    }
    report.prefix = t.bytes;
    let interrupted = interrupted && failure.is_none();
    finish(report.with_tally(t, started, interrupted), failure)
}
