//! Opening what a path names, and telling what it is: a regular file, a block
//! device (its size from `BLKGETSIZE64`), or a stream read or written in
//! order (pipe, FIFO, character device, socket, standard input or output).

use std::ffi::CString;
use std::fs::File;
use std::io::{self, IsTerminal};
use std::os::fd::{AsFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use super::report::{Operation, TargetKind};
use super::{Fault, StorageErrorKind};

/// An opened file or device.
pub(crate) struct Target {
    /// The descriptor the I/O goes through (`O_DIRECT` when asked).
    pub file: File,
    /// A second descriptor without `O_DIRECT`, for the unaligned head and
    /// tail of a direct range.
    pub buffered: Option<File>,
    pub kind: TargetKind,
    /// Length of a regular file or size of a block device.
    pub size: Option<u64>,
}

/// `path` as messages show it.
pub(crate) fn shown(path: &Path) -> String {
    if is_std(path) {
        "-".into()
    } else {
        path.display().to_string()
    }
}

/// `-` stands for standard input or output.
pub(crate) fn is_std(path: &Path) -> bool {
    path.as_os_str() == "-"
}

fn fault(kind: StorageErrorKind, message: String, e: Option<&io::Error>) -> Fault {
    Fault { kind, message, os_error: e.and_then(|e| e.raw_os_error()), field: None }
}

fn io_fault(message: String, e: &io::Error) -> Fault {
    fault(StorageErrorKind::Open, format!("{message}: {e}"), Some(e))
}

/// An open that a signal can end: opening a FIFO blocks until the other end
/// opens it, and `std::fs::OpenOptions` retries an open that a signal
/// interrupts, so a FIFO with no reader (or writer) would hold the run
/// forever. Here an EINTR asks `cancel` and gives `Ok(None)` when it says
/// stop (the signal handler must be installed without `SA_RESTART` for the
/// open to return at all).
fn open_cancellable(path: &Path, flags: i32, cancel: &dyn Fn() -> bool) -> io::Result<Option<File>> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "the path holds a NUL byte"))?;
    loop {
        // SAFETY: `c` is a live NUL-terminated string for the whole call; the
        // mode is an int, as the variadic argument of open(2) expects.
        let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC, 0o666 as libc::c_uint) };
        if fd >= 0 {
            // SAFETY: `fd` was just returned by open(2), so it is a valid
            // descriptor that nothing else owns.
            return Ok(Some(unsafe { File::from_raw_fd(fd) }));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
        if cancel() {
            return Ok(None);
        }
    }
}

fn interrupted_open(name: &str) -> Fault {
    fault(StorageErrorKind::Interrupted, format!("interrupted while opening {name}, before any I/O"), None)
}

#[cfg(target_os = "linux")]
const O_DIRECT: i32 = libc::O_DIRECT;
#[cfg(not(target_os = "linux"))]
const O_DIRECT: i32 = 0;

fn direct_supported(path: &str) -> Result<(), Fault> {
    if cfg!(target_os = "linux") {
        Ok(())
    } else {
        Err(fault(
            StorageErrorKind::Unsupported,
            format!("cannot use O_DIRECT on {path}: direct I/O is supported on Linux only"),
            None,
        ))
    }
}

/// Size of a block device. `BLKGETSIZE64` is `_IOR(0x12, 114, u64)`, encoded
/// here with the generic ioctl layout (x86, Arm, RISC-V); where that fails,
/// seeking to the end gives the same number.
fn device_size(file: &File, path: &str) -> Result<u64, Fault> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        const BLKGETSIZE64: u64 = (2 << 30) | (8 << 16) | (0x12 << 8) | 114;
        let mut size: u64 = 0;
        // SAFETY: BLKGETSIZE64 writes one u64 through the pointer, which
        // points to a live, writable u64 on this stack frame; the descriptor
        // is open for the duration of the call.
        let r = unsafe { libc::ioctl(file.as_raw_fd(), BLKGETSIZE64 as _, &mut size as *mut u64) };
        if r == 0 {
            return Ok(size);
        }
    }
    use std::io::Seek;
    let mut f = file;
    f.seek(io::SeekFrom::End(0)).map_err(|e| io_fault(format!("cannot read the size of {path}"), &e))
}

/// How many bytes `file` holds: a regular file's length or a block device's
/// size; `None` for a stream (pipe, FIFO, character device, socket), whose
/// length is known only once it has been read.
pub fn data_size(file: &File) -> io::Result<Option<u64>> {
    let meta = file.metadata()?;
    let t = meta.file_type();
    if t.is_file() {
        Ok(Some(meta.len()))
    } else if t.is_block_device() {
        device_size(file, "the device").map(Some).map_err(|f| io::Error::other(f.message))
    } else {
        Ok(None)
    }
}

