//! The content of later writes of a dedup unit.
//!
//! Version 0 of unit `u` is the stream's content there (the dedup map's id).
//! Version `v >= 1`, the content a `v`-th overwrite writes, is one of two
//! kinds, drawn from a hash of `(seed, u, v)`:
//!
//! - **fresh** (a share `q` of versions): content no other unit or version
//!   holds, id `VERSIONED | (v * units + u)`;
//! - **pooled** (the rest): one of `pool` shared contents, id
//!   `VERSIONED | POOLED | j`, the same bytes wherever and whenever written.
//!
//! A stream of overwrites, at any offsets and in any order, then holds
//! `q * W` fresh contents and at most `pool` pooled ones among `W` units
//! written, so its dedup ratio is `W / (q * W + pool)` once every pooled
//! content has been drawn. With `pool` about `units / (32 * ratio)` (4
//! times a power of two, from half that to that) and
//! `q = 1 / ratio - pool / units`, that is the ratio asked for exactly when
//! `W` is the unit count, at most 1.6% above it at twice that, at most 3.2%
//! above it for ever more writes, and at most 3% below it at half.
//!
//! A pooled version of unit `u` takes content `u mod (pool / 4)` (a power
//! of two) of the
//! pool's quarter `v mod 4`. So no four versions in a row of one unit share
//! a content, and units closer than `pool / 4` (at least [`MIN_QUARTER`])
//! never hold the same pooled content at once: a write of neighbouring
//! units holds no duplicates, as in the first pass (see [`super::dedup`]),
//! and a compressor fed one write finds none. Fresh ids are distinct. Ids
//! of versions have the top bit set; the dedup map's ids stay below 2^52 (a
//! unit index of a stream of at most 2^64 bytes), so no version repeats a
//! first-pass content.
//!
//! The pool has at least `4 * MIN_QUARTER` contents: a dataset of fewer
//! than `4096 * ratio` units (16 MiB times the ratio at 4 KiB units) drifts
//! further from the ratio than the figures above as writes accumulate
//! (`pool * ratio / units` is the drift's scale).

use super::hash::mix64;

/// Set in the id of every version from 1 on.
pub const VERSIONED: u64 = 1 << 63;
/// Set, with [`VERSIONED`], in the id of a pooled version.
pub const POOLED: u64 = 1 << 62;

/// The fewest contents in a quarter of the pool: units closer than this
/// never share a pooled content, so a write of up to 32 units (128 KiB at
/// 4 KiB units) holds no duplicate.
pub const MIN_QUARTER: u64 = 32;

/// Version ids of one dataset: its unit count, dedup ratio and seed.
#[derive(Clone, Debug)]
pub struct Versions {
    units: u64,
    /// The share of versions that are fresh.
    fresh: f64,
    /// A version is fresh when its hash falls below this (`fresh * 2^64`,
    /// saturated).
    fresh_below: u64,
    /// `pool / 4 - 1`: a quarter of the pool is a power of two, so a
    /// unit's place in it is a mask, not a division.
    quarter_mask: u64,
    /// Shared contents; 0 when every version is fresh (dedup 1).
    pool: u64,
    key: u64,
}

impl Versions {
    /// Versions for a dataset of `units` dedup units (at least 1) at
    /// `dedup_ratio`, with a per-seed `key`.
    pub fn new(dedup_ratio: f64, units: u64, key: u64) -> Versions {
        let units = units.max(1);
        if dedup_ratio <= 1.0 {
            return Versions { units, fresh: 1.0, fresh_below: u64::MAX, quarter_mask: 0, pool: 0, key };
        }
        // The power of two at or below units / (128 * ratio), at least
        // MIN_QUARTER.
        let quarter = 1u64 << ((units as f64 / (128.0 * dedup_ratio)) as u64).max(MIN_QUARTER).ilog2();
        let pool = quarter * 4;
        let fresh = (1.0 / dedup_ratio - pool as f64 / units as f64).max(0.0);
        // As f64, 2^64 rounds to itself and the cast saturates.
        let fresh_below = (fresh * 18_446_744_073_709_551_616.0) as u64;
        Versions { units, fresh, fresh_below, quarter_mask: quarter - 1, pool, key }
    }

