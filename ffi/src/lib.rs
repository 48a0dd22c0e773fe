//! The C ABI: one opaque handle, plain functions and status codes.
//!
//! Every exported function runs its body inside `guard`, which catches any
//! panic so that none unwinds into C: functions that return a status return
//! `DGEN_STATUS_PANIC`, the others a harmless default, and the thread-local
//! message says what happened. Every pointer is checked before use. The
//! generated header `include/dgen.h` is built from this file, so the doc
//! comments here are the C user's manual.

// The C names are the Rust names, so the header and this file read alike.
#![allow(non_camel_case_types)]

use std::cell::RefCell;
use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use libdgen::Error;
use libdgen::Generator;
use libdgen::{Config, DEFAULT_DEDUP_UNIT};
use libdgen::{NumaMode, Topology};

#[cfg(unix)]
mod part;
#[cfg(unix)]
pub use part::{dgen_part_parse, dgen_part_range};
#[cfg(unix)]
mod state;
#[cfg(unix)]
mod storage;
mod vectors;

pub use self::vectors::dgen_fill_f32_at;

// The header promises that dgen_fill_at and dgen_verify_at may run from many
// threads on one handle; this stops compiling if Generator ever loses Sync.
const _: fn() = || {
    fn shared_across_threads<T: Sync>() {}
    shared_across_threads::<Generator>();
};

/// A generator: a seekable, reproducible stream of synthetic bytes.
///
/// Created by `dgen_create`, released by `dgen_free`. Every call but
/// `dgen_free` may run from many threads at once on one generator:
/// `dgen_fill` takes the next bytes of the stream with one atomic step, so
/// threads that share a stream get disjoint consecutive ranges whose union is
/// the stream; `dgen_seek` and `dgen_rewind` store the position atomically;
/// `dgen_fill_at` and `dgen_verify_at` do not touch it. `dgen_free` needs the
/// generator to itself: no other call on it may run then or later.
///
/// A generator survives `fork`: one created (and used) before a fork works
/// in the child and gives the same bytes. The child has only the thread that
/// called fork, so the first large fill there starts worker threads of its
/// own instead of waiting for the parent's; the position and everything else
/// are the parent's as of the fork, and the two processes then move on
/// apart. `dgen_free` in the child does not wait for the parent's workers.
pub struct dgen_generator {
    inner: Generator,
}

/// What to generate. Fill it with `dgen_config_init` first, then change the
/// fields you need, so that code written today gets the right defaults for
/// fields a later version may add.
///
/// Every byte of the stream is a pure function of `seed`, `size`,
/// `dedup_ratio`, `compress_ratio`, `dedup_unit`, `compressor` and the byte's
/// offset; `threads` and the NUMA fields change only the speed.
///
/// `dgen_create` checks the fields in the order they are declared and
/// reports the first bad one.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct dgen_config {
    /// Logical size of the stream in bytes; 0 means endless (up to 2^64 - 1).
    pub size: u64,
    /// Total dedup units / distinct dedup units, from 1.0 to 1024.0.
    pub dedup_ratio: f64,
    /// Input bytes / compressed bytes for LZ-family compressors (zstd, lz4,
    /// gzip), from 1.0 to 32.0.
    pub compress_ratio: f64,
    /// Dedup unit in bytes: a multiple of 4096, at most 67108864 (64 MiB).
    pub dedup_unit: u32,
    /// Seed of the stream. A seed that is set is used, and one that could be
    /// mistaken for "no seed" is refused: with `has_seed` true this seed is
    /// used (0 included); with `has_seed` false it must be 0, and a fresh
    /// random seed is drawn per generator (`dgen_seed` reads it back so the
    /// run can be repeated). A non-zero seed with `has_seed` false is
    /// `DGEN_STATUS_INVALID_CONFIG`, never silently replaced.
    pub seed: u64,
    /// Whether `seed` is used; see `seed`.
    pub has_seed: bool,
    /// Worker threads for large fills; 0 means every CPU this process may run
    /// on (or every such CPU of `numa_node`). Accepted up to 4096 and capped at
    /// those CPUs, since more workers would only take turns on them;
    /// `dgen_threads` reports the number in use. To leave CPUs for I/O
    /// threads, ask for fewer, e.g. half of what `dgen_topology` reports.
    pub threads: u32,
    /// How workers are placed, a `dgen_numa_mode`: `DGEN_NUMA_MODE_AUTO` (pin
    /// across nodes only on multi-node hosts), `DGEN_NUMA_MODE_OFF` or
    /// `DGEN_NUMA_MODE_FORCE`.
    pub numa_mode: u32,
    /// Keep the workers on this NUMA node's CPUs; -1 for no node. Buffer pages
    /// the workers touch first are then placed on that node by the kernel.
    pub numa_node: i32,
    /// The compressor `compress_ratio` is calibrated for, a `dgen_compressor`:
    /// `DGEN_COMPRESSOR_AUTO` (the default) hits the target with the geometric
    /// mean of zstd-1 and lz4 and lets the other formats spread as real data
    /// spreads them; a named one hits it tightly.
    pub compressor: u32,
}

/// Values of `dgen_config.compressor`: the compressor the compression ratio is
/// calibrated for.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dgen_compressor {
    /// The geometric mean of zstd-1 and lz4 hits the target; entropy-coded
    /// formats (zstd, deflate, brotli, LZMA) land above it and byte-aligned
    /// ones (lz4, snappy, LZO, LZJB) below, as on real data.
    Auto = 0,
    /// zstd.
    Zstd = 1,
    /// lz4.
    Lz4 = 2,
    /// deflate: zlib and gzip.
    Gzip = 3,
    /// snappy.
    Snappy = 4,
    /// LZO1X-1.
    Lzo = 5,
    /// LZJB.
    Lzjb = 6,
}

/// Values of `dgen_config.numa_mode`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dgen_numa_mode {
    /// Pin workers across NUMA nodes only on hosts with more than one node.
    Auto = 0,
    /// Never pin; the operating system places the workers.
    Off = 1,
    /// Pin workers to CPUs even on a single-node host.
    Force = 2,
}

