//! The state file: created, checked against a generator, mapped and locked.

use super::{Entry, StateCheck, StateError, StateErrorKind, Summary, ENTRY_BYTES, FORMAT, HEADER_BYTES, MAGIC};
use crate::Generator;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The dataset a state file describes, as its header records it.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// The file's format version.
    pub format: u32,
    /// Dedup units.
    pub units: u64,
    /// Dataset size in bytes.
    pub size: u64,
    /// Bytes per dedup unit.
    pub unit_bytes: u64,
    /// The dataset's seed.
    pub seed: u64,
    /// The dataset's dedup ratio.
    pub dedup_ratio: f64,
    /// The dataset's compress ratio.
    pub compress_ratio: f64,
    /// The compressor the dataset is calibrated for, by name.
    pub compressor: String,
}

impl Header {
    fn of(gen: &Generator) -> Result<Header, StateError> {
        let cfg = gen.config();
        if gen.size() == 0 {
            return Err(StateError::new(
                StateErrorKind::Invalid,
                "a write state needs a sized dataset: size is 0 (the endless stream)",
            ));
        }
        let unit_bytes = u64::from(cfg.dedup_unit);
        Ok(Header {
            format: FORMAT,
            units: gen.size().div_ceil(unit_bytes),
            size: gen.size(),
            unit_bytes,
            seed: gen.seed(),
            dedup_ratio: cfg.dedup_ratio,
            compress_ratio: cfg.compress_ratio,
            compressor: cfg.compressor.name().to_string(),
        })
    }

    fn file_len(&self) -> u64 {
        HEADER_BYTES + ENTRY_BYTES * self.units
    }

    fn encode(&self) -> Vec<u8> {
        let mut h = vec![0u8; HEADER_BYTES as usize];
        h[0..8].copy_from_slice(&MAGIC);
        h[8..12].copy_from_slice(&self.format.to_le_bytes());
        h[12..16].copy_from_slice(&(HEADER_BYTES as u32).to_le_bytes());
        h[16..24].copy_from_slice(&self.units.to_le_bytes());
        h[24..32].copy_from_slice(&self.size.to_le_bytes());
        h[32..36].copy_from_slice(&(self.unit_bytes as u32).to_le_bytes());
        h[40..48].copy_from_slice(&self.seed.to_le_bytes());
        h[48..56].copy_from_slice(&self.dedup_ratio.to_le_bytes());
        h[56..64].copy_from_slice(&self.compress_ratio.to_le_bytes());
        let name = self.compressor.as_bytes();
        h[72..72 + name.len().min(16)].copy_from_slice(&name[..name.len().min(16)]);
        h
    }

    /// Reads and checks the header of `file` (at `path`, for messages).
    fn read(file: &File, path: &str) -> Result<Header, StateError> {
        let len = file.metadata().map_err(|e| io_error(path, "read", &e))?.len();
        let mut h = [0u8; HEADER_BYTES as usize];
        let got = read_up_to(file, &mut h).map_err(|e| io_error(path, "read", &e))?;
        let format_err = |m: String| StateError::new(StateErrorKind::Format, format!("state file {path}: {m}"));
        if got < 16 || h[0..8] != MAGIC {
            return Err(format_err("not a dgen state file (no DGENSTAT magic at its start)".into()));
        }
        let u32_at = |o: usize| u32::from_le_bytes(h[o..o + 4].try_into().expect("4 bytes"));
        let u64_at = |o: usize| u64::from_le_bytes(h[o..o + 8].try_into().expect("8 bytes"));
        let format = u32_at(8);
        if format > FORMAT {
            return Err(format_err(format!(
                "format {format} is newer than the format {FORMAT} this library reads; use a newer libdgen"
            )));
        }
        if format == 0 || u32_at(12) != HEADER_BYTES as u32 || got < HEADER_BYTES as usize {
            return Err(format_err(format!(
                "the header is damaged or cut short: format {format}, header length {}, {got} bytes read",
                u32_at(12)
            )));
        }
        let end = h[72..88].iter().position(|&b| b == 0).unwrap_or(16);
        let header = Header {
            format,
            units: u64_at(16),
            size: u64_at(24),
            unit_bytes: u64::from(u32_at(32)),
            seed: u64_at(40),
            dedup_ratio: f64::from_le_bytes(h[48..56].try_into().expect("8 bytes")),
            compress_ratio: f64::from_le_bytes(h[56..64].try_into().expect("8 bytes")),
            compressor: String::from_utf8_lossy(&h[72..72 + end]).into_owned(),
        };
        if header.unit_bytes == 0 || header.units != header.size.div_ceil(header.unit_bytes) {
            return Err(format_err(format!(
                "the header is damaged: {} units of {} bytes for a size of {}",
                header.units, header.unit_bytes, header.size
            )));
        }
        if len != header.file_len() {
            return Err(format_err(format!(
                "it is {len} bytes, but a state of {} units is {} bytes (cut short, or not written whole)",
                header.units,
                header.file_len()
            )));
        }
        Ok(header)
    }

