//! The C face of `storage::Part`: one worker's share of a range, split as
//! the `dgen` command's `--part`, Python's `part=` and fio's `dgen_part`
//! split it, so that a C program dealing a dataset out to N workers gets the
//! same parts without doing the arithmetic itself.

use std::ffi::{c_char, CStr};

use super::storage::status_of;
use super::{dgen_status, guard, null, set_error, Message};
use libdgen::storage::{Part, StorageError};

fn fail(e: StorageError) -> dgen_status {
    set_error(e.message);
    status_of(e.kind)
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
    guard("dgen_part_parse", Message::Reset, dgen_status::Panic, || {
        if text.is_null() {
            return null("dgen_part_parse", "text");
        }
        if index.is_null() {
            return null("dgen_part_parse", "index");
        }
        if count.is_null() {
            return null("dgen_part_parse", "count");
        }
        // SAFETY: `text` is not NULL and the caller guarantees it is a
        // NUL-terminated string that stays valid during the call.
        let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
        match Part::parse(&text) {
            Ok(p) => {
                // SAFETY: neither is NULL, and the caller guarantees both are
                // writable.
                unsafe {
                    index.write(p.index);
                    count.write(p.count);
                }
                dgen_status::Ok
            }
            Err(e) => fail(e),
        }
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
    guard("dgen_part_range", Message::Reset, dgen_status::Panic, || {
        if part_offset.is_null() {
            return null("dgen_part_range", "part_offset");
        }
        if part_length.is_null() {
            return null("dgen_part_range", "part_length");
        }
        match Part::new(index, count).and_then(|p| p.range(offset, length)) {
            Ok((o, l)) => {
                // SAFETY: neither is NULL, and the caller guarantees both are
                // writable.
                unsafe {
                    part_offset.write(o);
                    part_length.write(l);
                }
                dgen_status::Ok
            }
            Err(e) => fail(e),
        }
    })
}
