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
pub mod kernel;
pub mod lanes;
pub mod skew;
pub mod versions;

pub use kernel::Kernel;

use compress::{Layout, Plan};
use dedup::DedupMap;
use hash::{mix64, SplitMix};
use lanes::{LaneState, LANES, STEP_BYTES};
use skew::Skew;

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

/// A pure description of a stream's bytes.
#[derive(Clone, Debug)]
pub struct Model {
    unit_granules: u64,
    dedup: DedupMap,
    layout: Layout,
    keys: Keys,
    kernel: Kernel,
    /// The granule's blocks with the gap lengths in eight orders, shuffled
    /// per seed (the head stays first); each granule draws one, so distances
    /// back to sources vary within and across granules without a shuffle per
    /// granule.
    plans: Vec<Plan>,
    /// Every plan is [`compress::Uniform`].
    uniform: bool,
    /// The byte map of the random stream of a granule with copies; `None`
    /// when granules are all random (compress 1), whose bytes stay uniform.
    skew: Option<Skew>,
    /// The contents of later writes of each unit.
    versions: versions::Versions,
}

/// Plans per model; a granule follows one, picked by 5 bits of its lanes'
/// first state word.
const PLANS: usize = 32;

fn plans(layout: &Layout, key: u64) -> Vec<Plan> {
    let mut rng = SplitMix(key);
    let gaps = Plan::gap_lengths(layout);
    let lens = layout.copy_lengths();
    (0..PLANS)
        .map(|_| {
            let mut order = gaps.clone();
            // Fisher-Yates over every gap but the head, and over the lengths.
            for i in (2..order.len()).rev() {
                order.swap(i, 1 + rng.below_or_eq(i as u64 - 1) as usize);
            }
            let mut lengths = lens.clone();
            for i in (1..lengths.len()).rev() {
                lengths.swap(i, rng.below_or_eq(i as u64) as usize);
            }
            Plan::new(layout, &order, &lengths, |n| rng.below_or_eq(n as u64 - 1) as usize)
        })
        .collect()
}

impl Model {
    /// The model for a validated config and a seed.
    ///
    /// # Panics
    /// When the config was not validated and asks `compressor` for a ratio
    /// beyond its ceiling.
    pub fn new(cfg: &crate::Config, seed: u64) -> Model {
        let layout = Layout::for_ratio(cfg.compress_ratio, cfg.compressor)
            .unwrap_or_else(|ceiling| panic!("compress_ratio {} is above {ceiling}", cfg.compress_ratio));
        Model::with_layout(cfg, seed, layout)
    }

