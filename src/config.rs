//! What a caller asks for, and the checks that turn a bad request into an
//! error naming the field and the value.

use crate::error::{Bounds, Error, Field};
use crate::model::GRANULE;
pub use crate::topology::NumaMode;

/// The compressor a stream's `compress_ratio` is calibrated for.
///
/// LZ-family formats differ in how far back they look, how long a match may
/// be, what a literal costs and how fast they skip over incompressible bytes,
/// so one layout cannot give every one of them the same ratio to the last
/// percent; and the entropy-coded formats (zstd, deflate, brotli, LZMA) also
/// gain from the skewed byte values of compressible data, which byte-aligned
/// ones (lz4, snappy, LZO, LZJB) cannot. `Auto` lays a granule out so that
/// every one of them finds its copies and the geometric mean of zstd-1 and lz4
/// hits the target, zstd-1 landing 1.3 to 1.6 times as high as lz4, as on real
/// data; a named compressor gets a layout tuned so that it hits the target
/// tightly (the others land where their formats put them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Compressor {
    /// The geometric mean of zstd-1 and lz4 hits the target; every LZ-family
    /// compressor storage systems run finds the copies.
    #[default]
    Auto,
    /// zstd (levels 1-3, as file systems and object stores run it).
    Zstd,
    /// lz4 (frame or block format).
    Lz4,
    /// deflate: zlib and gzip (level 6 and the fast levels).
    Gzip,
    /// snappy (Ceph BlueStore, RocksDB, Kafka).
    Snappy,
    /// LZO1X-1 (Btrfs).
    Lzo,
    /// LZJB (ZFS; vdbench's `compratio=`).
    Lzjb,
}

impl Compressor {
    /// Every value, in the order of the C enum `dgen_compressor`.
    pub const ALL: [Compressor; 7] = [
        Compressor::Auto,
        Compressor::Zstd,
        Compressor::Lz4,
        Compressor::Gzip,
        Compressor::Snappy,
        Compressor::Lzo,
        Compressor::Lzjb,
    ];

    /// The lower-case name every face uses (`"snappy"`).
    pub fn name(self) -> &'static str {
        match self {
            Compressor::Auto => "auto",
            Compressor::Zstd => "zstd",
            Compressor::Lz4 => "lz4",
            Compressor::Gzip => "gzip",
            Compressor::Snappy => "snappy",
            Compressor::Lzo => "lzo",
            Compressor::Lzjb => "lzjb",
        }
    }

    /// The compressor with this name; also accepts `zlib` and `deflate` for
    /// `gzip`, and any letter case.
    pub fn from_name(name: &str) -> Option<Compressor> {
        let lower = name.trim().to_ascii_lowercase();
        match lower.as_str() {
            "zlib" | "deflate" => Some(Compressor::Gzip),
            "lzo1x" | "lzo1x-1" => Some(Compressor::Lzo),
            _ => Compressor::ALL.into_iter().find(|c| c.name() == lower),
        }
    }
}

impl std::fmt::Display for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Compressor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Compressor, Error> {
        Compressor::from_name(s).ok_or_else(|| Error::invalid(Field::Compressor, s))
    }
}

/// What `compressor` accepts, in words.
pub const COMPRESSOR_EXPECTED: &str = "must be one of auto, zstd, lz4, gzip, snappy, lzo, lzjb";

/// Largest accepted `dedup_ratio`: one distinct unit per dedup window.
pub const MAX_DEDUP_RATIO: f64 = crate::model::dedup::WINDOW_UNITS as f64;
/// Largest accepted `compress_ratio`. Every granule keeps at least
/// [`MIN_RANDOM_BYTES`](crate::model::compress::MIN_RANDOM_BYTES) random bytes, and
/// compressors disagree with each other above this.
pub const MAX_COMPRESS_RATIO: f64 = 32.0;
/// Default and smallest dedup unit, in bytes (one granule).
pub const DEFAULT_DEDUP_UNIT: u32 = GRANULE as u32;
/// Largest accepted dedup unit, in bytes (64 MiB).
pub const MAX_DEDUP_UNIT: u32 = 64 << 20;
/// Largest accepted thread count.
pub const MAX_THREADS: usize = 4096;

