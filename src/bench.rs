//! Speed measurement shared by `cargo bench --bench throughput` and
//! `dgen bench`: GB/s of the generator next to memset on the same buffer, timed
//! in the same run so that a busy machine moves both alike.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::{Compressor, Config, Generator};

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

/// Rounds each case of [`measure_all`] gets, taken in turn with the others.
const ROUNDS: u32 = 25;

/// Best GB/s of each of `cases`, which handle `bytes` per call: [`ROUNDS`]
/// rounds that together last about `budget` per case, the cases taking
/// their rounds in turn. Busy spells of a few seconds on a shared virtual
/// machine (which slowed the load- and store-bound compressible granules
/// more than the all-random ones) then fall on every case alike, and each
/// case's best round is one they spared. Each case is called once first,
/// untimed, so that a fresh buffer's page faults fall outside the rounds.
pub fn best_rates(bytes: usize, budget: Duration, cases: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    for f in cases.iter_mut() {
        f();
    }
    let mut best = vec![0f64; cases.len()];
    for _ in 0..ROUNDS {
        for (f, best) in cases.iter_mut().zip(&mut best) {
            let start = Instant::now();
            let mut calls = 0u64;
            while calls == 0 || start.elapsed() < budget / ROUNDS {
                f();
                calls += 1;
            }
            *best = best.max(calls as f64 * bytes as f64 / start.elapsed().as_secs_f64() / 1e9);
        }
    }
    best
}

/// Measures one case: `threads` workers, `buffer` bytes per call, `compress`
/// with the layout for `compressor`.
pub fn measure(threads: usize, buffer: usize, compress: f64, compressor: Compressor, budget: Duration) -> Sample {
    measure_all(threads, buffer, &[compress], compressor, budget).remove(0)
}

/// Measures `threads` workers on `buffer` bytes per call at each of
/// `compresses` (with the layout for `compressor`) and memset on the same
/// buffer, their rounds taken in turn (see `best_rates`).
pub fn measure_all(
    threads: usize,
    buffer: usize,
    compresses: &[f64],
    compressor: Compressor,
    budget: Duration,
) -> Vec<Sample> {
    let generators: Vec<Generator> = compresses
        .iter()
        .map(|&compress| {
            let cfg = Config { compress_ratio: compress, compressor, seed: Some(1), threads, ..Config::default() };
            Generator::new(cfg).expect("benchmark config is valid")
        })
        .collect();
    let buf = std::cell::RefCell::new(vec![0u8; buffer]);
    let mut value = 0u8;
    let mut memset = || {
        value = value.wrapping_add(1);
        let mut b = buf.borrow_mut();
        b.fill(black_box(value));
        black_box(&*b);
    };
    let mut fills: Vec<_> = generators
        .iter()
        .map(|generator| {
            let (buf, mut offset) = (&buf, 0u64);
            move || {
                let mut b = buf.borrow_mut();
                if buffer <= 4096 {
                    // One call per 4 KiB I/O at scattered offsets over 1 TiB,
                    // as fio does.
                    offset = offset.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    generator.fill_at((offset >> 24) << 12, &mut b).expect("in range");
                } else {
                    generator.fill_at(offset, &mut b).expect("in range");
                    offset += buffer as u64;
                }
                black_box(&*b);
            }
        })
        .collect();
    let mut cases: Vec<&mut dyn FnMut()> = vec![&mut memset];
    cases.extend(fills.iter_mut().map(|f| f as &mut dyn FnMut()));
    let rates = best_rates(buffer, budget, &mut cases);
    compresses
        .iter()
        .zip(&rates[1..])
        .map(|(&compress, &gbps)| Sample { threads, buffer, compress, gbps, memset_gbps: rates[0] })
        .collect()
}

