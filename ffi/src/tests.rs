//! The C ABI called directly from Rust, as C would call it: every NULL
//! argument, every bad config value and every impossible range gets its own
//! status and a message naming the field or argument and the value; good
//! calls give the same bytes as the Rust API.

use std::ffi::{c_void, CStr};
use std::ptr::{null, null_mut};

use crate::*;
use sha2::{Digest, Sha256};

const GOLDEN_16MIB: &str = "4a84921f9562c02d4836b178f56a0f0dd023496020d67947817f0430c141eb0a";

/// The float32 golden value, asserted by the Rust, C, Go and Python tests
/// alike: elements [1000001, 1000001 + 65536) of seed 42 over [-1, 1), as
/// little-endian bytes, hash to this SHA-256.
const GOLDEN_F32: &str = "880909259f0482a6fbe9795ea1e674f00cd85fe6d5f07b37033663d03a15f20f";

fn last_error() -> String {
    // SAFETY: dgen_last_error never returns NULL and its text is NUL-terminated.
    unsafe { CStr::from_ptr(dgen_last_error()) }.to_str().unwrap().to_owned()
}

fn status_str(code: u32) -> String {
    // SAFETY: dgen_status_str returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(dgen_status_str(dgen_status_arg(code))) }.to_str().unwrap().to_owned()
}

fn config() -> dgen_config {
    let mut cfg = std::mem::MaybeUninit::<dgen_config>::uninit();
    // SAFETY: dgen_config_init writes every field of the struct.
    unsafe {
        dgen_config_init(cfg.as_mut_ptr());
        cfg.assume_init()
    }
}

fn golden_config() -> dgen_config {
    dgen_config {
        size: 1 << 30,
        dedup_ratio: 2.5,
        compress_ratio: 3.0,
        dedup_unit: 8192,
        seed: 42,
        has_seed: true,
        ..config()
    }
}

/// An owned generator for the tests, freed on drop.
struct Gen(*mut dgen_generator);

impl Gen {
    fn new(cfg: &dgen_config) -> Gen {
        let mut g = null_mut();
        // SAFETY: both pointers are valid.
        let s = unsafe { dgen_create(cfg, &mut g) };
        assert_eq!(s, dgen_status::Ok, "{}", last_error());
        assert!(!g.is_null());
        Gen(g)
    }

    fn fill(&mut self, buf: &mut [u8]) -> (dgen_status, usize) {
        let mut n = usize::MAX;
        // SAFETY: the generator is live and `buf` is valid for its length.
        let s = unsafe { dgen_fill(self.0, buf.as_mut_ptr().cast(), buf.len(), &mut n) };
        (s, n)
    }

    fn fill_at(&self, offset: u64, buf: &mut [u8]) -> dgen_status {
        // SAFETY: the generator is live and `buf` is valid for its length.
        unsafe { dgen_fill_at(self.0, offset, buf.as_mut_ptr().cast(), buf.len()) }
    }

    fn verify_at(&self, offset: u64, buf: &[u8]) -> (dgen_status, u64) {
        let mut at = u64::MAX;
        // SAFETY: the generator is live and `buf` is valid for its length.
        let s = unsafe { dgen_verify_at(self.0, offset, buf.as_ptr().cast(), buf.len(), &mut at) };
        (s, at)
    }
}

// SAFETY: the handle is only shared for dgen_fill_at/dgen_verify_at, which the
// C ABI allows from many threads at once.
unsafe impl Send for Gen {}
// SAFETY: as above.
unsafe impl Sync for Gen {}

impl Drop for Gen {
    fn drop(&mut self) {
        // SAFETY: the handle came from dgen_create and is freed once.
        unsafe { dgen_free(self.0) };
    }
}

fn create_err(cfg: &dgen_config) -> (dgen_status, String) {
    let mut g = std::ptr::dangling_mut::<dgen_generator>();
    // SAFETY: both pointers are valid.
    let s = unsafe { dgen_create(cfg, &mut g) };
    assert!(g.is_null(), "a failed dgen_create must leave *out NULL");
    (s, last_error())
}

#[test]
fn config_init_gives_the_documented_defaults() {
    let cfg = config();
    assert_eq!(
        cfg,
        dgen_config {
            size: 0,
            dedup_ratio: 1.0,
            compress_ratio: 1.0,
            dedup_unit: 4096,
            seed: 0,
            has_seed: false,
            threads: 0,
            numa_mode: dgen_numa_mode::Auto as u32,
            numa_node: -1,
            compressor: dgen_compressor::Auto as u32,
        }
    );
    // SAFETY: NULL is documented as accepted.
    unsafe { dgen_config_init(null_mut()) };
    assert_eq!(last_error(), "dgen_config_init: cfg must not be NULL");
}

