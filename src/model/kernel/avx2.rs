//! The AVX2 writer: lanes and skew held in 256-bit registers (two per
//! eight-lane word). Every function needs AVX2, which the caller checks
//! through [`Kernel::runs_here`](super::Kernel::runs_here).

use super::blocks::*;
use crate::model::lanes::{LaneState, LANES, STEP_BYTES};
use crate::model::skew::Skew;
use crate::model::*;

/// [`lanes::generate`](crate::model::lanes::generate) with AVX2: two registers hold word `w` of lanes 0-3 and 4-7.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn generate_avx2(state: &mut LaneState, out: &mut [u8]) {
    // SAFETY (whole block): AVX2 is this function's contract; each step is
    // stored as two unaligned 32-byte halves of a 64-byte chunk of `out`.
    unsafe {
        let mut lanes = Lanes256::load(state);
        for chunk in out.chunks_exact_mut(STEP_BYTES) {
            lanes.step_to(chunk.as_mut_ptr());
        }
        lanes.store(state);
    }
}

/// The lanes held in AVX2 registers (two per state word: lanes 0-3 and
/// 4-7), drawn one step at a time.
pub(crate) struct Lanes256 {
    s: [[std::arch::x86_64::__m256i; 2]; 4],
}

impl Lanes256 {
    /// The lanes at `state`.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn load(state: &LaneState) -> Lanes256 {
        use std::arch::x86_64::*;
        // SAFETY: each load reads 32 bytes, half of a [u64; 8] state word.
        let ld = |w: &[u64; LANES], h: usize| unsafe { _mm256_loadu_si256(w.as_ptr().add(4 * h).cast()) };
        Lanes256 { s: std::array::from_fn(|w| [ld(&state[w], 0), ld(&state[w], 1)]) }
    }

    /// Writes the lanes back to `state`.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn store(&self, state: &mut LaneState) {
        use std::arch::x86_64::_mm256_storeu_si256;
        for (w, v) in state.iter_mut().zip(self.s) {
            // SAFETY: each store writes 32 bytes, half of a [u64; 8] state
            // word.
            unsafe {
                _mm256_storeu_si256(w.as_mut_ptr().cast(), v[0]);
                _mm256_storeu_si256(w.as_mut_ptr().add(4).cast(), v[1]);
            }
        }
    }

    /// Draws one step of every lane into the 64 bytes at `dst`.
    ///
    /// # Safety
    /// The CPU must support AVX2, and `dst..dst + 64` must be writable.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn step_to(&mut self, dst: *mut u8) {
        use std::arch::x86_64::_mm256_storeu_si256;
        // SAFETY: AVX2 is the caller's contract.
        let step = unsafe { self.step() };
        for (h, r) in step.into_iter().enumerate() {
            // SAFETY: half `h` of the 64 bytes the caller gives; AVX2 is the
            // caller's contract.
            unsafe { _mm256_storeu_si256(dst.add(h * 32).cast(), r) };
        }
    }

    /// The next step of every lane: words 0-3 of lanes 0-3, then of lanes
    /// 4-7.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn step(&mut self) -> [std::arch::x86_64::__m256i; 2] {
        use std::arch::x86_64::*;
        #[inline(always)]
        fn rotl<const L: i32, const R: i32>(x: __m256i) -> __m256i {
            // SAFETY: plain register arithmetic; only reached from the AVX2
            // function.
            unsafe { _mm256_or_si256(_mm256_slli_epi64::<L>(x), _mm256_srli_epi64::<R>(x)) }
        }
        let mut out = [_mm256_setzero_si256(); 2];
        // Half `h` of every state word: the four words are indexed together.
        #[allow(clippy::needless_range_loop)]
        for h in 0..2 {
            let [s0, s1, s2, s3] = [self.s[0][h], self.s[1][h], self.s[2][h], self.s[3][h]];
            let r = _mm256_add_epi64(rotl::<23, 41>(_mm256_add_epi64(s0, s3)), s0);
            let t = _mm256_slli_epi64::<17>(s1);
            let s2 = _mm256_xor_si256(s2, s0);
            let s3 = _mm256_xor_si256(s3, s1);
            let s1 = _mm256_xor_si256(s1, s2);
            let s0 = _mm256_xor_si256(s0, s3);
            let s2 = _mm256_xor_si256(s2, t);
            let s3 = rotl::<45, 19>(s3);
            [self.s[0][h], self.s[1][h], self.s[2][h], self.s[3][h]] = [s0, s1, s2, s3];
            out[h] = r;
        }
        out
    }
}

