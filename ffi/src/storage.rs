//! The C face of `dgen::storage`: `dgen_write_file` and `dgen_verify_file`
//! with an options struct (`dgen_io_options_init` for defaults) and a report
//! struct filled on success and, as far as the run got, on failure.

use std::ffi::{c_char, c_void, CStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

use super::{dgen_generator, dgen_status, guard, null, set_error, Message};
use libdgen::storage::{
    self, Control, Fault, IoEngine, IoOptions, Operation, Report, StorageError, StorageErrorKind, TargetKind,
};

/// Values of `dgen_io_options.engine`: how workers submit their I/O.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dgen_io_engine {
    /// io_uring when `iodepth` is above 1 and the kernel allows it, else
    /// `pwrite`/`pread` (the report's `engine` says which, and why).
    Auto = 0,
    /// One blocking `pwrite`/`pread` at a time per worker.
    Sync = 1,
    /// io_uring; `DGEN_STATUS_IO` when the kernel refuses it.
    IoUring = 2,
}

/// Values of `dgen_io_report.target`: what the path named.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dgen_io_target {
    /// A regular file (positional I/O by `jobs` workers).
    File = 0,
    /// A block device (positional I/O; its size from `BLKGETSIZE64`).
    BlockDevice = 1,
    /// A pipe, FIFO, character device, or standard input or output (`-`):
    /// read or written in order by one worker.
    Stream = 2,
}

/// Called on the thread that called `dgen_write_file` or `dgen_verify_file`
/// about every `progress_interval_ms` and once at the end, with the bytes done
/// and the bytes in the range (0 when a stream's length is not known).
/// Returning false stops the run, which then returns
/// `DGEN_STATUS_INTERRUPTED`.
pub type dgen_progress_fn = Option<unsafe extern "C" fn(user: *mut c_void, done: u64, total: u64) -> bool>;

/// How to write or verify a range of a generator's stream. Fill it with
/// `dgen_io_options_init` first, then change the fields you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dgen_io_options {
    /// First byte of the range, both in the stream and in the file.
    pub offset: u64,
    /// Bytes in the range, used when `has_length` is true.
    pub length: u64,
    /// False runs the range to the end of a sized stream. For an endless
    /// stream (size 0) a write needs a length, and a verification without
    /// one checks all the data the file, device or stream holds.
    pub has_length: bool,
    /// Workers; 0 means one per CPU this process may use; at most 1024.
    pub jobs: u32,
    /// Bytes per I/O: a multiple of 4096, at most 268435456 (256 MiB).
    pub block_size: u64,
    /// I/Os in flight per worker (io_uring), 1 to 4096.
    pub iodepth: u32,
    /// Use `O_DIRECT` (around the page cache) for the aligned body of the
    /// range; the unaligned head and tail go through ordinary positional
    /// I/O. Regular files and block devices only.
    pub direct: bool,
    /// A `dgen_io_engine`.
    pub engine: u32,
    /// After writing, flush the data to stable storage where the file
    /// supports it (regular files and block devices).
    pub sync: bool,
    /// After writing a regular file up to the end of a sized stream, cut the
    /// file there. A range that ends earlier never cuts, nor is a device
    /// ever cut.
    pub truncate: bool,
    /// Progress callback, or NULL.
    pub progress: dgen_progress_fn,
    /// Passed to `progress` as `user`.
    pub progress_user: *mut c_void,
    /// Milliseconds between two progress calls.
    pub progress_interval_ms: u32,
}

