//! The one error type of the Rust API. Every variant carries what a user needs
//! to fix the call: the field and the value, or the range that was refused.

use std::fmt;

/// Why a call was refused or a verification failed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A [`Config`](crate::Config) field holds a value the generator cannot use.
    InvalidConfig {
        /// The field's name as spelled in the Rust and C structs (`dedup_ratio`).
        field: &'static str,
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
        }
    }
}

impl std::error::Error for Error {}

/// For [`std::io::Read`] and [`std::io::Seek`]: a refused range or position is
/// `InvalidInput`, a mismatch `InvalidData`, a bad config `InvalidInput`; the
/// [`Error`] itself is kept inside (`io::Error::get_ref` / `downcast`).
impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        let kind = match e {
            Error::Mismatch { .. } => std::io::ErrorKind::InvalidData,
            Error::InvalidConfig { .. } | Error::OutOfRange { .. } => std::io::ErrorKind::InvalidInput,
        };
        std::io::Error::new(kind, e)
    }
}
