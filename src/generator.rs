//! The engine: a stream position, range checks and a worker pool on top of the
//! pure [`Model`]. Small fills run on the calling thread with no allocation or
//! lock; large ones are cut at granule boundaries and spread over a rayon pool
//! that is built once per generator, on its first large fill. A pool that
//! cannot be built (a process or thread limit, for instance) is never an
//! error: bytes do not depend on threads, so the fill runs on the calling
//! thread and the pool is tried again after [`POOL_RETRY`].
//!
//! The stream position is an atomic, so that threads sharing one generator
//! each take their own consecutive range of the stream with one
//! compare-and-swap ([`Generator::fill_shared`]). The pool remembers the
//! process that built it: a child of `fork` has only the thread that called
//! fork, so a large fill there finds the inherited pool foreign, leaves it
//! alone and builds its own instead of waiting forever for workers that do
//! not exist. Nothing here takes a lock, so no lock held by another thread at
//! the moment of a fork can stop the child either.

use std::io;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};
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
/// Fills at least this large from a generator of one thread, and from one
/// of more threads fills larger than the L3 cache too (see
/// [`streaming_threshold`]), are written with non-temporal stores (see
/// `Model::fill_streaming`), on one thread or split over the pool: ordinary
/// stores read each destination line first, and a granule with copies writes
/// its lines in many pieces, so that memory serves every line twice; on
/// hosts whose L3 is smaller than the buffer, streaming stores win at every
/// compress ratio, while a host whose L3 holds the whole buffer takes
/// ordinary stores faster (the README's speed tables, from `cargo bench
/// --bench throughput`, say where each was measured).
pub const STREAM_MIN: usize = 16 << 20;
/// [`Generator::fill_uninit_at`] zeroes and fills never-initialised memory
/// in steps of this many bytes (a whole number of granules), small enough
/// to stay in a core's L2 cache between the two.
pub(crate) const UNINIT_STEP: usize = 64 << 10;

/// Fills of at least this many bytes use non-temporal stores on a generator
/// of more than one thread (one thread streams from [`STREAM_MIN`]): the larger of
/// [`STREAM_MIN`] and the L3 cache of the CPUs this process may use (summed
/// over distinct caches, as Linux sysfs gives them; read once). A fill that
/// fits in L3 stays there, where ordinary stores write it faster and the
/// caller reads it back at once; only a fill larger than the cache goes to
/// memory anyway, and there streaming stores save the read of every line
/// before it is written. `cargo bench --bench split` compares one large
/// fill with the same bytes in 8 MiB calls.
pub fn streaming_threshold() -> usize {
    static THRESHOLD: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THRESHOLD.get_or_init(|| {
        let allowed = Topology::current().allowed;
        let l3 = crate::topology::l3_bytes(std::path::Path::new("/sys/devices/system/cpu"), &allowed);
        STREAM_MIN.max(l3.map_or(0, |b| usize::try_from(b).unwrap_or(usize::MAX)))
    })
}
/// Smallest piece a worker takes.
const PIECE_MIN: usize = 256 << 10;
/// After the worker pool fails to start, large fills run on the calling
/// thread for this long before the pool is tried again. A limit on processes
/// (`ulimit -u`) or memory is often lifted within seconds, and trying on
/// every fill would spend a failing `clone` per fill meanwhile.
pub const POOL_RETRY: Duration = Duration::from_secs(1);

/// [`Generator::fill_uninit_at`] asks for transparent huge pages over
/// buffers at least this large.
const HUGE_MIN: usize = 8 << 20;

