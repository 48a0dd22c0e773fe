//! `dgen_config`: its defaults, how it is read from C memory and checked,
//! and the fields' bounds.

use std::ffi::c_char;

use crate::*;
use libdgen::{Config, Error, Field, NumaMode, Topology, DEFAULT_DEDUP_UNIT};

/// What to generate. Fill it with `dgen_config_init` first, then change the
/// fields you need, so that code written today gets the right defaults for
/// fields a later version may add.
///
/// Every byte of the stream is a pure function of `seed`, `size`,
/// `dedup_ratio`, `compress_ratio`, `dedup_unit`, `compressor` and the byte's
/// offset; `threads` and the NUMA fields change only the speed.
///
/// `dgen_create` checks the fields in the order they are declared and
/// reports the first bad one.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct dgen_config {
    /// Logical size of the stream in bytes; 0 means endless (up to 2^64 - 1).
    pub size: u64,
    /// Total dedup units / distinct dedup units, from 1.0 to 1024.0.
    pub dedup_ratio: f64,
    /// Input bytes / compressed bytes for LZ-family compressors (zstd, lz4,
    /// gzip), from 1.0 to 32.0.
    pub compress_ratio: f64,
    /// Dedup unit in bytes: a multiple of 4096, at most 67108864 (64 MiB).
    pub dedup_unit: u32,
    /// Seed of the stream. A seed that is set is used, and one that could be
    /// mistaken for "no seed" is refused: with `has_seed` true this seed is
    /// used (0 included); with `has_seed` false it must be 0, and a fresh
    /// random seed is drawn per generator (`dgen_seed` reads it back so the
    /// run can be repeated). A non-zero seed with `has_seed` false is
    /// `DGEN_STATUS_INVALID_CONFIG`, never silently replaced.
    pub seed: u64,
    /// Whether `seed` is used; see `seed`.
    pub has_seed: bool,
    /// Worker threads for large fills; 0 means every CPU this process may run
    /// on (or every such CPU of `numa_node`). Accepted up to 4096 and capped at
    /// those CPUs, since more workers would only take turns on them;
    /// `dgen_threads` reports the number in use. To leave CPUs for I/O
    /// threads, ask for fewer, e.g. half of what `dgen_topology` reports.
    pub threads: u32,
    /// How workers are placed, a `dgen_numa_mode`: `DGEN_NUMA_MODE_AUTO` (pin
    /// across nodes only on multi-node hosts), `DGEN_NUMA_MODE_OFF` or
    /// `DGEN_NUMA_MODE_FORCE`.
    pub numa_mode: u32,
    /// Keep the workers on this NUMA node's CPUs; -1 for no node. Buffer pages
    /// the workers touch first are then placed on that node by the kernel.
    pub numa_node: i32,
    /// The compressor `compress_ratio` is calibrated for, a `dgen_compressor`:
    /// `DGEN_COMPRESSOR_AUTO` (the default) hits the target with the geometric
    /// mean of zstd-1 and lz4 and lets the other formats spread as real data
    /// spreads them; a named one hits it tightly.
    pub compressor: u32,
}

/// Values of `dgen_config.compressor`: the compressor the compression ratio is
/// calibrated for.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dgen_compressor {
    /// The geometric mean of zstd-1 and lz4 hits the target; entropy-coded
    /// formats (zstd, deflate, brotli, LZMA) land above it and byte-aligned
    /// ones (lz4, snappy, LZO, LZJB) below, as on real data.
    Auto = 0,
    /// zstd.
    Zstd = 1,
    /// lz4.
    Lz4 = 2,
    /// deflate: zlib and gzip.
    Gzip = 3,
    /// snappy.
    Snappy = 4,
    /// LZO1X-1.
    Lzo = 5,
    /// LZJB.
    Lzjb = 6,
}

/// Values of `dgen_config.numa_mode`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dgen_numa_mode {
    /// Pin workers across NUMA nodes only on hosts with more than one node.
    Auto = 0,
    /// Never pin; the operating system places the workers.
    Off = 1,
    /// Pin workers to CPUs even on a single-node host.
    Force = 2,
}

