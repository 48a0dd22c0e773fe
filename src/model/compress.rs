//! The compressible layout of a granule, and how it is sized for a ratio.
//!
//! A granule is a run of *blocks*: a few random *gap* bytes, then a *copy* of
//! earlier bytes of the same granule. The first gap (the head) starts the
//! granule and the last copy ends it. Compressible bytes are so spread through
//! the whole granule, and no random stretch is long enough for the skip
//! heuristics of snappy, LZO or lz4 (which step faster and faster over bytes
//! that do not match) to jump over the next copy.
//!
//! Every copy starts its source at the first byte of an earlier gap. That byte
//! follows a copy, which every hash-based compressor has just matched; all of
//! them look at each of the next 32 bytes and enter it in their tables, so the
//! copy is found wherever their (possibly long) steps land in it. Sources lie
//! at most 1023 bytes back (LZJB's reach; every other format reaches further),
//! so the longest gap is kept below that. Copies are at most 64 bytes in the
//! default layout, which snappy and LZJB (64 and 66 at most) encode whole as
//! one match, as every other format does.
//!
//! What one copy costs differs between formats (about 2 bytes for zstd and
//! deflate, 4 for lz4, snappy and LZO, 2.1 for LZJB, whose literals cost 9
//! bits), so one layout cannot give every compressor the same ratio to the
//! last percent. [`Costs`] holds a format's figures; the default
//! ([`Compressor::Auto`]) uses the middle of the family, and a named
//! compressor uses its own, measured with
//! `cargo test --release --test calibrate -- --ignored --nocapture`.
//! Nothing is ever zero-filled.

use super::GRANULE;
use crate::config::Compressor;

/// Random bytes every granule keeps, whatever the ratio: enough that no two
/// granules are ever equal by accident.
pub const MIN_RANDOM_BYTES: u32 = 32;
/// Most copies a granule can have: 64 copies of snappy's and the default
/// layout's 64 bytes fill it.
pub const MAX_COPIES: usize = 64;
/// Farthest a copy's source may lie back: LZJB's largest offset.
pub const NEAR: u32 = 1023;
/// Longest gap: short enough that every copy has a source within [`NEAR`]
/// bytes (its own gap's first byte), with room for the copy's own length.
pub const MAX_GAP: u32 = 960;
/// Bytes back from which a copy's source is taken as written to the cache
/// (see [`Plan::new`]): copies from nearer sources wait on the stores that
/// wrote them and cost about twice as much (`cargo bench --bench granule`).
pub const SETTLED: u32 = 512;
/// Gaps this long or longer cost lz4 a byte more (its token holds up to 14).
pub const LONG_RUN: u32 = 15;
/// Longest copy of the default layout: snappy's longest copy, and within
/// LZJB's 66.
pub const AUTO_COPY: u32 = 64;

/// What a compressor's output costs, as the layout solver sees it: output
/// bytes = `literal` x random bytes + `copy` x copies + `per_len` x copied
/// bytes + `run` x gaps that hold at least one byte + `granule`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Costs {
    /// Output bytes per random byte (LZJB: 1.125, a copy-map bit per literal).
    pub literal: f64,
    /// Output bytes per copy (offset, length and tags).
    pub copy: f64,
    /// Output bytes per copied byte: formats that write a long match's
    /// length a byte at a time (lz4, LZO: one byte per 255).
    pub per_len: f64,
    /// Output bytes per gap of [`LONG_RUN`] bytes or more, beyond `run`:
    /// lz4 spends a byte on such a run's length.
    pub long_run: f64,
    /// Output bytes per run of literals (a literal tag, where the format has
    /// one apart from its copies).
    pub run: f64,
    /// Output bytes per granule beyond its literals and copies: frame headers
    /// and entropy tables shared out over a chunk's granules.
    pub granule: f64,
    /// Longest copy the format encodes as one match.
    pub max_copy: u32,
    /// Farthest back a copy's source may lie.
    pub max_distance: u32,
    /// Highest ratio the figures are calibrated for, below what the layout
    /// can reach where the format behaves otherwise near its limit.
    pub max_ratio: f64,
    /// Gaps after the head hold a few bytes each; without it they are empty
    /// while the head can hold every random byte (snappy spends a byte on
    /// every run of literals, however short).
    pub short_gaps: bool,
    /// The format entropy-codes its literals (zstd, deflate): a random byte
    /// costs `literal` x its entropy / 8 bits ([`super::skew`]) instead of
    /// `literal`.
    pub entropy_coded: bool,
    /// The layout is solved for the geometric mean of this format's output
    /// and `with`'s (the default layout: zstd-1 and lz4, the two families
    /// that differ in how they pay for literals and copies).
    pub with: Option<&'static Costs>,
}