/// Asks Linux to back the whole 2 MiB pages inside `buf` with transparent
/// huge pages (`MADV_HUGEPAGE`), so that the first touch of fresh memory
/// faults 2 MiB in at once instead of 4 KiB: a new 64 MiB buffer otherwise
/// costs 16,384 faults, more than its fill. A hint only: where the kernel
/// has THP off, or the memory is not anonymous, the call fails and nothing
/// changes; no byte is read or written.
fn advise_huge_pages(buf: &mut [MaybeUninit<u8>]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let first = buf.as_mut_ptr() as usize;
        let start = first.next_multiple_of(HUGE);
        let end = (first + buf.len()) / HUGE * HUGE;
        if end > start {
            // SAFETY: `[start, end)` lies inside `buf`, which the caller lends
            // us mutably, so no one else relies on its pages now; the advice
            // changes how the kernel backs them, never their contents, and
            // its result is ignored (it is a hint).
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buf;
}

/// A seekable, reproducible stream of synthetic bytes.
///
/// `fill` continues the stream; `fill_at` and `verify_at` work on any range.
/// The generator is `Sync`, and every method that takes `&self` may run from
/// many threads at once on one generator:
///
/// - [`fill_shared`](Self::fill_shared) continues the stream from any number
///   of threads: each call takes the next bytes with one atomic step, so
///   concurrent calls get disjoint consecutive ranges whose union is the
///   stream ([`reserve`](Self::reserve) hands out such a range to fill
///   later). `&Generator` is a [`std::io::Read`] that way.
/// - [`set_position`](Self::set_position) and [`rewind`](Self::rewind) store
///   the position atomically; a fill running at the same time continues from
///   the position before or after the move, never from a torn one, and its
///   bytes are the stream's at the offsets it reports either way.
/// - [`fill_at`](Self::fill_at) and [`verify_at`](Self::verify_at) do not
///   touch the position.
///
/// A generator survives `fork`: one made before a fork works in the child
/// (the worker pool, whose threads stayed in the parent, is rebuilt there on
/// the first large fill) and gives the same bytes.
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
    /// Offset the next `fill` starts at; `reserve` moves it with one
    /// compare-and-swap.
    pos: AtomicU64,
    /// The worker pool: null until the first large fill builds it. A pool is
    /// published once per process and freed only by `Drop` (which has the
    /// generator to itself), so a reference taken from here lives as long as
    /// `&self`. After a fork the child publishes a pool of its own and
    /// leaks the inherited one (see [`Generator::start_pool`]).
    pool: AtomicPtr<Pool>,
    /// The id of the process one of whose threads is building a pool now; 0
    /// when none is. A lock that cannot be left held by a thread that does
    /// not exist: a child of fork sees its parent's id here and takes it over.
    building: AtomicU32,
    /// When building the pool last failed, as nanoseconds after `created`
    /// plus one; 0 until a build fails. Written only by the builder.
    pool_failed: AtomicU64,
    /// The clock `pool_failed` counts from.
    created: Instant,
}

/// A worker pool and what it takes to stop it.
struct Pool {
    pool: rayon::ThreadPool,
    /// The pool's threads, joined when the generator is dropped so that no
    /// library code still runs once `dgen_free` returns (a plugin may be
    /// unloaded right after).
    workers: Vec<JoinHandle<()>>,
    /// The process the threads run in (`std::process::id()` when built).
    pid: u32,
    /// The next pool in [`FORSAKEN`], once this one is there.
    next_forsaken: *mut Pool,
}

/// Pools inherited through fork, which a child can neither stop nor free
/// (see [`forsake`]), kept in a list so that they stay reachable: a leak
/// checker (valgrind, LeakSanitizer) then counts them as memory still in
/// use rather than lost. A few KiB a fork.
static FORSAKEN: AtomicPtr<Pool> = AtomicPtr::new(ptr::null_mut());

