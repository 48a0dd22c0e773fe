//! The content model: every byte as a pure function of (seed, config, offset).
//!
//! Nothing here knows about threads, streams or C. The stream is cut into
//! 4 KiB *granules*; granules are grouped into dedup units; the dedup map
//! ([`dedup`]) names each unit's content id; a granule's bytes are a function of
//! (content id, granule index in the unit) alone: random bytes from lanes of
//! xoshiro256++ ([`lanes`]) laid out with copies ([`compress`]).

pub mod compress;
pub mod dedup;
pub mod hash;
pub mod lanes;

use compress::Layout;
use dedup::DedupMap;
use hash::{mix64, SplitMix};

/// Longest gap: gaps are 1..=copies bytes.
const MAX_GAP: usize = compress::MAX_COPIES;
/// Scratch for what a granule draws after its prefix: the gap-order word, a
/// word per copy and the gap bytes, in whole lane steps, plus room for the
/// last fixed-size gap move.
const TAIL_BYTES: usize = (8 * (compress::MAX_COPIES + 1) + compress::MAX_COPIES * (compress::MAX_COPIES + 1) / 2)
    .div_ceil(STEP_BYTES)
    * STEP_BYTES
    + MAX_GAP;
use lanes::{LaneState, LANES, STEP_BYTES};

/// Bytes in a granule, the unit of content.
pub const GRANULE: usize = 4096;
const G64: u64 = GRANULE as u64;

/// One granule's bytes.
pub type Granule = [u8; GRANULE];

/// Per-seed keys, drawn once when a model is built.
#[derive(Clone, Debug)]
struct Keys {
    lane: [[u64; LANES]; 4],
    layout: u64,
}

impl Keys {
    fn new(seed: u64) -> Keys {
        let mut sm = SplitMix(seed);
        let mut lane = [[0u64; LANES]; 4];
        for word in lane.iter_mut() {
            for k in word.iter_mut() {
                *k = sm.next_u64();
            }
        }
        Keys { lane, layout: sm.next_u64() }
    }
}

/// Which build of the granule writer runs; chosen once from the CPU's features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Plain code; the compiler's baseline vector width.
    Portable,
    /// x86-64 with AVX2.
    Avx2,
    /// x86-64 with AVX-512 F/VL/DQ (native 64-bit rotates and multiplies).
    Avx512,
}

impl Kernel {
    /// Whether this CPU has every feature the kernel's code is compiled for.
    pub fn runs_here(self) -> bool {
        match self {
            Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx2")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Every kernel this CPU runs, slowest (portable) first.
    pub fn available() -> Vec<Kernel> {
        [Kernel::Portable, Kernel::Avx2, Kernel::Avx512].into_iter().filter(|k| k.runs_here()).collect()
    }

    /// The kernel's name as reports print it: `portable`, `avx2` or `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
        }
    }

    /// The fastest kernel this CPU runs.
    pub fn detect() -> Kernel {
        [Kernel::Avx512, Kernel::Avx2].into_iter().find(|k| k.runs_here()).unwrap_or(Kernel::Portable)
    }
}

/// A pure description of a stream's bytes.
#[derive(Clone, Debug)]
pub struct Model {
    unit_granules: u64,
    dedup: DedupMap,
    layout: Layout,
    keys: Keys,
    kernel: Kernel,
    /// Eight orders of the gap lengths 1..=copies, shuffled per seed; each
    /// granule draws one, so distances between copies vary within and across
    /// granules without a shuffle per granule.
    gap_orders: [[u8; compress::MAX_COPIES]; GAP_ORDERS],
}

const GAP_ORDERS: usize = 8;

fn gap_orders(copies: usize, key: u64) -> [[u8; compress::MAX_COPIES]; GAP_ORDERS] {
    let mut rng = SplitMix(key);
    let mut orders = [[0u8; compress::MAX_COPIES]; GAP_ORDERS];
    for order in orders.iter_mut() {
        for (i, gap) in order[..copies].iter_mut().enumerate() {
            *gap = (i + 1) as u8;
        }
        // Fisher-Yates.
        for i in (1..copies).rev() {
            order.swap(i, rng.below_or_eq(i as u64) as usize);
        }
    }
    orders
}

