//! Same seed + config = same bytes, whatever the thread count, call sizes,
//! call order or kernel; streaming equals random access.

use dgen::model::{Kernel, Model};
use dgen::{Config, Generator};

fn cfg(threads: usize) -> Config {
    Config {
        size: 96 << 20,
        dedup_ratio: 2.5,
        compress_ratio: 3.0,
        dedup_unit: 8192,
        seed: Some(0xDEC0DE),
        threads,
        ..Config::default()
    }
}

fn reference() -> Vec<u8> {
    let g = Generator::new(cfg(1)).unwrap();
    let mut buf = vec![0u8; g.size() as usize];
    // One serial pass, granule by granule, as the base truth.
    for (i, chunk) in buf.chunks_mut(4096).enumerate() {
        g.fill_at(i as u64 * 4096, chunk).unwrap();
    }
    buf
}

#[test]
fn any_thread_count_and_call_mix_gives_the_same_stream() {
    let want = reference();
    // Call sizes from 1 byte to 64 MiB, mostly unaligned.
    let sizes = [1usize, 7, 4095, 4096, 4097, 12_345, 65_536, 1 << 20, 3 << 20 | 5, 64 << 20];
    for threads in [1usize, 2, 3, 8] {
        let mut g = Generator::new(cfg(threads)).unwrap();
        let mut got = vec![0u8; want.len()];
        let mut pos = 0usize;
        let mut k = threads;
        while pos < got.len() {
            let n = sizes[k % sizes.len()].min(got.len() - pos);
            let written = g.fill(&mut got[pos..pos + n]).unwrap();
            assert_eq!(written, n);
            pos += n;
            k += 3;
        }
        assert!(g.is_complete());
        assert_eq!(g.fill(&mut [0u8; 16]).unwrap(), 0, "a finished stream gives 0 bytes");
        assert!(got == want, "stream with {threads} threads differs from the reference");
    }
}

#[test]
fn fill_at_any_offset_equals_the_stream() {
    let want = reference();
    let g = Generator::new(cfg(2)).unwrap();
    let mut state = 12345u64;
    for _ in 0..300 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let off = (state >> 20) as usize % want.len();
        let len = ((state >> 8) as usize % (3 << 20)).min(want.len() - off);
        let mut buf = vec![0u8; len];
        g.fill_at(off as u64, &mut buf).unwrap();
        assert!(buf == want[off..off + len], "fill_at({off}, {len}) differs");
    }
}

#[test]
fn fill_at_is_consistent_across_threads_sharing_one_generator() {
    let want = reference();
    let g = Generator::new(cfg(2)).unwrap();
    std::thread::scope(|s| {
        for t in 0..4usize {
            let g = &g;
            let want = &want;
            s.spawn(move || {
                for i in (t..want.len() / 65536).step_by(4) {
                    let mut buf = vec![0u8; 65536];
                    g.fill_at((i * 65536) as u64, &mut buf).unwrap();
                    assert!(buf == want[i * 65536..(i + 1) * 65536]);
                }
            });
        }
    });
}

/// Every kernel writes the same bytes, at compress ratios that take each path
/// of the granule writer: no copies (1), copies shorter than the longest gap
/// (1.001), the usual layouts, and a prefix shorter than one copy (32).
#[test]
fn every_kernel_produces_the_same_bytes() {
    let kernels = Kernel::available();
    assert_eq!(kernels[0], Kernel::Portable);
    assert_eq!(kernels.last(), Some(&Kernel::detect()), "detect picks the fastest kernel available");
    for ratio in [1.0, 1.001, 1.5, 2.0, 3.0, 4.0, 8.0, 17.3, 31.9, 32.0] {
        let c = Config { compress_ratio: ratio, ..cfg(1) };
        let base = Model::new(&c, 99);
        let mut outputs = Vec::new();
        for k in &kernels {
            let m = base.clone().with_kernel(*k);
            let mut buf = vec![0u8; 1 << 20];
            m.fill((1 << 30) + 5, &mut buf);
            outputs.push(buf);
        }
        for (k, out) in kernels.iter().zip(&outputs) {
            assert!(out == &outputs[0], "compress {ratio}: {k:?} differs from the portable kernel");
        }
    }
}

