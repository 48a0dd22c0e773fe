//! Writing a dataset to files and block devices, and reading it back to check
//! every byte.
//!
//! Every byte is a function of its offset, so a write needs no
//! producer/consumer queue and no ordering: each of `jobs` workers takes the
//! next block of the range, fills its own aligned buffer with the stream's
//! bytes at that offset, and writes it there with a positional write (or
//! `iodepth` of them in flight through io_uring). A verification is the
//! mirror image: positional reads, each block compared with the stream. With
//! `O_DIRECT` the aligned body of the range goes around the page cache and an
//! unaligned head or tail through an ordinary positional write or read at its
//! own offset.
//!
//! Regular files and block devices get this parallel, positional treatment.
//! Anything else (a pipe, a FIFO, `/dev/null`, standard input or output,
//! named `-`) is a stream, written or read in order by one worker.
//!
//! ```no_run
//! use dgen::storage::{self, IoOptions};
//! use dgen::{Config, Generator};
//!
//! let gen = Generator::new(Config { size: 1 << 30, dedup_ratio: 2.0, seed: Some(42), ..Config::default() })?;
//! let opts = IoOptions { jobs: 4, direct: true, ..IoOptions::default() };
//! let written = storage::write_file(&gen, "/mnt/test/data.bin", &opts)?;
//! println!("{:.2} GB/s, p99 {} us, {}", written.gbps(), written.latency.p99, written.bottleneck());
//! let checked = storage::verify_file(&gen, "/mnt/test/data.bin", &opts)?;
//! assert!(checked.passed(), "{}", checked.problem().unwrap_or_default());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod common;
mod part;
mod report;
mod run;
mod stream;
mod target;
#[cfg(target_os = "linux")]
mod uring;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::error::Field;
use crate::generator::Generator;

pub use part::Part;
pub(crate) use report::json_object;
pub use report::{
    histogram_text, merge, parse_histogram_text, Latency, MergeError, Mismatch, Operation, Report, TargetKind, Value,
};
#[cfg(feature = "s3")]
pub(crate) use report::{new_histogram, record_ns};
pub(crate) use report::{per_second, share, verdict};
#[doc(hidden)]
pub use target::data_size;

/// Reads `buf.len()` bytes of `file` at `offset`, fewer only where the data
/// ends; an interrupted read is retried. The bytes read. (For the `dgen`
/// command; not part of the library's API.)
#[doc(hidden)]
pub fn read_at_full(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    // Never stopped, so always a count.
    Ok(common::read_full_at(file, buf, offset, &|| false)?.unwrap_or(0))
}

/// Reads `file` in order (a pipe, a FIFO or standard input too) until `buf`
/// is full or the data ends; an interrupted read is retried. The bytes read.
/// (For the `dgen` command; not part of the library's API.)
#[doc(hidden)]
pub fn read_full(file: &std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    stream::read_full(file, buf, &|| false).map(|step| match step {
        stream::Step::Done(n) | stream::Step::Stopped(n) => n,
    })
}

/// Buffers and `O_DIRECT` offsets are aligned to this many bytes, the largest
/// logical block size of common devices.
pub const ALIGN: usize = 4096;
/// Default bytes per I/O.
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;
/// Largest accepted block size (256 MiB).
pub const MAX_BLOCK_SIZE: usize = 256 << 20;
/// Largest accepted number of workers.
pub const MAX_JOBS: usize = 1024;
/// Largest accepted queue depth per worker.
pub const MAX_IODEPTH: usize = 4096;
/// Most bytes of I/O buffers one run may hold (1 GiB): one block for each
/// I/O that can be in flight, `min(jobs x iodepth, blocks in the range) x
/// block_size`. Buffers are allocated when a worker first needs one, so a
/// small range with a deep queue costs only what it uses; a run that could
/// need more is refused with an `InvalidOption` error naming jobs, iodepth
/// and block_size.
pub const MAX_BUFFER_BYTES: u64 = 1 << 30;

/// How workers submit their I/O.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IoEngine {
    /// io_uring when `iodepth` is above 1 and the kernel allows it, with
    /// `pwrite`/`pread` as the fallback (the report says why).
    #[default]
    Auto,
    /// One blocking `pwrite`/`pread` at a time per worker.
    Sync,
    /// io_uring with `iodepth` I/Os in flight per worker (Linux); an error
    /// when the kernel refuses it.
    IoUring,
}

impl IoEngine {
    /// `"auto"`, `"sync"` or `"io_uring"`.
    pub fn name(self) -> &'static str {
        match self {
            IoEngine::Auto => "auto",
            IoEngine::Sync => "sync",
            IoEngine::IoUring => "io_uring",
        }
    }

    /// The engine with this name (as [`name`](Self::name) spells it; also
    /// `pwrite`, `pread` and `uring`), in any letter case.
    pub fn from_name(name: &str) -> Option<IoEngine> {
        match name.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(IoEngine::Auto),
            "sync" | "pwrite" | "pread" => Some(IoEngine::Sync),
            "io_uring" | "io-uring" | "uring" => Some(IoEngine::IoUring),
            _ => None,
        }
    }
}