/// Sets `*cfg` to the defaults: size 0 (endless), dedup_ratio 1.0,
/// compress_ratio 1.0, dedup_unit 4096, seed 0 with has_seed false (a fresh
/// seed per generator), threads 0 (every CPU), numa_mode
/// `DGEN_NUMA_MODE_AUTO`, numa_node -1, compressor `DGEN_COMPRESSOR_AUTO`.
/// Does nothing when `cfg` is NULL.
///
/// # Safety
/// `cfg` is NULL or points to writable memory for one `dgen_config`.
#[no_mangle]
pub unsafe extern "C" fn dgen_config_init(cfg: *mut dgen_config) {
    // SAFETY: the caller guarantees what `write_defaults` needs.
    unsafe {
        write_defaults("dgen_config_init", "cfg", cfg, || {
            let d = Config::default();
            dgen_config {
                size: d.size,
                dedup_ratio: d.dedup_ratio,
                compress_ratio: d.compress_ratio,
                dedup_unit: DEFAULT_DEDUP_UNIT,
                seed: 0,
                has_seed: false,
                threads: 0,
                numa_mode: dgen_numa_mode::Auto as u32,
                numa_node: -1,
                compressor: dgen_compressor::Auto as u32,
            }
        })
    }
}

/// The body of an `_init` function, whose argument `arg` is `out`: writes
/// `defaults()` to `*out`, or, when `out` is NULL, only sets the message.
///
/// # Safety
/// `out` is NULL or points to writable memory for one `T`.
pub(crate) unsafe fn write_defaults<T>(name: &str, arg: &str, out: *mut T, defaults: impl FnOnce() -> T) {
    guard(name, Message::Reset, (), || {
        if out.is_null() {
            null(name, arg);
            return;
        }
        let value = defaults();
        // SAFETY: the caller guarantees `out` is writable; `write` neither
        // reads nor drops the old contents, which may be uninitialized.
        unsafe { out.write(value) };
    })
}

/// A `dgen_config` as C wrote it, read without trusting its `bool` byte: C
/// code may leave any value there (a `memset`, a union), and Rust may only
/// hold 0 or 1 in a `bool`.
pub(crate) struct RawConfig {
    size: u64,
    dedup_ratio: f64,
    compress_ratio: f64,
    dedup_unit: u32,
    seed: u64,
    has_seed: bool,
    threads: u32,
    numa_mode: u32,
    numa_node: i32,
    compressor: u32,
}

impl RawConfig {
    /// # Safety
    /// `cfg` points to readable memory for one `dgen_config`.
    unsafe fn read(cfg: *const dgen_config) -> RawConfig {
        // SAFETY: the caller guarantees `cfg` is valid for reads. Each field is
        // read through a raw place, so no reference to the struct (and so to
        // the possibly invalid bool) is made; the bool is read as the byte it is.
        unsafe {
            RawConfig {
                size: std::ptr::addr_of!((*cfg).size).read(),
                dedup_ratio: std::ptr::addr_of!((*cfg).dedup_ratio).read(),
                compress_ratio: std::ptr::addr_of!((*cfg).compress_ratio).read(),
                dedup_unit: std::ptr::addr_of!((*cfg).dedup_unit).read(),
                seed: std::ptr::addr_of!((*cfg).seed).read(),
                has_seed: std::ptr::addr_of!((*cfg).has_seed).cast::<u8>().read() != 0,
                threads: std::ptr::addr_of!((*cfg).threads).read(),
                numa_mode: std::ptr::addr_of!((*cfg).numa_mode).read(),
                numa_node: std::ptr::addr_of!((*cfg).numa_node).read(),
                compressor: std::ptr::addr_of!((*cfg).compressor).read(),
            }
        }
    }

