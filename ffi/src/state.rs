//! The C face of `dgen::state`: a write state file opened for a generator,
//! fills that claim and record each write's next version, and verification
//! that classifies wrong units.

use std::ffi::{c_char, c_void};

use super::storage::path_arg;
use super::{bytes, bytes_mut, check_len, dgen_generator, dgen_status, guard, guard_status, refuse, release, Message};
use libdgen::state::{Class, StateCheck, StateError, WriteState};

/// A write state file, open for one dataset (`dgen_state_open`). Shared by
/// every thread of the process and every process that has the file open:
/// `dgen_state_fill` and `dgen_state_complete` may be called from many
/// threads at once.
pub struct dgen_state {
    inner: WriteState,
}

/// What a verification against a state found so far (`dgen_state_check_new`,
/// `dgen_state_verify`, `dgen_state_check_finish`). Used by one thread at a
/// time.
pub struct dgen_state_check {
    inner: StateCheck,
}

/// The counts of a verification against a state, and the offset of the
/// first unit of each class (`UINT64_MAX` when there is none).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct dgen_state_result {
    /// Units that hold a version their entry accepts.
    pub units_ok: u64,
    /// Units never written: not checked (always 0 for a check from
    /// `dgen_state_check_new_unwritten_first`, which checks them).
    pub units_unwritten: u64,
    /// Units whose first write was in flight when its writer died: not
    /// checked.
    pub units_in_doubt: u64,
    /// Units holding an earlier write of themselves: lost writes.
    pub stale: u64,
    /// Units holding another unit's data.
    pub misplaced: u64,
    /// Units holding only zero bytes.
    pub zero: u64,
    /// Units holding none of the above.
    pub corrupt: u64,
    /// Offset of the first stale unit, or `UINT64_MAX`.
    pub first_stale: u64,
    /// Offset of the first misplaced unit, or `UINT64_MAX`.
    pub first_misplaced: u64,
    /// Offset of the first zero unit, or `UINT64_MAX`.
    pub first_zero: u64,
    /// Offset of the first corrupt unit, or `UINT64_MAX`.
    pub first_corrupt: u64,
}

/// What a state holds (`dgen_state_summary`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct dgen_state_info {
    /// Dedup units of the dataset.
    pub units: u64,
    /// Bytes per dedup unit.
    pub unit_bytes: u64,
    /// Units ever written.
    pub written: u64,
    /// Units overwritten at least once.
    pub overwritten: u64,
    /// The highest version of any unit.
    pub max_version: u64,
    /// Unit writes completed.
    pub writes_completed: u64,
    /// Units with writes in flight now.
    pub in_flight: u64,
    /// Units that may hold one of several versions.
    pub ambiguous: u64,
    /// Units that may never have been written.
    pub in_doubt: u64,
}

fn state_fail(func: &str, e: StateError) -> dgen_status {
    refuse(dgen_status::of(e.kind.into(), None), format!("{func}: {}", e.message))
}

/// Opens the write state at `path` for the dataset of `gen`. With `write`
/// true the state is created when missing (every unit unwritten) and
/// writes may be recorded in it; with `write` false it must exist and is
/// only read. A state of another dataset (size, dedup unit, seed, ratios,
/// compressor), a damaged or cut-short file, or one of a newer format is
/// `DGEN_STATUS_INVALID_STATE` with a message naming the difference, and
/// the file is left as it was; a file that cannot be opened, created or
/// mapped is `DGEN_STATUS_IO`. On success `*out` is a state to close with
/// `dgen_state_close`; `gen` may be freed before it.
///
/// # Safety
/// `gen` is NULL or a live generator; `path` is NULL or a NUL-terminated
/// string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_state_open(
    gen: *const dgen_generator,
    path: *const c_char,
    write: bool,
    out: *mut *mut dgen_state,
) -> dgen_status {
    guard_status("dgen_state_open", |func| {
        non_null!(func; gen, path, out)?;
        // SAFETY: `gen` is a live generator; only shared access is made.
        let gen = unsafe { &(*gen).inner };
        // SAFETY: not NULL, and the caller guarantees a NUL-terminated string.
        let path = unsafe { path_arg(path) };
        let opened = if write { WriteState::open_or_create(path, gen) } else { WriteState::open(path, gen) };
        let st = opened.map_err(|e| state_fail(func, e))?;
        // SAFETY: `out` is not NULL and the caller guarantees it is writable.
        unsafe { out.write(Box::into_raw(Box::new(dgen_state { inner: st }))) };
        Ok(())
    })
}

