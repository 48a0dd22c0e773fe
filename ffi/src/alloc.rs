//! Aligned buffers for O_DIRECT and for stores that want whole cache lines.

use std::ffi::c_void;

use crate::*;

/// Bytes kept in front of a `dgen_alloc_aligned` block for its layout: the
/// total size and the alignment, which `dgen_free_aligned` needs.
pub(crate) const ALIGNED_HEADER: usize = 2 * std::mem::size_of::<usize>();

/// Allocates `len` bytes whose address is a multiple of `alignment` (0 means
/// 4096), as `O_DIRECT` I/O needs, and stores the address in `*out`; release
/// it with `dgen_free_aligned` (never `free`).
///
/// The memory is not cleared: a fill writes every byte, and pages that a
/// generator's workers touch first are then placed on their NUMA node.
/// `alignment` must be a power of two; 4096 suits the logical block size of
/// every common device. On failure `*out` is NULL and the status is
/// `DGEN_STATUS_OUT_OF_RANGE` (bad alignment, or no memory for `len` bytes)
/// or `DGEN_STATUS_NULL_POINTER`.
///
/// # Safety
/// `out` is NULL or writable for one pointer.
#[no_mangle]
pub unsafe extern "C" fn dgen_alloc_aligned(len: usize, alignment: usize, out: *mut *mut c_void) -> dgen_status {
    guard_status("dgen_alloc_aligned", |func| {
        non_null!(func; out)?;
        // SAFETY: `out` is not NULL and the caller guarantees it is writable.
        unsafe { out.write(std::ptr::null_mut()) };
        // Every refusal here is of a length or an alignment no block can have.
        let out_of_range = |message| Err(refuse(dgen_status::OutOfRange, message));
        let asked = if alignment == 0 { 4096 } else { alignment };
        if !asked.is_power_of_two() {
            return out_of_range(format!("{func}: alignment {alignment} is not a power of two"));
        }
        // The header sits in the `align` bytes before the block, so `align`
        // is at least the header's size.
        let align = asked.max(ALIGNED_HEADER);
        // An alignment no block can have (one of its own size already does
        // not fit) is the alignment's fault, whatever the length.
        if std::alloc::Layout::from_size_align(align, align).is_err() {
            return out_of_range(format!(
                "{func}: alignment {alignment} is larger than any buffer can be aligned to (at most {})",
                1usize << (usize::BITS - 2)
            ));
        }
        let Some(Ok(layout)) = len.checked_add(align).map(|total| std::alloc::Layout::from_size_align(total, align))
        else {
            return out_of_range(format!("{func}: len {len} aligned to {asked} is larger than any buffer can be"));
        };
        // SAFETY: `layout` has a non-zero size (at least `align` bytes).
        let base = unsafe { std::alloc::alloc(layout) };
        if base.is_null() {
            return out_of_range(format!("{func}: cannot allocate {len} bytes aligned to {asked}"));
        }
        // SAFETY: the block is `align + len` bytes from `base`, so `base +
        // align` is inside it (or its end when len is 0) and aligned to
        // `align`; the header's two words lie in `[base, base + align)`,
        // aligned to `usize` because `align` is a power of two >= 16.
        unsafe {
            let block = base.add(align);
            let header = block.cast::<usize>().sub(2);
            header.write(layout.size());
            header.add(1).write(align);
            out.write(block.cast());
        }
        Ok(())
    })
}

/// Releases memory from `dgen_alloc_aligned`. NULL is accepted and ignored.
///
/// # Safety
/// `buf` is NULL or a block from `dgen_alloc_aligned` not yet released.
#[no_mangle]
pub unsafe extern "C" fn dgen_free_aligned(buf: *mut c_void) {
    guard("dgen_free_aligned", Message::Reset, (), || {
        if buf.is_null() {
            return;
        }
        // SAFETY: `buf` came from `dgen_alloc_aligned`, which wrote the total
        // size and the alignment in the two words before it and allocated
        // `align` bytes in front of it with exactly that layout.
        unsafe {
            let header = buf.cast::<usize>().sub(2);
            let (size, align) = (header.read(), header.add(1).read());
            let base = buf.cast::<u8>().sub(align);
            std::alloc::dealloc(base, std::alloc::Layout::from_size_align_unchecked(size, align));
        }
    })
}