/// The result of every fallible call. `DGEN_STATUS_OK` is 0; for any other
/// value `dgen_last_error` says in words what was wrong, naming the field or
/// argument and its value.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dgen_status {
    /// Success.
    Ok = 0,
    /// A pointer argument that must not be NULL was NULL.
    NullPointer = 1,
    /// `dedup_ratio` is NaN, infinite, below 1.0 or above 1024.0.
    InvalidDedupRatio = 2,
    /// `compress_ratio` is NaN, infinite, below 1.0 or above 32.0.
    InvalidCompressRatio = 3,
    /// `dedup_unit` is 0, not a multiple of 4096, or above 64 MiB.
    InvalidDedupUnit = 4,
    /// `threads` is above 4096.
    InvalidThreads = 5,
    /// Another config field holds a value the generator cannot use:
    /// `numa_mode`, `numa_node`, or a non-zero `seed` with `has_seed` false;
    /// or `dgen_fill_f32_at` was given a `low` or `high` that is not finite,
    /// or a `high` not greater than `low`.
    InvalidConfig = 6,
    /// The range or position passes the end of a sized stream, `offset + len`
    /// passes 2^64 - 1, a buffer is larger than any object can be, or
    /// `dgen_alloc_aligned` was given an alignment that is not a power of two
    /// or a length it cannot allocate, or `dgen_fill_f32_at` was asked for
    /// elements past index 2^64 - 1.
    OutOfRange = 7,
    /// `dgen_verify_at` found a byte that differs from the stream.
    Mismatch = 8,
    /// No longer returned: when worker threads cannot be started, a fill runs
    /// on the calling thread instead (the bytes are the same) and the threads
    /// are tried again a second later. Kept so that the numbers of the other
    /// statuses stay as they are.
    ThreadPool = 9,
    /// An internal error was caught at the library boundary; the message says
    /// where. Please report it.
    Panic = 10,
    /// `compressor` names no `dgen_compressor`.
    InvalidCompressor = 11,
    /// A file or device could not be opened, read or written; the message
    /// names the path, the offset and the system's reason.
    Io = 12,
    /// `dgen_write_file` or `dgen_verify_file` was stopped by its progress
    /// callback; the report says how far it got.
    Interrupted = 13,
    /// A write state (`dgen_state_open`) cannot be used: it describes
    /// another dataset, is damaged, cut short or of a newer format, was
    /// opened read-only for a write, or a range is not whole dedup units;
    /// the message names the field or range and the values.
    InvalidState = 14,
}

/// A `dgen_status` as C passes it in: any `int`-sized value, including ones
/// that name no status. Rust may not hold an enum with an undefined value, so
/// `dgen_status_str` takes this instead; cbindgen.toml renames it to
/// `dgen_status` in the header, which has the same size and passing convention.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct dgen_status_arg(pub std::ffi::c_uint);

const ALL_STATUSES: [dgen_status; 15] = [
    dgen_status::Ok,
    dgen_status::NullPointer,
    dgen_status::InvalidDedupRatio,
    dgen_status::InvalidCompressRatio,
    dgen_status::InvalidDedupUnit,
    dgen_status::InvalidThreads,
    dgen_status::InvalidConfig,
    dgen_status::OutOfRange,
    dgen_status::Mismatch,
    dgen_status::ThreadPool,
    dgen_status::Panic,
    dgen_status::InvalidCompressor,
    dgen_status::Io,
    dgen_status::Interrupted,
    dgen_status::InvalidState,
];

impl dgen_status {
    /// The status a Rust error maps to.
    pub fn from_error(e: &Error) -> dgen_status {
        match e {
            Error::InvalidConfig { field, .. } => match *field {
                "dedup_ratio" => dgen_status::InvalidDedupRatio,
                "compress_ratio" => dgen_status::InvalidCompressRatio,
                "dedup_unit" => dgen_status::InvalidDedupUnit,
                "threads" => dgen_status::InvalidThreads,
                "compressor" => dgen_status::InvalidCompressor,
                _ => dgen_status::InvalidConfig,
            },
            Error::OutOfRange { .. } => dgen_status::OutOfRange,
            Error::Mismatch { .. } => dgen_status::Mismatch,
            _ => dgen_status::InvalidConfig,
        }
    }

    /// The status with this number, if there is one.
    pub fn from_code(code: u32) -> Option<dgen_status> {
        ALL_STATUSES.get(code as usize).copied()
    }

    /// The static, NUL-terminated name `dgen_status_str` returns.
    fn text(self) -> &'static [u8] {
        match self {
            dgen_status::Ok => b"DGEN_STATUS_OK: success\0",
            dgen_status::NullPointer => b"DGEN_STATUS_NULL_POINTER: a required pointer was NULL\0",
            dgen_status::InvalidDedupRatio => {
                b"DGEN_STATUS_INVALID_DEDUP_RATIO: dedup_ratio must be a number from 1.0 to 1024.0\0"
            }
            dgen_status::InvalidCompressRatio => {
                b"DGEN_STATUS_INVALID_COMPRESS_RATIO: compress_ratio must be a number from 1.0 to 32.0\0"
            }
            dgen_status::InvalidDedupUnit => {
                b"DGEN_STATUS_INVALID_DEDUP_UNIT: dedup_unit must be a multiple of 4096 from 4096 to 67108864\0"
            }
            dgen_status::InvalidThreads => b"DGEN_STATUS_INVALID_THREADS: threads must be from 0 (all CPUs) to 4096\0",
            dgen_status::InvalidConfig => b"DGEN_STATUS_INVALID_CONFIG: a config field is invalid\0",
            dgen_status::OutOfRange => b"DGEN_STATUS_OUT_OF_RANGE: range outside the stream\0",
            dgen_status::Mismatch => b"DGEN_STATUS_MISMATCH: data differs from the stream\0",
            dgen_status::ThreadPool => b"DGEN_STATUS_THREAD_POOL: cannot start worker threads\0",
            dgen_status::Panic => b"DGEN_STATUS_PANIC: internal error caught at the library boundary\0",
            dgen_status::InvalidCompressor => {
                b"DGEN_STATUS_INVALID_COMPRESSOR: compressor must be a dgen_compressor value\0"
            }
            dgen_status::Io => b"DGEN_STATUS_IO: a file or device could not be read or written\0",
            dgen_status::Interrupted => b"DGEN_STATUS_INTERRUPTED: stopped by the progress callback\0",
            dgen_status::InvalidState => b"DGEN_STATUS_INVALID_STATE: the write state cannot be used here\0",
        }
    }
}

