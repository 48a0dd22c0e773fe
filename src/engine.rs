//! The engine: a stream position, range checks and a worker pool on top of the
//! pure [`Model`]. Small fills run on the calling thread with no allocation or
//! lock; large ones are cut at granule boundaries and spread over a rayon pool
//! that is built once per generator, on its first large fill.

use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;

use rayon::prelude::*;

use crate::config::Config;
use crate::error::Error;
use crate::model::{Kernel, Model, GRANULE};
use crate::topology::{Placement, Topology};

/// Fills at least this large are split across the worker threads. Waking
/// pool threads costs microseconds (tens on a virtual machine), as much as
/// generating a few hundred KiB; one thread fills 1 MiB in about 40 us, and
/// measured on a 2-CPU VM two threads were no faster at 1 MiB, 10-15% faster
/// at 2 MiB and about 35% faster at 8 MiB.
pub const PARALLEL_MIN: usize = 2 << 20;
/// Fills at least this large that run on one thread are written with
/// non-temporal stores (see `Model::fill_streaming`): one core's stores are
/// limited by reading each destination line first, which those skip. On a
/// 2-CPU VM, one thread on 64 MiB went from 11.5-15.9 to 15.6-16.8 GB/s;
/// two threads went from 36-44 down to 29-32 GB/s (the host's large L3 takes
/// ordinary stores from two cores faster than memory takes streaming ones),
/// so split fills keep ordinary stores.
pub const STREAM_MIN: usize = 16 << 20;
/// Smallest piece a worker takes.
const PIECE_MIN: usize = 256 << 10;

/// A seekable, reproducible stream of synthetic bytes.
///
/// `fill` continues the stream; `fill_at` and `verify_at` work on any range
/// and may be called from many threads at once on one generator (it is `Sync`).
pub struct Generator {
    config: Config,
    model: Model,
    seed: u64,
    threads: usize,
    placement: Placement,
    pos: u64,
    pool: OnceLock<Result<rayon::ThreadPool, String>>,
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

    /// Worker threads used for large fills.
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

    fn pool(&self) -> Result<&rayon::ThreadPool, Error> {
        let pool = self.pool.get_or_init(|| {
            let pinned = self.placement.pinned.clone();
            rayon::ThreadPoolBuilder::new()
                .num_threads(self.threads)
                .spawn_handler(|thread| {
                    let cpu = pinned.get(thread.index()).copied();
                    let handle =
                        std::thread::Builder::new().name(format!("dgen-{}", thread.index())).spawn(move || {
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
                .map_err(|e| e.to_string())
        });
        pool.as_ref().map_err(|e| Error::ThreadPool(e.clone()))
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
        self.check_range(offset, buf.len())?;
        if !self.parallel(buf.len()) {
            if buf.len() >= STREAM_MIN {
                self.model.fill_streaming(offset, buf);
            } else {
                self.model.fill(offset, buf);
            }
            return Ok(());
        }
        let piece = self.piece(buf.len());
        // The head runs up to the next granule boundary so every piece after it
        // starts on one.
        let head = (((GRANULE as u64 - offset % GRANULE as u64) % GRANULE as u64) as usize).min(buf.len());
        let (first, rest) = buf.split_at_mut(head);
        let model = &self.model;
        self.model.fill(offset, first);
        let base = offset + head as u64;
        self.pool()?.install(|| {
            rest.par_chunks_mut(piece).enumerate().for_each(|(i, chunk)| model.fill(base + (i * piece) as u64, chunk));
        });
        Ok(())
    }

    /// Checks that `buf` holds the stream's bytes at `offset`. On a difference,
    /// returns [`Error::Mismatch`] with the offset of the first wrong byte.
    pub fn verify_at(&self, offset: u64, buf: &[u8]) -> Result<(), Error> {
        self.check_range(offset, buf.len())?;
        let found = if !self.parallel(buf.len()) {
            self.model.first_mismatch(offset, buf)
        } else {
            let piece = self.piece(buf.len());
            let model = &self.model;
            self.pool()?.install(|| {
                buf.par_chunks(piece)
                    .enumerate()
                    .filter_map(|(i, chunk)| model.first_mismatch(offset + (i * piece) as u64, chunk))
                    .min_by_key(|m| m.0)
            })
        };
        match found {
            None => Ok(()),
            Some((offset, expected, actual)) => Err(Error::Mismatch { offset, expected, actual }),
        }
    }
}
