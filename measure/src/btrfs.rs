//! The test btrfs runs before it compresses: Linux's
//! `btrfs_compress_heuristic()` (fs/btrfs/compression.c), reimplemented step
//! for step with the kernel's integer arithmetic, so that a test can tell
//! whether a file system mounted with `compress=` (not `compress-force=`)
//! would store data compressed or skip it as incompressible.
//!
//! The kernel calls the heuristic from `inode_need_compress()`
//! (fs/btrfs/inode.c) once for every range it is about to compress, with
//! `end` inclusive, and looks at no more than the first
//! `BTRFS_MAX_UNCOMPRESSED` (128 KiB) of it: the most one compressed extent
//! holds. A "no" writes the range uncompressed, and with it the rest of its
//! 512 KiB writeback chunk (see [`written_share`]). Mounted with
//! `compress-force=`, btrfs skips the heuristic and compresses everything.
//!
//! The steps, in the kernel's order, each of which may decide:
//! 1. `heuristic_collect_sample()`: 16 bytes (`SAMPLING_READ_SIZE`) every 256
//!    (`SAMPLING_INTERVAL`) of each 4 KiB page, at most 8 KiB in all.
//! 2. `sample_repeated_patterns()`: the sample's two halves are equal → yes.
//! 3. `byte_set_size()`: fewer than `BYTE_SET_THRESHOLD` (64) distinct byte
//!    values → yes (text, configs, small alphabets).
//! 4. `byte_core_set_size()`: the byte values sorted by count, most frequent
//!    first; how many cover 90% of the sample. At most `BYTE_CORE_SET_LOW`
//!    (64) → yes; `BYTE_CORE_SET_HIGH` (200) or more → no (uniform-looking).
//! 5. `shannon_entropy()`: the sample's order-0 entropy as a percentage of 8
//!    bits, in `ilog2` arithmetic; at most `ENTROPY_LVL_ACEPTABLE` (65) →
//!    yes, below `ENTROPY_LVL_HIGH` (80) → yes, otherwise no.
//!
//! The sort of step 4 is the kernel's `radix_sort()`, which is not always a
//! sort: it orders by the low `ALIGN(ilog2(max), 8)` bits of each count
//! only, so when the most frequent value occurs 256 to 511 times in the
//! sample (3 to 6% of it, as in much data of 5.5 to 6.5 bits per byte) the counts
//! of 256 and more are ordered by `count - 256` and some land behind empty
//! buckets. Steps 4 and 5 walk that order and stop at the first empty
//! bucket, so such values can push the core set up to 200 (a "no") or drop
//! out of the entropy. A true sort would answer differently for such
//! samples; this module answers as the kernel does.
//!
//! What it means for data with skewed bytes: past the byte-set and core-set
//! steps, the entropy level decides, and the answer turns from yes to no as
//! the sample's order-0 entropy passes about 6.3 bits per byte (80% of 8,
//! less what the `ilog2` rounding adds); see the tests.

use rayon::prelude::*;

/// `BTRFS_MAX_UNCOMPRESSED`: the longest range one heuristic call looks at,
/// and the most data one compressed extent holds.
pub const MAX_UNCOMPRESSED: usize = 128 << 10;

/// The chunks `run_delalloc_compressed()` (fs/btrfs/inode.c) cuts a range
/// being written back into (`SZ_512K`), each handed to
/// `compress_file_range()` on its own.
pub const WRITEBACK_CHUNK: usize = 512 << 10;

/// The page size the kernel samples in (`PAGE_SIZE` on x86-64 and most
/// arm64 kernels).
const PAGE_SIZE: u64 = 4096;
/// `SAMPLING_READ_SIZE`: bytes copied at each sampling point.
const SAMPLING_READ_SIZE: u64 = 16;
/// `SAMPLING_INTERVAL`: distance between sampling points.
const SAMPLING_INTERVAL: u64 = 256;
/// `MAX_SAMPLE_SIZE`: the sample of a whole 128 KiB range.
const MAX_SAMPLE_SIZE: usize = MAX_UNCOMPRESSED * SAMPLING_READ_SIZE as usize / SAMPLING_INTERVAL as usize;
/// `BYTE_SET_THRESHOLD`.
const BYTE_SET_THRESHOLD: u32 = 64;
/// `BYTE_CORE_SET_LOW`.
const BYTE_CORE_SET_LOW: u32 = 64;
/// `BYTE_CORE_SET_HIGH`.
const BYTE_CORE_SET_HIGH: u32 = 200;
/// `ENTROPY_LVL_ACEPTABLE` (the kernel's spelling).
const ENTROPY_LVL_ACEPTABLE: u32 = 65;
/// `ENTROPY_LVL_HIGH`.
const ENTROPY_LVL_HIGH: u32 = 80;

