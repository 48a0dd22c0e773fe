//! The one error model of every face.
//!
//! A refused call names the [`Field`] it refused and the value; every
//! failure has an [`ErrorKind`], and each face maps the kind, in one place,
//! to its own form: a C status, a CLI exit code, a Python exception, a Go
//! error (the table is in ARCHITECTURE.md). The accepted range of a numeric
//! field is [`Field::bounds`], the same numbers the messages print, so no
//! face keeps a copy of a limit or parses one out of a message.

use std::fmt;

/// A setting a caller gives: a field of [`Config`](crate::Config), of the
/// storage options (`IoOptions`), or an argument of the vector functions.
/// Its [`name`](Field::name) is the one every face spells it with (the Rust
/// and C field, the Python keyword, the fio option after `dgen_`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// `Config::size`: bytes in the stream, 0 for endless.
    Size,
    /// `Config::dedup_ratio`.
    DedupRatio,
    /// `Config::compress_ratio`.
    CompressRatio,
    /// `Config::dedup_unit`.
    DedupUnit,
    /// `Config::seed`.
    Seed,
    /// `Config::threads`.
    Threads,
    /// `Config::numa_mode`.
    NumaMode,
    /// `Config::numa_node`.
    NumaNode,
    /// `Config::compressor`.
    Compressor,
    /// `IoOptions::offset`: where a storage range starts.
    Offset,
    /// `IoOptions::length`: how many bytes a storage range holds.
    Length,
    /// `IoOptions::jobs`: I/O workers.
    Jobs,
    /// `IoOptions::block_size`: bytes per I/O.
    BlockSize,
    /// `IoOptions::iodepth`: requests in flight per worker.
    Iodepth,
    /// `IoOptions::engine`: sync or io_uring.
    Engine,
    /// `IoOptions::direct`: O_DIRECT.
    Direct,
    /// A part `I/N` of a range.
    Part,
    /// The lower end of float32 vector values.
    Low,
    /// The upper end of float32 vector values.
    High,
    /// The first element index of float32 vectors.
    Index,
    /// Values per vector.
    Dim,
}

/// The values a numeric field accepts: `min..=max`, in steps of `step` when
/// it is not 0 (a dedup unit or block size is a multiple of 4096).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    /// The smallest accepted value.
    pub min: f64,
    /// The largest accepted value. For 64-bit integer fields this is 2^64 - 1
    /// as an `f64`, which rounds it to 2^64.
    pub max: f64,
    /// Accepted values are multiples of this (0: any value).
    pub step: u64,
}

impl Field {
    /// Every field, in the order of the C enum `dgen_field`.
    pub const ALL: [Field; 21] = [
        Field::Size,
        Field::DedupRatio,
        Field::CompressRatio,
        Field::DedupUnit,
        Field::Seed,
        Field::Threads,
        Field::NumaMode,
        Field::NumaNode,
        Field::Compressor,
        Field::Offset,
        Field::Length,
        Field::Jobs,
        Field::BlockSize,
        Field::Iodepth,
        Field::Engine,
        Field::Direct,
        Field::Part,
        Field::Low,
        Field::High,
        Field::Index,
        Field::Dim,
    ];