/// [`Skew`] held in AVX2 registers.
#[derive(Clone, Copy)]
pub(crate) struct Skew256 {
    low: std::arch::x86_64::__m256i,
}

impl Skew256 {
    /// The table of `skew` in both 128-bit lanes.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn load(skew: &Skew) -> Skew256 {
        use std::arch::x86_64::*;
        // SAFETY: the table is 16 readable bytes; AVX2 is the caller's
        // contract.
        unsafe { Skew256 { low: _mm256_broadcastsi128_si256(_mm_loadu_si128(skew.low.as_ptr().cast())) } }
    }

    /// Skews the 32 bytes of `v`.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn apply(&self, v: std::arch::x86_64::__m256i) -> std::arch::x86_64::__m256i {
        use std::arch::x86_64::*;
        let lo = _mm256_shuffle_epi8(self.low, _mm256_and_si256(v, _mm256_set1_epi8(0x0F)));
        _mm256_or_si256(lo, _mm256_and_si256(v, _mm256_set1_epi8(0xF0u8 as i8)))
    }

    /// Skews one lane step (two 32-byte halves) and stores it at `dst`.
    ///
    /// # Safety
    /// The CPU must support AVX2, and `dst` must be valid for 64 bytes of
    /// writes (no alignment needed).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub unsafe fn store_step(&self, dst: *mut u8, step: [std::arch::x86_64::__m256i; 2]) {
        for (h, v) in step.into_iter().enumerate() {
            // SAFETY: the two unaligned stores cover dst..dst + 64, which the
            // caller guarantees writable; AVX2 is the caller's contract.
            unsafe { std::arch::x86_64::_mm256_storeu_si256(dst.add(32 * h).cast(), self.apply(v)) }
        }
    }
}

/// Lane steps into `out` with AVX2, skewed by `skew` where given.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
unsafe fn draw_avx2(state: &mut LaneState, out: &mut [u8], skew: Option<&Skew>) {
    // SAFETY (whole block): AVX2 is this function's contract; each step is
    // stored into one whole 64-byte chunk of `out`.
    unsafe {
        let Some(skew) = skew else {
            return generate_avx2(state, out);
        };
        let skew = Skew256::load(skew);
        let mut lanes = Lanes256::load(state);
        for chunk in out.chunks_exact_mut(STEP_BYTES) {
            skew.store_step(chunk.as_mut_ptr(), lanes.step());
        }
        lanes.store(state);
    }
}

/// The granule writer compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn granule_avx2(m: &Model, cid: u64, g: u64, out: &mut Granule) {
    if let Some((state, plan, uniform, skew)) = m.uniform_plan(cid, g) {
        // SAFETY: this function's contract covers the lanes' and the skew's
        // AVX2; each step writes the 64 bytes at the pointer given, as two
        // unaligned 32-byte halves, and `plan` is `uniform`.
        unsafe {
            let mut lanes = Lanes256::load(&state);
            let skew = Skew256::load(skew);
            let step_to = |dst: *mut u8| skew.store_step(dst, lanes.step());
            return uniform_stepped(out, plan, uniform, step_to);
        }
    }
    let skew = m.skew.as_ref();
    // SAFETY (both closures): this function's contract, AVX2, is the
    // drawing's.
    m.granule_body(
        cid,
        g,
        out,
        |s, o| unsafe { draw_avx2(s, o, skew) },
        |s, o, plan| gaps_from_steps(s, o, plan, |s, o| unsafe { draw_avx2(s, o, skew) }),
    )
}
