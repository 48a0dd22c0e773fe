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

use compress::BLOCK;
use compress::{Layout, Plan};
use dedup::DedupMap;
use hash::{mix64, SplitMix};
use kernel::blocks::{copy_short, uniform_blocks, ScratchGranule};
#[cfg(target_arch = "x86_64")]
use kernel::blocks::{stream_lines, StreamScratch, LINE};
use lanes::{LaneState, LANES};
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
            _ => kernel::portable::granule_portable(self, cid, g, out),
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
    /// written out a cache line at a time with non-temporal stores, which do
    /// not read the destination's lines first, so one thread writes nearer
    /// memset's rate (the README's speed tables have the figures). The
    /// bytes are the same as `fill`'s; only where they sit afterwards (in
    /// memory, not in cache) differs.
    ///
    /// Whole granules lie `m` bytes past a line boundary, the same `m` for
    /// all of them. Each one's last `m` bytes wait for the next granule's
    /// first line, which the scratch's carry joins to them; they are stored
    /// plainly when the next piece is not a whole granule, as are the head
    /// of the first whole granule and every part of a granule.
    pub fn fill_streaming(&self, offset: u64, buf: &mut [u8]) {
        #[cfg(target_arch = "x86_64")]
        {
            let mut s = StreamScratch::new();
            let base = buf.as_mut_ptr() as usize;
            // Whether the whole granule just written has its tail (its last
            // `m` bytes) still to write.
            let mut tail_due = false;
            // Writes, from the scratch, the tail of the whole granule that
            // ends at `end`.
            let write_tail = |buf: &mut [u8], s: &StreamScratch, end: usize| {
                let m = (base + end) % LINE;
                buf[end - m..end].copy_from_slice(&s.0[LINE + GRANULE - m..]);
            };
            let cid_of = |unit| self.dedup.content_id(unit);
            self.for_each_granule(offset, buf.len(), cid_of, |cid, g, skip, pos, n| {
                let m = (base + pos) % LINE;
                if n < GRANULE {
                    if std::mem::take(&mut tail_due) {
                        write_tail(buf, &s, pos);
                    }
                    self.granule(cid, g, s.granule());
                    buf[pos..pos + n].copy_from_slice(&s.0[LINE + skip..LINE + skip + n]);
                    return true;
                }
                // The granule just before this one was whole: its tail
                // (`m` bytes before `pos`) joins this one's first line.
                let joined = std::mem::take(&mut tail_due);
                if joined {
                    s.carry();
                }
                self.granule(cid, g, s.granule());
                let start = if joined || m == 0 {
                    pos - m
                } else {
                    buf[pos..pos + LINE - m].copy_from_slice(&s.0[LINE..2 * LINE - m]);
                    pos + LINE - m
                };
                let lines = (pos + GRANULE - m - start) / LINE;
                // SAFETY: `start` is a line boundary of memory (`base + start`
                // is `base + pos - m` or a line past it), and the `lines`
                // lines from it end at `pos + GRANULE - m`, inside `buf`;
                // they begin at `pos - m` only when `m` is 0 or the granule
                // before this one, at `pos - GRANULE`, is in `buf` too. Their
                // bytes are the scratch's from `LINE + start - pos`, which is
                // at least `LINE - m > 0`, through `LINE + GRANULE - m`,
                // inside its `LINE + GRANULE` bytes. The model's kernel runs
                // on this CPU (`Model::with_kernel`, `Kernel::detect`).
                unsafe {
                    let dst = buf.as_mut_ptr().add(start);
                    stream_lines(self.kernel, dst, s.0.as_ptr().add(LINE + start - pos), lines);
                }
                tail_due = m > 0;
                true
            });
            // A tail still due is the last granule's, which ends the buffer.
            if tail_due {
                write_tail(buf, &s, buf.len());
            }
            // SAFETY: `_mm_sfence` is SSE, part of every x86_64 CPU. It makes
            // the non-temporal stores above visible before any later store of
            // this thread, such as the one that tells a waiting thread this
            // piece is done.
            unsafe { std::arch::x86_64::_mm_sfence() };
        }
        #[cfg(not(target_arch = "x86_64"))]
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
        // A backing store aligned to 64, so `shift` sets the buffer's place
        // in a cache line; the bytes around the buffer must stay as they were.
        let mut backing = vec![ScratchGranule([0u8; GRANULE]); 8];
        // SAFETY: `ScratchGranule` wraps a 4096-byte array with alignment 64,
        // so it has no padding: the vector holds 8 * 4096 initialized,
        // contiguous bytes, borrowed mutably while `bytes` lives.
        let bytes = unsafe { std::slice::from_raw_parts_mut(backing.as_mut_ptr().cast::<u8>(), 8 * GRANULE) };
        for kernel in Kernel::available() {
            let model = Model::new(&cfg, 42).with_kernel(kernel);
            for len in [5 * GRANULE + 123, 4 * GRANULE, GRANULE, 100] {
                for shift in [0usize, 1, 8, 16, 17, 32, 48, 63, 64] {
                    for offset in [0u64, 1, 4095, 4096 * 3 + 17, (1 << 40) + 9] {
                        let mut want = vec![0u8; len];
                        model.fill(offset, &mut want);
                        bytes.fill(0xAA);
                        model.fill_streaming(offset, &mut bytes[shift..shift + len]);
                        let at = format!("{kernel:?}, len {len}, shift {shift}, offset {offset}");
                        assert!(
                            bytes[shift..shift + len] == want[..],
                            "{at}: first differs at {:?}",
                            (0..len).find(|&i| bytes[shift + i] != want[i])
                        );
                        assert!(bytes[..shift].iter().all(|&b| b == 0xAA), "{at}: a byte before the buffer");
                        assert!(bytes[shift + len..].iter().all(|&b| b == 0xAA), "{at}: a byte after the buffer");
                    }
                }
            }
        }
    }
}
