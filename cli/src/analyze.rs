//! `dgen analyze`: what a storage system would see in any file, device or
//! stream. Dedup as total / distinct aligned blocks (4 to 128 KiB) and as
//! logical / unique bytes over content-defined chunks (FastCDC, 8, 16 and 64
//! KiB on average, as backup systems cut them), all-zero 4 KiB blocks, and
//! compression as input / output bytes of the compressors storage systems run
//! over independent chunks. Also the bytes' order-0 entropy and how many
//! 128 KiB ranges btrfs's compression heuristic would let through to its
//! compressor (with `compress=`, not `compress-force=`). Data is read a
//! region at a time, so memory stays bounded (16 bytes per distinct block or
//! chunk); `--limit` and `--sample` bound the time too.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::PathBuf;

use clap::Args;
use dgen_measure::{btrfs, CdcCounter, Codec, FixedCounter, Histogram, Reason};
use rayon::prelude::*;
use serde_json::{json, Map, Value};

use crate::data::progress;
use crate::out::{out, outln};
use crate::size::parse_size;
use crate::{Failure, Outcome};

/// Dedup block sizes reported.
const DEDUP_BLOCKS: [usize; 6] = [4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10];
/// Average content-defined chunk sizes reported.
const CDC_AVERAGES: [u32; 3] = [8 << 10, 16 << 10, 64 << 10];
/// Bytes read at a time, and the unit a sample is made of: a multiple of
/// every block and chunk size.
const REGION: usize = 4 << 20;

fn fraction_arg(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if f > 0.0 && f <= 1.0 => Ok(f),
        Ok(_) => Err(format!("{s:?} is not a fraction above 0 and at most 1")),
        Err(_) => Err(format!("{s:?} is not a number")),
    }
}

/// `--codecs`: compressors in the order given.
#[derive(Clone)]
pub struct Codecs(Vec<Codec>);

/// `--chunks`: chunk sizes in the order given.
#[derive(Clone)]
pub struct Chunks(Vec<usize>);

fn codecs_arg(s: &str) -> Result<Codecs, String> {
    if s.trim() == "all" {
        return Ok(Codecs(Codec::ALL.to_vec()));
    }
    let names = Codec::ALL.map(Codec::name).join(", ");
    s.split(',')
        .map(|n| Codec::from_name(n).ok_or(format!("{n:?} is not a compressor: {names} or all")))
        .collect::<Result<_, _>>()
        .map(Codecs)
}

fn chunks_arg(s: &str) -> Result<Chunks, String> {
    let sizes: Result<Vec<usize>, String> = s
        .split(',')
        .map(|c| {
            let n = parse_size(c)?;
            if n < 512 || n as usize > REGION || !(REGION as u64).is_multiple_of(n) {
                Err(format!("{c:?}: a chunk must divide 4 MiB and be at least 512 bytes (e.g. 4KiB, 64KiB, 1MiB)"))
            } else {
                Ok(n as usize)
            }
        })
        .collect();
    sizes.map(Chunks)
}

#[derive(Args)]
pub struct AnalyzeArgs {
    /// File, block device or stream to analyze; `-` is standard input.
    pub path: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Analyze only the first SIZE bytes.
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    pub limit: Option<u64>,
    /// Analyze about this fraction of the data, in 4 MiB regions spread
    /// evenly over it (0.01 reads 1%). Compression and zero blocks are then
    /// estimates of the whole; dedup counts only copies inside the sample, so
    /// it is a lower bound.
    #[arg(long, value_parser = fraction_arg, value_name = "FRACTION")]
    pub sample: Option<f64>,
    /// Compressors to run, comma-separated (default: all of zstd-1, zstd-3,
    /// lz4, lz4hc, gzip-1, gzip-6, snappy, lzo1x-1, lzjb, brotli-5, lzma2).
    #[arg(long, value_parser = codecs_arg, value_name = "LIST", default_value = "all")]
    pub codecs: Codecs,
    /// Chunk sizes compressed on their own, comma-separated.
    #[arg(long, value_parser = chunks_arg, value_name = "LIST", default_value = "4KiB,32KiB,128KiB,1MiB")]
    pub chunks: Chunks,
}