/// Which step of the heuristic decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The sample's two halves are equal (zeros, short periods): compress.
    RepeatedPattern,
    /// Fewer than 64 distinct byte values in the sample: compress.
    ByteSet,
    /// At most 64 byte values cover 90% of the sample: compress.
    CoreSetLow,
    /// 200 or more byte values are needed to cover 90%: do not compress.
    CoreSetHigh,
    /// Entropy at most 65% of 8 bits: compress.
    EntropyLow,
    /// Entropy above 65% and below 80%: compress (the kernel gives it the
    /// benefit of the doubt).
    EntropyMid,
    /// Entropy 80% or more: do not compress.
    EntropyHigh,
}

impl Reason {
    /// What `btrfs_compress_heuristic()` returns for this outcome: 0 for no,
    /// 1 to 5 for yes, by the step that said so.
    pub fn kernel_code(self) -> u32 {
        match self {
            Reason::RepeatedPattern => 1,
            Reason::ByteSet => 2,
            Reason::CoreSetLow => 3,
            Reason::EntropyLow => 4,
            Reason::EntropyMid => 5,
            Reason::CoreSetHigh | Reason::EntropyHigh => 0,
        }
    }

    /// Whether btrfs compresses a range with this outcome.
    pub fn compress(self) -> bool {
        self.kernel_code() != 0
    }

    /// A short name for reports (`core-set-high`).
    pub fn name(self) -> &'static str {
        match self {
            Reason::RepeatedPattern => "repeated-pattern",
            Reason::ByteSet => "byte-set",
            Reason::CoreSetLow => "core-set-low",
            Reason::CoreSetHigh => "core-set-high",
            Reason::EntropyLow => "entropy-low",
            Reason::EntropyMid => "entropy-mid",
            Reason::EntropyHigh => "entropy-high",
        }
    }
}

/// The heuristic's answer for one range, with the figures it computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Whether btrfs would compress the range.
    pub compress: bool,
    /// The step that decided.
    pub reason: Reason,
    /// Bytes sampled: 8192 for a whole 128 KiB range.
    pub sample_size: u32,
    /// Distinct byte values in the sample; `None` when the repeated-pattern
    /// test decided first.
    pub byte_set_size: Option<u32>,
    /// What `byte_core_set_size()` returned (the kernel's count, which stops
    /// at 200); `None` when an earlier step decided.
    pub core_set_size: Option<u32>,
    /// What `shannon_entropy()` returned, in percent of 8 bits per byte;
    /// `None` when an earlier step decided.
    pub entropy_percent: Option<u32>,
}

impl Verdict {
    fn decided(reason: Reason, sample_size: u32) -> Self {
        Verdict {
            compress: reason.compress(),
            reason,
            sample_size,
            byte_set_size: None,
            core_set_size: None,
            entropy_percent: None,
        }
    }
}

/// `heuristic_collect_sample()` for a range that starts on a page boundary
/// (`start` = 0) and ends at `range.len() - 1` inclusive, as
/// `inode_need_compress()` passes it. Returns the sample size.
///
/// The kernel's `u64` arithmetic is kept: in particular `end -
/// SAMPLING_READ_SIZE` wraps for a range of 16 bytes or less, so the whole
/// first page is sampled, with the page cache's zeros past the end of file
/// (the bytes past `range` read as zero here too).
fn collect_sample(range: &[u8], sample: &mut [u8; MAX_SAMPLE_SIZE]) -> usize {
    let mut start: u64 = 0;
    let mut end: u64 = range.len() as u64 - 1;
    if end - start > MAX_UNCOMPRESSED as u64 {
        end = start + MAX_UNCOMPRESSED as u64;
    }
    let mut index = start / PAGE_SIZE;
    let mut index_end = end / PAGE_SIZE;
    if !end.is_multiple_of(PAGE_SIZE) {
        index_end += 1;
    }
    let mut pos = 0usize;
    while index < index_end {
        let page = index * PAGE_SIZE;
        let mut i = start % PAGE_SIZE;
        while i < PAGE_SIZE - SAMPLING_READ_SIZE {
            if start > end.wrapping_sub(SAMPLING_READ_SIZE) {
                break;
            }
            for k in 0..SAMPLING_READ_SIZE {
                sample[pos + k as usize] = range.get((page + i + k) as usize).copied().unwrap_or(0);
            }
            i += SAMPLING_INTERVAL;
            start += SAMPLING_INTERVAL;
            pos += SAMPLING_READ_SIZE as usize;
        }
        index += 1;
    }
    pos
}

