//! Standard output for reports, tables and JSON. `print!` panics when the
//! write fails (a full disk, a closed pipe) and says nothing when descriptor
//! 1 was closed; here every write is checked, the first failure is kept and
//! later writes are skipped, and `main` turns it into one line and an exit
//! code once the command is done (see [`finish`]).

use std::io::Write;
use std::os::fd::AsFd;
use std::sync::Mutex;

/// The first failed write to standard output, if any.
static FAILED: Mutex<Option<std::io::Error>> = Mutex::new(None);
/// Whether descriptor 1 has been checked for being closed.
static CHECKED: std::sync::Once = std::sync::Once::new();

/// Writes to standard output, like `print!`, without panicking.
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::write(format_args!($($arg)*)) };
}

/// Writes a line to standard output, like `println!`, without panicking.
macro_rules! outln {
    () => { $crate::out::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::out::write(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {out, outln};

/// A latency in microseconds, in the unit that reads best.
pub fn us(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1} ms", v / 1000.0)
    } else {
        format!("{v:.0} us")
    }
}

/// The error standing for a standard output that was closed before `main`.
fn closed() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::NotConnected, "it is closed")
}

/// True when descriptor 1 is the /dev/null that Rust's runtime opens in
/// place of a closed standard output before `main`: it opens it read-write,
/// while a shell's `>/dev/null` opens it write-only. Writing there would
/// claim success for output that went nowhere.
pub fn was_closed() -> bool {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let out = std::io::stdout();
    let Ok(fd) = out.as_fd().try_clone_to_owned() else { return true };
    let Ok(null) = std::fs::metadata("/dev/null") else { return false };
    // SAFETY: F_GETFL only reads the flags of a descriptor this function
    // owns for the call.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    let Ok(file) = std::fs::File::from(fd).metadata() else { return false };
    file.rdev() == null.rdev() && flags >= 0 && flags & libc::O_ACCMODE == libc::O_RDWR
}

/// Writes `args` to standard output unless an earlier write failed.
pub fn write(args: std::fmt::Arguments<'_>) {
    let mut failed = FAILED.lock().unwrap_or_else(|e| e.into_inner());
    CHECKED.call_once(|| {
        if was_closed() {
            *failed = Some(closed());
        }
    });
    if failed.is_some() {
        return;
    }
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        *failed = Some(e);
    }
}

/// Flushes standard output; the first error of any write, if one failed.
pub fn finish() -> std::io::Result<()> {
    let mut failed = FAILED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = failed.take() {
        return Err(e);
    }
    std::io::stdout().lock().flush()
}
