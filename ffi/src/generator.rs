//! The generator handle: create, fill, verify, seek and free.

use std::ffi::c_void;

use crate::*;
use libdgen::{Error, Generator};

// The header promises that every call but dgen_free may run from many
// threads on one handle; this stops compiling if Generator ever loses Sync.
const _: fn() = || {
    fn shared_across_threads<T: Sync>() {}
    shared_across_threads::<Generator>();
};

/// A generator: a seekable, reproducible stream of synthetic bytes.
///
/// Created by `dgen_create`, released by `dgen_free`. Every call but
/// `dgen_free` may run from many threads at once on one generator:
/// `dgen_fill` takes the next bytes of the stream with one atomic step, so
/// threads that share a stream get disjoint consecutive ranges whose union is
/// the stream; `dgen_seek` and `dgen_rewind` store the position atomically;
/// `dgen_fill_at` and `dgen_verify_at` do not touch it. `dgen_free` needs the
/// generator to itself: no other call on it may run then or later.
///
/// A generator survives `fork`: one created (and used) before a fork works
/// in the child and gives the same bytes. The child has only the thread that
/// called fork, so the first large fill there starts worker threads of its
/// own instead of waiting for the parent's; the position and everything else
/// are the parent's as of the fork, and the two processes then move on
/// apart. `dgen_free` in the child does not wait for the parent's workers.
pub struct dgen_generator {
    pub(crate) inner: Generator,
}

/// Validates `*cfg` and creates a generator, stored in `*out`.
///
/// Cost and memory do not depend on `cfg->size`: a generator for 2^63 bytes is
/// as cheap as one for 4 KiB, and no thread starts before the first large
/// fill. On failure `*out` is set to NULL (when `out` is not NULL) and the
/// status names the first bad field in declaration order:
/// `DGEN_STATUS_INVALID_DEDUP_RATIO`, `DGEN_STATUS_INVALID_COMPRESS_RATIO`,
/// `DGEN_STATUS_INVALID_DEDUP_UNIT`, `DGEN_STATUS_INVALID_CONFIG` (a non-zero
/// `seed` with `has_seed` false), `DGEN_STATUS_INVALID_THREADS`,
/// `DGEN_STATUS_INVALID_CONFIG` (`numa_mode`, `numa_node`),
/// `DGEN_STATUS_INVALID_COMPRESSOR`; or `DGEN_STATUS_NULL_POINTER`.
///
/// # Safety
/// `cfg` is NULL or points to a readable `dgen_config`; `out` is NULL or
/// points to writable memory for one pointer.
#[no_mangle]
pub unsafe extern "C" fn dgen_create(cfg: *const dgen_config, out: *mut *mut dgen_generator) -> dgen_status {
    guard_status("dgen_create", |func| {
        non_null!(func; out)?;
        // SAFETY: `out` is not NULL and the caller guarantees it is writable.
        unsafe { out.write(std::ptr::null_mut()) };
        non_null!(func; cfg)?;
        // SAFETY: `cfg` is not NULL and the caller guarantees it is readable.
        let config = unsafe { read_config(cfg) }?;
        let inner = Generator::new(config).map_err(fail)?;
        let raw = Box::into_raw(Box::new(dgen_generator { inner }));
        // SAFETY: as above; ownership of the box passes to the caller, who
        // gives it back through `dgen_free`.
        unsafe { out.write(raw) };
        Ok(())
    })
}

