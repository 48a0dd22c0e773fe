//! Seeded float32 vectors for vector-database benchmarks.
//!
//! A dataset of vectors is one sequence of float32 values, a pure function of
//! `(seed, element index, low, high)`: vector `v` of dimension `dim` is the
//! elements `[v * dim, (v + 1) * dim)`. As with the byte stream, any range is
//! produced directly in O(len) time and O(1) memory, so N workers that each
//! fill a disjoint range of vectors together make exactly the dataset one
//! worker would, and a vector can be recomputed on its own to check a query
//! result.
//!
//! ## The distribution
//! Values are uniform over `[low, high)` at float32's 24-bit resolution:
//!
//! - The seed gives a key, `k = mix64(seed ^ 0x7665_6374_6f72_7331)` (the
//!   constant keeps these values apart from the byte stream of the same seed),
//!   where `mix64` is SplitMix64's output function.
//! - Elements `2p` and `2p + 1` share one 64-bit draw, `h = mix64(k + p * φ)`
//!   (φ = 0x9E37_79B9_7F4A_7C15, SplitMix64's increment, wrapping): element
//!   `2p` takes the top 24 bits of `h` and element `2p + 1` the 24 bits below
//!   the lowest byte (`(h >> 8) & 0xff_ffff`). A draw `r` of 24 bits gives
//!   `u = r / 2^24` in `[0, 1)`.
//! - The value is `low + (high - low) * u`, computed in f64 and rounded to the
//!   nearest float32; a result that rounds up to `high` is replaced by the
//!   largest float32 below `high`, so `high` itself never appears.
//!
//! Every step is integer arithmetic or a correctly rounded IEEE operation, so
//! the values are the same on every machine, in every face (Rust, C, Go,
//! Python) and for every way of splitting a range.
//!
//! [`normalize_rows`] scales each row to unit L2 norm, as cosine-similarity
//! benchmarks expect.
//!
//! ```
//! let mut head = vec![0f32; 8];
//! dgen::vectors::fill_f32_at(42, 0, -1.0, 1.0, &mut head).unwrap();
//! // Any part of the range on its own gives the same values.
//! let mut tail = vec![0f32; 3];
//! dgen::vectors::fill_f32_at(42, 5, -1.0, 1.0, &mut tail).unwrap();
//! assert_eq!(&head[5..], &tail[..]);
//! assert!(head.iter().all(|v| (-1.0..1.0).contains(v)));
//!
//! // Two vectors of dimension 4, each scaled to unit length.
//! dgen::vectors::normalize_rows(&mut head, 4).unwrap();
//! let norm: f32 = head[..4].iter().map(|v| v * v).sum::<f32>().sqrt();
//! assert!((norm - 1.0).abs() < 1e-6);
//! ```

use crate::error::Error;
use crate::model::hash::{mix64, GOLDEN};

/// Keeps the float stream of a seed apart from the byte stream of the same
/// seed ("vectors1" in ASCII).
const DOMAIN: u64 = 0x7665_6374_6f72_7331;

/// 2^-24: one step of a 24-bit draw in `[0, 1)`.
const STEP: f64 = 1.0 / (1u64 << 24) as f64;

/// Checks the arguments of [`fill_f32_at`] without filling anything: `low`
/// and `high` finite with `low < high`, and `index + count` at most 2^64.
pub fn check_f32_args(index: u64, count: usize, low: f32, high: f32) -> Result<(), Error> {
    if !low.is_finite() {
        return Err(Error::InvalidConfig {
            field: crate::Field::Low,
            value: format!("{low}"),
            expected: "must be a finite number below high",
        });
    }
    if !high.is_finite() {
        return Err(Error::InvalidConfig {
            field: crate::Field::High,
            value: format!("{high}"),
            expected: "must be a finite number above low",
        });
    }
    if low >= high {
        return Err(Error::InvalidConfig {
            field: crate::Field::High,
            value: format!("{high} (low is {low})"),
            expected: "must be greater than low",
        });
    }
    if count != 0 && (count - 1) as u64 > u64::MAX - index {
        return Err(Error::InvalidConfig {
            field: crate::Field::Index,
            value: format!("{index} + {count}"),
            expected: "+ count must be at most 2^64 (element indexes are 64-bit)",
        });
    }
    Ok(())
}