/// Gives up `pool`, a pool built by another process (the parent of a fork),
/// for good: its threads are not in this process, so joining them would
/// never return, and rayon's own drop would wake them through locks that a
/// parent thread may have held at the fork. Its memory is left as it is and
/// listed in [`FORSAKEN`].
///
/// # Safety
/// `pool` came from `Box::into_raw` and nothing will use it again.
unsafe fn forsake(pool: *mut Pool) {
    let mut head = FORSAKEN.load(Ordering::Acquire);
    loop {
        // SAFETY: the caller hands `pool` over; nothing else writes it.
        unsafe { (*pool).next_forsaken = head };
        match FORSAKEN.compare_exchange_weak(head, pool, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return,
            Err(now) => head = now,
        }
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        let raw = std::mem::replace(self.pool.get_mut(), ptr::null_mut());
        if raw.is_null() {
            return;
        }
        // SAFETY: a non-null pointer here came from `Box::into_raw` in
        // `start_pool` and is freed only here; `&mut self` means no other
        // reference to it is alive.
        if unsafe { (*raw).pid } != std::process::id() {
            // Inherited through fork: dropping it would hang (see `forsake`).
            // SAFETY: as above, and the generator lets go of it here.
            unsafe { forsake(raw) };
            return;
        }
        // SAFETY: as above.
        let Pool { pool, workers, .. } = *unsafe { Box::from_raw(raw) };
        // Dropping the pool tells its threads to finish; then wait for them.
        drop(pool);
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
            .field("position", &self.position())
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
    // Memory as the allocator gives it, filled once by the workers
    // (`fill_uninit_at`): no pass of zeroes over it first, and fresh pages
    // first touched in parallel. `try_reserve_exact`, as `vec!` would abort
    // when memory runs out.
    let mut out = Vec::new();
    out.try_reserve_exact(len).map_err(|_| bad("is more memory than can be allocated"))?;
    gen.fill_uninit_at(0, &mut out.spare_capacity_mut()[..len])?;
    // SAFETY: `fill_uninit_at` returned Ok, so it wrote all of the first
    // `len` bytes of the capacity (at least `len`, reserved above).
    unsafe { out.set_len(len) };
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
            pos: AtomicU64::new(0),
            pool: AtomicPtr::new(ptr::null_mut()),
            building: AtomicU32::new(0),
            pool_failed: AtomicU64::new(0),
            created: Instant::now(),
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

    /// Offset the next [`fill`](Self::fill) starts at. While other threads
    /// fill the stream, a value that was current when read.
    pub fn position(&self) -> u64 {
        self.pos.load(Ordering::Acquire)
    }

    /// Moves the stream position; fails past the end of a sized stream. An
    /// atomic store: safe while other threads fill the stream, whose calls
    /// then continue from before or after the move.
    pub fn set_position(&self, pos: u64) -> Result<(), Error> {
        if self.config.size != 0 && pos > self.config.size {
            return Err(Error::OutOfRange { offset: pos, len: 0, size: self.config.size });
        }
        self.pos.store(pos, Ordering::Release);
        Ok(())
    }

    /// Starts the stream over from offset 0 (an atomic store, as
    /// [`set_position`](Self::set_position)).
    pub fn rewind(&self) {
        self.pos.store(0, Ordering::Release);
    }

    /// True when a sized stream has produced all its bytes (never for an
    /// endless one).
    pub fn is_complete(&self) -> bool {
        self.config.size != 0 && self.position() >= self.config.size
    }

    /// Bytes left in a sized stream; `u64::MAX - position` for an endless one.
    pub fn remaining(&self) -> u64 {
        self.remaining_after(self.position())
    }

    /// Bytes after `pos`: to the size, or to 2^64 - 1 for an endless stream.
    fn remaining_after(&self, pos: u64) -> u64 {
        if self.config.size == 0 {
            u64::MAX - pos
        } else {
            self.config.size.saturating_sub(pos)
        }
    }

    /// Continues the stream into `buf`; returns the bytes written, which is
    /// `buf.len()` except for the short last fill of a sized stream and 0 after
    /// its end. With the generator to itself, it moves the position without
    /// an atomic step; [`fill_shared`](Self::fill_shared) is the same for
    /// threads that share one.
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let pos = *self.pos.get_mut();
        let n = (buf.len() as u64).min(self.remaining_after(pos)) as usize;
        self.fill_at(pos, &mut buf[..n])?;
        *self.pos.get_mut() = pos + n as u64;
        Ok(n)
    }

    /// Continues the stream into `buf`, from any number of threads at once on
    /// one generator: returns the bytes written, as [`fill`](Self::fill).
    ///
    /// The call takes its range, `[position, position + n)`, with one atomic
    /// compare-and-swap ([`reserve`](Self::reserve)) and fills it outside any
    /// lock, so concurrent calls get disjoint consecutive ranges and together
    /// produce the stream exactly once; which thread gets which range is up
    /// to the scheduler. `n` is `buf.len()`, less at the end of a sized
    /// stream, 0 after it. To learn the offset a call filled, use
    /// [`reserve`](Self::reserve) and [`fill_at`](Self::fill_at) instead.
    pub fn fill_shared(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let range = self.reserve(buf.len() as u64);
        let n = (range.end - range.start) as usize;
        // The range was clamped to the stream, so `fill_at` cannot refuse it;
        // should it ever, the range goes back.
        if let Err(e) = self.fill_at(range.start, &mut buf[..n]) {
            self.unreserve(range);
            return Err(e);
        }
        Ok(n)
    }

    /// Takes the next `len` bytes of the stream (fewer at the end of a sized
    /// stream, none after it) and returns their range, moving the position
    /// past them with one atomic compare-and-swap. Threads that share a
    /// generator each get their own range; fill it with
    /// [`fill_at`](Self::fill_at). [`fill_shared`](Self::fill_shared) is
    /// `reserve` and `fill_at` in one call; `reserve` is for callers that
    /// need the length before they have a buffer, or the offset after.
    pub fn reserve(&self, len: u64) -> Range<u64> {
        let mut pos = self.pos.load(Ordering::Acquire);
        loop {
            let n = len.min(self.remaining_after(pos));
            match self.pos.compare_exchange_weak(pos, pos + n, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return pos..pos + n,
                Err(now) => pos = now,
            }
        }
    }

    /// Gives back a range from [`reserve`](Self::reserve) that was not
    /// filled after all (its buffer could not be had, say): the position
    /// moves back to its start when nothing has moved it since, and the
    /// return is true. Otherwise (another thread reserved after it, or the
    /// position was set) nothing changes and the range stays skipped.
    pub fn unreserve(&self, range: Range<u64>) -> bool {
        self.pos.compare_exchange(range.end, range.start, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    fn check_range(&self, offset: u64, len: usize) -> Result<(), Error> {
        let size = self.config.size;
        // Built only on the error path, not on every 4 KiB fill.
        let bad = || Error::OutOfRange { offset, len: len as u64, size };
        // An endless stream ends at u64::MAX: the last offset it can address.
        let end = offset.checked_add(len as u64).ok_or_else(bad)?;
        if size != 0 && end > size {
            return Err(bad());
        }
        Ok(())
    }

    /// The worker pool, built on first use in this process. `None` when it
    /// cannot be had now: building it failed less than [`POOL_RETRY`] ago,
    /// failed just now, or another thread is building it. The caller then
    /// fills on its own thread.
    ///
    /// Called only by fills large enough for the pool, so the process id it
    /// reads (a `getpid` call, well under a microsecond) is nothing next to
    /// the fill; small fills never come here.
    fn pool(&self) -> Option<&rayon::ThreadPool> {
        let pid = std::process::id();
        // SAFETY: a published pool is freed only by `Drop`, which cannot run
        // while `&self` is borrowed (see the `pool` field).
        if let Some(pool) = unsafe { self.pool.load(Ordering::Acquire).as_ref() } {
            if pool.pid == pid {
                return Some(&pool.pool);
            }
        }
        self.start_pool(pid)
    }

    /// Builds and publishes this process's pool (see [`Generator::pool`]).
    #[cold]
    fn start_pool(&self, pid: u32) -> Option<&rayon::ThreadPool> {
        // One builder at a time. A holder that is not this process is the
        // parent of a fork that happened during a build: that thread is not
        // here and will never let go, so its claim is taken over.
        let holder = self.building.load(Ordering::Acquire);
        if holder == pid {
            // Another thread is building it: waiting would cost more than the
            // fill does on this thread.
            return None;
        }
        if self.building.compare_exchange(holder, pid, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return None;
        }
        let pool = self.start_pool_locked(pid);
        self.building.store(0, Ordering::Release);
        pool
    }

    /// [`Generator::start_pool`] once this thread is the builder.
    fn start_pool_locked(&self, pid: u32) -> Option<&rayon::ThreadPool> {
        let current = self.pool.load(Ordering::Acquire);
        // SAFETY: as in `pool`.
        if let Some(pool) = unsafe { current.as_ref() } {
            if pool.pid == pid {
                return Some(&pool.pool); // built meanwhile by another thread
            }
        }
        let now = self.created.elapsed().as_nanos() as u64 + 1;
        let failed = self.pool_failed.load(Ordering::Relaxed);
        if failed != 0 && now.saturating_sub(failed) < POOL_RETRY.as_nanos() as u64 {
            return None;
        }
        let mut workers = Vec::with_capacity(self.threads);
        match self.build_pool(&mut workers) {
            Ok(pool) => {
                self.pool_failed.store(0, Ordering::Relaxed);
                let new = Box::into_raw(Box::new(Pool { pool, workers, pid, next_forsaken: ptr::null_mut() }));
                self.pool.store(new, Ordering::Release);
                // `current` is null or a pool inherited through fork, which
                // is given up without being stopped or freed (see `forsake`;
                // not freeing it also keeps valid any reference to it that a
                // call of this process may still hold).
                if !current.is_null() {
                    // SAFETY: it came from `Box::into_raw`, and the generator
                    // no longer refers to it.
                    unsafe { forsake(current) };
                }
                // SAFETY: just published, freed only by `Drop`.
                Some(unsafe { &(*new).pool })
            }
            Err(_) => {
                self.pool_failed.store(now, Ordering::Relaxed);
                // rayon stops the threads a failed build started; join them so
                // that none outlives the attempt.
                for w in workers {
                    let _ = w.join();
                }
                None
            }
        }
    }

    fn build_pool(&self, workers: &mut Vec<JoinHandle<()>>) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
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
                workers.push(handle);
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

    /// [`Generator::fill_new_at`] for memory that was never initialised (a
    /// new object from a foreign allocator, say, that hands out its pages
    /// untouched): fills all of `buf` with the stream's bytes at `[offset,
    /// offset + buf.len())` and returns it as initialised bytes.
    ///
    /// No pass over the whole buffer comes before the fill: each thread
    /// zeroes a piece of 64 KiB while it is in cache and
    /// fills it at once, so that a large fill of fresh pages takes their
    /// first-touch faults on every worker instead of zeroing them all on
    /// the calling thread first.
    pub fn fill_uninit_at<'a>(&self, offset: u64, buf: &'a mut [MaybeUninit<u8>]) -> Result<&'a mut [u8], Error> {
        self.check_range(offset, buf.len())?;
        if buf.len() >= HUGE_MIN {
            advise_huge_pages(buf);
        }
        let model = &self.model;
        self.split(offset, buf, |at, chunk| {
            for (i, step) in chunk.chunks_mut(UNINIT_STEP).enumerate() {
                // SAFETY: `step` is `step.len()` writable bytes, and writing
                // any byte to a `MaybeUninit<u8>` is sound.
                unsafe { ptr::write_bytes(step.as_mut_ptr(), 0, step.len()) };
                // SAFETY: every byte of `step` was just written (zero), and
                // `MaybeUninit<u8>` has the layout of `u8`.
                let step = unsafe { &mut *(step as *mut [MaybeUninit<u8>] as *mut [u8]) };
                model.fill(at + (i * UNINIT_STEP) as u64, step);
            }
        });
        // SAFETY: `split` ran the closure over pieces that cover all of
        // `buf`, and the closure wrote every byte of each.
        Ok(unsafe { &mut *(buf as *mut [MaybeUninit<u8>] as *mut [u8]) })
    }

    /// [`Generator::fill_at`], with non-temporal stores for large fills
    /// only when `streaming` allows them.
    fn fill_at_stores(&self, offset: u64, buf: &mut [u8], streaming: bool) -> Result<(), Error> {
        self.check_range(offset, buf.len())?;
        // One thread streams from STREAM_MIN on: its fill is bound by the
        // stores of one core, and the cache a VM reports (the host's L3)
        // is shared with its neighbours, so that a buffer the size says
        // fits is often gone by the next fill. Two threads and more keep a
        // buffer the L3 holds in the cache (README, Speed: the A/B rows).
        let stream = streaming && buf.len() >= STREAM_MIN && (self.threads == 1 || buf.len() >= streaming_threshold());
        let model = &self.model;
        self.split(
            offset,
            buf,
            |at, chunk| {
                if stream {
                    model.fill_streaming(at, chunk)
                } else {
                    model.fill(at, chunk)
                }
            },
        );
        Ok(())
    }

    /// Runs `fill(offset of piece, piece)` over pieces that cover `buf` (the
    /// stream's bytes at `offset`): the whole of it on the calling thread
    /// when the fill is small or no pool can be had, else a head up to the
    /// next granule boundary on this thread and [`Generator::piece`]-sized
    /// pieces, each starting on a granule, over the pool.
    fn split<T: Send>(&self, offset: u64, buf: &mut [T], fill: impl Fn(u64, &mut [T]) + Sync) {
        let pool = if self.parallel(buf.len()) { self.pool() } else { None };
        let Some(pool) = pool else {
            fill(offset, buf);
            return;
        };
        let piece = self.piece(buf.len());
        let head = (((GRANULE as u64 - offset % GRANULE as u64) % GRANULE as u64) as usize).min(buf.len());
        let (first, rest) = buf.split_at_mut(head);
        fill(offset, first);
        let base = offset + head as u64;
        pool.install(|| {
            rest.par_chunks_mut(piece).enumerate().for_each(|(i, chunk)| fill(base + (i * piece) as u64, chunk));
        });
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

/// The stream, as [`Generator::fill_shared`] gives it, so that threads can
/// read one generator at once (as `&File` reads one file): each `read` takes
/// the next bytes of the stream.
impl io::Read for &Generator {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.fill_shared(buf)?)
    }
}