    /// The Rust config, checking the fields in the order the struct declares
    /// them, so that the first bad field is the one reported: size,
    /// dedup_ratio, compress_ratio, dedup_unit, seed/has_seed, threads,
    /// numa_mode, numa_node (including whether the node exists), compressor.
    fn to_config(&self) -> Result<Config, Error> {
        let invalid = |field, value: String, expected| Error::InvalidConfig { field, value, expected };
        // Config::validate checks size, the ratios and dedup_unit, then
        // threads; threads is left at its (valid) default here so that the
        // seed, which comes before it, is checked first.
        let mut config = Config {
            size: self.size,
            dedup_ratio: self.dedup_ratio,
            compress_ratio: self.compress_ratio,
            dedup_unit: self.dedup_unit,
            ..Config::default()
        };
        config.validate()?;
        config.seed = match (self.has_seed, self.seed) {
            (true, seed) => Some(seed),
            (false, 0) => None,
            // A seed written without has_seed would otherwise be dropped for
            // a random one without a word.
            (false, seed) => {
                return Err(invalid(
                    Field::Seed,
                    seed.to_string(),
                    "is set but has_seed is false: set has_seed to use it, or leave seed 0 to draw a fresh seed",
                ))
            }
        };
        config.threads = self.threads as usize;
        config.validate()?;
        config.numa_mode = match self.numa_mode {
            0 => NumaMode::Auto,
            1 => NumaMode::Off,
            2 => NumaMode::Force,
            other => {
                return Err(invalid(
                    Field::NumaMode,
                    other.to_string(),
                    "must be DGEN_NUMA_MODE_AUTO (0), DGEN_NUMA_MODE_OFF (1) or DGEN_NUMA_MODE_FORCE (2)",
                ))
            }
        };
        config.numa_node = match self.numa_node {
            -1 => None,
            n if n >= 0 => Some(n as u32),
            other => {
                return Err(invalid(Field::NumaNode, other.to_string(), "must be -1 (none) or a NUMA node number"))
            }
        };
        // Whether the node exists on this machine is part of numa_node's check.
        Topology::current().plan(config.threads, config.numa_mode, config.numa_node)?;
        config.compressor = match libdgen::Compressor::ALL.get(self.compressor as usize) {
            Some(&c) => c,
            None => {
                return Err(invalid(
                    Field::Compressor,
                    self.compressor.to_string(),
                    "must be a dgen_compressor: DGEN_COMPRESSOR_AUTO (0) to DGEN_COMPRESSOR_LZJB (6)",
                ))
            }
        };
        Ok(config)
    }
}

/// Reads and checks `*cfg`; on failure sets the message and returns the
/// status naming the first bad field.
///
/// # Safety
/// `cfg` points to readable memory for one `dgen_config`.
pub(crate) unsafe fn read_config(cfg: *const dgen_config) -> Result<Config, dgen_status> {
    // SAFETY: guaranteed by the caller.
    let raw = unsafe { RawConfig::read(cfg) };
    raw.to_config().map_err(|e| match e {
        Error::InvalidConfig { field: Field::Seed, value, .. } => refuse(
            dgen_status::InvalidConfig,
            format!(
                "seed is {value} but has_seed is false: set has_seed to use it, or leave seed 0 to draw a fresh seed"
            ),
        ),
        e => fail(e),
    })
}

/// Sets `*out` to the `dgen_compressor` value named by `name` ("auto",
/// "zstd", "lz4", "gzip", "snappy", "lzo", "lzjb"; also "zlib" and "deflate"
/// for gzip, "lzo1x" and "lzo1x-1" for lzo; any letter case), the names the
/// `dgen` command, Go and Python take, so that a program reading a name from
/// its user accepts the same ones. An unknown name (or one that is not UTF-8)
/// returns `DGEN_STATUS_INVALID_COMPRESSOR` and leaves `*out` alone; the
/// message lists the names.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn dgen_compressor_from_name(name: *const c_char, out: *mut u32) -> dgen_status {
    guard_status("dgen_compressor_from_name", |func| {
        non_null!(func; name, out)?;
        // SAFETY: `name` is not NULL and the caller guarantees it is a
        // NUL-terminated string that stays valid during the call.
        let text = unsafe { std::ffi::CStr::from_ptr(name) }.to_string_lossy();
        let c = text.parse::<libdgen::Compressor>().map_err(fail)?;
        let value = libdgen::Compressor::ALL.iter().position(|&x| x == c).unwrap_or(0) as u32;
        // SAFETY: `out` is not NULL and the caller guarantees it is writable.
        unsafe { out.write(value) };
        Ok(())
    })
}