fn stream_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file or block device"
    }
}

fn no_direct_on_stream(path: &str, what: &str) -> Fault {
    fault(
        StorageErrorKind::Unsupported,
        format!("cannot use O_DIRECT on {path}: it is {what}; direct I/O needs a regular file or a block device"),
        None,
    )
}

/// What opening to write and opening to read differ in; the rest is one
/// routine, [`open`].
struct Access {
    /// The operation: a write creates a missing regular file, opens a block
    /// device exclusively (so one that is mounted is refused) and refuses a
    /// terminal. A read only ever opens for reading and never creates.
    write: bool,
    /// open(2)'s access mode.
    mode: i32,
    /// What `-` stands for.
    std_name: &'static str,
    /// Added when that stream is closed.
    closed_note: &'static str,
    /// The verb of "cannot VERB PATH" when the path cannot be opened.
    verb: &'static str,
    /// The verb of "cannot VERB PATH: it is a directory".
    dir_verb: &'static str,
}

const WRITE: Access = Access {
    write: true,
    mode: libc::O_WRONLY,
    std_name: "standard output",
    closed_note: "; nothing was written",
    verb: "write",
    dir_verb: "write",
};

const READ: Access = Access {
    write: false,
    mode: libc::O_RDONLY,
    std_name: "standard input",
    closed_note: "",
    verb: "open",
    dir_verb: "read",
};

/// Opens `path` (standard output or input for `-`) to write the dataset
/// into or to read it back. A write creates a missing file and does not
/// truncate an existing one (the caller cuts a file to its end when nothing
/// else can lie past it); a block device is opened exclusively, so one that
/// is mounted is refused. A read never opens for writing and never creates
/// a file.
pub(crate) fn open(path: &Path, op: Operation, direct: bool, cancel: &dyn Fn() -> bool) -> Result<Target, Fault> {
    let a = match op {
        Operation::Write => &WRITE,
        Operation::Verify => &READ,
    };
    if is_std(path) {
        return open_std(a, direct);
    }
    let name = shown(path);
    if direct {
        direct_supported(&name)?;
    }
    let meta = match std::fs::metadata(path) {
        Ok(m) => Some(m),
        // A write creates what is missing.
        Err(_) if a.write => None,
        Err(e) => return Err(io_fault(format!("cannot {} {name}", a.verb), &e)),
    };
    let kind = kind_of(meta.as_ref(), &name, a, direct)?;
    let mut flags = a.mode;
    if a.write {
        match kind {
            TargetKind::File => flags |= libc::O_CREAT,
            #[cfg(target_os = "linux")]
            TargetKind::BlockDevice => flags |= libc::O_EXCL,
            _ => {}
        }
    }
    if direct && kind != TargetKind::Stream {
        flags |= O_DIRECT;
    }
    let file = match open_cancellable(path, flags, cancel) {
        Ok(Some(f)) => f,
        Ok(None) => return Err(interrupted_open(&name)),
        Err(e) => {
            // O_CREAT made the file before O_DIRECT was refused: a failed
            // run leaves nothing behind.
            if a.write && meta.is_none() && direct && e.raw_os_error() == Some(libc::EINVAL) {
                let _ = std::fs::remove_file(path);
            }
            return Err(open_error(&name, a, kind, direct, &e));
        }
    };
    if a.write && kind == TargetKind::Stream && file.is_terminal() {
        return Err(terminal(&name));
    }
    let size = match (kind, &meta) {
        (TargetKind::BlockDevice, _) => Some(device_size(&file, &name)?),
        // What a file holds before a write is of no use to it.
        (TargetKind::File, Some(m)) if !a.write => Some(m.len()),
        _ => None,
    };
    let buffered = if direct && kind != TargetKind::Stream {
        let second = std::fs::OpenOptions::new().read(!a.write).write(a.write).open(path);
        Some(second.map_err(|e| io_fault(format!("cannot {} {name}", a.verb), &e))?)
    } else {
        None
    };
    Ok(Target { file, buffered, kind, size })
}