/// Latency of single I/Os, in microseconds.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct dgen_io_latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest I/O.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// What a `dgen_write_file` or `dgen_verify_file` did. Filled on success,
/// and on failure as far as the run got (`bytes`, `prefix`, timings).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dgen_io_report {
    /// A `dgen_io_target`.
    pub target: u32,
    /// How the I/O was done ("pwrite", "pread", "io_uring", "stream"; a
    /// fallback says why), NUL-terminated.
    pub engine: [c_char; 128],
    /// The generator's seed.
    pub seed: u64,
    /// First byte of the range.
    pub offset: u64,
    /// Bytes in the range (for a stream read to its end: the bytes there were).
    pub length: u64,
    /// Bytes written, or read and checked.
    pub bytes: u64,
    /// Bytes from `offset` on that are all done (a stopped run leaves a
    /// regular file cut to this when it was to end the dataset).
    pub prefix: u64,
    /// I/O calls that completed.
    pub ios: u64,
    /// Wall time of the run, sync included.
    pub seconds: f64,
    /// Time of the final sync.
    pub sync_seconds: f64,
    /// `bytes / seconds`, in 10^9 bytes per second.
    pub gbps: f64,
    /// `ios / seconds`.
    pub iops: f64,
    /// Per-I/O latency percentiles.
    pub latency_us: dgen_io_latency,
    /// Worker time generating (a write) or generating and comparing (a
    /// verification), summed over workers.
    pub generate_seconds: f64,
    /// Worker time in I/O calls or waiting for completions, summed.
    pub io_seconds: f64,
    /// Wall time of every worker, summed.
    pub worker_seconds: f64,
    /// `generate_seconds / worker_seconds`.
    pub generation_share: f64,
    /// True when generation took at least half the workers' time.
    pub generation_bound: bool,
    /// The verdict in words, e.g. "storage-bound: generation took 6% of
    /// worker time", NUL-terminated.
    pub bottleneck: [c_char; 128],
    /// Workers that ran.
    pub jobs: u32,
    /// I/Os in flight per worker.
    pub iodepth: u32,
    /// Bytes per I/O.
    pub block_size: u64,
    /// Whether `O_DIRECT` was used.
    pub direct: bool,
    /// True when the progress callback stopped the run.
    pub interrupted: bool,
    /// A verification found every byte of the range and nothing else (always
    /// true for a write that succeeded).
    pub passed: bool,
    /// A verification found a wrong byte: at `mismatch_offset`, where the
    /// stream has `expected` and the data `actual`.
    pub has_mismatch: bool,
    /// Offset of the first wrong byte.
    pub mismatch_offset: u64,
    /// The stream's byte there.
    pub expected: u8,
    /// The byte read there.
    pub actual: u8,
    /// Aligned 4 KiB blocks of the range that hold a wrong byte.
    pub wrong_blocks: u64,
    /// Aligned 4 KiB blocks of the range past the end of the data.
    pub missing_blocks: u64,
    /// Aligned 4 KiB blocks the range touches.
    pub blocks: u64,
    /// The data ended before the range did, at `data_end`.
    pub has_data_end: bool,
    /// Where the data ended.
    pub data_end: u64,
    /// The file or device size is known: `data_size`.
    pub has_data_size: bool,
    /// Size of the file or device.
    pub data_size: u64,
    /// A file or stream holds bytes past the end of the dataset.
    pub extra_data: bool,
}

/// Sets `*opts` to the defaults: the whole stream, one worker per CPU,
/// 1 MiB blocks, iodepth 1, no `O_DIRECT`, engine auto, sync and truncate on,
/// no progress callback (interval 200 ms). Does nothing when `opts` is NULL.
///
/// # Safety
/// `opts` is NULL or points to writable memory for one `dgen_io_options`.
#[no_mangle]
pub unsafe extern "C" fn dgen_io_options_init(opts: *mut dgen_io_options) {
    guard("dgen_io_options_init", Message::Reset, (), || {
        if opts.is_null() {
            null("dgen_io_options_init", "opts");
            return;
        }
        let d = IoOptions::default();
        let value = dgen_io_options {
            offset: d.offset,
            length: 0,
            has_length: false,
            jobs: d.jobs as u32,
            block_size: d.block_size as u64,
            iodepth: d.iodepth as u32,
            direct: d.direct,
            engine: dgen_io_engine::Auto as u32,
            sync: d.sync,
            truncate: d.truncate,
            progress: None,
            progress_user: std::ptr::null_mut(),
            progress_interval_ms: 200,
        };
        // SAFETY: the caller guarantees `opts` is writable; `write` neither
        // reads nor drops the old, possibly uninitialized, contents.
        unsafe { opts.write(value) };
    })
}