    /// The name every face uses (`"dedup_ratio"`).
    pub fn name(self) -> &'static str {
        match self {
            Field::Size => "size",
            Field::DedupRatio => "dedup_ratio",
            Field::CompressRatio => "compress_ratio",
            Field::DedupUnit => "dedup_unit",
            Field::Seed => "seed",
            Field::Threads => "threads",
            Field::NumaMode => "numa_mode",
            Field::NumaNode => "numa_node",
            Field::Compressor => "compressor",
            Field::Offset => "offset",
            Field::Length => "length",
            Field::Jobs => "jobs",
            Field::BlockSize => "block_size",
            Field::Iodepth => "iodepth",
            Field::Engine => "engine",
            Field::Direct => "direct",
            Field::Part => "part",
            Field::Low => "low",
            Field::High => "high",
            Field::Index => "index",
            Field::Dim => "dim",
        }
    }

    /// The field with this name.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The values a numeric field accepts, whatever the other fields hold;
    /// `None` for a field that is not a number or whose range depends on the
    /// machine (`numa_node`). `compress_ratio` may be narrower for a named
    /// compressor: [`Config::bounds`](crate::Config::bounds) gives that.
    pub fn bounds(self) -> Option<Bounds> {
        use crate::config::*;
        let any_u64 = Bounds { min: 0.0, max: u64::MAX as f64, step: 0 };
        let b = |min: f64, max: f64, step: u64| Some(Bounds { min, max, step });
        match self {
            Field::Size | Field::Seed | Field::Offset | Field::Length | Field::Index => Some(any_u64),
            Field::DedupRatio => b(1.0, MAX_DEDUP_RATIO, 0),
            Field::CompressRatio => b(1.0, MAX_COMPRESS_RATIO, 0),
            Field::DedupUnit => b(DEFAULT_DEDUP_UNIT as f64, MAX_DEDUP_UNIT as f64, DEFAULT_DEDUP_UNIT as u64),
            Field::Threads => b(0.0, MAX_THREADS as f64, 0),
            Field::NumaMode => b(0.0, 2.0, 0),
            Field::Compressor => b(0.0, (Compressor::ALL.len() - 1) as f64, 0),
            Field::Jobs => b(0.0, crate::storage::MAX_JOBS as f64, 0),
            Field::BlockSize => {
                b(crate::storage::ALIGN as f64, crate::storage::MAX_BLOCK_SIZE as f64, crate::storage::ALIGN as u64)
            }
            Field::Iodepth => b(1.0, crate::storage::MAX_IODEPTH as f64, 0),
            Field::Engine => b(0.0, 2.0, 0),
            Field::Dim => b(1.0, usize::MAX as f64, 0),
            Field::NumaNode | Field::Direct | Field::Part | Field::Low | Field::High => None,
        }
    }

    /// What the field accepts, in the words every face's message uses
    /// ("must be a number from 1.0 to 1024.0").
    pub fn expected(self) -> &'static str {
        match self {
            Field::Size => "must be an integer from 0 (endless) to 2^64 - 1",
            Field::DedupRatio => "must be a number from 1.0 to 1024.0",
            Field::CompressRatio => "must be a number from 1.0 to 32.0",
            Field::DedupUnit => "must be a multiple of 4096 from 4096 to 67108864 (64 MiB)",
            Field::Seed => "must be an integer from 0 to 2^64 - 1",
            Field::Threads => "must be from 0 (all CPUs) to 4096",
            Field::NumaMode => "must be one of auto, off, force",
            Field::NumaNode => "must be a NUMA node of this machine (see `dgen topology`)",
            Field::Compressor => crate::config::COMPRESSOR_EXPECTED,
            Field::Offset => "must be an integer from 0 to 2^64 - 1",
            Field::Length => "must be an integer from 0 to 2^64 - 1",
            Field::Jobs => "must be from 0 (one per CPU) to 1024",
            Field::BlockSize => "must be a multiple of 4096 from 4096 to 268435456 (256 MiB)",
            Field::Iodepth => "must be from 1 to 4096",
            Field::Engine => "must be one of auto, sync, io_uring",
            Field::Direct => "must be true or false",
            Field::Part => "must be I/N with 0 <= I < N",
            Field::Low => "must be a finite number below high",
            Field::High => "must be a finite number above low",
            Field::Index => "+ count must be at most 2^64 (element indexes are 64-bit)",
            Field::Dim => "must be at least 1",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A field compares equal to its name, so `e.field() == Some(Field::Seed)`
/// and `field == "seed"` read alike.
impl PartialEq<&str> for Field {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

/// What kind of failure an error is: the one thing each face maps to its
/// own form (ARCHITECTURE.md has the table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A config field or a vector argument holds a value that cannot be used;
    /// the error names the [`Field`].
    InvalidConfig,
    /// A storage option cannot be used, or options contradict each other;
    /// names the [`Field`] when one field is at fault.
    InvalidOption,
    /// A range or position is outside the stream or the target.
    OutOfRange,
    /// Data read back differs from the stream.
    Mismatch,
    /// A file or device could not be opened.
    Open,
    /// The target cannot do what was asked (O_DIRECT on a pipe, io_uring on
    /// a kernel without it).
    Unsupported,
    /// A read, write, sync or size query failed.
    Io,
    /// The caller stopped the run (a progress callback, a signal).
    Interrupted,
    /// A write state cannot be used: another dataset's, damaged, of a newer
    /// format, or asked for a range that is not whole dedup units.
    InvalidState,
    /// Worker threads could not be started.
    Threads,
}

impl ErrorKind {
    /// The snake-case name used in JSON reports (`"out_of_range"`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidConfig => "invalid_config",
            ErrorKind::InvalidOption => "invalid_option",
            ErrorKind::OutOfRange => "out_of_range",
            ErrorKind::Mismatch => "mismatch",
            ErrorKind::Open => "open",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Io => "io",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::InvalidState => "invalid_state",
            ErrorKind::Threads => "threads",
        }
    }
}

