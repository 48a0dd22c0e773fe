//! Byte statistics of compressible granules: random bytes drawn from a
//! skewed distribution instead of a uniform one.
//!
//! Real compressible data gains twice: from matches, which every LZ format
//! finds, and from skewed byte values, which only the entropy-coded formats
//! (zstd, deflate, brotli, LZMA) turn into fewer bits. Storage systems also
//! judge data by its byte histogram before they compress it: btrfs samples
//! an extent and skips it when the values that cover 90% of the sample
//! number 200 or more, or their entropy is 80% of 8 bits or more
//! (`btrfs_compress_heuristic`, fs/btrfs/compression.c). Uniform random
//! bytes, and copies of them, look encrypted to it at any ratio.
//!
//! So every byte of a compressible granule's random stream passes through
//! [`Skew`]: its low nibble is mapped through a 16-entry table whose entries
//! repeat the likely values more often, and its high nibble stays as drawn,
//! so a byte's order-0 entropy is 4 bits and the table's, set by the ratio
//! ([`entropy_for_ratio`]). A table lookup of 16 entries is one byte shuffle
//! (`pshufb`) per vector, so the skew costs three vector operations per 64
//! bytes with AVX-512 and four per 32 with AVX2. The all-random granules of
//! compress 1 are never skewed.

/// Order-0 entropy, in bits per byte, of a compressible stream's random
/// bytes (and so of the whole stream, whose copies repeat them) at each
/// compress ratio; between two points it runs linearly in log(ratio).
///
/// Chosen from real files measured with `dgen analyze` (the README's
/// real-data table): compressible data holds 4.7 to 6.4 bits a byte. The
/// curve sits near the top of that range, 6.1 bits at 1.5:1 down to 5.9 at
/// 32:1: under the 80% of 8 bits (6.4) below which btrfs's heuristic
/// compresses, and high enough that zstd-1 stays within 1.6 times lz4 (which
/// gains nothing from it).
pub const ENTROPY_CURVE: [(f64, f64); 6] = [(1.0, 8.0), (1.5, 6.1), (2.0, 6.05), (4.0, 6.0), (8.0, 5.95), (32.0, 5.9)];

/// The entropy [`ENTROPY_CURVE`] gives `ratio`, in bits per byte.
pub fn entropy_for_ratio(ratio: f64) -> f64 {
    let (first, last) = (ENTROPY_CURVE[0], ENTROPY_CURVE[ENTROPY_CURVE.len() - 1]);
    if ratio <= first.0 {
        return first.1;
    }
    if ratio >= last.0 {
        return last.1;
    }
    let k = ENTROPY_CURVE.windows(2).position(|w| ratio <= w[1].0).unwrap_or(0);
    let ((r0, e0), (r1, e1)) = (ENTROPY_CURVE[k], ENTROPY_CURVE[k + 1]);
    e0 + (e1 - e0) * (ratio / r0).ln() / (r1 / r0).ln()
}

/// Low nibbles from the most likely to the least, 0 last, so that no byte is
/// zero unless the table holds every value.
const LOW_ORDER: [u8; 16] = [5, 4, 0xE, 3, 9, 1, 0xC, 8, 2, 0xF, 6, 0xD, 7, 0xB, 0xA, 0];

/// A byte map that skews uniform random bytes: byte `b` becomes
/// `(b & 0xF0) | low[b & 15]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Skew {
    /// Low nibble of the output for each low nibble of the input.
    pub(crate) low: [u8; 16],
    /// The whole map, for the portable writer.
    lut: [u8; 256],
    /// Order-0 entropy of the output of uniform input, in bits per byte.
    bits: f64,
}

impl Skew {
    /// The skew for a compress ratio, or `None` for 1 and below (uniform
    /// bytes).
    pub fn for_ratio(ratio: f64) -> Option<Skew> {
        if ratio <= 1.0 {
            return None;
        }
        Some(Skew::with_entropy(entropy_for_ratio(ratio)))
    }

    /// The skew whose output is nearest `bits` of entropy per byte (4 to 8):
    /// the high nibble's 4 bits, and the low nibble's table of the shape
    /// whose entropy is nearest the rest.
    pub fn with_entropy(bits: f64) -> Skew {
        let want = (bits - 4.0).clamp(0.0, 4.0);
        let shapes = shapes();
        let low = shapes.iter().min_by(|a, b| (a.1 - want).abs().total_cmp(&(b.1 - want).abs())).expect("shapes of 16");
        let low_table = table(&low.0, &LOW_ORDER);
        let lut = std::array::from_fn(|b| (b as u8 & 0xF0) | low_table[b & 15]);
        Skew { low: low_table, lut, bits: 4.0 + low.1 }
    }