/// Closes a state from `dgen_state_open`. NULL is allowed and does nothing.
///
/// # Safety
/// `st` is NULL or a state from `dgen_state_open` not closed yet, and no
/// other call uses it during or after this one.
#[no_mangle]
pub unsafe extern "C" fn dgen_state_close(st: *mut dgen_state) {
    // SAFETY: NULL or made by Box::into_raw in dgen_state_open, closed once.
    unsafe { release("dgen_state_close", Message::Keep, st) }
}

/// Closes a state from `dgen_state_open` and removes its file when no other
/// process has it open; `*removed` (when not NULL) says whether it did. For
/// a state made for one run, shared by its processes: the last to close it
/// removes it. NULL `st` does nothing.
///
/// # Safety
/// As for `dgen_state_close`; `removed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_state_close_remove(st: *mut dgen_state, removed: *mut bool) -> dgen_status {
    guard_status("dgen_state_close_remove", |_| {
        if st.is_null() {
            return Ok(());
        }
        // SAFETY: made by Box::into_raw in dgen_state_open, closed once.
        let st = unsafe { Box::from_raw(st) };
        let gone = st.inner.close_and_remove_if_last();
        if !removed.is_null() {
            // SAFETY: not NULL, and the caller guarantees it is writable.
            unsafe { removed.write(gone) };
        }
        Ok(())
    })
}

/// Prepares a write of `[offset, offset + len)`: claims the next version of
/// each dedup unit there and fills `buf` with it. The range must be whole
/// dedup units (the last may end at the end of the dataset), and the state
/// open for writing; else `DGEN_STATUS_INVALID_STATE`. Call
/// `dgen_state_complete` with the same range once the write is over (done
/// or failed); until then each unit accepts its old and new content, and a
/// writer that dies leaves it so. The first write of a unit is the
/// dataset's own bytes (what `dgen_fill_at` gives), every later one new
/// bytes with the same compression.
///
/// # Safety
/// `st` and `gen` are NULL or live; `buf` is NULL or valid for writes of
/// `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn dgen_state_fill(
    st: *const dgen_state,
    gen: *const dgen_generator,
    offset: u64,
    buf: *mut c_void,
    len: usize,
) -> dgen_status {
    guard_status("dgen_state_fill", |func| {
        non_null!(func; st, gen, buf if len != 0)?;
        check_len(func, len)?;
        // SAFETY: live objects, shared access only (both are Sync).
        let (st, gen) = unsafe { (&(*st).inner, &(*gen).inner) };
        st.check_generator(gen).map_err(|e| state_fail(func, e))?;
        // SAFETY: see `bytes_mut`; the caller guarantees `buf`.
        let buf = unsafe { bytes_mut(buf, len) };
        // The range is what completes it; the claim's versions were only
        // needed for the fill.
        st.claim_and_fill(gen, offset, buf).map(drop).map_err(|e| state_fail(func, e))
    })
}

/// Records that the write of `[offset, offset + len)` prepared with
/// `dgen_state_fill` is over. Call it once per `dgen_state_fill`, after the
/// write completed or failed, never for a range that was not filled. A
/// state opened read-only is `DGEN_STATUS_INVALID_STATE`.
///
/// # Safety
/// `st` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn dgen_state_complete(st: *const dgen_state, offset: u64, len: usize) -> dgen_status {
    guard_status("dgen_state_complete", |func| {
        non_null!(func; st)?;
        // SAFETY: live, shared access only.
        let st = unsafe { &(*st).inner };
        st.complete_range(offset, len as u64).map_err(|e| state_fail(func, e))
    })
}