/// Why a call was refused or a verification failed: the error of the whole
/// Rust API. Storage runs and write states return their own error types
/// ([`StorageError`](crate::storage::StorageError), with the report of what
/// was done, and [`StateError`](crate::state::StateError)); both convert into
/// this one with `?`, keeping the report.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A field holds a value the generator cannot use.
    InvalidConfig {
        /// The field.
        field: Field,
        /// The rejected value, printed.
        value: String,
        /// What the field accepts ("must be >= 1.0").
        expected: &'static str,
    },
    /// `[offset, offset + len)` is not inside the stream: past the end of a sized
    /// stream, or past 2^64 bytes.
    OutOfRange {
        /// First byte asked for.
        offset: u64,
        /// Number of bytes asked for.
        len: u64,
        /// The stream's size (0 for an endless stream).
        size: u64,
    },
    /// A verified buffer differs from the generator's bytes.
    Mismatch {
        /// Stream offset of the first wrong byte.
        offset: u64,
        /// The byte the generator produces there.
        expected: u8,
        /// The byte found in the buffer.
        actual: u8,
    },
    /// A storage run failed; the error holds the report of what was done.
    #[cfg(unix)]
    Storage(Box<crate::storage::StorageError>),
    /// A write state refused the call.
    State(crate::state::StateError),
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidConfig { .. } => ErrorKind::InvalidConfig,
            Error::OutOfRange { .. } => ErrorKind::OutOfRange,
            Error::Mismatch { .. } => ErrorKind::Mismatch,
            #[cfg(unix)]
            Error::Storage(e) => e.kind,
            Error::State(e) => e.kind.into(),
        }
    }

    /// The field at fault, when one is.
    pub fn field(&self) -> Option<Field> {
        match self {
            Error::InvalidConfig { field, .. } => Some(*field),
            #[cfg(unix)]
            Error::Storage(e) => e.field,
            _ => None,
        }
    }

    /// The report of a storage run that failed part way.
    #[cfg(unix)]
    pub fn report(&self) -> Option<&crate::storage::Report> {
        match self {
            Error::Storage(e) => Some(&e.report),
            _ => None,
        }
    }

    /// The error for a `field` holding `value`, with the field's own words
    /// for what it accepts.
    pub(crate) fn invalid(field: Field, value: impl ToString) -> Error {
        Error::InvalidConfig { field, value: value.to_string(), expected: field.expected() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidConfig { field, value, expected } => {
                write!(f, "{field} {expected}, got {value}")
            }
            Error::OutOfRange { offset, len, size: 0 } => write!(
                f,
                "range out of bounds: offset {offset} + length {len} passes the 2^64-byte limit of an endless stream"
            ),
            Error::OutOfRange { offset, len, size } => {
                write!(f, "range out of bounds: offset {offset} + length {len} passes the stream size {size}")
            }
            Error::Mismatch { offset, expected, actual } => {
                write!(f, "data mismatch at offset {offset}: expected 0x{expected:02x}, found 0x{actual:02x}")
            }
            #[cfg(unix)]
            Error::Storage(e) => e.fmt(f),
            Error::State(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(unix)]
impl From<crate::storage::StorageError> for Error {
    fn from(e: crate::storage::StorageError) -> Error {
        Error::Storage(Box::new(e))
    }
}

impl From<crate::state::StateError> for Error {
    fn from(e: crate::state::StateError) -> Error {
        Error::State(e)
    }
}

/// For [`std::io::Read`] and [`std::io::Seek`]: a refused range or position is
/// `InvalidInput`, a mismatch `InvalidData`, a bad config `InvalidInput`; the
/// [`Error`] itself is kept inside (`io::Error::get_ref` / `downcast`).
impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        let kind = match e.kind() {
            ErrorKind::Mismatch => std::io::ErrorKind::InvalidData,
            ErrorKind::InvalidConfig | ErrorKind::InvalidOption | ErrorKind::OutOfRange => {
                std::io::ErrorKind::InvalidInput
            }
            ErrorKind::Interrupted => std::io::ErrorKind::Interrupted,
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_found_by_its_name() {
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(f));
            assert!(f == f.name());
        }
        assert_eq!(Field::from_name("nope"), None);
    }
}
