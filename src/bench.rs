//! Speed measurement shared by `cargo bench --bench throughput` and
//! `dgen bench`: GB/s of the generator next to memset on the same buffer, timed
//! in the same run so that a busy machine moves both alike.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::{Config, Generator};

/// One measured case.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Worker threads of the generator.
    pub threads: usize,
    /// Bytes per call (4 KiB calls go to scattered offsets).
    pub buffer: usize,
    /// The compress ratio generated.
    pub compress: f64,
    /// Generator speed, GB/s (10^9 bytes per second).
    pub gbps: f64,
    /// memset speed on the same buffer, GB/s.
    pub memset_gbps: f64,
}

impl Sample {
    /// Generator speed as a share of memset's.
    pub fn memset_share(&self) -> f64 {
        self.gbps / self.memset_gbps
    }
}

/// Best GB/s of `f`, which handles `bytes` per call, over five rounds that
/// together last about `budget`.
fn best_rate(bytes: usize, budget: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let rounds = 5;
    let mut best = 0f64;
    for _ in 0..rounds {
        let start = Instant::now();
        let mut calls = 0u64;
        while start.elapsed() < budget / rounds {
            f();
            calls += 1;
        }
        best = best.max(calls as f64 * bytes as f64 / start.elapsed().as_secs_f64() / 1e9);
    }
    best
}

/// Measures one case: `threads` workers, `buffer` bytes per call, `compress`.
pub fn measure(threads: usize, buffer: usize, compress: f64, budget: Duration) -> Sample {
    let cfg = Config { compress_ratio: compress, seed: Some(1), threads, ..Config::default() };
    let generator = Generator::new(cfg).expect("benchmark config is valid");
    let mut buf = vec![0u8; buffer];
    let mut value = 0u8;
    let memset_gbps = best_rate(buffer, budget, || {
        value = value.wrapping_add(1);
        buf.fill(black_box(value));
        black_box(&buf);
    });
    let mut offset = 0u64;
    let gbps = if buffer <= 4096 {
        // One call per 4 KiB I/O at scattered offsets over 1 TiB, as fio does.
        best_rate(buffer, budget, || {
            offset = offset.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            generator.fill_at((offset >> 24) << 12, &mut buf).expect("in range");
            black_box(&buf);
        })
    } else {
        best_rate(buffer, budget, || {
            generator.fill_at(offset, &mut buf).expect("in range");
            offset += buffer as u64;
            black_box(&buf);
        })
    };
    Sample { threads, buffer, compress, gbps, memset_gbps }
}

/// The standard table: 1 thread and all threads; 4 KiB, 1 MiB and 64 MiB;
/// compress 1, 2 and 4. `budget` is the time per measurement.
pub fn standard(budget: Duration) -> Vec<Sample> {
    let all = crate::default_threads();
    let mut threads = vec![1];
    if all > 1 {
        threads.push(all);
    }
    let mut out = Vec::new();
    for &t in &threads {
        for &buffer in &[4096usize, 1 << 20, 64 << 20] {
            for &compress in &[1.0, 2.0, 4.0] {
                out.push(measure(t, buffer, compress, budget));
            }
        }
    }
    out
}

/// A buffer size as the table prints it.
pub fn size_label(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{}MiB", b >> 20),
        b if b >= 1 << 10 => format!("{}KiB", b >> 10),
        b => format!("{b}B"),
    }
}

/// The table as text, one line per sample.
pub fn table(samples: &[Sample]) -> String {
    let mut s = format!("{:>8} {:>8} {:>9} {:>10} {:>12} {:>9}\n", "threads", "buffer", "compress", "GB/s", "memset GB/s", "% memset");
    for x in samples {
        s += &format!(
            "{:>8} {:>8} {:>9} {:>10.2} {:>12.2} {:>8.0}%\n",
            x.threads,
            size_label(x.buffer),
            x.compress,
            x.gbps,
            x.memset_gbps,
            100.0 * x.memset_share()
        );
    }
    s
}
