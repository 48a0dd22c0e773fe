//! A worker that keeps `iodepth` I/Os in flight through its own io_uring:
//! while the kernel writes (or reads) some blocks, the worker generates (or
//! checks) others.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::time::Instant;

use io_uring::{opcode, squeue, types, IoUring};

use super::report::Operation;
use super::run::{AlignedBuf, Ctx, Tally};
use super::Fault;
use crate::state::Claim;

/// Whether this kernel and process may set up a ring of `depth` entries
/// (seccomp, `kernel.io_uring_disabled` and old kernels refuse).
pub(super) fn probe(depth: usize) -> io::Result<()> {
    IoUring::new(depth as u32).map(drop)
}

/// A block in flight in one buffer.
struct Job {
    idx: u64,
    off: u64,
    len: usize,
    /// Bytes already written or read (a short I/O is sent again for the rest).
    done: usize,
    submitted: Instant,
    /// A write's claim on its units, completed when the write is over.
    claim: Option<Claim>,
}

struct Slot {
    /// Allocated with the slot's first block: a slot that never gets one
    /// costs no memory.
    buf: Option<AlignedBuf>,
    job: Option<Job>,
}

impl Slot {
    fn buf(&mut self) -> &mut [u8] {
        self.buf.as_mut().expect("a slot with a job has a buffer").get()
    }
}

fn entry(ctx: &Ctx, slot: &mut Slot, k: usize) -> squeue::Entry {
    let fd = types::Fd(ctx.file.as_raw_fd());
    let job = slot.job.as_ref().expect("a slot with a job");
    let (done, len, off) = (job.done, job.len, job.off + job.done as u64);
    let rest = &mut slot.buf()[done..len];
    let (ptr, n) = (rest.as_mut_ptr(), rest.len() as u32);
    match ctx.op {
        Operation::Write => opcode::Write::new(fd, ptr, n).offset(off).build().user_data(k as u64),
        Operation::Verify => opcode::Read::new(fd, ptr, n).offset(off).build().user_data(k as u64),
    }
}

/// Queues the slot's job (or what is left of it).
fn push(ring: &mut IoUring, ctx: &Ctx, slot: &mut Slot, k: usize) {
    let sqe = entry(ctx, slot, k);
    // SAFETY: the entry points into `slot.buf`, which lives in `slots` (never
    // resized) until the worker returns, and is not touched again until this
    // entry's completion is reaped: a slot's buffer is used only while its
    // job is None or after its completion. The worker reaps every
    // completion before it returns, and forgets the buffers if it ever
    // cannot. The ring has `iodepth` entries and at most `iodepth` jobs are
    // queued, one per slot, and each is submitted before the next push, so
    // the queue is never full.
    let pushed = unsafe { ring.submission().push(&sqe) };
    debug_assert!(pushed.is_ok(), "a ring with one entry per slot is never full");
}

