//! Time to write one 4 KiB granule in L1, per kernel and compress ratio: the
//! generator's compute cost with memory out of the picture (what
//! `throughput` measures on top of it). Prints ns per granule and GB/s.
//! Run: `cargo bench --bench granule` (`-- --compressor NAME` for the layout
//! of a named compressor).
//!
//! `-- --stream` instead times each kernel's one-thread streaming fill
//! (`Model::fill_streaming`, non-temporal stores of whole cache lines) over
//! a 64 MiB buffer that starts 16 bytes past a cache line, as a large
//! `malloc`'d buffer does, beside memset on the same buffer.

use std::hint::black_box;
use std::time::{Duration, Instant};

use dgen::model::{Kernel, Model};

fn main() {
    // `-- --compressor NAME` times the layout for a named compressor.
    let args: Vec<String> = std::env::args().collect();
    let compressor: dgen::Compressor = match args.iter().position(|a| a == "--compressor") {
        Some(i) => args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or_else(|| {
            eprintln!("granule: --compressor needs one of auto, zstd, lz4, gzip, snappy, lzo, lzjb");
            std::process::exit(2)
        }),
        None => dgen::Compressor::Auto,
    };
    println!("compressor {compressor}");
    if args.iter().any(|a| a == "--stream") {
        return stream(compressor);
    }
    println!("{:>9} {:>9} {:>8} {:>10} {:>8}  layout", "kernel", "compress", "copies", "ns/granule", "GB/s");
    for kernel in Kernel::available() {
        for ratio in [1.0, 1.5, 2.0, 3.0, 4.0, 8.0] {
            let cfg = dgen::Config { compress_ratio: ratio, compressor, ..dgen::Config::default() };
            let model = Model::new(&cfg, 7).with_kernel(kernel);
            let mut out = [0u8; dgen::GRANULE];
            // Best of five rounds of 0.2 s, over distinct content ids.
            let mut best = f64::MAX;
            let mut cid = 0u64;
            for _ in 0..5 {
                let start = Instant::now();
                let mut n = 0u64;
                while start.elapsed() < Duration::from_millis(200) {
                    for _ in 0..1024 {
                        model.granule(cid, cid & 3, &mut out);
                        black_box(&out);
                        cid += 1;
                    }
                    n += 1024;
                }
                best = best.min(start.elapsed().as_nanos() as f64 / n as f64);
            }
            let l = model.layout();
            println!(
                "{:>9} {:>9} {:>8} {:>10.1} {:>8.1}  random {}, {} copies of up to {}",
                format!("{kernel:?}"),
                ratio,
                l.copies,
                best,
                dgen::GRANULE as f64 / best,
                l.random,
                l.copies,
                l.max_len
            );
        }
    }
}

/// One thread's streaming fill of 64 MiB per kernel and compress ratio,
/// with memset on the same buffer, their rounds taken in turn
/// (`dgen::bench::best_rates`, as `throughput` measures).
fn stream(compressor: dgen::Compressor) {
    const LEN: usize = 64 << 20;
    let mut backing = vec![0u8; LEN + 128];
    let at = backing.as_ptr().align_offset(64) + 16;
    let buf = std::cell::RefCell::new(&mut backing[at..at + LEN]);
    println!("one thread, 64 MiB buffer 16 bytes past a cache line");
    println!("{:>9} {:>9} {:>8} {:>8} {:>7}", "kernel", "compress", "GB/s", "memset", "share");
    let ratios = [1.0, 2.0, 4.0];
    for kernel in Kernel::available() {
        let models: Vec<Model> = ratios
            .iter()
            .map(|&ratio| {
                let cfg = dgen::Config { compress_ratio: ratio, compressor, ..dgen::Config::default() };
                Model::new(&cfg, 7).with_kernel(kernel)
            })
            .collect();
        let mut value = 0u8;
        let mut memset = || {
            value = value.wrapping_add(1);
            let mut b = buf.borrow_mut();
            b.fill(black_box(value));
            black_box(&**b);
        };
        let mut fills: Vec<_> = models
            .iter()
            .map(|model| {
                let (buf, mut offset) = (&buf, 0u64);
                move || {
                    let mut b = buf.borrow_mut();
                    model.fill_streaming(offset, &mut b);
                    black_box(&**b);
                    offset += LEN as u64;
                }
            })
            .collect();
        let mut cases: Vec<&mut dyn FnMut()> = vec![&mut memset];
        cases.extend(fills.iter_mut().map(|f| f as &mut dyn FnMut()));
        let rates = dgen::bench::best_rates(LEN, Duration::from_millis(1250), &mut cases);
        for (ratio, rate) in ratios.iter().zip(&rates[1..]) {
            let share = 100.0 * rate / rates[0];
            println!("{:>9} {:>9} {:>8.1} {:>8.1} {:>6.0}%", format!("{kernel:?}"), ratio, rate, rates[0], share);
        }
    }
}