/// zstd-1's costs on the default layout (copies of at most 64 bytes at
/// most 1023 bytes back), fitted with `COMPRESSOR=auto CODEC=zstd-1 cargo
/// test --release --test calibrate fit -- --ignored --nocapture`.
const AUTO_ZSTD: Costs = Costs {
    literal: 1.0,
    copy: 1.1,
    per_len: 0.0,
    long_run: 0.0,
    run: 0.0,
    granule: 55.0,
    max_copy: AUTO_COPY,
    max_distance: NEAR,
    max_ratio: crate::config::MAX_COMPRESS_RATIO,
    short_gaps: true,
    entropy_coded: true,
    with: None,
};

/// lz4's costs on the default layout, fitted as [`AUTO_ZSTD`]'s: a copy of
/// more than 18 bytes takes a length byte beside its token and offset, and
/// a run of [`LONG_RUN`] literals or more another.
const AUTO_LZ4: Costs = Costs {
    literal: 1.0,
    copy: 3.25,
    per_len: 0.0,
    long_run: 0.0,
    run: 0.0,
    granule: 50.0,
    max_copy: AUTO_COPY,
    max_distance: NEAR,
    max_ratio: crate::config::MAX_COMPRESS_RATIO,
    short_gaps: true,
    entropy_coded: false,
    with: Some(&AUTO_ZSTD),
};

impl Costs {
    /// The figures the layout for `compressor` is solved with.
    pub fn of(compressor: Compressor) -> Costs {
        // Formats that reach at most 1023 bytes back (LZJB, and the default
        // layout that LZJB must find) and those that reach the whole granule.
        let costs = |literal, copy, run, granule, max_copy, max_distance| Costs {
            literal,
            copy,
            per_len: 0.0,
            long_run: 0.0,
            run,
            granule,
            max_copy,
            max_distance,
            max_ratio: crate::config::MAX_COMPRESS_RATIO,
            short_gaps: true,
            entropy_coded: false,
            with: None,
        };
        let near = |literal, copy, run, granule, max_copy| costs(literal, copy, run, granule, max_copy, NEAR);
        let far =
            |literal, copy, run, granule, max_copy| costs(literal, copy, run, granule, max_copy, GRANULE as u32 - 1);
        match compressor {
            // The geometric mean of an entropy-coded format (zstd, deflate,
            // brotli, LZMA: about 2 bytes a copy, literals at their
            // entropy) and a byte-aligned one (lz4, snappy, LZO: about 4,
            // and 5 after a long run of literals, a byte per literal).
            Compressor::Auto => AUTO_LZ4,
            Compressor::Zstd => Costs { entropy_coded: true, ..far(1.0, 5.8, 0.0, 7.0, 1024) },
            Compressor::Lz4 => Costs { per_len: 1.0 / 255.0, ..far(1.0, 3.0, 0.0, 15.0, 1024) },
            Compressor::Gzip => Costs { entropy_coded: true, ..far(1.01, -1.5, 0.0, 82.0, 258) },
            Compressor::Snappy => Costs { short_gaps: false, ..near(1.025, 3.0, 1.0, 1.0, 64) },
            Compressor::Lzo => Costs { per_len: 1.0 / 255.0, ..far(1.023, 4.0, 0.5, 6.0, 1024) },
            // Past 16:1 LZJB's 1024-slot table loses more copies than the
            // figures foresee, whatever the chunk size.
            Compressor::Lzjb => Costs { max_ratio: 16.0, ..near(1.125, 2.125, 0.0, 14.0, 66) },
        }
    }