/// What one pass found.
struct Report {
    /// Bytes analyzed.
    bytes: u64,
    /// Bytes the input holds (its size when known, else what was read),
    /// analyzed or not.
    total: u64,
    zero_blocks_4k: u64,
    fixed: Vec<FixedCounter>,
    cdc: Vec<CdcCounter>,
    /// Per codec, per chunk size: compressed bytes.
    compressed: Vec<Vec<u64>>,
    /// Byte values of everything analyzed.
    histogram: Histogram,
    /// Sum of the order-0 entropies of the 128 KiB ranges, for their mean.
    range_entropy_sum: f64,
    /// 128 KiB ranges looked at (the last of a region may be shorter).
    ranges: u64,
    /// Per outcome of btrfs's heuristic (in `REASONS` order): ranges.
    reasons: [u64; REASONS.len()],
    /// Ranges btrfs would store compressed when the data is written back
    /// at once (see `dgen_measure::btrfs::written_share`).
    btrfs_written: u64,
}

/// The heuristic's outcomes, in the order reports list them.
const REASONS: [Reason; 7] = [
    Reason::RepeatedPattern,
    Reason::ByteSet,
    Reason::CoreSetLow,
    Reason::EntropyLow,
    Reason::EntropyMid,
    Reason::EntropyHigh,
    Reason::CoreSetHigh,
];

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

/// Which regions a sample takes: region `i` when the count of regions taken
/// so far, `i * fraction` rounded up, grows with it. The sample is spread
/// evenly, holds the first region and `fraction` of all regions.
fn sampled(i: u64, fraction: f64) -> bool {
    let phase = 1.0 - fraction;
    ((i + 1) as f64 * fraction + phase).floor() > (i as f64 * fraction + phase).floor()
}

fn scan(args: &AnalyzeArgs) -> Result<Report, Failure> {
    let shown = args.path.display().to_string();
    let file = if args.path.as_os_str() == "-" {
        std::io::stdin().as_fd().try_clone_to_owned().map(File::from)
    } else {
        File::open(&args.path)
    }
    .map_err(|e| Failure::usage(format!("cannot open {shown}: {e}")))?;
    // A file or device of known size is read at the sampled offsets; a
    // stream is read whole, and only the sampled regions are analyzed.
    let size = dgen::storage::data_size(&file).map_err(|e| Failure::usage(format!("cannot read {shown}: {e}")))?;
    if args.limit == Some(0) {
        return Err(Failure::usage("--limit 0 leaves nothing to analyze: give a size above 0, or leave it out"));
    }
    let limit = args.limit.unwrap_or(u64::MAX);
    let fraction = args.sample.unwrap_or(1.0);
    let end = size.unwrap_or(u64::MAX).min(limit);
    let bar = progress(if end == u64::MAX { 0 } else { (end as f64 * fraction) as u64 }, "analyze");
    let mut report = Report {
        bytes: 0,
        total: 0,
        zero_blocks_4k: 0,
        fixed: DEDUP_BLOCKS.iter().map(|&b| FixedCounter::new(b)).collect(),
        cdc: CDC_AVERAGES.iter().map(|&a| CdcCounter::new(a)).collect(),
        compressed: args.codecs.0.iter().map(|_| vec![0; args.chunks.0.len()]).collect(),
        histogram: Histogram::new(),
        range_entropy_sum: 0.0,
        ranges: 0,
        reasons: [0; REASONS.len()],
        btrfs_written: 0,
    };
    let mut buf = vec![0u8; REGION];
    let mut previous: Option<u64> = None;
    let mut i = 0u64;
    loop {
        let off = i * REGION as u64;
        if off >= end {
            break;
        }
        let want = (end - off).min(REGION as u64) as usize;
        let take = fraction >= 1.0 || sampled(i, fraction);
        let n = match size {
            Some(_) if take => dgen::storage::read_at_full(&file, &mut buf[..want], off),
            Some(_) => Ok(want),
            None => dgen::storage::read_full(&file, &mut buf[..want]),
        }
        .map_err(|e| Failure::runtime(format!("cannot read {shown} at offset {off}: {e}")))?;
        report.total += n as u64;
        if n > 0 && take {
            if previous.is_some_and(|p| p + 1 != i) {
                // Content-defined chunks do not run across a gap in the sample.
                report.cdc.iter_mut().for_each(CdcCounter::end_stream);
            }
            analyze_region(&buf[..n], args, &mut report).map_err(Failure::runtime)?;
            previous = Some(i);
            bar.inc(n as u64);
        }
        if n < want {
            break;
        }
        i += 1;
    }
    bar.finish_and_clear();
    // A file or device of known size holds all of it, read or not.
    report.total = report.total.max(size.unwrap_or(0));
    if report.total == 0 {
        return Err(Failure::usage(format!("{shown} is empty: there is nothing to analyze")));
    }
    Ok(report)
}

