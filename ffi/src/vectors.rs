//! The C face of `dgen::vectors`: seeded float32 values for vector-database
//! benchmarks, a pure function of the seed and the element index.

use super::{dgen_status, fail, guard_status, refuse};
use libdgen::vectors;
use libdgen::Error;

/// Fills `out[0 .. count)` with elements `index .. index + count` of the
/// float32 sequence of `seed`, uniform over `[low, high)`.
///
/// For vectors of dimension `dim`, vector `v` starts at element `v * dim`, so
/// `dgen_fill_f32_at(seed, v * dim, low, high, out, n * dim)` gives vectors
/// `v .. v + n`. Every value is a pure function of `seed`, the element index,
/// `low` and `high`: with `mix64` SplitMix64's output function and
/// `k = mix64(seed ^ 0x766563746f727331)`, elements `2p` and `2p + 1` take
/// bits 40 to 63 and 8 to 31 of `mix64(k + p * 0x9E3779B97F4A7C15)` as a
/// fraction `u` in `[0, 1)`, and the value is `low + (high - low) * u`
/// rounded to float (the largest float below `high` where that rounds up to
/// `high`). So any range can be filled on its own, and the same arguments
/// give the same values in every face. Nothing is allocated and no thread is
/// started; the call is safe from many threads.
///
/// Fails, leaving `out` unchanged, with `DGEN_STATUS_INVALID_CONFIG` when
/// `low` or `high` is not finite or `high` is not greater than `low`;
/// `DGEN_STATUS_OUT_OF_RANGE` when `index + count` passes 2^64, `count`
/// floats are more than any buffer can hold, or `out` is not aligned for
/// `float`; `DGEN_STATUS_NULL_POINTER` when `out` is NULL and `count` is not
/// 0.
///
/// # Safety
/// `out` is NULL or valid for writes of `count` floats.
#[no_mangle]
pub unsafe extern "C" fn dgen_fill_f32_at(
    seed: u64,
    index: u64,
    low: f32,
    high: f32,
    out: *mut f32,
    count: usize,
) -> dgen_status {
    guard_status("dgen_fill_f32_at", |func| {
        non_null!(func; out if count != 0)?;
        if count > isize::MAX as usize / std::mem::size_of::<f32>() {
            let message = format!("{func}: count {count} is more floats than any buffer can hold");
            return Err(refuse(dgen_status::OutOfRange, message));
        }
        if count != 0 && !out.is_aligned() {
            return Err(refuse(dgen_status::OutOfRange, format!("{func}: out ({out:p}) is not aligned for float")));
        }
        vectors::check_f32_args(index, count, low, high).map_err(|e| match e {
            Error::InvalidConfig { field: libdgen::Field::Index, .. } => refuse(dgen_status::OutOfRange, e.to_string()),
            e => fail(e),
        })?;
        let out: &mut [f32] = if count == 0 {
            &mut []
        } else {
            // SAFETY: `out` is not NULL, aligned for f32 (checked above) and,
            // as the caller guarantees, valid for writes of `count` floats,
            // which fit in isize bytes (checked above); nothing else uses the
            // memory during the call.
            unsafe { std::slice::from_raw_parts_mut(out, count) }
        };
        vectors::fill_f32_at(seed, index, low, high, out).map_err(fail)
    })
}
