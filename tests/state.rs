//! Write versions and the write state: overwrites write new data with the
//! dataset's ratios, and verification classifies lost, misplaced, zeroed
//! and corrupt units.
#![cfg(unix)]

use dgen::state::{Class, StateErrorKind, WriteState};
use dgen::{Config, Generator};
use dgen_measure::Codec;
use rand_xoshiro::rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::HashSet;

const UNIT: usize = 4096;

fn gen(size: u64, dedup: f64, compress: f64, seed: u64) -> Generator {
    Generator::new(Config {
        size,
        dedup_ratio: dedup,
        compress_ratio: compress,
        seed: Some(seed),
        threads: 1,
        ..Config::default()
    })
    .unwrap()
}

/// A target in memory, written through a state in blocks.
struct Target {
    data: Vec<u8>,
}

impl Target {
    fn new(size: u64) -> Target {
        Target { data: vec![0u8; size as usize] }
    }

    /// Writes `[off, off + len)` through the state; returns the bytes written.
    fn write(&mut self, st: &WriteState, g: &Generator, off: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        let claim = st.claim_and_fill(g, off, &mut buf).unwrap();
        self.data[off as usize..off as usize + len].copy_from_slice(&buf);
        st.complete(claim);
        buf
    }

    fn precondition(&mut self, st: &WriteState, g: &Generator, block: usize) {
        let size = self.data.len();
        let mut off = 0;
        while off < size {
            let len = block.min(size - off);
            self.write(st, g, off as u64, len);
            off += len;
        }
    }

