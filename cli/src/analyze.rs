//! `dgen analyze`: what a storage system would see in any file. Dedup as
//! total / distinct aligned blocks (blocks compared by a 128-bit hash), zero
//! 4 KiB blocks, and compression as input / output bytes of zstd, lz4 and gzip
//! over independent chunks. The file is read in windows, so memory stays
//! bounded; chunks are compressed on every core.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Args;
use rayon::prelude::*;
use serde_json::{json, Map, Value};

use crate::data::progress;
use crate::{Failure, Outcome};

/// Dedup block sizes reported.
const DEDUP_BLOCKS: [usize; 6] = [4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10];
/// Compression chunk sizes reported.
const CHUNKS: [usize; 4] = [4 << 10, 32 << 10, 128 << 10, 1 << 20];
/// Bytes read at a time: a multiple of every block and chunk size.
const WINDOW: usize = 64 << 20;

#[derive(Clone, Copy, Debug)]
enum Codec {
    Zstd1,
    Zstd3,
    Lz4,
    Gzip6,
}

const CODECS: [Codec; 4] = [Codec::Zstd1, Codec::Zstd3, Codec::Lz4, Codec::Gzip6];

impl Codec {
    fn name(self) -> &'static str {
        match self {
            Codec::Zstd1 => "zstd-1",
            Codec::Zstd3 => "zstd-3",
            Codec::Lz4 => "lz4",
            Codec::Gzip6 => "gzip-6",
        }
    }

    /// Compressed size of `chunk` on its own.
    fn compressed_len(self, chunk: &[u8]) -> std::io::Result<usize> {
        match self {
            Codec::Zstd1 => zstd::bulk::compress(chunk, 1).map(|v| v.len()),
            Codec::Zstd3 => zstd::bulk::compress(chunk, 3).map(|v| v.len()),
            Codec::Lz4 => {
                // lz4's frame format with the library's defaults, as the lz4 tool writes.
                let mut enc = lz4::EncoderBuilder::new().build(Vec::with_capacity(chunk.len() + 64))?;
                enc.write_all(chunk)?;
                let (out, res) = enc.finish();
                res.map(|_| out.len())
            }
            Codec::Gzip6 => {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::with_capacity(chunk.len() + 64), flate2::Compression::new(6));
                enc.write_all(chunk)?;
                enc.finish().map(|v| v.len())
            }
        }
    }
}

#[derive(Args)]
pub struct AnalyzeArgs {
    /// File to analyze.
    pub path: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What one pass over a file found.
struct Report {
    bytes: u64,
    zero_blocks_4k: u64,
    /// Per dedup block size: total blocks and distinct block hashes.
    dedup: Vec<(u64, HashSet<u128>)>,
    /// Per codec, per chunk size: compressed bytes.
    compressed: Vec<[u64; CHUNKS.len()]>,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// Rounds to 4 decimals for printing and JSON.
fn r4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn label(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{}MiB", bytes >> 20)
    } else {
        format!("{}KiB", bytes >> 10)
    }
}

fn scan(path: &PathBuf) -> Result<Report, Failure> {
    let shown = path.display().to_string();
    let mut file = File::open(path).map_err(|e| Failure::usage(format!("cannot open {shown}: {e}")))?;
    let len = file.metadata().map_err(|e| Failure::usage(format!("cannot read {shown}: {e}")))?.len();
    let bar = progress(len, "analyze");
    let mut report = Report {
        bytes: 0,
        zero_blocks_4k: 0,
        dedup: DEDUP_BLOCKS.iter().map(|_| (0, HashSet::new())).collect(),
        compressed: CODECS.iter().map(|_| [0; CHUNKS.len()]).collect(),
    };
    let mut buf = vec![0u8; WINDOW];
    loop {
        // Fill the window completely unless the file ends, so chunks and
        // blocks stay aligned to the file's start.
        let mut n = 0;
        while n < WINDOW {
            match file.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Failure::runtime(format!("cannot read {shown}: {e}"))),
            }
        }
        if n == 0 {
            break;
        }
        let data = &buf[..n];
        report.bytes += n as u64;
        report.zero_blocks_4k += data.par_chunks_exact(4096).filter(|b| b.iter().all(|&x| x == 0)).count() as u64;
        for (i, &block) in DEDUP_BLOCKS.iter().enumerate() {
            let hashes: Vec<u128> = data.par_chunks(block).map(xxhash_rust::xxh3::xxh3_128).collect();
            report.dedup[i].0 += hashes.len() as u64;
            report.dedup[i].1.extend(hashes);
        }
        for (c, codec) in CODECS.iter().enumerate() {
            for (k, &chunk) in CHUNKS.iter().enumerate() {
                let sizes: Result<Vec<usize>, _> =
                    data.par_chunks(chunk).map(|piece| codec.compressed_len(piece)).collect();
                let total: usize =
                    sizes.map_err(|e| Failure::runtime(format!("{} failed: {e}", codec.name())))?.iter().sum();
                report.compressed[c][k] += total as u64;
            }
        }
        bar.set_position(report.bytes);
        if n < WINDOW {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(report)
}

pub fn analyze(args: &AnalyzeArgs) -> Outcome {
    let report = scan(&args.path)?;
    let dedup: Vec<f64> = report.dedup.iter().map(|(total, set)| r4(ratio(*total, set.len() as u64))).collect();
    let comp: Vec<Vec<f64>> =
        report.compressed.iter().map(|row| row.iter().map(|&c| r4(ratio(report.bytes, c))).collect()).collect();
    if args.json {
        let mut d = Map::new();
        for (b, r) in DEDUP_BLOCKS.iter().zip(&dedup) {
            d.insert(b.to_string(), json!(r));
        }
        let mut c = Map::new();
        for (codec, row) in CODECS.iter().zip(&comp) {
            let mut m = Map::new();
            for (chunk, r) in CHUNKS.iter().zip(row) {
                m.insert(chunk.to_string(), json!(r));
            }
            c.insert(codec.name().to_string(), Value::Object(m));
        }
        println!(
            "{}",
            json!({ "bytes": report.bytes, "zero_blocks_4k": report.zero_blocks_4k, "dedup": d, "compression": c })
        );
        return Ok(());
    }
    println!("file: {} ({} bytes)", args.path.display(), report.bytes);
    println!("all-zero 4 KiB blocks: {}", report.zero_blocks_4k);
    println!();
    println!("dedup ratio (total / distinct aligned blocks)");
    println!("{}", DEDUP_BLOCKS.iter().map(|&b| format!("{:>9}", label(b))).collect::<String>());
    println!("{}", dedup.iter().map(|r| format!("{r:>9.3}")).collect::<String>());
    println!();
    println!("compression ratio (input / output, each chunk compressed on its own)");
    println!("{:<8}{}", "chunk", CHUNKS.iter().map(|&c| format!("{:>9}", label(c))).collect::<String>());
    for (codec, row) in CODECS.iter().zip(&comp) {
        println!("{:<8}{}", codec.name(), row.iter().map(|r| format!("{r:>9.3}")).collect::<String>());
    }
    Ok(())
}
