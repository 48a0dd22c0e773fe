//! The AVX-512 writer: lanes and skew held in 512-bit registers (one per
//! eight-lane word), with native 64-bit rotates and whole-register byte
//! shuffles. Every function needs AVX-512 F/VL/DQ/BW, which the caller
//! checks through [`Kernel::runs_here`](super::Kernel::runs_here).

use super::blocks::*;
use crate::model::lanes::{LaneState, LANES, STEP_BYTES};
use crate::model::skew::Skew;
use crate::model::*;

/// `a | (b & c)` as `vpternlog`'s truth table (a: 0xF0, b: 0xCC, c: 0xAA).
const A_OR_B_AND_C: i32 = 0xF8;

/// [`lanes::generate`](crate::model::lanes::generate) with AVX-512F: one register holds word `w` of all eight lanes.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn generate_avx512(state: &mut LaneState, out: &mut [u8]) {
    use std::arch::x86_64::_mm512_storeu_si512;
    // SAFETY: AVX-512F is the caller's contract, and the functions called
    // need no more.
    let mut lanes = unsafe { Lanes512::load(state) };
    for chunk in out.chunks_exact_mut(STEP_BYTES) {
        // SAFETY: as above; the store is unaligned and covers the chunk's
        // STEP_BYTES = 64 bytes.
        unsafe { _mm512_storeu_si512(chunk.as_mut_ptr().cast(), lanes.step()) };
    }
    // SAFETY: as above.
    unsafe { lanes.store(state) };
}

/// The lanes held in AVX-512 registers, drawn one step at a time: the step
/// [`generate_avx512`] would write to memory, handed over as a register, so
/// that parts of it can be stored where they belong without a round trip
/// through memory.
pub(crate) struct Lanes512 {
    s: [std::arch::x86_64::__m512i; 4],
}

impl Lanes512 {
    /// Loads the lanes' state.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn load(state: &LaneState) -> Lanes512 {
        use std::arch::x86_64::_mm512_loadu_si512;
        // SAFETY: each state word is a [u64; 8], 64 readable bytes, and the
        // load takes any alignment; AVX-512F is the caller's contract.
        let load = |w: &[u64; LANES]| unsafe { _mm512_loadu_si512(w.as_ptr().cast()) };
        Lanes512 { s: [load(&state[0]), load(&state[1]), load(&state[2]), load(&state[3])] }
    }

    /// Stores the lanes' state back.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn store(&self, state: &mut LaneState) {
        use std::arch::x86_64::_mm512_storeu_si512;
        for (w, v) in state.iter_mut().zip(self.s) {
            // SAFETY: each state word is a [u64; 8], 64 writable bytes, and
            // the store takes any alignment; AVX-512F is the caller's contract.
            unsafe { _mm512_storeu_si512(w.as_mut_ptr().cast(), v) };
        }
    }

    /// The next step of all lanes: 64-bit word `k` is lane `k`'s output.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub unsafe fn step(&mut self) -> std::arch::x86_64::__m512i {
        use std::arch::x86_64::*;
        let [s0, s1, s2, s3] = self.s;
        let r = _mm512_add_epi64(_mm512_rol_epi64::<23>(_mm512_add_epi64(s0, s3)), s0);
        let t = _mm512_slli_epi64::<17>(s1);
        let s2 = _mm512_xor_si512(s2, s0);
        let s3 = _mm512_xor_si512(s3, s1);
        let s1 = _mm512_xor_si512(s1, s2);
        let s0 = _mm512_xor_si512(s0, s3);
        let s2 = _mm512_xor_si512(s2, t);
        let s3 = _mm512_rol_epi64::<45>(s3);
        self.s = [s0, s1, s2, s3];
        r
    }
}

/// [`Skew`] held in AVX-512 registers.
#[derive(Clone, Copy)]
pub(crate) struct Skew512 {
    /// The low nibble's table in every 128-bit lane: entry `i` of 64 is
    /// entry `i % 16` of 16.
    low: std::arch::x86_64::__m512i,
}

impl Skew512 {
    /// The table of `skew` in every 128-bit lane.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub unsafe fn load(skew: &Skew) -> Skew512 {
        use std::arch::x86_64::*;
        // SAFETY: the table is 16 readable bytes; AVX-512F is the caller's
        // contract.
        unsafe { Skew512 { low: _mm512_broadcast_i32x4(_mm_loadu_si128(skew.low.as_ptr().cast())) } }
    }

    /// Skews the 64 bytes of `v`.
    ///
    /// # Safety
    /// The CPU must support AVX-512F and AVX-512BW.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    pub unsafe fn apply(&self, v: std::arch::x86_64::__m512i) -> std::arch::x86_64::__m512i {
        use std::arch::x86_64::*;
        let lo = _mm512_shuffle_epi8(self.low, _mm512_and_si512(v, _mm512_set1_epi8(0x0F)));
        _mm512_ternarylogic_epi32::<A_OR_B_AND_C>(lo, v, _mm512_set1_epi8(0xF0u8 as i8))
    }
}