    /// Order-0 entropy of the skewed bytes, in bits per byte.
    pub fn bits(&self) -> f64 {
        self.bits
    }

    /// Skews `bytes` in place, one lookup per byte (the portable writer).
    #[inline(always)]
    pub fn apply(&self, bytes: &mut [u8]) {
        for b in bytes {
            *b = self.lut[usize::from(*b)];
        }
    }

    /// The map of one byte.
    #[inline(always)]
    pub fn map(&self, b: u8) -> u8 {
        self.lut[usize::from(b)]
    }
}

/// Every way of sharing 16 table entries among output values (the
/// partitions of 16, largest part first), with its entropy in bits.
fn shapes() -> Vec<(Vec<u8>, f64)> {
    fn walk(left: u8, max: u8, parts: &mut Vec<u8>, out: &mut Vec<(Vec<u8>, f64)>) {
        if left == 0 {
            let h = parts.iter().map(|&m| f64::from(m) / 16.0).map(|p| -p * p.log2()).sum();
            out.push((parts.clone(), h));
            return;
        }
        for m in (1..=max.min(left)).rev() {
            parts.push(m);
            walk(left - m, m, parts, out);
            parts.pop();
        }
    }
    let mut out = Vec::new();
    walk(16, 16, &mut Vec::new(), &mut out);
    out
}

/// A 16-entry table in which value `order[i]` fills `parts[i]` entries.
fn table(parts: &[u8], order: &[u8; 16]) -> [u8; 16] {
    let mut t = [0u8; 16];
    let mut k = 0;
    for (&m, &v) in parts.iter().zip(order) {
        for _ in 0..m {
            t[k] = v;
            k += 1;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entropy(bytes: &[u8]) -> f64 {
        let mut counts = [0u64; 256];
        for &b in bytes {
            counts[usize::from(b)] += 1;
        }
        let n = bytes.len() as f64;
        counts.iter().filter(|&&c| c > 0).map(|&c| c as f64 / n).map(|p| -p * p.log2()).sum()
    }

    #[test]
    fn the_map_has_the_entropy_it_claims_and_follows_the_curve() {
        let all: Vec<u8> = (0..=255).collect();
        for ratio in [1.01, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0, 16.0, 32.0] {
            let s = Skew::for_ratio(ratio).unwrap();
            let mut out = all.clone();
            s.apply(&mut out);
            let h = entropy(&out);
            assert!((h - s.bits()).abs() < 1e-9, "ratio {ratio}: {h} against {}", s.bits());
            assert!((h - entropy_for_ratio(ratio)).abs() < 0.12, "ratio {ratio}: {h}");
            if ratio >= 1.5 {
                assert!(h <= 6.2, "ratio {ratio}: {h}");
                // Zero is the least likely value of both nibbles: from 1.5:1
                // on, no byte is ever zero.
                assert!(!out.contains(&0), "ratio {ratio}");
            }
        }
        assert!(Skew::for_ratio(1.0).is_none());
    }

    #[test]
    fn the_curve_falls_with_the_ratio() {
        let mut last = 8.0;
        for i in 1..=310 {
            let h = entropy_for_ratio(1.0 + f64::from(i) * 0.1);
            assert!(h <= last && h >= 5.9, "{h}");
            last = h;
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vector_maps_are_the_table() {
        let s = Skew::for_ratio(3.0).unwrap();
        let input: [u8; 64] = std::array::from_fn(|i| (i * 37 + 11) as u8);
        let mut want = input;
        s.apply(&mut want);
        if std::arch::is_x86_feature_detected!("avx2") {
            let mut got = [0u8; 64];
            // SAFETY: AVX2 was detected; loads and stores cover 32 bytes
            // within each 64-byte array.
            unsafe {
                use std::arch::x86_64::*;
                let k = crate::model::kernel::avx2::Skew256::load(&s);
                for h in 0..2 {
                    let v = _mm256_loadu_si256(input.as_ptr().add(32 * h).cast());
                    _mm256_storeu_si256(got.as_mut_ptr().add(32 * h).cast(), k.apply(v));
                }
            }
            assert_eq!(got, want);
        }
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bw") {
            let mut got = [0u8; 64];
            // SAFETY: AVX-512F and BW were detected; the load and store cover
            // the 64-byte arrays.
            unsafe {
                use std::arch::x86_64::*;
                let k = crate::model::kernel::avx512::Skew512::load(&s);
                let v = _mm512_loadu_si512(input.as_ptr().cast());
                _mm512_storeu_si512(got.as_mut_ptr().cast(), k.apply(v));
            }
            assert_eq!(got, want);
        }
    }
}