    /// The first field where `self` (the file's) and `run` (the
    /// generator's) differ, as an error naming both values.
    fn check_matches(&self, run: &Header, path: &str) -> Result<(), StateError> {
        let differ = |field: &str, file: String, here: String| {
            Err(StateError::new(
                StateErrorKind::Mismatch,
                format!(
                    "state file {path} is for another dataset: its {field} is {file}, this run's is {here} \
                     (a state belongs to one size, dedup unit, seed, dedup, compress and compressor)"
                ),
            ))
        };
        if self.size != run.size {
            return differ("size", self.size.to_string(), run.size.to_string());
        }
        if self.unit_bytes != run.unit_bytes {
            return differ("dedup_unit", self.unit_bytes.to_string(), run.unit_bytes.to_string());
        }
        if self.seed != run.seed {
            return differ("seed", self.seed.to_string(), run.seed.to_string());
        }
        if self.dedup_ratio.to_bits() != run.dedup_ratio.to_bits() {
            return differ("dedup_ratio", self.dedup_ratio.to_string(), run.dedup_ratio.to_string());
        }
        if self.compress_ratio.to_bits() != run.compress_ratio.to_bits() {
            return differ("compress_ratio", self.compress_ratio.to_string(), run.compress_ratio.to_string());
        }
        if self.compressor != run.compressor {
            return differ("compressor", self.compressor.clone(), run.compressor.clone());
        }
        Ok(())
    }
}

fn read_up_to(file: &File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn io_error(path: &str, what: &str, e: &std::io::Error) -> StateError {
    StateError::new(StateErrorKind::Io, format!("cannot {what} state file {path}: {e}"))
}

/// Which I/O a state was opened for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    Write,
    Read,
}

/// A write state, mapped into memory and shared with every other process
/// that has the same file open. See [the module](super).
///
/// Writers ([`WriteState::open_or_create`]) may run at once, in threads or
/// processes: each unit's entry changes by compare-and-swap, and writes of
/// one unit that overlap in time leave it accepting any of them. Readers
/// ([`WriteState::open`]) never change the file.
pub struct WriteState {
    file: File,
    path: String,
    header: Header,
    base: *mut u8,
    len: usize,
    max_version: u64,
    access: Access,
}

// SAFETY: the mapping is owned by the value and unmapped only in Drop. The
// header part is read once, at open, and its counter is changed only through
// an AtomicU64; entries are read and changed only through AtomicU64. Shared
// references from several threads therefore make only atomic accesses to
// the shared memory.
unsafe impl Send for WriteState {}
// SAFETY: as for Send.
unsafe impl Sync for WriteState {}