thread_local! {
    /// The message of the last failed call on this thread; empty when the last
    /// call succeeded.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_error(msg: String) {
    // A message never holds NUL in practice; should one appear, cut it there
    // rather than lose the whole message.
    let bytes: Vec<u8> = msg.into_bytes().into_iter().take_while(|&b| b != 0).collect();
    let text = CString::new(bytes).unwrap_or_default();
    // try_with: during thread teardown the slot may be gone; losing the
    // message then is better than a panic.
    let _ = LAST_ERROR.try_with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            *m = text;
        }
    });
}

fn clear_error() {
    let _ = LAST_ERROR.try_with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            if !m.as_bytes().is_empty() {
                *m = CString::default();
            }
        }
    });
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

/// What an exported function does with the thread's message before its body.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Message {
    /// Clear it: the function reports its own outcome.
    Reset,
    /// Leave it: the function only reads static data or the message itself,
    /// so it can sit in the same expression as `dgen_last_error`.
    Keep,
}

/// Runs the body of the exported function `name` and turns a panic into
/// `on_panic` plus a message, so that no panic unwinds into C. Every
/// `extern "C"` function in this file goes through here.
fn guard<R>(name: &str, message: Message, on_panic: R, body: impl FnOnce() -> R) -> R {
    if message == Message::Reset {
        clear_error();
    }
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(r) => r,
        Err(payload) => {
            // Formatting the payload could itself panic (a Display impl); that
            // one is caught too and leaves a fixed message.
            let msg = catch_unwind(AssertUnwindSafe(|| format!("{name}: internal error: {}", panic_text(&*payload))))
                .unwrap_or_else(|_| format!("{name}: internal error"));
            set_error(msg);
            // So could dropping the payload.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            on_panic
        }
    }
}

/// Status and message for a Rust error.
fn fail(e: Error) -> dgen_status {
    let status = dgen_status::from_error(&e);
    set_error(e.to_string());
    status
}

/// Status and message for a NULL argument.
fn null(func: &str, arg: &str) -> dgen_status {
    set_error(format!("{func}: {arg} must not be NULL"));
    dgen_status::NullPointer
}

/// A slice may not be larger than `isize::MAX` bytes; a longer `len` cannot
/// describe a real buffer.
fn check_len(func: &str, len: usize) -> Result<(), dgen_status> {
    if len > isize::MAX as usize {
        set_error(format!("{func}: len {len} is larger than any buffer can be"));
        return Err(dgen_status::OutOfRange);
    }
    Ok(())
}

/// Sets `*cfg` to the defaults: size 0 (endless), dedup_ratio 1.0,
/// compress_ratio 1.0, dedup_unit 4096, seed 0 with has_seed false (a fresh
/// seed per generator), threads 0 (every CPU), numa_mode
/// `DGEN_NUMA_MODE_AUTO`, numa_node -1, compressor `DGEN_COMPRESSOR_AUTO`.
/// Does nothing when `cfg` is NULL.
///
/// # Safety
/// `cfg` is NULL or points to writable memory for one `dgen_config`.
#[no_mangle]
pub unsafe extern "C" fn dgen_config_init(cfg: *mut dgen_config) {
    guard("dgen_config_init", Message::Reset, (), || {
        if cfg.is_null() {
            null("dgen_config_init", "cfg");
            return;
        }
        let d = Config::default();
        let value = dgen_config {
            size: d.size,
            dedup_ratio: d.dedup_ratio,
            compress_ratio: d.compress_ratio,
            dedup_unit: DEFAULT_DEDUP_UNIT,
            seed: 0,
            has_seed: false,
            threads: 0,
            numa_mode: dgen_numa_mode::Auto as u32,
            numa_node: -1,
            compressor: dgen_compressor::Auto as u32,
        };
        // SAFETY: the caller guarantees `cfg` points to writable memory for a
        // `dgen_config`; `write` does not read or drop the old contents, which
        // may be uninitialized.
        unsafe { cfg.write(value) };
    })
}

/// A `dgen_config` as C wrote it, read without trusting its `bool` byte: C
/// code may leave any value there (a `memset`, a union), and Rust may only
/// hold 0 or 1 in a `bool`.
struct RawConfig {
    size: u64,
    dedup_ratio: f64,
    compress_ratio: f64,
    dedup_unit: u32,
    seed: u64,
    has_seed: bool,
    threads: u32,
    numa_mode: u32,
    numa_node: i32,
    compressor: u32,
}

impl RawConfig {
    /// # Safety
    /// `cfg` points to readable memory for one `dgen_config`.
    unsafe fn read(cfg: *const dgen_config) -> RawConfig {
        // SAFETY: the caller guarantees `cfg` is valid for reads. Each field is
        // read through a raw place, so no reference to the struct (and so to
        // the possibly invalid bool) is made; the bool is read as the byte it is.
        unsafe {
            RawConfig {
                size: std::ptr::addr_of!((*cfg).size).read(),
                dedup_ratio: std::ptr::addr_of!((*cfg).dedup_ratio).read(),
                compress_ratio: std::ptr::addr_of!((*cfg).compress_ratio).read(),
                dedup_unit: std::ptr::addr_of!((*cfg).dedup_unit).read(),
                seed: std::ptr::addr_of!((*cfg).seed).read(),
                has_seed: std::ptr::addr_of!((*cfg).has_seed).cast::<u8>().read() != 0,
                threads: std::ptr::addr_of!((*cfg).threads).read(),
                numa_mode: std::ptr::addr_of!((*cfg).numa_mode).read(),
                numa_node: std::ptr::addr_of!((*cfg).numa_node).read(),
                compressor: std::ptr::addr_of!((*cfg).compressor).read(),
            }
        }
    }