/// `ilog2_w()`: `ilog2(n^4)`, the kernel's fixed-point stand-in for
/// `4 * log2(n)`.
fn ilog2_w(n: u64) -> u32 {
    (n * n * n * n).ilog2()
}

/// `shannon_entropy()` over the buckets in [`radix_sort`]'s order: the loop
/// stops at the first empty bucket, as the kernel's does.
fn shannon_entropy(sorted: &[u32; 256], sample_size: u32) -> u32 {
    let entropy_max = 8 * ilog2_w(2);
    let sz_base = ilog2_w(sample_size as u64);
    let mut entropy_sum: u32 = 0;
    for &p in sorted.iter().take_while(|&&c| c > 0) {
        entropy_sum += p * (sz_base - ilog2_w(p as u64));
    }
    entropy_sum /= sample_size;
    entropy_sum * 100 / entropy_max
}

/// `byte_core_set_size()` over the buckets in [`radix_sort`]'s order. Like
/// the kernel, it returns the index of the bucket at which the running sum
/// passes 90% (not the count of buckets summed), 64 when the first 64
/// already pass it, and stops at 200 or at the first empty bucket.
fn byte_core_set_size(sorted: &[u32; 256], sample_size: u32) -> u32 {
    let threshold = sample_size * 90 / 100;
    let mut sum: u32 = sorted[..BYTE_CORE_SET_LOW as usize].iter().sum();
    if sum > threshold {
        return BYTE_CORE_SET_LOW;
    }
    let mut i = BYTE_CORE_SET_LOW;
    while i < BYTE_CORE_SET_HIGH && sorted[i as usize] > 0 {
        sum += sorted[i as usize];
        if sum > threshold {
            break;
        }
        i += 1;
    }
    i
}

/// The order the kernel's `radix_sort()` leaves the counts in.
///
/// It is an LSD radix sort, 4 bits a pass, each pass a stable counting sort
/// on the inverted digit (so larger digits come first), run over `bitlen =
/// ALIGN(ilog2(max), 8)` bits. That is a stable sort, descending, on `count
/// mod 2^bitlen`; `ilog2` gives the top bit's index, not the bit length, so a
/// maximum of 256 to 511 sorts on 8 bits and loses bit 8, and a maximum of 1
/// does not sort at all. Ties keep the byte-value order the buckets start in.
fn radix_sort(bucket: &mut [u32; 256]) {
    let max = bucket.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return;
    }
    let bitlen = max.ilog2().next_multiple_of(8);
    let mask = if bitlen >= 32 { u32::MAX } else { (1u32 << bitlen) - 1 };
    // `sort_by_key` is stable, as the counting passes are.
    bucket.sort_by_key(|&c| std::cmp::Reverse(c & mask));
}