    /// Output bytes of a granule of `copies` copies and `runs` runs of
    /// literals (`long` of them [`LONG_RUN`] or longer) whose literals hold
    /// `bits` of entropy a byte, as `(a, b)`: `a + b` x random bytes.
    fn output(&self, bits: f64, copies: f64, runs: f64, long: f64) -> (f64, f64) {
        let g = GRANULE as f64;
        let literal = if self.entropy_coded { self.literal * bits / 8.0 } else { self.literal };
        (
            self.copy * copies + self.run * runs + self.long_run * long + self.per_len * g + self.granule,
            literal - self.per_len,
        )
    }

    /// The highest ratio a layout solved with these figures reaches (to a
    /// hundredth): the copies as long and as many as they may be, with at
    /// least [`MIN_RANDOM_BYTES`] random bytes.
    pub fn ceiling(&self) -> f64 {
        if Layout::solve(self.max_ratio, self).is_some() {
            return self.max_ratio;
        }
        let (mut ok, mut too_high) = (1.0f64, self.max_ratio);
        while too_high - ok > 0.005 {
            let mid = (ok + too_high) / 2.0;
            if Layout::solve(mid, self).is_some() {
                ok = mid;
            } else {
                too_high = mid;
            }
        }
        (ok * 100.0).floor() / 100.0
    }
}

/// How one granule is split into random bytes and copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Random bytes: the head and every gap.
    pub random: u32,
    /// Number of blocks (gap + copy); 0 means the granule is all random.
    pub copies: u32,
    /// Length of the longest copy. Copy lengths spread evenly from
    /// `2 * mean - max_len` to `max_len` (mean: copied bytes / copies), so
    /// that entropy coders pay for lengths as they do on real data.
    pub max_len: u32,
    /// Farthest back a source may lie.
    pub max_distance: u32,
    /// Whether gaps after the head hold a few bytes each (see
    /// [`Costs::short_gaps`]).
    pub short_gaps: bool,
}

impl Layout {
    /// All random: a granule that no compressor shrinks.
    pub const RANDOM: Layout =
        Layout { random: GRANULE as u32, copies: 0, max_len: 0, max_distance: 0, short_gaps: true };

    /// The layout that makes a granule compress by `ratio` for `compressor`,
    /// or `Err(ceiling)` when the format cannot reach that ratio.
    pub fn for_ratio(ratio: f64, compressor: Compressor) -> Result<Layout, f64> {
        let costs = Costs::of(compressor);
        match Layout::solve(ratio, &costs) {
            Some(l) => Ok(l),
            // The default layout keeps every format's copies whole while it
            // can; past that (ratios that snappy and LZJB cannot reach at
            // all) it lengthens its copies as deflate's 258-byte matches allow.
            None if compressor == Compressor::Auto => {
                Layout::solve(ratio, &Costs { max_copy: 258, ..costs }).ok_or_else(|| costs.ceiling())
            }
            None => Err(costs.ceiling()),
        }
    }