/// The options C passed, read field by field so that no invalid `bool` (any
/// byte C left there) is ever held as a Rust `bool`.
struct CallOptions {
    opts: IoOptions,
    progress: dgen_progress_fn,
    user: *mut c_void,
    interval: Duration,
}

/// # Safety
/// `p` points to a readable `dgen_io_options`.
unsafe fn read_options(p: *const dgen_io_options) -> Result<CallOptions, StorageError> {
    // SAFETY: the caller guarantees `p` is readable; each field is read
    // through a raw place, and each bool as the byte it is.
    let (o, engine, progress, user, interval) = unsafe {
        let flag = |b: *const bool| b.cast::<u8>().read() != 0;
        let has_length = flag(std::ptr::addr_of!((*p).has_length));
        let length = std::ptr::addr_of!((*p).length).read();
        let o = IoOptions {
            offset: std::ptr::addr_of!((*p).offset).read(),
            length: has_length.then_some(length),
            jobs: std::ptr::addr_of!((*p).jobs).read() as usize,
            block_size: usize::try_from(std::ptr::addr_of!((*p).block_size).read()).unwrap_or(usize::MAX),
            iodepth: std::ptr::addr_of!((*p).iodepth).read() as usize,
            direct: flag(std::ptr::addr_of!((*p).direct)),
            engine: IoEngine::Auto,
            sync: flag(std::ptr::addr_of!((*p).sync)),
            truncate: flag(std::ptr::addr_of!((*p).truncate)),
        };
        (
            o,
            std::ptr::addr_of!((*p).engine).read(),
            std::ptr::addr_of!((*p).progress).read(),
            std::ptr::addr_of!((*p).progress_user).read(),
            std::ptr::addr_of!((*p).progress_interval_ms).read(),
        )
    };
    let engine = match engine {
        e if e == dgen_io_engine::Auto as u32 => IoEngine::Auto,
        e if e == dgen_io_engine::Sync as u32 => IoEngine::Sync,
        e if e == dgen_io_engine::IoUring as u32 => IoEngine::IoUring,
        other => {
            return Err(Fault {
                kind: StorageErrorKind::InvalidOption,
                message: format!(
                    "engine must be DGEN_IO_ENGINE_AUTO (0), DGEN_IO_ENGINE_SYNC (1) or DGEN_IO_ENGINE_IO_URING (2), got {other}"
                ),
                os_error: None,
            }
            .into_error(Report::new(Operation::Write, "", TargetKind::File, 0)));
        }
    };
    let opts = IoOptions { engine, ..o };
    opts.validate()?;
    Ok(CallOptions { opts, progress, user, interval: Duration::from_millis(interval as u64) })
}

pub(super) fn status_of(kind: StorageErrorKind) -> dgen_status {
    match kind {
        StorageErrorKind::InvalidOption => dgen_status::InvalidConfig,
        StorageErrorKind::OutOfRange => dgen_status::OutOfRange,
        StorageErrorKind::Open | StorageErrorKind::Unsupported | StorageErrorKind::Io => dgen_status::Io,
        StorageErrorKind::Interrupted => dgen_status::Interrupted,
        StorageErrorKind::Generator => dgen_status::ThreadPool,
    }
}

fn text<const N: usize>(s: &str) -> [c_char; N] {
    let mut out = [0 as c_char; N];
    // Cut at a character boundary so the C string stays valid UTF-8.
    let mut n = s.len().min(N - 1);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    for (d, &b) in out.iter_mut().zip(&s.as_bytes()[..n]) {
        *d = b as c_char;
    }
    out
}