/// The value a 24-bit draw `r` gives in `[low, high)`; `top` is the largest
/// float32 below `high`, which stands in for a value that rounds up to `high`
/// (any value below `high` is at most `top`, so `min` changes nothing else).
#[inline(always)]
fn scale(r: u64, low: f64, span: f64, top: f32) -> f32 {
    // `r` has 24 bits: the signed conversion is exact and cheaper than the
    // unsigned one.
    let u = r as i32 as f64 * STEP;
    ((low + span * u) as f32).min(top)
}

/// The largest float32 below `x` (finite `x`).
fn below(x: f32) -> f32 {
    let bits = x.to_bits();
    if x == 0.0 {
        -f32::from_bits(1)
    } else if x > 0.0 {
        f32::from_bits(bits - 1)
    } else {
        f32::from_bits(bits + 1)
    }
}

/// Fills `out` with the values of elements `index, index + 1, ...` of the
/// float32 sequence of `seed`, uniform over `[low, high)` (see the module
/// documentation for the exact definition).
///
/// For vectors of dimension `dim`, vector `v` starts at element `v * dim`.
/// Errors name the argument and its value: `low` or `high` not finite,
/// `high` not greater than `low`, or `index + out.len()` past 2^64; `out` is
/// left as it was.
pub fn fill_f32_at(seed: u64, index: u64, low: f32, high: f32, out: &mut [f32]) -> Result<(), Error> {
    check_f32_args(index, out.len(), low, high)?;
    let key = mix64(seed ^ DOMAIN);
    let (lo, span, top) = (f64::from(low), f64::from(high) - f64::from(low), below(high));
    let draw = |pair: u64| mix64(key.wrapping_add(pair.wrapping_mul(GOLDEN)));
    // An odd first index takes the second half of its pair's draw.
    let rest = match out.split_first_mut() {
        Some((first, tail)) if index % 2 == 1 => {
            *first = scale((draw(index / 2) >> 8) & 0xff_ffff, lo, span, top);
            tail
        }
        _ => out,
    };
    let mut pair = index.div_ceil(2);
    let mut chunks = rest.chunks_exact_mut(2);
    for two in &mut chunks {
        let h = draw(pair);
        two[0] = scale(h >> 40, lo, span, top);
        two[1] = scale((h >> 8) & 0xff_ffff, lo, span, top);
        pair = pair.wrapping_add(1);
    }
    if let [last] = chunks.into_remainder() {
        *last = scale(draw(pair) >> 40, lo, span, top);
    }
    Ok(())
}

