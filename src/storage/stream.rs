//! Pipes, FIFOs, character devices, standard input and output: written or
//! read in order, one block after the other, by the calling thread.

use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::common::{blocks_touching, check, finish, io_fault, AlignedBuf, Tally};
use super::report::{Operation, Report};
use super::target::Target;
use super::{Control, Fault, IoOptions, Progress, StorageError};
use crate::generator::Generator;
use crate::model::{Model, GRANULE};

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

/// Writes or reads `[opts.offset, stop)` of a stream in order (to its end
/// when `stop` is `None`), one block after the other on this thread.
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
    let mut pass = Pass {
        op,
        model: gen.model(),
        file: &target.file,
        offset,
        stop,
        block: opts.block_size,
        t: Tally::new(),
        pos: offset,
    };
    let started = Instant::now();
    let outcome = pass.blocks(&mut buf, &cancelled, &mut control, started, &mut report);
    let whole = matches!(outcome, Outcome::Whole);
    let (mut failure, interrupted) = match outcome {
        Outcome::Whole | Outcome::DataEnded => (None, false),
        Outcome::Interrupted => (None, true),
        Outcome::Failed(f) => (Some(f), false),
    };
    // A stream that should end with the dataset must not go on.
    let sized_to_the_end = stop.is_some_and(|s| opts.length.is_none() && gen.size() != 0 && s == gen.size());
    if op == Operation::Verify && whole && sized_to_the_end {
        let mut one = [0u8; 1];
        match read_full(pass.file, &mut one, &cancelled) {
            Ok(Step::Done(1)) => report.extra_data = true,
            Ok(_) => {}
            Err(e) => failure = Some(io_fault(op, &report.path, false, pass.pos, 1, &e)),
        }
    }
    let Pass { mut t, pos, .. } = pass;
    if let Some(cb) = control.progress.as_mut() {
        cb(Progress { bytes: pos - offset, total: total_of(stop, offset), elapsed: started.elapsed() });
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

/// How the blocks of a stream run ended.
enum Outcome {
    /// The range is done (or, with no end given, nothing is left to do).
    Whole,
    /// A read found the data's end.
    DataEnded,
    /// The cancel flag or the progress callback stopped the run.
    Interrupted,
    Failed(Fault),
}

/// A stream run in progress.
struct Pass<'a> {
    op: Operation,
    model: &'a Model,
    file: &'a std::fs::File,
    offset: u64,
    stop: Option<u64>,
    block: usize,
    t: Tally,
    /// The stream offset of the next byte.
    pos: u64,
}

impl Pass<'_> {
    /// Moves block after block through `buf` until the range or the data
    /// ends, the run is stopped or an I/O fails, with progress calls about
    /// every `control.interval`.
    fn blocks(
        &mut self,
        buf: &mut AlignedBuf,
        cancelled: &dyn Fn() -> bool,
        control: &mut Control<'_>,
        started: Instant,
        report: &mut Report,
    ) -> Outcome {
        let total = total_of(self.stop, self.offset);
        let mut last = Instant::now();
        loop {
            if cancelled() {
                return Outcome::Interrupted;
            }
            let n = self.stop.map_or(self.block as u64, |s| (s - self.pos).min(self.block as u64)) as usize;
            if n == 0 {
                return Outcome::Whole;
            }
            let b = &mut buf.get()[..n];
            let got = match self.move_block(b, cancelled) {
                Ok(Some(got)) => got,
                Ok(None) => return Outcome::Interrupted,
                Err(e) => return Outcome::Failed(io_fault(self.op, &report.path, false, self.pos, n, &e)),
            };
            let ended = self.op == Operation::Verify && self.check_block(&b[..got], n, report);
            self.t.bytes += got as u64;
            self.pos += got as u64;
            if let Some(cb) = control.progress.as_mut() {
                if last.elapsed() >= control.interval {
                    last = Instant::now();
                    if !cb(Progress { bytes: self.pos - self.offset, total, elapsed: started.elapsed() }) {
                        return Outcome::Interrupted;
                    }
                }
            }
            if ended {
                return Outcome::DataEnded;
            }
        }
    }

    /// Writes the stream's bytes at `pos` through `b`, or reads into it:
    /// the bytes moved, or `None` when stopped in the middle.
    fn move_block(&mut self, b: &mut [u8], cancelled: &dyn Fn() -> bool) -> std::io::Result<Option<usize>> {
        let t = &mut self.t;
        let t0 = Instant::now();
        let step = match self.op {
            Operation::Write => {
                self.model.fill(self.pos, b);
                let t1 = Instant::now();
                t.gen += t1 - t0;
                let r = write_all(self.file, b, cancelled);
                t.io += t1.elapsed();
                r.map_err(|(e, done)| {
                    t.bytes += done as u64;
                    e
                })
            }
            Operation::Verify => {
                let r = read_full(self.file, b, cancelled);
                t.io += t0.elapsed();
                r
            }
        };
        let got = match step? {
            Step::Done(got) => got,
            Step::Stopped(got) => {
                // What went out of a write counts; a read cut short is not
                // checked.
                if self.op == Operation::Write {
                    t.bytes += got as u64;
                }
                return Ok(None);
            }
        };
        t.latency(t0.elapsed());
        if got > 0 {
            t.ios += 1;
        }
        Ok(Some(got))
    }

    /// Checks the `got` bytes read at `pos` (of `n` asked for); true when
    /// the data ended there, which `report` then says.
    fn check_block(&mut self, b: &[u8], n: usize, report: &mut Report) -> bool {
        let (pos, got) = (self.pos, b.len());
        let t1 = Instant::now();
        let (first, wrong) = check(self.model, pos, b);
        self.t.gen += t1.elapsed();
        self.t.found(first, wrong);
        if got == n {
            return false;
        }
        if let Some(stop) = self.stop {
            let end = pos + got as u64;
            report.data_end = Some(end);
            // The 4 KiB block the data ends in is wrong or missing, not both.
            let piece = (end / GRANULE as u64 * GRANULE as u64).max(pos);
            let straddle = !end.is_multiple_of(GRANULE as u64)
                && end > self.offset
                && self.model.first_mismatch(piece, &b[(piece - pos) as usize..got]).is_some();
            report.missing_blocks = blocks_touching(end.max(self.offset), stop).saturating_sub(straddle as u64);
        }
        true
    }
}
