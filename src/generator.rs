//! The engine: a stream position, range checks and a worker pool on top of the
//! pure [`Model`]. Small fills run on the calling thread with no allocation or
//! lock; large ones are cut at granule boundaries and spread over a rayon pool
//! that is built once per generator, on its first large fill. A pool that
//! cannot be built (a process or thread limit, for instance) is never an
//! error: bytes do not depend on threads, so the fill runs on the calling
//! thread and the pool is tried again after [`POOL_RETRY`].

use std::io;
use std::sync::{Mutex, OnceLock, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::Config;
use crate::error::Error;
use crate::model::{Kernel, Model, GRANULE};
use crate::topology::{Placement, Topology};

/// Fills at least this large are split across the worker threads. Waking
/// pool threads costs microseconds (tens on a virtual machine), as much as
/// generating a few hundred KiB, so smaller fills gain nothing from a second
/// thread (`cargo bench --bench throughput` has the rows by size).
pub const PARALLEL_MIN: usize = 2 << 20;
/// Fills at least this large are written with non-temporal stores (see
/// `Model::fill_streaming`), on one thread or split over the pool: ordinary
/// stores read each destination line first, and a granule with copies writes
/// its lines in many pieces, so that memory serves every line twice; on
/// hosts whose L3 is smaller than the buffer, streaming stores win at every
/// compress ratio, while a host whose L3 holds the whole buffer takes
/// ordinary stores faster (the README's speed tables, from `cargo bench
/// --bench throughput`, say where each was measured).
pub const STREAM_MIN: usize = 16 << 20;
/// Smallest piece a worker takes.
const PIECE_MIN: usize = 256 << 10;
/// After the worker pool fails to start, large fills run on the calling
/// thread for this long before the pool is tried again. A limit on processes
/// (`ulimit -u`) or memory is often lifted within seconds, and trying on
/// every fill would spend a failing `clone` per fill meanwhile.
pub const POOL_RETRY: Duration = Duration::from_secs(1);

/// A seekable, reproducible stream of synthetic bytes.
///
/// `fill` continues the stream; `fill_at` and `verify_at` work on any range
/// and may be called from many threads at once on one generator (it is `Sync`).
///
/// It is also a [`std::io::Read`] (the stream, like `fill`) and a
/// [`std::io::Seek`] (moving the position, never past the end of a sized
/// stream), so `std::io::copy(&mut generator, &mut file)` writes a dataset.
pub struct Generator {
    config: Config,
    model: Model,
    seed: u64,
    threads: usize,
    placement: Placement,
    pos: u64,
    pool: OnceLock<rayon::ThreadPool>,
    /// When building the pool last failed; `None` until a build fails. Held
    /// while a build runs, so one thread builds and the others fill alone.
    pool_failed: Mutex<Option<Instant>>,
    /// The pool's threads, joined when the generator is dropped so that no
    /// library code still runs once `dgen_free` returns (a plugin may be
    /// unloaded right after).
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Generator {
    fn drop(&mut self) {
        // Dropping the pool tells its threads to finish; then wait for them.
        drop(self.pool.take());
        let workers = std::mem::take(self.workers.get_mut().unwrap_or_else(|e| e.into_inner()));
        for w in workers {
            let _ = w.join();
        }
    }
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("config", &self.config)
            .field("seed", &self.seed)
            .field("threads", &self.threads)
            .field("position", &self.pos)
            .field("kernel", &self.model.kernel())
            .finish()
    }
}

/// A seed nobody chose: hashed from the clock, a process-wide counter and
/// std's per-process random hasher keys.
fn fresh_seed() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.write_u32(std::process::id());
    h.finish()
}

/// Threads that `threads = 0` stands for: every CPU this process may use.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// The bytes `[0, config.size)` of the stream `config` describes, in a new
/// vector: a one-shot [`Generator::new`] and [`Generator::fill_at`].
///
/// `config.size` must be from 1 to `isize::MAX` (0 is an endless stream,
/// which no vector holds), and memory for it must be available; otherwise
/// the error names `size`. With `seed: None` each call draws a fresh seed that
/// is not reported: use a [`Generator`] to read it back.
///
/// ```
/// let cfg = dgen::Config { size: 1 << 20, dedup_ratio: 2.0, seed: Some(7), ..dgen::Config::default() };
/// let data = dgen::generate(cfg.clone()).unwrap();
/// assert_eq!(data.len(), 1 << 20);
/// dgen::Generator::new(cfg).unwrap().verify_at(0, &data).unwrap();
/// ```
pub fn generate(config: Config) -> Result<Vec<u8>, Error> {
    let size = config.size;
    let bad = |expected| Error::InvalidConfig { field: crate::Field::Size, value: size.to_string(), expected };
    if size == 0 || size > isize::MAX as u64 {
        return Err(bad(
            "must be from 1 to 9223372036854775807 bytes for a one-shot generate (0 is an endless stream)",
        ));
    }
    let gen = Generator::new(config)?;
    let len = size as usize;
    // Zeroed memory straight from the allocator (calloc: fresh pages are
    // already zero), so the only pass over the bytes is the fill itself;
    // `vec![0; len]` would do the same but abort when memory runs out.
    let layout = std::alloc::Layout::array::<u8>(len).map_err(|_| bad("is more memory than can be allocated"))?;
    // SAFETY: `layout` has a non-zero size (len >= 1, checked above).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
    if ptr.is_null() {
        return Err(bad("is more memory than can be allocated"));
    }
    // SAFETY: `ptr` comes from the global allocator with `layout` (len bytes,
    // alignment 1, the layout a Vec<u8> of capacity `len` uses), and all `len`
    // bytes are initialized (zero).
    let mut out = unsafe { Vec::from_raw_parts(ptr, len, len) };
    gen.fill_new_at(0, &mut out)?;
    Ok(out)
}