pub(super) fn worker(ctx: &Ctx, t: &mut Tally) -> Result<(), Fault> {
    let mut ring = IoUring::new(ctx.iodepth as u32).map_err(|e| Fault::io("cannot set up io_uring".into(), &e))?;
    let mut slots: Vec<Slot> = (0..ctx.iodepth).map(|_| Slot { buf: None, job: None }).collect();
    let mut inflight = 0usize;
    let mut reaped: Vec<(u64, i32)> = Vec::with_capacity(ctx.iodepth);
    // Gives a free slot the next block and sends it to the kernel at once,
    // so the device never waits for the other slots to be refilled.
    let refill = |ring: &mut IoUring, slot: &mut Slot, k: usize, t: &mut Tally| -> bool {
        let Some((idx, off, len)) = ctx.claim() else { return false };
        if slot.buf.is_none() {
            match AlignedBuf::new(ctx.buf_len) {
                Ok(b) => slot.buf = Some(b),
                Err(f) => {
                    t.unfinished = Some(t.unfinished.map_or(idx, |u| u.min(idx)));
                    ctx.fail(f);
                    return false;
                }
            }
        }
        let mut claim = None;
        if ctx.op == Operation::Write {
            let t0 = Instant::now();
            match ctx.fill_write(off, &mut slot.buf()[..len]) {
                Ok(c) => claim = c,
                Err(f) => {
                    t.unfinished = Some(t.unfinished.map_or(idx, |u| u.min(idx)));
                    ctx.fail(f);
                    return false;
                }
            }
            t.gen += t0.elapsed();
        }
        slot.job = Some(Job { idx, off, len, done: 0, submitted: Instant::now(), claim });
        push(ring, ctx, slot, k);
        // A failed submit leaves the entry queued; submit_and_wait below
        // sends it or reports the error.
        let _ = ring.submit();
        true
    };
    loop {
        for (k, slot) in slots.iter_mut().enumerate() {
            if slot.job.is_some() {
                continue;
            }
            if !refill(&mut ring, slot, k, t) {
                break;
            }
            inflight += 1;
        }
        if inflight == 0 {
            return Ok(());
        }
        let t0 = Instant::now();
        match ring.submit_and_wait(1) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                // The kernel may still use the buffers of the I/Os in
                // flight; they must outlive this worker.
                std::mem::forget(slots);
                std::mem::forget(ring);
                return Err(Fault::io("cannot submit to io_uring".into(), &e));
            }
        }
        t.io += t0.elapsed();
        reaped.clear();
        reaped.extend(ring.completion().map(|c| (c.user_data(), c.result())));
        for &(k, res) in &reaped {
            let k = k as usize;
            let slot = &mut slots[k];
            let Some(job) = slot.job.as_mut() else { continue };
            if res < 0 {
                let e = io::Error::from_raw_os_error(-res);
                if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock) && !ctx.stopped() {
                    push(&mut ring, ctx, slot, k);
                    continue;
                }
                let (off, len) = (job.off + job.done as u64, job.len);
                t.unfinished = Some(t.unfinished.map_or(job.idx, |u| u.min(job.idx)));
                ctx.end_write(job.claim.take());
                slot.job = None;
                inflight -= 1;
                let interrupted = e.kind() == io::ErrorKind::Interrupted;
                if !interrupted {
                    ctx.fail(match ctx.op {
                        Operation::Write => ctx.write_fault(off, len, &e),
                        Operation::Verify => ctx.read_fault(off, len, &e),
                    });
                }
                continue;
            }
            let n = res as usize;
            job.done += n;
            let ended = n == 0;
            if ended && ctx.op == Operation::Write {
                t.unfinished = Some(t.unfinished.map_or(job.idx, |u| u.min(job.idx)));
                let e = io::Error::new(io::ErrorKind::WriteZero, "the write wrote nothing");
                ctx.fail(ctx.write_fault(job.off + job.done as u64, job.len, &e));
                ctx.end_write(job.claim.take());
                slot.job = None;
                inflight -= 1;
                continue;
            }
            if job.done < job.len && !ended {
                push(&mut ring, ctx, slot, k);
                continue;
            }
            t.latency(job.submitted.elapsed());
            t.ios += 1;
            t.bytes += job.done as u64;
            if ctx.op == Operation::Verify {
                if job.done < job.len {
                    ctx.short_read(job.off + job.done as u64);
                }
                let t0 = Instant::now();
                let (off, done) = (job.off, job.done);
                let buf = slot.buf.as_mut().expect("a slot with a job has a buffer");
                ctx.check_read(off, &buf.get()[..done], t);
                t.gen += t0.elapsed();
            }
            ctx.end_write(job.claim.take());
            ctx.done.fetch_add(job.done as u64, Ordering::Relaxed);
            slot.job = None;
            inflight -= 1;
            if refill(&mut ring, slot, k, t) {
                inflight += 1;
            }
        }
    }
}
