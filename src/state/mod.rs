//! Write state: which write of each dedup unit a target holds, so that
//! overwrites write new data and a verification catches lost writes.
//!
//! Every byte of a dataset is a function of `(seed, config, offset)`, so a
//! target written twice would hold the same bytes twice: a dedup array
//! stores nothing on the second pass, and a write the target dropped leaves
//! bytes identical to the ones it should have written. With a
//! [`WriteState`], each write of a unit writes its next *version*: version 0
//! is the dataset's own content (a single pass gives exactly the bytes
//! without a state), and version `v >= 1` has content of its own, drawn so
//! that a stream of overwrites keeps the dataset's compression exactly and
//! its dedup ratio within a few percent ([`crate::model::versions`]).
//!
//! The state is a file, mapped into memory and shared by every writer of
//! the target, in this process or another (fio's jobs are processes). It
//! holds an 8-byte entry per dedup unit: the unit's latest version, and
//! which versions may be on the target while writes of it are in flight.
//! Memory is therefore 8 bytes per unit: 2 GiB per TiB of dataset at 4 KiB
//! units, 256 MiB per TiB at 32 KiB. A writer claims a unit before its I/O
//! (the entry then accepts the old or the new version) and completes it
//! after; a writer killed between the two leaves the unit accepting either,
//! which is all anyone can know of it. Verification ([`StateCheck`]) checks
//! each unit against the versions its entry accepts and classifies each
//! wrong unit as stale, misplaced, zero or corrupt.
//!
//! # File format (version 1)
//! All integers little-endian. A 4096-byte header, then one `u64` entry per
//! dedup unit; the file is exactly `4096 + 8 * units` bytes.
//!
//! | offset | field |
//! |---|---|
//! | 0 | magic `DGENSTAT` |
//! | 8 | format version, `u32` (1) |
//! | 12 | header length, `u32` (4096) |
//! | 16 | dedup units, `u64` |
//! | 24 | dataset size in bytes, `u64` |
//! | 32 | dedup unit in bytes, `u32` |
//! | 36 | reserved, 0 |
//! | 40 | seed, `u64` |
//! | 48 | dedup ratio, `f64` |
//! | 56 | compress ratio, `f64` |
//! | 64 | unit writes completed, `u64` (a counter, for `dgen state show`) |
//! | 72 | compressor name, 16 bytes, NUL-padded |
//!
//! An entry holds, from bit 0: the latest version claimed (40 bits), `span`
//! (8 bits: versions below it that the unit may hold once nothing is in
//! flight; 255 means any), `pending` (8 bits: writes in flight), `episode`
//! (7 bits: versions claimed since nothing was last in flight) and, in bit
//! 63, whether the unit was ever claimed. While writes are in flight the
//! unit may hold any version from `latest - episode - span` to `latest`;
//! a range reaching below 0 includes "never written", and the unit cannot
//! be checked. A writer that opens the state when no other process has it
//! open turns what a killed writer left in flight into `span`.

#[cfg(unix)]
mod file;
mod verify;

#[cfg(unix)]
pub use file::{Claim, Header, WriteState};
pub use verify::{Class, Finding, StateCheck, CANDIDATES_KEPT, FINDINGS_KEPT, STALE_DEPTH};

use std::fmt;

/// Magic bytes at the start of a state file.
pub const MAGIC: [u8; 8] = *b"DGENSTAT";
/// The format version this library writes and reads.
pub const FORMAT: u32 = 1;
/// Bytes before the first entry.
pub const HEADER_BYTES: u64 = 4096;
/// Bytes per dedup unit.
pub const ENTRY_BYTES: u64 = 8;

/// Why a state could not be created, opened or used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateErrorKind {
    /// The file could not be created, opened, sized, mapped or locked.
    Io,
    /// The file is not a state file this library reads: wrong magic, a
    /// newer format, or a length that does not match its unit count.
    Format,
    /// The state belongs to another dataset: its size, dedup unit, seed,
    /// ratios or compressor differ from the generator's.
    Mismatch,
    /// The generator or the range cannot be used with a state: an endless
    /// stream, a size or range not made of whole dedup units.
    Invalid,
    /// A unit reached a limit of its entry: the highest version, or more
    /// overlapping writes than an entry counts.
    Limit,
}

/// A write state's failure is an I/O failure of its file, or a state that
/// cannot be used.
impl From<StateErrorKind> for crate::ErrorKind {
    fn from(k: StateErrorKind) -> crate::ErrorKind {
        match k {
            StateErrorKind::Io => crate::ErrorKind::Io,
            _ => crate::ErrorKind::InvalidState,
        }
    }
}

/// A state error: its kind, and a message naming the file, the field and
/// the values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateError {
    /// What went wrong.
    pub kind: StateErrorKind,
    /// What went wrong, in words.
    pub message: String,
}

impl StateError {
    pub(crate) fn new(kind: StateErrorKind, message: impl Into<String>) -> StateError {
        StateError { kind, message: message.into() }
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StateError {}

/// One unit's entry, unpacked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Entry {
    /// Whether any write of the unit was ever claimed.
    pub written: bool,
    /// The latest version claimed.
    pub latest: u64,
    /// Versions below `latest` the unit may hold when nothing is in flight
    /// ([`Entry::ANY`]: any version, or never written).
    pub span: u64,
    /// Writes in flight.
    pub pending: u64,
    /// Versions claimed since nothing was last in flight.
    pub episode: u64,
}

const VER_BITS: u32 = 40;
const VER_MASK: u64 = (1 << VER_BITS) - 1;
const WRITTEN: u64 = 1 << 63;

impl Entry {
    /// A `span` meaning the unit may hold anything.
    pub const ANY: u64 = 255;
    /// The most writes of one unit an entry counts in flight at once.
    pub const MAX_PENDING: u64 = 254;
    /// The most versions of one unit claimed while others are in flight.
    pub const MAX_EPISODE: u64 = 127;
    /// The highest version an entry holds.
    pub const MAX_VERSION: u64 = VER_MASK;