impl Generator {
    /// Validates `config` and builds a generator. Cost and memory do not depend
    /// on `config.size`; no thread is started until the first large fill.
    pub fn new(config: Config) -> Result<Generator, Error> {
        config.validate()?;
        let seed = config.seed.unwrap_or_else(fresh_seed);
        let placement = Topology::current().plan(config.threads, config.numa_mode, config.numa_node)?;
        Ok(Generator {
            model: Model::new(&config, seed),
            config,
            seed,
            threads: placement.threads,
            placement,
            pos: 0,
            pool: OnceLock::new(),
            pool_failed: Mutex::new(None),
            workers: Mutex::new(Vec::new()),
        })
    }

    /// The seed in use (the drawn one when the config had none).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The config this generator was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Logical size; 0 for an endless stream.
    pub fn size(&self) -> u64 {
        self.config.size
    }

    /// Worker threads used for large fills: `config.threads`, or every CPU
    /// the process may use when it is 0, and never more than those CPUs (of
    /// `numa_node` when one is chosen): more workers than CPUs only take
    /// turns, and a large `threads` is accepted and capped.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Where the worker threads run: their count, NUMA node and pinned CPUs.
    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    /// The vector kernel this CPU runs.
    pub fn kernel(&self) -> Kernel {
        self.model.kernel()
    }

    /// The pure model behind this generator.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Offset the next [`fill`](Self::fill) starts at.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Moves the stream position; fails past the end of a sized stream.
    pub fn set_position(&mut self, pos: u64) -> Result<(), Error> {
        if self.config.size != 0 && pos > self.config.size {
            return Err(Error::OutOfRange { offset: pos, len: 0, size: self.config.size });
        }
        self.pos = pos;
        Ok(())
    }

    /// Starts the stream over from offset 0.
    pub fn rewind(&mut self) {
        self.pos = 0;
    }

    /// True when a sized stream has produced all its bytes (never for an
    /// endless one).
    pub fn is_complete(&self) -> bool {
        self.config.size != 0 && self.pos >= self.config.size
    }

    /// Bytes left in a sized stream; `u64::MAX - position` for an endless one.
    pub fn remaining(&self) -> u64 {
        if self.config.size == 0 {
            u64::MAX - self.pos
        } else {
            self.config.size.saturating_sub(self.pos)
        }
    }