/// Continues the stream: writes the next bytes into `buf` and their count into
/// `*written`.
///
/// `*written` is `len`, except for the short last fill of a sized stream, and 0
/// once the stream is complete (`dgen_is_complete` is then true). Filling a
/// stream with any mix of lengths gives the same bytes as `dgen_fill_at` at the
/// same offsets. `buf` may be NULL only when `len` is 0. On failure `*written`
/// is 0 and the position does not move.
///
/// Safe to call from many threads at once on one generator: each call takes
/// its range `[position, position + *written)` with one atomic
/// compare-and-swap and fills it outside any lock, so concurrent calls get
/// disjoint consecutive ranges that together are the stream, each byte once
/// (which thread gets which range is up to the scheduler; `dgen_fill_at`
/// fills ranges a caller chooses).
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`; `buf` is NULL or
/// valid for writes of `len` bytes; `written` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_fill(
    gen: *mut dgen_generator,
    buf: *mut c_void,
    len: usize,
    written: *mut usize,
) -> dgen_status {
    guard_status("dgen_fill", |func| {
        non_null!(func; written)?;
        // SAFETY: `written` is not NULL and the caller guarantees it is writable.
        unsafe { written.write(0) };
        // SAFETY: `gen` is NULL or live, as `with_buffer` needs. Only shared
        // access is made (the position is an atomic), so other threads may
        // use it meanwhile.
        let gen = unsafe { with_buffer(func, gen, buf.is_null(), len) }?;
        // SAFETY: `buf` is valid for `len` writable bytes (or `len` is 0 and a
        // dangling pointer is used), `len` fits in isize, and nothing else
        // accesses the buffer during the call.
        let buf = unsafe { bytes_mut(buf, len) };
        let n = gen.fill_shared(buf).map_err(fail)?;
        // SAFETY: as above.
        unsafe { written.write(n) };
        Ok(())
    })
}

/// A mutable byte slice from C's pointer and length; a dangling pointer stands
/// in for NULL when `len` is 0.
///
/// # Safety
/// `buf` is valid for writes of `len` bytes (any value when `len` is 0),
/// `len <= isize::MAX`, and nothing else accesses the bytes during `'a`.
pub(crate) unsafe fn bytes_mut<'a>(buf: *mut c_void, len: usize) -> &'a mut [u8] {
    if len == 0 {
        return &mut [];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) }
}

/// As [`bytes_mut`], for reading.
///
/// # Safety
/// `buf` is valid for reads of `len` bytes (any value when `len` is 0),
/// `len <= isize::MAX`, and nothing writes the bytes during `'a`.
pub(crate) unsafe fn bytes<'a>(buf: *const c_void, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) }
}

/// Writes the stream's bytes `[offset, offset + len)` into `buf`; the stream
/// position does not move.
///
/// Safe to call from many threads at once on one generator. Fails with
/// `DGEN_STATUS_OUT_OF_RANGE` when the range passes the end of a sized stream
/// or `offset + len` passes 2^64 - 1; an empty range counts too, so `offset`
/// past the size is refused even when `len` is 0 (`offset` equal to the size
/// is the empty range at the end, which is fine). `buf` may be NULL only when
/// `len` is 0.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`; `buf` is NULL or
/// valid for writes of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn dgen_fill_at(
    gen: *const dgen_generator,
    offset: u64,
    buf: *mut c_void,
    len: usize,
) -> dgen_status {
    guard_status("dgen_fill_at", |func| {
        // SAFETY: `gen` is NULL or live, as `with_buffer` needs.
        let gen = unsafe { with_buffer(func, gen, buf.is_null(), len) }?;
        // SAFETY: see `bytes_mut`; the caller guarantees `buf`.
        gen.fill_at(offset, unsafe { bytes_mut(buf, len) }).map_err(fail)
    })
}