/// Moves the position [`Generator::fill`] and `read` continue from. A
/// position past the end of a sized stream, before 0 or past 2^64 - 1 is an
/// [`io::ErrorKind::InvalidInput`] error and leaves the position alone;
/// `SeekFrom::End` on an endless stream is one too, as it has no end.
impl io::Seek for Generator {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        (&*self).seek(pos)
    }
}

/// As `Seek for Generator`, through a shared reference. `SeekFrom::Current`
/// reads the position and then stores the new one: a fill by another thread
/// in between is overwritten, as with two threads seeking one `&File`.
impl io::Seek for &Generator {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
        let (base, delta) = match pos {
            io::SeekFrom::Start(n) => (n, 0),
            io::SeekFrom::Current(d) => (self.position(), d),
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
        // A clock that started before POOL_RETRY, so that a test can age a
        // failure past it (see `age_failure`).
        g.created = Instant::now().checked_sub(2 * POOL_RETRY).expect("the machine is up for 2 s");
        g
    }

    /// The published pool, if any.
    fn published(g: &Generator) -> Option<&Pool> {
        // SAFETY: as in `Generator::pool`.
        unsafe { g.pool.load(Ordering::Acquire).as_ref() }
    }

    fn failed(g: &Generator) -> bool {
        g.pool_failed.load(Ordering::Relaxed) != 0
    }

