//! The granule writer in plain code: the definition the vector kernels
//! match. The compiler vectorizes the lanes' loops at its baseline width.

use super::blocks::gaps_from_steps;
use crate::model::lanes::{self, LaneState};
use crate::model::{Granule, Model};

/// Draws lane steps into `out`, skewed where the granule has copies.
#[inline(always)]
fn draw(m: &Model, state: &mut LaneState, out: &mut [u8]) {
    lanes::generate(state, out);
    if let Some(skew) = &m.skew {
        skew.apply(out);
    }
}

/// Writes granule `g` of content `cid` of `m`.
#[inline(always)]
pub(crate) fn granule_portable(m: &Model, cid: u64, g: u64, out: &mut Granule) {
    m.granule_body(cid, g, out, |s, o| draw(m, s, o), |s, o, plan| gaps_from_steps(s, o, plan, |s, o| draw(m, s, o)))
}
