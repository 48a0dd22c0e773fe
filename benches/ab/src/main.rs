//! Two versions of libdgen in one process, measured in turns: `base` (the
//! version under comparison, a worktree of another commit) and `head` (this
//! tree). `scripts/bench-compare.sh REV --ab` writes the manifest that names
//! both and runs this.
//!
//! Runs of `cargo bench --bench throughput` one after the other move by
//! several percent on a shared or virtual machine, more than the changes
//! they are meant to judge; here every round times both versions on the
//! same row back to back, in alternating order, and the table gives the
//! medians over rounds and their ratio, so a drift of the machine moves
//! both alike.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// One row: `threads` worker threads, calls of `size` bytes, `compress`.
#[derive(Clone, Copy)]
struct Row {
    threads: usize,
    size: usize,
    compress: f64,
}

/// GB/s of `fill` into `buf` for about `budget`: 4 KiB calls go to
/// scattered granule offsets (as random 4 KiB I/O would), larger ones
/// continue the stream.
fn speed(buf: &mut [u8], budget: Duration, fill: &dyn Fn(u64, &mut [u8])) -> f64 {
    let size = buf.len();
    let (mut bytes, mut at, mut lcg) = (0u64, 0u64, 1u64);
    let start = Instant::now();
    while start.elapsed() < budget {
        for _ in 0..16 {
            if size <= 4096 {
                lcg = lcg.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                at = (lcg >> 24) << 12;
            }
            fill(at, buf);
            black_box(&*buf);
            if size > 4096 {
                at += size as u64;
            }
            bytes += size as u64;
        }
    }
    bytes as f64 / start.elapsed().as_secs_f64() / 1e9
}

/// The middle measurement (rounds are odd).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A generator of version `$v` (`base` or `head`) for `$row`: the same
/// config from two crates, whose types differ.
macro_rules! generator {
    ($v:ident, $row:expr) => {
        $v::Generator::new($v::Config {
            compress_ratio: $row.compress,
            seed: Some(1),
            threads: $row.threads,
            ..Default::default()
        })
        .expect("a valid config")
    };
}

fn arg(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        None => default,
        Some(i) => match args.get(i + 1).and_then(|v| v.parse().ok()) {
            Some(v) if v > 0.0 => v,
            _ => {
                eprintln!("bench-ab: {name} needs a positive number");
                std::process::exit(2);
            }
        },
    }
}

fn main() {
    // Odd, so that the median is one of the measurements.
    let rounds = arg("--rounds", 7.0) as usize | 1;
    let budget = Duration::from_secs_f64(arg("--budget", 0.2));
    let mut rows = Vec::new();
    for threads in [1, 2] {
        for size in [4 << 10, 1 << 20, 64 << 20] {
            for compress in [1.0, 2.0, 4.0] {
                rows.push(Row { threads, size, compress });
            }
        }
    }
    println!("rounds of both versions back to back, alternating which goes first: {rounds}; medians");
    println!("{:>7} {:>8} {:>9} {:>10} {:>10} {:>9}", "threads", "buffer", "compress", "base GB/s", "head GB/s", "head/base");
    for row in rows {
        let (base, head) = (generator!(base, row), generator!(head, row));
        let fill_base = |at: u64, buf: &mut [u8]| base.fill_at(at, buf).expect("in range");
        let fill_head = |at: u64, buf: &mut [u8]| head.fill_at(at, buf).expect("in range");
        // A buffer for each version, reused by every round as a caller
        // reuses its buffer, and filled once first: its pages faulted in
        // and the generator's pool started.
        let (mut base_buf, mut head_buf) = (vec![0u8; row.size], vec![0u8; row.size]);
        fill_base(0, &mut base_buf);
        fill_head(0, &mut head_buf);
        let (mut b, mut h) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            if round % 2 == 0 {
                b.push(speed(&mut base_buf, budget, &fill_base));
                h.push(speed(&mut head_buf, budget, &fill_head));
            } else {
                h.push(speed(&mut head_buf, budget, &fill_head));
                b.push(speed(&mut base_buf, budget, &fill_base));
            }
        }
        let (b, h) = (median(&mut b), median(&mut h));
        let buffer = if row.size >= 1 << 20 { format!("{}MiB", row.size >> 20) } else { format!("{}KiB", row.size >> 10) };
        println!("{:>7} {:>8} {:>9} {:>10.2} {:>10.2} {:>8.3}x", row.threads, buffer, row.compress, b, h, h / b);
    }
}