    /// Continues the stream into `buf`; returns the bytes written, which is
    /// `buf.len()` except for the short last fill of a sized stream and 0 after
    /// its end.
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let n = (buf.len() as u64).min(self.remaining()) as usize;
        self.fill_at(self.pos, &mut buf[..n])?;
        self.pos += n as u64;
        Ok(n)
    }

    fn check_range(&self, offset: u64, len: usize) -> Result<(), Error> {
        let size = self.config.size;
        let bad = Error::OutOfRange { offset, len: len as u64, size };
        // An endless stream ends at u64::MAX: the last offset it can address.
        let end = offset.checked_add(len as u64).ok_or(bad.clone())?;
        if size != 0 && end > size {
            return Err(bad);
        }
        Ok(())
    }

    /// The worker pool, built on first use. `None` when it cannot be had now:
    /// building it failed less than [`POOL_RETRY`] ago, failed just now, or
    /// another thread is building it. The caller then fills on its own thread.
    fn pool(&self) -> Option<&rayon::ThreadPool> {
        if let Some(pool) = self.pool.get() {
            return Some(pool);
        }
        let mut failed = match self.pool_failed.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            // Another thread is building it: waiting would cost more than the
            // fill does on this thread.
            Err(TryLockError::WouldBlock) => return None,
        };
        if let Some(pool) = self.pool.get() {
            return Some(pool);
        }
        if failed.is_some_and(|at| at.elapsed() < POOL_RETRY) {
            return None;
        }
        match self.build_pool() {
            Ok(pool) => {
                *failed = None;
                Some(self.pool.get_or_init(|| pool))
            }
            Err(_) => {
                *failed = Some(Instant::now());
                // rayon stops the threads a failed build started; join them so
                // that none outlives the attempt.
                let started = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
                for w in started {
                    let _ = w.join();
                }
                None
            }
        }
    }

    fn build_pool(&self) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
        let pinned = self.placement.pinned.clone();
        rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .spawn_handler(|thread| {
                #[cfg(test)]
                tests::refuse_spawn(thread.index())?;
                let cpu = pinned.get(thread.index()).copied();
                let handle = std::thread::Builder::new().name(format!("dgen-{}", thread.index())).spawn(move || {
                    if let Some(id) = cpu {
                        // Best effort: a CPU that cannot be used leaves the
                        // thread where the scheduler put it; bytes never
                        // depend on placement.
                        core_affinity::set_for_current(core_affinity::CoreId { id });
                    }
                    thread.run()
                })?;
                self.workers.lock().unwrap_or_else(|e| e.into_inner()).push(handle);
                Ok(())
            })
            .build()
    }

    /// Piece size for a parallel call over `len` bytes: a whole number of
    /// granules, about four pieces per thread.
    fn piece(&self, len: usize) -> usize {
        let per = len / (self.threads * 4);
        per.max(PIECE_MIN).next_multiple_of(GRANULE)
    }

    fn parallel(&self, len: usize) -> bool {
        self.threads > 1 && len >= PARALLEL_MIN
    }

    /// Fills `buf` with the stream's bytes at `[offset, offset + buf.len())`.
    /// Safe to call from many threads on one generator.
    pub fn fill_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        self.fill_at_stores(offset, buf, true)
    }

    /// [`Generator::fill_at`] for a buffer just allocated and never written
    /// (such as a fresh `Vec` or `bytearray` of many MiB): the same bytes,
    /// with ordinary stores only. The kernel zeroes each fresh page when it
    /// is first touched, which leaves it in cache, where the non-temporal
    /// stores that `fill_at` uses for fills of 16 MiB and more would first
    /// have to evict it; on a buffer that was written before, `fill_at` is
    /// the faster one.
    pub fn fill_new_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        self.fill_at_stores(offset, buf, false)
    }

    /// [`Generator::fill_at`], with non-temporal stores for large fills
    /// only when `streaming` allows them.
    fn fill_at_stores(&self, offset: u64, buf: &mut [u8], streaming: bool) -> Result<(), Error> {
        self.check_range(offset, buf.len())?;
        let stream = streaming && buf.len() >= STREAM_MIN;
        if !self.parallel(buf.len()) {
            self.fill_alone(offset, buf, stream);
            return Ok(());
        }
        let Some(pool) = self.pool() else {
            self.fill_alone(offset, buf, stream);
            return Ok(());
        };
        let piece = self.piece(buf.len());
        // The head runs up to the next granule boundary so every piece after it
        // starts on one.
        let head = (((GRANULE as u64 - offset % GRANULE as u64) % GRANULE as u64) as usize).min(buf.len());
        let (first, rest) = buf.split_at_mut(head);
        let model = &self.model;
        self.model.fill(offset, first);
        let base = offset + head as u64;
        pool.install(|| {
            rest.par_chunks_mut(piece).enumerate().for_each(|(i, chunk)| {
                let at = base + (i * piece) as u64;
                if stream {
                    model.fill_streaming(at, chunk)
                } else {
                    model.fill(at, chunk)
                }
            });
        });
        Ok(())
    }

    /// A fill on the calling thread alone, with non-temporal stores when
    /// `stream`.
    fn fill_alone(&self, offset: u64, buf: &mut [u8], stream: bool) {
        if stream {
            self.model.fill_streaming(offset, buf);
        } else {
            self.model.fill(offset, buf);
        }
    }

    /// Checks that `buf` holds the stream's bytes at `offset`. On a difference,
    /// returns [`Error::Mismatch`] with the offset of the first wrong byte.
    pub fn verify_at(&self, offset: u64, buf: &[u8]) -> Result<(), Error> {
        self.check_range(offset, buf.len())?;
        let pool = if self.parallel(buf.len()) { self.pool() } else { None };
        let found = match pool {
            None => self.model.first_mismatch(offset, buf),
            Some(pool) => {
                let piece = self.piece(buf.len());
                let model = &self.model;
                pool.install(|| {
                    buf.par_chunks(piece)
                        .enumerate()
                        .filter_map(|(i, chunk)| model.first_mismatch(offset + (i * piece) as u64, chunk))
                        .min_by_key(|m| m.0)
                })
            }
        };
        match found {
            None => Ok(()),
            Some((offset, expected, actual)) => Err(Error::Mismatch { offset, expected, actual }),
        }
    }
}