fn to_c(r: &Report) -> dgen_io_report {
    let l = r.latency;
    let m = r.first_mismatch;
    dgen_io_report {
        target: match r.target {
            TargetKind::File => dgen_io_target::File,
            TargetKind::BlockDevice => dgen_io_target::BlockDevice,
            TargetKind::Stream => dgen_io_target::Stream,
        } as u32,
        engine: text(&r.engine),
        seed: r.seed,
        offset: r.offset,
        length: r.length,
        bytes: r.bytes,
        prefix: r.prefix,
        ios: r.ios,
        seconds: r.seconds,
        sync_seconds: r.sync_seconds,
        gbps: r.gbps(),
        iops: r.iops(),
        latency_us: dgen_io_latency { p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p999, max: l.max, mean: l.mean },
        generate_seconds: r.generate_seconds,
        io_seconds: r.io_seconds,
        worker_seconds: r.worker_seconds,
        generation_share: r.generation_share(),
        generation_bound: r.generation_bound(),
        bottleneck: text(&r.bottleneck()),
        jobs: r.jobs as u32,
        iodepth: r.iodepth as u32,
        block_size: r.block_size as u64,
        direct: r.direct,
        interrupted: r.interrupted,
        passed: r.passed(),
        has_mismatch: m.is_some(),
        mismatch_offset: m.map_or(0, |m| m.offset),
        expected: m.map_or(0, |m| m.expected),
        actual: m.map_or(0, |m| m.actual),
        wrong_blocks: r.wrong_blocks,
        missing_blocks: r.missing_blocks,
        blocks: r.blocks,
        has_data_end: r.data_end.is_some(),
        data_end: r.data_end.unwrap_or(0),
        has_data_size: r.data_size.is_some(),
        data_size: r.data_size.unwrap_or(0),
        extra_data: r.extra_data,
    }
}

/// The body of `dgen_write_file` and `dgen_verify_file`.
///
/// # Safety
/// As for those functions.
unsafe fn io_call(
    func: &str,
    op: Operation,
    gen: *const dgen_generator,
    path: *const c_char,
    opts: *const dgen_io_options,
    report: *mut dgen_io_report,
) -> dgen_status {
    if gen.is_null() {
        return null(func, "gen");
    }
    if path.is_null() {
        return null(func, "path");
    }
    let call = if opts.is_null() {
        Ok(CallOptions {
            opts: IoOptions::default(),
            progress: None,
            user: std::ptr::null_mut(),
            interval: Duration::from_millis(200),
        })
    } else {
        // SAFETY: not NULL, and the caller guarantees it is readable.
        unsafe { read_options(opts) }
    };
    let call = match call {
        Ok(c) => c,
        Err(e) => {
            set_error(format!("{func}: {}", e.message));
            return status_of(e.kind);
        }
    };
    // SAFETY: `path` is not NULL and the caller guarantees a NUL-terminated string.
    let path = Path::new(std::ffi::OsStr::from_bytes(unsafe { CStr::from_ptr(path) }.to_bytes()));
    // SAFETY: `gen` is a live generator; only shared access is made.
    let gen = unsafe { &(*gen).inner };
    let user = call.user;
    let mut tick = |p: storage::Progress| match call.progress {
        // SAFETY: the caller guarantees `progress` is a function with this
        // signature, and `user` is what it asked to be passed.
        Some(f) => unsafe { f(user, p.bytes, p.total) },
        None => true,
    };
    let control = Control {
        cancel: None,
        progress: if call.progress.is_some() { Some(&mut tick) } else { None },
        interval: call.interval,
        ..Control::default()
    };
    let result = match op {
        Operation::Write => storage::write_file_with(gen, path, &call.opts, control),
        Operation::Verify => storage::verify_file_with(gen, path, &call.opts, control),
    };
    let (r, status) = match &result {
        Ok(r) if r.passed() => (r, dgen_status::Ok),
        Ok(r) => {
            set_error(format!("{}: {}", r.path, r.problem().unwrap_or_default()));
            (r, dgen_status::Mismatch)
        }
        Err(e) => {
            set_error(e.message.clone());
            (e.report.as_ref(), status_of(e.kind))
        }
    };
    if !report.is_null() {
        // SAFETY: not NULL, and the caller guarantees it is writable.
        unsafe { report.write(to_c(r)) };
    }
    status
}