    /// Moves the last failure POOL_RETRY into the past.
    fn age_failure(g: &Generator) {
        g.pool_failed.fetch_sub(POOL_RETRY.as_nanos() as u64, Ordering::Relaxed);
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
            assert!(published(&g).is_none());
            assert!(failed(&g));
            assert_eq!(g.building.load(Ordering::Relaxed), 0, "the build claim was left held");
            g.verify_at(off, &buf).unwrap();

            // Within the back-off nothing is tried, even with the limit gone.
            REFUSE_FROM.with(|r| r.set(None));
            buf.fill(0);
            g.fill_at(off, &mut buf).unwrap();
            assert!(buf == want);
            assert!(published(&g).is_none(), "retried before POOL_RETRY passed");

            // After it, the pool is built and used.
            age_failure(&g);
            buf.fill(0);
            g.fill_at(off, &mut buf).unwrap();
            assert!(buf == want);
            let pool = published(&g).expect("the pool was not tried again");
            assert!(!failed(&g));
            assert_eq!(pool.workers.len(), 2);
            assert_eq!(pool.pid, std::process::id());
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

    /// What a child of fork sees, without forking (tests/shared.rs forks for
    /// real): a published pool and a build claim of another process.
    #[test]
    fn a_pool_or_a_build_claim_of_another_process_is_replaced() {
        let g = two_workers();
        let (off, len) = (4096u64, 4 << 20);
        let want = reference(&g, off, len);
        let mut buf = vec![0u8; len];
        g.fill_at(off, &mut buf).unwrap();
        let first = g.pool.load(Ordering::Acquire);
        assert!(!first.is_null());

        // As if the pool had been built by the parent of a fork, and the
        // parent had been building another when it forked.
        let foreign = std::process::id().wrapping_add(1).max(1);
        // SAFETY: no reference to the pool is alive on this thread or any
        // other (this test alone uses `g`).
        unsafe { (*first).pid = foreign };
        g.building.store(foreign, Ordering::Release);
        buf.fill(0);
        g.fill_at(off, &mut buf).unwrap();
        assert!(buf == want);
        let second = g.pool.load(Ordering::Acquire);
        assert!(second != first, "the pool of another process was used");
        assert_eq!(published(&g).map(|p| p.pid), Some(std::process::id()));
        assert_eq!(g.building.load(Ordering::Relaxed), 0);
        g.verify_at(off, &buf).unwrap();

        // The generator gave up the foreign pool, as it must after a real
        // fork: it is listed as forsaken. Here its threads do exist, so take
        // it off the list (no other test of this binary forsakes a pool) and
        // stop them.
        // SAFETY: `first` came from `Box::into_raw`; the generator published
        // `second` in its place and only the list refers to it.
        let next = unsafe { (*first).next_forsaken };
        assert!(FORSAKEN.compare_exchange(first, next, Ordering::AcqRel, Ordering::Acquire).is_ok());
        // SAFETY: as above, and now nothing refers to it.
        let Pool { pool, workers, .. } = *unsafe { Box::from_raw(first) };
        drop(pool);
        for w in workers {
            w.join().unwrap();
        }
    }

    #[test]
    fn reserve_clamps_at_the_end_and_unreserve_gives_back_only_the_last_range() {
        let cfg = Config { size: 10_000, seed: Some(1), ..Config::default() };
        let g = Generator::new(cfg).unwrap();
        assert_eq!(g.reserve(4096), 0..4096);
        let second = g.reserve(8192);
        assert_eq!(second, 4096..10_000);
        assert_eq!(g.reserve(1), 10_000..10_000);
        assert!(!g.unreserve(0..4096), "a range with another after it came back");
        assert!(g.unreserve(second));
        assert_eq!(g.position(), 4096);
        let mut buf = vec![0u8; 8192];
        assert_eq!(g.fill_shared(&mut buf).unwrap(), 10_000 - 4096);
        g.verify_at(4096, &buf[..10_000 - 4096]).unwrap();
        assert_eq!(g.fill_shared(&mut buf).unwrap(), 0);
        assert!(g.is_complete());
    }
}
