//! Order-0 entropy: how many bits per byte an ideal coder that knows only
//! the byte-value frequencies would need. The entropy stages of zstd,
//! deflate, brotli and LZMA approach it on their literals, and storage
//! systems (btrfs's heuristic, see [`crate::btrfs`]) judge data by it before
//! they compress, so it tells how real data looks beside synthetic data.

/// Counts of each byte value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    counts: [u64; 256],
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: [0; 256], total: 0 }
    }
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// The histogram of `data`.
    pub fn of(data: &[u8]) -> Self {
        let mut h = Self::new();
        h.add(data);
        h
    }

    /// Counts the bytes of `data` in.
    pub fn add(&mut self, data: &[u8]) {
        // Four tables break the store-to-load dependency between equal
        // neighbouring bytes (runs), which halves the time on such data.
        let mut t = [[0u64; 256]; 4];
        let mut quads = data.chunks_exact(4);
        for q in &mut quads {
            t[0][q[0] as usize] += 1;
            t[1][q[1] as usize] += 1;
            t[2][q[2] as usize] += 1;
            t[3][q[3] as usize] += 1;
        }
        for &b in quads.remainder() {
            t[0][b as usize] += 1;
        }
        for (v, c) in self.counts.iter_mut().enumerate() {
            *c += t[0][v] + t[1][v] + t[2][v] + t[3][v];
        }
        self.total += data.len() as u64;
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &Histogram) {
        for (c, o) in self.counts.iter_mut().zip(other.counts.iter()) {
            *c += o;
        }
        self.total += other.total;
    }

    /// How often each byte value occurred.
    pub fn counts(&self) -> &[u64; 256] {
        &self.counts
    }

    /// Bytes counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Order-0 entropy in bits per byte, 0 (one value, or nothing counted)
    /// to 8 (every value equally often).
    pub fn entropy(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let n = self.total as f64;
        -self
            .counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = c as f64 / n;
                p * p.log2()
            })
            .sum::<f64>()
    }
}

/// Order-0 entropy of `data` in bits per byte (0 for an empty slice).
pub fn entropy_bits_per_byte(data: &[u8]) -> f64 {
    Histogram::of(data).entropy()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distributions_give_their_entropy() {
        assert_eq!(entropy_bits_per_byte(&[]), 0.0);
        assert_eq!(entropy_bits_per_byte(&[7; 1000]), 0.0);
        let two: Vec<u8> = (0..1000).map(|i| (i % 2) as u8).collect();
        assert!((entropy_bits_per_byte(&two) - 1.0).abs() < 1e-12);
        let all: Vec<u8> = (0..256 * 16).map(|i| i as u8).collect();
        assert!((entropy_bits_per_byte(&all) - 8.0).abs() < 1e-12);
        // p = 1/2, 1/4, 1/4: 1.5 bits.
        let skew: Vec<u8> = (0..4000).map(|i| [0u8, 0, 1, 2][i % 4]).collect();
        assert!((entropy_bits_per_byte(&skew) - 1.5).abs() < 1e-12);
    }

    #[test]
    fn noise_is_near_eight_bits_and_merging_equals_counting_whole() {
        let data = crate::noise(1 << 20, 99);
        let e = entropy_bits_per_byte(&data);
        assert!(e > 7.99 && e <= 8.0, "{e}");
        let mut h = Histogram::of(&data[..12345]);
        h.merge(&Histogram::of(&data[12345..]));
        assert_eq!(h, Histogram::of(&data));
        assert_eq!(h.total(), 1 << 20);
    }
}