/// The stream, as [`Generator::fill`] gives it: `Ok(0)` once a sized stream
/// is complete, never for an endless one.
impl io::Read for Generator {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.fill(buf)?)
    }
}

/// Moves the position [`Generator::fill`] and `read` continue from. A
/// position past the end of a sized stream, before 0 or past 2^64 - 1 is an
/// [`io::ErrorKind::InvalidInput`] error and leaves the position alone;
/// `SeekFrom::End` on an endless stream is one too, as it has no end.
impl io::Seek for Generator {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
        let (base, delta) = match pos {
            io::SeekFrom::Start(n) => (n, 0),
            io::SeekFrom::Current(d) => (self.pos, d),
            io::SeekFrom::End(_) if self.config.size == 0 => {
                return Err(invalid("cannot seek from the end of an endless stream (size 0)".into()));
            }
            io::SeekFrom::End(d) => (self.config.size, d),
        };
        let target = i128::from(base) + i128::from(delta);
        let target =
            u64::try_from(target).map_err(|_| invalid(format!("seek to position {target}, outside 0 to 2^64 - 1")))?;
        self.set_position(target)?;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// While set on the thread that builds a pool, workers with this index
        /// and above fail to start, as they would under `ulimit -u`.
        static REFUSE_FROM: Cell<Option<usize>> = const { Cell::new(None) };
    }

    /// The spawn handler's test hook (see `REFUSE_FROM`).
    pub(super) fn refuse_spawn(index: usize) -> io::Result<()> {
        match REFUSE_FROM.with(Cell::get) {
            Some(from) if index >= from => Err(io::Error::new(io::ErrorKind::WouldBlock, "refused by the test")),
            _ => Ok(()),
        }
    }

    fn two_workers() -> Generator {
        let cfg = Config { size: 64 << 20, dedup_ratio: 2.0, compress_ratio: 3.0, seed: Some(5), ..Config::default() };
        let mut g = Generator::new(cfg).unwrap();
        // Two workers even on a one-CPU machine, where the cap would leave one
        // and no fill would reach the pool.
        g.threads = 2;
        g
    }

    fn reference(g: &Generator, offset: u64, len: usize) -> Vec<u8> {
        let mut want = vec![0u8; len];
        g.model.fill(offset, &mut want);
        want
    }

    #[test]
    fn a_pool_that_fails_to_start_falls_back_to_the_caller_and_is_tried_again() {
        for refuse_from in [0, 1] {
            // 1: the first worker starts and the second does not.
            let g = two_workers();
            let (off, len) = (12_345u64, 4 << 20);
            let want = reference(&g, off, len);
            let mut buf = vec![0u8; len];

            REFUSE_FROM.with(|r| r.set(Some(refuse_from)));
            g.fill_at(off, &mut buf).unwrap();
            assert!(buf == want, "the calling thread's fill gives the same bytes");
            assert!(g.pool.get().is_none());
            assert!(g.pool_failed.lock().unwrap().is_some());
            assert!(g.workers.lock().unwrap().is_empty(), "a worker of the failed pool was left running");
            g.verify_at(off, &buf).unwrap();

            // Within the back-off nothing is tried, even with the limit gone.
            REFUSE_FROM.with(|r| r.set(None));
            buf.fill(0);
            g.fill_at(off, &mut buf).unwrap();
            assert!(buf == want);
            assert!(g.pool.get().is_none(), "retried before POOL_RETRY passed");

            // After it, the pool is built and used.
            *g.pool_failed.lock().unwrap() = Instant::now().checked_sub(POOL_RETRY);
            buf.fill(0);
            g.fill_at(off, &mut buf).unwrap();
            assert!(buf == want);
            assert!(g.pool.get().is_some(), "the pool was not tried again");
            assert!(g.pool_failed.lock().unwrap().is_none());
            assert_eq!(g.workers.lock().unwrap().len(), 2);
            let mut bad = buf.clone();
            bad[3 << 20] ^= 1;
            assert_eq!(
                g.verify_at(off, &bad),
                Err(Error::Mismatch { offset: off + (3 << 20), expected: buf[3 << 20], actual: bad[3 << 20] })
            );
        }
    }

    #[test]
    fn a_failed_pool_is_never_an_error_for_the_stream() {
        let mut g = two_workers();
        let want = reference(&g, 0, 8 << 20);
        REFUSE_FROM.with(|r| r.set(Some(0)));
        let mut got = vec![0u8; 8 << 20];
        for chunk in got.chunks_mut(3 << 20) {
            assert_eq!(g.fill(chunk).unwrap(), chunk.len());
        }
        REFUSE_FROM.with(|r| r.set(None));
        assert!(got == want);
    }
}
