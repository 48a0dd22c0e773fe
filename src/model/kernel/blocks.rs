//! The moves every kernel shares: a granule's gaps from its lanes' stream
//! ([`gaps_from_steps`]), the fixed-size block moves of a uniform plan
//! ([`uniform_blocks`], and [`uniform_stepped`] for the vector kernels that
//! draw a step at a time), short copies and the non-temporal granule store.
//! A kernel supplies only the lanes' arithmetic.

use crate::model::compress::{self, Plan, BLOCK};
use crate::model::lanes::{LaneState, STEP_BYTES};
use crate::model::{Granule, GRANULE};

/// One lane step, aligned for whole-vector stores and loads.
#[repr(align(64))]
pub(crate) struct StepBytes(pub(crate) [u8; STEP_BYTES]);

/// A granule aligned for whole-vector loads.
#[repr(align(64))]
#[derive(Clone)]
pub(crate) struct ScratchGranule(pub(crate) Granule);

/// Bytes in a cache line: the unit of a non-temporal store.
pub(crate) const LINE: usize = 64;

/// The scratch of a streaming fill: a granule with one line before it, both
/// aligned to a cache line. The line before holds the end of the granule
/// written before, so that a destination that is not aligned to a line is
/// still written a whole line at a time (`Model::fill_streaming`).
#[repr(align(64))]
pub(crate) struct StreamScratch(pub(crate) [u8; LINE + GRANULE]);

impl StreamScratch {
    pub(crate) fn new() -> StreamScratch {
        StreamScratch([0u8; LINE + GRANULE])
    }

    /// The granule, after the line before it.
    pub(crate) fn granule(&mut self) -> &mut Granule {
        let (_, granule) = self.0.split_at_mut(LINE);
        granule.try_into().expect("the scratch holds a line and a granule")
    }

    /// Moves the granule's last line into the line before it, where the
    /// next granule's first line (when the destination is not aligned)
    /// takes its head from.
    pub(crate) fn carry(&mut self) {
        self.0.copy_within(GRANULE..GRANULE + LINE, 0);
    }
}

/// Writes `lines` cache lines from `src` to `dst` with non-temporal stores,
/// which do not read the destination's lines first: one 64-byte store a line
/// with AVX-512, two 32-byte stores with AVX2, four 16-byte stores otherwise
/// (SSE2, part of every x86-64 CPU). Fewer stores a line leave more of the
/// store buffer to the granule writer running beside them.
///
/// # Safety
/// `dst` is aligned to 64 bytes and `lines * 64` bytes from it are writable,
/// `lines * 64` bytes from `src` are readable, and the CPU runs `kernel`
/// ([`Kernel::runs_here`](super::Kernel::runs_here)).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) unsafe fn stream_lines(kernel: super::Kernel, dst: *mut u8, src: *const u8, lines: usize) {
    use std::arch::x86_64::*;
    #[target_feature(enable = "avx512f")]
    unsafe fn by_512(dst: *mut u8, src: *const u8, lines: usize) {
        for k in 0..lines {
            // SAFETY: AVX-512F is the caller's contract; line `k` lies inside
            // both ranges the caller vouches for, the store's 64-byte
            // alignment holds (dst aligned, k * 64 further), and the load
            // takes any alignment.
            unsafe { _mm512_stream_si512(dst.add(k * LINE).cast(), _mm512_loadu_si512(src.add(k * LINE).cast())) }
        }
    }
    #[target_feature(enable = "avx")]
    unsafe fn by_256(dst: *mut u8, src: *const u8, lines: usize) {
        for k in 0..lines * 2 {
            // SAFETY: AVX is the caller's contract (AVX2 implies it); half
            // line `k` lies inside both ranges, the store's 32-byte alignment
            // holds, and the load takes any alignment.
            unsafe { _mm256_stream_si256(dst.add(k * 32).cast(), _mm256_loadu_si256(src.add(k * 32).cast())) }
        }
    }
    fn by_128(dst: *mut u8, src: *const u8, lines: usize) {
        for k in 0..lines * 4 {
            // SAFETY: SSE2 is part of every x86-64 CPU; quarter line `k` lies
            // inside both ranges, the store's 16-byte alignment holds, and
            // the load takes any alignment.
            unsafe { _mm_stream_si128(dst.add(k * 16).cast(), _mm_loadu_si128(src.add(k * 16).cast())) }
        }
    }
    debug_assert!((dst as usize).is_multiple_of(LINE));
    match kernel {
        // SAFETY: the caller's contract: the CPU runs the kernel, whose
        // features include those of the store, and the ranges hold.
        super::Kernel::Avx512 => unsafe { by_512(dst, src, lines) },
        // SAFETY: as above.
        super::Kernel::Avx2 => unsafe { by_256(dst, src, lines) },
        super::Kernel::Portable => by_128(dst, src, lines),
    }
}

/// Copies up to a few hundred bytes with inline fixed-size moves instead of
/// a call to memcpy, which costs more than the copy at these sizes: 64-byte
/// blocks (one AVX-512 move or two AVX2 moves) with the last one overlapping
/// the one before, and below 64 bytes two moves of a power of two that
/// overlap in the middle. `dst` and `src` do not overlap.
#[inline(always)]
pub(crate) fn copy_short(dst: &mut [u8], src: &[u8]) {
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
pub(crate) struct UniformStream(pub(crate) [u8; compress::UNIFORM_REST + STEP_BYTES]);
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
pub(crate) unsafe fn uniform_pass<const GAP: usize>(
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
pub(crate) unsafe fn move64(src: *const u8, dst: *mut u8) {
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
pub(crate) fn uniform_blocks(
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
pub(crate) fn uniform_stream_bytes(uniform: compress::Uniform) -> usize {
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
pub(crate) unsafe fn uniform_rest(
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
pub(crate) unsafe fn uniform_stepped(
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
pub(crate) fn gaps_from_steps(
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