/// Lane j of a granule is rand_xoshiro's Xoshiro256PlusPlus from the lane's
/// state; its k-th output is word k * LANES + j.
#[test]
fn lanes_are_xoshiro256plusplus() {
    use dgen::model::lanes::LANES;
    use rand_xoshiro::rand_core::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;
    let c = Config { compress_ratio: 1.0, ..cfg(1) };
    let m = Model::new(&c, 1234);
    for (cid, g) in [(0u64, 0u64), (5, 1), (1 << 40, 3)] {
        let mut out = [0u8; 4096];
        m.granule(cid, g, &mut out);
        let state = m.lane_state(cid, g);
        #[allow(clippy::needless_range_loop)] // lane j of every state word
        for j in 0..LANES {
            let mut seed = [0u8; 32];
            for w in 0..4 {
                seed[w * 8..w * 8 + 8].copy_from_slice(&state[w][j].to_le_bytes());
            }
            let mut rng = Xoshiro256PlusPlus::from_seed(seed);
            for k in 0..4096 / 8 / LANES {
                let at = (k * LANES + j) * 8;
                let word = u64::from_le_bytes(out[at..at + 8].try_into().unwrap());
                assert_eq!(word, rng.next_u64(), "cid {cid} granule {g} lane {j} step {k}");
            }
        }
    }
}

#[test]
fn seeds_change_the_data_and_unseeded_generators_differ() {
    let mut a = vec![0u8; 1 << 20];
    let mut b = vec![0u8; 1 << 20];
    Generator::new(Config { seed: Some(1), ..cfg(1) }).unwrap().fill_at(0, &mut a).unwrap();
    Generator::new(Config { seed: Some(2), ..cfg(1) }).unwrap().fill_at(0, &mut b).unwrap();
    assert!(a != b);
    let same = a.chunks(4096).zip(b.chunks(4096)).filter(|(x, y)| x == y).count();
    assert_eq!(same, 0, "no granule is shared between seeds");

    let g1 = Generator::new(Config { seed: None, ..cfg(1) }).unwrap();
    let g2 = Generator::new(Config { seed: None, ..cfg(1) }).unwrap();
    assert_ne!(g1.seed(), g2.seed());
    g1.fill_at(0, &mut a).unwrap();
    g2.fill_at(0, &mut b).unwrap();
    assert!(a != b);
    // The drawn seed repeats the run.
    let g3 = Generator::new(Config { seed: Some(g1.seed()), ..cfg(1) }).unwrap();
    g3.fill_at(0, &mut b).unwrap();
    assert!(a == b);
}

#[test]
fn huge_stream_is_cheap_to_create_and_fills_near_its_end() {
    let c = Config { size: 1 << 63, dedup_ratio: 3.7, compress_ratio: 2.0, seed: Some(3), ..Config::default() };
    let g = Generator::new(c).unwrap();
    let mut buf = vec![0u8; 8 << 20];
    g.fill_at(1 << 62, &mut buf).unwrap();
    g.verify_at(1 << 62, &buf).unwrap();
    let end = (1u64 << 63) - buf.len() as u64 - 123;
    g.fill_at(end, &mut buf).unwrap();
    assert!(buf.chunks(4096).all(|b| b.iter().any(|&x| x != 0)));
    // Endless streams reach the last addressable byte.
    let endless = Generator::new(Config { size: 0, seed: Some(3), ..Config::default() }).unwrap();
    endless.fill_at(u64::MAX - 4096, &mut buf[..4096]).unwrap();
}

#[test]
fn rewind_and_set_position_replay_the_stream() {
    let mut g = Generator::new(cfg(1)).unwrap();
    let mut a = vec![0u8; 100_000];
    let mut b = vec![0u8; 100_000];
    g.fill(&mut a).unwrap();
    g.rewind();
    g.fill(&mut b).unwrap();
    assert!(a == b);
    g.set_position(50_000).unwrap();
    g.fill(&mut b[..10]).unwrap();
    assert_eq!(&b[..10], &a[50_000..50_010]);
    assert_eq!(g.position(), 50_010);
}

/// `Generator` is a `std::io::Read`: `std::io::copy` writes the whole sized
/// stream, the same bytes as `fill`, and then reads give 0.
#[test]
fn io_copy_writes_the_stream() {
    use std::io::Read;
    let c = Config { size: (5 << 20) + 777, ..cfg(2) };
    let want = dgen::generate(c.clone()).unwrap();
    let mut g = Generator::new(c).unwrap();
    let mut out = Vec::new();
    let n = std::io::copy(&mut g, &mut out).unwrap();
    assert_eq!(n, want.len() as u64);
    assert!(out == want, "io::copy gives other bytes than generate");
    assert!(g.is_complete());
    assert_eq!(g.read(&mut [0u8; 10]).unwrap(), 0);
    // read_exact on a fresh generator, in odd pieces, too.
    let mut g = Generator::new(Config { size: 100_000, ..cfg(1) }).unwrap();
    let mut head = vec![0u8; 99_999];
    g.read_exact(&mut head).unwrap();
    let mut direct = vec![0u8; 99_999];
    g.fill_at(0, &mut direct).unwrap();
    assert!(head == direct);
}

