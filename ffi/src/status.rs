//! Statuses, the thread's last message and the guard every exported
//! function runs its body in, so that no panic unwinds into C.

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use libdgen::{Error, ErrorKind, Field};

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
    /// `dgen_write_file` or `dgen_verify_file` could not start its I/O
    /// worker threads. (A fill never returns it: when its worker threads
    /// cannot be started, it runs on the calling thread instead, with the
    /// same bytes, and the threads are tried again a second later.)
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

pub(crate) const ALL_STATUSES: [dgen_status; 15] = [
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
        dgen_status::of(e.kind(), e.field())
    }

    /// The C face of the library's one error model (the table in
    /// ARCHITECTURE.md): a bad config field has a status of its own where
    /// the C API always had one, every other kind one status.
    pub fn of(kind: ErrorKind, field: Option<Field>) -> dgen_status {
        match kind {
            ErrorKind::InvalidConfig => match field {
                Some(Field::DedupRatio) => dgen_status::InvalidDedupRatio,
                Some(Field::CompressRatio) => dgen_status::InvalidCompressRatio,
                Some(Field::DedupUnit) => dgen_status::InvalidDedupUnit,
                Some(Field::Threads) => dgen_status::InvalidThreads,
                Some(Field::Compressor) => dgen_status::InvalidCompressor,
                _ => dgen_status::InvalidConfig,
            },
            ErrorKind::InvalidOption => dgen_status::InvalidConfig,
            ErrorKind::OutOfRange => dgen_status::OutOfRange,
            ErrorKind::Mismatch => dgen_status::Mismatch,
            ErrorKind::Open | ErrorKind::Unsupported | ErrorKind::Io => dgen_status::Io,
            ErrorKind::Interrupted => dgen_status::Interrupted,
            ErrorKind::InvalidState => dgen_status::InvalidState,
            ErrorKind::Threads => dgen_status::ThreadPool,
            // A kind added to the library later than this table.
            _ => dgen_status::Panic,
        }
    }

    /// The status with this number, if there is one.
    pub fn from_code(code: u32) -> Option<dgen_status> {
        ALL_STATUSES.get(code as usize).copied()
    }

    /// The static, NUL-terminated name `dgen_status_str` returns; a status
    /// of one config field says what the field accepts, in the library's
    /// words (`Field::expected`).
    fn text(self) -> &'static [u8] {
        static TEXTS: std::sync::OnceLock<Vec<CString>> = std::sync::OnceLock::new();
        let texts = TEXTS.get_or_init(|| {
            ALL_STATUSES
                .iter()
                .map(|&s| {
                    let (name, what) = s.name_and_words();
                    let words = match s.field() {
                        Some(f) => format!("{f} {}", f.expected()),
                        None => what.to_string(),
                    };
                    CString::new(format!("{name}: {words}")).unwrap_or_default()
                })
                .collect()
        });
        texts.get(self as usize).map_or(b"\0", |t| t.as_bytes_with_nul())
    }

    /// The config field a status stands for, when it stands for one.
    fn field(self) -> Option<Field> {
        match self {
            dgen_status::InvalidDedupRatio => Some(Field::DedupRatio),
            dgen_status::InvalidCompressRatio => Some(Field::CompressRatio),
            dgen_status::InvalidDedupUnit => Some(Field::DedupUnit),
            dgen_status::InvalidThreads => Some(Field::Threads),
            _ => None,
        }
    }

    /// The status's C name and what it means in words.
    fn name_and_words(self) -> (&'static str, &'static str) {
        match self {
            dgen_status::Ok => ("DGEN_STATUS_OK", "success"),
            dgen_status::NullPointer => ("DGEN_STATUS_NULL_POINTER", "a required pointer was NULL"),
            dgen_status::InvalidDedupRatio => ("DGEN_STATUS_INVALID_DEDUP_RATIO", ""),
            dgen_status::InvalidCompressRatio => ("DGEN_STATUS_INVALID_COMPRESS_RATIO", ""),
            dgen_status::InvalidDedupUnit => ("DGEN_STATUS_INVALID_DEDUP_UNIT", ""),
            dgen_status::InvalidThreads => ("DGEN_STATUS_INVALID_THREADS", ""),
            dgen_status::InvalidConfig => ("DGEN_STATUS_INVALID_CONFIG", "a config field is invalid"),
            dgen_status::OutOfRange => ("DGEN_STATUS_OUT_OF_RANGE", "range outside the stream"),
            dgen_status::Mismatch => ("DGEN_STATUS_MISMATCH", "data differs from the stream"),
            dgen_status::ThreadPool => ("DGEN_STATUS_THREAD_POOL", "cannot start worker threads"),
            dgen_status::Panic => ("DGEN_STATUS_PANIC", "internal error caught at the library boundary"),
            dgen_status::InvalidCompressor => {
                ("DGEN_STATUS_INVALID_COMPRESSOR", "compressor must be a dgen_compressor value")
            }
            dgen_status::Io => ("DGEN_STATUS_IO", "a file or device could not be read or written"),
            dgen_status::Interrupted => ("DGEN_STATUS_INTERRUPTED", "stopped by the progress callback"),
            dgen_status::InvalidState => ("DGEN_STATUS_INVALID_STATE", "the write state cannot be used here"),
        }
    }
}