#[test]
fn each_null_pointer_is_refused_by_name() {
    let cfg = config();
    let mut g = null_mut();
    // SAFETY: every pointer is either NULL or valid.
    unsafe {
        assert_eq!(dgen_create(null(), &mut g), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_create: cfg must not be NULL");
        assert_eq!(dgen_create(&cfg, null_mut()), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_create: out must not be NULL");
    }

    let mut gen = Gen::new(&cfg);
    let mut buf = [0u8; 64];
    let mut n = 7usize;
    // SAFETY: every pointer is either NULL or valid for the given length.
    unsafe {
        assert_eq!(dgen_fill(null_mut(), buf.as_mut_ptr().cast(), 64, &mut n), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_fill: gen must not be NULL");
        assert_eq!(n, 0, "written is 0 on failure");
        assert_eq!(dgen_fill(gen.0, null_mut(), 64, &mut n), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_fill: buf must not be NULL");
        assert_eq!(dgen_fill(gen.0, buf.as_mut_ptr().cast(), 64, null_mut()), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_fill: written must not be NULL");
        // A NULL buffer of length 0 is an empty buffer.
        assert_eq!(dgen_fill(gen.0, null_mut(), 0, &mut n), dgen_status::Ok);
        assert_eq!(n, 0);

        assert_eq!(dgen_fill_at(null(), 0, buf.as_mut_ptr().cast(), 64), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_fill_at: gen must not be NULL");
        assert_eq!(dgen_fill_at(gen.0, 0, null_mut(), 64), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_fill_at: buf must not be NULL");
        assert_eq!(dgen_fill_at(gen.0, 0, null_mut(), 0), dgen_status::Ok);

        let mut at = 0u64;
        assert_eq!(dgen_verify_at(null(), 0, buf.as_ptr().cast(), 64, &mut at), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_verify_at: gen must not be NULL");
        assert_eq!(dgen_verify_at(gen.0, 0, null(), 64, &mut at), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_verify_at: buf must not be NULL");

        assert!(!dgen_is_complete(null()));
        assert_eq!(last_error(), "dgen_is_complete: gen must not be NULL");
        assert_eq!(dgen_seed(null()), 0);
        assert_eq!(last_error(), "dgen_seed: gen must not be NULL");
        assert_eq!(dgen_position(null()), 0);
        assert_eq!(last_error(), "dgen_position: gen must not be NULL");
        dgen_free(null_mut());
    }
    // The position did not move through any of the refused calls.
    // SAFETY: the generator is live.
    assert_eq!(unsafe { dgen_position(gen.0) }, 0);
    assert_eq!(gen.fill(&mut buf), (dgen_status::Ok, 64));
}

#[test]
fn each_bad_config_value_gets_its_status_and_message() {
    let base = config();
    // Per field: its status, what the message says it must be, and bad
    // values, each shown after "got" as Rust shows an f64 (33.0 is "33").
    let cases: [(dgen_field, dgen_status, &str, &[f64]); 5] = [
        (
            dgen_field::Compressor,
            dgen_status::InvalidCompressor,
            "must be a dgen_compressor: DGEN_COMPRESSOR_AUTO (0) to DGEN_COMPRESSOR_LZJB (6)",
            &[7.0],
        ),
        (
            dgen_field::DedupRatio,
            dgen_status::InvalidDedupRatio,
            "must be a number from 1.0 to 1024.0",
            &[0.5, f64::NAN, f64::INFINITY, 1024.5],
        ),
        (
            dgen_field::CompressRatio,
            dgen_status::InvalidCompressRatio,
            "must be a number from 1.0 to 32.0",
            &[0.5, f64::NAN, f64::NEG_INFINITY, 33.0],
        ),
        (
            dgen_field::DedupUnit,
            dgen_status::InvalidDedupUnit,
            "must be a multiple of 4096 from 4096 to 67108864 (64 MiB)",
            &[0.0, 1000.0, 4097.0, ((64 << 20) + 4096) as f64],
        ),
        (
            dgen_field::Threads,
            dgen_status::InvalidThreads,
            "must be from 0 (all CPUs) to 4096",
            &[4097.0, u32::MAX as f64],
        ),
    ];
    for (field, status, expected, values) in cases {
        let name = libdgen::Field::ALL[field as usize].name();
        for &v in values {
            let cfg = with_field(field, v);
            assert_eq!(create_err(&cfg), (status, format!("{name} {expected}, got {v}")), "{cfg:?}");
        }
    }
    // The edges themselves are accepted.
    for cfg in [
        dgen_config { dedup_ratio: 1024.0, compress_ratio: 32.0, dedup_unit: 64 << 20, threads: 4096, ..base },
        dgen_config { dedup_ratio: 1.0, compress_ratio: 1.0, dedup_unit: 4096, threads: 1, ..base },
    ] {
        drop(Gen::new(&cfg));
        assert_eq!(last_error(), "");
    }
}

#[test]
fn any_nonzero_has_seed_byte_means_true() {
    // C code may leave any byte in a bool (memset, unions); it must not be
    // undefined behaviour, and it reads as "true" as C would.
    let mut cfg = dgen_config { seed: 1234, ..config() };
    // SAFETY: writing one byte inside the struct, where the bool lives.
    unsafe { std::ptr::addr_of_mut!(cfg.has_seed).cast::<u8>().write(0xA5) };
    let mut g = null_mut();
    // SAFETY: both pointers are valid.
    assert_eq!(unsafe { dgen_create(&cfg, &mut g) }, dgen_status::Ok);
    let gen = Gen(g);
    // SAFETY: the generator is live.
    assert_eq!(unsafe { dgen_seed(gen.0) }, 1234);
}

#[test]
fn no_seed_draws_one_that_repeats_the_stream() {
    let cfg = dgen_config { size: 1 << 20, compress_ratio: 2.0, ..config() };
    let (a, b) = (Gen::new(&cfg), Gen::new(&cfg));
    // SAFETY: the generators are live.
    let (sa, sb) = unsafe { (dgen_seed(a.0), dgen_seed(b.0)) };
    assert_ne!(sa, sb, "two unseeded generators draw different seeds");
    let again = Gen::new(&dgen_config { seed: sa, has_seed: true, ..cfg });
    let (mut x, mut y) = (vec![0u8; 100_000], vec![0u8; 100_000]);
    assert_eq!(a.fill_at(12345, &mut x), dgen_status::Ok);
    assert_eq!(again.fill_at(12345, &mut y), dgen_status::Ok);
    assert_eq!(x, y);
}

#[test]
fn streaming_ends_with_a_short_fill_then_zero() {
    let size = 10 * 4096 + 123;
    let mut gen = Gen::new(&dgen_config { size, seed: 9, has_seed: true, ..config() });
    let mut stream = Vec::new();
    let mut buf = vec![0u8; 3 * 4096];
    loop {
        // SAFETY: the generator is live.
        assert!(!unsafe { dgen_is_complete(gen.0) });
        let (s, n) = gen.fill(&mut buf);
        assert_eq!(s, dgen_status::Ok);
        stream.extend_from_slice(&buf[..n]);
        if n < buf.len() {
            assert_eq!(n as u64, size % buf.len() as u64, "the last fill is short");
            break;
        }
    }
    // SAFETY: the generator is live.
    unsafe {
        assert!(dgen_is_complete(gen.0));
        assert_eq!(dgen_position(gen.0), size);
    }
    assert_eq!(gen.fill(&mut buf), (dgen_status::Ok, 0), "written is 0 after the end");
    let mut direct = vec![0u8; size as usize];
    assert_eq!(gen.fill_at(0, &mut direct), dgen_status::Ok);
    assert_eq!(stream, direct, "the stream equals fill_at over the same offsets");
}

#[test]
fn ranges_past_the_end_or_past_2_64_are_out_of_range() {
    let gen = Gen::new(&dgen_config { size: 8192, ..config() });
    let mut buf = [0u8; 100];
    assert_eq!(gen.fill_at(8092, &mut buf), dgen_status::Ok);
    assert_eq!(gen.fill_at(8093, &mut buf), dgen_status::OutOfRange);
    assert_eq!(last_error(), "range out of bounds: offset 8093 + length 100 passes the stream size 8192");
    assert_eq!(gen.verify_at(u64::MAX, &buf).0, dgen_status::OutOfRange);
    assert_eq!(
        last_error(),
        format!("range out of bounds: offset {} + length 100 passes the stream size 8192", u64::MAX)
    );

    let endless = Gen::new(&config());
    let off = u64::MAX - 100;
    assert_eq!(endless.fill_at(off, &mut buf), dgen_status::Ok);
    assert_eq!(endless.fill_at(off + 1, &mut buf), dgen_status::OutOfRange);
    assert_eq!(
        last_error(),
        format!("range out of bounds: offset {} + length 100 passes the 2^64-byte limit of an endless stream", off + 1)
    );
    let (s, _) = endless.verify_at(off + 1, &buf);
    assert_eq!(s, dgen_status::OutOfRange);

    // A length no buffer can have is refused before anything is touched.
    // SAFETY: the call returns before using the buffer, as the test asserts.
    let s = unsafe { dgen_fill_at(endless.0, 0, buf.as_mut_ptr().cast::<c_void>(), usize::MAX) };
    assert_eq!(s, dgen_status::OutOfRange);
    assert_eq!(last_error(), format!("dgen_fill_at: len {} is larger than any buffer can be", usize::MAX));
}

#[test]
fn a_huge_generator_fills_near_2_62() {
    let gen = Gen::new(&dgen_config { size: 1 << 63, dedup_ratio: 3.0, compress_ratio: 2.0, ..config() });
    let off = (1u64 << 62) - 5000;
    let mut whole = vec![0u8; 3 << 20];
    assert_eq!(gen.fill_at(off, &mut whole), dgen_status::Ok);
    let mut part = vec![0u8; 7001];
    assert_eq!(gen.fill_at(off + 4321, &mut part), dgen_status::Ok);
    assert_eq!(part[..], whole[4321..4321 + 7001]);
    assert_eq!(gen.verify_at(off, &whole).0, dgen_status::Ok);
    let mut tail = [0u8; 16];
    assert_eq!(gen.fill_at((1 << 63) - 16, &mut tail), dgen_status::Ok);
    assert_eq!(gen.fill_at((1 << 63) - 15, &mut tail), dgen_status::OutOfRange);
}

#[test]
fn verify_reports_the_exact_offset_of_the_first_wrong_byte() {
    let gen = Gen::new(&dgen_config { compress_ratio: 4.0, seed: 3, has_seed: true, ..config() });
    let base = 1_000_003u64;
    let mut buf = vec![0u8; 3 << 20];
    assert_eq!(gen.fill_at(base, &mut buf), dgen_status::Ok);
    assert_eq!(gen.verify_at(base, &buf), (dgen_status::Ok, u64::MAX), "untouched on success");
    for at in [0usize, 1, 4095, 4096, 1 << 20, (3 << 20) - 1] {
        let mut bad = buf.clone();
        bad[at] ^= 0x10;
        if at + 100 < bad.len() {
            bad[at + 100] ^= 1; // only the first wrong byte is reported
        }
        assert_eq!(gen.verify_at(base, &bad), (dgen_status::Mismatch, base + at as u64));
        assert_eq!(
            last_error(),
            format!(
                "data mismatch at offset {}: expected 0x{:02x}, found 0x{:02x}",
                base + at as u64,
                buf[at],
                bad[at]
            )
        );
        // The offset is optional.
        // SAFETY: the generator is live and `bad` is valid for its length.
        let s = unsafe { dgen_verify_at(gen.0, base, bad.as_ptr().cast(), bad.len(), null_mut()) };
        assert_eq!(s, dgen_status::Mismatch);
    }
}

#[test]
fn fill_at_from_many_threads_equals_a_serial_fill() {
    let cfg =
        dgen_config { size: 16 << 20, dedup_ratio: 2.0, compress_ratio: 2.5, seed: 77, has_seed: true, ..config() };
    let gen = Gen::new(&cfg);
    let mut serial = vec![0u8; 16 << 20];
    assert_eq!(gen.fill_at(0, &mut serial), dgen_status::Ok);
    let mut parallel = vec![0u8; 16 << 20];
    let chunk = 1 << 20;
    std::thread::scope(|s| {
        for (i, part) in parallel.chunks_mut(chunk).enumerate() {
            let gen = &gen;
            s.spawn(move || {
                // Uneven pieces, so that threads run into each other's calls.
                for (j, piece) in part.chunks_mut(4096 + 17).enumerate() {
                    let off = (i * chunk + j * (4096 + 17)) as u64;
                    assert_eq!(gen.fill_at(off, piece), dgen_status::Ok);
                }
            });
        }
    });
    assert!(serial == parallel);
}

#[test]
fn messages_are_per_thread_and_cleared_by_success() {
    let (s, _) = create_err(&dgen_config { dedup_ratio: 0.5, ..config() });
    assert_eq!(s, dgen_status::InvalidDedupRatio);
    let other = std::thread::spawn(last_error).join().unwrap();
    assert_eq!(other, "", "another thread does not see this thread's message");
    // Status names and the version do not disturb the message.
    assert!(status_str(2).starts_with("DGEN_STATUS_INVALID_DEDUP_RATIO"));
    // SAFETY: dgen_version returns a static NUL-terminated string.
    let _ = unsafe { CStr::from_ptr(dgen_version()) };
    assert_eq!(last_error(), "dedup_ratio must be a number from 1.0 to 1024.0, got 0.5");
    drop(Gen::new(&config()));
    assert_eq!(last_error(), "");
}

#[test]
fn every_status_has_a_name_and_unknown_ones_are_safe() {
    let names = [
        "DGEN_STATUS_OK",
        "DGEN_STATUS_NULL_POINTER",
        "DGEN_STATUS_INVALID_DEDUP_RATIO",
        "DGEN_STATUS_INVALID_COMPRESS_RATIO",
        "DGEN_STATUS_INVALID_DEDUP_UNIT",
        "DGEN_STATUS_INVALID_THREADS",
        "DGEN_STATUS_INVALID_CONFIG",
        "DGEN_STATUS_OUT_OF_RANGE",
        "DGEN_STATUS_MISMATCH",
        "DGEN_STATUS_THREAD_POOL",
        "DGEN_STATUS_PANIC",
        "DGEN_STATUS_INVALID_COMPRESSOR",
        "DGEN_STATUS_IO",
        "DGEN_STATUS_INTERRUPTED",
        "DGEN_STATUS_INVALID_STATE",
    ];
    for (code, name) in names.iter().enumerate() {
        let text = status_str(code as u32);
        assert!(text.starts_with(&format!("{name}: ")), "{code}: {text}");
    }
    assert_eq!(status_str(names.len() as u32), "unknown dgen_status");
    assert_eq!(status_str(u32::MAX), "unknown dgen_status");
}

#[test]
fn version_is_the_crate_version() {
    // SAFETY: dgen_version returns a static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(dgen_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn golden_sha256_through_dgen_fill() {
    let mut gen = Gen::new(&golden_config());
    let mut hash = Sha256::new();
    // Odd call sizes: the stream does not depend on them.
    let mut buf = vec![0u8; 1_000_000];
    let mut left = 16usize << 20;
    while left > 0 {
        let want = left.min(buf.len());
        let (s, n) = gen.fill(&mut buf[..want]);
        assert_eq!((s, n), (dgen_status::Ok, want));
        hash.update(&buf[..n]);
        left -= n;
    }
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, GOLDEN_16MIB);
}

#[test]
fn config_layout_is_the_one_c_sees() {
    // tests/c/header_c99.c asserts the same numbers from the C side.
    assert_layout!(dgen_config, 64, {
        size: 0,
        dedup_ratio: 8,
        compress_ratio: 16,
        dedup_unit: 24,
        seed: 32,
        has_seed: 40,
        threads: 44,
        numa_mode: 48,
        numa_node: 52,
        compressor: 56,
    });
    assert_eq!(std::mem::size_of::<dgen_status>(), 4);
    assert_eq!(std::mem::size_of::<dgen_status_arg>(), std::mem::size_of::<dgen_status>());
}

#[test]
fn numa_fields_default_and_bad_values_are_named() {
    let c = config();
    assert_eq!(c.numa_mode, dgen_numa_mode::Auto as u32);
    assert_eq!(c.numa_node, -1);
    for (cfg, field, value) in [
        (dgen_config { numa_mode: 7, ..config() }, "numa_mode", "7"),
        (dgen_config { numa_node: -2, ..config() }, "numa_node", "-2"),
        (dgen_config { numa_node: 4000, ..config() }, "numa_node", "4000"),
    ] {
        let mut g = null_mut();
        // SAFETY: both pointers are valid.
        let s = unsafe { dgen_create(&cfg, &mut g) };
        assert_eq!(s, dgen_status::InvalidConfig);
        assert!(g.is_null());
        let msg = last_error();
        assert!(msg.starts_with(field) && msg.ends_with(&format!("got {value}")), "{msg}");
    }
    // Every mode works and gives the same bytes.
    let mut want = vec![0u8; 2 << 20];
    let mut got = vec![0u8; 2 << 20];
    let base = Gen::new(&golden_config());
    // SAFETY: live generator, buffer valid for its length.
    assert_eq!(unsafe { dgen_fill_at(base.0, 0, want.as_mut_ptr().cast(), want.len()) }, dgen_status::Ok);
    for mode in [dgen_numa_mode::Off, dgen_numa_mode::Force] {
        let g = Gen::new(&dgen_config { numa_mode: mode as u32, numa_node: 0, threads: 2, ..golden_config() });
        // SAFETY: as above.
        assert_eq!(unsafe { dgen_fill_at(g.0, 0, got.as_mut_ptr().cast(), got.len()) }, dgen_status::Ok);
        assert!(got == want);
    }
}

#[test]
fn topology_reports_json_and_sizes_the_buffer() {
    let cfg = dgen_config { threads: 2, numa_mode: dgen_numa_mode::Force as u32, ..config() };
    let mut needed = 0usize;
    // SAFETY: NULL buf with len 0 is allowed; `needed` is writable.
    let s = unsafe { dgen_topology(&cfg, null_mut(), 0, &mut needed) };
    assert_eq!(s, dgen_status::OutOfRange);
    assert!(needed > 10);
    let mut buf = vec![0u8; needed];
    // SAFETY: `buf` is writable for `needed` bytes.
    let s = unsafe { dgen_topology(&cfg, buf.as_mut_ptr().cast(), buf.len(), &mut needed) };
    assert_eq!(s, dgen_status::Ok, "{}", last_error());
    let text = CStr::from_bytes_with_nul(&buf).unwrap().to_str().unwrap();
    assert!(text.starts_with("{\"source\":") && text.contains("\"placement\":{\"threads\":2,"), "{text}");
    assert_eq!(text.matches("\"pinned\":[").count(), 1);
    // SAFETY: NULL cfg / needed are checked.
    assert_eq!(
        unsafe { dgen_topology(null(), buf.as_mut_ptr().cast(), buf.len(), &mut needed) },
        dgen_status::NullPointer
    );
    assert_eq!(
        unsafe { dgen_topology(&cfg, buf.as_mut_ptr().cast(), buf.len(), null_mut()) },
        dgen_status::NullPointer
    );
    let bad = dgen_config { numa_node: 4000, ..config() };
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { dgen_topology(&bad, buf.as_mut_ptr().cast(), buf.len(), &mut needed) },
        dgen_status::InvalidConfig
    );
    assert!(last_error().starts_with("numa_node"));
}

#[test]
fn a_seed_without_has_seed_is_refused_never_replaced() {
    let (s, msg) = create_err(&dgen_config { seed: 42, ..config() });
    assert_eq!(s, dgen_status::InvalidConfig);
    assert_eq!(msg, "seed is 42 but has_seed is false: set has_seed to use it, or leave seed 0 to draw a fresh seed");
    // has_seed true uses the seed, 0 included; seed 0 without it draws one.
    for seed in [0u64, 42, u64::MAX] {
        let g = Gen::new(&dgen_config { seed, has_seed: true, ..config() });
        // SAFETY: the generator is live.
        assert_eq!(unsafe { dgen_seed(g.0) }, seed);
    }
    let (a, b) = (Gen::new(&config()), Gen::new(&config()));
    // SAFETY: the generators are live.
    assert_ne!(unsafe { dgen_seed(a.0) }, unsafe { dgen_seed(b.0) });
}

#[test]
fn the_first_bad_field_in_declaration_order_is_reported() {
    let base = config();
    let nan_dedup = dgen_config { dedup_ratio: f64::NAN, ..base };
    let cases = [
        (dgen_config { numa_mode: 9, ..nan_dedup }, dgen_status::InvalidDedupRatio, "dedup_ratio"),
        (dgen_config { compressor: 99, numa_node: -5, ..nan_dedup }, dgen_status::InvalidDedupRatio, "dedup_ratio"),
        (
            dgen_config { compress_ratio: 0.0, threads: 5000, ..base },
            dgen_status::InvalidCompressRatio,
            "compress_ratio",
        ),
        (dgen_config { dedup_unit: 1, seed: 3, ..base }, dgen_status::InvalidDedupUnit, "dedup_unit"),
        (dgen_config { seed: 3, threads: 5000, numa_mode: 9, ..base }, dgen_status::InvalidConfig, "seed"),
        (dgen_config { threads: 5000, numa_mode: 9, ..base }, dgen_status::InvalidThreads, "threads"),
        (dgen_config { numa_mode: 9, numa_node: -5, compressor: 99, ..base }, dgen_status::InvalidConfig, "numa_mode"),
        (dgen_config { numa_node: -5, compressor: 99, ..base }, dgen_status::InvalidConfig, "numa_node"),
        (dgen_config { numa_node: 4000, compressor: 99, ..base }, dgen_status::InvalidConfig, "numa_node"),
        (dgen_config { compressor: 99, ..base }, dgen_status::InvalidCompressor, "compressor"),
    ];
    for (cfg, status, field) in cases {
        let (s, msg) = create_err(&cfg);
        assert_eq!(s, status, "{cfg:?}: {msg}");
        assert!(msg.starts_with(&format!("{field} ")), "{cfg:?}: {msg}");
        // dgen_topology and dgen_generate check a config the same way.
        let mut needed = 0usize;
        // SAFETY: NULL buf with len 0 is allowed; `needed` is writable.
        assert_eq!(unsafe { dgen_topology(&cfg, null_mut(), 0, &mut needed) }, status);
        assert_eq!(last_error(), msg);
        // SAFETY: len 0 with a NULL buffer.
        assert_eq!(unsafe { dgen_generate(&cfg, null_mut(), 0) }, status);
        assert_eq!(last_error(), msg);
    }
}

#[test]
fn threads_above_the_cpus_are_capped_and_reported() {
    let allowed = libdgen::Topology::current().allowed.len() as u32;
    for (asked, used) in [(0, allowed), (1, 1), (allowed + 1, allowed), (4096, allowed)] {
        let g = Gen::new(&dgen_config { threads: asked, ..config() });
        // SAFETY: the generator is live.
        assert_eq!(unsafe { dgen_threads(g.0) }, used, "threads {asked}");
    }
    // SAFETY: NULL is checked.
    assert_eq!(unsafe { dgen_threads(null()) }, 0);
    assert_eq!(last_error(), "dgen_threads: gen must not be NULL");
}

#[test]
fn size_seek_and_rewind() {
    let size = 100_000u64;
    let mut gen = Gen::new(&dgen_config { size, seed: 5, has_seed: true, ..config() });
    let mut all = vec![0u8; size as usize];
    assert_eq!(gen.fill_at(0, &mut all), dgen_status::Ok);
    // SAFETY: the generator is live and no other call uses it.
    unsafe {
        assert_eq!(dgen_size(gen.0), size);
        assert_eq!(dgen_seek(gen.0, 70_000), dgen_status::Ok);
        assert_eq!(dgen_position(gen.0), 70_000);
    }
    let mut buf = vec![0u8; 1000];
    assert_eq!(gen.fill(&mut buf), (dgen_status::Ok, 1000));
    assert_eq!(buf[..], all[70_000..71_000]);
    // SAFETY: as above.
    unsafe {
        assert_eq!(dgen_seek(gen.0, size + 1), dgen_status::OutOfRange);
        assert_eq!(last_error(), "dgen_seek: position 100001 passes the end of the stream (size 100000)");
        assert_eq!(dgen_position(gen.0), 71_000, "a refused seek does not move the position");
        assert_eq!(dgen_seek(gen.0, size), dgen_status::Ok);
        assert!(dgen_is_complete(gen.0));
        assert_eq!(dgen_rewind(gen.0), dgen_status::Ok);
        assert_eq!(dgen_position(gen.0), 0);
        assert!(!dgen_is_complete(gen.0));
    }
    assert_eq!(gen.fill(&mut buf), (dgen_status::Ok, 1000));
    assert_eq!(buf[..], all[..1000]);

    let endless = Gen::new(&config());
    // SAFETY: live generator; NULLs are checked.
    unsafe {
        assert_eq!(dgen_size(endless.0), 0);
        assert_eq!(dgen_seek(endless.0, u64::MAX), dgen_status::Ok);
        assert_eq!(dgen_seek(null_mut(), 0), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_seek: gen must not be NULL");
        assert_eq!(dgen_rewind(null_mut()), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_rewind: gen must not be NULL");
        assert_eq!(dgen_size(null()), 0);
        assert_eq!(last_error(), "dgen_size: gen must not be NULL");
    }
}

#[test]
fn an_empty_range_past_the_end_is_out_of_range() {
    let gen = Gen::new(&dgen_config { size: 8192, ..config() });
    assert_eq!(gen.fill_at(8192, &mut []), dgen_status::Ok);
    assert_eq!(gen.verify_at(8192, &[]).0, dgen_status::Ok);
    assert_eq!(gen.fill_at(8193, &mut []), dgen_status::OutOfRange);
    assert_eq!(gen.verify_at(8193, &[]).0, dgen_status::OutOfRange);
    assert_eq!(last_error(), "range out of bounds: offset 8193 + length 0 passes the stream size 8192");
}

#[test]
fn generate_fills_a_buffer_from_offset_0() {
    let cfg = dgen_config { size: 5 << 20, dedup_ratio: 2.0, compress_ratio: 3.0, ..golden_config() };
    let gen = Gen::new(&cfg);
    let mut want = vec![0u8; 5 << 20];
    assert_eq!(gen.fill_at(0, &mut want), dgen_status::Ok);
    for len in [0usize, 1, 4097, 5 << 20] {
        let mut got = vec![0u8; len];
        // SAFETY: `got` is valid for `len` bytes.
        assert_eq!(unsafe { dgen_generate(&cfg, got.as_mut_ptr().cast(), len) }, dgen_status::Ok);
        assert!(got[..] == want[..len], "dgen_generate of {len} bytes");
    }
    let mut more = vec![0u8; (5 << 20) + 1];
    // SAFETY: as above.
    unsafe {
        assert_eq!(dgen_generate(&cfg, more.as_mut_ptr().cast(), more.len()), dgen_status::OutOfRange);
        assert_eq!(dgen_generate(null(), more.as_mut_ptr().cast(), 1), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_generate: cfg must not be NULL");
        assert_eq!(dgen_generate(&cfg, null_mut(), 1), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_generate: buf must not be NULL");
    }
    // An endless stream takes any length.
    let endless = dgen_config { size: 0, ..cfg };
    // SAFETY: as above.
    assert_eq!(unsafe { dgen_generate(&endless, more.as_mut_ptr().cast(), more.len()) }, dgen_status::Ok);
    let mut stream = vec![0u8; more.len()];
    assert_eq!(Gen::new(&endless).fill_at(0, &mut stream), dgen_status::Ok);
    assert!(more == stream);
}

#[test]
fn aligned_allocations_are_aligned_and_usable() {
    for (len, alignment, want) in [(1 << 20, 0usize, 4096usize), (4096, 512, 512), (3, 1, 16), (0, 8192, 8192)] {
        let mut p = std::ptr::dangling_mut::<c_void>();
        // SAFETY: `p` is writable.
        assert_eq!(unsafe { dgen_alloc_aligned(len, alignment, &mut p) }, dgen_status::Ok, "{}", last_error());
        assert!(!p.is_null());
        assert_eq!(p as usize % want, 0, "len {len} alignment {alignment}");
        if len > 0 {
            let gen = Gen::new(&config());
            // SAFETY: the block holds `len` writable bytes.
            let buf = unsafe { std::slice::from_raw_parts_mut(p.cast::<u8>(), len) };
            assert_eq!(gen.fill_at(0, buf), dgen_status::Ok);
            assert_eq!(gen.verify_at(0, buf).0, dgen_status::Ok);
        }
        // SAFETY: `p` came from dgen_alloc_aligned and is released once.
        unsafe { dgen_free_aligned(p) };
    }
    let mut p = std::ptr::dangling_mut::<c_void>();
    // SAFETY: `p` is writable; NULL `out` is checked.
    unsafe {
        assert_eq!(dgen_alloc_aligned(100, 3000, &mut p), dgen_status::OutOfRange);
        assert_eq!(last_error(), "dgen_alloc_aligned: alignment 3000 is not a power of two");
        assert!(p.is_null());
        assert_eq!(dgen_alloc_aligned(usize::MAX - 100, 4096, &mut p), dgen_status::OutOfRange);
        assert!(last_error().contains("larger than any buffer"), "{}", last_error());
        assert_eq!(dgen_alloc_aligned(isize::MAX as usize - 8192, 4096, &mut p), dgen_status::OutOfRange);
        assert!(p.is_null());
        // A small block with an impossible alignment: the alignment is named.
        for alignment in [1usize << (usize::BITS - 1), 1usize << (usize::BITS - 2)] {
            let status = dgen_alloc_aligned(4096, alignment, &mut p);
            if alignment == 1usize << (usize::BITS - 1) {
                assert_eq!(status, dgen_status::OutOfRange);
                assert_eq!(
                    last_error(),
                    format!(
                        "dgen_alloc_aligned: alignment {alignment} is larger than any buffer can be aligned to (at most {})",
                        1usize << (usize::BITS - 2)
                    )
                );
            } else {
                // An alignment that fits alone but not with the header and
                // the length: both are named.
                assert_eq!(status, dgen_status::OutOfRange);
                assert_eq!(
                    last_error(),
                    format!("dgen_alloc_aligned: len 4096 aligned to {alignment} is larger than any buffer can be")
                );
            }
            assert!(p.is_null());
        }
        assert_eq!(dgen_alloc_aligned(100, 0, null_mut()), dgen_status::NullPointer);
        dgen_free_aligned(null_mut());
    }
}

#[test]
fn compressor_names_are_the_librarys_in_every_face() {
    let parse = |name: &str| {
        let c = std::ffi::CString::new(name).unwrap();
        let mut out = 99u32;
        // SAFETY: a NUL-terminated string and a writable u32.
        let st = unsafe { dgen_compressor_from_name(c.as_ptr(), &mut out) };
        (st, out)
    };
    for (i, name) in ["auto", "zstd", "lz4", "gzip", "snappy", "lzo", "lzjb"].iter().enumerate() {
        assert_eq!(parse(name), (dgen_status::Ok, i as u32), "{name}");
        assert_eq!(parse(&name.to_uppercase()), (dgen_status::Ok, i as u32), "{name}");
    }
    assert_eq!(parse(" zlib "), (dgen_status::Ok, dgen_compressor::Gzip as u32));
    assert_eq!(parse("lzo1x-1"), (dgen_status::Ok, dgen_compressor::Lzo as u32));
    assert_eq!(parse("brotli"), (dgen_status::InvalidCompressor, 99), "a bad name leaves *out alone");
    assert_eq!(last_error(), "compressor must be one of auto, zstd, lz4, gzip, snappy, lzo, lzjb, got brotli");
    let mut out = 0u32;
    // SAFETY: NULL is documented as refused.
    assert_eq!(unsafe { dgen_compressor_from_name(std::ptr::null(), &mut out) }, dgen_status::NullPointer);
    let c = std::ffi::CString::new("lz4").unwrap();
    // SAFETY: as above.
    assert_eq!(unsafe { dgen_compressor_from_name(c.as_ptr(), std::ptr::null_mut()) }, dgen_status::NullPointer);
}

/// dgen_part_range and dgen_part_parse give the parts `storage::Part` gives
/// (the `dgen` command's `--part`, Python's `part=`, fio's `dgen_part`), and
/// refuse bad input by value, leaving the outputs alone.
#[cfg(unix)]
#[test]
fn parts_are_the_storage_parts_and_bad_ones_are_named() {
    use libdgen::storage::Part;

    let range = |offset: u64, length: u64, index: u64, count: u64| {
        let (mut o, mut l) = (7u64, 7u64);
        // SAFETY: both outputs are writable.
        let st = unsafe { dgen_part_range(offset, length, index, count, &mut o, &mut l) };
        (st, o, l)
    };
    for (offset, length, count) in [(0, 32 << 20, 2), (0, 10 * 4096, 4), (100, 2 * 4096, 2), (12345, 9_999_999, 13)] {
        let mut at = offset;
        for index in 0..count {
            let want = Part::new(index, count).unwrap().range(offset, length).unwrap();
            let (st, o, l) = range(offset, length, index, count);
            assert_eq!((st, o, l), (dgen_status::Ok, want.0, want.1), "{index}/{count} of ({offset}, {length})");
            assert_eq!(o, at, "the parts tile the range");
            at = o + l;
        }
        assert_eq!(at, offset + length);
    }
    assert_eq!(range(0, 32 << 20, 1, 2), (dgen_status::Ok, 16 << 20, 16 << 20));

    assert_eq!(range(0, 32 << 20, 2, 2), (dgen_status::InvalidConfig, 7, 7));
    assert_eq!(last_error(), "part 2/2: parts are counted from 0, so the index must be below 2");
    assert_eq!(range(0, 32 << 20, 0, 0), (dgen_status::InvalidConfig, 7, 7));
    assert_eq!(last_error(), "part 0/0: the number of parts must be at least 1");
    assert_eq!(range(0, 3 * 4096, 0, 4), (dgen_status::OutOfRange, 7, 7));
    assert!(
        last_error().contains("part 0/4 is empty") && last_error().contains("3 whole 4 KiB blocks"),
        "{}",
        last_error()
    );
    assert_eq!(range(u64::MAX, 2, 0, 1), (dgen_status::OutOfRange, 7, 7));
    assert!(last_error().contains("passes 2^64 - 1"), "{}", last_error());
    // A success clears the message.
    assert_eq!(range(0, 4096, 0, 1).0, dgen_status::Ok);
    assert_eq!(last_error(), "");

    let parse = |text: &str| {
        let c = std::ffi::CString::new(text).unwrap();
        let (mut i, mut n) = (7u64, 7u64);
        // SAFETY: a NUL-terminated string and two writable u64s.
        let st = unsafe { dgen_part_parse(c.as_ptr(), &mut i, &mut n) };
        (st, i, n)
    };
    assert_eq!(parse("3/8"), (dgen_status::Ok, 3, 8));
    assert_eq!(parse(" 0 / 1 "), (dgen_status::Ok, 0, 1));
    assert_eq!(parse("2/2"), (dgen_status::InvalidConfig, 7, 7));
    assert_eq!(last_error(), "part 2/2: parts are counted from 0, so the index must be below 2");
    assert_eq!(parse("0/0"), (dgen_status::InvalidConfig, 7, 7));
    assert_eq!(last_error(), "part 0/0: the number of parts must be at least 1");
    for text in ["x", "", "1/", "-1/4", "1/4/2", "18446744073709551616/2"] {
        assert_eq!(parse(text), (dgen_status::InvalidConfig, 7, 7), "{text:?}");
        assert_eq!(
            last_error(),
            format!("part {text:?} is not of the form I/N (part I of N, counted from 0, e.g. 0/4)")
        );
    }

    let (mut a, mut b) = (0u64, 0u64);
    let c = std::ffi::CString::new("0/2").unwrap();
    // SAFETY: NULL arguments are documented as refused.
    unsafe {
        assert_eq!(dgen_part_range(0, 4096, 0, 1, null_mut(), &mut b), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_part_range: part_offset must not be NULL");
        assert_eq!(dgen_part_range(0, 4096, 0, 1, &mut a, null_mut()), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_part_range: part_length must not be NULL");
        assert_eq!(dgen_part_parse(null(), &mut a, &mut b), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_part_parse: text must not be NULL");
        assert_eq!(dgen_part_parse(c.as_ptr(), null_mut(), &mut b), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_part_parse: index must not be NULL");
        assert_eq!(dgen_part_parse(c.as_ptr(), &mut a, null_mut()), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_part_parse: count must not be NULL");
    }
}

fn fill_f32(seed: u64, index: u64, low: f32, high: f32, out: &mut [f32]) -> dgen_status {
    // SAFETY: `out` is valid for writes of its length.
    unsafe { dgen_fill_f32_at(seed, index, low, high, out.as_mut_ptr(), out.len()) }
}

#[test]
fn golden_sha256_of_f32_values() {
    let mut v = vec![0f32; 65536];
    assert_eq!(fill_f32(42, 1_000_001, -1.0, 1.0, &mut v), dgen_status::Ok, "{}", last_error());
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    let hex: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, GOLDEN_F32);
    // The C ABI gives the Rust API's values, and a part of the range on its own
    // gives the same values as the whole.
    let mut rust = vec![0f32; 65536];
    libdgen::vectors::fill_f32_at(42, 1_000_001, -1.0, 1.0, &mut rust).unwrap();
    assert_eq!(v, rust);
    let mut part = vec![0f32; 100];
    assert_eq!(fill_f32(42, 1_000_001 + 777, -1.0, 1.0, &mut part), dgen_status::Ok);
    assert_eq!(part, v[777..877]);
}

#[test]
fn f32_errors_name_the_argument_and_leave_the_buffer() {
    let mut v = [7f32; 4];
    let cases: [(u64, f32, f32, dgen_status, &str); 5] = [
        (0, f32::NAN, 1.0, dgen_status::InvalidConfig, "low must be a finite number below high, got NaN"),
        (0, 0.0, f32::INFINITY, dgen_status::InvalidConfig, "high must be a finite number above low, got inf"),
        (0, 2.0, 1.0, dgen_status::InvalidConfig, "high must be greater than low, got 1 (low is 2)"),
        (0, 1.0, 1.0, dgen_status::InvalidConfig, "high must be greater than low, got 1 (low is 1)"),
        (
            u64::MAX - 1,
            0.0,
            1.0,
            dgen_status::OutOfRange,
            "index + count must be at most 2^64 (element indexes are 64-bit), got 18446744073709551614 + 4",
        ),
    ];
    for (index, low, high, status, msg) in cases {
        assert_eq!(fill_f32(1, index, low, high, &mut v), status);
        assert_eq!(last_error(), msg);
        assert_eq!(v, [7.0; 4]);
    }
    // SAFETY: NULL with a count is refused before any write; NULL with 0 is fine.
    unsafe {
        assert_eq!(dgen_fill_f32_at(1, 0, 0.0, 1.0, null_mut(), 3), dgen_status::NullPointer);
        assert_eq!(last_error(), "dgen_fill_f32_at: out must not be NULL");
        assert_eq!(dgen_fill_f32_at(1, 0, 0.0, 1.0, null_mut(), 0), dgen_status::Ok);
        assert_eq!(last_error(), "");
        assert_eq!(dgen_fill_f32_at(1, 0, 0.0, 1.0, v.as_mut_ptr(), usize::MAX / 2), dgen_status::OutOfRange);
        assert!(last_error().contains("more floats than any buffer can hold"), "{}", last_error());
        let misaligned = v.as_mut_ptr().cast::<u8>().add(1).cast::<f32>();
        assert_eq!(dgen_fill_f32_at(1, 0, 0.0, 1.0, misaligned, 1), dgen_status::OutOfRange);
        assert!(last_error().contains("is not aligned for float"), "{}", last_error());
    }
    assert_eq!(v, [7.0; 4]);
    assert_eq!(fill_f32(1, u64::MAX - 3, 0.0, 1.0, &mut v), dgen_status::Ok);
    assert!(v.iter().all(|x| (0.0..1.0).contains(x)));
}

/// `*cfg` with `field` set to `v` (a config field with numeric bounds).
fn with_field(field: dgen_field, v: f64) -> dgen_config {
    let mut cfg = config();
    match field {
        dgen_field::DedupRatio => cfg.dedup_ratio = v,
        dgen_field::CompressRatio => cfg.compress_ratio = v,
        dgen_field::DedupUnit => cfg.dedup_unit = v as u32,
        dgen_field::Threads => cfg.threads = v as u32,
        dgen_field::NumaMode => cfg.numa_mode = v as u32,
        dgen_field::Compressor => cfg.compressor = v as u32,
        other => panic!("{other:?} is not set by with_field"),
    }
    cfg
}

fn bounds(field: dgen_field) -> (dgen_status, f64, f64) {
    let (mut min, mut max) = (f64::NAN, f64::NAN);
    // SAFETY: both pointers are to live doubles.
    let status = unsafe { dgen_param_bounds(field as u32, &mut min, &mut max) };
    (status, min, max)
}

#[test]
fn bounds_and_config_check_agree_for_every_config_field() {
    // The config fields whose range is a number: the bounds are accepted, one
    // step past either is refused with the field's own status and a message
    // naming the field and the bounds the query gave.
    let fields = [
        (dgen_field::DedupRatio, dgen_status::InvalidDedupRatio, 0.5),
        (dgen_field::CompressRatio, dgen_status::InvalidCompressRatio, 0.5),
        (dgen_field::DedupUnit, dgen_status::InvalidDedupUnit, 4096.0),
        (dgen_field::Threads, dgen_status::InvalidThreads, 1.0),
        (dgen_field::NumaMode, dgen_status::InvalidConfig, 1.0),
        (dgen_field::Compressor, dgen_status::InvalidCompressor, 1.0),
    ];
    for (field, refused, step) in fields {
        let (status, min, max) = bounds(field);
        assert_eq!(status, dgen_status::Ok, "{field:?}: {}", last_error());
        let name = libdgen::Field::ALL[field as usize].name();
        for ok in [min, max] {
            // SAFETY: the config is a live local.
            assert_eq!(unsafe { dgen_config_check(&with_field(field, ok)) }, dgen_status::Ok, "{name} = {ok}");
        }
        let below = min - step;
        for bad in [below, max + step] {
            if bad < 0.0 {
                continue; // an unsigned field cannot hold it
            }
            // SAFETY: the config is a live local.
            let status = unsafe { dgen_config_check(&with_field(field, bad)) };
            assert_eq!(status, refused, "{name} = {bad}");
            let msg = last_error();
            assert!(msg.starts_with(name), "{name} = {bad}: {msg}");
            if field != dgen_field::NumaMode && field != dgen_field::Compressor {
                // The message's words name the same numbers as the query.
                let shown = |v: f64| {
                    if v.fract() == 0.0 && field != dgen_field::DedupRatio && field != dgen_field::CompressRatio {
                        format!("{v}")
                    } else {
                        format!("{v:.1}")
                    }
                };
                assert!(msg.contains(&shown(min)) && msg.contains(&shown(max)), "{name}: {msg} vs {min}..{max}");
            }
        }
    }
}

#[test]
fn bounds_refuse_what_has_none() {
    for field in [dgen_field::NumaNode, dgen_field::Direct, dgen_field::Part, dgen_field::Low] {
        let (status, min, _) = bounds(field);
        assert_eq!(status, dgen_status::InvalidConfig, "{field:?}");
        assert!(min.is_nan(), "{field:?} wrote min");
        assert!(last_error().contains("no numeric bounds"), "{}", last_error());
    }
    let (mut min, mut max) = (0.0, 0.0);
    // SAFETY: live doubles; 99 names no field.
    assert_eq!(unsafe { dgen_param_bounds(99, &mut min, &mut max) }, dgen_status::InvalidConfig);
    assert!(last_error().contains("got 99"), "{}", last_error());
    // SAFETY: NULL is checked before use.
    assert_eq!(unsafe { dgen_param_bounds(1, null_mut(), &mut max) }, dgen_status::NullPointer);
    // SAFETY: NULL is checked before use.
    assert_eq!(unsafe { dgen_config_check(null()) }, dgen_status::NullPointer);
}

#[test]
fn storage_option_bounds_match_io_options() {
    use libdgen::storage::IoOptions;
    for (field, set) in [
        (dgen_field::BlockSize, (|o: &mut IoOptions, v: f64| o.block_size = v as usize) as fn(&mut IoOptions, f64)),
        (dgen_field::Jobs, |o, v| o.jobs = v as usize),
        (dgen_field::Iodepth, |o, v| o.iodepth = v as usize),
    ] {
        let (status, min, max) = bounds(field);
        assert_eq!(status, dgen_status::Ok);
        let check = |v: f64| {
            let mut o = IoOptions::default();
            set(&mut o, v);
            o.validate()
        };
        assert!(check(min).is_ok() && check(max).is_ok(), "{field:?} {min}..{max}");
        let e = check(max + 4096.0).unwrap_err();
        assert_eq!(e.field, libdgen::Field::from_name(libdgen::Field::ALL[field as usize].name()));
        assert!(e.message.contains(&format!("{max}")), "{}", e.message);
        if min > 0.0 {
            assert!(check(min - 1.0).is_err(), "{field:?} below {min}");
        }
    }
}
