//! Ratio in = ratio out, measured the way storage sees data: dedup as
//! total/distinct aligned blocks, compression as input/output bytes of real
//! compressors (zstd 1 and 3, lz4 and lz4 HC, zlib 1 and 6, snappy, LZO1X-1,
//! LZJB, brotli 5, raw LZMA2) over independent chunks of 4 KiB to 1 MiB.
//!
//! `cargo test --release --test ratios -- --nocapture` prints every measured
//! cell (% off the target).

mod common;
use common::*;
use dgen::{Compressor, Config};

const MIB: usize = 1 << 20;
const TARGETS: [f64; 9] = [1.1, 1.3, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0];
const CHUNKS: [usize; 6] = [4 << 10, 8 << 10, 16 << 10, 32 << 10, 128 << 10, MIB];

fn cfg(size: usize, dedup: f64, compress: f64, unit: u32, seed: u64) -> Config {
    Config {
        size: size as u64,
        dedup_ratio: dedup,
        compress_ratio: compress,
        dedup_unit: unit,
        seed: Some(seed),
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

/// How far any codec may land from the target with the default layout
/// (`Compressor::Auto`), in % at any chunk size: a guard against a layout
/// that one family stops finding. The default layout is solved for the
/// geometric mean of zstd-1 and lz4, and its skewed bytes let entropy coders
/// (zstd, deflate, brotli, LZMA) gain more than byte-aligned formats (lz4,
/// snappy, LZO, LZJB), as they do on real data; the tighter promises are
/// asserted in `default_layout_meets_the_geometric_mean_and_spreads_families`.
fn auto_band(codec: Codec, target: f64) -> (f64, f64) {
    use Codec::*;
    let bytes = matches!(codec, Lz4 | Lz4Hc | Snappy | Lzo | Lzjb);
    match () {
        // No compressor below 0.75 x the target up to 4:1.
        _ if bytes && target <= 4.0 => (-25.0, 3.0),
        _ if bytes => (-30.0, 3.0),
        // On 4 KiB chunks near 1.5:1 the entropy coders' headers and tables
        // take back part of what the skew saves them, and LZMA2's adaptive
        // coder has too few bytes to learn the skew (-9% at 4 KiB, +13% at
        // 1 MiB).
        _ => (-12.0, 50.0),
    }
}

/// One line per target and codec, every chunk size, % off the target.
fn measure(data: &[u8], codec: Codec, target: f64, label: &str) -> Vec<(usize, f64)> {
    let cells: Vec<(usize, f64)> =
        CHUNKS.iter().map(|&c| (c, 100.0 * (compress_ratio(codec, data, c) / target - 1.0))).collect();
    let line: String = cells.iter().map(|(_, e)| format!(" {e:+6.1}")).collect();
    println!("{label:>7} {:>8} {target:5.2}:{line}", codec.name());
    cells
}

/// Checks `cells` against `band` at 16 KiB and more, and against
/// [`small_band`] below.
fn check_band(label: &str, codec: Codec, target: f64, cells: &[(usize, f64)], band: (f64, f64)) {
    for &(chunk, err) in cells {
        let (lo, hi) = if chunk < 16 << 10 { small_band(codec, target, chunk, band) } else { band };
        assert!(
            (lo..=hi).contains(&err),
            "{label} {} target {target} chunk {} KiB: {err:+.2}% off, allowed {lo}%..{hi}%",
            codec.name(),
            chunk >> 10
        );
    }
}

/// The band at a chunk of 4 or 8 KiB for a band of `band` at 16 KiB and
/// more: twice as wide, and for the entropy-coded formats wider below by
/// the tables that code their skewed literals and their sequences. zstd and
/// deflate write them in every chunk (about 64 bytes), so at 4 KiB and 8:1,
/// where a chunk compresses to 512 bytes, they take 12% of the output that
/// 1 MiB chunks share out to nothing; the doubled band holds the first 4%.
fn small_band(codec: Codec, target: f64, chunk: usize, band: (f64, f64)) -> (f64, f64) {
    use Codec::*;
    let table = if matches!(codec, Zstd1 | Zstd3 | Gzip1 | Gzip6) { 64.0 * 100.0 * target / chunk as f64 } else { 0.0 };
    if band.1 - band.0 > 20.0 {
        return (band.0 - table, band.1);
    }
    (2.0 * band.0 - (table - 4.0).max(0.0), 2.0 * band.1)
}

#[test]
fn default_layout_lands_every_compressor_near_the_target() {
    println!("% off target per chunk: {:?} KiB", CHUNKS.map(|c| c >> 10));
    for &target in &TARGETS {
        let data = generate(cfg(8 * MIB, 1.0, target, 4096, 21));
        assert_eq!(zero_blocks(&data), 0);
        for codec in Codec::ALL {
            let cells = measure(&data, codec, target, "auto");
            check_band("auto", codec, target, &cells, auto_band(codec, target));
        }
    }
}

/// The default layout's promises: the geometric mean of zstd-1 and lz4 hits
/// the target within 3% at chunks of 16 KiB to 1 MiB, and zstd-1 compresses
/// 1.15 to 1.6 times as much as lz4 from 2:1 on, the spread real data shows
/// between the two families (the README's real-data table).
#[test]
fn default_layout_meets_the_geometric_mean_and_spreads_families() {
    for &target in &TARGETS {
        let data = generate(cfg(8 * MIB, 1.0, target, 4096, 22));
        for chunk in CHUNKS.into_iter().filter(|&c| c >= 16 << 10) {
            let (z, l) = (compress_ratio(Codec::Zstd1, &data, chunk), compress_ratio(Codec::Lz4, &data, chunk));
            println!(
                "auto {target:5.2} chunk {:4}K: geometric mean {:.3}, zstd-1/lz4 {:.3}",
                chunk >> 10,
                (z * l).sqrt(),
                z / l
            );
            assert_within(
                &format!("geometric mean of zstd-1 and lz4 at {target}, chunk {chunk}"),
                (z * l).sqrt(),
                target,
                0.03,
            );
            if target >= 2.0 {
                assert!((1.15..=1.6).contains(&(z / l)), "zstd-1/lz4 at {target}, chunk {chunk}: {:.3}", z / l);
            }
        }
    }
}

#[test]
fn a_named_compressor_hits_its_target() {
    for c in Compressor::ALL.into_iter().filter(|&c| c != Compressor::Auto) {
        let codec = Codec::for_compressor(c.name()).unwrap();
        for &target in &TARGETS {
            let data = generate(Config { compressor: c, ..cfg(16 * MIB, 1.0, target, 4096, 23) });
            let cells = measure(&data, codec, target, c.name());
            check_band(c.name(), codec, target, &cells, (-3.0, 3.0));
        }
    }
}

#[test]
fn a_target_past_a_formats_ceiling_is_an_error_naming_it() {
    for (c, max) in [(Compressor::Snappy, 21.4), (Compressor::Lzjb, 31.1)] {
        let e = dgen::Generator::new(Config { compressor: c, compress_ratio: 30.0, ..Config::default() }).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("compress_ratio must be at most ") && msg.contains(&format!("for compressor {c}")),
            "{msg}"
        );
        let ceiling: f64 = msg["compress_ratio must be at most ".len()..].split(' ').next().unwrap().parse().unwrap();
        assert!(ceiling >= 16.0 && ceiling < max, "{c}: {ceiling}");
        // The ceiling itself is accepted, and measured close to.
        let data = generate(Config { compressor: c, ..cfg(4 * MIB, 1.0, ceiling, 4096, 3) });
        let got = compress_ratio(Codec::for_compressor(c.name()).unwrap(), &data, 128 << 10);
        assert_within(&format!("{c} at its ceiling"), got, ceiling, 0.06);
    }
}

#[test]
fn dedup_does_not_move_with_the_compress_ratio() {
    for &compress in &[1.0, 3.0, 8.0] {
        for &dedup in &[2.0, 5.0] {
            for c in [Compressor::Auto, Compressor::Lzjb] {
                let data = generate(Config { compressor: c, ..cfg(64 * MIB, dedup, compress, 4096, 31) });
                let got = dedup_ratio(&data, 4096);
                assert_within(&format!("dedup {dedup} at compress {compress} ({c})"), got, dedup, 0.01);
            }
        }
    }
}

/// Copies of a unit are never closer than `512 / dedup_ratio` units, so chunks
/// up to that size never hold two copies and compress as if there were no
/// dedup; 1 MiB chunks qualify up to dedup 2 at 4 KiB units.
#[test]
fn compression_does_not_move_with_the_dedup_ratio() {
    for &(compress, c) in &[(2.0, Compressor::Auto), (4.0, Compressor::Snappy), (3.0, Compressor::Zstd)] {
        let codec = Codec::for_compressor(c.name()).unwrap_or(Codec::Zstd1);
        let alone = generate(Config { compressor: c, ..cfg(8 * MIB, 1.0, compress, 4096, 41) });
        for &dedup in &[1.5, 2.0, 4.0, 8.0] {
            let data = generate(Config { compressor: c, ..cfg(8 * MIB, dedup, compress, 4096, 41) });
            let span = (512.0 / dedup) as usize * 4096;
            for chunk in CHUNKS.iter().copied().filter(|&ch| ch <= span) {
                let want = compress_ratio(codec, &alone, chunk);
                let got = compress_ratio(codec, &data, chunk);
                assert_within(&format!("{c} compress {compress} dedup {dedup} chunk {chunk}"), got, want, 0.01);
            }
        }
    }
}

#[test]
fn no_granule_is_ever_all_zero() {
    for i in 0..=40 {
        let compress = 1.0 + f64::from(i) * 0.775; // 1.0 ..= 32.0
        let dedup = 1.0 + f64::from(i) * 3.0;
        let c = Compressor::ALL[i as usize % Compressor::ALL.len()];
        let cfg = Config { compressor: c, ..cfg(2 * MIB, dedup, compress, 4096 * (1 + i % 4), i as u64) };
        let Ok(g) = dgen::Generator::new(cfg.clone()) else { continue };
        drop(g);
        let data = generate(cfg);
        assert_eq!(zero_blocks(&data), 0, "compress {compress} dedup {dedup} {c}");
    }
}