/// A new, empty verification result for `dgen_state_verify`; free it with
/// `dgen_state_check_free`. NULL only if memory runs out.
#[no_mangle]
pub extern "C" fn dgen_state_check_new() -> *mut dgen_state_check {
    guard("dgen_state_check_new", Message::Reset, std::ptr::null_mut(), || {
        Box::into_raw(Box::new(dgen_state_check { inner: StateCheck::default() }))
    })
}

/// A new, empty verification result like `dgen_state_check_new`'s, except
/// that a unit the state never saw written is taken to hold its first
/// write (the dataset's own bytes, what `dgen_fill_at` gives) and is
/// checked against it rather than skipped. For a state that records the
/// writes of one run over a target written before the run, as fio's engine
/// keeps for a run without a state file of its own. Free it with
/// `dgen_state_check_free`. NULL only if memory runs out.
#[no_mangle]
pub extern "C" fn dgen_state_check_new_unwritten_first() -> *mut dgen_state_check {
    guard("dgen_state_check_new_unwritten_first", Message::Reset, std::ptr::null_mut(), || {
        Box::into_raw(Box::new(dgen_state_check { inner: StateCheck::unwritten_first() }))
    })
}

/// Frees a result from `dgen_state_check_new` or
/// `dgen_state_check_new_unwritten_first`. NULL does nothing.
///
/// # Safety
/// `check` is NULL or from `dgen_state_check_new` or
/// `dgen_state_check_new_unwritten_first`, not freed yet.
#[no_mangle]
pub unsafe extern "C" fn dgen_state_check_free(check: *mut dgen_state_check) {
    // SAFETY: NULL or made by Box::into_raw in dgen_state_check_new or
    // dgen_state_check_new_unwritten_first, freed once.
    unsafe { release("dgen_state_check_free", Message::Keep, check) }
}

/// Checks `buf`, read from `[offset, offset + len)` of the target (whole
/// dedup units), against the state, and adds what it found to `check`:
/// each unit right, unwritten, in doubt, or wrong (stale, zero, or to be
/// sorted into misplaced and corrupt by `dgen_state_check_finish`).
/// Returns `DGEN_STATUS_OK` whatever the bytes hold; `dgen_state_check_finish`
/// gives the result once every range is checked.
///
/// # Safety
/// `st`, `gen` and `check` are NULL or live, `check` used by no other
/// thread meanwhile; `buf` is NULL or valid for reads of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn dgen_state_verify(
    st: *const dgen_state,
    gen: *const dgen_generator,
    offset: u64,
    buf: *const c_void,
    len: usize,
    check: *mut dgen_state_check,
) -> dgen_status {
    guard_status("dgen_state_verify", |func| {
        non_null!(func; st, gen, buf if len != 0, check)?;
        check_len(func, len)?;
        // SAFETY: live objects; shared access to the state and generator,
        // and the caller gives this call `check` to itself.
        let (st, gen, check) = unsafe { (&(*st).inner, &(*gen).inner, &mut (*check).inner) };
        st.check_generator(gen).map_err(|e| state_fail(func, e))?;
        // SAFETY: see `bytes`; the caller guarantees `buf`.
        let buf = unsafe { bytes(buf, len) };
        st.check(gen, offset, buf, check).map_err(|e| state_fail(func, e))
    })
}

