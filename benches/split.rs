//! One large fill against the same bytes in 8 MiB calls: whether the path for
//! large fills (the split over the worker pool, and non-temporal stores past
//! the streaming threshold) beats filling the buffer piece by piece. Prints
//! GB/s of each, best of the rounds, and the ratio one-call / 8-MiB-calls,
//! for 1 and 2 threads and compress 1, 2 and 4, on a 64 MiB buffer written
//! before (as a benchmark's or a storage tool's buffer is).
//! Run: `cargo bench --bench split` (`-- --quick` for a short run).

use std::time::{Duration, Instant};

const BUF: usize = 64 << 20;
const PIECE: usize = 8 << 20;

/// Best GB/s of `f` over rounds run for about `budget`.
fn best(budget: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let (start, mut best) = (Instant::now(), f64::MAX);
    while start.elapsed() < budget || best == f64::MAX {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    BUF as f64 / best / 1e9
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let budget = Duration::from_millis(if quick { 300 } else { 1500 });
    println!("streaming threshold {} MiB", dgen::streaming_threshold() >> 20);
    println!("{:>7} {:>8} {:>12} {:>12} {:>7}", "threads", "compress", "one call", "8 MiB calls", "ratio");
    let mut buf = vec![1u8; BUF];
    for threads in [1, 2] {
        for compress in [1.0, 2.0, 4.0] {
            let cfg = dgen::Config { compress_ratio: compress, threads, seed: Some(1), ..dgen::Config::default() };
            let g = dgen::Generator::new(cfg).expect("a valid config");
            // Rounds alternate, so a machine that slows down moves both.
            let (mut one, mut pieces) = (0f64, 0f64);
            for _ in 0..3 {
                one = one.max(best(budget / 3, || g.fill_at(0, &mut buf).expect("in range")));
                pieces = pieces.max(best(budget / 3, || {
                    for (i, chunk) in buf.chunks_mut(PIECE).enumerate() {
                        g.fill_at((i * PIECE) as u64, chunk).expect("in range");
                    }
                }));
            }
            println!("{threads:>7} {compress:>8} {one:>9.1} GB/s {pieces:>9.1} GB/s {:>6.2}x", one / pieces);
        }
    }
}