/// Checks that `buf` holds the stream's bytes `[offset, offset + len)`.
///
/// Returns `DGEN_STATUS_OK` when every byte matches, and
/// `DGEN_STATUS_MISMATCH` when one differs: then `*mismatch_offset` (when not
/// NULL) is the stream offset of the first wrong byte, and the message gives
/// it with the expected and found values. `mismatch_offset` is written only on
/// `DGEN_STATUS_MISMATCH` and may be NULL. Safe to call from many threads at
/// once on one generator. Range errors are as for `dgen_fill_at`.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`; `buf` is NULL or
/// valid for reads of `len` bytes; `mismatch_offset` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_verify_at(
    gen: *const dgen_generator,
    offset: u64,
    buf: *const c_void,
    len: usize,
    mismatch_offset: *mut u64,
) -> dgen_status {
    guard_status("dgen_verify_at", |func| {
        // SAFETY: `gen` is NULL or live, as `with_buffer` needs.
        let gen = unsafe { with_buffer(func, gen, buf.is_null(), len) }?;
        // SAFETY: see `bytes`; the caller guarantees `buf`.
        gen.verify_at(offset, unsafe { bytes(buf, len) }).map_err(|e| {
            if let (Error::Mismatch { offset, .. }, false) = (&e, mismatch_offset.is_null()) {
                // SAFETY: not NULL, and the caller guarantees it is writable.
                unsafe { mismatch_offset.write(*offset) };
            }
            fail(e)
        })
    })
}

/// True when the position of a sized stream is at its end (all its bytes were
/// produced by `dgen_fill`, or `dgen_seek` went to the end); never for an
/// endless stream. False (and a message) when `gen` is NULL.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_is_complete(gen: *const dgen_generator) -> bool {
    // SAFETY: `gen` is NULL or live, as `getter` needs.
    unsafe { getter("dgen_is_complete", gen, false, |g| g.is_complete()) }
}

/// The seed in use: the config's, or the one drawn when `has_seed` was false.
/// A config with this seed and `has_seed` true repeats the stream. 0 (and a
/// message) when `gen` is NULL.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_seed(gen: *const dgen_generator) -> u64 {
    // SAFETY: `gen` is NULL or live, as `getter` needs.
    unsafe { getter("dgen_seed", gen, 0, |g| g.seed()) }
}

/// The stream offset the next `dgen_fill` starts at. 0 (and a message) when
/// `gen` is NULL.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_position(gen: *const dgen_generator) -> u64 {
    // SAFETY: `gen` is NULL or live, as `getter` needs.
    unsafe { getter("dgen_position", gen, 0, |g| g.position()) }
}

/// The stream's size in bytes as configured; 0 for an endless stream (and,
/// with a message, when `gen` is NULL).
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_size(gen: *const dgen_generator) -> u64 {
    // SAFETY: `gen` is NULL or live, as `getter` needs.
    unsafe { getter("dgen_size", gen, 0, |g| g.size()) }
}

/// The worker threads the generator uses for large fills: `threads`, or every
/// CPU the process may use when it was 0, capped at those CPUs. 0 (and a
/// message) when `gen` is NULL.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_threads(gen: *const dgen_generator) -> u32 {
    // SAFETY: `gen` is NULL or live, as `getter` needs.
    // At most the CPUs of the machine, and at most 4096 by the config.
    unsafe { getter("dgen_threads", gen, 0, |g| u32::try_from(g.threads()).unwrap_or(u32::MAX)) }
}

/// Moves the stream position: the next `dgen_fill` starts at `position`.
///
/// `position` may be anything up to the size of a sized stream (the size
/// itself is its end: the stream is then complete) and anything on an endless
/// one. Past the end it fails with `DGEN_STATUS_OUT_OF_RANGE` and the position
/// does not move. An atomic store, safe while other threads use the
/// generator: a `dgen_fill` running at the same time continues from the
/// position before or after the move.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_seek(gen: *mut dgen_generator, position: u64) -> dgen_status {
    guard_status("dgen_seek", |func| {
        non_null!(func; gen)?;
        // SAFETY: `gen` is a live generator; only shared access is made.
        let gen = unsafe { &(*gen).inner };
        gen.set_position(position).map_err(|_| {
            let message = format!("{func}: position {position} passes the end of the stream (size {})", gen.size());
            refuse(dgen_status::OutOfRange, message)
        })
    })
}

