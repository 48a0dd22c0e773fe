//! The C face of `dgen::storage`: `dgen_write_file` and `dgen_verify_file`
//! with an options struct (`dgen_io_options_init` for defaults) and a report
//! struct filled on success and, as far as the run got, on failure.

use std::ffi::{c_char, c_void, CStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

use super::{dgen_generator, dgen_status, guard_status, refuse, write_defaults};
use libdgen::storage::{
    self, Control, Fault, IoEngine, IoOptions, Operation, Report, StorageError, StorageErrorKind, TargetKind, Value,
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
    // SAFETY: the caller guarantees what `write_defaults` needs.
    unsafe { write_defaults("dgen_io_options_init", "opts", opts, default_options) }
}

/// The defaults of `dgen_io_options_init`, which NULL options also stand for.
fn default_options() -> dgen_io_options {
    let d = IoOptions::default();
    dgen_io_options {
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
    }
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
                os_error: None, field: None,
            }
            .into_error(Report::new(Operation::Write, "", TargetKind::File, 0)));
        }
    };
    let opts = IoOptions { engine, ..o };
    opts.validate()?;
    Ok(CallOptions { opts, progress, user, interval: Duration::from_millis(interval as u64) })
}

pub(super) fn status_of(kind: StorageErrorKind) -> dgen_status {
    dgen_status::of(kind, None)
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

/// The report as C sees it: each of [`Report::fields`] put into the C field
/// of the same name, so that the C struct and the JSON report cannot drift
/// apart. A missing value (`Value::Null`) clears the field's `has_` flag.
fn to_c(r: &Report) -> dgen_io_report {
    // SAFETY: every field of dgen_io_report is an integer, a float, a bool,
    // a char array or a struct of floats, for all of which all-zero bytes
    // are a valid value (0, 0.0, false, an empty string).
    let mut c: dgen_io_report = unsafe { std::mem::zeroed() };
    for (key, value) in r.fields() {
        let placed = set_field(&mut c, key, &value);
        debug_assert!(placed != Placed::Unknown, "the report's field {key:?} has no place in dgen_io_report");
    }
    c
}

/// Where [`set_field`] put a field of the report.
#[derive(Debug, PartialEq, Eq)]
enum Placed {
    /// In the C field of the same name.
    Set,
    /// Nowhere, by design: the caller passed the operation and the path, the
    /// problem in words is the thread's error message, and the times, the
    /// histogram and the state's counts are in the JSON report only (the
    /// struct's layout is fixed).
    NotInC,
    /// Nowhere, because nobody said where: a field added to the report and
    /// not here. A test fails on it.
    Unknown,
}

/// Puts `value`, the report's field `key`, into the C field of that name.
fn set_field(c: &mut dgen_io_report, key: &str, value: &Value) -> Placed {
    let u = || match value {
        Value::U64(n) => *n,
        _ => 0,
    };
    let f = || match value {
        Value::F64(x) => *x,
        _ => 0.0,
    };
    let b = matches!(value, Value::Bool(true));
    let s = match value {
        Value::Str(s) => s.as_str(),
        _ => "",
    };
    let some = *value != Value::Null;
    match key {
        "target" => c.target = target_code(s) as u32,
        "engine" => c.engine = text(s),
        "seed" => c.seed = u(),
        "offset" => c.offset = u(),
        "length" => c.length = u(),
        "bytes" => c.bytes = u(),
        "prefix" => c.prefix = u(),
        "ios" => c.ios = u(),
        "seconds" => c.seconds = f(),
        "sync_seconds" => c.sync_seconds = f(),
        "gbps" => c.gbps = f(),
        "iops" => c.iops = f(),
        "latency_us" => c.latency_us = latency(value),
        "generate_seconds" => c.generate_seconds = f(),
        "io_seconds" => c.io_seconds = f(),
        "worker_seconds" => c.worker_seconds = f(),
        "generation_share" => c.generation_share = f(),
        "generation_bound" => c.generation_bound = b,
        "bottleneck" => c.bottleneck = text(s),
        "jobs" => c.jobs = u() as u32,
        "block_size" => c.block_size = u(),
        "iodepth" => c.iodepth = u() as u32,
        "direct" => c.direct = b,
        "interrupted" => c.interrupted = b,
        "passed" => c.passed = b,
        "mismatch_offset" => (c.has_mismatch, c.mismatch_offset) = (some, u()),
        "expected" => c.expected = u() as u8,
        "actual" => c.actual = u() as u8,
        "wrong_blocks" => c.wrong_blocks = u(),
        "missing_blocks" => c.missing_blocks = u(),
        "blocks" => c.blocks = u(),
        "data_end" => (c.has_data_end, c.data_end) = (some, u()),
        "data_size" => (c.has_data_size, c.data_size) = (some, u()),
        "extra_data" => c.extra_data = b,
        "operation" | "path" | "problem" | "start_time" | "end_time" | "latency_histogram" | "state" => {
            return Placed::NotInC
        }
        _ => return Placed::Unknown,
    }
    Placed::Set
}

/// The `dgen_io_target` of a target's name ([`TargetKind::name`]).
fn target_code(name: &str) -> dgen_io_target {
    match name {
        n if n == TargetKind::BlockDevice.name() => dgen_io_target::BlockDevice,
        n if n == TargetKind::Stream.name() => dgen_io_target::Stream,
        _ => dgen_io_target::File,
    }
}

/// The percentiles of a `latency_us` value.
fn latency(value: &Value) -> dgen_io_latency {
    let mut l = dgen_io_latency::default();
    if let Value::Map(entries) = value {
        for (key, v) in entries {
            let x = if let Value::F64(x) = v { *x } else { 0.0 };
            match *key {
                "p50" => l.p50 = x,
                "p90" => l.p90 = x,
                "p99" => l.p99 = x,
                "p999" => l.p999 = x,
                "max" => l.max = x,
                "mean" => l.mean = x,
                _ => debug_assert!(false, "latency_us has no field {key:?} in dgen_io_latency"),
            }
        }
    }
    l
}

/// A path C passed: its bytes as they are, whatever the encoding.
///
/// # Safety
/// `path` is a NUL-terminated string, valid and unchanged during `'a`.
pub(super) unsafe fn path_arg<'a>(path: *const c_char) -> &'a Path {
    // SAFETY: guaranteed by the caller.
    Path::new(std::ffi::OsStr::from_bytes(unsafe { CStr::from_ptr(path) }.to_bytes()))
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
) -> Result<(), dgen_status> {
    non_null!(func; gen, path)?;
    let defaults = default_options();
    let opts: *const dgen_io_options = if opts.is_null() { &defaults } else { opts };
    // SAFETY: `opts` is the defaults or, not NULL, readable as the caller
    // guarantees.
    let call =
        unsafe { read_options(opts) }.map_err(|e| refuse(status_of(e.kind), format!("{func}: {}", e.message)))?;
    // SAFETY: `path` is not NULL and the caller guarantees a NUL-terminated string.
    let path = unsafe { path_arg(path) };
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
    let (r, outcome) = match &result {
        Ok(r) if r.passed() => (r, Ok(())),
        Ok(r) => {
            let message = format!("{}: {}", r.path, r.problem().unwrap_or_default());
            (r, Err(refuse(dgen_status::Mismatch, message)))
        }
        Err(e) => (e.report.as_ref(), Err(refuse(status_of(e.kind), e.message.clone()))),
    };
    if !report.is_null() {
        // SAFETY: not NULL, and the caller guarantees it is writable.
        unsafe { report.write(to_c(r)) };
    }
    outcome
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
    guard_status("dgen_write_file", |func| {
        // SAFETY: the caller's guarantees are those of io_call.
        unsafe { io_call(func, Operation::Write, gen, path, opts, report) }
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
    guard_status("dgen_verify_file", |func| {
        // SAFETY: the caller's guarantees are those of io_call.
        unsafe { io_call(func, Operation::Verify, gen, path, opts, report) }
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

    /// A report with every field set, a state's counts included.
    fn full_report(op: Operation) -> Report {
        let mut r = Report::new(op, "/dev/x", TargetKind::BlockDevice, 7);
        r.engine = "io_uring".into();
        (r.offset, r.length, r.bytes, r.prefix, r.ios) = (4096, 8192, 8192, 4096, 2);
        (r.seconds, r.sync_seconds, r.generate_seconds, r.io_seconds, r.worker_seconds) = (2.0, 0.5, 3.0, 1.0, 4.0);
        r.latency = storage::Latency { p50: 1.0, p90: 2.0, p99: 3.0, p999: 4.0, max: 5.0, mean: 1.5 };
        (r.jobs, r.block_size, r.iodepth, r.direct) = (3, 4096, 8, true);
        r.first_mismatch = Some(storage::Mismatch { offset: 5000, expected: 1, actual: 2 });
        (r.wrong_blocks, r.missing_blocks, r.blocks) = (1, 1, 3);
        (r.data_end, r.data_size, r.extra_data) = (Some(9000), Some(9000), true);
        (r.start_time, r.end_time) = (10.0, 12.0);
        r.latency_histogram = vec![(1000, 2)];
        r.state = Some(libdgen::state::StateCheck::default());
        r
    }

    #[test]
    fn every_field_of_the_report_has_its_place_in_the_c_struct() {
        for op in [Operation::Write, Operation::Verify] {
            let r = full_report(op);
            let mut c: dgen_io_report = to_c(&r);
            for (key, value) in r.fields() {
                assert_ne!(set_field(&mut c, key, &value), Placed::Unknown, "{key}");
            }
            let l = c.latency_us;
            assert_eq!(
                (c.target, c.seed, c.offset, c.length, c.bytes, c.prefix, c.ios),
                (1, 7, 4096, 8192, 8192, 4096, 2)
            );
            assert_eq!((c.seconds, c.sync_seconds, c.gbps, c.iops), (2.0, 0.5, r.gbps(), 1.0));
            assert_eq!((l.p50, l.p90, l.p99, l.p999, l.max, l.mean), (1.0, 2.0, 3.0, 4.0, 5.0, 1.5));
            assert_eq!((c.generate_seconds, c.io_seconds, c.worker_seconds), (3.0, 1.0, 4.0));
            assert_eq!((c.generation_share, c.generation_bound), (0.75, true));
            assert_eq!((c.jobs, c.block_size, c.iodepth, c.direct, c.interrupted), (3, 4096, 8, true, false));
            assert_eq!((c.has_mismatch, c.mismatch_offset, c.expected, c.actual), (true, 5000, 1, 2));
            assert_eq!((c.wrong_blocks, c.missing_blocks, c.blocks), (1, 1, 3));
            assert_eq!(
                (c.has_data_end, c.data_end, c.has_data_size, c.data_size, c.extra_data),
                (true, 9000, true, 9000, true)
            );
            assert_eq!(c.passed, r.passed());
            let engine: Vec<u8> = c.engine.iter().take_while(|&&b| b != 0).map(|&b| b as u8).collect();
            assert_eq!(engine, b"io_uring");
            let bottleneck: Vec<u8> = c.bottleneck.iter().take_while(|&&b| b != 0).map(|&b| b as u8).collect();
            assert_eq!(bottleneck, r.bottleneck().as_bytes());
        }
        let empty = to_c(&Report::new(Operation::Write, "x", TargetKind::Stream, 1));
        assert_eq!(
            (empty.target, empty.passed, empty.has_mismatch, empty.has_data_end, empty.has_data_size),
            (2, true, false, false, false)
        );
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

    /// tests/c/test_storage.c checks the same numbers from the C side.
    #[test]
    fn the_structs_have_the_layout_the_c_test_checks() {
        assert_layout!(dgen_io_options, 72, { block_size: 24, progress: 48, progress_interval_ms: 64 });
        assert_layout!(dgen_io_report, 536, { latency_us: 216, extra_data: 528 });
    }
}
