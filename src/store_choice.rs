//! Ordinary or non-temporal stores for large fills, chosen by timing a
//! generator's own fills.
//!
//! Which one writes a large buffer faster depends on where the buffer's
//! lines are when the fill starts, and no rule read from the machine can
//! tell: a buffer refilled back to back stays in a large L3, where ordinary
//! stores win, while one that leaves the cache between fills (the consumer
//! touched other memory, the machine's other tenants evicted it, or it is
//! written for the first time) is written faster with streaming stores,
//! which skip the read of every line. So each generator tries both on its
//! own fills of [`STREAM_MIN`](crate::STREAM_MIN) bytes and more, and keeps
//! the faster:
//!
//! - a round of trials takes twelve fills: six with ordinary stores, then
//!   six with streaming ones, the first three of each six untimed (they
//!   bring the buffer to the state that kind leaves it in: ordinary stores
//!   need passes to bring lines that streaming ones sent to memory back
//!   into cache), the other three timed;
//! - the fills after the round use streaming stores when their time per
//!   byte was lower by a tenth or more, else ordinary ones,
//!   until the next round, [`ROUND`] large fills after the last one began,
//!   so that a change in how the caller uses its buffers is followed;
//! - fills made before the first round has decided follow
//!   [`streaming_threshold`](crate::streaming_threshold).
//!
//! Bytes never depend on the choice. Concurrent fills share the schedule
//! (one atomic counter); their timings then overlap, which can only blur a
//! round's result, never make a fill wrong.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::Instant;

/// Large fills from one round of trials to the next.
pub const ROUND: u64 = 1024;
/// Fills of one kind in a round: the first [`UNTIMED`] untimed, the rest
/// timed.
const TRIALS: u64 = 6;
const UNTIMED: u64 = 3;

/// A store kind, as [`StoreChoice::chosen`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stores {
    /// Ordinary stores: the lines stay in cache.
    Ordinary = 0,
    /// Non-temporal stores: the lines go to memory.
    Streaming = 1,
}

/// One generator's schedule of trials and its choice.
pub(crate) struct StoreChoice {
    /// Large fills begun: the place of the next one in the schedule.
    fills: AtomicU64,
    /// Picoseconds per byte of this round's timed fills, summed:
    /// `[ordinary, streaming]`.
    cost: [AtomicU64; 2],
    /// 0 before the first round has decided, else 1 + the index of the
    /// faster kind in `cost`.
    chosen: AtomicU8,
}

/// A large fill's place in the schedule: the kind it uses, and whether its
/// time counts for that kind.
pub(crate) struct Turn {
    pub stores: Stores,
    timed: bool,
    last: bool,
    start: Instant,
}

impl StoreChoice {
    pub(crate) fn new() -> StoreChoice {
        StoreChoice { fills: AtomicU64::new(0), cost: [AtomicU64::new(0), AtomicU64::new(0)], chosen: AtomicU8::new(0) }
    }

    /// The kind the last round chose, None before the first has decided.
    pub(crate) fn chosen(&self) -> Option<Stores> {
        match self.chosen.load(Ordering::Relaxed) {
            1 => Some(Stores::Ordinary),
            2 => Some(Stores::Streaming),
            _ => None,
        }
    }

    /// Where the next large fill stands; `rule` is the kind to use before a
    /// round has decided (or once this one's trials are taken).
    pub(crate) fn turn(&self, rule: Stores) -> Turn {
        let i = self.fills.fetch_add(1, Ordering::Relaxed) % ROUND;
        if i == 0 {
            for c in &self.cost {
                c.store(0, Ordering::Relaxed);
            }
        }
        let (stores, timed) = match i {
            _ if i < TRIALS => (Stores::Ordinary, i >= UNTIMED),
            _ if i < 2 * TRIALS => (Stores::Streaming, i >= TRIALS + UNTIMED),
            _ => (self.chosen().unwrap_or(rule), false),
        };
        Turn { stores, timed, last: i == 2 * TRIALS - 1, start: Instant::now() }
    }

    /// Records a fill of `len` bytes that `turn` placed, once it is done.
    pub(crate) fn done(&self, turn: Turn, len: usize) {
        if !turn.timed {
            return;
        }
        let ps_per_byte = (turn.start.elapsed().as_nanos() * 1000 / len.max(1) as u128).min(u64::MAX as u128) as u64;
        let k = turn.stores as usize;
        self.cost[k].fetch_add(ps_per_byte.max(1), Ordering::Relaxed);
        if turn.last {
            let [ordinary, streaming] = [&self.cost[0], &self.cost[1]].map(|c| c.load(Ordering::Relaxed));
            // Streaming must win by a tenth: ordinary stores also leave the
            // bytes in cache for the caller, which the trials do not time,
            // and a near tie is within their noise.
            let faster = if streaming.saturating_mul(11) < ordinary.saturating_mul(10) {
                Stores::Streaming
            } else {
                Stores::Ordinary
            };
            self.chosen.store(1 + faster as u8, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_tries_ordinary_then_streaming_and_keeps_the_faster() {
        let choice = StoreChoice::new();
        let mut kinds = Vec::new();
        for i in 0..2 * TRIALS {
            let mut turn = choice.turn(Stores::Ordinary);
            kinds.push(turn.stores);
            // Streaming fills "take" 1 ms for 1 MiB, ordinary ones 2 ms.
            let ms = if turn.stores == Stores::Streaming { 1 } else { 2 };
            turn.start -= std::time::Duration::from_millis(ms);
            assert_eq!(choice.chosen(), None, "decided before the round's last fill ({i})");
            choice.done(turn, 1 << 20);
        }
        let n = TRIALS as usize;
        assert_eq!(kinds[..n], vec![Stores::Ordinary; n]);
        assert_eq!(kinds[n..], vec![Stores::Streaming; n]);
        assert_eq!(choice.chosen(), Some(Stores::Streaming));
        // Until the next round, every large fill takes the choice.
        for _ in 2 * TRIALS..ROUND {
            let turn = choice.turn(Stores::Ordinary);
            assert_eq!(turn.stores, Stores::Streaming);
            choice.done(turn, 1 << 20);
        }
        // The next round starts afresh and can decide the other way; a
        // streaming win by less than a tenth keeps ordinary stores.
        for _ in 0..2 * TRIALS {
            let mut turn = choice.turn(Stores::Streaming);
            let ms = if turn.stores == Stores::Streaming { 20 } else { 21 };
            turn.start -= std::time::Duration::from_millis(ms);
            choice.done(turn, 1 << 20);
        }
        assert_eq!(choice.chosen(), Some(Stores::Ordinary));
    }

    #[test]
    fn before_a_decision_the_rule_applies_after_the_trials() {
        let choice = StoreChoice::new();
        // A round's fills begun but none finished (concurrent fills): the
        // next follows the rule.
        let turns: Vec<Turn> = (0..2 * TRIALS).map(|_| choice.turn(Stores::Ordinary)).collect();
        assert_eq!(choice.turn(Stores::Ordinary).stores, Stores::Ordinary);
        assert_eq!(choice.turn(Stores::Streaming).stores, Stores::Streaming);
        drop(turns);
        assert_eq!(choice.chosen(), None);
    }
}
