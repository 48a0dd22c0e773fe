//! The C face of `storage::Part`: one worker's share of a range, split as
//! the `dgen` command's `--part`, Python's `part=` and fio's `dgen_part`
//! split it, so that a C program dealing a dataset out to N workers gets the
//! same parts without doing the arithmetic itself.

use std::ffi::{c_char, CStr};

use super::storage::status_of;
use super::{dgen_status, guard_status, refuse};
use libdgen::storage::{Part, StorageError};

fn fail(e: StorageError) -> dgen_status {
    refuse(status_of(e.kind), e.message)
}

/// Reads `text` as `I/N`, part I of N counted from 0 as MPI ranks are
/// (`"0/4"` to `"3/4"`; blanks around the numbers are allowed), into
/// `*index` and `*count`, the form `dgen generate --part` takes.
///
/// Returns `DGEN_STATUS_INVALID_CONFIG` for text of another form, a count
/// of 0, or an index that is not below the count, with a message naming the
/// text (e.g. "part 2/2: parts are counted from 0, so the index must be
/// below 2"), and leaves `*index` and `*count` alone.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string; `index` and `count` are NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_part_parse(text: *const c_char, index: *mut u64, count: *mut u64) -> dgen_status {
    guard_status("dgen_part_parse", |func| {
        non_null!(func; text, index, count)?;
        // SAFETY: `text` is not NULL and the caller guarantees it is a
        // NUL-terminated string that stays valid during the call.
        let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
        let p = Part::parse(&text).map_err(fail)?;
        // SAFETY: neither is NULL, and the caller guarantees both are writable.
        unsafe {
            index.write(p.index);
            count.write(p.count);
        }
        Ok(())
    })
}

/// Part `index` of `count` of the range `[offset, offset + length)`, into
/// `*part_offset` and `*part_length`.
///
/// The range's 4 KiB blocks are dealt out in order, as evenly as they go
/// (parts differ by at most one block), so every boundary between two parts
/// is a multiple of 4096 and `O_DIRECT` works in every part; an unaligned
/// head of the range goes to part 0 and an unaligned tail to part
/// `count - 1`. Parts 0 to `count - 1` together are the range, each
/// byte in exactly one of them.
///
/// Returns `DGEN_STATUS_INVALID_CONFIG` when `count` is 0 or `index` is not
/// below it, and `DGEN_STATUS_OUT_OF_RANGE` when the part would be empty
/// (the range holds fewer whole 4 KiB blocks than there are parts) or
/// `offset + length` passes 2^64 - 1; the message names the values, and
/// `*part_offset` and `*part_length` are left alone.
///
/// # Safety
/// `part_offset` and `part_length` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_part_range(
    offset: u64,
    length: u64,
    index: u64,
    count: u64,
    part_offset: *mut u64,
    part_length: *mut u64,
) -> dgen_status {
    guard_status("dgen_part_range", |func| {
        non_null!(func; part_offset, part_length)?;
        let (o, l) = Part::new(index, count).and_then(|p| p.range(offset, length)).map_err(fail)?;
        // SAFETY: neither is NULL, and the caller guarantees both are writable.
        unsafe {
            part_offset.write(o);
            part_length.write(l);
        }
        Ok(())
    })
}
