//! Prints measured compression ratios per codec and chunk size, for tuning
//! the layouts in src/model/compress.rs:
//!
//!     cargo test --release --test calibrate -- --ignored --nocapture
//!
//! `TARGETS=1.5,2,4` picks the targets, `COMPRESSOR=snappy` the calibration,
//! `CHUNKS=4096,131072` the chunk sizes, `MIB=8` the data size.
mod common;
use common::*;

fn env_list<T>(name: &str, default: &[T]) -> Vec<T>
where
    T: std::str::FromStr + Clone,
{
    std::env::var(name)
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().parse().ok().expect(name)).collect())
        .unwrap_or_else(|| default.to_vec())
}

#[test]
#[ignore]
fn print_compression_table() {
    let targets = env_list("TARGETS", &[1.1, 1.3, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0]);
    let chunks = env_list("CHUNKS", &[4096usize, 16384, 131072, 1 << 20]);
    let mib: usize = std::env::var("MIB").ok().and_then(|s| s.parse().ok()).unwrap_or(8);
    let compressor: dgen::Compressor = std::env::var("COMPRESSOR").ok().map(|s| s.parse().unwrap()).unwrap_or_default();
    let codecs: Vec<Codec> = std::env::var("CODECS")
        .ok()
        .map(|s| s.split(',').map(|c| Codec::from_name(c).expect("codec name")).collect())
        .unwrap_or(Codec::ALL.to_vec());
    println!("compressor {compressor}, {mib} MiB; cells: % off target, per chunk size");
    print!("{:>8} {:>6}", "codec", "target");
    for c in &chunks {
        print!(" {:>6}K", c / 1024);
    }
    println!();
    for &t in &targets {
        let cfg = dgen::Config {
            size: (mib as u64) << 20,
            compress_ratio: t,
            compressor,
            seed: Some(5),
            ..Default::default()
        };
        let Ok(g) = dgen::Generator::new(cfg.clone()) else {
            println!("target {t}: above {compressor}'s ceiling");
            continue;
        };
        let layout = g.model().layout();
        let data = generate(cfg);
        for &c in &codecs {
            print!("{:>8} {t:>6.2}", c.name());
            let mut costs = String::new();
            for &chunk in &chunks {
                let r = compress_ratio(c, &data, chunk);
                print!(" {:>+7.1}", 100.0 * (r / t - 1.0));
                // Output bytes per copy beyond one byte per random byte.
                let per_copy = (4096.0 / r - f64::from(layout.random)) / f64::from(layout.copies.max(1));
                costs += &format!(" {per_copy:>7.2}");
            }
            if std::env::var_os("COSTS").is_some() {
                print!("  B/copy{costs}");
            }
            println!();
        }
        // What the default layout is solved for: the geometric mean of
        // zstd-1 and lz4, and how far apart the two lie.
        print!("{:>8} {t:>6.2}", "geo");
        let mut spread = String::new();
        for &chunk in &chunks {
            let (z, l) = (compress_ratio(Codec::Zstd1, &data, chunk), compress_ratio(Codec::Lz4, &data, chunk));
            print!(" {:>+7.1}", 100.0 * ((z * l).sqrt() / t - 1.0));
            spread += &format!(" {:>7.2}", z / l);
        }
        println!("  zstd-1/lz4{spread}");
        let bits = g.model().skew().map_or(8.0, |s| s.bits());
        println!(
            "{:>15} random {}, {} copies of up to {}, {bits:.2} bits a byte",
            "", layout.random, layout.copies, layout.max_len
        );
    }
}