    fn verify(&self, st: &WriteState, g: &Generator) -> dgen::state::StateCheck {
        let mut check = dgen::state::StateCheck::default();
        st.check(g, 0, &self.data, &mut check).unwrap();
        st.resolve(g, &mut check);
        check
    }
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A state for `g` at `path` and a target that has had one pass written
/// through it in blocks of `block` bytes: where most tests start.
fn preconditioned(path: impl AsRef<std::path::Path>, g: &Generator, block: usize) -> (WriteState, Target) {
    let st = WriteState::open_or_create(path, g).unwrap();
    let mut t = Target::new(g.size());
    t.precondition(&st, g, block);
    (st, t)
}

fn random_block(rng: &mut Xoshiro256PlusPlus, units: u64, block_units: u64) -> u64 {
    (rng.next_u64() % (units / block_units)) * block_units
}

#[test]
fn a_first_pass_through_a_state_writes_the_stream_itself() {
    let dir = scratch();
    let g = gen(8 << 20, 2.0, 3.0, 42);
    let (st, t) = preconditioned(dir.path().join("s"), &g, 128 << 10);
    let mut want = vec![0u8; g.size() as usize];
    g.fill_at(0, &mut want).unwrap();
    assert!(t.data == want, "version 0 is the stream's content");
    let s = st.summary();
    assert_eq!((s.written, s.first_pass, s.overwritten, s.in_flight), (2048, 2048, 0, 0));
    assert!(t.verify(&st, &g).passed());
}

/// Dedup ratio over 4 KiB units of `data`.
fn dedup_of(data: &[u8]) -> f64 {
    let distinct: HashSet<&[u8]> = data.chunks(UNIT).collect();
    (data.len() / UNIT) as f64 / distinct.len() as f64
}

/// lz4 ratio of `data` compressed in pieces of `lens` bytes, each on its
/// own (as a target compresses each write).
fn lz4_of(data: &[u8], lens: &[usize]) -> f64 {
    let (mut at, mut packed) = (0, 0);
    for &n in lens {
        packed += Codec::Lz4.compressed_len(&data[at..at + n]).unwrap();
        at += n;
    }
    at as f64 / packed as f64
}

#[test]
fn overwrites_write_new_data_with_the_dataset_ratios() {
    // fio's randwrite over a written file: 2 jobs' worth of random 4 KiB to
    // 64 KiB writes, twice the file's size.
    for (dedup, compress) in [(2.0, 3.0), (3.0, 2.0), (1.0, 4.0), (5.0, 1.0)] {
        let dir = scratch();
        let g = gen(32 << 20, dedup, compress, 9);
        let (st, mut t) = preconditioned(dir.path().join("s"), &g, 1 << 20);
        let first_pass = t.data.clone();
        let units = st.units();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut written = Vec::new();
        let mut lens = Vec::new();
        let mut changed = true;
        while (written.len() as u64) < 2 * g.size() {
            let block_units = 1u64 << (rng.next_u64() % 5);
            let u = random_block(&mut rng, units, block_units);
            let off = u * UNIT as u64;
            let len = (block_units as usize) * UNIT;
            let before = t.data[off as usize..off as usize + len].to_vec();
            let buf = t.write(&st, &g, off, len);
            changed &= before.chunks(UNIT).zip(buf.chunks(UNIT)).all(|(a, b)| a != b);
            written.extend_from_slice(&buf);
            lens.push(len);
        }
        assert!(changed, "dedup {dedup} compress {compress}: an overwrite rewrote a unit's own bytes");
        let d = dedup_of(&written);
        let c = lz4_of(&written, &lens);
        // The first pass, cut into pieces of the same lengths.
        let first: Vec<u8> = first_pass.iter().copied().cycle().take(written.len()).collect();
        let first_compress = lz4_of(&first, &lens);
        println!("dedup {dedup} compress {compress}: written stream dedup {d:.3}, lz4 {c:.3} (first pass {first_compress:.3})");
        assert!((d / dedup - 1.0).abs() <= 0.05, "dedup {dedup}: written stream {d:.3}");
        assert!(
            (c / first_compress - 1.0).abs() <= 0.03,
            "compress {compress}: written {c:.3}, first pass {first_compress:.3}"
        );
        let check = t.verify(&st, &g);
        assert!(check.passed(), "{check:?}");
        assert_eq!(check.ok, units);
        let s = st.summary();
        assert!(s.overwritten > units * 8 / 10 && s.max_version >= 3, "{s:?}");
    }
}

#[test]
fn lost_writes_are_reported_stale_and_nothing_else() {
    for seed in [1u64, 2, 3] {
        let dir = scratch();
        let g = gen(16 << 20, 2.5, 3.0, seed);
        let (st, mut t) = preconditioned(dir.path().join("s"), &g, 256 << 10);
        let units = st.units();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed * 77);
        // The latest write of each unit, and whether it was dropped.
        let mut lost = vec![false; units as usize];
        for i in 0..2 * units {
            let u = rng.next_u64() % units;
            let off = u * UNIT as u64;
            let mut buf = vec![0u8; UNIT];
            let claim = st.claim_and_fill(&g, off, &mut buf).unwrap();
            let drop = i % 500 == 499;
            if !drop {
                t.data[off as usize..off as usize + UNIT].copy_from_slice(&buf);
            }
            lost[u as usize] = drop;
            st.complete(claim);
        }
        let want: Vec<u64> = (0..units).filter(|&u| lost[u as usize]).map(|u| u * UNIT as u64).collect();
        let check = t.verify(&st, &g);
        assert!(!want.is_empty());
        assert_eq!(check.count(Class::Stale), want.len() as u64, "seed {seed}: {check:?}");
        assert_eq!(check.wrong(), want.len() as u64, "seed {seed}: only stale units");
        let firsts: Vec<u64> = check.first(Class::Stale).map(|f| f.offset).collect();
        assert_eq!(firsts, want[..want.len().min(dgen::state::FINDINGS_KEPT)].to_vec());
        for f in check.first(Class::Stale) {
            let v = f.found_version.expect("the stale version is known");
            assert!(v < f.expected_version, "{f:?}");
        }
    }
}