/// Scales every row of `dim` values in `data` to unit L2 norm, in place.
///
/// The norm is summed in f64 and each value multiplied by its reciprocal. A
/// row whose norm is zero or NaN is left unchanged (there is no direction to
/// keep). Errors: `dim` 0, or `data.len()` not a multiple of `dim`.
pub fn normalize_rows(data: &mut [f32], dim: usize) -> Result<(), Error> {
    if dim == 0 {
        return Err(Error::InvalidConfig {
            field: crate::Field::Dim,
            value: "0".into(),
            expected: "must be at least 1",
        });
    }
    if !data.len().is_multiple_of(dim) {
        return Err(Error::InvalidConfig {
            field: crate::Field::Dim,
            value: format!("{dim} for {} values", data.len()),
            expected: "must divide the number of values",
        });
    }
    for row in data.chunks_exact_mut(dim) {
        let sum: f64 = row.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        // Zero and NaN norms (NaN is not greater than 0) leave the row as it is.
        if sum.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            continue;
        }
        let inv = 1.0 / sum.sqrt();
        for v in row.iter_mut() {
            *v = (f64::from(*v) * inv) as f32;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(seed: u64, index: u64, n: usize, low: f32, high: f32) -> Vec<f32> {
        let mut v = vec![0f32; n];
        fill_f32_at(seed, index, low, high, &mut v).unwrap();
        v
    }

    #[test]
    fn any_range_gives_the_values_of_the_whole() {
        let whole = values(7, 0, 1001, 0.0, 1.0);
        for start in [0usize, 1, 2, 3, 500, 999, 1000] {
            for len in [0usize, 1, 2, 3, 64] {
                let end = (start + len).min(whole.len());
                let part = values(7, start as u64, end - start, 0.0, 1.0);
                assert_eq!(part, &whole[start..end], "start {start} len {len}");
            }
        }
    }

    #[test]
    fn values_stay_in_range_and_spread_over_it() {
        let v = values(1, 0, 1 << 16, -2.0, 3.0);
        assert!(v.iter().all(|x| (-2.0..3.0).contains(x)));
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
        assert!((mean - 0.5).abs() < 0.05, "mean {mean}");
        let mut buckets = [0usize; 10];
        for &x in &v {
            buckets[((f64::from(x) + 2.0) / 0.5).min(9.0) as usize] += 1;
        }
        let expect = v.len() / 10;
        assert!(buckets.iter().all(|&b| b.abs_diff(expect) < expect / 10), "{buckets:?}");
    }

    #[test]
    fn high_is_never_reached() {
        // A range so narrow that most draws round to one of its ends.
        let high = 1.0f32;
        let low = below(high);
        assert!(values(3, 0, 4096, low, high).iter().all(|&x| x == low));
        assert!(values(3, 0, 64, -1e-45, 0.0).iter().all(|&x| x < 0.0));
        assert!(values(3, 0, 64, f32::MIN, f32::MAX).iter().all(|x| x.is_finite()));
    }

    #[test]
    fn seeds_and_domains_differ() {
        assert_ne!(values(1, 0, 16, 0.0, 1.0), values(2, 0, 16, 0.0, 1.0));
        // Neighbouring seeds are not shifted copies of each other.
        let a = values(1, 0, 64, 0.0, 1.0);
        let b = values(2, 0, 64, 0.0, 1.0);
        assert!(a.windows(4).all(|w| !b.windows(4).any(|x| x == w)));
    }

    #[test]
    fn the_last_indexes_are_reachable() {
        let mut v = [0f32; 2];
        fill_f32_at(9, u64::MAX - 1, 0.0, 1.0, &mut v).unwrap();
        let mut last = [0f32; 1];
        fill_f32_at(9, u64::MAX, 0.0, 1.0, &mut last).unwrap();
        assert_eq!(v[1], last[0]);
    }

    #[test]
    fn bad_arguments_name_the_field_and_value() {
        let mut v = [0f32; 4];
        let err = |index, low, high, v: &mut [f32]| fill_f32_at(1, index, low, high, v).unwrap_err().to_string();
        assert_eq!(err(0, f32::NAN, 1.0, &mut v), "low must be a finite number below high, got NaN");
        assert_eq!(err(0, 0.0, f32::INFINITY, &mut v), "high must be a finite number above low, got inf");
        assert_eq!(err(0, 1.0, 1.0, &mut v), "high must be greater than low, got 1 (low is 1)");
        assert_eq!(
            err(u64::MAX - 2, 0.0, 1.0, &mut v),
            "index + count must be at most 2^64 (element indexes are 64-bit), got 18446744073709551613 + 4"
        );
        assert_eq!(v, [0.0; 4], "a refused call leaves the buffer alone");
        assert!(fill_f32_at(1, u64::MAX, 0.0, 1.0, &mut []).is_ok());
    }

    #[test]
    fn rows_get_unit_norm_and_zero_rows_stay() {
        let mut v = vec![3.0, 4.0, 0.0, 0.0, f32::NAN, 1.0, f32::INFINITY, 1.0];
        normalize_rows(&mut v, 2).unwrap();
        assert_eq!(&v[..4], &[0.6, 0.8, 0.0, 0.0]);
        assert!(v[4].is_nan() && v[5] == 1.0);
        assert!(v[6].is_nan() && v[7] == 0.0);
        assert_eq!(normalize_rows(&mut v, 0).unwrap_err().to_string(), "dim must be at least 1, got 0");
        assert_eq!(
            normalize_rows(&mut v, 3).unwrap_err().to_string(),
            "dim must divide the number of values, got 3 for 8 values"
        );
        normalize_rows(&mut [], 5).unwrap();
    }
}