fn analyze_region(data: &[u8], args: &AnalyzeArgs, report: &mut Report) -> Result<(), String> {
    report.bytes += data.len() as u64;
    report.zero_blocks_4k += dgen_measure::zero_blocks(data);
    for c in &mut report.fixed {
        c.add(data);
    }
    for c in &mut report.cdc {
        c.add(data);
    }
    let cells: Vec<(usize, usize)> =
        (0..args.codecs.0.len()).flat_map(|c| (0..args.chunks.0.len()).map(move |k| (c, k))).collect();
    let sizes: Result<Vec<u64>, String> = cells
        .par_iter()
        .map(|&(c, k)| {
            dgen_measure::compressed_len(args.codecs.0[c], data, args.chunks.0[k])
                .map_err(|e| format!("{} failed: {e}", args.codecs.0[c].name()))
        })
        .collect();
    for (&(c, k), n) in cells.iter().zip(sizes?) {
        report.compressed[c][k] += n;
    }
    // Regions start at multiples of 4 MiB, so these ranges are the ones
    // btrfs cuts a file written from offset 0 into.
    let ranges: Vec<(Histogram, Reason)> =
        data.par_chunks(btrfs::MAX_UNCOMPRESSED).map(|r| (Histogram::of(r), btrfs::file_heuristic(r).reason)).collect();
    // As `written_share`: a "no" leaves the rest of its 512 KiB writeback
    // chunk raw (regions are a whole number of such chunks).
    report.btrfs_written += ranges
        .chunks(btrfs::WRITEBACK_CHUNK / btrfs::MAX_UNCOMPRESSED)
        .map(|c| c.iter().take_while(|(_, r)| r.compress()).count() as u64)
        .sum::<u64>();
    for (h, reason) in ranges {
        report.range_entropy_sum += h.entropy();
        report.ranges += 1;
        report.histogram.merge(&h);
        report.reasons[REASONS.iter().position(|&r| r == reason).expect("every reason is listed")] += 1;
    }
    Ok(())
}