impl Model {
    /// The model for a validated config and a seed.
    pub fn new(cfg: &crate::Config, seed: u64) -> Model {
        let unit = u64::from(cfg.dedup_unit);
        let total_units = cfg.size.div_ceil(unit);
        let keys = Keys::new(seed);
        let layout = Layout::for_ratio(cfg.compress_ratio);
        Model {
            gap_orders: gap_orders(layout.copies as usize, mix64(keys.layout ^ 0x6A95)),
            unit_granules: unit / G64,
            dedup: DedupMap::new(cfg.dedup_ratio, total_units, mix64(keys.layout ^ 0xD3D0_D3D0)),
            layout,
            keys,
            kernel: Kernel::detect(),
        }
    }

    /// The same model, forced onto `kernel` (tests and benchmarks compare
    /// kernels).
    ///
    /// # Panics
    /// When this CPU cannot run `kernel` ([`Kernel::runs_here`]); running it
    /// would execute instructions the CPU does not have.
    pub fn with_kernel(mut self, kernel: Kernel) -> Model {
        assert!(kernel.runs_here(), "the {kernel:?} kernel needs CPU features this CPU lacks");
        self.kernel = kernel;
        self
    }

    /// The kernel in use.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// The granule layout in use.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The starting state of every lane for granule `g` of content `cid`.
    /// Distinct `(cid, g)` give distinct states: words 0 and 1 are bijections
    /// of `cid` and `g` under per-lane keys.
    #[inline(always)]
    pub fn lane_state(&self, cid: u64, g: u64) -> LaneState {
        let k = &self.keys.lane;
        let mut s = [[0u64; LANES]; 4];
        for j in 0..LANES {
            let a = mix64(cid ^ k[0][j]);
            let b = mix64(g ^ k[1][j]);
            s[0][j] = a;
            s[1][j] = b;
            s[2][j] = mix64(a.wrapping_add(b) ^ k[2][j]);
            s[3][j] = mix64(a ^ b.rotate_left(29) ^ k[3][j]);
        }
        s
    }

    /// Writes granule `g` of content `cid`; `generate` runs the lanes.
    ///
    /// The lanes write the random prefix straight into `out`, then go on into
    /// a small scratch: one word that picks the granule's gap order, one word
    /// per copy that picks its source segment, then the gap bytes. Every random
    /// choice and byte of a granule so comes from its own lanes at their
    /// vector speed, and nothing is drawn one word at a time.
    #[inline(always)]
    fn granule_body(&self, cid: u64, g: u64, out: &mut Granule, generate: impl Fn(&mut LaneState, &mut [u8])) {
        let layout = self.layout;
        let prefix = layout.prefix as usize;
        let steps = prefix.div_ceil(STEP_BYTES);
        let mut state = self.lane_state(cid, g);
        generate(&mut state, &mut out[..steps * STEP_BYTES]);
        if layout.copies == 0 {
            return;
        }
        let copies = layout.copies as usize;
        let gap_from = 8 * (copies + 1);
        let drawn = (gap_from + layout.gap_bytes() as usize).div_ceil(STEP_BYTES) * STEP_BYTES;
        let mut tail = [0u8; TAIL_BYTES];
        generate(&mut state, &mut tail[..drawn]);
        let word = |i: usize| u64::from_le_bytes(tail[8 * i..8 * i + 8].try_into().unwrap());
        let gaps = &self.gap_orders[(word(0) >> 61) as usize][..copies];
        let len = layout.copy_len as usize;
        let segments = u64::from(layout.segments());
        let mut dst = prefix;
        let mut from = gap_from;
        for (j, &gap) in gaps.iter().enumerate() {
            let gap = gap as usize;
            if len >= MAX_GAP {
                // One fixed-size move whatever the gap's length, so no branch
                // depends on it: the bytes past the gap are overwritten by
                // the copy that follows, which is at least as long.
                let block: [u8; MAX_GAP] = tail[from..from + MAX_GAP].try_into().unwrap();
                out[dst..dst + MAX_GAP].copy_from_slice(&block);
            } else {
                out[dst..dst + gap].copy_from_slice(&tail[from..from + gap]);
            }
            from += gap;
            dst += gap;
            let v = word(j + 1);
            if segments > 0 {
                let src = (((u128::from(v) * u128::from(segments)) >> 64) as usize) * len;
                let (head, tail) = out.split_at_mut(dst);
                copy_short(&mut tail[..len], &head[src..src + len]);
            } else {
                // Ratios near the maximum: the prefix is shorter than a copy, so
                // copies repeat the granule's first `len` bytes; one that overlaps
                // itself repeats with period `dst`.
                for k in 0..len {
                    out[dst + k] = out[k];
                }
            }
            dst += len;
        }
    }

