//! Verification against a write state: each unit checked against the
//! versions its entry accepts, and each wrong unit classified.

use super::Entry;
use crate::model::{Model, GRANULE};
use std::collections::HashMap;
use std::hash::Hasher;

/// Findings kept per class (the lowest offsets); the counts are exact.
pub const FINDINGS_KEPT: usize = 16;
/// How many versions below the accepted ones a wrong unit is compared
/// with to find a lost write (version 0 is always tried too).
pub const STALE_DEPTH: u64 = 256;
/// Wrong units whose content is looked up among the other units' (for
/// misplaced data); past this many, the rest count as corrupt.
pub const CANDIDATES_KEPT: usize = 1 << 16;

/// What a wrong unit holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// An earlier write of the same unit: a write was lost.
    Stale,
    /// Another unit's data: its current content or its first write.
    Misplaced,
    /// Only zero bytes: a hole, or a block the target never wrote.
    Zero,
    /// None of the above.
    Corrupt,
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 4] = [Class::Stale, Class::Misplaced, Class::Zero, Class::Corrupt];

    /// The class's name in reports: `stale`, `misplaced`, `zero`, `corrupt`.
    pub fn name(self) -> &'static str {
        match self {
            Class::Stale => "stale",
            Class::Misplaced => "misplaced",
            Class::Zero => "zero",
            Class::Corrupt => "corrupt",
        }
    }
}

/// One wrong unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What it holds.
    pub class: Class,
    /// Its first byte in the dataset.
    pub offset: u64,
    /// Its index.
    pub unit: u64,
    /// The latest version the state says it holds.
    pub expected_version: u64,
    /// For stale data: the earlier version found.
    pub found_version: Option<u64>,
    /// For misplaced data: the unit whose data it is (the lowest, when
    /// several hold the same content).
    pub from_unit: Option<u64>,
}

/// A wrong unit whose content is yet to be looked up among the others'.
#[derive(Clone, Debug, PartialEq)]
struct Candidate {
    offset: u64,
    unit: u64,
    len: usize,
    expected_version: u64,
    head: [u8; 32],
    hash: u64,
    from_unit: Option<u64>,
}

/// What a verification against a write state found, unit by unit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateCheck {
    /// Units that hold a version their entry accepts.
    pub ok: u64,
    /// Units never written (not checked).
    pub unwritten: u64,
    /// Units that may never have been written (a first write in flight
    /// when its writer died): not checked.
    pub in_doubt: u64,
    /// Wrong units, by class ([`Class::ALL`] order).
    pub counts: [u64; 4],
    /// The first [`FINDINGS_KEPT`] findings of each class, by offset.
    pub findings: Vec<Finding>,
    candidates: Vec<Candidate>,
    /// Candidates dropped past [`CANDIDATES_KEPT`] (counted corrupt).
    overflow: u64,
    /// Whether units never written are checked against their first write
    /// ([`StateCheck::unwritten_first`]).
    unwritten_first: bool,
}

fn unit_hash(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write(bytes);
    h.finish()
}

fn matches(model: &Model, unit: u64, offset: u64, bytes: &[u8], version: u64) -> bool {
    let cid = model.version_id(unit, version);
    model.first_mismatch_units(offset, bytes, |_| cid).is_none()
}

impl StateCheck {
    /// A check that takes a unit the state never saw written to hold its
    /// first write (the dataset's own bytes) and checks it, rather than
    /// skipping it: for a state that records the writes of one run over a
    /// target written before the run (a fio run without a state file of its
    /// own). Such units count as `ok` or wrong, never as `unwritten`.
    pub fn unwritten_first() -> StateCheck {
        StateCheck { unwritten_first: true, ..StateCheck::default() }
    }

    /// Wrong units of `class`.
    pub fn count(&self, class: Class) -> u64 {
        self.counts[class as usize]
    }