pub fn analyze(args: &AnalyzeArgs) -> Outcome {
    let mut report = scan(args)?;
    let dedup: Vec<f64> = report.fixed.iter().map(|c| r4(c.ratio())).collect();
    let cdc: Vec<f64> = report.cdc.iter_mut().map(|c| r4(c.finish())).collect();
    let ratio = |out: u64| if out == 0 { 1.0 } else { r4(report.bytes as f64 / out as f64) };
    let comp: Vec<Vec<f64>> = report.compressed.iter().map(|row| row.iter().map(|&c| ratio(c)).collect()).collect();
    let sampled = report.bytes < report.total;
    let entropy = r4(report.histogram.entropy());
    let range_entropy = r4(report.range_entropy_sum / report.ranges as f64);
    let btrfs_yes: u64 = REASONS.iter().zip(&report.reasons).filter(|(r, _)| r.compress()).map(|(_, &n)| n).sum();
    let btrfs_share = r4(btrfs_yes as f64 / report.ranges as f64);
    if args.json {
        let mut d = Map::new();
        for (b, r) in DEDUP_BLOCKS.iter().zip(&dedup) {
            d.insert(b.to_string(), json!(r));
        }
        let mut cd = Map::new();
        for (a, r) in CDC_AVERAGES.iter().zip(&cdc) {
            cd.insert(a.to_string(), json!(r));
        }
        let mut c = Map::new();
        for (codec, row) in args.codecs.0.iter().zip(&comp) {
            let mut m = Map::new();
            for (chunk, r) in args.chunks.0.iter().zip(row) {
                m.insert(chunk.to_string(), json!(r));
            }
            c.insert(codec.name().to_string(), Value::Object(m));
        }
        outln!(
            "{}",
            json!({
                "bytes": report.bytes,
                "total_bytes": report.total,
                "sampled": sampled,
                "zero_blocks_4k": report.zero_blocks_4k,
                "dedup": d,
                "dedup_cdc": cd,
                "compression": c,
                "entropy_bits_per_byte": entropy,
                "entropy_bits_per_byte_128k_mean": range_entropy,
                "btrfs_compress_share": btrfs_share,
                "btrfs_compress_ranges": btrfs_yes,
                "btrfs_ranges": report.ranges,
                "btrfs_written_compressed_ranges": report.btrfs_written,
                "btrfs_reasons": Map::from_iter(
                    REASONS.iter().zip(&report.reasons).map(|(r, &n)| (r.name().to_string(), json!(n)))
                ),
            })
        );
        return Ok(());
    }
    out!("{}: {} bytes", args.path.display(), report.total);
    if sampled {
        out!(", {} analyzed ({:.1}%)", report.bytes, 100.0 * report.bytes as f64 / report.total as f64);
    }
    outln!();
    outln!("all-zero 4 KiB blocks: {}", report.zero_blocks_4k);
    outln!();
    outln!("dedup ratio, aligned blocks (total / distinct){}", if sampled { ", within the sample" } else { "" });
    outln!("{}", DEDUP_BLOCKS.iter().map(|&b| format!("{:>9}", label(b))).collect::<String>());
    outln!("{}", dedup.iter().map(|r| format!("{r:>9.3}")).collect::<String>());
    outln!();
    outln!("dedup ratio, content-defined chunks (FastCDC; logical / unique bytes), by average chunk");
    outln!("{}", CDC_AVERAGES.iter().map(|&b| format!("{:>9}", label(b as usize))).collect::<String>());
    outln!("{}", cdc.iter().map(|r| format!("{r:>9.3}")).collect::<String>());
    outln!();
    outln!("compression ratio (input / output, each chunk compressed on its own)");
    outln!("{:<9}{}", "chunk", args.chunks.0.iter().map(|&c| format!("{:>9}", label(c))).collect::<String>());
    for (codec, row) in args.codecs.0.iter().zip(&comp) {
        outln!("{:<9}{}", codec.name(), row.iter().map(|r| format!("{r:>9.3}")).collect::<String>());
    }
    outln!();
    outln!("order-0 entropy: {entropy:.3} bits/byte (mean of 128 KiB ranges: {range_entropy:.3})");
    let why: Vec<String> =
        REASONS.iter().zip(&report.reasons).filter(|(_, &n)| n > 0).map(|(r, n)| format!("{n} {}", r.name())).collect();
    outln!(
        "btrfs compress= heuristic: compresses {btrfs_yes} of {} 128 KiB ranges ({:.1}%; {})",
        report.ranges,
        100.0 * btrfs_share,
        why.join(", ")
    );
    outln!(
        "  written back at once: {} compressed (a \"no\" leaves the rest of its 512 KiB writeback chunk raw)",
        report.btrfs_written
    );
    Ok(())
}