    /// The Rust config, checking the fields in the order the struct declares
    /// them, so that the first bad field is the one reported: size,
    /// dedup_ratio, compress_ratio, dedup_unit, seed/has_seed, threads,
    /// numa_mode, numa_node (including whether the node exists), compressor.
    fn to_config(&self) -> Result<Config, Error> {
        let invalid = |field, value: String, expected| Error::InvalidConfig { field, value, expected };
        // Config::validate checks size, the ratios and dedup_unit, then
        // threads; threads is left at its (valid) default here so that the
        // seed, which comes before it, is checked first.
        let mut config = Config {
            size: self.size,
            dedup_ratio: self.dedup_ratio,
            compress_ratio: self.compress_ratio,
            dedup_unit: self.dedup_unit,
            ..Config::default()
        };
        config.validate()?;
        config.seed = match (self.has_seed, self.seed) {
            (true, seed) => Some(seed),
            (false, 0) => None,
            // A seed written without has_seed would otherwise be dropped for
            // a random one without a word.
            (false, seed) => {
                return Err(invalid(
                    "seed",
                    seed.to_string(),
                    "is set but has_seed is false: set has_seed to use it, or leave seed 0 to draw a fresh seed",
                ))
            }
        };
        config.threads = self.threads as usize;
        config.validate()?;
        config.numa_mode = match self.numa_mode {
            0 => NumaMode::Auto,
            1 => NumaMode::Off,
            2 => NumaMode::Force,
            other => {
                return Err(invalid(
                    "numa_mode",
                    other.to_string(),
                    "must be DGEN_NUMA_MODE_AUTO (0), DGEN_NUMA_MODE_OFF (1) or DGEN_NUMA_MODE_FORCE (2)",
                ))
            }
        };
        config.numa_node = match self.numa_node {
            -1 => None,
            n if n >= 0 => Some(n as u32),
            other => return Err(invalid("numa_node", other.to_string(), "must be -1 (none) or a NUMA node number")),
        };
        // Whether the node exists on this machine is part of numa_node's check.
        Topology::current().plan(config.threads, config.numa_mode, config.numa_node)?;
        config.compressor = match libdgen::Compressor::ALL.get(self.compressor as usize) {
            Some(&c) => c,
            None => {
                return Err(invalid(
                    "compressor",
                    self.compressor.to_string(),
                    "must be a dgen_compressor: DGEN_COMPRESSOR_AUTO (0) to DGEN_COMPRESSOR_LZJB (6)",
                ))
            }
        };
        Ok(config)
    }
}

/// Reads and checks `*cfg`; on failure sets the message and returns the
/// status naming the first bad field.
///
/// # Safety
/// `cfg` points to readable memory for one `dgen_config`.
unsafe fn read_config(cfg: *const dgen_config) -> Result<Config, dgen_status> {
    // SAFETY: guaranteed by the caller.
    let raw = unsafe { RawConfig::read(cfg) };
    raw.to_config().map_err(|e| match e {
        Error::InvalidConfig { field: "seed", value, .. } => {
            set_error(format!(
                "seed is {value} but has_seed is false: set has_seed to use it, or leave seed 0 to draw a fresh seed"
            ));
            dgen_status::InvalidConfig
        }
        e => fail(e),
    })
}

/// Validates `*cfg` and creates a generator, stored in `*out`.
///
/// Cost and memory do not depend on `cfg->size`: a generator for 2^63 bytes is
/// as cheap as one for 4 KiB, and no thread starts before the first large
/// fill. On failure `*out` is set to NULL (when `out` is not NULL) and the
/// status names the first bad field in declaration order:
/// `DGEN_STATUS_INVALID_DEDUP_RATIO`, `DGEN_STATUS_INVALID_COMPRESS_RATIO`,
/// `DGEN_STATUS_INVALID_DEDUP_UNIT`, `DGEN_STATUS_INVALID_CONFIG` (a non-zero
/// `seed` with `has_seed` false), `DGEN_STATUS_INVALID_THREADS`,
/// `DGEN_STATUS_INVALID_CONFIG` (`numa_mode`, `numa_node`),
/// `DGEN_STATUS_INVALID_COMPRESSOR`; or `DGEN_STATUS_NULL_POINTER`.
///
/// # Safety
/// `cfg` is NULL or points to a readable `dgen_config`; `out` is NULL or
/// points to writable memory for one pointer.
#[no_mangle]
pub unsafe extern "C" fn dgen_create(cfg: *const dgen_config, out: *mut *mut dgen_generator) -> dgen_status {
    guard("dgen_create", Message::Reset, dgen_status::Panic, || {
        if out.is_null() {
            return null("dgen_create", "out");
        }
        // SAFETY: `out` is not NULL and the caller guarantees it is writable.
        unsafe { out.write(std::ptr::null_mut()) };
        if cfg.is_null() {
            return null("dgen_create", "cfg");
        }
        // SAFETY: `cfg` is not NULL and the caller guarantees it is readable.
        let config = match unsafe { read_config(cfg) } {
            Ok(c) => c,
            Err(s) => return s,
        };
        match Generator::new(config) {
            Ok(inner) => {
                let raw = Box::into_raw(Box::new(dgen_generator { inner }));
                // SAFETY: as above; ownership of the box passes to the caller,
                // who gives it back through `dgen_free`.
                unsafe { out.write(raw) };
                dgen_status::Ok
            }
            Err(e) => fail(e),
        }
    })
}