#[test]
fn misplaced_zero_and_corrupt_units_are_told_apart() {
    let dir = scratch();
    let g = gen(4 << 20, 2.0, 2.0, 4);
    let (st, mut t) = preconditioned(dir.path().join("s"), &g, 64 << 10);
    // Overwrite units 10..20 once, so both versions 0 and 1 exist.
    for u in 10..20u64 {
        t.write(&st, &g, u * UNIT as u64, UNIT);
    }
    let at = |u: usize| u * UNIT..(u + 1) * UNIT;
    // Unit 100 gets unit 12's current data (version 1), unit 200 unit 700's
    // first write, unit 300 is zeroed, unit 400 holds junk, and unit 15
    // holds its own version 0 (a lost overwrite).
    let v1 = t.data[at(12)].to_vec();
    t.data[at(100)].copy_from_slice(&v1);
    let v0 = t.data[at(700)].to_vec();
    t.data[at(200)].copy_from_slice(&v0);
    t.data[at(300)].fill(0);
    t.data[at(400)].iter_mut().enumerate().for_each(|(i, b)| *b = (i * 7) as u8);
    let mut first = vec![0u8; UNIT];
    g.fill_at(15 * UNIT as u64, &mut first).unwrap();
    t.data[at(15)].copy_from_slice(&first);
    let check = t.verify(&st, &g);
    // With dedup 2 another unit may hold unit 700's content: the lowest is
    // named.
    let twin = (0..1024u64).find(|&u| u != 200 && t.data[at(u as usize)] == v0[..]).unwrap();
    let found: Vec<(Class, u64, Option<u64>, Option<u64>)> =
        check.findings.iter().map(|f| (f.class, f.unit, f.found_version, f.from_unit)).collect();
    assert_eq!(
        found,
        vec![
            (Class::Stale, 15, Some(0), None),
            (Class::Misplaced, 100, None, Some(12)),
            (Class::Misplaced, 200, None, Some(twin)),
            (Class::Zero, 300, None, None),
            (Class::Corrupt, 400, None, None),
        ]
    );
    assert_eq!(check.wrong(), 5);
}

#[test]
fn writes_in_flight_when_the_writer_died_accept_old_or_new_and_nothing_else() {
    let dir = scratch();
    let path = dir.path().join("s");
    let g = gen(2 << 20, 2.0, 2.0, 8);
    let mut t = Target::new(g.size());
    {
        let st = WriteState::open_or_create(&path, &g).unwrap();
        t.precondition(&st, &g, 64 << 10);
        // Three writes claimed and never completed (the writer is killed):
        // one landed, one did not, one landed half.
        let mut buf = vec![0u8; UNIT];
        for (u, landed) in [(3u64, true), (4, false)] {
            let claim = st.claim_and_fill(&g, u * UNIT as u64, &mut buf).unwrap();
            if landed {
                t.data[u as usize * UNIT..(u as usize + 1) * UNIT].copy_from_slice(&buf);
            }
            std::mem::forget(claim);
        }
        let claim = st.claim_and_fill(&g, 5 * UNIT as u64, &mut buf).unwrap();
        t.data[5 * UNIT..5 * UNIT + UNIT / 2].copy_from_slice(&buf[..UNIT / 2]);
        std::mem::forget(claim);
        assert_eq!(st.summary().in_flight, 3);
    }
    // A verifier of the dead writer's state, then a writer that settles it.
    let st = WriteState::open(&path, &g).unwrap();
    let check = t.verify(&st, &g);
    assert_eq!((check.wrong(), check.count(Class::Corrupt)), (1, 1), "only the torn write: {check:?}");
    assert_eq!(check.findings[0].unit, 5);
    drop(st);
    let st = WriteState::open_or_create(&path, &g).unwrap();
    let s = st.summary();
    assert_eq!((s.in_flight, s.ambiguous), (0, 3));
    // Rewriting the torn unit makes every unit exact again.
    t.write(&st, &g, 5 * UNIT as u64, UNIT);
    let check = t.verify(&st, &g);
    assert!(check.passed(), "{check:?}");
    assert_eq!(st.summary().ambiguous, 2);
}

#[test]
fn concurrent_writers_on_one_state_stay_exact() {
    // Two handles (as two processes would have) write random, overlapping
    // units at once; the target applies whole writes in some order.
    let dir = scratch();
    let path = dir.path().join("s");
    let g = gen(1 << 20, 2.0, 2.0, 12);
    let target = std::sync::Mutex::new(Target::new(g.size()));
    {
        let st = WriteState::open_or_create(&path, &g).unwrap();
        target.lock().unwrap().precondition(&st, &g, 64 << 10);
    }
    std::thread::scope(|s| {
        for w in 0..2u64 {
            let (g, target, path) = (&g, &target, &path);
            s.spawn(move || {
                let st = WriteState::open_or_create(path, g).unwrap();
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(w);
                let units = st.units();
                for _ in 0..4000 {
                    let u = rng.next_u64() % units;
                    let mut buf = vec![0u8; UNIT];
                    let claim = st.claim_and_fill(g, u * UNIT as u64, &mut buf).unwrap();
                    std::thread::yield_now();
                    target.lock().unwrap().data[u as usize * UNIT..(u as usize + 1) * UNIT].copy_from_slice(&buf);
                    st.complete(claim);
                }
            });
        }
    });
    let st = WriteState::open(&path, &g).unwrap();
    let check = target.lock().unwrap().verify(&st, &g);
    assert!(check.passed(), "{check:?}");
    assert_eq!(check.ok, st.units());
}