/// What btrfs's `btrfs_compress_heuristic()` decides for `range`, a range
/// that starts on a page boundary. Only the first [`MAX_UNCOMPRESSED`] bytes
/// are looked at, as in the kernel. An empty range has an empty sample, whose
/// halves are equal: compress.
pub fn heuristic(range: &[u8]) -> Verdict {
    if range.is_empty() {
        return Verdict::decided(Reason::RepeatedPattern, 0);
    }
    let mut buf = [0u8; MAX_SAMPLE_SIZE];
    let n = collect_sample(range, &mut buf);
    let sample = &buf[..n];
    let size = n as u32;

    let half = n / 2;
    if sample[..half] == sample[half..2 * half] {
        return Verdict::decided(Reason::RepeatedPattern, size);
    }

    let mut bucket = [0u32; 256];
    for &b in sample {
        bucket[b as usize] += 1;
    }
    // The kernel stops counting at 65 values; the decision is the same and
    // the report shows the whole count.
    let byte_set = bucket.iter().filter(|&&c| c > 0).count() as u32;
    let mut v = Verdict { byte_set_size: Some(byte_set), ..Verdict::decided(Reason::ByteSet, size) };
    if byte_set < BYTE_SET_THRESHOLD {
        return v;
    }

    radix_sort(&mut bucket);
    let core = byte_core_set_size(&bucket, size);
    v.core_set_size = Some(core);
    let reason = if core <= BYTE_CORE_SET_LOW {
        Reason::CoreSetLow
    } else if core >= BYTE_CORE_SET_HIGH {
        Reason::CoreSetHigh
    } else {
        let e = shannon_entropy(&bucket, size);
        v.entropy_percent = Some(e);
        if e <= ENTROPY_LVL_ACEPTABLE {
            Reason::EntropyLow
        } else if e < ENTROPY_LVL_HIGH {
            Reason::EntropyMid
        } else {
            Reason::EntropyHigh
        }
    };
    Verdict { compress: reason.compress(), reason, ..v }
}

/// How many of the 128 KiB ranges of a buffer btrfs would compress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompressShare {
    /// Ranges the heuristic lets through to the compressor.
    pub compressed: u64,
    /// Ranges looked at.
    pub ranges: u64,
}

impl CompressShare {
    /// `compressed / ranges`, 0 when there are none.
    pub fn share(&self) -> f64 {
        if self.ranges == 0 {
            0.0
        } else {
            self.compressed as f64 / self.ranges as f64
        }
    }

    /// Adds another count's ranges.
    pub fn merge(&mut self, other: CompressShare) {
        self.compressed += other.compressed;
        self.ranges += other.ranges;
    }
}

/// What btrfs decides for a range of a file that starts on a page boundary
/// and ends at the end of the file or before: [`heuristic`] over the range
/// made up to whole 4 KiB pages with zeros. btrfs passes the heuristic
/// ranges of whole blocks (delalloc ranges are block-aligned), and the page
/// cache holds zeros past the end of a file, so a file whose size is not a
/// multiple of 4 KiB has its last page sampled to the end.
pub fn file_heuristic(range: &[u8]) -> Verdict {
    let tail = range.len() % PAGE_SIZE as usize;
    if tail == 0 || range.len() >= MAX_UNCOMPRESSED {
        return heuristic(range);
    }
    let mut padded = range.to_vec();
    padded.resize(range.len() + PAGE_SIZE as usize - tail, 0);
    heuristic(&padded)
}

/// The heuristic over `data` cut into 128 KiB ranges, as btrfs cuts a file
/// that holds `data` from offset 0 (the last range may be shorter; see
/// [`file_heuristic`]): on every core.
pub fn compress_share(data: &[u8]) -> CompressShare {
    let compressed = data.par_chunks(MAX_UNCOMPRESSED).filter(|c| file_heuristic(c).compress).count() as u64;
    CompressShare { compressed, ranges: data.len().div_ceil(MAX_UNCOMPRESSED) as u64 }
}

