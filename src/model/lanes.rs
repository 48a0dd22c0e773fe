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

/// [`generate`] with AVX-512F: one register holds word `w` of all eight lanes.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub unsafe fn generate_avx512(state: &mut LaneState, out: &mut [u8]) {
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

/// [`generate`] with AVX2: two registers hold word `w` of lanes 0-3 and 4-7.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub unsafe fn generate_avx2(state: &mut LaneState, out: &mut [u8]) {
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
#[cfg(target_arch = "x86_64")]
pub struct Lanes256 {
    s: [[std::arch::x86_64::__m256i; 2]; 4],
}

#[cfg(target_arch = "x86_64")]
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

/// The lanes held in AVX-512 registers, drawn one step at a time: the step
/// [`generate_avx512`] would write to memory, handed over as a register, so
/// that parts of it can be stored where they belong without a round trip
/// through memory.
#[cfg(target_arch = "x86_64")]
pub struct Lanes512 {
    s: [std::arch::x86_64::__m512i; 4],
}

#[cfg(target_arch = "x86_64")]
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