    /// The layout whose output, by `costs`, is `GRANULE / ratio`: the fewest
    /// copies (each copy costs some output whatever its length) whose length
    /// and gaps stay within bounds. `None` when even the longest copies leave
    /// fewer than [`MIN_RANDOM_BYTES`] random bytes.
    pub fn solve(ratio: f64, costs: &Costs) -> Option<Layout> {
        if ratio <= 1.0 {
            return Some(Layout::RANDOM);
        }
        if ratio > costs.max_ratio {
            return None;
        }
        let g = GRANULE as f64;
        let target = g / ratio;
        let bits = super::skew::Skew::for_ratio(ratio).map_or(8.0, |s| s.bits());
        let runs_matter = |c: &Costs| c.run != 0.0 || c.long_run != 0.0;
        let mut fallback: Option<Layout> = None;
        for n in 1..=MAX_COPIES as u32 {
            let nf = f64::from(n);
            let (mut runs, mut long) = (0.0, 0.0);
            let mut found = None;
            for _ in 0..3 {
                // Output bytes as a + b x random bytes, for each format.
                let (a, b) = costs.output(bits, nf, runs, long);
                let random = match costs.with {
                    None => (target - a) / b,
                    Some(other) => {
                        // (a + b r)(c + d r) = target^2, the larger root.
                        let (c, d) = other.output(bits, nf, runs, long);
                        let (qa, qb, qc) = (b * d, a * d + b * c, a * c - target * target);
                        (-qb + (qb * qb - 4.0 * qa * qc).max(0.0).sqrt()) / (2.0 * qa)
                    }
                }
                .round();
                if random < f64::from(MIN_RANDOM_BYTES) {
                    return None;
                }
                let random = random.min(g - nf * 8.0) as u32;
                let body = GRANULE as u32 - random;
                if body.div_ceil(n) > costs.max_copy || random / n > MAX_GAP * 2 / 3 {
                    found = None;
                    break;
                }
                // Lengths spread over an eighth of the longest copy below it.
                let mean = body.div_ceil(n);
                let max_len = costs.max_copy.min(mean + costs.max_copy / 8).min(2 * mean - 4).max(mean);
                let layout = Layout {
                    random,
                    copies: n,
                    max_len,
                    max_distance: costs.max_distance,
                    short_gaps: costs.short_gaps,
                };
                found = Some(layout);
                if !runs_matter(costs) && !costs.with.is_some_and(runs_matter) {
                    break;
                }
                // Literal runs are counted on the gaps of the layout found
                // without them, and the random bytes solved again.
                let gaps = Plan::gap_lengths(&layout);
                runs = gaps.iter().filter(|&&gap| gap > 0).count() as f64;
                long = gaps.iter().filter(|&&gap| gap >= LONG_RUN).count() as f64;
            }
            let Some(layout) = found else { continue };
            // The default layout takes up to 16 more, shorter copies where
            // that keeps every gap after the head within one 64-byte move,
            // the shape of the uniform writer (no branch that depends on the
            // plan): its skewed random bytes cost zstd less, so it holds more
            // of them than the byte-aligned formats alone would want.
            let fits = |l: &Layout| Plan::gap_lengths(l)[1..].iter().all(|&g| g as usize <= BLOCK);
            if costs.with.is_none() || fits(&layout) {
                return Some(layout);
            }
            let first = *fallback.get_or_insert(layout);
            if n >= first.copies + 16 {
                return Some(first);
            }
        }
        fallback
    }

    /// Bytes of all copies.
    pub fn copied(&self) -> u32 {
        GRANULE as u32 - self.random
    }

    /// Copy lengths before shuffling: spread evenly from `2 * mean -
    /// max_len` to `max_len`, summing to [`Layout::copied`].
    pub fn copy_lengths(&self) -> Vec<u32> {
        spread(self.copied(), self.copies as usize, self.max_len)
    }
}

/// `n` whole numbers that sum to `total`, spread evenly from `2 * mean -
/// hi` to `hi` (all equal to the mean when `hi` is below it), smallest first.
fn spread(total: u32, n: usize, hi: u32) -> Vec<u32> {
    if n == 0 {
        return Vec::new();
    }
    let mean = f64::from(total) / n as f64;
    let half = (f64::from(hi) - mean).clamp(0.0, mean);
    let mut out = Vec::with_capacity(n);
    let mut given = 0u32;
    for i in 0..n {
        // Cumulative rounding keeps the sum exact: the first i + 1 values
        // sum to (i + 1) * (mean - half) + half * (i + 1)^2 / n.
        let k = (i + 1) as f64;
        let upto = ((k * (mean - half) + half * k * k / n as f64).round() as u32).min(total);
        out.push(upto - given);
        given = upto;
    }
    *out.last_mut().unwrap() += total - given;
    out
}