/// Writes the generator's bytes `[offset, offset + length)` to `path`: a
/// regular file (created when missing, never truncated unless `truncate`
/// applies), a block device (opened exclusively, so a mounted one is
/// refused; never truncated), or a FIFO, character device or "-" (standard
/// output), written in order.
///
/// On files and devices `jobs` workers each fill their own aligned buffer
/// with `dgen_fill_at`'s bytes and write it at its offset (`pwrite`, or
/// `iodepth` in flight through io_uring). `opts` may be NULL for the
/// defaults; `report` may be NULL, else it is filled on success and, as far
/// as the run got, on failure.
///
/// Returns `DGEN_STATUS_IO` when the file cannot be opened, written or
/// synced (the message names the path, the offset and the system's reason),
/// `DGEN_STATUS_INVALID_CONFIG` for a bad option (named),
/// `DGEN_STATUS_OUT_OF_RANGE` when the range passes the end of the stream or
/// device, `DGEN_STATUS_INTERRUPTED` when the progress callback stopped it.
///
/// # Safety
/// `gen` is NULL or a live generator; `path` is NULL or a NUL-terminated
/// string; `opts` is NULL or a readable `dgen_io_options` whose `progress`
/// is NULL or a valid function; `report` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_write_file(
    gen: *const dgen_generator,
    path: *const c_char,
    opts: *const dgen_io_options,
    report: *mut dgen_io_report,
) -> dgen_status {
    guard("dgen_write_file", Message::Reset, dgen_status::Panic, || {
        // SAFETY: the caller's guarantees are those of io_call.
        unsafe { io_call("dgen_write_file", Operation::Write, gen, path, opts, report) }
    })
}

/// Reads `[offset, offset + length)` of `path` (a regular file, a block
/// device, or a FIFO, character device or "-" for standard input, read in
/// order) and compares every byte with the generator's, with `jobs` workers
/// reading positionally as `dgen_write_file` writes.
///
/// Returns `DGEN_STATUS_OK` when every byte is in place and the data
/// neither ends early nor (for a range that runs to the end of a sized
/// stream) goes on past it; `DGEN_STATUS_MISMATCH` otherwise, with the
/// report saying what (the first wrong offset, wrong and missing 4 KiB
/// blocks, `data_end`, `extra_data`) and the message in words ("data ends at
/// 5242880, the dataset is 8388608"). Other statuses as for
/// `dgen_write_file`.
///
/// # Safety
/// As for `dgen_write_file`.
#[no_mangle]
pub unsafe extern "C" fn dgen_verify_file(
    gen: *const dgen_generator,
    path: *const c_char,
    opts: *const dgen_io_options,
    report: *mut dgen_io_report,
) -> dgen_status {
    guard("dgen_verify_file", Message::Reset, dgen_status::Panic, || {
        // SAFETY: the caller's guarantees are those of io_call.
        unsafe { io_call("dgen_verify_file", Operation::Verify, gen, path, opts, report) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_at_a_character_boundary_and_terminated() {
        let t: [c_char; 4] = text("aé€");
        assert_eq!(t.map(|c| c as u8), [b'a', 0xc3, 0xa9, 0]);
        let t: [c_char; 8] = text("ok");
        assert_eq!(&t.map(|c| c as u8)[..3], b"ok\0");
    }

    #[test]
    fn every_storage_error_has_a_status() {
        assert_eq!(status_of(StorageErrorKind::Interrupted), dgen_status::Interrupted);
        assert_eq!(status_of(StorageErrorKind::Io), dgen_status::Io);
        assert_eq!(status_of(StorageErrorKind::InvalidOption), dgen_status::InvalidConfig);
        assert_eq!(status_of(StorageErrorKind::OutOfRange), dgen_status::OutOfRange);
    }
}

#[cfg(test)]
mod layout {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// tests/c/test_storage.c checks the same numbers from the C side, so
    /// the header and this file cannot drift apart unnoticed.
    #[test]
    fn the_structs_have_the_layout_the_c_test_checks() {
        assert_eq!(size_of::<dgen_io_options>(), 72);
        assert_eq!(offset_of!(dgen_io_options, block_size), 24);
        assert_eq!(offset_of!(dgen_io_options, progress), 48);
        assert_eq!(offset_of!(dgen_io_options, progress_interval_ms), 64);
        assert_eq!(size_of::<dgen_io_report>(), 536);
        assert_eq!(offset_of!(dgen_io_report, latency_us), 216);
        assert_eq!(offset_of!(dgen_io_report, extra_data), 528);
    }
}
