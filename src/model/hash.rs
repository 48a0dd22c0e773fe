//! 64-bit mixing used to derive keys, lane states and layout choices.
//! `mix64` is the SplitMix64 finalizer: a bijection on u64, so distinct inputs
//! under one key always give distinct outputs.

/// The SplitMix64 increment (2^64 / golden ratio).
pub const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: bijective, with full avalanche.
#[inline(always)]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64, the generator `rand_xoshiro` uses to expand a `u64` seed.
#[derive(Clone, Copy, Debug)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next output.
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix64(self.0)
    }

    /// A value in `0..=hi`, without a division (Lemire's multiply-shift; the
    /// tiny bias is irrelevant for choosing copy sources).
    #[inline(always)]
    pub fn below_or_eq(&mut self, hi: u64) -> u64 {
        ((u128::from(self.next_u64()) * (u128::from(hi) + 1)) >> 64) as u64
    }
}
