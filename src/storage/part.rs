//! One worker's share of a range: `N` processes or hosts that each write (or
//! verify) part `i` of `N` together cover exactly the range one run would.

use super::{Fault, Operation, Report, StorageError, StorageErrorKind, TargetKind, ALIGN};

/// Part `index` of `count` contiguous parts of a range, counted from 0 as MPI
/// ranks are (`0/4`, `1/4`, `2/4`, `3/4`).
///
/// The range's 4 KiB blocks are dealt out in order, as evenly as they go
/// (parts differ by at most one block), so that every boundary between two
/// parts is a multiple of 4096 in the stream and in the file: `O_DIRECT`
/// works in every part. An unaligned head of the range goes to the first
/// part and an unaligned tail (the remainder) to the last. A range too small
/// to give every part a block leaves some parts empty, which
/// [`range`](Self::range) refuses rather than run a part that does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// Which part, from 0 to `count - 1`.
    pub index: u64,
    /// How many parts the range is cut into, at least 1.
    pub count: u64,
}

fn invalid(kind: StorageErrorKind, message: String) -> StorageError {
    Fault { kind, message, os_error: None, field: None }.into_error(Report::new(
        Operation::Write,
        "",
        TargetKind::File,
        0,
    ))
}

impl Part {
    /// Part `index` of `count`; an `InvalidOption` error unless
    /// `count >= 1` and `index < count`.
    pub fn new(index: u64, count: u64) -> Result<Part, StorageError> {
        let p = Part { index, count };
        p.validate()?;
        Ok(p)
    }

    /// Parses `I/N` (e.g. `3/8`), checked as [`new`](Self::new) does.
    pub fn parse(text: &str) -> Result<Part, StorageError> {
        let bad = || {
            invalid(
                StorageErrorKind::InvalidOption,
                format!("part {text:?} is not of the form I/N (part I of N, counted from 0, e.g. 0/4)"),
            )
        };
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let i = i.trim().parse::<u64>().map_err(|_| bad())?;
        let n = n.trim().parse::<u64>().map_err(|_| bad())?;
        Part::new(i, n)
    }

    /// Checks `count >= 1` and `index < count`.
    pub fn validate(&self) -> Result<(), StorageError> {
        if self.count == 0 {
            Err(invalid(
                StorageErrorKind::InvalidOption,
                format!("part {}/{}: the number of parts must be at least 1", self.index, self.count),
            ))
        } else if self.index >= self.count {
            Err(invalid(
                StorageErrorKind::InvalidOption,
                format!(
                    "part {}/{}: parts are counted from 0, so the index must be below {}",
                    self.index, self.count, self.count
                ),
            ))
        } else {
            Ok(())
        }
    }

