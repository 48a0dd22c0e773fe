//! The dedup map: dedup unit index -> content id.
//!
//! Units are grouped in aligned windows of [`WINDOW_UNITS`]. A window of `n`
//! units holds `d = round(n / dedup_ratio)` distinct contents, so the ratio is
//! exact to rounding in every window (and so over any whole number of windows).
//! The last window of a sized stream is shortened to the units that remain, so a
//! sized stream's ratio is exact over the whole stream too.
//!
//! Inside a window the units are laid out in rows of `d` columns. Every row
//! holds each content at most once, and row `r` is row 0 rotated by
//! `r * delta (mod d)` with `delta` drawn per window from `[d/2, 5d/8]`. Copies
//! of one content are therefore spread through the window and never closer than
//! `d/2` units: a chunk of fewer than `d/2` units (2 MiB / dedup_ratio at 4 KiB
//! units) never holds two copies, so compressing such chunks sees no dedup.
//! Contents of different windows never repeat each other.

use super::hash::mix64;

/// Units per dedup window: the span over which the ratio is exact.
pub const WINDOW_UNITS: u64 = 1024;

/// Maps dedup unit indexes to content ids for one ratio, stream size and seed.
#[derive(Clone, Debug)]
pub struct DedupMap {
    ratio: f64,
    /// Total units of a sized stream; 0 for an endless stream.
    total_units: u64,
    /// Distinct contents in a full window.
    full_distinct: u64,
    key: u64,
}

/// Distinct contents in a window of `n` units.
fn distinct(n: u64, ratio: f64) -> u64 {
    ((n as f64 / ratio).round() as u64).clamp(1, n.max(1))
}

impl DedupMap {
    /// A map for `ratio`, a stream of `total_units` units (0: endless) and a
    /// per-seed `key` that varies the rotation of each window.
    pub fn new(ratio: f64, total_units: u64, key: u64) -> Self {
        DedupMap { ratio, total_units, full_distinct: distinct(WINDOW_UNITS, ratio), key }
    }

    /// Units in window `w`: full, or what remains at the end of a sized stream.
    #[inline]
    pub fn window_len(&self, w: u64) -> u64 {
        if self.total_units == 0 {
            WINDOW_UNITS
        } else {
            self.total_units.saturating_sub(w * WINDOW_UNITS).min(WINDOW_UNITS)
        }
    }

    /// Distinct contents in window `w`.
    #[inline]
    pub fn window_distinct(&self, w: u64) -> u64 {
        let n = self.window_len(w);
        if n == WINDOW_UNITS {
            self.full_distinct
        } else {
            distinct(n, self.ratio)
        }
    }

    /// The content id of dedup unit `unit`; units with equal ids hold equal bytes.
    /// O(1): a few multiplications and one small division.
    #[inline]
    pub fn content_id(&self, unit: u64) -> u64 {
        let w = unit / WINDOW_UNITS;
        let i = unit % WINDOW_UNITS;
        let d = self.window_distinct(w);
        if d >= self.window_len(w) {
            return unit;
        }
        // Row/column arithmetic in u32: d <= 1024.
        let (d32, i32_) = (d as u32, i as u32);
        let (row, col) = (i32_ / d32, i32_ % d32);
        let half = d32 / 2;
        let jitter = ((u128::from(mix64(w ^ self.key)) * u128::from(d32 / 8 + 1)) >> 64) as u32;
        let delta = half + jitter;
        let shift = (row * delta) % d32;
        let c = (col + d32 - shift) % d32;
        w * WINDOW_UNITS + u64::from(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn window_ids(m: &DedupMap, w: u64) -> Vec<u64> {
        let n = m.window_len(w);
        (0..n).map(|i| m.content_id(w * WINDOW_UNITS + i)).collect()
    }

    #[test]
    fn every_window_has_round_n_over_ratio_distinct_ids() {
        for &ratio in &[1.0, 1.3, 1.5, 2.0, 2.5, 3.7, 4.0, 7.2, 8.0, 10.0, 100.0, 1024.0] {
            let m = DedupMap::new(ratio, 0, 42);
            for w in [0u64, 1, 77, 1 << 40] {
                let ids = window_ids(&m, w);
                let mut distinct: Vec<u64> = ids.clone();
                distinct.sort_unstable();
                distinct.dedup();
                assert_eq!(distinct.len() as u64, m.window_distinct(w), "ratio {ratio} window {w}");
                let want = (1024.0 / ratio).round().max(1.0) as usize;
                assert_eq!(distinct.len(), want, "ratio {ratio}");
                assert!(ids.iter().all(|&c| c / WINDOW_UNITS == w), "ids stay in their window");
            }
        }
    }

    #[test]
    fn copies_are_never_closer_than_half_the_distinct_count() {
        for &ratio in &[1.5, 2.0, 3.0, 4.0, 8.0, 10.0] {
            let m = DedupMap::new(ratio, 0, 7);
            for w in 0..20u64 {
                let ids = window_ids(&m, w);
                let d = m.window_distinct(w) as usize;
                let mut last: HashMap<u64, usize> = HashMap::new();
                for (i, c) in ids.iter().enumerate() {
                    if let Some(&p) = last.get(c) {
                        assert!(i - p >= d / 2, "ratio {ratio}: copies {p} and {i} too close (d={d})");
                    }
                    last.insert(*c, i);
                }
            }
        }
    }

    #[test]
    fn last_window_of_sized_stream_keeps_the_ratio() {
        // 1500 units: one full window and one of 476.
        let m = DedupMap::new(2.0, 1500, 3);
        assert_eq!(m.window_len(1), 476);
        let ids = window_ids(&m, 1);
        let mut d = ids.clone();
        d.sort_unstable();
        d.dedup();
        assert_eq!(d.len(), 238);
    }
}