#[test]
fn a_state_of_another_dataset_or_a_damaged_one_is_refused_and_left_alone() {
    let dir = scratch();
    let path = dir.path().join("s");
    let g = gen(1 << 20, 2.0, 3.0, 42);
    WriteState::open_or_create(&path, &g).unwrap();
    let before = std::fs::read(&path).unwrap();
    let cases: [(Config, &str); 6] = [
        (Config { seed: Some(7), ..g.config().clone() }, "its seed is 42, this run's is 7"),
        (Config { size: 2 << 20, ..g.config().clone() }, "its size is 1048576, this run's is 2097152"),
        (Config { dedup_ratio: 3.0, ..g.config().clone() }, "its dedup_ratio is 2, this run's is 3"),
        (Config { compress_ratio: 2.0, ..g.config().clone() }, "its compress_ratio is 3, this run's is 2"),
        (Config { dedup_unit: 8192, ..g.config().clone() }, "its dedup_unit is 4096, this run's is 8192"),
        (
            Config { compressor: dgen::Compressor::Zstd, ..g.config().clone() },
            "its compressor is auto, this run's is zstd",
        ),
    ];
    for (cfg, says) in cases {
        let other = Generator::new(cfg).unwrap();
        for e in [WriteState::open_or_create(&path, &other).unwrap_err(), WriteState::open(&path, &other).unwrap_err()]
        {
            assert_eq!(e.kind, StateErrorKind::Mismatch);
            assert!(e.message.contains(says), "{}", e.message);
        }
    }
    assert!(std::fs::read(&path).unwrap() == before, "a refused state is untouched");

    let cut = dir.path().join("cut");
    std::fs::write(&cut, &before[..before.len() - 8]).unwrap();
    let e = WriteState::open_or_create(&cut, &g).unwrap_err();
    assert_eq!(e.kind, StateErrorKind::Format);
    assert!(e.message.contains("cut short"), "{}", e.message);
    assert_eq!(std::fs::read(&cut).unwrap().len(), before.len() - 8);

    let newer = dir.path().join("newer");
    let mut bytes = before.clone();
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    std::fs::write(&newer, &bytes).unwrap();
    let e = WriteState::open(&newer, &g).unwrap_err();
    assert!(e.message.contains("format 2 is newer than the format 1"), "{}", e.message);
    assert!(std::fs::read(&newer).unwrap() == bytes);

    let junk = dir.path().join("junk");
    std::fs::write(&junk, b"hello").unwrap();
    let e = WriteState::open_or_create(&junk, &g).unwrap_err();
    assert!(e.message.contains("not a dgen state file"), "{}", e.message);

    let endless = gen(0, 1.0, 1.0, 1);
    let e = WriteState::open_or_create(dir.path().join("e"), &endless).unwrap_err();
    assert_eq!(e.kind, StateErrorKind::Invalid);
    assert!(!dir.path().join("e").exists());

    let st = WriteState::open_or_create(&path, &g).unwrap();
    for (off, len) in [(100u64, 4096u64), (0, 100), (0, 0), ((1 << 20) - 4096, 8192)] {
        let e = st.claim(off, len).unwrap_err();
        assert_eq!(e.kind, StateErrorKind::Invalid, "{off} {len}: {}", e.message);
    }
    let ro = WriteState::open(&path, &g).unwrap();
    assert_eq!(ro.claim(0, 4096).unwrap_err().kind, StateErrorKind::Invalid);
    assert_eq!(ro.complete_range(0, 4096).unwrap_err().kind, StateErrorKind::Invalid);
}