/// How to write or verify a range. Plain data; `Default` gives the whole
/// dataset, one worker per CPU, 1 MiB blocks, one I/O in flight per worker,
/// the page cache, a final sync.
#[derive(Debug, Clone, PartialEq)]
pub struct IoOptions {
    /// First byte of the range, both in the stream and in the file.
    pub offset: u64,
    /// Bytes in the range; `None` runs to the end of a sized dataset. For the
    /// endless stream (size 0) a write needs a length, and a verification
    /// without one checks all the data the file, device or stream holds.
    pub length: Option<u64>,
    /// Workers; 0 means one per CPU this process may use. Streams use one.
    pub jobs: usize,
    /// Bytes per I/O: a multiple of 4096, at most 256 MiB.
    pub block_size: usize,
    /// I/Os in flight per worker (io_uring), from 1 to 4096.
    pub iodepth: usize,
    /// Use `O_DIRECT` (around the page cache) for the aligned body of the
    /// range; regular files and block devices only.
    pub direct: bool,
    /// How workers submit I/O.
    pub engine: IoEngine,
    /// After writing, flush the data to stable storage (`fsync`) when the
    /// file supports it (regular files and block devices).
    pub sync: bool,
    /// After writing a regular file up to the end of a sized dataset, cut it
    /// there, so that older, longer contents do not trail the dataset. A
    /// range that ends before the dataset does never cuts a file (other
    /// writers may own what follows), nor does anything cut a device.
    pub truncate: bool,
}

impl Default for IoOptions {
    fn default() -> Self {
        IoOptions {
            offset: 0,
            length: None,
            jobs: 0,
            block_size: DEFAULT_BLOCK_SIZE,
            iodepth: 1,
            direct: false,
            engine: IoEngine::Auto,
            sync: true,
            truncate: true,
        }
    }
}

impl IoOptions {
    /// Checks every field; the error names the first bad field and its value.
    pub fn validate(&self) -> Result<(), StorageError> {
        let bad = |field: Field, value: usize| {
            let report = Report::new(Operation::Write, "", TargetKind::File, 0);
            let message = format!("{field} {}, got {value}", field.expected());
            Err(Fault { kind: StorageErrorKind::InvalidOption, message, os_error: None, field: Some(field) }
                .into_error(report))
        };
        let b = self.block_size;
        if b == 0 || !b.is_multiple_of(ALIGN) || b > MAX_BLOCK_SIZE {
            return bad(Field::BlockSize, b);
        } else if self.jobs > MAX_JOBS {
            return bad(Field::Jobs, self.jobs);
        } else if self.iodepth == 0 || self.iodepth > MAX_IODEPTH {
            return bad(Field::Iodepth, self.iodepth);
        }
        let r = if self.length.is_some_and(|l| self.offset.checked_add(l).is_none()) {
            Err(Fault {
                kind: StorageErrorKind::OutOfRange,
                message: format!(
                    "range out of bounds: offset {} + length {} passes 2^64 - 1",
                    self.offset,
                    self.length.unwrap_or(0)
                ),
                os_error: None,
                field: None,
            })
        } else {
            Ok(())
        };
        r.map_err(|f| f.into_error(Report::new(Operation::Write, "", TargetKind::File, 0)))
    }

    /// These options narrowed to one part of their range (see [`Part`]):
    /// the range is `[offset, offset + length)`, or up to `dataset_size`
    /// when `length` is `None`. The endless stream (size 0) needs a length.
    pub fn for_part(&self, part: Part, dataset_size: u64) -> Result<IoOptions, StorageError> {
        self.validate()?;
        let length = match self.length {
            Some(l) => l,
            None if dataset_size == 0 => {
                return Err(Fault {
                    kind: StorageErrorKind::InvalidOption,
                    message: format!(
                        "part {part}: the endless stream (size 0) has no end to cut into parts; give a length"
                    ),
                    os_error: None,
                    field: None,
                }
                .into_error(Report::new(Operation::Write, "", TargetKind::File, 0)))
            }
            None => dataset_size.checked_sub(self.offset).ok_or_else(|| {
                Fault {
                    kind: StorageErrorKind::OutOfRange,
                    message: format!(
                        "range out of bounds: offset {} passes the dataset size {dataset_size}",
                        self.offset
                    ),
                    os_error: None,
                    field: None,
                }
                .into_error(Report::new(Operation::Write, "", TargetKind::File, 0))
            })?,
        };
        let (offset, length) = part.range(self.offset, length)?;
        Ok(IoOptions { offset, length: Some(length), ..self.clone() })
    }

    /// Workers `jobs = 0` stands for.
    fn workers(&self) -> usize {
        if self.jobs == 0 {
            crate::generator::default_threads()
        } else {
            self.jobs
        }
    }
}

/// Progress of a running write or verification, handed to the callback of
/// [`Control`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Bytes done so far.
    pub bytes: u64,
    /// Bytes in the range (for a stream of unknown length: the range's end
    /// as far as it is known, or 0).
    pub total: u64,
    /// Time since the first I/O.
    pub elapsed: Duration,
}