/// Continues the stream: writes the next bytes into `buf` and their count into
/// `*written`.
///
/// `*written` is `len`, except for the short last fill of a sized stream, and 0
/// once the stream is complete (`dgen_is_complete` is then true). Filling a
/// stream with any mix of lengths gives the same bytes as `dgen_fill_at` at the
/// same offsets. `buf` may be NULL only when `len` is 0. On failure `*written`
/// is 0 and the position does not move.
///
/// Safe to call from many threads at once on one generator: each call takes
/// its range `[position, position + *written)` with one atomic
/// compare-and-swap and fills it outside any lock, so concurrent calls get
/// disjoint consecutive ranges that together are the stream, each byte once
/// (which thread gets which range is up to the scheduler; `dgen_fill_at`
/// fills ranges a caller chooses).
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`; `buf` is NULL or
/// valid for writes of `len` bytes; `written` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_fill(
    gen: *mut dgen_generator,
    buf: *mut c_void,
    len: usize,
    written: *mut usize,
) -> dgen_status {
    guard("dgen_fill", Message::Reset, dgen_status::Panic, || {
        if written.is_null() {
            return null("dgen_fill", "written");
        }
        // SAFETY: `written` is not NULL and the caller guarantees it is writable.
        unsafe { written.write(0) };
        if gen.is_null() {
            return null("dgen_fill", "gen");
        }
        if buf.is_null() && len != 0 {
            return null("dgen_fill", "buf");
        }
        if let Err(s) = check_len("dgen_fill", len) {
            return s;
        }
        // SAFETY: `gen` is a live generator; only shared access is made (the
        // position is an atomic), so other threads may use it meanwhile.
        let gen = unsafe { &(*gen).inner };
        // SAFETY: `buf` is valid for `len` writable bytes (or `len` is 0 and a
        // dangling pointer is used), `len` fits in isize, and nothing else
        // accesses the buffer during the call.
        let buf = unsafe { bytes_mut(buf, len) };
        match gen.fill_shared(buf) {
            Ok(n) => {
                // SAFETY: as above.
                unsafe { written.write(n) };
                dgen_status::Ok
            }
            Err(e) => fail(e),
        }
    })
}

/// A mutable byte slice from C's pointer and length; a dangling pointer stands
/// in for NULL when `len` is 0.
///
/// # Safety
/// `buf` is valid for writes of `len` bytes (any value when `len` is 0),
/// `len <= isize::MAX`, and nothing else accesses the bytes during `'a`.
unsafe fn bytes_mut<'a>(buf: *mut c_void, len: usize) -> &'a mut [u8] {
    if len == 0 {
        return &mut [];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) }
}

/// As [`bytes_mut`], for reading.
///
/// # Safety
/// `buf` is valid for reads of `len` bytes (any value when `len` is 0),
/// `len <= isize::MAX`, and nothing writes the bytes during `'a`.
unsafe fn bytes<'a>(buf: *const c_void, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) }
}

/// Writes the stream's bytes `[offset, offset + len)` into `buf`; the stream
/// position does not move.
///
/// Safe to call from many threads at once on one generator. Fails with
/// `DGEN_STATUS_OUT_OF_RANGE` when the range passes the end of a sized stream
/// or `offset + len` passes 2^64 - 1; an empty range counts too, so `offset`
/// past the size is refused even when `len` is 0 (`offset` equal to the size
/// is the empty range at the end, which is fine). `buf` may be NULL only when
/// `len` is 0.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`; `buf` is NULL or
/// valid for writes of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn dgen_fill_at(
    gen: *const dgen_generator,
    offset: u64,
    buf: *mut c_void,
    len: usize,
) -> dgen_status {
    guard("dgen_fill_at", Message::Reset, dgen_status::Panic, || {
        if gen.is_null() {
            return null("dgen_fill_at", "gen");
        }
        if buf.is_null() && len != 0 {
            return null("dgen_fill_at", "buf");
        }
        if let Err(s) = check_len("dgen_fill_at", len) {
            return s;
        }
        // SAFETY: `gen` is a live generator; only shared access is made, which
        // the generator allows from many threads (it is Sync).
        let gen = unsafe { &(*gen).inner };
        // SAFETY: see `bytes_mut`; the caller guarantees `buf`.
        let buf = unsafe { bytes_mut(buf, len) };
        match gen.fill_at(offset, buf) {
            Ok(()) => dgen_status::Ok,
            Err(e) => fail(e),
        }
    })
}

/// Checks that `buf` holds the stream's bytes `[offset, offset + len)`.
///
/// Returns `DGEN_STATUS_OK` when every byte matches, and
/// `DGEN_STATUS_MISMATCH` when one differs: then `*mismatch_offset` (when not
/// NULL) is the stream offset of the first wrong byte, and the message gives
/// it with the expected and found values. `mismatch_offset` is written only on
/// `DGEN_STATUS_MISMATCH` and may be NULL. Safe to call from many threads at
/// once on one generator. Range errors are as for `dgen_fill_at`.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`; `buf` is NULL or
/// valid for reads of `len` bytes; `mismatch_offset` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_verify_at(
    gen: *const dgen_generator,
    offset: u64,
    buf: *const c_void,
    len: usize,
    mismatch_offset: *mut u64,
) -> dgen_status {
    guard("dgen_verify_at", Message::Reset, dgen_status::Panic, || {
        if gen.is_null() {
            return null("dgen_verify_at", "gen");
        }
        if buf.is_null() && len != 0 {
            return null("dgen_verify_at", "buf");
        }
        if let Err(s) = check_len("dgen_verify_at", len) {
            return s;
        }
        // SAFETY: `gen` is a live generator; only shared access is made.
        let gen = unsafe { &(*gen).inner };
        // SAFETY: see `bytes`; the caller guarantees `buf`.
        let buf = unsafe { bytes(buf, len) };
        match gen.verify_at(offset, buf) {
            Ok(()) => dgen_status::Ok,
            Err(e) => {
                if let (Error::Mismatch { offset, .. }, false) = (&e, mismatch_offset.is_null()) {
                    // SAFETY: not NULL, and the caller guarantees it is writable.
                    unsafe { mismatch_offset.write(*offset) };
                }
                fail(e)
            }
        }
    })
}

/// True when the position of a sized stream is at its end (all its bytes were
/// produced by `dgen_fill`, or `dgen_seek` went to the end); never for an
/// endless stream. False (and a message) when `gen` is NULL.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_is_complete(gen: *const dgen_generator) -> bool {
    guard("dgen_is_complete", Message::Reset, false, || {
        if gen.is_null() {
            null("dgen_is_complete", "gen");
            return false;
        }
        // SAFETY: `gen` is a live generator; only shared access is made.
        unsafe { (*gen).inner.is_complete() }
    })
}

/// The seed in use: the config's, or the one drawn when `has_seed` was false.
/// A config with this seed and `has_seed` true repeats the stream. 0 (and a
/// message) when `gen` is NULL.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_seed(gen: *const dgen_generator) -> u64 {
    guard("dgen_seed", Message::Reset, 0, || {
        if gen.is_null() {
            null("dgen_seed", "gen");
            return 0;
        }
        // SAFETY: `gen` is a live generator; only shared access is made.
        unsafe { (*gen).inner.seed() }
    })
}