    /// The part's range `(offset, length)` of the range `[offset, offset +
    /// length)`. An `OutOfRange` error when the part would be empty (the
    /// range holds fewer 4 KiB blocks than there are parts) or the range
    /// passes 2^64 - 1.
    pub fn range(&self, offset: u64, length: u64) -> Result<(u64, u64), StorageError> {
        self.validate()?;
        let end = offset.checked_add(length).ok_or_else(|| {
            invalid(
                StorageErrorKind::OutOfRange,
                format!("range out of bounds: offset {offset} + length {length} passes 2^64 - 1"),
            )
        })?;
        let a = ALIGN as u64;
        // The aligned body [first, last) is dealt out in whole blocks.
        let first = offset.div_ceil(a).saturating_mul(a).min(end);
        let last = (end / a * a).max(first);
        let blocks = (last - first) / a;
        let boundary = |k: u64| -> u64 {
            if k == 0 {
                offset
            } else if k == self.count {
                end
            } else {
                // k < count, so the quotient is below `blocks`: no overflow.
                first + (blocks as u128 * k as u128 / self.count as u128) as u64 * a
            }
        };
        let (s, e) = (boundary(self.index), boundary(self.index + 1));
        if s >= e {
            return Err(invalid(
                StorageErrorKind::OutOfRange,
                format!(
                    "part {}/{} is empty: the range of {length} bytes at offset {offset} holds {blocks} whole 4 KiB \
                     blocks, fewer than {} parts need",
                    self.index, self.count, self.count
                ),
            ));
        }
        Ok((s, e - s))
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every part of `(offset, length)` in `count` parts, in order.
    fn parts(offset: u64, length: u64, count: u64) -> Vec<(u64, u64)> {
        (0..count).map(|i| Part::new(i, count).unwrap().range(offset, length).unwrap()).collect()
    }

    /// The parts tile the range, and every inner boundary is aligned.
    fn check_tiling(offset: u64, length: u64, count: u64) {
        let p = parts(offset, length, count);
        let mut at = offset;
        for (i, &(o, l)) in p.iter().enumerate() {
            assert_eq!(o, at, "part {i}/{count} of ({offset}, {length}) starts where the one before ended");
            assert!(l > 0);
            if i > 0 {
                assert_eq!(o % 4096, 0, "inner boundary {o} aligned");
            }
            at = o + l;
        }
        assert_eq!(at, offset + length);
    }

    #[test]
    fn parts_tile_the_range_on_aligned_boundaries() {
        // Aligned, even split.
        assert_eq!(parts(0, 3 << 20, 3), vec![(0, 1 << 20), (1 << 20, 1 << 20), (2 << 20, 1 << 20)]);
        // Not a multiple of 4 KiB: the last part takes the remainder.
        assert_eq!(parts(0, 3 * 4096 + 100, 3), vec![(0, 4096), (4096, 4096), (8192, 4196)]);
        // Unaligned offset: the head goes to the first part.
        assert_eq!(parts(100, 2 * 4096, 2), vec![(100, 3996), (4096, 4196)]);
        // Blocks that do not divide evenly differ by at most one.
        let sizes: Vec<u64> = parts(0, 10 * 4096, 4).iter().map(|p| p.1 / 4096).collect();
        assert_eq!(sizes, vec![2, 3, 2, 3]);
        for (offset, length, count) in
            [(0, 1, 1), (5, 1, 1), (0, 1 << 30, 7), (12345, 9_999_999, 13), (4096, 4096 * 64, 64), (1, 4096 * 9, 8)]
        {
            check_tiling(offset, length, count);
        }
        // The far end of the offsets.
        check_tiling(u64::MAX - (1 << 20), 1 << 20, 5);
    }

    #[test]
    fn bad_and_empty_parts_are_refused_in_words() {
        let e = Part::new(4, 4).unwrap_err();
        assert_eq!(e.kind, StorageErrorKind::InvalidOption);
        assert!(e.message.contains("part 4/4") && e.message.contains("below 4"), "{}", e.message);
        assert!(Part::new(0, 0).unwrap_err().message.contains("at least 1"));
        for text in ["3", "a/4", "1/", "-1/4", "1/4/2"] {
            let e = Part::parse(text).unwrap_err();
            assert!(e.message.contains("I/N"), "{text}: {}", e.message);
        }
        assert_eq!(Part::parse(" 2/8 ").unwrap(), Part { index: 2, count: 8 });
        // More parts than blocks: some are empty, and are refused.
        let e = Part::new(0, 4).unwrap().range(0, 3 * 4096).unwrap_err();
        assert_eq!(e.kind, StorageErrorKind::OutOfRange);
        assert!(e.message.contains("part 0/4 is empty") && e.message.contains("3 whole 4 KiB blocks"), "{}", e.message);
        assert!(Part::new(3, 4).unwrap().range(0, 3 * 4096).is_ok());
        assert!(Part::new(0, 1).unwrap().range(7, 0).is_err());
        assert!(Part::new(0, 2).unwrap().range(u64::MAX, 2).is_err());
    }
}
