//! Measurements as a storage system makes them: dedup as total/distinct
//! aligned blocks, compression as input/output bytes over independent chunks.
#![allow(dead_code)]

use std::collections::HashSet;
use std::io::Write;

use rayon::prelude::*;

/// The compressors a storage system might run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Zstd1,
    Zstd3,
    Lz4,
    Gzip6,
}

pub const CODECS: [Codec; 4] = [Codec::Zstd1, Codec::Zstd3, Codec::Lz4, Codec::Gzip6];

pub fn compressed_len(codec: Codec, chunk: &[u8]) -> usize {
    match codec {
        Codec::Zstd1 => zstd::bulk::compress(chunk, 1).unwrap().len(),
        Codec::Zstd3 => zstd::bulk::compress(chunk, 3).unwrap().len(),
        Codec::Lz4 => {
            let mut enc = lz4::EncoderBuilder::new().build(Vec::with_capacity(chunk.len() + 64)).unwrap();
            enc.write_all(chunk).unwrap();
            let (out, res) = enc.finish();
            res.unwrap();
            out.len()
        }
        Codec::Gzip6 => {
            let mut enc =
                flate2::write::GzEncoder::new(Vec::with_capacity(chunk.len() + 64), flate2::Compression::new(6));
            enc.write_all(chunk).unwrap();
            enc.finish().unwrap().len()
        }
    }
}

/// Input bytes / output bytes, compressing each `chunk`-byte piece on its own.
pub fn compress_ratio(codec: Codec, data: &[u8], chunk: usize) -> f64 {
    let out: usize = data.par_chunks(chunk).map(|c| compressed_len(codec, c)).sum();
    data.len() as f64 / out as f64
}

/// Total / distinct aligned blocks of `block` bytes.
pub fn dedup_ratio(data: &[u8], block: usize) -> f64 {
    let blocks: Vec<&[u8]> = data.chunks(block).collect();
    let distinct: HashSet<&[u8]> = blocks.iter().copied().collect();
    blocks.len() as f64 / distinct.len() as f64
}

/// Number of all-zero 4 KiB blocks.
pub fn zero_blocks(data: &[u8]) -> usize {
    data.chunks(4096).filter(|b| b.iter().all(|&x| x == 0)).count()
}

pub fn generate(cfg: dgen::Config) -> Vec<u8> {
    let size = cfg.size as usize;
    let mut g = dgen::Generator::new(cfg).unwrap();
    let mut buf = vec![0u8; size];
    assert_eq!(g.fill(&mut buf).unwrap(), size);
    buf
}