/// Moves the stream position back to 0, so the stream starts over. An atomic
/// store, safe while other threads use the generator, as `dgen_seek`.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_rewind(gen: *mut dgen_generator) -> dgen_status {
    guard_status("dgen_rewind", |func| {
        non_null!(func; gen)?;
        // SAFETY: as in `dgen_seek`.
        unsafe { (*gen).inner.rewind() };
        Ok(())
    })
}

/// One-shot generation: fills `buf` with the bytes `[0, len)` of the stream
/// `*cfg` describes, as `dgen_create`, `dgen_fill_at(gen, 0, buf, len)` and
/// `dgen_free` would.
///
/// A bad `cfg` gives the same status and message as `dgen_create`; `len`
/// past the `size` of a sized stream is `DGEN_STATUS_OUT_OF_RANGE` (with
/// `size` 0, any `len`). With `has_seed` false each call draws a fresh seed
/// that is not reported: create a generator to read it back. `buf` may be
/// NULL only when `len` is 0.
///
/// # Safety
/// `cfg` is NULL or a readable `dgen_config`; `buf` is NULL or valid for
/// writes of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn dgen_generate(cfg: *const dgen_config, buf: *mut c_void, len: usize) -> dgen_status {
    guard_status("dgen_generate", |func| {
        non_null!(func; cfg, buf if len != 0)?;
        check_len(func, len)?;
        // SAFETY: `cfg` is not NULL and the caller guarantees it is readable.
        let config = unsafe { read_config(cfg) }?;
        let gen = Generator::new(config).map_err(fail)?;
        // SAFETY: see `bytes_mut`; the caller guarantees `buf`.
        gen.fill_at(0, unsafe { bytes_mut(buf, len) }).map_err(fail)
    })
}

/// Releases a generator and its worker threads. NULL is accepted and ignored.
/// No other call may use `gen` during or after this one.
///
/// # Safety
/// `gen` is NULL or a generator from `dgen_create` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn dgen_free(gen: *mut dgen_generator) {
    // SAFETY: `gen` is NULL or came from `Box::into_raw` in `dgen_create`,
    // and the caller hands it back exactly once.
    unsafe { release("dgen_free", Message::Reset, gen) }
}

/// The body of a function that releases a handle it gave C as
/// `Box::into_raw`: NULL does nothing.
///
/// # Safety
/// `handle` is NULL or came from `Box::into_raw` of a `Box<T>`, is released
/// only once, and no other call uses it during or after this one.
pub(crate) unsafe fn release<T>(name: &str, message: Message, handle: *mut T) {
    guard(name, message, (), || {
        if !handle.is_null() {
            // SAFETY: guaranteed by the caller.
            drop(unsafe { Box::from_raw(handle) });
        }
    })
}

/// The body of a function that reads one value of the generator behind
/// `gen`: `default` and a message when `gen` is NULL, inside the guard.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
unsafe fn getter<R: Copy>(name: &str, gen: *const dgen_generator, default: R, read: impl FnOnce(&Generator) -> R) -> R {
    guard(name, Message::Reset, default, || {
        // SAFETY: NULL or live, by the caller's contract; only shared access
        // is made.
        match unsafe { gen.as_ref() } {
            Some(g) => read(&g.inner),
            None => {
                null(name, "gen");
                default
            }
        }
    })
}

/// The checks of a call that takes a generator and a buffer of `len` bytes:
/// `gen` not NULL, `buf` not NULL unless `len` is 0, `len` a possible buffer
/// size. The generator, shared (it is Sync: many threads may use it at once).
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`, which outlives `'a`.
unsafe fn with_buffer<'a>(
    name: &str,
    gen: *const dgen_generator,
    buf_is_null: bool,
    len: usize,
) -> Result<&'a Generator, dgen_status> {
    first_null(name, &[(gen.is_null(), "gen"), (buf_is_null && len != 0, "buf")])?;
    check_len(name, len)?;
    // SAFETY: not NULL, so live by the caller's contract.
    Ok(unsafe { &(*gen).inner })
}