    /// Contents shared by pooled versions (0: every version is fresh).
    pub fn pool(&self) -> u64 {
        self.pool
    }

    /// The share of versions that are fresh.
    pub fn fresh_share(&self) -> f64 {
        self.fresh
    }

    /// The highest version [`Versions::content_id`] takes for every unit.
    pub fn max_version(&self) -> u64 {
        ((POOLED - 1) / self.units).saturating_sub(1)
    }

    /// The content id of `version` (1 or more, at most
    /// [`Versions::max_version`]) of `unit`.
    pub fn content_id(&self, unit: u64, version: u64) -> u64 {
        debug_assert!(version >= 1 && version <= self.max_version() && unit < self.units);
        let h = mix64(mix64(unit ^ self.key) ^ version.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        if h < self.fresh_below || self.pool == 0 {
            return VERSIONED | (version * self.units + unit);
        }
        let j = (version % 4) * (self.quarter_mask + 1) + (unit & self.quarter_mask);
        VERSIONED | POOLED | j
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Dedup ratio of `writes` unit writes at random units, each the next
    /// version of its unit.
    fn written_ratio(ratio: f64, units: u64, writes: u64, seed: u64) -> f64 {
        let v = Versions::new(ratio, units, seed);
        let mut ver = vec![0u64; units as usize];
        let mut ids = HashSet::new();
        let mut x = seed;
        for _ in 0..writes {
            x = mix64(x.wrapping_add(1));
            let u = ((u128::from(x) * u128::from(units)) >> 64) as u64;
            ver[u as usize] += 1;
            ids.insert(v.content_id(u, ver[u as usize]));
        }
        writes as f64 / ids.len() as f64
    }

    #[test]
    fn the_written_stream_keeps_the_ratio_from_half_a_pass_on() {
        for ratio in [1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 50.0] {
            for (passes, lo, hi) in [(0.5, 0.95, 1.0), (1.0, 0.98, 1.02), (2.0, 0.99, 1.035), (4.0, 0.99, 1.05)] {
                // Which versions are fresh is drawn per write: the count's
                // spread is 1 / sqrt(fresh writes), 1% here at ratio 50.
                let units = 1 << 18;
                let got = written_ratio(ratio, units, (units as f64 * passes) as u64, 7);
                let rel = got / ratio;
                println!("ratio {ratio} passes {passes}: {got:.3} ({rel:.4})");
                assert!((lo..=hi).contains(&rel), "ratio {ratio}, {passes} passes: got {got:.3} ({rel:.3} of it)");
            }
        }
    }

    #[test]
    fn no_version_repeats_the_one_before_and_none_repeats_the_first_pass() {
        for ratio in [1.0, 2.0, 100.0, 1024.0] {
            for units in [1u64, 3, 1000] {
                let v = Versions::new(ratio, units, 11);
                for u in 0..units.min(50) {
                    for ver in 1..200 {
                        let (a, b) = (v.content_id(u, ver), v.content_id(u, ver + 1));
                        assert_ne!(a, b, "ratio {ratio} units {units} unit {u} version {ver}");
                        assert!(a & VERSIONED != 0);
                    }
                }
            }
        }
    }

    #[test]
    fn neighbouring_units_never_hold_one_pooled_content_whatever_their_versions() {
        let v = Versions::new(3.0, 1 << 16, 5);
        let mut x = 1u64;
        for start in (0..(1u64 << 16) - MIN_QUARTER).step_by(997) {
            let mut pooled = HashSet::new();
            for u in start..start + MIN_QUARTER {
                x = mix64(x);
                let id = v.content_id(u, 1 + x % 1000);
                if id & POOLED != 0 {
                    assert!(pooled.insert(id), "units from {start}: {id:x} twice");
                }
            }
        }
    }

    #[test]
    fn fresh_ids_are_distinct_across_units_and_versions() {
        let v = Versions::new(1.0, 100, 3);
        let ids: HashSet<u64> =
            (0..100).flat_map(|u| (1..50).map(move |ver| (u, ver))).map(|(u, ver)| v.content_id(u, ver)).collect();
        assert_eq!(ids.len(), 100 * 49);
        assert_eq!(v.max_version(), (POOLED - 1) / 100 - 1);
    }
}