thread_local! {
    /// The message of the last failed call on this thread; empty when the last
    /// call succeeded.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub(crate) fn set_error(msg: String) {
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

pub(crate) fn clear_error() {
    let _ = LAST_ERROR.try_with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            if !m.as_bytes().is_empty() {
                *m = CString::default();
            }
        }
    });
}

pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
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
pub(crate) enum Message {
    /// Clear it: the function reports its own outcome.
    Reset,
    /// Leave it: the function only reads static data or the message itself,
    /// so it can sit in the same expression as `dgen_last_error`.
    Keep,
}

/// Runs the body of the exported function `name` and turns a panic into
/// `on_panic` plus a message, so that no panic unwinds into C. Every
/// `extern "C"` function in this file goes through here.
pub(crate) fn guard<R>(name: &str, message: Message, on_panic: R, body: impl FnOnce() -> R) -> R {
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

/// `guard` for an exported function that returns a status. The body gets
/// the function's name for its messages and returns `Ok(())` for
/// `DGEN_STATUS_OK` or `Err` with the status of a refusal whose message it
/// has set (`fail`, `null`, `refuse`), so that `?` carries a refusal out of
/// the checks and helpers it calls.
pub(crate) fn guard_status(name: &str, body: impl FnOnce(&str) -> Result<(), dgen_status>) -> dgen_status {
    guard(name, Message::Reset, dgen_status::Panic, || match body(name) {
        Ok(()) => dgen_status::Ok,
        Err(status) => status,
    })
}

/// Status and message for a Rust error.
pub(crate) fn fail(e: Error) -> dgen_status {
    refuse(dgen_status::from_error(&e), e.to_string())
}

/// `status`, with `message` as the thread's message: a refusal the
/// function words itself.
pub(crate) fn refuse(status: dgen_status, message: String) -> dgen_status {
    set_error(message);
    status
}

/// Status and message for a NULL argument.
pub(crate) fn null(func: &str, arg: &str) -> dgen_status {
    refuse(dgen_status::NullPointer, format!("{func}: {arg} must not be NULL"))
}

/// The first argument of `args` (whether it is NULL, its name) that is
/// NULL, refused as `null` refuses it; the checks of `non_null!`.
pub(crate) fn first_null(func: &str, args: &[(bool, &str)]) -> Result<(), dgen_status> {
    match args.iter().find(|&&(is_null, _)| is_null) {
        Some(&(_, arg)) => Err(null(func, arg)),
        None => Ok(()),
    }
}

/// A slice may not be larger than `isize::MAX` bytes; a longer `len` cannot
/// describe a real buffer.
pub(crate) fn check_len(func: &str, len: usize) -> Result<(), dgen_status> {
    if len > isize::MAX as usize {
        return Err(refuse(dgen_status::OutOfRange, format!("{func}: len {len} is larger than any buffer can be")));
    }
    Ok(())
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