/// [`gaps_from_steps`] with AVX-512: the lane steps stay in a register and a
/// slot's bytes are brought to its bottom with a 64-bit permute and stored
/// from there, so no random byte passes through memory twice.
///
/// # Safety
/// The CPU must support AVX-512F, AVX-512BW and AVX2.
#[target_feature(enable = "avx512f,avx512bw,avx2")]
unsafe fn gaps_avx512(state: &mut LaneState, out: &mut Granule, plan: &Plan, skew: &Skew) {
    use std::arch::x86_64::*;
    // SAFETY (every intrinsic call in this function): its features are this
    // function's contract; each store is argued where it is made.
    unsafe {
        let mut lanes = Lanes512::load(state);
        let skew = Skew512::load(skew);
        let mut cur = _mm512_setzero_si512();
        let mut next = 0usize;
        let p = out.as_mut_ptr();
        for b in &plan.blocks {
            let (slot, width, start, gap) =
                (usize::from(b.slot), usize::from(b.width), usize::from(b.start), usize::from(b.gap));
            if width <= 32 && b.whole {
                if slot >= next {
                    cur = skew.apply(lanes.step());
                    next += STEP_BYTES;
                }
                // The slot's 64-bit words first: words q.. of the step.
                let q = ((slot % STEP_BYTES) / 8) as i64;
                let idx = _mm512_add_epi64(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi64(q));
                let v = _mm512_permutexvar_epi64(idx, cur);
                // `start + width <= GRANULE` (`whole`, checked by `Plan::new`).
                if width == 16 {
                    _mm_storeu_si128(p.add(start).cast(), _mm512_castsi512_si128(v));
                } else {
                    _mm256_storeu_si256(p.add(start).cast(), _mm512_castsi512_si256(v));
                }
            } else {
                let mut done = 0;
                while done < gap {
                    while slot + done >= next {
                        cur = skew.apply(lanes.step());
                        next += STEP_BYTES;
                    }
                    let at = (slot + done) % STEP_BYTES;
                    let dst = start + done;
                    if at == 0 && dst + STEP_BYTES <= GRANULE {
                        // `dst..dst + 64` lies inside the granule.
                        _mm512_storeu_si512(p.add(dst).cast(), cur);
                        done += STEP_BYTES;
                    } else {
                        let mut tmp = StepBytes([0u8; STEP_BYTES]);
                        // `tmp` holds 64 bytes.
                        _mm512_storeu_si512(tmp.0.as_mut_ptr().cast(), cur);
                        let n = (STEP_BYTES - at).min(gap - done);
                        out[dst..dst + n].copy_from_slice(&tmp.0[at..at + n]);
                        done += n;
                    }
                }
            }
        }
    }
}

/// Lane steps into `out` with AVX-512, skewed by `skew` where given.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512BW.
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn draw_avx512(state: &mut LaneState, out: &mut [u8], skew: Option<&Skew>) {
    // SAFETY (whole block): AVX-512F and BW are this function's contract;
    // each store is unaligned and covers one 64-byte chunk of `out`.
    unsafe {
        let Some(skew) = skew else {
            return generate_avx512(state, out);
        };
        let skew = Skew512::load(skew);
        let mut lanes = Lanes512::load(state);
        for chunk in out.chunks_exact_mut(STEP_BYTES) {
            std::arch::x86_64::_mm512_storeu_si512(chunk.as_mut_ptr().cast(), skew.apply(lanes.step()));
        }
        lanes.store(state);
    }
}

/// The granule writer compiled for AVX-512.
///
/// # Safety
/// The CPU must support AVX-512F, VL, DQ and BW, and AVX2.
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2")]
pub(crate) unsafe fn granule_avx512(m: &Model, cid: u64, g: u64, out: &mut Granule) {
    if let Some((state, plan, uniform, skew)) = m.uniform_plan(cid, g) {
        // SAFETY: this function's contract covers the lanes' AVX-512F and
        // the skew's AVX-512BW; each step is one 64-byte store at the
        // pointer given, and `plan` is `uniform`.
        unsafe {
            let mut lanes = Lanes512::load(&state);
            let skew = Skew512::load(skew);
            let step_to = |dst: *mut u8| std::arch::x86_64::_mm512_storeu_si512(dst.cast(), skew.apply(lanes.step()));
            return uniform_stepped(out, plan, uniform, step_to);
        }
    }
    let skew = m.skew.as_ref();
    // SAFETY (both closures): this function's contract covers the drawing
    // (AVX-512F and BW) and the gap writer (AVX-512F, BW and AVX2). Gaps
    // are placed only in granules with copies, which have a skew.
    m.granule_body(
        cid,
        g,
        out,
        |s, o| unsafe { draw_avx512(s, o, skew) },
        |s, o, plan| unsafe { gaps_avx512(s, o, plan, skew.expect("granules with copies are skewed")) },
    )
}