    /// Writes granule `g` of content `cid` with the chosen kernel.
    #[inline]
    pub fn granule(&self, cid: u64, g: u64, out: &mut Granule) {
        match self.kernel {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a model holds `Kernel::Avx512` only from `Kernel::detect`
            // or `Model::with_kernel`, and both first check `runs_here`: the CPU
            // reported avx512f, avx512vl, avx512dq and avx2, the features
            // `granule_avx512` is compiled for.
            Kernel::Avx512 => unsafe { granule_avx512(self, cid, g, out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above; for `Kernel::Avx2`, `runs_here` checked avx2.
            Kernel::Avx2 => unsafe { granule_avx2(self, cid, g, out) },
            _ => self.granule_body(cid, g, out, lanes::generate),
        }
    }

    /// Content id of dedup unit `unit`.
    #[inline]
    pub fn content_id(&self, unit: u64) -> u64 {
        self.dedup.content_id(unit)
    }

    /// Calls `f(cid, g, skip, pos, n)` for each granule that
    /// `[offset, offset + len)` touches: granule `g` of content `cid`, whose bytes
    /// `skip..skip + n` land at `pos..pos + n` of the caller's buffer. Stops when
    /// `f` returns false.
    #[inline(always)]
    fn for_each_granule(&self, offset: u64, len: usize, mut f: impl FnMut(u64, u64, usize, usize, usize) -> bool) {
        if len == 0 {
            return;
        }
        let gidx = offset / G64;
        let mut skip = (offset % G64) as usize;
        let mut unit = gidx / self.unit_granules;
        let mut g = gidx % self.unit_granules;
        let mut cid = self.dedup.content_id(unit);
        let mut pos = 0usize;
        while pos < len {
            let n = (GRANULE - skip).min(len - pos);
            if !f(cid, g, skip, pos, n) {
                return;
            }
            pos += n;
            skip = 0;
            g += 1;
            if g == self.unit_granules && pos < len {
                g = 0;
                unit += 1;
                cid = self.dedup.content_id(unit);
            }
        }
    }

    /// Fills `buf` with the bytes at `[offset, offset + buf.len())`. The caller
    /// has checked that the range is inside the stream.
    pub fn fill(&self, offset: u64, buf: &mut [u8]) {
        self.for_each_granule(offset, buf.len(), |cid, g, skip, pos, n| {
            let dst = &mut buf[pos..pos + n];
            if let Ok(whole) = <&mut Granule>::try_from(&mut *dst) {
                self.granule(cid, g, whole);
            } else {
                let mut tmp = [0u8; GRANULE];
                self.granule(cid, g, &mut tmp);
                dst.copy_from_slice(&tmp[skip..skip + n]);
            }
            true
        });
    }

    /// Like [`Model::fill`], for buffers larger than the caches: each whole
    /// granule is generated in a scratch granule that stays in L1 and then
    /// written out with non-temporal stores, which do not read the
    /// destination's cache lines first. One thread then writes at about
    /// memset's rate instead of about two thirds of it (measured with SSE2
    /// stores on 64 MiB: 16 GB/s normal, 23 GB/s non-temporal). The bytes are
    /// the same as `fill`'s; only where they sit afterwards (in memory, not
    /// in cache) differs.
    pub fn fill_streaming(&self, offset: u64, buf: &mut [u8]) {
        #[cfg(target_arch = "x86_64")]
        if (buf.as_ptr() as usize).is_multiple_of(16) {
            let mut tmp = ScratchGranule([0u8; GRANULE]);
            self.for_each_granule(offset, buf.len(), |cid, g, skip, pos, n| {
                self.granule(cid, g, &mut tmp.0);
                let dst = &mut buf[pos..pos + n];
                if n == GRANULE && (dst.as_ptr() as usize).is_multiple_of(16) {
                    stream_granule(dst, &tmp.0);
                } else {
                    dst.copy_from_slice(&tmp.0[skip..skip + n]);
                }
                true
            });
            // SAFETY: `_mm_sfence` is SSE, part of every x86_64 CPU. It makes
            // the non-temporal stores above visible before any later store of
            // this thread, such as the one that tells a waiting thread this
            // piece is done.
            unsafe { std::arch::x86_64::_mm_sfence() };
            return;
        }
        self.fill(offset, buf);
    }

    /// The first byte of `buf` that differs from the stream at `offset`, as
    /// `(stream offset, expected, actual)`.
    pub fn first_mismatch(&self, offset: u64, buf: &[u8]) -> Option<(u64, u8, u8)> {
        let mut found = None;
        let mut tmp = [0u8; GRANULE];
        self.for_each_granule(offset, buf.len(), |cid, g, skip, pos, n| {
            self.granule(cid, g, &mut tmp);
            let want = &tmp[skip..skip + n];
            let got = &buf[pos..pos + n];
            if want == got {
                return true;
            }
            let k = want.iter().zip(got).position(|(a, b)| a != b).unwrap_or(0);
            found = Some((offset + (pos + k) as u64, want[k], got[k]));
            false
        });
        found
    }
}

/// A granule aligned for whole-vector loads.
#[repr(align(64))]
#[derive(Clone)]
struct ScratchGranule(Granule);

/// Copies a granule to `dst` with non-temporal stores.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn stream_granule(dst: &mut [u8], src: &Granule) {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_stream_si128};
    assert!(dst.len() == GRANULE && (dst.as_ptr() as usize).is_multiple_of(16));
    let d = dst.as_mut_ptr().cast::<__m128i>();
    let s = src.as_ptr().cast::<__m128i>();
    for k in 0..GRANULE / 16 {
        // SAFETY: SSE2 is part of every x86_64 CPU. `k * 16 + 16 <= GRANULE`,
        // the length of both `src` and `dst` (asserted above), so both
        // accesses are in bounds; the store needs 16-byte alignment, asserted
        // above for `dst` (a multiple of 16 bytes further stays aligned); the
        // load takes any alignment.
        unsafe { _mm_stream_si128(d.add(k), _mm_loadu_si128(s.add(k))) }
    }
}

/// Copies up to a few hundred bytes with inline whole-block moves instead of a
/// call to memcpy, which costs more than the copy at these sizes. 64-byte
/// blocks are one AVX-512 move or two AVX2 moves; the last block overlaps the
/// one before it rather than finishing byte by byte.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    const BLOCK: usize = 64;
    let n = dst.len();
    debug_assert_eq!(n, src.len());
    if n < BLOCK {
        dst.copy_from_slice(src);
        return;
    }
    let mut k = 0;
    while k + BLOCK <= n {
        let block: [u8; BLOCK] = src[k..k + BLOCK].try_into().unwrap();
        dst[k..k + BLOCK].copy_from_slice(&block);
        k += BLOCK;
    }
    if k < n {
        let block: [u8; BLOCK] = src[n - BLOCK..n].try_into().unwrap();
        dst[n - BLOCK..n].copy_from_slice(&block);
    }
}