/// Values of `dgen_field`: the settings a call can refuse, named as every
/// face names them (the C and Rust field, the Python keyword, the fio option
/// after `dgen_`). `dgen_param_bounds` gives the values a numeric one
/// accepts.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum dgen_field {
    /// `dgen_config.size`.
    Size = 0,
    /// `dgen_config.dedup_ratio`.
    DedupRatio = 1,
    /// `dgen_config.compress_ratio`.
    CompressRatio = 2,
    /// `dgen_config.dedup_unit`.
    DedupUnit = 3,
    /// `dgen_config.seed`.
    Seed = 4,
    /// `dgen_config.threads`.
    Threads = 5,
    /// `dgen_config.numa_mode`.
    NumaMode = 6,
    /// `dgen_config.numa_node`.
    NumaNode = 7,
    /// `dgen_config.compressor`.
    Compressor = 8,
    /// `dgen_io_options.offset`.
    Offset = 9,
    /// `dgen_io_options.length`.
    Length = 10,
    /// `dgen_io_options.jobs`.
    Jobs = 11,
    /// `dgen_io_options.block_size`.
    BlockSize = 12,
    /// `dgen_io_options.iodepth`.
    Iodepth = 13,
    /// `dgen_io_options.engine`.
    Engine = 14,
    /// `dgen_io_options.direct`.
    Direct = 15,
    /// A part `I/N` of a range (`dgen_part_range`).
    Part = 16,
    /// `low` of `dgen_fill_f32_at`.
    Low = 17,
    /// `high` of `dgen_fill_f32_at`.
    High = 18,
    /// `index` of `dgen_fill_f32_at`.
    Index = 19,
    /// Values per vector.
    Dim = 20,
}

// dgen_field is Field::ALL in order; this stops compiling when one grows.
const _: () = assert!(Field::ALL.len() == dgen_field::Dim as usize + 1);

/// Checks `*cfg` as `dgen_create` does, field by field in declaration order,
/// without making a generator: `DGEN_STATUS_OK`, or the status and message
/// `dgen_create` would give for the first bad field.
///
/// # Safety
/// `cfg` is NULL or points to a readable `dgen_config`.
#[no_mangle]
pub unsafe extern "C" fn dgen_config_check(cfg: *const dgen_config) -> dgen_status {
    guard_status("dgen_config_check", |func| {
        non_null!(func; cfg)?;
        // SAFETY: `cfg` is non-null and the caller guarantees it is readable.
        unsafe { read_config(cfg) }.map(drop)
    })
}

/// Sets `*min` and `*max` to the smallest and largest values the numeric
/// `field` accepts, in any config (for `compress_ratio` a named compressor
/// may cap it lower: `dgen_config_check` says so). A value from `*min` to
/// `*max` is accepted when it is also a multiple of 4096 for `dedup_unit`
/// and `block_size`. For the 64-bit fields (`size`, `seed`, `offset`,
/// `length`, `index`) `*max` is 2^64 - 1 as a double, which rounds it to
/// 2^64. A field that is not a number, or whose range depends on the
/// machine (`numa_node`), or a value that names no `dgen_field`, is
/// `DGEN_STATUS_INVALID_CONFIG`, with `*min` and `*max` left alone.
///
/// # Safety
/// `min` and `max` are NULL or point to writable doubles.
#[no_mangle]
pub unsafe extern "C" fn dgen_param_bounds(field: u32, min: *mut f64, max: *mut f64) -> dgen_status {
    guard_status("dgen_param_bounds", |func| {
        non_null!(func; min, max)?;
        let Some(&f) = Field::ALL.get(field as usize) else {
            let message = format!("{func}: field must be a dgen_field (0 to {}), got {field}", Field::ALL.len() - 1);
            return Err(refuse(dgen_status::InvalidConfig, message));
        };
        let Some(b) = f.bounds() else {
            let message = format!("{func}: {f} has no numeric bounds ({})", f.expected());
            return Err(refuse(dgen_status::InvalidConfig, message));
        };
        // SAFETY: both are non-null and the caller guarantees they are writable.
        unsafe {
            min.write(b.min);
            max.write(b.max);
        }
        Ok(())
    })
}