    /// Unpacks a stored entry.
    pub fn unpack(raw: u64) -> Entry {
        Entry {
            written: raw & WRITTEN != 0,
            latest: raw & VER_MASK,
            span: (raw >> 40) & 0xFF,
            pending: (raw >> 48) & 0xFF,
            episode: (raw >> 56) & 0x7F,
        }
    }

    /// Packs an entry for storing.
    pub fn pack(self) -> u64 {
        (if self.written { WRITTEN } else { 0 })
            | (self.latest & VER_MASK)
            | (self.span.min(255) << 40)
            | (self.pending.min(255) << 48)
            | (self.episode.min(127) << 56)
    }

    /// The versions the unit may hold now, lowest first; `None` when it
    /// cannot be checked (never written, or possibly never written).
    pub fn accepted(self) -> Option<std::ops::RangeInclusive<u64>> {
        if !self.written || self.span >= Entry::ANY {
            return None;
        }
        let below = self.span + if self.pending > 0 { self.episode } else { 0 };
        let low = self.latest.checked_sub(below)?;
        Some(low..=self.latest)
    }

    /// The entry after a write of the unit is claimed, and the version that
    /// write carries; `None` when the entry is at one of its limits.
    pub fn claimed(self, max_version: u64) -> Option<(Entry, u64)> {
        if !self.written {
            let e = Entry { written: true, latest: 0, span: 0, pending: 1, episode: 1 };
            return Some((e, 0));
        }
        let version = self.latest + 1;
        if version > max_version.min(Entry::MAX_VERSION)
            || self.pending >= Entry::MAX_PENDING
            || (self.pending > 0 && self.episode >= Entry::MAX_EPISODE)
        {
            return None;
        }
        let episode = if self.pending == 0 { 1 } else { self.episode + 1 };
        Some((Entry { latest: version, pending: self.pending + 1, episode, ..self }, version))
    }

    /// The entry after one of its writes in flight completed (or failed:
    /// either way the I/O is over).
    pub fn completed(self) -> Entry {
        let pending = self.pending.saturating_sub(1);
        if pending > 0 {
            return Entry { pending, ..self };
        }
        // Every write of the episode is over: the unit holds one of them.
        Entry { pending: 0, episode: 0, span: self.episode.saturating_sub(1).min(Entry::ANY), ..self }
    }

    /// The entry once no process has writes of it in flight any more (their
    /// writer was killed): it accepts every version it accepted then.
    pub fn recovered(self) -> Entry {
        if self.pending == 0 {
            return self;
        }
        let span = (self.span + self.episode).min(Entry::ANY);
        // A first write still in flight leaves "never written" possible.
        let span = if span > self.latest { Entry::ANY } else { span };
        Entry { pending: 0, episode: 0, span, ..self }
    }
}

/// What a state holds, for `dgen state show`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Summary {
    /// Dedup units of the dataset.
    pub units: u64,
    /// Bytes per dedup unit.
    pub unit_bytes: u64,
    /// Units ever written.
    pub written: u64,
    /// Units whose latest version is 0 (written once).
    pub first_pass: u64,
    /// Units overwritten at least once.
    pub overwritten: u64,
    /// The highest version of any unit.
    pub max_version: u64,
    /// The sum of every written unit's latest version + 1: unit writes
    /// claimed over the state's life.
    pub writes_claimed: u64,
    /// Unit writes completed, from the header's counter.
    pub writes_completed: u64,
    /// Units with writes in flight now (a running writer, or one killed
    /// before the state was opened for writing again).
    pub in_flight: u64,
    /// Units that may hold one of several versions (overlapping writes, or
    /// a killed writer's).
    pub ambiguous: u64,
    /// Units that cannot be checked: possibly never written.
    pub in_doubt: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_track_overlapping_writes() {
        let e = Entry::default();
        assert_eq!(Entry::unpack(e.pack()), e);
        assert_eq!(e.accepted(), None);
        let (e, v) = e.claimed(100).unwrap();
        assert_eq!(v, 0);
        assert_eq!(e.accepted(), None, "a first write in flight: anything may be there");
        let e = e.completed();
        assert_eq!(e.accepted(), Some(0..=0));
        let (a, v1) = e.claimed(100).unwrap();
        assert_eq!((v1, a.accepted()), (1, Some(0..=1)));
        let (b, v2) = a.claimed(100).unwrap();
        assert_eq!((v2, b.accepted()), (2, Some(0..=2)));
        let c = b.completed();
        assert_eq!(c.accepted(), Some(0..=2));
        let d = c.completed();
        assert_eq!(d.accepted(), Some(1..=2), "two overlapping writes: either may be last");
        let (e, _) = d.claimed(100).unwrap();
        let e = e.completed();
        assert_eq!(e.accepted(), Some(3..=3));
        assert_eq!(Entry::unpack(e.pack()), e);
        // Killed while in flight, then recovered.
        let (k, _) = e.claimed(100).unwrap();
        assert_eq!(k.recovered().accepted(), Some(3..=4));
        let first = Entry::default().claimed(100).unwrap().0.recovered();
        assert_eq!(first.accepted(), None);
        assert_eq!(Entry { latest: 100, written: true, ..Entry::default() }.claimed(100), None);
    }
}