/// The stream offset the next `dgen_fill` starts at. 0 (and a message) when
/// `gen` is NULL.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_position(gen: *const dgen_generator) -> u64 {
    guard("dgen_position", Message::Reset, 0, || {
        if gen.is_null() {
            null("dgen_position", "gen");
            return 0;
        }
        // SAFETY: `gen` is a live generator; only shared access is made.
        unsafe { (*gen).inner.position() }
    })
}

/// The stream's size in bytes as configured; 0 for an endless stream (and,
/// with a message, when `gen` is NULL).
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_size(gen: *const dgen_generator) -> u64 {
    guard("dgen_size", Message::Reset, 0, || {
        if gen.is_null() {
            null("dgen_size", "gen");
            return 0;
        }
        // SAFETY: `gen` is a live generator; only shared access is made.
        unsafe { (*gen).inner.size() }
    })
}

/// The worker threads the generator uses for large fills: `threads`, or every
/// CPU the process may use when it was 0, capped at those CPUs. 0 (and a
/// message) when `gen` is NULL.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_threads(gen: *const dgen_generator) -> u32 {
    guard("dgen_threads", Message::Reset, 0, || {
        if gen.is_null() {
            null("dgen_threads", "gen");
            return 0;
        }
        // SAFETY: `gen` is a live generator; only shared access is made.
        let threads = unsafe { (*gen).inner.threads() };
        // At most the CPUs of the machine, and at most 4096 by the config.
        u32::try_from(threads).unwrap_or(u32::MAX)
    })
}

/// Moves the stream position: the next `dgen_fill` starts at `position`.
///
/// `position` may be anything up to the size of a sized stream (the size
/// itself is its end: the stream is then complete) and anything on an endless
/// one. Past the end it fails with `DGEN_STATUS_OUT_OF_RANGE` and the position
/// does not move. An atomic store, safe while other threads use the
/// generator: a `dgen_fill` running at the same time continues from the
/// position before or after the move.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_seek(gen: *mut dgen_generator, position: u64) -> dgen_status {
    guard("dgen_seek", Message::Reset, dgen_status::Panic, || {
        if gen.is_null() {
            return null("dgen_seek", "gen");
        }
        // SAFETY: `gen` is a live generator; only shared access is made.
        let gen = unsafe { &(*gen).inner };
        match gen.set_position(position) {
            Ok(()) => dgen_status::Ok,
            Err(_) => {
                set_error(format!("dgen_seek: position {position} passes the end of the stream (size {})", gen.size()));
                dgen_status::OutOfRange
            }
        }
    })
}

/// Sets `*out` to the `dgen_compressor` value named by `name` ("auto",
/// "zstd", "lz4", "gzip", "snappy", "lzo", "lzjb"; also "zlib" and "deflate"
/// for gzip, "lzo1x" and "lzo1x-1" for lzo; any letter case), the names the
/// `dgen` command, Go and Python take, so that a program reading a name from
/// its user accepts the same ones. An unknown name (or one that is not UTF-8)
/// returns `DGEN_STATUS_INVALID_COMPRESSOR` and leaves `*out` alone; the
/// message lists the names.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_compressor_from_name(name: *const c_char, out: *mut u32) -> dgen_status {
    guard("dgen_compressor_from_name", Message::Reset, dgen_status::Panic, || {
        if name.is_null() {
            return null("dgen_compressor_from_name", "name");
        }
        if out.is_null() {
            return null("dgen_compressor_from_name", "out");
        }
        // SAFETY: `name` is not NULL and the caller guarantees it is a
        // NUL-terminated string that stays valid during the call.
        let text = unsafe { std::ffi::CStr::from_ptr(name) }.to_string_lossy();
        match text.parse::<libdgen::Compressor>() {
            Ok(c) => {
                let value = libdgen::Compressor::ALL.iter().position(|&x| x == c).unwrap_or(0) as u32;
                // SAFETY: `out` is not NULL and the caller guarantees it is writable.
                unsafe { out.write(value) };
                dgen_status::Ok
            }
            Err(e) => fail(e),
        }
    })
}

/// Moves the stream position back to 0, so the stream starts over. An atomic
/// store, safe while other threads use the generator, as `dgen_seek`.
///
/// # Safety
/// `gen` is NULL or a live generator from `dgen_create`.
#[no_mangle]
pub unsafe extern "C" fn dgen_rewind(gen: *mut dgen_generator) -> dgen_status {
    guard("dgen_rewind", Message::Reset, dgen_status::Panic, || {
        if gen.is_null() {
            return null("dgen_rewind", "gen");
        }
        // SAFETY: as in `dgen_seek`.
        unsafe { (*gen).inner.rewind() };
        dgen_status::Ok
    })
}

/// One-shot generation: fills `buf` with the bytes `[0, len)` of the stream
/// `*cfg` describes, as `dgen_create`, `dgen_fill_at(gen, 0, buf, len)` and
/// `dgen_free` would.
///
/// A bad `cfg` gives the same status and message as `dgen_create`; `len`
/// past the `size` of a sized stream is `DGEN_STATUS_OUT_OF_RANGE` (with
/// `size` 0, any `len`). With `has_seed` false each call draws a fresh seed
/// that is not reported: create a generator to read it back. `buf` may be
/// NULL only when `len` is 0.
///
/// # Safety
/// `cfg` is NULL or a readable `dgen_config`; `buf` is NULL or valid for
/// writes of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn dgen_generate(cfg: *const dgen_config, buf: *mut c_void, len: usize) -> dgen_status {
    guard("dgen_generate", Message::Reset, dgen_status::Panic, || {
        if cfg.is_null() {
            return null("dgen_generate", "cfg");
        }
        if buf.is_null() && len != 0 {
            return null("dgen_generate", "buf");
        }
        if let Err(s) = check_len("dgen_generate", len) {
            return s;
        }
        // SAFETY: `cfg` is not NULL and the caller guarantees it is readable.
        let config = match unsafe { read_config(cfg) } {
            Ok(c) => c,
            Err(s) => return s,
        };
        let gen = match Generator::new(config) {
            Ok(g) => g,
            Err(e) => return fail(e),
        };
        // SAFETY: see `bytes_mut`; the caller guarantees `buf`.
        let buf = unsafe { bytes_mut(buf, len) };
        match gen.fill_at(0, buf) {
            Ok(()) => dgen_status::Ok,
            Err(e) => fail(e),
        }
    })
}

