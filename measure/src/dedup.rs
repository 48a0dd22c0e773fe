//! Dedup as storage sees it: fixed aligned blocks (arrays, file systems) and
//! content-defined chunks (backup systems), each chunk known by a 128-bit
//! hash, so memory is 16 bytes per distinct chunk whatever its size.

use std::collections::HashSet;

use rayon::prelude::*;

/// Counts total and distinct aligned blocks of one size, fed in pieces.
#[derive(Clone, Debug, Default)]
pub struct FixedCounter {
    block: usize,
    total: u64,
    distinct: HashSet<u128>,
}

impl FixedCounter {
    /// A counter of `block`-byte blocks.
    pub fn new(block: usize) -> FixedCounter {
        FixedCounter { block, ..FixedCounter::default() }
    }

    /// The block size.
    pub fn block(&self) -> usize {
        self.block
    }

    /// Adds the blocks of `data`, which starts on a block boundary of the
    /// whole (a short last block counts as a block of its own).
    pub fn add(&mut self, data: &[u8]) {
        let hashes: Vec<u128> = data.par_chunks(self.block).map(xxhash_rust::xxh3::xxh3_128).collect();
        self.total += hashes.len() as u64;
        self.distinct.extend(hashes);
    }

    /// Total blocks / distinct blocks; 1.0 when nothing was added.
    pub fn ratio(&self) -> f64 {
        if self.distinct.is_empty() {
            1.0
        } else {
            self.total as f64 / self.distinct.len() as f64
        }
    }
}

/// Total / distinct aligned `block`-byte blocks of `data`.
pub fn dedup_ratio(data: &[u8], block: usize) -> f64 {
    let mut c = FixedCounter::new(block);
    c.add(data);
    c.ratio()
}

/// Number of whole 4 KiB blocks that are all zero (a short last block does
/// not count: a storage system pads it).
pub fn zero_blocks(data: &[u8]) -> u64 {
    data.par_chunks_exact(4096).filter(|b| b.iter().all(|&x| x == 0)).count() as u64
}

/// Logical / unique bytes over content-defined chunks (FastCDC 2020, with
/// minimum and maximum a quarter and four times the average), fed in
/// pieces: the bytes after the last cut of one piece are kept and cut with
/// the next, so the chunks are those of the whole stream.
#[derive(Clone, Debug)]
pub struct CdcCounter {
    avg: u32,
    pending: Vec<u8>,
    total: u64,
    unique: u64,
    seen: HashSet<u128>,
}

impl CdcCounter {
    /// A counter for chunks of `avg` bytes on average (8 KiB to 64 KiB is
    /// what backup systems use).
    pub fn new(avg: u32) -> CdcCounter {
        CdcCounter { avg, pending: Vec::new(), total: 0, unique: 0, seen: HashSet::new() }
    }

    /// The average chunk size.
    pub fn avg(&self) -> u32 {
        self.avg
    }

    fn count(&mut self, chunk: &[u8]) {
        self.total += chunk.len() as u64;
        if self.seen.insert(xxhash_rust::xxh3::xxh3_128(chunk)) {
            self.unique += chunk.len() as u64;
        }
    }

    fn cut(&mut self, data: &[u8], last: bool) -> usize {
        let (min, max) = (self.avg / 4, self.avg * 4);
        let mut done = 0;
        for c in fastcdc::v2020::FastCDC::new(data, min as usize, self.avg as usize, max as usize) {
            let end = c.offset + c.length;
            // A chunk that ends with the data may be cut short by the end of
            // this piece, unless the piece is the last.
            if end == data.len() && !last {
                break;
            }
            self.count(&data[c.offset..end]);
            done = end;
        }
        done
    }

    /// Adds the next piece of the stream.
    pub fn add(&mut self, data: &[u8]) {
        if self.pending.is_empty() {
            let done = self.cut(data, false);
            self.pending.extend_from_slice(&data[done..]);
        } else {
            let mut joined = std::mem::take(&mut self.pending);
            joined.extend_from_slice(data);
            let done = self.cut(&joined, false);
            joined.drain(..done);
            self.pending = joined;
        }
    }

    /// Cuts what is left as the stream's last chunk, and starts a new stream
    /// whose chunks count with the ones before: for pieces of data that are
    /// not contiguous (a sample).
    pub fn end_stream(&mut self) {
        let rest = std::mem::take(&mut self.pending);
        if !rest.is_empty() {
            self.cut(&rest, true);
        }
    }

    /// Ends the stream (cuts what is left) and returns logical / unique bytes.
    pub fn finish(&mut self) -> f64 {
        let rest = std::mem::take(&mut self.pending);
        if !rest.is_empty() {
            self.cut(&rest, true);
        }
        if self.unique == 0 {
            1.0
        } else {
            self.total as f64 / self.unique as f64
        }
    }
}

/// Logical / unique bytes of `data` over content-defined chunks of `avg`
/// bytes on average.
pub fn cdc_dedup_ratio(data: &[u8], avg: u32) -> f64 {
    let mut c = CdcCounter::new(avg);
    c.add(data);
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise;

    #[test]
    fn cdc_in_pieces_equals_cdc_at_once() {
        let mut data = noise(3 << 20, 9);
        data.extend_from_within(100_000..1_100_000);
        let whole = cdc_dedup_ratio(&data, 16384);
        assert!(whole > 1.2, "{whole}");
        let mut c = CdcCounter::new(16384);
        for piece in data.chunks(300_001) {
            c.add(piece);
        }
        assert_eq!(c.finish(), whole);
    }

    #[test]
    fn fixed_blocks_count_copies() {
        let mut data = noise(4096 * 10, 1);
        data.extend_from_within(..4096 * 5);
        assert_eq!(dedup_ratio(&data, 4096), 15.0 / 10.0);
        assert_eq!(zero_blocks(&data), 0);
        data.extend_from_slice(&[0u8; 8192 + 100]);
        assert_eq!(zero_blocks(&data), 2);
    }
}
