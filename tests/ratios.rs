//! Ratio in = ratio out, measured the way storage sees data: dedup as
//! total/distinct aligned blocks, compression as input/output bytes of real
//! compressors (zstd 1 and 3, lz4 frame, gzip 6 through zlib) over
//! independent chunks.
//!
//! Run with `cargo test --release --test ratios -- --nocapture` to see the
//! measured table.

mod common;
use common::*;
use dgen::Config;

const MIB: usize = 1 << 20;

fn cfg(size: usize, dedup: f64, compress: f64, unit: u32, seed: u64) -> Config {
    Config {
        size: size as u64,
        dedup_ratio: dedup,
        compress_ratio: compress,
        dedup_unit: unit,
        seed: Some(seed),
        threads: 0,
        ..Config::default()
    }
}

fn assert_within(what: &str, got: f64, want: f64, tolerance: f64) {
    let err = got / want - 1.0;
    assert!(
        err.abs() <= tolerance,
        "{what}: measured {got:.4}, wanted {want} ± {:.0}% (off by {:+.2}%)",
        tolerance * 100.0,
        err * 100.0
    );
}

#[test]
fn dedup_ratio_holds_over_256_mib_and_its_prefixes() {
    for unit in [4096u32, 32768] {
        for (i, &ratio) in [1.0, 1.5, 2.0, 4.0, 8.0, 10.0].iter().enumerate() {
            // Endless stream: every aligned window is full.
            let data = generate(cfg(256 * MIB, ratio, 1.0, unit, 11 + i as u64));
            for prefix in [64 * MIB, 128 * MIB, 192 * MIB, 256 * MIB] {
                let got = dedup_ratio(&data[..prefix], unit as usize);
                println!("dedup {ratio:5.2} unit {:3}K prefix {:3} MiB: {got:.4}", unit / 1024, prefix / MIB);
                assert_within(&format!("dedup {ratio} unit {unit} over {} MiB", prefix / MIB), got, ratio, 0.01);
            }
            assert_eq!(zero_blocks(&data), 0);
        }
    }
}

#[test]
fn sized_streams_hit_the_dedup_ratio_over_their_whole_length() {
    // Sizes that are not whole windows: the last window is shortened.
    for (size, unit, ratio) in
        [(64 * MIB, 4096u32, 3.0), (10 * MIB + 4096, 8192, 2.5), (3 * MIB, 4096, 1.5), (MIB, 4096, 4.0)]
    {
        let data = generate(cfg(size, ratio, 2.0, unit, 5));
        let got = dedup_ratio(&data, unit as usize);
        assert_within(&format!("sized {size} unit {unit} dedup {ratio}"), got, ratio, 0.01);
    }
}

const CHUNKS: [usize; 4] = [4096, 32768, 131072, MIB];

/// ±3% up to ratio 4, ±6% up to 8 on 32 KiB..1 MiB chunks; ±8% on 4 KiB chunks.
fn compress_tolerance(target: f64, chunk: usize) -> f64 {
    if chunk == 4096 {
        0.08
    } else if target <= 4.0 {
        0.03
    } else {
        0.06
    }
}

fn check_compression(data: &[u8], target: f64, label: &str, chunks: &[usize]) {
    for &chunk in chunks {
        let mut line = format!("{label} chunk {:4}K:", chunk / 1024);
        for codec in [Codec::Zstd1, Codec::Zstd3, Codec::Lz4, Codec::Gzip6] {
            let got = compress_ratio(codec, data, chunk);
            line += &format!(" {codec:?} {got:.3}");
            assert_within(&format!("{label} {codec:?} chunk {chunk}"), got, target, compress_tolerance(target, chunk));
        }
        println!("{line}");
    }
}

#[test]
fn compression_ratio_holds_for_every_codec_and_chunk_size() {
    for &target in &[1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0] {
        let data = generate(cfg(16 * MIB, 1.0, target, 4096, 21));
        check_compression(&data, target, &format!("compress {target}"), &CHUNKS);
        assert_eq!(zero_blocks(&data), 0);
    }
}

#[test]
fn dedup_does_not_move_with_the_compress_ratio() {
    for &compress in &[1.0, 3.0, 8.0] {
        for &dedup in &[2.0, 5.0] {
            let data = generate(cfg(64 * MIB, dedup, compress, 4096, 31));
            let got = dedup_ratio(&data, 4096);
            assert_within(&format!("dedup {dedup} at compress {compress}"), got, dedup, 0.01);
        }
    }
}

/// Copies of a unit are never closer than `512 / dedup_ratio` units, so chunks
/// up to that size never hold two copies and compress as if there were no
/// dedup; 1 MiB chunks qualify up to dedup 2 at 4 KiB units.
#[test]
fn compression_does_not_move_with_the_dedup_ratio() {
    for &compress in &[2.0, 4.0] {
        for &dedup in &[1.5, 2.0, 4.0, 8.0] {
            let data = generate(cfg(16 * MIB, dedup, compress, 4096, 41));
            let span = (512.0 / dedup) as usize * 4096;
            let chunks: Vec<usize> = CHUNKS.iter().copied().filter(|&c| c <= span).collect();
            check_compression(&data, compress, &format!("compress {compress} dedup {dedup}"), &chunks);
        }
    }
}

#[test]
fn no_granule_is_ever_all_zero() {
    for i in 0..=40 {
        let compress = 1.0 + f64::from(i) * 0.775; // 1.0 ..= 32.0
        let dedup = 1.0 + f64::from(i) * 3.0;
        let data = generate(cfg(2 * MIB, dedup, compress, 4096 * (1 + i % 4), i as u64));
        assert_eq!(zero_blocks(&data), 0, "compress {compress} dedup {dedup}");
    }
}