/// A granule's blocks in one of a model's orders: where each gap and copy
/// goes and where each copy's source is. A model builds a few dozen plans
/// from one layout, each with its own order of gap and copy lengths and its
/// own choice of sources, and each granule follows one of them; so distances
/// back to sources vary within and across granules, while a granule's writer
/// only follows a list.
///
/// Every offset is checked against the granule when the plan is built
/// ([`Plan::new`] panics otherwise), which the granule writer relies on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The blocks, in granule order.
    pub(crate) blocks: Vec<Block>,
    /// Set when every block has the shape the granule writer's fixed-size
    /// path takes (see [`Uniform`]).
    pub(crate) uniform: Option<Uniform>,
}

/// What the granule writer needs for a plan whose blocks all take the same
/// fixed-size moves, so that it runs the same instructions for every block
/// and no branch depends on the plan (a granule picks its plan at random, so
/// branches that did would be mispredicted): the head is the first gap,
/// every other gap and every copy is at most [`BLOCK`] bytes, no copy
/// overlaps its source, and the gaps after the head fit a small buffer.
///
/// Such a plan packs its gaps' slots one after another in the random stream
/// (the head's steps first, drawn into place), so that the lanes draw hardly
/// more random bytes than the granule keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Uniform {
    /// Lane steps drawn straight into the head.
    pub head_steps: u16,
    /// Random bytes of the gaps after the head, drawn into a buffer after
    /// the head's steps.
    pub rest: u16,
    /// Blocks whose copy ends at least [`BLOCK`] bytes before the granule's
    /// end, so that both of the block's moves may write a whole [`BLOCK`]
    /// (all blocks but the last one or two).
    pub whole: u16,
    /// The move that writes every gap after the head: 8, 32 or 64 bytes,
    /// the smallest that holds the longest of them.
    pub gap_move: u8,
}

/// Most bytes of the random stream past the head that a [`Uniform`] plan
/// draws into the writer's buffer.
pub(crate) const UNIFORM_REST: usize = 3072;

/// One gap and the copy after it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Block {
    /// Offset in the granule's random stream (its lanes' steps, one after
    /// another) of the gap's slot, whose first `gap` bytes are the gap. In a
    /// [`Uniform`] plan the slots after the head follow one another;
    /// otherwise each is aligned to its `width`.
    pub slot: u16,
    /// The slot's size outside [`Uniform`] plans: 16 or 32 bytes (aligned
    /// to its size, so within one lane step) for gaps that short, else whole
    /// steps.
    pub width: u16,
    /// Granule offset of the gap.
    pub start: u16,
    /// Random bytes before the copy, which starts at `start + gap`.
    pub gap: u16,
    /// Bytes copied.
    pub len: u16,
    /// Granule offset of the copy's source: the first byte of an earlier gap.
    pub src: u16,
    /// The whole slot may be written at `start` (it fits in the granule);
    /// what lies past the gap is overwritten by the gaps and copies after it.
    pub whole: bool,
    /// The copy overlaps its source (a copy near the start of a granule
    /// with fewer random bytes than one copy): it repeats the bytes between
    /// `src` and itself. Otherwise `src + len` is at most the copy's start.
    pub overlap: bool,
}

/// Bytes the granule writer moves at once: one AVX-512 register.
pub(crate) const BLOCK: usize = 64;