macro_rules! kernel_entry {
    ($name:ident, $features:literal, $generate:path) => {
        /// The granule writer compiled for these CPU features.
        ///
        /// # Safety
        /// The CPU must support the features named in `target_feature`.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        unsafe fn $name(m: &Model, cid: u64, g: u64, out: &mut Granule) {
            // SAFETY: this function's own contract: the CPU has these features,
            // which include the one the lane generator needs.
            m.granule_body(cid, g, out, |s, o| unsafe { $generate(s, o) })
        }
    };
}
kernel_entry!(granule_avx2, "avx2", lanes::generate_avx2);
kernel_entry!(granule_avx512, "avx512f,avx512vl,avx512dq,avx2", lanes::generate_avx512);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_fill_gives_the_same_bytes_as_fill() {
        let cfg = crate::Config { dedup_ratio: 2.5, compress_ratio: 3.0, dedup_unit: 8192, ..crate::Config::default() };
        let model = Model::new(&cfg, 42);
        let len = 5 * GRANULE + 123;
        // A backing store aligned to 64, so `shift` sets the buffer's
        // alignment: 16-byte aligned (streamed), or not (plain fill).
        let mut backing = vec![ScratchGranule([0u8; GRANULE]); 8];
        // SAFETY: `ScratchGranule` wraps a 4096-byte array with alignment 64,
        // so it has no padding: the vector holds 8 * 4096 initialized,
        // contiguous bytes, borrowed mutably while `bytes` lives.
        let bytes = unsafe { std::slice::from_raw_parts_mut(backing.as_mut_ptr().cast::<u8>(), 8 * GRANULE) };
        for shift in [0usize, 1, 8, 16, 48] {
            for offset in [0u64, 1, 4095, 4096 * 3 + 17, (1 << 40) + 9] {
                let mut want = vec![0u8; len];
                model.fill(offset, &mut want);
                let got = &mut bytes[shift..shift + len];
                got.fill(0xAA);
                model.fill_streaming(offset, got);
                assert!(got == &want[..], "shift {shift}, offset {offset}");
            }
        }
    }
}
