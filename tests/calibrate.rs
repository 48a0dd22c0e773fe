//! Prints measured compression ratios per codec and chunk size (for tuning).
//! `cargo test --release --test calibrate -- --ignored --nocapture`
mod common;
use common::*;

#[test]
#[ignore]
fn print_compression_table() {
    let targets: Vec<f64> = std::env::var("TARGETS")
        .ok()
        .map(|s| s.split(',').map(|x| x.parse().unwrap()).collect())
        .unwrap_or(vec![1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0]);
    for &t in &targets {
        let data = generate(dgen::Config { size: 16 << 20, compress_ratio: t, seed: Some(5), ..Default::default() });
        let l = dgen::model::compress::Layout::for_ratio(t);
        print!("target {t:5.2} rnd {:4} n {:2} L {:3}:", l.random(), l.copies, l.copy_len);
        for chunk in [4096usize, 32768, 131072, 1 << 20] {
            print!(" |{:>4}K", chunk / 1024);
            for c in CODECS {
                let r = compress_ratio(c, &data, chunk);
                print!(" {:+5.1}", 100.0 * (r / t - 1.0));
            }
        }
        println!();
    }
}

#[test]
#[ignore]
fn print_cost_per_copy() {
    for t in [1.5, 2.0, 3.0, 4.0, 6.0, 8.0] {
        let data = generate(dgen::Config { size: 16 << 20, compress_ratio: t, seed: Some(5), ..Default::default() });
        let l = dgen::model::compress::Layout::for_ratio(t);
        print!("target {t:5.2} rnd {:4} n {:2} L {:3}:", l.random(), l.copies, l.copy_len);
        for chunk in [4096usize, 131072] {
            for c in CODECS {
                let r = compress_ratio(c, &data, chunk);
                let per_granule = 4096.0 / r;
                print!(" {:5.2}", (per_granule - l.random() as f64) / l.copies as f64);
            }
            print!(" |");
        }
        println!();
    }
}