    /// Wrong units of every class.
    pub fn wrong(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Units checked: right and wrong.
    pub fn checked(&self) -> u64 {
        self.ok + self.wrong()
    }

    /// Whether every checked unit held a version its entry accepts.
    pub fn passed(&self) -> bool {
        self.wrong() == 0
    }

    /// The kept findings of `class`, lowest offset first once
    /// [`StateCheck::resolve`] has run.
    pub fn first(&self, class: Class) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.class == class)
    }

    fn record(&mut self, f: Finding) {
        self.counts[f.class as usize] += 1;
        let kept = self.first(f.class).count();
        if kept < FINDINGS_KEPT {
            self.findings.push(f);
        } else if let Some(last) = self
            .findings
            .iter_mut()
            .filter(|g| g.class == f.class)
            .max_by_key(|g| g.offset)
            .filter(|g| g.offset > f.offset)
        {
            *last = f;
        }
    }

    /// Checks one unit's `bytes` (at `offset`) against its `entry`; false
    /// when it is wrong.
    pub(crate) fn check_unit(&mut self, model: &Model, unit: u64, offset: u64, bytes: &[u8], entry: Entry) -> bool {
        // Written once and settled: version 0 and nothing else.
        let entry = if !entry.written && self.unwritten_first { Entry { written: true, ..entry } } else { entry };
        if !entry.written {
            self.unwritten += 1;
            return true;
        }
        let Some(accepted) = entry.accepted() else {
            self.in_doubt += 1;
            return true;
        };
        if accepted.clone().rev().any(|v| matches(model, unit, offset, bytes, v)) {
            self.ok += 1;
            return true;
        }
        let low = *accepted.start();
        let finding = |class, found_version| Finding {
            class,
            offset,
            unit,
            expected_version: entry.latest,
            found_version,
            from_unit: None,
        };
        if bytes.iter().all(|&b| b == 0) {
            self.record(finding(Class::Zero, None));
            return false;
        }
        let older = (low.saturating_sub(STALE_DEPTH)..low).rev().chain((low > STALE_DEPTH).then_some(0));
        if let Some(v) = older.into_iter().find(|&v| matches(model, unit, offset, bytes, v)) {
            self.record(finding(Class::Stale, Some(v)));
            return false;
        }
        if self.candidates.len() >= CANDIDATES_KEPT {
            self.overflow += 1;
            self.record(finding(Class::Corrupt, None));
            return false;
        }
        let mut head = [0u8; 32];
        let n = bytes.len().min(32);
        head[..n].copy_from_slice(&bytes[..n]);
        self.candidates.push(Candidate {
            offset,
            unit,
            len: bytes.len(),
            expected_version: entry.latest,
            head,
            hash: unit_hash(bytes),
            from_unit: None,
        });
        false
    }

    /// Adds another part's findings (another worker's, or another range's).
    pub fn merge(&mut self, other: StateCheck) {
        self.ok += other.ok;
        self.unwritten += other.unwritten;
        self.in_doubt += other.in_doubt;
        self.overflow += other.overflow;
        for c in Class::ALL {
            // Recorded findings are re-recorded to keep the lowest offsets.
            let n = other.count(c) - other.first(c).count() as u64;
            self.counts[c as usize] += n;
        }
        for f in other.findings {
            self.record(f);
        }
        for c in other.candidates {
            if self.candidates.len() < CANDIDATES_KEPT {
                self.candidates.push(c);
            } else {
                self.overflow += 1;
                self.counts[Class::Corrupt as usize] += 1;
            }
        }
    }

    /// Looks up the wrong units that matched no version of their own among
    /// every unit's current content and first write: those found are
    /// misplaced, the rest corrupt. `accepted(unit)` gives each unit's
    /// accepted versions. One pass over the dataset's units, generating the
    /// first granule of each (on every thread), done only when such units
    /// exist.
    pub fn resolve(
        &mut self,
        model: &Model,
        units: u64,
        unit_bytes: u64,
        accepted: impl Fn(u64) -> Option<std::ops::RangeInclusive<u64>> + Sync,
    ) {
        if self.candidates.is_empty() {
            self.findings.sort_by_key(|f| (f.class, f.offset));
            return;
        }
        let mut by_head: HashMap<[u8; 32], Vec<usize>> = HashMap::new();
        for (i, c) in self.candidates.iter().enumerate() {
            by_head.entry(c.head).or_default().push(i);
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(64) as u64;
        let per = units.div_ceil(threads).max(1);
        let candidates = &self.candidates;
        let by_head = &by_head;
        let accepted = &accepted;
        let found: Vec<(usize, u64)> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        let mut hits = Vec::new();
                        let mut g = [0u8; GRANULE];
                        let mut whole = vec![0u8; unit_bytes as usize];
                        for unit in t * per..((t + 1) * per).min(units) {
                            let versions = std::iter::once(0).chain(accepted(unit).into_iter().flatten());
                            for v in versions {
                                let cid = model.version_id(unit, v);
                                model.granule(cid, 0, &mut g);
                                let Some(list) = by_head.get(&g[..32]) else { continue };
                                for &i in list {
                                    let c = &candidates[i];
                                    if c.unit == unit {
                                        continue;
                                    }
                                    let buf = &mut whole[..c.len];
                                    model.fill_units(unit * unit_bytes, buf, |_| cid);
                                    if unit_hash(buf) == c.hash {
                                        hits.push((i, unit));
                                    }
                                }
                            }
                        }
                        hits
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().expect("a resolve worker panicked")).collect()
        });
        for (i, unit) in found {
            let c = &mut self.candidates[i];
            c.from_unit = Some(c.from_unit.map_or(unit, |u| u.min(unit)));
        }
        for c in std::mem::take(&mut self.candidates) {
            let class = if c.from_unit.is_some() { Class::Misplaced } else { Class::Corrupt };
            self.record(Finding {
                class,
                offset: c.offset,
                unit: c.unit,
                expected_version: c.expected_version,
                found_version: None,
                from_unit: c.from_unit,
            });
        }
        self.findings.sort_by_key(|f| (f.class, f.offset));
    }

    /// Wrong units still to be looked up by [`StateCheck::resolve`].
    pub fn unresolved(&self) -> usize {
        self.candidates.len()
    }
}