/// Bytes kept in front of a `dgen_alloc_aligned` block for its layout: the
/// total size and the alignment, which `dgen_free_aligned` needs.
const ALIGNED_HEADER: usize = 2 * std::mem::size_of::<usize>();

/// Allocates `len` bytes whose address is a multiple of `alignment` (0 means
/// 4096), as `O_DIRECT` I/O needs, and stores the address in `*out`; release
/// it with `dgen_free_aligned` (never `free`).
///
/// The memory is not cleared: a fill writes every byte, and pages that a
/// generator's workers touch first are then placed on their NUMA node.
/// `alignment` must be a power of two; 4096 suits the logical block size of
/// every common device. On failure `*out` is NULL and the status is
/// `DGEN_STATUS_OUT_OF_RANGE` (bad alignment, or no memory for `len` bytes)
/// or `DGEN_STATUS_NULL_POINTER`.
///
/// # Safety
/// `out` is NULL or writable for one pointer.
#[no_mangle]
pub unsafe extern "C" fn dgen_alloc_aligned(len: usize, alignment: usize, out: *mut *mut c_void) -> dgen_status {
    guard("dgen_alloc_aligned", Message::Reset, dgen_status::Panic, || {
        if out.is_null() {
            return null("dgen_alloc_aligned", "out");
        }
        // SAFETY: `out` is not NULL and the caller guarantees it is writable.
        unsafe { out.write(std::ptr::null_mut()) };
        let asked = if alignment == 0 { 4096 } else { alignment };
        if !asked.is_power_of_two() {
            set_error(format!("dgen_alloc_aligned: alignment {alignment} is not a power of two"));
            return dgen_status::OutOfRange;
        }
        // The header sits in the `align` bytes before the block, so `align`
        // is at least the header's size.
        let align = asked.max(ALIGNED_HEADER);
        // An alignment no block can have (one of its own size already does
        // not fit) is the alignment's fault, whatever the length.
        if std::alloc::Layout::from_size_align(align, align).is_err() {
            set_error(format!(
                "dgen_alloc_aligned: alignment {alignment} is larger than any buffer can be aligned to (at most {})",
                1usize << (usize::BITS - 2)
            ));
            return dgen_status::OutOfRange;
        }
        let layout = match len.checked_add(align).map(|total| std::alloc::Layout::from_size_align(total, align)) {
            Some(Ok(l)) => l,
            _ => {
                set_error(format!("dgen_alloc_aligned: len {len} aligned to {asked} is larger than any buffer can be"));
                return dgen_status::OutOfRange;
            }
        };
        // SAFETY: `layout` has a non-zero size (at least `align` bytes).
        let base = unsafe { std::alloc::alloc(layout) };
        if base.is_null() {
            set_error(format!("dgen_alloc_aligned: cannot allocate {len} bytes aligned to {asked}"));
            return dgen_status::OutOfRange;
        }
        // SAFETY: the block is `align + len` bytes from `base`, so `base +
        // align` is inside it (or its end when len is 0) and aligned to
        // `align`; the header's two words lie in `[base, base + align)`,
        // aligned to `usize` because `align` is a power of two >= 16.
        unsafe {
            let block = base.add(align);
            let header = block.cast::<usize>().sub(2);
            header.write(layout.size());
            header.add(1).write(align);
            out.write(block.cast());
        }
        dgen_status::Ok
    })
}

/// Releases memory from `dgen_alloc_aligned`. NULL is accepted and ignored.
///
/// # Safety
/// `buf` is NULL or a block from `dgen_alloc_aligned` not yet released.
#[no_mangle]
pub unsafe extern "C" fn dgen_free_aligned(buf: *mut c_void) {
    guard("dgen_free_aligned", Message::Reset, (), || {
        if buf.is_null() {
            return;
        }
        // SAFETY: `buf` came from `dgen_alloc_aligned`, which wrote the total
        // size and the alignment in the two words before it and allocated
        // `align` bytes in front of it with exactly that layout.
        unsafe {
            let header = buf.cast::<usize>().sub(2);
            let (size, align) = (header.read(), header.add(1).read());
            let base = buf.cast::<u8>().sub(align);
            std::alloc::dealloc(base, std::alloc::Layout::from_size_align_unchecked(size, align));
        }
    })
}

/// Releases a generator and its worker threads. NULL is accepted and ignored.
/// No other call may use `gen` during or after this one.
///
/// # Safety
/// `gen` is NULL or a generator from `dgen_create` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn dgen_free(gen: *mut dgen_generator) {
    guard("dgen_free", Message::Reset, (), || {
        if !gen.is_null() {
            // SAFETY: `gen` came from `Box::into_raw` in `dgen_create` and the
            // caller hands it back exactly once.
            drop(unsafe { Box::from_raw(gen) });
        }
    })
}

/// Describes this machine and where a generator built from `cfg` would run
/// its workers, as JSON text: `{"source", "nodes": [{"node", "cpus"}],
/// "allowed_cpus", "cores", "placement": {"threads", "numa_node", "pinned"}}`.
///
/// Writes at most `len` bytes including the terminating NUL into `buf` and the
/// size the whole text needs (with its NUL) into `*needed`. When `len` is too
/// small nothing is written to `buf` and `DGEN_STATUS_OUT_OF_RANGE` is
/// returned, so a caller can ask with `len` 0, allocate `*needed` and ask
/// again. A bad `cfg` gives the same status and message as `dgen_create`.
///
/// # Safety
/// `cfg` is NULL or a readable `dgen_config`; `buf` is NULL (only with `len`
/// 0) or writable for `len` bytes; `needed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_topology(
    cfg: *const dgen_config,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> dgen_status {
    guard("dgen_topology", Message::Reset, dgen_status::Panic, || {
        if cfg.is_null() {
            return null("dgen_topology", "cfg");
        }
        if needed.is_null() {
            return null("dgen_topology", "needed");
        }
        if buf.is_null() && len != 0 {
            return null("dgen_topology", "buf");
        }
        // SAFETY: `cfg` is not NULL and the caller guarantees it is readable.
        let config = match unsafe { read_config(cfg) } {
            Ok(c) => c,
            Err(s) => return s,
        };
        let topology = Topology::current();
        let placement = match topology.plan(config.threads, config.numa_mode, config.numa_node) {
            Ok(p) => p,
            Err(e) => return fail(e),
        };
        let text = topology.to_json(&placement);
        let need = text.len() + 1;
        // SAFETY: `needed` is not NULL and the caller guarantees it is writable.
        unsafe { needed.write(need) };
        if len < need {
            set_error(format!("dgen_topology: buf holds {len} bytes, the text needs {need}"));
            return dgen_status::OutOfRange;
        }
        // SAFETY: `buf` is writable for `len >= need` bytes (checked above);
        // the text and its NUL fill exactly `need` of them.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
            buf.add(text.len()).write(0);
        }
        dgen_status::Ok
    })
}