impl Plan {
    /// Lays out `layout` with gap lengths in the order `gaps` (one per copy,
    /// the head first, summing to `layout.random`) and copy lengths in the
    /// order `lens` (summing to the rest of the granule); `pick` chooses each
    /// copy's source among its candidates (`pick(n)` is in `0..n`).
    ///
    /// # Panics
    /// When the lengths do not fill the granule exactly, or break a bound the
    /// granule writer relies on.
    pub fn new(layout: &Layout, gaps: &[u32], lens: &[u32], mut pick: impl FnMut(usize) -> usize) -> Plan {
        let n = layout.copies as usize;
        assert!(n <= MAX_COPIES && gaps.len() == n && lens.len() == n);
        if n == 0 {
            return Plan::default();
        }
        assert_eq!(gaps.iter().sum::<u32>(), layout.random);
        assert_eq!(gaps.iter().chain(lens).sum::<u32>(), GRANULE as u32);
        let mut blocks: Vec<Block> = Vec::with_capacity(n);
        let mut gap_starts: Vec<u32> = Vec::with_capacity(n);
        let mut at = 0u32;
        let mut stream = 0u32;
        let mut prev_end = u32::MAX;
        for (j, (&gap, &len)) in gaps.iter().zip(lens).enumerate() {
            let start = at;
            gap_starts.push(start);
            at += gap;
            // Sources: gap starts at least `len` back (no copy overlaps its
            // own source) and at most `max_distance` back; with no gap
            // before the copy, not the one that continues the previous
            // copy's source (the two would make one longer match).
            let all: Vec<usize> = (0..=j)
                .filter(|&k| {
                    let d = at - gap_starts[k];
                    d >= len && d <= layout.max_distance && !(gap == 0 && gap_starts[k] == prev_end)
                })
                .collect();
            // Sources the writer reads without waiting: a copy that reads
            // bytes written a moment before waits for those stores to reach
            // the cache. A source that lies within a gap (all gaps are in
            // place before the first copy is made), or far enough back, was
            // written well before; the others are used only when there is
            // nothing else.
            let settled: Vec<usize> =
                all.iter().copied().filter(|&k| gaps[k] >= len || at - gap_starts[k] >= SETTLED).collect();
            let chosen = if settled.is_empty() { &all } else { &settled };
            // Without a candidate (a copy near the start of a granule whose
            // random bytes are fewer than one copy), the copy repeats the
            // head, overlapping itself.
            let overlap = chosen.is_empty();
            let src = if overlap { 0 } else { gap_starts[chosen[pick(chosen.len())]] };
            // Slots in stream order, each aligned to its size: a gap of up to
            // 16 or 32 bytes (an empty one too, so that a run of short gaps
            // takes one branch) stays within one lane step.
            let width = match gap {
                0..=16 => 16,
                17..=32 => 32,
                _ => gap.next_multiple_of(BLOCK as u32),
            };
            let slot = stream.next_multiple_of(width.min(BLOCK as u32));
            stream = slot + width;
            // What the granule writer relies on.
            assert!(len >= 1 && at + len <= GRANULE as u32);
            assert!(if overlap { at > 0 && src < at } else { src + len <= at });
            blocks.push(Block {
                slot: slot as u16,
                width: width as u16,
                start: start as u16,
                gap: gap as u16,
                len: len as u16,
                src: src as u16,
                whole: start + width <= GRANULE as u32,
                overlap,
            });
            prev_end = src + len;
            at += len;
        }
        assert_eq!(at as usize, GRANULE);
        let uniform = Plan::uniform(&mut blocks);
        Plan { blocks, uniform }
    }

    /// Makes `blocks` a [`Uniform`] plan when they have its shape: their
    /// slots are packed one after another after the head's steps.
    fn uniform(blocks: &mut [Block]) -> Option<Uniform> {
        let step = BLOCK as u32;
        let head = blocks.first()?;
        let head_steps = u32::from(head.gap).div_ceil(step);
        let shaped = blocks.len() >= 2
            && head.start == 0
            && head_steps >= 1
            && blocks.iter().all(|b| !b.overlap && usize::from(b.len) <= BLOCK)
            && blocks[1..].iter().all(|b| usize::from(b.gap) <= BLOCK);
        let rest: u32 = blocks[1..].iter().map(|b| u32::from(b.gap)).sum();
        if !shaped || rest as usize > UNIFORM_REST {
            return None;
        }
        let mut slot = head_steps * step;
        blocks[0].slot = 0;
        for b in &mut blocks[1..] {
            b.slot = slot as u16;
            slot += u32::from(b.gap);
        }
        let whole = blocks.iter().filter(|b| usize::from(b.start + b.gap) + BLOCK <= GRANULE).count();
        let gap_move = match blocks[1..].iter().map(|b| b.gap).max().unwrap_or(0) {
            0..=8 => 8,
            9..=32 => 32,
            _ => 64,
        };
        Some(Uniform { head_steps: head_steps as u16, rest: rest as u16, whole: whole as u16, gap_move })
    }

