//! xoshiro256++ run as [`LANES`] independent generators side by side.
//!
//! Lane `j` is exactly `rand_xoshiro::Xoshiro256PlusPlus` started from its
//! state; its `k`-th output is little-endian u64 word `k * LANES + j` of the
//! random part of a granule. Eight lanes fill one AVX-512 register or two AVX2
//! registers. The portable loop is the definition; the AVX2 and AVX-512
//! versions are the same arithmetic written with intrinsics, because the
//! compiler does not reliably vectorize the portable loop once it is inlined
//! into a larger function. Tests check all three give the same bytes.

/// Generators run side by side.
pub const LANES: usize = 8;
/// Bytes produced by one step of all lanes.
pub const STEP_BYTES: usize = LANES * 8;

/// State words s0..s3 of every lane.
pub type LaneState = [[u64; LANES]; 4];

/// Writes `out.len() / STEP_BYTES` steps of all lanes into `out`.
#[inline(always)]
pub fn generate(state: &mut LaneState, out: &mut [u8]) {
    let [mut s0, mut s1, mut s2, mut s3] = *state;
    for chunk in out.chunks_exact_mut(STEP_BYTES) {
        let mut r = [0u64; LANES];
        for j in 0..LANES {
            r[j] = s0[j].wrapping_add(s3[j]).rotate_left(23).wrapping_add(s0[j]);
            let t = s1[j] << 17;
            s2[j] ^= s0[j];
            s3[j] ^= s1[j];
            s1[j] ^= s2[j];
            s0[j] ^= s3[j];
            s2[j] ^= t;
            s3[j] = s3[j].rotate_left(45);
        }
        for (dst, w) in chunk.chunks_exact_mut(8).zip(r) {
            dst.copy_from_slice(&w.to_le_bytes());
        }
    }
    *state = [s0, s1, s2, s3];
}
