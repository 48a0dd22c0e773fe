//! Prints generation speed in GB/s and as a share of memset on the same buffer.
//! Run: `cargo bench --bench throughput` (add `-- --quick` for a short run).
//!
//! Cases: 1 thread and all threads; 4 KiB `fill_at` at scattered offsets,
//! 1 MiB and 64 MiB buffers; compress 1, 2 and 4. Speeds on a shared machine
//! move from run to run, so each case is paired with memset timed in the same
//! run on the same buffer.

use std::hint::black_box;
use std::time::{Duration, Instant};

use dgen::{Config, Generator};

/// Runs `f` (which processes `bytes` per call) for about `budget` and returns the
/// best GB/s over several rounds.
fn rate(bytes: usize, budget: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let mut best = 0f64;
    let rounds = 5;
    for _ in 0..rounds {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < budget / rounds {
            f();
            n += 1;
        }
        let gbs = (n as f64 * bytes as f64) / start.elapsed().as_secs_f64() / 1e9;
        best = best.max(gbs);
    }
    best
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let budget = Duration::from_millis(if quick { 300 } else { 1500 });
    let all = dgen::default_threads();
    let mut threads = vec![1];
    if all > 1 {
        threads.push(all);
    }
    println!("{:>8} {:>8} {:>9} {:>10} {:>10} {:>9}", "threads", "buffer", "compress", "dgen GB/s", "memset GB/s", "% memset");
    let mut one_thread_64m = std::collections::HashMap::new();
    for &t in &threads {
        for &(label, size) in &[("4KiB", 4096usize), ("1MiB", 1 << 20), ("64MiB", 64 << 20)] {
            for &c in &[1.0, 2.0, 4.0] {
                let cfg = Config { dedup_ratio: 1.0, compress_ratio: c, seed: Some(1), threads: t, ..Config::default() };
                let gen = Generator::new(cfg).unwrap();
                let mut buf = vec![0u8; size];
                let mut memset_val = 0u8;
                let memset = rate(size, budget, || {
                    memset_val = memset_val.wrapping_add(1);
                    buf.fill(black_box(memset_val));
                    black_box(&buf);
                });
                let speed = if size == 4096 {
                    // Scattered offsets over 1 TiB, one call per 4 KiB I/O.
                    let mut off = 0u64;
                    rate(size, budget, || {
                        off = off.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        gen.fill_at((off >> 24) << 12, &mut buf).unwrap();
                        black_box(&buf);
                    })
                } else {
                    let mut off = 0u64;
                    rate(size, budget, || {
                        gen.fill_at(off, &mut buf).unwrap();
                        off += size as u64;
                        black_box(&buf);
                    })
                };
                if t == 1 && size == 64 << 20 {
                    one_thread_64m.insert(c.to_string(), speed);
                }
                println!(
                    "{:>8} {:>8} {:>9} {:>10.2} {:>10.2} {:>8.0}%",
                    t, label, c, speed, memset, 100.0 * speed / memset
                );
            }
        }
    }
}