#[test]
fn inspect_reads_the_header_and_summary_without_a_generator() {
    let dir = scratch();
    let path = dir.path().join("s");
    let g = gen(3 << 20, 1.5, 2.5, 99);
    let (st, mut t) = preconditioned(&path, &g, 1 << 20);
    t.write(&st, &g, 0, 8192);
    let (h, s) = WriteState::inspect(&path).unwrap();
    assert_eq!((h.units, h.size, h.seed, h.unit_bytes), (768, 3 << 20, 99, 4096));
    assert_eq!((s.written, s.overwritten, s.max_version, s.writes_completed), (768, 2, 1, 770));
}

#[test]
fn the_last_to_close_a_run_state_removes_it() {
    let dir = scratch();
    let path = dir.path().join("s");
    let g = gen(1 << 20, 1.0, 1.0, 3);
    let a = WriteState::open_or_create(&path, &g).unwrap();
    let b = WriteState::open_or_create(&path, &g).unwrap();
    // Two opens of one process hold two locks, as two processes would.
    assert!(!a.close_and_remove_if_last());
    assert!(path.exists());
    assert!(b.close_and_remove_if_last());
    assert!(!path.exists());
}

/// Version 1 of every unit of the golden config's first 16 MiB (as its own
/// sized dataset): shared with the C, Go and Python tests (tests/c/golden.h).
const GOLDEN_V1_16MIB: &str = "61b0950af30ff2d40541b8df17aaa04d8d3ccac1589d3005b0bd75a8a0a788a4";

#[test]
fn version_1_of_the_golden_dataset_has_the_golden_hash() {
    use sha2::{Digest, Sha256};
    let dir = scratch();
    let g = Generator::new(Config {
        size: 16 << 20,
        dedup_ratio: 2.5,
        compress_ratio: 3.0,
        dedup_unit: 8192,
        seed: Some(42),
        ..Config::default()
    })
    .unwrap();
    let (st, mut t) = preconditioned(dir.path().join("s"), &g, 1 << 20);
    t.precondition(&st, &g, 1 << 20);
    let hex: String = Sha256::digest(&t.data).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, GOLDEN_V1_16MIB);
}

#[test]
fn a_check_of_one_run_takes_unwritten_units_to_hold_their_first_write() {
    let dir = scratch();
    let g = gen(4 << 20, 2.0, 2.0, 5);
    let st = WriteState::open_or_create(dir.path().join("s"), &g).unwrap();
    // The target was written before the state existed: the dataset itself.
    let mut t = Target::new(g.size());
    g.fill_at(0, &mut t.data).unwrap();
    // This run overwrites units 10..20 and writes unit 30 once more (its
    // first write through the state: version 0, the bytes already there).
    for u in 10..20u64 {
        t.write(&st, &g, u * UNIT as u64, UNIT);
        t.write(&st, &g, u * UNIT as u64, UNIT);
    }
    t.write(&st, &g, 30 * UNIT as u64, UNIT);
    let check_with = |t: &Target, mut check: dgen::state::StateCheck| {
        st.check(&g, 0, &t.data, &mut check).unwrap();
        st.resolve(&g, &mut check);
        check
    };
    let plain = check_with(&t, dgen::state::StateCheck::default());
    assert_eq!((plain.ok, plain.unwritten, plain.wrong()), (11, 1024 - 11, 0));
    let run = check_with(&t, dgen::state::StateCheck::unwritten_first());
    assert_eq!((run.ok, run.unwritten, run.wrong()), (1024, 0, 0));
    // A unit the run never wrote that lost its bytes, and an overwrite lost.
    let at = |u: usize| u * UNIT..(u + 1) * UNIT;
    t.data[at(500)].fill(0);
    let v0 = t.data[at(600)].to_vec();
    t.data[at(501)].copy_from_slice(&v0);
    let mut first = vec![0u8; UNIT];
    g.fill_at(12 * UNIT as u64, &mut first).unwrap();
    t.data[at(12)].copy_from_slice(&first);
    let run = check_with(&t, dgen::state::StateCheck::unwritten_first());
    let found: Vec<(Class, u64)> = run.findings.iter().map(|f| (f.class, f.unit)).collect();
    assert_eq!(found, vec![(Class::Stale, 12), (Class::Misplaced, 501), (Class::Zero, 500)]);
    // Skipped, without it: the damage to units the run never wrote passes.
    let plain = check_with(&t, dgen::state::StateCheck::default());
    assert_eq!(plain.wrong(), 1);
}