/// What to generate. Every byte is a pure function of
/// `(seed, size, dedup_ratio, compress_ratio, dedup_unit, offset)`; `threads`
/// changes only the speed.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Logical size of the stream in bytes; 0 means endless (up to 2^64 - 1).
    pub size: u64,
    /// Total dedup units / distinct dedup units, `1.0..=1024.0`.
    pub dedup_ratio: f64,
    /// Input bytes / compressed bytes for LZ-family compressors, `1.0..=32.0`.
    pub compress_ratio: f64,
    /// Dedup unit in bytes: a multiple of 4096, at most 64 MiB.
    pub dedup_unit: u32,
    /// Seed of the stream; `None` draws a fresh one per generator, readable back
    /// with [`Generator::seed`](crate::Generator::seed) so a run can be repeated.
    pub seed: Option<u64>,
    /// Worker threads for large fills; 0 means every CPU this process may run
    /// on (or every such CPU of `numa_node`), and more than those is capped
    /// to them. To leave CPUs for I/O threads, set it lower, e.g. half of
    /// [`default_threads`](crate::default_threads).
    pub threads: usize,
    /// Whether workers are pinned by NUMA node: `Auto` only on multi-node hosts.
    pub numa_mode: NumaMode,
    /// Keep the workers on this NUMA node's CPUs (pinned unless `numa_mode` is
    /// `Off`). Pages of the caller's buffer that the workers touch first are
    /// then placed on that node by the kernel's first-touch policy.
    pub numa_node: Option<u32>,
    /// The compressor `compress_ratio` is calibrated for; `Auto` suits them all.
    pub compressor: Compressor,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            size: 0,
            dedup_ratio: 1.0,
            compress_ratio: 1.0,
            dedup_unit: DEFAULT_DEDUP_UNIT,
            seed: None,
            threads: 0,
            numa_mode: NumaMode::Auto,
            numa_node: None,
            compressor: Compressor::Auto,
        }
    }
}

fn check_ratio(field: Field, v: f64) -> Result<(), Error> {
    let Some(Bounds { min, max, .. }) = field.bounds() else { return Ok(()) };
    if v.is_nan() {
        return Err(Error::invalid(field, "NaN"));
    }
    if !(min..=max).contains(&v) {
        // Plain digits for ordinary values, exponent form for huge or tiny ones.
        let shown = if v.is_finite() && v != 0.0 && !(1e-4..1e16).contains(&v.abs()) {
            format!("{v:e}")
        } else {
            v.to_string()
        };
        return Err(Error::invalid(field, shown));
    }
    Ok(())
}

/// "must be at most 18.1 for compressor snappy, ...": the highest ratio each
/// compressor's layout is calibrated for, in words, built once.
fn ceiling_text(c: Compressor) -> &'static str {
    static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        Compressor::ALL
            .iter()
            .map(|&c| {
                let ceiling = crate::model::compress::Costs::of(c).ceiling();
                format!("must be at most {ceiling} for compressor {c}, the highest ratio calibrated for its format")
            })
            .collect()
    });
    &texts[Compressor::ALL.iter().position(|&x| x == c).unwrap_or(0)]
}

impl Config {
    /// A config for `size` bytes with every other field at its default.
    pub fn with_size(size: u64) -> Self {
        Config { size, ..Config::default() }
    }

    /// Checks every field; the error names the first bad field and its value.
    pub fn validate(&self) -> Result<(), Error> {
        check_ratio(Field::DedupRatio, self.dedup_ratio)?;
        check_ratio(Field::CompressRatio, self.compress_ratio)?;
        let unit = self.dedup_unit;
        if unit == 0 || !unit.is_multiple_of(DEFAULT_DEDUP_UNIT) || unit > MAX_DEDUP_UNIT {
            return Err(Error::invalid(Field::DedupUnit, unit));
        }
        if self.threads > MAX_THREADS {
            return Err(Error::invalid(Field::Threads, self.threads));
        }
        if crate::model::compress::Layout::for_ratio(self.compress_ratio, self.compressor).is_err() {
            let expected = ceiling_text(self.compressor);
            return Err(Error::InvalidConfig {
                field: Field::CompressRatio,
                value: self.compress_ratio.to_string(),
                expected,
            });
        }
        Ok(())
    }

    /// The values `field` accepts in this config: [`Field::bounds`], with
    /// `compress_ratio` capped at the highest ratio calibrated for
    /// `compressor`.
    pub fn bounds(&self, field: Field) -> Option<Bounds> {
        let b = field.bounds()?;
        match field {
            Field::CompressRatio => {
                let ceiling = crate::model::compress::Costs::of(self.compressor).ceiling();
                Some(Bounds { max: b.max.min(ceiling), ..b })
            }
            _ => Some(b),
        }
    }
}