/// The standard table: 1 thread and all threads; 4 KiB, 1 MiB and 64 MiB;
/// compress 1, 2 and 4 with the layout for `compressor`. `budget` is the
/// time per measurement.
pub fn standard(budget: Duration, compressor: Compressor) -> Vec<Sample> {
    let all = crate::default_threads();
    let mut threads = vec![1];
    if all > 1 {
        threads.push(all);
    }
    let mut out = Vec::new();
    for &t in &threads {
        for &buffer in &[4096usize, 1 << 20, 64 << 20] {
            out.extend(measure_all(t, buffer, &[1.0, 2.0, 4.0], compressor, budget));
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
    let mut s = format!(
        "{:>8} {:>8} {:>9} {:>10} {:>12} {:>9}\n",
        "threads", "buffer", "compress", "GB/s", "memset GB/s", "% memset"
    );
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

/// A buffer size printed by [`size_label`], read back.
fn parse_size_label(label: &str) -> Option<usize> {
    let (digits, shift) = if let Some(d) = label.strip_suffix("MiB") {
        (d, 20)
    } else if let Some(d) = label.strip_suffix("KiB") {
        (d, 10)
    } else {
        (label.strip_suffix('B')?, 0)
    };
    digits.parse::<usize>().ok()?.checked_mul(1 << shift)
}

/// Reads back a table printed by [`table`] (by `cargo bench --bench
/// throughput` or `dgen bench`, of this version or an earlier one), to compare
/// a later run with it. Lines that are not rows (headers, cargo's own output)
/// are skipped; an error names the first row that cannot be read, and a text
/// with no rows at all is an error too.
pub fn parse_table(text: &str) -> Result<Vec<Sample>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 6 || !fields[0].bytes().all(|b| b.is_ascii_digit()) || !fields[5].ends_with('%') {
            continue;
        }
        let bad = || format!("line {}: not a benchmark row: {:?}", n + 1, line.trim());
        let number = |f: &str| f.parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0);
        out.push(Sample {
            threads: fields[0].parse().map_err(|_| bad())?,
            buffer: parse_size_label(fields[1]).ok_or_else(bad)?,
            compress: number(fields[2]).ok_or_else(bad)?,
            gbps: number(fields[3]).ok_or_else(bad)?,
            memset_gbps: number(fields[4]).ok_or_else(bad)?,
        });
    }
    if out.is_empty() {
        return Err("no benchmark rows found (expected the table `dgen bench` prints)".into());
    }
    Ok(out)
}

/// [`parse_table`] on the file at `path`; an error says what went wrong with
/// it, without the path (the caller names it as its user gave it).
pub fn read_table(path: &std::path::Path) -> Result<Vec<Sample>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    parse_table(&text)
}

/// How `sample` compares with the same case (threads, buffer, compress) in
/// `baseline`: the ratio of their shares of memset, so that a machine that is
/// busier or quieter in one run than in the other moves both alike. `None`
/// when the baseline has no such case.
pub fn versus(sample: &Sample, baseline: &[Sample]) -> Option<f64> {
    baseline
        .iter()
        .find(|b| b.threads == sample.threads && b.buffer == sample.buffer && b.compress == sample.compress)
        .map(|b| sample.memset_share() / b.memset_share())
}

/// [`table`] with one more column, `vs base`: [`versus`] for each row.
pub fn table_versus(samples: &[Sample], baseline: &[Sample]) -> String {
    let mut lines = table(samples).lines().map(str::to_owned).collect::<Vec<_>>();
    lines[0] += &format!(" {:>8}", "vs base");
    for (line, x) in lines[1..].iter_mut().zip(samples) {
        *line += &match versus(x, baseline) {
            Some(r) => format!(" {:>7.2}x", r),
            None => format!(" {:>8}", "-"),
        };
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(threads: usize, buffer: usize, compress: f64, gbps: f64, memset_gbps: f64) -> Sample {
        Sample { threads, buffer, compress, gbps, memset_gbps }
    }

    #[test]
    fn a_printed_table_reads_back() {
        let samples = vec![
            sample(1, 4096, 1.0, 25.26, 89.53),
            sample(2, 64 << 20, 4.0, 38.26, 27.98),
            sample(1, 512, 2.5, 3.0, 6.0),
        ];
        let text = format!("   Compiling dgen\n{}", table(&samples));
        let back = parse_table(&text).unwrap();
        assert_eq!(back.len(), 3);
        for (a, b) in samples.iter().zip(&back) {
            assert_eq!((a.threads, a.buffer, a.compress), (b.threads, b.buffer, b.compress));
            assert!((a.gbps - b.gbps).abs() < 0.01 && (a.memset_gbps - b.memset_gbps).abs() < 0.01);
        }
    }

    #[test]
    fn unreadable_tables_are_errors() {
        assert!(parse_table("nothing here\n").unwrap_err().contains("no benchmark rows"));
        let err = parse_table("       1     4XiB         1      25.26        89.53       28%\n").unwrap_err();
        assert!(err.starts_with("line 1:") && err.contains("4XiB"), "{err}");
        assert!(parse_table("       1     4KiB         1      NaN        89.53       28%\n").is_err());
    }

    #[test]
    fn versus_compares_shares_of_memset() {
        let base = vec![sample(1, 4096, 1.0, 10.0, 40.0)];
        // Twice the GB/s on a machine whose memset is also twice as fast: even.
        let r = versus(&sample(1, 4096, 1.0, 20.0, 80.0), &base).unwrap();
        assert!((r - 1.0).abs() < 1e-12);
        let r = versus(&sample(1, 4096, 1.0, 15.0, 40.0), &base).unwrap();
        assert!((r - 1.5).abs() < 1e-12);
        assert_eq!(versus(&sample(2, 4096, 1.0, 15.0, 40.0), &base), None);
        let t = table_versus(&[sample(1, 4096, 1.0, 15.0, 40.0), sample(2, 4096, 1.0, 1.0, 1.0)], &base);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].ends_with("vs base") && lines[1].ends_with("1.50x") && lines[2].ends_with('-'), "{t}");
    }
}