/// How a caller follows and stops a running write or verification.
pub struct Control<'a> {
    /// Stops the run soon after it becomes true (for example from a signal
    /// handler); the run then fails with [`StorageErrorKind::Interrupted`]
    /// and a report of what was done.
    pub cancel: Option<&'a AtomicBool>,
    /// Called on the calling thread about every `interval` and once at the
    /// end; returning false stops the run as `cancel` does.
    pub progress: Option<&'a mut dyn FnMut(Progress) -> bool>,
    /// Time between two progress calls.
    pub interval: Duration,
    /// Called once on the calling thread when the target is open and the
    /// range planned, before the first I/O, with the report as it starts
    /// (`target`, `engine`, `offset`, `length`, `seed`): the moment to say
    /// what is about to happen. A run refused before that never calls it.
    pub started: Option<&'a mut dyn FnMut(&Report)>,
    /// A write state ([`crate::state`]) for the dataset: a write then
    /// writes each unit's next version and records it, and a verification
    /// checks each unit against the versions the state accepts and
    /// classifies the wrong ones ([`Report::state`]). Needs a regular file
    /// or block device, a dataset size that is a multiple of 4096, and an
    /// offset and block size that are multiples of the dedup unit.
    pub state: Option<&'a crate::state::WriteState>,
}

impl Default for Control<'_> {
    fn default() -> Self {
        Control { cancel: None, progress: None, interval: Duration::from_millis(200), started: None, state: None }
    }
}

/// Why a write or verification stopped: the library's one [`ErrorKind`](crate::ErrorKind).
/// A storage run fails with `InvalidOption`, `OutOfRange`, `Open`,
/// `Unsupported`, `Io`, `Interrupted` or `Threads` (its I/O workers could not
/// start).
pub use crate::error::ErrorKind as StorageErrorKind;

/// A write or verification that stopped before its end: why, in one line
/// naming the path, the offset and the system's reason, and the report of
/// what was done until then.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageError {
    /// What kind of failure.
    pub kind: StorageErrorKind,
    /// The option at fault, when one option is (`block_size` for a block
    /// size that is not a multiple of 4096).
    pub field: Option<crate::Field>,
    /// The message, e.g. "cannot write /dev/full at offset 0: No space left
    /// on device (os error 28)".
    pub message: String,
    /// The system's error number, when there was one.
    pub os_error: Option<i32>,
    /// What was done before the run stopped: `bytes`, `prefix` and the
    /// timings are those of the partial run.
    pub report: Box<Report>,
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StorageError {}

/// A failure before the report is attached.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Fault {
    pub kind: StorageErrorKind,
    pub message: String,
    pub os_error: Option<i32>,
    /// The option at fault, when one is.
    pub field: Option<Field>,
}

impl Fault {
    pub(crate) fn io(message: String, e: &std::io::Error) -> Fault {
        Fault {
            kind: StorageErrorKind::Io,
            message: format!("{message}: {e}"),
            os_error: e.raw_os_error(),
            field: None,
        }
    }

    pub fn into_error(self, report: Report) -> StorageError {
        StorageError {
            kind: self.kind,
            field: self.field,
            message: self.message,
            os_error: self.os_error,
            report: Box::new(report),
        }
    }
}

/// Writes the generator's bytes `[offset, offset + length)` to `path` (a
/// regular file, created when missing; a block device; a FIFO, character
/// device or `-` for standard output, written in order). See [`IoOptions`].
pub fn write_file(gen: &Generator, path: impl AsRef<Path>, opts: &IoOptions) -> Result<Report, StorageError> {
    write_file_with(gen, path, opts, Control::default())
}

/// [`write_file`] with a cancel flag and a progress callback.
pub fn write_file_with(
    gen: &Generator,
    path: impl AsRef<Path>,
    opts: &IoOptions,
    control: Control<'_>,
) -> Result<Report, StorageError> {
    run::run(Operation::Write, gen, path.as_ref(), opts, control)
}

/// Reads `[offset, offset + length)` of `path` (a regular file, a block
/// device, or a stream read in order: a FIFO, a character device, `-` for
/// standard input) and compares every byte with the generator's.
///
/// A difference is not an error: the report says where the first wrong byte
/// is, how many 4 KiB blocks are wrong, whether the data ends early ("data
/// ends at 5242880, the dataset is 8388608") or goes on past the dataset, and
/// [`Report::passed`] sums it up. Errors are for reads that fail, bad
/// options and interruptions.
pub fn verify_file(gen: &Generator, path: impl AsRef<Path>, opts: &IoOptions) -> Result<Report, StorageError> {
    verify_file_with(gen, path, opts, Control::default())
}

/// [`verify_file`] with a cancel flag and a progress callback.
pub fn verify_file_with(
    gen: &Generator,
    path: impl AsRef<Path>,
    opts: &IoOptions,
    control: Control<'_>,
) -> Result<Report, StorageError> {
    run::run(Operation::Verify, gen, path.as_ref(), opts, control)
}