/// Ends a verification: the wrong units that held no earlier write of
/// their own are looked up among every unit's data (misplaced) or counted
/// corrupt. A pass over the dataset's units, made only when there are such
/// units. Then fills `*result` (when not NULL). Returns
/// `DGEN_STATUS_MISMATCH` when any checked unit was wrong, with a message
/// giving the counts and first offsets, and `DGEN_STATUS_OK` otherwise.
///
/// # Safety
/// `st`, `gen` and `check` are NULL or live, `check` used by no other
/// thread meanwhile; `result` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_state_check_finish(
    st: *const dgen_state,
    gen: *const dgen_generator,
    check: *mut dgen_state_check,
    result: *mut dgen_state_result,
) -> dgen_status {
    guard_status("dgen_state_check_finish", |func| {
        non_null!(func; st, gen, check)?;
        // SAFETY: as for dgen_state_verify.
        let (st, gen, check) = unsafe { (&(*st).inner, &(*gen).inner, &mut (*check).inner) };
        st.resolve(gen, check);
        let first = |c: Class| check.first(c).next().map_or(u64::MAX, |f| f.offset);
        let r = dgen_state_result {
            units_ok: check.ok,
            units_unwritten: check.unwritten,
            units_in_doubt: check.in_doubt,
            stale: check.count(Class::Stale),
            misplaced: check.count(Class::Misplaced),
            zero: check.count(Class::Zero),
            corrupt: check.count(Class::Corrupt),
            first_stale: first(Class::Stale),
            first_misplaced: first(Class::Misplaced),
            first_zero: first(Class::Zero),
            first_corrupt: first(Class::Corrupt),
        };
        if !result.is_null() {
            // SAFETY: not NULL, and the caller guarantees it is writable.
            unsafe { result.write(r) };
        }
        if check.passed() {
            return Ok(());
        }
        let classes: Vec<String> = Class::ALL
            .into_iter()
            .filter(|&c| check.count(c) > 0)
            .map(|c| format!("{} {} (first at offset {})", check.count(c), c.name(), first(c)))
            .collect();
        let message =
            format!("{} of {} units checked are wrong: {}", check.wrong(), check.checked(), classes.join(", "));
        Err(refuse(dgen_status::Mismatch, message))
    })
}

/// Writes the offsets of the first (lowest, at most 16) units of `class`
/// (0 stale, 1 misplaced, 2 zero, 3 corrupt) found by a finished
/// verification into `offsets`, at most `max` of them, and their number
/// into `*n`. A class outside 0-3 is `DGEN_STATUS_INVALID_CONFIG`.
///
/// # Safety
/// `check` is NULL or live; `offsets` is NULL or writable for `max`
/// values; `n` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_state_check_offsets(
    check: *const dgen_state_check,
    class: u32,
    offsets: *mut u64,
    max: usize,
    n: *mut usize,
) -> dgen_status {
    guard_status("dgen_state_check_offsets", |func| {
        non_null!(func; check, offsets if max != 0, n)?;
        let Some(&class) = Class::ALL.get(class as usize) else {
            let message =
                format!("{func}: class must be 0 (stale), 1 (misplaced), 2 (zero) or 3 (corrupt), got {class}");
            return Err(refuse(dgen_status::InvalidConfig, message));
        };
        // SAFETY: live; shared access only.
        let check = unsafe { &(*check).inner };
        let mut count = 0;
        for f in check.first(class).take(max) {
            // SAFETY: `count < max`, and the caller guarantees `max` values.
            unsafe { offsets.add(count).write(f.offset) };
            count += 1;
        }
        // SAFETY: not NULL, and the caller guarantees it is writable.
        unsafe { n.write(count) };
        Ok(())
    })
}

/// Fills `*out` with what the state holds: units written, overwritten,
/// latest version, writes in flight.
///
/// # Safety
/// `st` is NULL or live; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_state_summary(st: *const dgen_state, out: *mut dgen_state_info) -> dgen_status {
    guard_status("dgen_state_summary", |func| {
        non_null!(func; st, out)?;
        // SAFETY: live, shared access only.
        let s = unsafe { &(*st).inner }.summary();
        let r = dgen_state_info {
            units: s.units,
            unit_bytes: s.unit_bytes,
            written: s.written,
            overwritten: s.overwritten,
            max_version: s.max_version,
            writes_completed: s.writes_completed,
            in_flight: s.in_flight,
            ambiguous: s.ambiguous,
            in_doubt: s.in_doubt,
        };
        // SAFETY: not NULL, and the caller guarantees it is writable.
        unsafe { out.write(r) };
        Ok(())
    })
}