    /// The model for `cfg` and `seed` with the granule layout `layout`.
    fn with_layout(cfg: &crate::Config, seed: u64, layout: Layout) -> Model {
        let unit = u64::from(cfg.dedup_unit);
        let total_units = cfg.size.div_ceil(unit);
        let keys = Keys::new(seed);
        let plans = plans(&layout, mix64(keys.layout ^ 0x6A95));
        // Every granule with copies has a skewed stream; the layout was
        // solved for the entropy of this ratio's skew.
        let skew = (layout.copies > 0).then(|| Skew::with_entropy(skew::entropy_for_ratio(cfg.compress_ratio)));
        Model {
            skew,
            uniform: plans.iter().all(|p| p.uniform.is_some()),
            plans,
            unit_granules: unit / G64,
            dedup: DedupMap::new(cfg.dedup_ratio, total_units, mix64(keys.layout ^ 0xD3D0_D3D0)),
            versions: versions::Versions::new(cfg.dedup_ratio, total_units, mix64(keys.layout ^ 0x5E55_1045)),
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

    /// The byte map of compressible granules' random bytes (`None` at
    /// compress 1).
    pub fn skew(&self) -> Option<&Skew> {
        self.skew.as_ref()
    }

    /// Draws lane steps into `out` with the portable code, skewed where
    /// the granule has copies.
    #[inline(always)]
    fn draw_portable(&self, state: &mut LaneState, out: &mut [u8]) {
        lanes::generate(state, out);
        if let Some(skew) = &self.skew {
            skew.apply(out);
        }
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
    /// An all-random granule is the lanes' output itself. Otherwise the
    /// granule follows the plan that its lanes' first state word picks:
    /// `place_gaps` writes every gap from its slot of the lanes' output, then
    /// the copies are made, first to last, each from bytes already in place.
    /// Every random byte of a granule so comes from its own lanes at their
    /// vector speed.
    #[inline(always)]
    fn granule_body(
        &self,
        cid: u64,
        g: u64,
        out: &mut Granule,
        generate: impl Fn(&mut LaneState, &mut [u8]),
        place_gaps: impl Fn(&mut LaneState, &mut Granule, &Plan),
    ) {
        let mut state = self.lane_state(cid, g);
        let layout = self.layout;
        if layout.copies == 0 {
            generate(&mut state, out);
            return;
        }
        let plan = self.plan(&state);
        if let Some(uniform) = plan.uniform {
            uniform_blocks(&mut state, out, plan, uniform, generate);
            return;
        }
        place_gaps(&mut state, out, plan);
        for b in &plan.blocks {
            let (src, at, len) = (usize::from(b.src), usize::from(b.start + b.gap), usize::from(b.len));
            if b.overlap {
                // The copy repeats the `period` bytes before it. Made in
                // pieces that each read only bytes already written, twice as
                // long each time.
                let period = at - src;
                let mut done = 0;
                while done < len {
                    let n = if len - done <= period + done { len - done } else { (period + done) / period * period };
                    out.copy_within(src..src + n, at + done);
                    done += n;
                }
            } else if (32..=BLOCK).contains(&len) {
                // The usual copy: two 32-byte moves that overlap in the
                // middle, with none of `copy_short`'s slicing and branches
                // (a quarter of a granule's instructions at compress 4).
                // SAFETY: `Plan::new` checked `src + len <= at` (source and
                // copy do not overlap) and `at + len <= GRANULE`, and `out`
                // holds GRANULE bytes; `len` is 32 to 64, so both halves lie
                // inside the source and inside the copy.
                unsafe {
                    let p = out.as_mut_ptr();
                    let a = std::ptr::read_unaligned(p.add(src).cast::<[u8; 32]>());
                    let z = std::ptr::read_unaligned(p.add(src + len - 32).cast::<[u8; 32]>());
                    std::ptr::write_unaligned(p.add(at).cast::<[u8; 32]>(), a);
                    std::ptr::write_unaligned(p.add(at + len - 32).cast::<[u8; 32]>(), z);
                }
            } else {
                let (head, tail) = out.split_at_mut(at);
                copy_short(&mut tail[..len], &head[src..src + len]);
            }
        }
    }

    /// For a granule that the vector kernels write with
    /// [`uniform_stepped`]: its lanes' starting state, its uniform plan and
    /// its skew.
    #[inline(always)]
    fn uniform_plan(&self, cid: u64, g: u64) -> Option<(LaneState, &Plan, compress::Uniform, &Skew)> {
        let skew = self.skew.as_ref()?;
        if !self.uniform {
            return None;
        }
        let state = self.lane_state(cid, g);
        let plan = self.plan(&state);
        plan.uniform.map(|u| (state, plan, u, skew))
    }

    /// The plan a granule follows, picked by its lanes' starting state.
    #[inline(always)]
    fn plan(&self, state: &LaneState) -> &Plan {
        &self.plans[(state[0][0] >> 59) as usize % PLANS]
    }

    /// Writes granule `g` of content `cid` with the chosen kernel.
    #[inline]
    pub fn granule(&self, cid: u64, g: u64, out: &mut Granule) {
        match self.kernel {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a model holds `Kernel::Avx512` only from `Kernel::detect`
            // or `Model::with_kernel`, and both first check `runs_here`: the CPU
            // reported avx512f, avx512vl, avx512dq, avx512bw and avx2, the features
            // `granule_avx512` is compiled for.
            Kernel::Avx512 => unsafe { kernel::avx512::granule_avx512(self, cid, g, out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above; for `Kernel::Avx2`, `runs_here` checked avx2.
            Kernel::Avx2 => unsafe { kernel::avx2::granule_avx2(self, cid, g, out) },
            _ => self.granule_body(
                cid,
                g,
                out,
                |s, o| self.draw_portable(s, o),
                |s, o, plan| gaps_from_steps(s, o, plan, |s, o| self.draw_portable(s, o)),
            ),
        }
    }

    /// Content id of dedup unit `unit`.
    #[inline]
    pub fn content_id(&self, unit: u64) -> u64 {
        self.dedup.content_id(unit)
    }

    /// Content id of `version` of dedup unit `unit`: the stream's for
    /// version 0, a later write's from 1 on (see [`versions`]).
    #[inline]
    pub fn version_id(&self, unit: u64, version: u64) -> u64 {
        if version == 0 {
            self.dedup.content_id(unit)
        } else {
            self.versions.content_id(unit, version)
        }
    }

    /// The contents of later writes of this model's units.
    pub fn versions(&self) -> &versions::Versions {
        &self.versions
    }

    /// Granules per dedup unit.
    pub fn unit_granules(&self) -> u64 {
        self.unit_granules
    }

    /// Calls `f(cid, g, skip, pos, n)` for each granule that
    /// `[offset, offset + len)` touches: granule `g` of content `cid` (the
    /// content `cid_of` gives its unit), whose bytes `skip..skip + n` land at
    /// `pos..pos + n` of the caller's buffer. Stops when `f` returns false.
    #[inline(always)]
    fn for_each_granule(
        &self,
        offset: u64,
        len: usize,
        cid_of: impl Fn(u64) -> u64,
        mut f: impl FnMut(u64, u64, usize, usize, usize) -> bool,
    ) {
        if len == 0 {
            return;
        }
        let gidx = offset / G64;
        let mut skip = (offset % G64) as usize;
        let mut unit = gidx / self.unit_granules;
        let mut g = gidx % self.unit_granules;
        let mut cid = cid_of(unit);
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
                cid = cid_of(unit);
            }
        }
    }

    /// Fills `buf` with the bytes at `[offset, offset + buf.len())`. The caller
    /// has checked that the range is inside the stream.
    pub fn fill(&self, offset: u64, buf: &mut [u8]) {
        self.fill_units(offset, buf, |unit| self.dedup.content_id(unit));
    }

    /// Like [`Model::fill`], with the content of each dedup unit given by
    /// `cid_of(unit)` instead of the dedup map: how a later write of a unit
    /// gets new bytes (see [`versions`]).
    pub fn fill_units(&self, offset: u64, buf: &mut [u8], cid_of: impl Fn(u64) -> u64) {
        // A granule with copies whose plans are not uniform is laid out in a
        // scratch granule that stays in L1 and then copied whole: its many
        // small stores and the loads of its copies then touch only lines
        // already in L1, wherever `buf` is. Uniform plans write few enough
        // moves that the copy out costs more than it saves (`cargo bench
        // --bench throughput` at compress 2 shows the difference).
        // Part of a granule is laid out there too. The scratch is zeroed
        // only when first used: a fill of one whole granule (fio's 4 KiB
        // writes) never needs it, and zeroing it cost a 4 KiB memset a call.
        let mut scratch: Option<ScratchGranule> = None;
        let via_scratch = self.layout.copies > 0 && !self.uniform && buf.len() > GRANULE;
        self.for_each_granule(offset, buf.len(), cid_of, |cid, g, skip, pos, n| {
            let dst = &mut buf[pos..pos + n];
            match <&mut Granule>::try_from(&mut *dst) {
                Ok(whole) if !via_scratch => self.granule(cid, g, whole),
                _ => {
                    // Lazily: an eager argument would zero 4 KiB on every
                    // granule, which is what the scratch avoids.
                    #[allow(clippy::unnecessary_lazy_evaluations)]
                    let scratch = scratch.get_or_insert_with(|| ScratchGranule([0u8; GRANULE]));
                    self.granule(cid, g, &mut scratch.0);
                    dst.copy_from_slice(&scratch.0[skip..skip + n]);
                }
            }
            true
        });
    }

    /// Like [`Model::fill`], for buffers larger than the caches: each whole
    /// granule is generated in a scratch granule that stays in L1 and then
    /// written out with non-temporal stores, which do not read the
    /// destination's cache lines first, so one thread writes nearer memset's
    /// rate (the README's speed tables have the figures). The bytes are
    /// the same as `fill`'s; only where they sit afterwards (in memory, not
    /// in cache) differs.
    pub fn fill_streaming(&self, offset: u64, buf: &mut [u8]) {
        #[cfg(target_arch = "x86_64")]
        if (buf.as_ptr() as usize).is_multiple_of(16) {
            let mut tmp = ScratchGranule([0u8; GRANULE]);
            let cid_of = |unit| self.dedup.content_id(unit);
            self.for_each_granule(offset, buf.len(), cid_of, |cid, g, skip, pos, n| {
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
        self.first_mismatch_units(offset, buf, |unit| self.dedup.content_id(unit))
    }

    /// Like [`Model::first_mismatch`], against the contents `cid_of` gives
    /// each dedup unit (as [`Model::fill_units`] writes them).
    pub fn first_mismatch_units(&self, offset: u64, buf: &[u8], cid_of: impl Fn(u64) -> u64) -> Option<(u64, u8, u8)> {
        let mut found = None;
        let mut tmp = [0u8; GRANULE];
        self.for_each_granule(offset, buf.len(), cid_of, |cid, g, skip, pos, n| {
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

use compress::BLOCK;

/// One lane step, aligned for whole-vector stores and loads.
#[repr(align(64))]
struct StepBytes([u8; STEP_BYTES]);

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

/// Copies up to a few hundred bytes with inline fixed-size moves instead of
/// a call to memcpy, which costs more than the copy at these sizes: 64-byte
/// blocks (one AVX-512 move or two AVX2 moves) with the last one overlapping
/// the one before, and below 64 bytes two moves of a power of two that
/// overlap in the middle. `dst` and `src` do not overlap.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = dst.len();
    debug_assert_eq!(n, src.len());
    #[inline(always)]
    fn two<const W: usize>(dst: &mut [u8], src: &[u8]) {
        let n = dst.len();
        let a: [u8; W] = src[..W].try_into().unwrap();
        let b: [u8; W] = src[n - W..].try_into().unwrap();
        dst[..W].copy_from_slice(&a);
        dst[n - W..].copy_from_slice(&b);
    }
    if n < BLOCK {
        match n {
            32.. => two::<32>(dst, src),
            16.. => two::<16>(dst, src),
            8.. => two::<8>(dst, src),
            _ => dst.copy_from_slice(src),
        }
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

/// The random stream past the head of a [`compress::Uniform`] plan, and one
/// step more for the fixed-size moves that read past the last slot.
#[repr(C, align(64))]
struct UniformStream([u8; compress::UNIFORM_REST + STEP_BYTES]);
// A stream of at most UNIFORM_REST bytes and one step, rounded up to whole
// steps, then fits the buffer.
const _: () = assert!(compress::UNIFORM_REST.is_multiple_of(STEP_BYTES));

/// The blocks of a [`compress::Uniform`] plan that take whole moves: each
/// gap after the head is `GAP` bytes from its slot, each copy 64 bytes.
/// `step` is called once before each of the first `steps` blocks, and once
/// more for each step left after the last: it draws the next step of this
/// granule's stream, a chain of vector operations that then runs beside the
/// blocks' moves (loads and stores) instead of before them all.
///
/// # Safety
/// `out` points to a granule of `blocks`' plan whose head is drawn, and
/// `stream` to its stream after the head: drawn, or drawn by `step` ahead
/// of every slot a block reads. One step per block from the first keeps it
/// so: before block `j` moves its gap, `j + 1` steps are drawn, and its slot
/// ends at most `64 * j` bytes in, since each gap before it after the head
/// is at most one step long and the move reads one step. Nothing else reads
/// or writes either while this runs, and `step` writes neither `out` nor a
/// step of the stream already drawn.
#[inline(always)]
unsafe fn uniform_pass<const GAP: usize>(
    out: *mut u8,
    stream: *const u8,
    head: usize,
    blocks: &[compress::Block],
    steps: usize,
    mut step: impl FnMut(),
) {
    let ahead = steps.min(blocks.len());
    let block = |j: usize, b: &compress::Block| {
        let (start, src, at) = (usize::from(b.start), usize::from(b.src), usize::from(b.start + b.gap));
        // SAFETY: these blocks end their copy at least 64 bytes before the
        // granule's end (`Plan::uniform`), and `start <= at` and `src < at`
        // (`Plan::new`), so every store and the source's load lie inside the
        // granule; a slot after the head lies within `rest` bytes of the
        // stream, which holds one step more than those, all drawn (this
        // function's contract). The head (`j == 0`) was drawn into place.
        unsafe {
            if j > 0 {
                let from = stream.add(usize::from(b.slot) - head);
                if GAP == 8 {
                    let v = std::ptr::read_unaligned(from.cast::<u64>());
                    std::ptr::write_unaligned(out.add(start).cast::<u64>(), v);
                } else if GAP == 32 {
                    let v = std::ptr::read_unaligned(from.cast::<[u8; 32]>());
                    std::ptr::write_unaligned(out.add(start).cast::<[u8; 32]>(), v);
                } else {
                    move64(from, out.add(start));
                }
            }
            move64(out.add(src), out.add(at));
        }
    };
    for (j, b) in blocks[..ahead].iter().enumerate() {
        step();
        block(j, b);
    }
    for (j, b) in blocks.iter().enumerate().skip(ahead) {
        block(j, b);
    }
    for _ in ahead..steps {
        step();
    }
}

/// Moves 64 bytes as two 32-byte halves: a 64-byte move almost always
/// spans two cache lines, which costs more than two halves of which one
/// does (`cargo bench --bench granule` shows it).
///
/// # Safety
/// `src..src + 64` must be readable and `dst..dst + 64` writable, and the
/// two ranges are read wholly before either is written.
#[inline(always)]
unsafe fn move64(src: *const u8, dst: *mut u8) {
    // SAFETY: the caller's contract.
    unsafe {
        let a = std::ptr::read_unaligned(src.cast::<[u8; 32]>());
        let b = std::ptr::read_unaligned(src.add(32).cast::<[u8; 32]>());
        std::ptr::write_unaligned(dst.cast::<[u8; 32]>(), a);
        std::ptr::write_unaligned(dst.add(32).cast::<[u8; 32]>(), b);
    }
}

/// Writes a granule whose plan is [`compress::Uniform`] in one pass over its
/// blocks, each with the same two moves: its gap, 64 bytes from its slot of
/// the random stream, and its copy, 64 bytes from its source. A move writes
/// past the end of its gap or copy; the moves after it overwrite those
/// bytes, since each block starts where the one before ends, and a source
/// lies wholly before its copy, in bytes already final. No branch depends on
/// the plan, so a plan picked at random costs no mispredictions. The last
/// blocks, too close to the granule's end for whole moves, are written
/// exactly.
#[inline(always)]
fn uniform_blocks(
    state: &mut LaneState,
    out: &mut Granule,
    plan: &Plan,
    uniform: compress::Uniform,
    generate: impl Fn(&mut LaneState, &mut [u8]),
) {
    let head = usize::from(uniform.head_steps) * STEP_BYTES;
    generate(state, &mut out[..head]);
    let mut buf = std::mem::MaybeUninit::<UniformStream>::uninit();
    let drawn = uniform_stream_bytes(uniform);
    // SAFETY: `drawn` is at most the buffer's size (`Plan::uniform` keeps
    // `rest` within UNIFORM_REST); the slice over them is made once they are
    // zeroed, so it covers initialized memory only, and it ends before
    // `uniform_rest` reads the stream through the pointer.
    unsafe {
        let p = buf.as_mut_ptr().cast::<u8>();
        std::ptr::write_bytes(p, 0, drawn);
        generate(state, std::slice::from_raw_parts_mut(p, drawn));
        uniform_rest(out, p, plan, uniform, 0, || {});
    }
}

/// Bytes of a [`compress::Uniform`] plan's stream after its head, drawn
/// whole: its gaps' slots and a step more for the moves that read past the
/// last.
#[inline(always)]
fn uniform_stream_bytes(uniform: compress::Uniform) -> usize {
    (usize::from(uniform.rest) + STEP_BYTES).next_multiple_of(STEP_BYTES)
}

/// Writes every block of a [`compress::Uniform`] granule whose head is
/// drawn: [`uniform_pass`] with `steps` calls of `step` among its moves, then
/// the last blocks exactly.
///
/// # Safety
/// `stream` points to [`uniform_stream_bytes`] bytes: drawn, or drawn by
/// `step` as [`uniform_pass`] requires.
#[inline(always)]
unsafe fn uniform_rest(
    out: &mut Granule,
    stream: *const u8,
    plan: &Plan,
    uniform: compress::Uniform,
    steps: usize,
    step: impl FnMut(),
) {
    let head = usize::from(uniform.head_steps) * STEP_BYTES;
    let (whole, tail) = plan.blocks.split_at(usize::from(uniform.whole));
    let p = out.as_mut_ptr();
    // Every plan of a model has the same gaps in other orders, so this branch
    // goes the same way for all its granules.
    // SAFETY: the head is drawn, the stream as this function's contract
    // says; `out` is borrowed whole here, so nothing else touches it.
    unsafe {
        match uniform.gap_move {
            8 => uniform_pass::<8>(p, stream, head, whole, steps, step),
            32 => uniform_pass::<32>(p, stream, head, whole, steps, step),
            _ => uniform_pass::<64>(p, stream, head, whole, steps, step),
        }
    }
    // SAFETY: every step is drawn now (the pass made the calls left), so the
    // stream's bytes are initialized.
    let stream = unsafe { std::slice::from_raw_parts(stream, uniform_stream_bytes(uniform)) };
    for b in tail {
        let (start, gap, src, len) = (usize::from(b.start), usize::from(b.gap), usize::from(b.src), usize::from(b.len));
        let from = usize::from(b.slot).saturating_sub(head);
        if start > 0 {
            copy_short(&mut out[start..start + gap], &stream[from..from + gap]);
        }
        let (done, copy) = out.split_at_mut(start + gap);
        copy_short(&mut copy[..len], &done[src..src + len]);
    }
}

/// [`uniform_blocks`] with the lanes in vector registers, drawn a step at a
/// time by `step_to` (which writes one step to the 64 bytes it is given):
/// the stream after the head is drawn a step before each block instead of
/// all before the first, so that the vector units draw it while the blocks'
/// moves wait on the load and store ports (`cargo bench --bench granule`
/// gives each kernel's cost per granule).
///
/// # Safety
/// `step_to` writes exactly the 64 bytes it is given; `plan` is `uniform`.
#[inline(always)]
unsafe fn uniform_stepped(
    out: &mut Granule,
    plan: &Plan,
    uniform: compress::Uniform,
    mut step_to: impl FnMut(*mut u8),
) {
    let p = out.as_mut_ptr();
    for k in 0..usize::from(uniform.head_steps) {
        // The head's steps lie within the granule (`Plan::uniform`:
        // `head_steps` steps of the head's length, at most MAX_GAP).
        step_to(p.wrapping_add(k * STEP_BYTES));
    }
    let mut buf = std::mem::MaybeUninit::<UniformStream>::uninit();
    let mut to = buf.as_mut_ptr().cast::<u8>();
    let (sp, steps) = (to.cast_const(), uniform_stream_bytes(uniform) / STEP_BYTES);
    // SAFETY: `steps` steps fill `uniform_stream_bytes` bytes, within the
    // buffer, one step per call, as `uniform_rest` requires.
    unsafe {
        uniform_rest(out, sp, plan, uniform, steps, || {
            step_to(to);
            to = to.add(STEP_BYTES);
        });
    }
}

/// Puts every gap in place: its slot of the random stream, drawn a lane
/// step at a time into a small buffer as the slots reach it. A slot of 16 or
/// 32 bytes is written whole at the gap (one fixed-size move whatever the
/// gap's length): what lies past the gap is overwritten by the gaps and
/// copies after it.
#[inline(always)]
fn gaps_from_steps(
    state: &mut LaneState,
    out: &mut Granule,
    plan: &Plan,
    generate: impl Fn(&mut LaneState, &mut [u8]),
) {
    let mut step = StepBytes([0u8; STEP_BYTES]);
    let mut next = 0usize;
    for b in &plan.blocks {
        let (slot, width, start, gap) =
            (usize::from(b.slot), usize::from(b.width), usize::from(b.start), usize::from(b.gap));
        if width <= 32 && b.whole {
            if slot >= next {
                generate(state, &mut step.0);
                next += STEP_BYTES;
            }
            let at = slot % STEP_BYTES;
            if width == 16 {
                let v: [u8; 16] = step.0[at..at + 16].try_into().unwrap();
                out[start..start + 16].copy_from_slice(&v);
            } else {
                let v: [u8; 32] = step.0[at..at + 32].try_into().unwrap();
                out[start..start + 32].copy_from_slice(&v);
            }
        } else {
            // A long gap (the head, or any gap of a nearly incompressible
            // granule), or a slot that would pass the granule's end: whole
            // steps while they fit in the granule, then the rest exactly.
            let mut done = 0;
            while done < gap {
                let dst = start + done;
                if slot + done == next {
                    // Steps not drawn yet go straight to their place, as many
                    // at once as fit in the gap (the last may run past it)
                    // and in the granule.
                    let whole = (gap - done).div_ceil(STEP_BYTES).min((GRANULE - dst) / STEP_BYTES);
                    if whole > 0 {
                        generate(state, &mut out[dst..dst + whole * STEP_BYTES]);
                        next += whole * STEP_BYTES;
                        done += whole * STEP_BYTES;
                        continue;
                    }
                }
                while slot + done >= next {
                    generate(state, &mut step.0);
                    next += STEP_BYTES;
                }
                let at = (slot + done) % STEP_BYTES;
                {
                    let n = (STEP_BYTES - at).min(gap - done);
                    out[dst..dst + n].copy_from_slice(&step.0[at..at + n]);
                    done += n;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A granule as the plans define it, written the plain way: the lanes'
    /// stream drawn whole, each gap's bytes from its slot, then each copy
    /// byte by byte, first to last (a copy that overlaps its source repeats
    /// it).
    fn granule_by_definition(m: &Model, cid: u64, g: u64) -> Vec<u8> {
        let mut state = m.lane_state(cid, g);
        let mut stream = vec![0u8; 4 * GRANULE];
        let plan = m.plan(&state);
        lanes::generate(&mut state, &mut stream);
        if m.layout.copies == 0 {
            return stream[..GRANULE].to_vec();
        }
        // The random stream of a granule with copies is skewed byte by byte.
        for b in &mut stream {
            *b = m.skew.as_ref().unwrap().map(*b);
        }
        let mut out = vec![0u8; GRANULE];
        for b in &plan.blocks {
            let (slot, start, gap) = (usize::from(b.slot), usize::from(b.start), usize::from(b.gap));
            out[start..start + gap].copy_from_slice(&stream[slot..slot + gap]);
        }
        for b in &plan.blocks {
            let (src, at) = (usize::from(b.src), usize::from(b.start + b.gap));
            for i in 0..usize::from(b.len) {
                out[at + i] = out[src + i];
            }
        }
        out
    }

    #[test]
    fn every_writer_gives_the_granules_the_plans_define() {
        let mut uniform = 0;
        let mut gap_moves = std::collections::BTreeSet::new();
        for c in crate::Compressor::ALL {
            for ratio in [1.0, 1.001, 1.3, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0, 12.0, 17.3, 31.9] {
                let cfg = crate::Config { compress_ratio: ratio, compressor: c, ..crate::Config::default() };
                if cfg.validate().is_err() {
                    continue;
                }
                let base = Model::new(&cfg, 77);
                uniform += base.plans.iter().filter(|p| p.uniform.is_some()).count();
                gap_moves.extend(base.plans.iter().filter_map(|p| p.uniform.map(|u| u.gap_move)));
                for k in Kernel::available() {
                    let m = base.clone().with_kernel(k);
                    let mut out = [0u8; GRANULE];
                    // Enough granules that every plan is picked.
                    for cid in 0..256u64 {
                        m.granule(cid, cid % 3, &mut out);
                        assert!(
                            out[..] == granule_by_definition(&m, cid, cid % 3)[..],
                            "{c} ratio {ratio} {k:?} granule {cid}"
                        );
                    }
                }
            }
        }
        assert!(uniform > 0, "some plans take the uniform writer");
        assert_eq!(gap_moves.into_iter().collect::<Vec<_>>(), [8, 32, 64], "every gap move is tested");
    }

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