/// A static, NUL-terminated description of `status`, e.g.
/// "DGEN_STATUS_OUT_OF_RANGE: range outside the stream". Never NULL; a value
/// that names no status gives "unknown dgen_status". Does not change the
/// message of `dgen_last_error`.
#[no_mangle]
pub extern "C" fn dgen_status_str(status: dgen_status_arg) -> *const c_char {
    const UNKNOWN: &[u8] = b"unknown dgen_status\0";
    guard("dgen_status_str", Message::Keep, UNKNOWN, || match dgen_status::from_code(status.0) {
        Some(s) => s.text(),
        None => UNKNOWN,
    })
    .as_ptr()
    .cast()
}

/// The message of the last failed libdgen call on this thread, naming the
/// field or argument and its value (e.g. "dedup_ratio must be a number from
/// 1.0 to 1024.0, got 0.5"); "" when the last call succeeded. Never NULL.
///
/// The text stays valid until the next libdgen call on the same thread other
/// than `dgen_last_error`, `dgen_status_str` and `dgen_version`; copy it to
/// keep it.
#[no_mangle]
pub extern "C" fn dgen_last_error() -> *const c_char {
    guard("dgen_last_error", Message::Keep, c"".as_ptr(), || {
        LAST_ERROR
            .try_with(|m| match m.try_borrow() {
                // The CString is only replaced by a later call on this thread,
                // so the pointer outlives this borrow as documented.
                Ok(m) => m.as_ptr(),
                Err(_) => c"".as_ptr(),
            })
            .unwrap_or(c"".as_ptr())
    })
}

/// The library version, e.g. "0.1.0": static and NUL-terminated. It equals
/// `DGEN_VERSION_MAJOR.DGEN_VERSION_MINOR.DGEN_VERSION_PATCH` of the header the
/// program was built with when the two match.
#[no_mangle]
pub extern "C" fn dgen_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    guard("dgen_version", Message::Keep, VERSION, || VERSION).as_ptr().cast()
}

#[cfg(test)]
mod unit {
    use super::*;
    use std::ffi::CStr;

    fn last() -> String {
        // SAFETY: dgen_last_error never returns NULL and its text is
        // NUL-terminated.
        unsafe { CStr::from_ptr(dgen_last_error()) }.to_string_lossy().into_owned()
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let s = guard("dgen_test", Message::Reset, dgen_status::Panic, || -> dgen_status { panic!("boom {}", 7) });
        assert_eq!(s, dgen_status::Panic);
        assert_eq!(last(), "dgen_test: internal error: boom 7");
        let v = guard("dgen_test", Message::Reset, 0u64, || -> u64 { panic!("static text") });
        assert_eq!(v, 0);
        assert_eq!(last(), "dgen_test: internal error: static text");
    }

    #[test]
    fn a_successful_call_clears_the_message() {
        set_error("old".into());
        assert_eq!(last(), "old");
        assert_eq!(guard("dgen_test", Message::Reset, 1, || 2), 2);
        assert_eq!(last(), "");
    }

    #[test]
    fn reading_functions_keep_the_message() {
        set_error("kept".into());
        assert_eq!(guard("dgen_test", Message::Keep, 1, || 2), 2);
        let _ = dgen_status_str(dgen_status_arg(3));
        let _ = dgen_version();
        assert_eq!(last(), "kept");
        // A panic in a Keep function still reports itself.
        assert_eq!(guard("dgen_test", Message::Keep, 0, || -> i32 { panic!("late") }), 0);
        assert_eq!(last(), "dgen_test: internal error: late");
    }

    #[test]
    fn every_error_maps_to_its_status() {
        let inv = |field| Error::InvalidConfig { field, value: "x".into(), expected: "y" };
        assert_eq!(dgen_status::from_error(&inv("dedup_ratio")), dgen_status::InvalidDedupRatio);
        assert_eq!(dgen_status::from_error(&inv("compress_ratio")), dgen_status::InvalidCompressRatio);
        assert_eq!(dgen_status::from_error(&inv("dedup_unit")), dgen_status::InvalidDedupUnit);
        assert_eq!(dgen_status::from_error(&inv("threads")), dgen_status::InvalidThreads);
        assert_eq!(dgen_status::from_error(&inv("size")), dgen_status::InvalidConfig);
        assert_eq!(dgen_status::from_error(&Error::OutOfRange { offset: 1, len: 2, size: 3 }), dgen_status::OutOfRange);
        assert_eq!(
            dgen_status::from_error(&Error::Mismatch { offset: 1, expected: 2, actual: 3 }),
            dgen_status::Mismatch
        );
        assert_eq!(dgen_status::from_error(&inv("compressor")), dgen_status::InvalidCompressor);
        assert_eq!(dgen_status::from_error(&inv("numa_mode")), dgen_status::InvalidConfig);
    }

    #[test]
    fn status_numbers_are_their_positions() {
        for (i, s) in ALL_STATUSES.iter().enumerate() {
            assert_eq!(*s as usize, i);
            assert_eq!(dgen_status::from_code(i as u32), Some(*s));
        }
        assert_eq!(dgen_status::from_code(ALL_STATUSES.len() as u32), None);
    }
}

#[cfg(test)]
mod tests;