/// Fits a compressor's cost figures (src/model/compress.rs, `Costs::of`):
/// measures output bytes per granule for the layouts of a range of targets
/// and solves out = literal * random + copy * copies + granule by least
/// squares. `COMPRESSOR=lz4 cargo test --release --test calibrate fit -- --ignored --nocapture`.
#[test]
#[ignore]
fn fit_costs() {
    let compressor: dgen::Compressor =
        std::env::var("COMPRESSOR").ok().map(|s| s.parse().unwrap()).unwrap_or(dgen::Compressor::Zstd);
    // The default layout is fitted per family: CODEC=zstd-1 or CODEC=lz4.
    let codec = std::env::var("CODEC")
        .ok()
        .map(|c| Codec::from_name(&c).expect("codec name"))
        .or_else(|| Codec::for_compressor(compressor.name()))
        .expect("a named compressor, or CODEC");
    // Formats that entropy-code literals pay for a random byte by its
    // entropy (src/model/skew.rs): the fitted literal cost is per 8 bits.
    let entropy_coded = matches!(codec, Codec::Zstd1 | Codec::Zstd3 | Codec::Gzip1 | Codec::Gzip6);
    let targets = env_list("TARGETS", &[1.1, 1.3, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0]);
    let chunks = env_list("CHUNKS", &[16384usize, 131072]);
    for chunk in chunks {
        // Normal equations of a 3-parameter linear fit.
        let mut ata = [[0f64; 3]; 3];
        let mut atb = [0f64; 3];
        let mut rows = Vec::new();
        for &t in &targets {
            let cfg =
                dgen::Config { size: 4 << 20, compress_ratio: t, compressor, seed: Some(9), ..Default::default() };
            let Ok(g) = dgen::Generator::new(cfg.clone()) else { continue };
            let l = g.model().layout();
            let bits = if entropy_coded { g.model().skew().map_or(8.0, |s| s.bits()) } else { 8.0 };
            let data = generate(cfg);
            let out = 4096.0 / compress_ratio(codec, &data, chunk);
            let x = [f64::from(l.random) * bits / 8.0, f64::from(l.copies), 1.0];
            for i in 0..3 {
                for j in 0..3 {
                    ata[i][j] += x[i] * x[j];
                }
                atb[i] += x[i] * out;
            }
            rows.push((t, x, out));
        }
        // Gaussian elimination.
        let mut m = ata;
        let mut v = atb;
        for c in 0..3 {
            let p = (c..3).max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs())).unwrap();
            m.swap(c, p);
            v.swap(c, p);
            for r in 0..3 {
                if r != c {
                    let f = m[r][c] / m[c][c];
                    let pivot = m[c];
                    for (x, p) in m[r].iter_mut().zip(pivot) {
                        *x -= f * p;
                    }
                    v[r] -= f * v[c];
                }
            }
        }
        let mut fit: Vec<f64> = (0..3).map(|i| v[i] / m[i][i]).collect();
        // LITERAL=1.0 fixes the literal cost and fits the other two: the
        // layouts of a range of targets vary random bytes and copies
        // together, so a free three-way fit can trade one for the other.
        if let Some(lit) = std::env::var("LITERAL").ok().and_then(|s| s.parse::<f64>().ok()) {
            let (mut sxx, mut sx, mut sxy, mut sy, k) = (0.0, 0.0, 0.0, 0.0, rows.len() as f64);
            for (_, x, out) in &rows {
                let y = out - lit * x[0];
                sxx += x[1] * x[1];
                sx += x[1];
                sxy += x[1] * y;
                sy += y;
            }
            let copy = (k * sxy - sx * sy) / (k * sxx - sx * sx);
            fit = vec![lit, copy, (sy - copy * sx) / k];
        }
        println!(
            "{} chunk {}K: literal {:.4} copy {:.3} granule {:.2}",
            codec.name(),
            chunk / 1024,
            fit[0],
            fit[1],
            fit[2]
        );
        for (t, x, out) in rows {
            let model = fit[0] * x[0] + fit[1] * x[1] + fit[2];
            println!(
                "  target {t:5.2}: measured {:+.2}%, fit {:+.2}%",
                100.0 * (4096.0 / out / t - 1.0),
                100.0 * (out / model - 1.0)
            );
        }
    }
}
