//! The compressible layout of a granule.
//!
//! A granule is a random prefix followed by `copies` blocks, each a few random
//! *gap* bytes and then a copy of one whole *segment* of the prefix. The prefix
//! is cut into segments of `copy_len` bytes; each copy takes a segment chosen at
//! random, so every earlier occurrence of that segment, the original or a copy,
//! gives a compressor the same full-length match. Block `j` has a gap of a
//! different length (the gaps are 1..=copies bytes in one of eight per-seed
//! orders, picked per granule), so the distance back to the previous
//! occurrence of a segment keeps changing: no compressor gets cheap repeated
//! offsets, and the random gap keeps two neighbouring copies from forming one
//! longer match. Copies are at most 4 KiB
//! back and no longer than deflate's 258-byte match limit, so zstd, lz4 and
//! deflate each spend one sequence per copy and their ratios agree. The random
//! part is shrunk by the measured cost of those sequences so the ratio lands on
//! the target. Nothing is ever zero-filled.

use super::GRANULE;

/// Random bytes every granule keeps, whatever the ratio: enough that no two
/// granules are ever equal by accident.
pub const MIN_RANDOM_BYTES: u32 = 32;
/// Longest copy; within deflate's 258-byte match limit.
pub const MAX_COPY: u32 = 258;
/// Most copies a granule can have (`MAX_COPY` bounds it well below this).
pub const MAX_COPIES: usize = 32;
/// Compressed bytes one copy costs beyond its gap bytes, between the costs of
/// zstd-1/3, lz4 and gzip-6 (offset, length and token).
/// Tuned with `cargo test --release --test calibrate -- --ignored --nocapture`.
pub const SEQ_COST: f64 = 3.3;
/// Compressed bytes a granule costs beyond its random bytes and copies (frame
/// headers and entropy tables, shared out over the granules of a chunk).
pub const GRANULE_COST: f64 = 12.0;

/// How one granule is split into random bytes and copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Length of the random prefix.
    pub prefix: u32,
    /// Number of gap + copy blocks after the prefix; gaps are 1..=copies bytes.
    pub copies: u32,
    /// Length of every copy and of every segment of the prefix.
    pub copy_len: u32,
}

impl Layout {
    /// The layout that makes a granule compress by `ratio`.
    pub fn for_ratio(ratio: f64) -> Layout {
        if ratio <= 1.0 {
            return Layout { prefix: GRANULE as u32, copies: 0, copy_len: 0 };
        }
        let g = GRANULE as f64;
        let target = g / ratio;
        let block = f64::from(MAX_COPY + 1);
        let mut copies = 0f64;
        let gaps = |n: f64| n * (n + 1.0) / 2.0;
        for _ in 0..16 {
            let random = target - copies * SEQ_COST - GRANULE_COST;
            let prefix = random - gaps(copies);
            copies = ((g - prefix - gaps(copies)) / block).ceil().max(1.0);
        }
        let random = (target - copies * SEQ_COST - GRANULE_COST).max(f64::from(MIN_RANDOM_BYTES));
        let copies = copies as u32;
        let gap_bytes = copies * (copies + 1) / 2;
        let prefix = (random - f64::from(gap_bytes)).max(f64::from(MIN_RANDOM_BYTES)).round() as u32;
        let body = GRANULE as u32 - gap_bytes - prefix.min(GRANULE as u32 - gap_bytes - copies);
        let copy_len = (body / copies).min(MAX_COPY);
        Layout { prefix: GRANULE as u32 - gap_bytes - copies * copy_len, copies, copy_len }
    }

    /// Bytes of the granule that are random (prefix and gap bytes).
    pub fn random(&self) -> u32 {
        self.prefix + self.gap_bytes()
    }

    /// Gap bytes of all blocks: 1 + 2 + ... + copies.
    pub fn gap_bytes(&self) -> u32 {
        self.copies * (self.copies + 1) / 2
    }

    /// Whole segments in the prefix that copies choose from (0: the prefix is
    /// shorter than one copy, and copies repeat the granule's start).
    pub fn segments(&self) -> u32 {
        self.prefix.checked_div(self.copy_len).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_fill_the_granule_exactly() {
        for i in 0..=310 {
            let r = 1.0 + f64::from(i) * 0.1;
            let l = Layout::for_ratio(r);
            assert_eq!(l.prefix + l.gap_bytes() + l.copies * l.copy_len, GRANULE as u32, "ratio {r}: {l:?}");
            assert!(l.prefix >= MIN_RANDOM_BYTES, "ratio {r}: {l:?}");
            assert!(l.copy_len <= MAX_COPY);
            assert!(l.copies as usize <= MAX_COPIES);
            if r > 1.05 {
                assert!(l.copies > 0 && l.copy_len >= 4, "ratio {r}: {l:?}");
            }
        }
        assert_eq!(Layout::for_ratio(1.0), Layout { prefix: 4096, copies: 0, copy_len: 0 });
    }
}
