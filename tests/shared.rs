//! One generator shared: threads that continue one stream at once get
//! disjoint consecutive ranges whose union is the stream, and a generator
//! whose worker pool was started before a fork works in the child.

use std::io::Read;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use dgen::{Config, Generator, PARALLEL_MIN};

const THREADS: usize = 4;

fn config(size: u64) -> Config {
    Config { size, dedup_ratio: 1.0, compress_ratio: 2.0, seed: Some(31), threads: 2, ..Config::default() }
}

/// The offsets of the chunks that each thread got from `fill_shared`, in the
/// order it got them, which the call does not report: the bytes tell. Each
/// thread's chunks come in stream order, so the chunk at the next offset not
/// yet placed is at the head of some thread's list; `verify_at` finds which.
/// Chunks of a few hundred bytes and more are never equal by accident.
fn place(g: &Generator, per_thread: &[Vec<Vec<u8>>]) -> Vec<(u64, usize)> {
    let mut heads = vec![0usize; per_thread.len()];
    let mut next = 0u64;
    let mut placed = Vec::new();
    while let Some(t) = (0..per_thread.len())
        .find(|&t| per_thread[t].get(heads[t]).is_some_and(|chunk| g.verify_at(next, chunk).is_ok()))
    {
        let len = per_thread[t][heads[t]].len();
        placed.push((next, len));
        heads[t] += 1;
        next += len as u64;
    }
    let left: usize = (0..per_thread.len()).map(|t| per_thread[t].len() - heads[t]).sum();
    assert_eq!(left, 0, "{left} chunks are not the stream's bytes at {next}, the first offset no chunk covers");
    placed
}

/// Checks that the (offset, length) pieces cover `[0, size)` exactly once.
fn assert_tiles(mut pieces: Vec<(u64, usize)>, size: u64) {
    pieces.sort();
    let mut next = 0u64;
    for (at, len) in pieces {
        assert_eq!(at, next, "a gap or an overlap at {next}");
        next = at + len as u64;
    }
    assert_eq!(next, size, "the pieces stop short of the end");
}

#[test]
fn threads_that_fill_one_stream_get_disjoint_ranges_that_make_the_stream() {
    // Odd sizes, so ranges start off granule boundaries; one piece large
    // enough for the worker pool, which the threads then share.
    let sizes = [4097usize, 1023, 12_345, PARALLEL_MIN + 3, 65_537, 777_777];
    let size: u64 = (24 << 20) + 11;
    let g = Generator::new(config(size)).unwrap();
    let start = Barrier::new(THREADS);

    let got: Vec<Vec<Vec<u8>>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (g, start) = (&g, &start);
                s.spawn(move || {
                    let mut mine = Vec::new();
                    start.wait();
                    for i in t.. {
                        let mut buf = vec![0u8; sizes[i % sizes.len()]];
                        let n = g.fill_shared(&mut buf).unwrap();
                        if n == 0 {
                            return mine;
                        }
                        buf.truncate(n);
                        mine.push(buf);
                    }
                    unreachable!()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert!(g.is_complete() && g.position() == size);
    assert_tiles(place(&g, &got), size);
}

#[test]
fn reserve_and_fill_at_from_threads_tile_the_stream() {
    // The offsets come from `reserve`, so this runs with no search, to the
    // end of a stream whose size is no multiple of any request.
    let size: u64 = (40 << 20) + 999;
    let g = Generator::new(config(size)).unwrap();
    let pieces: Vec<(u64, usize)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let g = &g;
                s.spawn(move || {
                    let mut mine = Vec::new();
                    let want = [PARALLEL_MIN + 4097, 333_333, 4096][t % 3] as u64;
                    loop {
                        let r = g.reserve(want);
                        if r.is_empty() {
                            return mine;
                        }
                        let mut buf = vec![0u8; (r.end - r.start) as usize];
                        g.fill_at(r.start, &mut buf).unwrap();
                        g.verify_at(r.start, &buf).unwrap();
                        mine.push((r.start, buf.len()));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    assert_tiles(pieces, size);
    assert!(g.is_complete());
}

#[test]
fn a_shared_reference_reads_the_stream() {
    let size: u64 = (3 << 20) + 5;
    let g = Generator::new(config(size)).unwrap();
    let mut out = Vec::new();
    (&g).read_to_end(&mut out).unwrap();
    assert!(out == dgen::generate(config(size)).unwrap());
    assert_eq!((&g).read(&mut [0u8; 16]).unwrap(), 0);
}

/// Waits for `pid` for up to `limit`; kills it and returns None when it is
/// still running then.
fn wait_for(pid: libc::pid_t, limit: Duration) -> Option<libc::c_int> {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: `pid` is our child; `status` is a valid out-pointer.
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        assert!(done >= 0, "waitpid: {}", std::io::Error::last_os_error());
        if done == pid {
            return Some(status);
        }
        if start.elapsed() > limit {
            // SAFETY: as above.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_generator_whose_pool_ran_before_fork_works_in_the_child() {
    let len = 2 * PARALLEL_MIN + 12_345; // large enough for the worker pool
    let size = 4 * len as u64;
    let mut g = Generator::new(config(size)).unwrap();
    assert!(g.threads() > 1 || dgen::default_threads() == 1, "threads 2 should give a pool on this machine");
    let mut before = vec![0u8; len];
    assert_eq!(g.fill(&mut before).unwrap(), len); // the pool is running now
    let mut want = vec![0u8; len];
    g.fill_at(len as u64, &mut want).unwrap();
    // Another generator whose pool runs, which the child only drops: a drop
    // that waited for the parent's workers would never return.
    let other = Generator::new(config(size)).unwrap();
    other.fill_at(0, &mut vec![0u8; len]).unwrap();

    // SAFETY: the child calls only what is safe after fork in a process that
    // had threads here in practice (the allocator, thread creation, _exit),
    // and never returns into the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // The child: no panic message (it would need locks the harness's
        // threads may have held), only an exit status. 0: the stream and a
        // random-access fill give the right bytes; 1: wrong bytes. A hang
        // (a drop or a fill waiting for the parent's workers) is a timeout.
        std::panic::set_hook(Box::new(|_| {}));
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drop(other);
            let mut got = vec![0u8; len];
            let streamed = g.fill_shared(&mut got) == Ok(len) && got == want;
            got.fill(0);
            let at = g.fill_at(len as u64, &mut got).is_ok() && got == want;
            let verified = g.verify_at(len as u64, &want).is_ok();
            streamed && at && verified && g.position() == 2 * len as u64
        }));
        // SAFETY: ends the child without running the parent's atexit
        // handlers or destructors.
        unsafe { libc::_exit(if matches!(ok, Ok(true)) { 0 } else { 1 }) };
    }
    let status = wait_for(pid, Duration::from_secs(30))
        .expect("the child hung on a generator whose worker pool was started before fork");
    assert!(libc::WIFEXITED(status), "the child died: status {status:#x}");
    assert_eq!(libc::WEXITSTATUS(status), 0, "the child got wrong bytes");

    // The parent's generator and pool are untouched.
    let mut got = vec![0u8; len];
    assert_eq!(g.fill(&mut got).unwrap(), len);
    assert!(got == want);
}
