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

use super::report::TargetKind;
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
    Fault { kind, message, os_error: e.and_then(|e| e.raw_os_error()) }
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

/// Opens `path` to write the dataset into. A missing file is created; an
/// existing one is not truncated (the caller cuts a file to its end when
/// nothing else can lie past it); a block device is opened exclusively, so
/// one that is mounted is refused.
pub(crate) fn open_write(path: &Path, direct: bool, cancel: &dyn Fn() -> bool) -> Result<Target, Fault> {
    let name = shown(path);
    if is_std(path) {
        // A duplicate of descriptor 1: writing through std's handle would
        // report success on a closed standard output.
        let fd = io::stdout().as_fd().try_clone_to_owned().map_err(|e| {
            fault(StorageErrorKind::Open, format!("standard output is closed ({e}); nothing was written"), Some(&e))
        })?;
        let file = File::from(fd);
        if file.is_terminal() {
            return Err(terminal(&name));
        }
        if direct {
            return Err(no_direct_on_stream("standard output", "a stream"));
        }
        return Ok(Target { file, buffered: None, kind: TargetKind::Stream, size: None });
    }
    if direct {
        direct_supported(&name)?;
    }
    let meta = std::fs::metadata(path).ok();
    let kind = match &meta {
        Some(m) if m.file_type().is_block_device() => TargetKind::BlockDevice,
        Some(m) if m.is_file() => TargetKind::File,
        Some(m) if m.is_dir() => {
            return Err(fault(StorageErrorKind::Open, format!("cannot write {name}: it is a directory"), None))
        }
        Some(m) => {
            if direct {
                return Err(no_direct_on_stream(&name, stream_kind(m)));
            }
            TargetKind::Stream
        }
        None => TargetKind::File,
    };
    let mut flags = libc::O_WRONLY;
    match kind {
        TargetKind::File => flags |= libc::O_CREAT,
        #[cfg(target_os = "linux")]
        TargetKind::BlockDevice => flags |= libc::O_EXCL,
        _ => {}
    }
    if direct && kind != TargetKind::Stream {
        flags |= O_DIRECT;
    }
    let file = match open_cancellable(path, flags, cancel) {
        Ok(Some(f)) => f,
        Ok(None) => return Err(interrupted_open(&name)),
        Err(e) => {
            if direct && e.raw_os_error() == Some(libc::EINVAL) {
                // O_CREAT made the file before O_DIRECT was refused: a
                // failed run leaves nothing behind.
                if meta.is_none() {
                    let _ = std::fs::remove_file(path);
                }
                return Err(fault(
                    StorageErrorKind::Unsupported,
                    format!(
                        "cannot open {name} with O_DIRECT (--direct): the file system does not support direct I/O: {e}"
                    ),
                    Some(&e),
                ));
            }
            if kind == TargetKind::BlockDevice && e.raw_os_error() == Some(libc::EBUSY) {
                return Err(fault(
                    StorageErrorKind::Open,
                    format!("cannot write {name}: {e}; the device is in use (mounted, or held by another program)"),
                    Some(&e),
                ));
            }
            return Err(io_fault(format!("cannot write {name}"), &e));
        }
    };
    if kind == TargetKind::Stream && file.is_terminal() {
        return Err(terminal(&name));
    }
    let size = match kind {
        TargetKind::BlockDevice => Some(device_size(&file, &name)?),
        _ => None,
    };
    let buffered = if direct && kind != TargetKind::Stream {
        Some(
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| io_fault(format!("cannot write {name}"), &e))?,
        )
    } else {
        None
    };
    Ok(Target { file, buffered, kind, size })
}

fn terminal(name: &str) -> Fault {
    let what = if name == "-" { "standard output".to_string() } else { name.to_string() };
    fault(
        StorageErrorKind::Unsupported,
        format!("{what} is a terminal: binary data would garble it; write to a file or redirect it"),
        None,
    )
}

/// Opens `path` (or standard input for `-`) to read it back.
pub(crate) fn open_read(path: &Path, direct: bool, cancel: &dyn Fn() -> bool) -> Result<Target, Fault> {
    let name = shown(path);
    if is_std(path) {
        let fd = io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| fault(StorageErrorKind::Open, format!("standard input is closed ({e})"), Some(&e)))?;
        if direct {
            return Err(no_direct_on_stream("standard input", "a stream"));
        }
        return Ok(Target { file: File::from(fd), buffered: None, kind: TargetKind::Stream, size: None });
    }
    if direct {
        direct_supported(&name)?;
    }
    let meta = std::fs::metadata(path).map_err(|e| io_fault(format!("cannot open {name}"), &e))?;
    let kind = if meta.file_type().is_block_device() {
        TargetKind::BlockDevice
    } else if meta.is_file() {
        TargetKind::File
    } else if meta.is_dir() {
        return Err(fault(StorageErrorKind::Open, format!("cannot read {name}: it is a directory"), None));
    } else {
        if direct {
            return Err(no_direct_on_stream(&name, stream_kind(&meta)));
        }
        TargetKind::Stream
    };
    let flags = libc::O_RDONLY | if direct { O_DIRECT } else { 0 };
    let file = open_cancellable(path, flags, cancel).and_then(|f| f.ok_or(io::ErrorKind::Interrupted.into()));
    let file = file.map_err(|e| {
        if e.kind() == io::ErrorKind::Interrupted {
            return interrupted_open(&name);
        }
        if direct && e.raw_os_error() == Some(libc::EINVAL) {
            fault(
                StorageErrorKind::Unsupported,
                format!(
                    "cannot open {name} with O_DIRECT (--direct): the file system does not support direct I/O: {e}"
                ),
                Some(&e),
            )
        } else {
            io_fault(format!("cannot open {name}"), &e)
        }
    })?;
    let size = match kind {
        TargetKind::BlockDevice => Some(device_size(&file, &name)?),
        TargetKind::File => Some(meta.len()),
        TargetKind::Stream => None,
    };
    let buffered =
        if direct { Some(File::open(path).map_err(|e| io_fault(format!("cannot open {name}"), &e))?) } else { None };
    Ok(Target { file, buffered, kind, size })
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
