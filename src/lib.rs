//! # libdgen
//!
//! Synthetic data for storage testing: bytes with a chosen deduplication ratio
//! and compression ratio, reproducible from a seed, written straight into the
//! caller's buffer at memory speed.
//!
//! ```
//! use dgen::{Config, Generator};
//!
//! let cfg = Config { size: 1 << 20, dedup_ratio: 2.0, compress_ratio: 3.0, seed: Some(7), ..Config::default() };
//! let mut gen = Generator::new(cfg).unwrap();
//! let mut buf = vec![0u8; 64 << 10];
//! let n = gen.fill(&mut buf).unwrap();
//! assert_eq!(n, buf.len());
//!
//! // Any range can be produced directly, and read-back data verified.
//! let mut again = vec![0u8; 64 << 10];
//! gen.fill_at(0, &mut again).unwrap();
//! assert_eq!(buf, again);
//! assert!(gen.verify_at(0, &buf).is_ok());
//! ```
//!
//! ## The content model
//! Every byte is a pure function of `(seed, config, offset)`; thread count, call
//! sizes and call order never change it. The stream is made of 4 KiB granules,
//! each with its own random bytes, so no granule is all zero and none repeats by
//! accident. Granules form dedup units (`dedup_unit`, default 4 KiB); a dedup
//! map gives each unit a content id, and units with the same id are identical.
//! The ratio total/distinct units is exact to rounding over every aligned
//! window of 1024 units, and over the whole of a sized stream. Copies of a unit
//! are spread through its window and never closer than `512 / dedup_ratio`
//! units. Inside each granule a share of bytes is random and the rest are short
//! copies of earlier bytes of the granule, sized so that zstd, lz4 and gzip
//! all compress it by `compress_ratio`.
//!
//! ## Reading, seeking, one shot
//! A [`Generator`] is a [`std::io::Read`] and a [`std::io::Seek`], so
//! `std::io::copy(&mut generator, &mut file)` writes a sized stream; seeking or
//! any range past the end of a sized stream is an error. [`generate`] returns a
//! whole sized stream in a `Vec`.
//!
//! ## Seeds and threads
//! `seed: Some(s)` is the seed used; `None` draws a fresh one, which
//! [`Generator::seed`] reads back. Large fills run on `threads` workers, capped
//! at the CPUs the process may use; when the workers cannot be started, fills
//! run on the calling thread (the bytes never depend on threads) and the pool
//! is tried again after [`POOL_RETRY`].
//!
//! ## Vectors
//! [`vectors`] makes seeded float32 vectors for vector-database benchmarks:
//! uniform values that are a pure function of `(seed, element index)`, so any
//! range of vectors can be produced on its own, in every face alike.
//!
//! Layers: [`model`] and [`vectors`] are pure (no threads, no FFI); the engine
//! ([`Generator`]) adds the stream position and a thread pool; [`storage`]
//! writes and verifies files and block devices with it. The C ABI
//! (`include/dgen.h`, libdgen.so and libdgen.a) is the crate in `ffi/`.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

// Throughput tables of `dgen bench` and `cargo bench --bench throughput`:
// tooling of this repository, not part of the library's API.
#[doc(hidden)]
pub mod bench;
mod config;
mod error;
mod generator;
// The content model: public for the crate's own tests and benches (kernel
// parity, per-granule cost); not part of the library's API, and it changes
// without notice.
#[doc(hidden)]
pub mod model;
#[cfg(unix)]
pub mod object;
pub mod state;
#[cfg(unix)]
pub mod storage;
pub mod topology;
pub mod vectors;

pub use config::{
    Compressor, Config, COMPRESSOR_EXPECTED, DEFAULT_DEDUP_UNIT, MAX_COMPRESS_RATIO, MAX_DEDUP_RATIO, MAX_DEDUP_UNIT,
    MAX_THREADS,
};
pub use error::{Bounds, Error, ErrorKind, Field};
pub use generator::{default_threads, generate, streaming_threshold, Generator, PARALLEL_MIN, POOL_RETRY, STREAM_MIN};
pub use model::dedup::WINDOW_UNITS;
pub use model::GRANULE;
#[cfg(unix)]
pub use storage::{
    verify_file, write_file, Control as IoControl, IoOptions, Report as IoReport, StorageError, StorageErrorKind,
};
pub use topology::{NumaMode, Placement, Topology};

/// The library's version, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
