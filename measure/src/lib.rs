//! What a storage system sees in bytes, measured the way it measures:
//! dedup as total / distinct aligned blocks, or logical / unique bytes over
//! content-defined chunks as backup systems cut them; all-zero blocks; and
//! compression as input / output bytes of real compressors over independent
//! chunks; the bytes' order-0 entropy, and whether btrfs's compression
//! heuristic would let them through to its compressor. The library's tests
//! assert against these numbers and `dgen analyze` prints them.

pub mod btrfs;
mod codec;
pub mod dedup;
pub mod entropy;
pub mod lzjb;

pub use btrfs::{
    compress_share as btrfs_compress_share, file_heuristic as btrfs_file_heuristic, heuristic as btrfs_heuristic,
    written_share as btrfs_written_share, CompressShare, Reason, Verdict,
};
pub use codec::Codec;
pub use dedup::{cdc_dedup_ratio, dedup_ratio, zero_blocks, CdcCounter, FixedCounter};
pub use entropy::{entropy_bits_per_byte, Histogram};

use rayon::prelude::*;

/// Bytes from a xorshift64 started at `seed`: test data with no structure.
#[cfg(test)]
pub(crate) fn noise(n: usize, mut x: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Compressed bytes of `data` cut into `chunk`-byte pieces (the last may be
/// shorter), each compressed on its own, on every core.
pub fn compressed_len(codec: Codec, data: &[u8], chunk: usize) -> std::io::Result<u64> {
    let sizes: std::io::Result<Vec<usize>> = data.par_chunks(chunk).map(|c| codec.compressed_len(c)).collect();
    Ok(sizes?.iter().map(|&n| n as u64).sum())
}

/// Input bytes / output bytes of `codec` over independent `chunk`-byte pieces.
///
/// # Panics
/// When the compressor fails, which the codecs here do only when out of memory.
pub fn compress_ratio(codec: Codec, data: &[u8], chunk: usize) -> f64 {
    let out = compressed_len(codec, data, chunk).unwrap_or_else(|e| panic!("{e}"));
    data.len() as f64 / out as f64
}