    /// Gap lengths for `layout` before shuffling, the head first. The head
    /// takes as many random bytes as it may (up to [`MAX_GAP`]), so that the
    /// other gaps are as short as they can be: under 4 bytes LZO encodes a
    /// literal run inside the copy before it, under 15 lz4 inside its token.
    /// The other gaps spread evenly from half to one and a half times their
    /// mean, so that distances back to sources vary.
    pub fn gap_lengths(layout: &Layout) -> Vec<u32> {
        let n = layout.copies as usize;
        if n == 0 {
            return Vec::new();
        }
        let m = n - 1;
        // The head keeps at least 16 bytes for the copies that repeat it.
        let short = if layout.short_gaps { 3 * m as u32 / 2 } else { 0 }.min(layout.random - layout.random.min(16));
        // The first copies after a head shorter than themselves take their
        // source from the head's start, which must stay within reach.
        let reach = layout.max_distance.saturating_sub(2 * layout.max_len);
        let head = (layout.random - short).min(MAX_GAP).min(reach);
        let rest = layout.random - head;
        let mut gaps = vec![head];
        let mean = rest / (m as u32).max(1);
        gaps.extend(spread(rest, m, mean + mean.div_ceil(2)));
        gaps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_fill_the_granule_and_keep_their_bounds() {
        for c in Compressor::ALL {
            let costs = Costs::of(c);
            for i in 0..=620 {
                let r = 1.0 + f64::from(i) * 0.05;
                let Ok(l) = Layout::for_ratio(r, c) else {
                    assert!(r > 10.0 && c != Compressor::Auto, "{c} refuses ratio {r}");
                    assert!(Layout::for_ratio(r + 1.0, c).is_err(), "{c}: ceilings are monotone");
                    continue;
                };
                assert!(l.random >= MIN_RANDOM_BYTES, "{c} ratio {r}: {l:?}");
                assert!(l.copies as usize <= MAX_COPIES);
                if l.copies == 0 {
                    assert_eq!(l, Layout::RANDOM);
                    continue;
                }
                let lens = l.copy_lengths();
                assert_eq!(l.random + lens.iter().sum::<u32>(), GRANULE as u32, "{c} ratio {r}: {l:?}");
                assert!(lens.iter().all(|&n| n >= 4 && n <= l.max_len), "{c} ratio {r}: {l:?} {lens:?}");
                assert!(l.max_len <= costs.max_copy.max(258));
                let gaps = Plan::gap_lengths(&l);
                assert_eq!(gaps.iter().sum::<u32>(), l.random, "{c} ratio {r}: {gaps:?}");
                assert!(gaps.iter().all(|&g| g <= MAX_GAP), "{c} ratio {r}: {gaps:?}");
                for last in [false, true] {
                    let plan = Plan::new(&l, &gaps, &lens, |n| if last { n - 1 } else { 0 });
                    for (j, b) in plan.blocks.iter().enumerate() {
                        let d = u32::from(b.start + b.gap) - u32::from(b.src);
                        assert!(d <= l.max_distance, "{c} ratio {r} block {j}: distance {d}");
                    }
                }
            }
        }
        assert_eq!(Layout::for_ratio(1.0, Compressor::Auto), Ok(Layout::RANDOM));
    }

    #[test]
    fn ceilings_are_what_each_format_can_hold() {
        let snappy = Costs::of(Compressor::Snappy).ceiling();
        let lzjb = Costs::of(Compressor::Lzjb).ceiling();
        // Below what the formats can hold at all (snappy 21, LZJB 31).
        assert!((16.0..21.4).contains(&snappy), "{snappy}");
        assert_eq!(lzjb, 16.0);
        for c in [Compressor::Zstd, Compressor::Lz4, Compressor::Gzip, Compressor::Lzo] {
            assert_eq!(Costs::of(c).ceiling(), 32.0, "{c}");
        }
        assert_eq!(Layout::for_ratio(snappy * 1.01, Compressor::Snappy), Err(snappy));
        assert!(Layout::for_ratio(32.0, Compressor::Auto).is_ok());
        assert!(Layout::for_ratio(32.0, Compressor::Zstd).is_ok());
    }
}