/// How many 128 KiB ranges of `data` btrfs would store compressed when a
/// file holding it from offset 0 is written back at once: with a "no" from
/// the heuristic, `compress_file_range()` (fs/btrfs/inode.c) writes the rest
/// of its 512 KiB writeback chunk uncompressed without asking again, so one
/// "no" can cost up to four ranges. This assumes every range the heuristic
/// lets through shrinks by at least a 4 KiB block once compressed (when one
/// does not, btrfs flags the whole file NOCOMPRESS and compresses no more
/// of it).
pub fn written_share(data: &[u8]) -> CompressShare {
    let compressed = data
        .par_chunks(WRITEBACK_CHUNK)
        .map(|c| c.chunks(MAX_UNCOMPRESSED).take_while(|r| file_heuristic(r).compress).count() as u64)
        .sum();
    CompressShare { compressed, ranges: data.len().div_ceil(MAX_UNCOMPRESSED) as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise;

    const R: usize = MAX_UNCOMPRESSED;

    /// Bytes drawn from `weights` (value i with weight weights[i]) by a
    /// noise stream: data with a chosen byte histogram and no repeats.
    fn drawn(n: usize, weights: &[(u8, u32)], seed: u64) -> Vec<u8> {
        let total: u32 = weights.iter().map(|w| w.1).sum();
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let mut r = ((x >> 16) % total as u64) as u32;
                for &(v, w) in weights {
                    if r < w {
                        return v;
                    }
                    r -= w;
                }
                unreachable!()
            })
            .collect()
    }

    #[test]
    fn uniform_random_bytes_are_not_compressed() {
        for seed in 1..20 {
            let v = heuristic(&noise(R, seed));
            assert!(!v.compress, "{v:?}");
            assert_eq!(v.reason, Reason::CoreSetHigh, "{v:?}");
            assert_eq!(v.sample_size, 8192);
            assert_eq!(v.byte_set_size, Some(256));
        }
        assert_eq!(compress_share(&noise(40 * R + 8192, 3)), CompressShare { compressed: 0, ranges: 41 });
        // A file ending 904 bytes into a page: its last range is sampled
        // with 3192 zeros, which pass as compressible.
        assert_eq!(compress_share(&noise(40 * R + 5000, 3)), CompressShare { compressed: 1, ranges: 41 });
    }

    #[test]
    fn a_no_leaves_the_rest_of_its_writeback_chunk_raw() {
        // Ranges: yes, no, yes, yes | yes, yes, yes, no | no, yes.
        let yes = vec![0u8; R];
        let no = noise(R, 31);
        let data = [&yes, &no, &yes, &yes, &yes, &yes, &yes, &no, &no, &yes].map(|r| r.as_slice()).concat();
        assert_eq!(compress_share(&data), CompressShare { compressed: 7, ranges: 10 });
        assert_eq!(written_share(&data), CompressShare { compressed: 1 + 3, ranges: 10 });
    }

    #[test]
    fn text_zeros_patterns_and_small_alphabets_are_compressed() {
        let words = ["the ", "of ", "storage ", "array ", "and ", "writes ", "a ", "block ", "Data, ", "is.\n"];
        let mut x = 7u64;
        let mut text = Vec::new();
        while text.len() < R {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            text.extend_from_slice(words[(x >> 33) as usize % words.len()].as_bytes());
        }
        let v = heuristic(&text[..R]);
        assert_eq!((v.compress, v.reason), (true, Reason::ByteSet), "{v:?}");

        let v = heuristic(&[0u8; R]);
        assert_eq!((v.compress, v.reason), (true, Reason::RepeatedPattern));

        // Random bytes with a period of 64 KiB: the sample's halves match.
        let half = noise(R / 2, 5);
        let v = heuristic(&[half.clone(), half].concat());
        assert_eq!((v.compress, v.reason), (true, Reason::RepeatedPattern));

        let small: Vec<u8> = noise(R, 9).iter().map(|b| b % 32).collect();
        let v = heuristic(&small);
        assert_eq!((v.compress, v.reason, v.byte_set_size), (true, Reason::ByteSet, Some(32)));
    }

    #[test]
    fn skewed_bytes_pass_on_the_core_set_and_the_entropy_levels() {
        // 90% of the mass on 40 values: the core set is at most 64.
        let mut w: Vec<(u8, u32)> = (0..40).map(|v| (v, 225)).collect();
        w.extend((40..=255).map(|v| (v, 5)));
        let v = heuristic(&drawn(R, &w, 11));
        assert_eq!((v.compress, v.reason, v.core_set_size), (true, Reason::CoreSetLow, Some(64)), "{v:?}");

        // 75% on 8 values, 25% spread over 200: about 130 values cover 90%,
        // and the entropy is about 5 bits (62%).
        let mut w: Vec<(u8, u32)> = (0..8).map(|v| (v, 75 * 25)).collect();
        w.extend((8..208).map(|v| (v, 25)));
        let v = heuristic(&drawn(R, &w, 12));
        let core = v.core_set_size.unwrap();
        assert!((100..200).contains(&core), "{v:?}");
        assert_eq!((v.compress, v.reason), (true, Reason::EntropyLow), "{v:?}");

        // Half on 4 values, half over 128: about 5.5 bits (69%).
        let mut w: Vec<(u8, u32)> = (0..4).map(|v| (v, 32)).collect();
        w.extend((4..132).map(|v| (v, 1)));
        let v = heuristic(&drawn(R, &w, 13));
        assert!((65..200).contains(&v.core_set_size.unwrap()), "{v:?}");
        assert_eq!((v.compress, v.reason), (true, Reason::EntropyMid), "{v:?}");

        // 160 values equally often: 144 cover 90% (below 200), but the
        // entropy (7.3 bits, 91%) says no.
        let w: Vec<(u8, u32)> = (0..160).map(|v| (v, 1)).collect();
        let v = heuristic(&drawn(R, &w, 14));
        assert!((65..200).contains(&v.core_set_size.unwrap()), "{v:?}");
        assert_eq!((v.compress, v.reason), (false, Reason::EntropyHigh), "{v:?}");
        assert!(v.entropy_percent.unwrap() >= 80, "{v:?}");
    }

    #[test]
    fn skewed_bytes_pass_up_to_about_6_3_bits_per_byte() {
        // Byte values with geometric weights q^i: the entropy level decides.
        let share = |q: f64, seed: u64| {
            let w: Vec<(u8, u32)> =
                (0..=255u8).map(|v| (v, (1e6 * q.powi(v as i32)).round().max(1.0) as u32)).collect();
            let data = drawn(32 * R, &w, seed);
            (crate::entropy_bits_per_byte(&data), compress_share(&data).compressed)
        };
        let (e, yes) = share(0.964, 51);
        assert!((6.15..6.25).contains(&e) && yes == 32, "{e} bits/byte: {yes}/32 ranges");
        let (e, yes) = share(0.975, 52);
        assert!((6.65..6.8).contains(&e) && yes == 0, "{e} bits/byte: {yes}/32 ranges");
    }

    #[test]
    fn only_the_sampled_bytes_count() {
        // 16 bytes every 256: random everywhere else does not matter...
        let mut d = noise(R, 21);
        for off in (0..R).step_by(256) {
            d[off..off + 16].fill(0);
        }
        assert_eq!(heuristic(&d).reason, Reason::RepeatedPattern);
        // ...and random bytes only there make the whole range look random.
        let mut d = vec![0u8; R];
        let n = noise(R, 22);
        for off in (0..R).step_by(256) {
            d[off..off + 16].copy_from_slice(&n[off..off + 16]);
        }
        assert_eq!(heuristic(&d).reason, Reason::CoreSetHigh);
        // Past 128 KiB nothing is looked at.
        let d = [vec![0u8; R], noise(R, 23)].concat();
        assert_eq!(heuristic(&d).reason, Reason::RepeatedPattern);
    }

    #[test]
    fn short_ranges_sample_what_the_kernel_samples() {
        // 5000 bytes: 16 points on the first page, and on the second the
        // points at 4096, 4352, 4608 and 4864, which end inside the range.
        assert_eq!(heuristic(&noise(5000, 1)).sample_size, 20 * 16);
        assert_eq!(heuristic(&noise(4096, 1)).sample_size, 256);
        // 4095 bytes: the point at 3840 still fits (3840 <= 4094 - 16).
        assert_eq!(heuristic(&noise(4095, 1)).sample_size, 256);
        // 16 bytes or less: `end - 16` wraps and the whole page is sampled.
        assert_eq!(heuristic(&noise(16, 1)).sample_size, 256);
        assert_eq!(heuristic(&noise(17, 1)).sample_size, 16);
        assert_eq!(heuristic(&noise(R + 1, 1)).sample_size, 8192);
        assert!(heuristic(&[]).compress);
    }

    /// A 128 KiB range whose sample (16 bytes every 256) holds `counts[v]`
    /// bytes of value `v`, in value order; the bytes not sampled are zero.
    fn with_sample(counts: &[(u8, u32)]) -> Vec<u8> {
        let sample: Vec<u8> = counts.iter().flat_map(|&(v, n)| std::iter::repeat_n(v, n as usize)).collect();
        assert_eq!(sample.len(), 8192);
        let mut d = vec![0u8; R];
        for (k, s) in sample.chunks(16).enumerate() {
            d[k * 256..k * 256 + 16].copy_from_slice(s);
        }
        d
    }

    #[test]
    fn the_sort_is_the_kernels_radix_sort() {
        // Above 511 every bit is sorted: a true descending sort.
        let mut b = [0u32; 256];
        b[3] = 600;
        b[7] = 20;
        b[9] = 900;
        radix_sort(&mut b);
        assert_eq!(b[..4], [900, 600, 20, 0]);
        // A maximum of 256 to 511 sorts on the low 8 bits: 300 goes as 44,
        // 257 as 1, and 256 as 0, behind the empty buckets before it.
        let mut b = [0u32; 256];
        b[1] = 300;
        b[2] = 100;
        b[3] = 257;
        b[9] = 256;
        radix_sort(&mut b);
        assert_eq!(b[..4], [100, 300, 257, 0]);
        assert_eq!(b.iter().position(|&c| c == 256), Some(9));
        // A maximum of 1 is not sorted at all.
        let mut b = [0u32; 256];
        b[5] = 1;
        radix_sort(&mut b);
        assert_eq!(b[5], 1);
    }

    #[test]
    fn values_seen_256_to_511_times_count_as_the_kernel_counts_them() {
        // 28 values 256 times each (87.5% of the sample) and 200 values 5 or
        // 6 times. Sorted truly, the 28 and 36 more cover 90%: a core set of
        // 64, compress. The kernel's sort puts the 256s behind the 200 small
        // counts, so the core set reaches 200: btrfs does not compress.
        let mut counts: Vec<(u8, u32)> = (0..24).map(|v| (v, 6)).collect();
        counts.extend((24..200).map(|v| (v, 5)));
        counts.extend((200..228).map(|v| (v, 256)));
        let v = heuristic(&with_sample(&counts));
        assert_eq!((v.compress, v.reason, v.core_set_size), (false, Reason::CoreSetHigh, Some(200)), "{v:?}");

        // 30 values 257 times and 100 values 4 or 5 times: truly a core set
        // of 64; the kernel's order (257 sorts as 1) needs 126 values, and
        // the entropy (65%) lets it through.
        let mut counts: Vec<(u8, u32)> = (0..82).map(|v| (v, 5)).collect();
        counts.extend((82..100).map(|v| (v, 4)));
        counts.extend((100..130).map(|v| (v, 257)));
        let v = heuristic(&with_sample(&counts));
        assert_eq!((v.reason, v.core_set_size, v.entropy_percent), (Reason::EntropyLow, Some(126), Some(65)), "{v:?}");
    }

    #[test]
    fn a_file_ends_on_a_whole_page_of_zeros() {
        // 2000 random bytes: sampled alone, 8 points (start <= 1983); as
        // the end of a file, the whole page with its zeros: 16 points.
        let tail = noise(2000, 41);
        assert_eq!(heuristic(&tail).sample_size, 128);
        let v = file_heuristic(&tail);
        assert_eq!(v.sample_size, 256);
        assert_eq!(v, heuristic(&[tail.as_slice(), &[0u8; 2096]].concat()));
        // A whole page, or a whole 128 KiB, is sampled as it is.
        assert_eq!(file_heuristic(&noise(R, 42)), heuristic(&noise(R, 42)));
        let file = [noise(R, 43), tail].concat();
        assert_eq!(compress_share(&file).ranges, 2);
    }

    #[test]
    fn entropy_follows_the_kernel_fixed_point() {
        // Uniform over all 256 values with equal counts of 32: each bucket
        // costs ilog2(8192^4) - ilog2(32^4) = 52 - 20 = 32, i.e. 8 bits: 100%.
        let mut b = [32u32; 256];
        assert_eq!(shannon_entropy(&b, 8192), 100);
        // Two values of 4096 each: 52 - 48 = 4 per byte: 1 bit, 12%.
        b = [0; 256];
        b[0] = 4096;
        b[1] = 4096;
        assert_eq!(shannon_entropy(&b, 8192), 12);
        // An empty bucket ends the sum even when counts follow it (the
        // kernel relies on the sort putting them all first).
        b[3] = 4096;
        assert_eq!(shannon_entropy(&b, 8192), 12);
        assert_eq!(ilog2_w(3), 6); // 81 -> 6
        assert_eq!(ilog2_w(8192), 52);
    }
}