/// Standard output or input, as `a` says: a duplicate of its descriptor
/// (writing through std's handle would report success on a closed standard
/// output).
fn open_std(a: &Access, direct: bool) -> Result<Target, Fault> {
    let fd = if a.write { io::stdout().as_fd().try_clone_to_owned() } else { io::stdin().as_fd().try_clone_to_owned() };
    let fd = fd.map_err(|e| {
        fault(StorageErrorKind::Open, format!("{} is closed ({e}){}", a.std_name, a.closed_note), Some(&e))
    })?;
    let file = File::from(fd);
    if a.write && file.is_terminal() {
        return Err(terminal("-"));
    }
    if direct {
        return Err(no_direct_on_stream(a.std_name, "a stream"));
    }
    Ok(Target { file, buffered: None, kind: TargetKind::Stream, size: None })
}

/// What the path names (a missing one: the file a write creates); a
/// directory, and `O_DIRECT` on a stream, are refused.
fn kind_of(meta: Option<&std::fs::Metadata>, name: &str, a: &Access, direct: bool) -> Result<TargetKind, Fault> {
    Ok(match meta {
        Some(m) if m.file_type().is_block_device() => TargetKind::BlockDevice,
        Some(m) if m.is_file() => TargetKind::File,
        Some(m) if m.is_dir() => {
            let message = format!("cannot {} {name}: it is a directory", a.dir_verb);
            return Err(fault(StorageErrorKind::Open, message, None));
        }
        Some(m) => {
            if direct {
                return Err(no_direct_on_stream(name, stream_kind(m)));
            }
            TargetKind::Stream
        }
        None => TargetKind::File,
    })
}

/// Why open(2) refused `name`, in words.
fn open_error(name: &str, a: &Access, kind: TargetKind, direct: bool, e: &io::Error) -> Fault {
    if direct && e.raw_os_error() == Some(libc::EINVAL) {
        return fault(
            StorageErrorKind::Unsupported,
            format!(
                "cannot open {name} with O_DIRECT (option direct): the file system does not support direct I/O: {e}"
            ),
            Some(e),
        );
    }
    if a.write && kind == TargetKind::BlockDevice && e.raw_os_error() == Some(libc::EBUSY) {
        return fault(
            StorageErrorKind::Open,
            format!("cannot write {name}: {e}; the device is in use (mounted, or held by another program)"),
            Some(e),
        );
    }
    io_fault(format!("cannot {} {name}", a.verb), e)
}

fn terminal(name: &str) -> Fault {
    let what = if name == "-" { "standard output".to_string() } else { name.to_string() };
    fault(
        StorageErrorKind::Unsupported,
        format!("{what} is a terminal: binary data would garble it; write to a file or redirect it"),
        None,
    )
}

/// Flushes written data to stable storage where the file supports it:
/// regular files and block devices. Pipes, FIFOs and character devices
/// (`/dev/null`) have nothing to flush and refuse `fsync` with EINVAL.
pub(crate) fn sync(target: &Target, name: &str) -> Result<(), Fault> {
    if target.kind == TargetKind::Stream {
        return Ok(());
    }
    // fsync works on the file, not the descriptor: one call covers what
    // went through the buffered descriptor too.
    {
        match target.file.sync_all() {
            Ok(()) => {}
            // A file system without fsync (some FUSE ones) has nothing more
            // to do.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            Err(e) => {
                return Err(fault(StorageErrorKind::Io, format!("cannot sync {name} to stable storage: {e}"), Some(&e)))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    fn never() -> bool {
        false
    }

    #[test]
    fn a_read_never_creates_nor_writes() {
        let dir = std::env::temp_dir().join(format!("dgen-target-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.bin");
        let e = open(&missing, Operation::Verify, false, &never).err().expect("a missing file is an error");
        assert!(e.message.starts_with(&format!("cannot open {}", missing.display())), "{}", e.message);
        assert!(!missing.exists(), "the read created the file");

        let there = dir.join("there.bin");
        std::fs::write(&there, b"abc").unwrap();
        let t = open(&there, Operation::Verify, false, &never).unwrap();
        assert_eq!((t.kind, t.size), (TargetKind::File, Some(3)));
        assert!(t.file.write_at(b"x", 0).is_err(), "the read's descriptor can write");
        assert_eq!(std::fs::read(&there).unwrap(), b"abc");

        // A write creates a missing file, and knows no size for it.
        let t = open(&missing, Operation::Write, false, &never).unwrap();
        assert_eq!((t.kind, t.size), (TargetKind::File, None));
        assert!(missing.exists());
        let e = open(&dir, Operation::Verify, false, &never).err().unwrap();
        assert_eq!(e.message, format!("cannot read {}: it is a directory", dir.display()));
        let e = open(&dir, Operation::Write, false, &never).err().unwrap();
        assert_eq!(e.message, format!("cannot write {}: it is a directory", dir.display()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