/// `std::io::Seek` moves the position `read` continues from.
#[test]
fn io_seek_moves_the_position() {
    use std::io::{Read, Seek, SeekFrom};
    let c = Config { size: 1 << 20, ..cfg(1) };
    let want = dgen::generate(c.clone()).unwrap();
    let mut g = Generator::new(c).unwrap();
    let mut buf = [0u8; 1000];
    assert_eq!(g.seek(SeekFrom::Start(5000)).unwrap(), 5000);
    g.read_exact(&mut buf).unwrap();
    assert_eq!(buf[..], want[5000..6000]);
    assert_eq!(g.seek(SeekFrom::Current(-3000)).unwrap(), 3000);
    assert_eq!(g.stream_position().unwrap(), 3000);
    g.read_exact(&mut buf).unwrap();
    assert_eq!(buf[..], want[3000..4000]);
    assert_eq!(g.seek(SeekFrom::End(-1000)).unwrap(), (1 << 20) - 1000);
    assert_eq!(g.read(&mut [0u8; 4000]).unwrap(), 1000, "a short read at the end");
    assert_eq!(g.seek(SeekFrom::End(0)).unwrap(), 1 << 20);
    assert!(g.is_complete());
    g.rewind();
    g.read_exact(&mut buf).unwrap();
    assert_eq!(buf[..], want[..1000]);
}

/// `dgen::generate` gives the bytes a generator gives for the same config.
#[test]
fn generate_equals_the_stream() {
    // Small, split over the pool, and large enough for huge pages.
    for c in [
        Config { size: 3 << 20, ..cfg(2) },
        Config { size: 12_345, ..cfg(1) },
        Config { size: (9 << 20) + 5, ..cfg(2) },
    ] {
        let data = dgen::generate(c.clone()).unwrap();
        assert_eq!(data.len() as u64, c.size);
        let g = Generator::new(c).unwrap();
        g.verify_at(0, &data).unwrap();
    }
}

#[test]
fn fill_new_at_gives_the_bytes_of_fill_at() {
    // Above the size where fill_at switches to non-temporal stores, on one
    // thread and on several.
    for threads in [1usize, 3] {
        let g = dgen::Generator::new(dgen::Config {
            size: 40 << 20,
            dedup_ratio: 2.0,
            compress_ratio: 3.0,
            seed: Some(5),
            threads,
            ..dgen::Config::default()
        })
        .unwrap();
        let (mut a, mut b) = (vec![0u8; 33 << 20], vec![0u8; 33 << 20]);
        g.fill_at(4097, &mut a).unwrap();
        g.fill_new_at(4097, &mut b).unwrap();
        assert!(a == b, "threads {threads}");
    }
}

#[test]
fn fill_uninit_at_gives_the_bytes_of_fill_at_and_writes_every_byte() {
    use std::mem::MaybeUninit;
    // Small (one thread), and large enough to be split over the pool, from
    // an offset off the granule grid and from 0.
    for (threads, len, offset) in [(1usize, 12_345usize, 4097u64), (3, 5 << 20, 4097), (3, 5 << 20, 0), (2, 0, 7)] {
        let g = dgen::Generator::new(dgen::Config {
            size: 8 << 20,
            dedup_ratio: 2.0,
            compress_ratio: 3.0,
            seed: Some(9),
            threads,
            ..dgen::Config::default()
        })
        .unwrap();
        let mut want = vec![0u8; len];
        g.fill_at(offset, &mut want).unwrap();
        // Filled with a byte first, so a byte the fill skipped would show.
        let mut raw = vec![MaybeUninit::new(0xA5u8); len];
        let got = g.fill_uninit_at(offset, &mut raw).unwrap();
        assert!(got == &want[..], "threads {threads}, len {len}, offset {offset}");
    }
    let g = dgen::Generator::new(dgen::Config { size: 100, ..dgen::Config::default() }).unwrap();
    let mut raw = vec![MaybeUninit::<u8>::uninit(); 101];
    assert!(matches!(g.fill_uninit_at(0, &mut raw), Err(dgen::Error::OutOfRange { offset: 0, len: 101, size: 100 })));
}