/// `flock(fd, op)`, retried on EINTR.
fn flock(file: &File, op: libc::c_int) -> std::io::Result<()> {
    loop {
        // SAFETY: flock takes a descriptor that `file` keeps open and a
        // plain integer operation; it touches no memory of ours.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

impl WriteState {
    /// Opens the state at `path` for writing the dataset of `gen`, creating
    /// it (every unit unwritten) when there is none. The file must describe
    /// the same dataset: size, dedup unit, seed, ratios and compressor; if
    /// it does not, or is damaged, the error says how and the file is left
    /// as it was. When no other process has the state open, what a killed
    /// writer left in flight is settled first ([`Entry::recovered`]).
    pub fn open_or_create(path: impl AsRef<Path>, gen: &Generator) -> Result<WriteState, StateError> {
        let path = path.as_ref();
        let run = Header::of(gen)?;
        let shown = path.display().to_string();
        let file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match Self::create_file(path, &run) {
                Ok(f) => f,
                // Another writer created it meanwhile: open theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    OpenOptions::new().read(true).write(true).open(path).map_err(|e| io_error(&shown, "open", &e))?
                }
                Err(e) => return Err(io_error(&shown, "create", &e)),
            },
            Err(e) => return Err(io_error(&shown, "open", &e)),
        };
        let header = Header::read(&file, &shown)?;
        header.check_matches(&run, &shown)?;
        let state = Self::map(file, shown, header, gen, Access::Write)?;
        // Alone (no other process holds a lock): settle what a killed writer
        // left in flight. Then share the file with other writers.
        if flock(&state.file, libc::LOCK_EX | libc::LOCK_NB).is_ok() {
            for unit in 0..state.header.units {
                let slot = state.slot(unit);
                let e = Entry::unpack(slot.load(Ordering::Relaxed));
                if e.pending > 0 {
                    slot.store(e.recovered().pack(), Ordering::Relaxed);
                }
            }
        }
        flock(&state.file, libc::LOCK_SH).map_err(|e| io_error(&state.path, "lock", &e))?;
        Ok(state)
    }

    /// Opens the state at `path` to verify the dataset of `gen` against it,
    /// or to show it. Never changes the file.
    pub fn open(path: impl AsRef<Path>, gen: &Generator) -> Result<WriteState, StateError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let run = Header::of(gen)?;
        let file = File::open(path).map_err(|e| io_error(&shown, "open", &e))?;
        let header = Header::read(&file, &shown)?;
        header.check_matches(&run, &shown)?;
        Self::map(file, shown, header, gen, Access::Read)
    }

    /// The header and summary of the state at `path`, with no generator:
    /// what `dgen state show` prints.
    pub fn inspect(path: impl AsRef<Path>) -> Result<(Header, Summary), StateError> {
        let shown = path.as_ref().display().to_string();
        let file = File::open(path.as_ref()).map_err(|e| io_error(&shown, "open", &e))?;
        let header = Header::read(&file, &shown)?;
        let cfg = crate::Config {
            size: header.size,
            dedup_unit: header.unit_bytes as u32,
            seed: Some(header.seed),
            dedup_ratio: header.dedup_ratio,
            compress_ratio: header.compress_ratio,
            compressor: crate::Compressor::from_name(&header.compressor).unwrap_or(crate::Compressor::Auto),
            threads: 1,
            ..crate::Config::default()
        };
        let gen = Generator::new(cfg).map_err(|e| {
            StateError::new(StateErrorKind::Format, format!("state file {shown}: its header holds a bad config: {e}"))
        })?;
        let state = Self::map(file, shown, header.clone(), &gen, Access::Read)?;
        Ok((header, state.summary()))
    }

    /// Creates the file whole under a temporary name and links it in place,
    /// so no process ever opens a state without its header.
    fn create_file(path: &Path, header: &Header) -> std::io::Result<File> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let made = (|| {
            let f = OpenOptions::new().read(true).write(true).create_new(true).open(&tmp)?;
            f.write_all_at(&header.encode(), 0)?;
            f.set_len(header.file_len())?;
            std::fs::hard_link(&tmp, path)?;
            Ok(f)
        })();
        let _ = std::fs::remove_file(&tmp);
        made
    }

    fn map(
        file: File,
        path: String,
        header: Header,
        gen: &Generator,
        access: Access,
    ) -> Result<WriteState, StateError> {
        let len = usize::try_from(header.file_len()).map_err(|_| {
            StateError::new(StateErrorKind::Invalid, format!("state file {path} is too large to map on this machine"))
        })?;
        let prot = match access {
            Access::Write => libc::PROT_READ | libc::PROT_WRITE,
            Access::Read => libc::PROT_READ,
        };
        // SAFETY: a fresh shared mapping of `len` bytes of an open file
        // descriptor at offset 0; the kernel picks the address. The file is
        // `len` bytes long (checked by Header::read or made so by create).
        let base = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, libc::MAP_SHARED, file.as_raw_fd(), 0) };
        if base == libc::MAP_FAILED {
            return Err(io_error(&path, "map", &std::io::Error::last_os_error()));
        }
        if access == Access::Read {
            flock(&file, libc::LOCK_SH).map_err(|e| io_error(&path, "lock", &e))?;
        }
        let max_version = gen.model().versions().max_version();
        Ok(WriteState { file, path, header, base: base.cast(), len, max_version, access })
    }

    /// The entry word of `unit`.
    fn slot(&self, unit: u64) -> &AtomicU64 {
        assert!(unit < self.header.units, "unit {unit} of {}", self.header.units);
        // SAFETY: the mapping is `HEADER_BYTES + 8 * units` bytes, page
        // aligned, so entry `unit` lies inside it at an 8-aligned address;
        // it lives as long as `self`, and is only ever accessed atomically.
        // A read-only mapping is only loaded from (claims need Write).
        unsafe { &*self.base.add((HEADER_BYTES + ENTRY_BYTES * unit) as usize).cast::<AtomicU64>() }
    }

    fn completed_counter(&self) -> &AtomicU64 {
        // SAFETY: offset 64 of the page-aligned header is 8-aligned and in
        // the mapping; only this counter is accessed there after open.
        unsafe { &*self.base.add(64).cast::<AtomicU64>() }
    }

    /// Closes the state and removes its file when no other process has it
    /// open (none holds its lock); returns whether it removed it. For a
    /// state made for one run only, shared by that run's processes: the
    /// last to close removes it.
    pub fn close_and_remove_if_last(self) -> bool {
        let last = flock(&self.file, libc::LOCK_EX | libc::LOCK_NB).is_ok();
        if last {
            let _ = std::fs::remove_file(&self.path);
        }
        last
    }

    /// The file's path, as given.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The dataset the state describes.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Dedup units of the dataset.
    pub fn units(&self) -> u64 {
        self.header.units
    }

    /// The entry of `unit` now.
    pub fn entry(&self, unit: u64) -> Entry {
        Entry::unpack(self.slot(unit).load(Ordering::Acquire))
    }

    /// Checks that `[offset, offset + len)` is made of whole dedup units of
    /// the dataset (the last may end where the dataset ends).
    pub fn check_range(&self, offset: u64, len: u64) -> Result<(), StateError> {
        let (u, size) = (self.header.unit_bytes, self.header.size);
        let end = offset.checked_add(len).filter(|&e| e <= size);
        match end {
            Some(end) if len > 0 && offset.is_multiple_of(u) && (end.is_multiple_of(u) || end == size) => Ok(()),
            Some(_) if len == 0 => Err(StateError::new(StateErrorKind::Invalid, "an empty range has no units")),
            Some(_) => Err(StateError::new(
                StateErrorKind::Invalid,
                format!(
                    "with a write state every write covers whole dedup units of {u} bytes: offset {offset} and \
                     length {len} do not (offsets and block sizes must be multiples of the dedup unit)"
                ),
            )),
            None => Err(StateError::new(
                StateErrorKind::Invalid,
                format!("offset {offset} + length {len} passes the dataset size {size}"),
            )),
        }
    }

    /// Claims the next version of every unit of `[offset, offset + len)`
    /// for a write about to be issued; [`WriteState::complete`] once the
    /// write is over (done or failed). Until then each unit accepts its old
    /// and new content.
    pub fn claim(&self, offset: u64, len: u64) -> Result<Claim, StateError> {
        self.check_writable()?;
        self.check_range(offset, len)?;
        let u = self.header.unit_bytes;
        let first = offset / u;
        let count = (offset + len).div_ceil(u) - first;
        let mut versions = Vec::with_capacity(count as usize);
        for unit in first..first + count {
            let slot = self.slot(unit);
            let mut cur = slot.load(Ordering::Acquire);
            loop {
                let Some((next, version)) = Entry::unpack(cur).claimed(self.max_version) else {
                    let e = Entry::unpack(cur);
                    let claimed = Claim { offset, len, first_unit: first, versions };
                    self.complete(claimed);
                    return Err(StateError::new(
                        StateErrorKind::Limit,
                        format!(
                            "unit {unit} (offset {}) cannot take another write: version {} of at most {}, \
                             {} writes of it in flight",
                            unit * u,
                            e.latest,
                            self.max_version.min(Entry::MAX_VERSION),
                            e.pending
                        ),
                    ));
                };
                match slot.compare_exchange_weak(cur, next.pack(), Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => {
                        versions.push(version);
                        break;
                    }
                    Err(now) => cur = now,
                }
            }
        }
        Ok(Claim { offset, len, first_unit: first, versions })
    }

    /// Records that the write `claim` was claimed for is over.
    pub fn complete(&self, claim: Claim) {
        self.complete_units(claim.first_unit, claim.versions.len() as u64);
    }

    /// Records that a write of `[offset, offset + len)`, claimed with
    /// [`WriteState::claim`], is over: [`WriteState::complete`] for callers
    /// that keep the range rather than the claim (the C ABI, fio).
    pub fn complete_range(&self, offset: u64, len: u64) -> Result<(), StateError> {
        // A read-only mapping cannot take the store (it would fault), and a
        // state opened for verifying has no claims to complete.
        self.check_writable()?;
        self.check_range(offset, len)?;
        let u = self.header.unit_bytes;
        let first = offset / u;
        self.complete_units(first, (offset + len).div_ceil(u) - first);
        Ok(())
    }

    fn complete_units(&self, first: u64, count: u64) {
        for i in 0..count {
            let slot = self.slot(first + i);
            let mut cur = slot.load(Ordering::Acquire);
            loop {
                let next = Entry::unpack(cur).completed().pack();
                match slot.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => break,
                    Err(now) => cur = now,
                }
            }
        }
        self.completed_counter().fetch_add(count, Ordering::Relaxed);
    }

    /// Fills `buf` with the content `claim`'s write carries: each unit's
    /// claimed version. `buf` is the claim's length.
    pub fn fill(&self, gen: &Generator, claim: &Claim, buf: &mut [u8]) {
        Self::fill_model(gen.model(), claim, buf);
    }

    pub(crate) fn fill_model(model: &crate::model::Model, claim: &Claim, buf: &mut [u8]) {
        assert_eq!(buf.len() as u64, claim.len, "the buffer is the claim's length");
        model.fill_units(claim.offset, buf, |unit| model.version_id(unit, claim.version(unit)));
    }

    /// Claims `[offset, offset + buf.len())` and fills `buf` with what the
    /// write carries: [`WriteState::claim`] then [`WriteState::fill`].
    pub fn claim_and_fill(&self, gen: &Generator, offset: u64, buf: &mut [u8]) -> Result<Claim, StateError> {
        let claim = self.claim(offset, buf.len() as u64)?;
        self.fill(gen, &claim, buf);
        Ok(claim)
    }

    /// Checks `buf`, read from `[offset, offset + buf.len())` of the target
    /// (whole units), against the state, adding what it finds to `out`.
    /// After the last range, [`WriteState::resolve`] sorts what matched
    /// nothing known nearby into misplaced and corrupt.
    pub fn check(&self, gen: &Generator, offset: u64, buf: &[u8], out: &mut StateCheck) -> Result<(), StateError> {
        self.check_range(offset, buf.len() as u64)?;
        self.check_units(gen.model(), offset, buf, out, |_, _, _| {});
        Ok(())
    }

    /// [`WriteState::check`] on a range already checked, calling
    /// `wrong(unit, offset, bytes)` for each wrong unit.
    pub(crate) fn check_units(
        &self,
        model: &crate::model::Model,
        offset: u64,
        buf: &[u8],
        out: &mut StateCheck,
        mut wrong: impl FnMut(u64, u64, &[u8]),
    ) {
        let u = self.header.unit_bytes;
        for (i, bytes) in buf.chunks(u as usize).enumerate() {
            let unit = offset / u + i as u64;
            if !out.check_unit(model, unit, unit * u, bytes, self.entry(unit)) {
                wrong(unit, unit * u, bytes);
            }
        }
    }

    fn check_writable(&self) -> Result<(), StateError> {
        if self.access != Access::Write {
            return Err(StateError::new(
                StateErrorKind::Invalid,
                format!("state file {} was opened for verifying, not writing", self.path),
            ));
        }
        Ok(())
    }

    /// Whether the state was opened for writing.
    pub fn writable(&self) -> bool {
        self.access == Access::Write
    }

    /// Checks that the state describes the dataset of `gen`.
    pub fn check_generator(&self, gen: &Generator) -> Result<(), StateError> {
        // Every C call that fills or verifies checks this, once per write:
        // the usual answer, "the same dataset", needs no header built (and
        // no compressor name allocated); any difference is named below.
        let (cfg, h) = (gen.config(), &self.header);
        if gen.size() == h.size
            && u64::from(cfg.dedup_unit) == h.unit_bytes
            && gen.seed() == h.seed
            && cfg.dedup_ratio.to_bits() == h.dedup_ratio.to_bits()
            && cfg.compress_ratio.to_bits() == h.compress_ratio.to_bits()
            && cfg.compressor.name() == h.compressor
        {
            return Ok(());
        }
        self.header.check_matches(&Header::of(gen)?, &self.path)
    }

    /// What the state holds: units written, versions, writes in flight.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            units: self.header.units,
            unit_bytes: self.header.unit_bytes,
            writes_completed: self.completed_counter().load(Ordering::Relaxed),
            ..Summary::default()
        };
        for unit in 0..self.header.units {
            let e = self.entry(unit);
            if !e.written {
                continue;
            }
            s.written += 1;
            if e.latest == 0 {
                s.first_pass += 1;
            } else {
                s.overwritten += 1;
            }
            s.max_version = s.max_version.max(e.latest);
            s.writes_claimed += e.latest + 1;
            if e.pending > 0 {
                s.in_flight += 1;
            }
            match e.accepted() {
                None => s.in_doubt += 1,
                Some(r) if r.start() < r.end() => s.ambiguous += 1,
                Some(_) => {}
            }
        }
        s
    }

    /// Ends a verification: sorts the wrong units that held no version of
    /// their own into misplaced and corrupt ([`StateCheck::resolve`], a pass
    /// over every unit, made only when there are such units).
    pub fn resolve(&self, gen: &Generator, check: &mut StateCheck) {
        self.resolve_model(gen.model(), check);
    }

    pub(crate) fn resolve_model(&self, model: &crate::model::Model, check: &mut StateCheck) {
        check.resolve(model, self.header.units, self.header.unit_bytes, |u| self.entry(u).accepted());
    }
}

impl Drop for WriteState {
    fn drop(&mut self) {
        // SAFETY: `base` and `len` are the mapping made in `map`, unmapped
        // only here; no reference into it outlives `self`.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

impl std::fmt::Debug for WriteState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteState").field("path", &self.path).field("header", &self.header).finish()
    }
}

/// The versions one write carries, from [`WriteState::claim`].
#[derive(Debug)]
#[must_use = "a claim must be completed, or its units stay in flight"]
pub struct Claim {
    offset: u64,
    len: u64,
    first_unit: u64,
    versions: Vec<u64>,
}

impl Claim {
    /// The write's first byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The write's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the write is empty (never: claims cover at least one unit).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The version the write carries for `unit`.
    pub fn version(&self, unit: u64) -> u64 {
        self.versions[(unit - self.first_unit) as usize]
    }
}
