//! Writing and verifying files with `dgen::storage`: every combination of
//! range, workers, block size, queue depth and O_DIRECT gives exactly the
//! generator's bytes; verification names what is wrong; streams, special
//! files, cancellation and bad options behave as documented.
#![cfg(unix)]

use std::fs;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use dgen::storage::{self, Control, IoEngine, IoOptions, StorageErrorKind, TargetKind};
use dgen::{Config, Generator};

fn gen(size: u64, seed: u64) -> Generator {
    Generator::new(Config { size, dedup_ratio: 2.0, compress_ratio: 3.0, seed: Some(seed), ..Config::default() })
        .unwrap()
}

fn bytes(g: &Generator, offset: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    g.fill_at(offset, &mut v).unwrap();
    v
}

/// O_DIRECT works on the file system of the temporary directory (not on
/// every one: tmpfs before Linux 6.6, ramfs, some FUSE).
fn direct_works(dir: &Path) -> bool {
    let g = gen(8192, 1);
    storage::write_file(&g, dir.join("probe"), &IoOptions { direct: true, ..IoOptions::default() }).is_ok()
}

#[test]
fn every_combination_writes_exactly_the_library_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let size = 5 * 1024 * 1024 + 12345;
    let g = gen(size, 11);
    let direct_ok = direct_works(dir.path());
    // offset, length, jobs, block size, iodepth, direct
    type Case = (u64, Option<u64>, usize, usize, usize, bool);
    let cases: &[Case] = &[
        (0, None, 1, 1 << 20, 1, false),
        (0, None, 3, 64 << 10, 1, false),
        (0, None, 2, 128 << 10, 8, false),
        (0, None, 4, 4096, 4, true),
        (1000, Some(3_000_001), 2, 256 << 10, 1, true),
        (4096 * 7, Some(1 << 20), 3, 8192, 16, true),
        (777, Some(1000), 2, 4096, 2, true),
        (size - 10, None, 2, 4096, 1, true),
        (12288, None, 1, 1 << 20, 3, false),
    ];
    for (k, &(offset, length, jobs, block_size, iodepth, direct)) in cases.iter().enumerate() {
        if direct && !direct_ok {
            continue;
        }
        let path = dir.path().join(format!("c{k}.bin"));
        let opts = IoOptions { offset, length, jobs, block_size, iodepth, direct, ..IoOptions::default() };
        let r = storage::write_file(&g, &path, &opts).unwrap_or_else(|e| panic!("case {k}: {e}"));
        let len = length.unwrap_or(size - offset);
        assert_eq!(r.bytes, len, "case {k}");
        assert_eq!(r.prefix, len, "case {k}");
        assert_eq!(r.target, TargetKind::File);
        let data = fs::read(&path).unwrap();
        assert_eq!(data.len() as u64, offset + len, "case {k}");
        assert!(data[offset as usize..] == bytes(&g, offset, len as usize)[..], "case {k}: bytes differ");
        // The page cache or the device, read back the same way.
        let v = storage::verify_file(&g, &path, &opts).unwrap();
        assert!(v.passed(), "case {k}: {:?}", v.problem());
        assert_eq!(v.bytes, len);
    }
}

#[test]
fn io_uring_is_used_when_asked_and_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let g = gen(3 << 20, 5);
    let path = dir.path().join("u.bin");
    let opts = IoOptions { jobs: 2, block_size: 64 << 10, iodepth: 8, engine: IoEngine::Auto, ..IoOptions::default() };
    let r = storage::write_file(&g, &path, &opts).unwrap();
    // Where the kernel refuses io_uring the engine says so and pwrite does the work.
    assert!(r.engine == "io_uring" || r.engine.starts_with("pwrite (io_uring unavailable"), "{}", r.engine);
    assert!(fs::read(&path).unwrap() == bytes(&g, 0, 3 << 20));
    assert_eq!(r.ios, 48);
    assert_eq!(IoEngine::from_name("IO_URING"), Some(IoEngine::IoUring));
    assert_eq!(IoEngine::from_name(IoEngine::Sync.name()), Some(IoEngine::Sync));
    let sync = IoOptions { engine: IoEngine::Sync, ..opts };
    let v = storage::verify_file(&g, &path, &sync).unwrap();
    assert_eq!(v.engine, "pread");
    assert!(v.passed());
}

#[test]
fn two_ranges_written_separately_make_the_whole_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let size = 3 * 1024 * 1024 + 999;
    let g = gen(size, 21);
    let path = dir.path().join("parts.bin");
    let split = 1_234_567;
    // The second part first: a range that does not reach the end never cuts.
    let tail = IoOptions { offset: split, jobs: 2, block_size: 64 << 10, ..IoOptions::default() };
    storage::write_file(&g, &path, &tail).unwrap();
    let head = IoOptions { offset: 0, length: Some(split), jobs: 3, block_size: 8192, ..IoOptions::default() };
    storage::write_file(&g, &path, &head).unwrap();
    assert!(fs::read(&path).unwrap() == bytes(&g, 0, size as usize));
    assert!(storage::verify_file(&g, &path, &IoOptions::default()).unwrap().passed());
}

#[test]
fn a_longer_file_is_cut_to_the_dataset_but_a_partial_range_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.bin");
    fs::write(&path, vec![7u8; 3 << 20]).unwrap();
    let g = gen(1 << 20, 3);
    storage::write_file(&g, &path, &IoOptions { length: Some(4096), ..IoOptions::default() }).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().len(), 3 << 20);
    storage::write_file(&g, &path, &IoOptions::default()).unwrap();
    assert!(fs::read(&path).unwrap() == bytes(&g, 0, 1 << 20));
}

#[test]
fn verify_names_the_first_wrong_byte_and_counts_wrong_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let size = 2 * 1024 * 1024 + 100;
    let g = gen(size, 9);
    let path = dir.path().join("v.bin");
    let mut data = bytes(&g, 0, size as usize);
    data[5000] ^= 1;
    data[5001] ^= 1;
    data[1_500_000] ^= 0x80;
    data[size as usize - 1] ^= 2;
    fs::write(&path, &data).unwrap();
    for iodepth in [1, 4] {
        let opts = IoOptions { jobs: 3, block_size: 64 << 10, iodepth, ..IoOptions::default() };
        let r = storage::verify_file(&g, &path, &opts).unwrap();
        assert!(!r.passed());
        let m = r.first_mismatch.unwrap();
        assert_eq!((m.offset, m.actual), (5000, data[5000]));
        assert_eq!(r.wrong_blocks, 3);
        assert_eq!(r.blocks, size.div_ceil(4096));
        assert_eq!(
            r.problem().unwrap(),
            format!(
                "first wrong byte at offset 5000 (expected 0x{:02x}, found 0x{:02x}); 3 of {} 4 KiB blocks are wrong",
                data[5000] ^ 1,
                data[5000],
                r.blocks
            )
        );
    }
}

#[test]
fn short_and_longer_data_are_said_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let size = 8 << 20;
    let g = gen(size, 4);
    let path = dir.path().join("s.bin");
    fs::write(&path, bytes(&g, 0, 5 << 20)).unwrap();
    let r = storage::verify_file(&g, &path, &IoOptions::default()).unwrap();
    assert_eq!(r.data_end, Some(5 << 20));
    assert_eq!(
        r.problem().unwrap(),
        "data ends at 5242880, the dataset is 8388608; 768 of 2048 4 KiB blocks are missing"
    );
    // A cut inside a block: that block is missing, not also wrong.
    fs::write(&path, bytes(&g, 0, 5000)).unwrap();
    let r = storage::verify_file(&g, &path, &IoOptions { jobs: 2, ..IoOptions::default() }).unwrap();
    assert_eq!((r.wrong_blocks, r.missing_blocks, r.blocks), (0, 2047, 2048));
    // A cut inside a block whose present part is wrong: wrong, not missing.
    let mut d = bytes(&g, 0, 5000);
    d[4999] ^= 1;
    fs::write(&path, &d).unwrap();
    let r = storage::verify_file(&g, &path, &IoOptions::default()).unwrap();
    assert_eq!((r.wrong_blocks, r.missing_blocks), (1, 2046));
    // Longer than the dataset.
    let mut long = bytes(&g, 0, size as usize);
    long.extend_from_slice(b"more");
    fs::write(&path, &long).unwrap();
    let r = storage::verify_file(&g, &path, &IoOptions::default()).unwrap();
    assert!(r.extra_data && !r.passed(), "{:?}", r.problem());
    // ... which a range check does not mind.
    let r = storage::verify_file(&g, &path, &IoOptions { length: Some(size), ..IoOptions::default() }).unwrap();
    assert!(r.passed());
}

#[test]
fn the_endless_stream_needs_a_length_to_write_and_checks_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let g = gen(0, 8);
    let path = dir.path().join("e.bin");
    let e = storage::write_file(&g, &path, &IoOptions::default()).unwrap_err();
    assert_eq!(e.kind, StorageErrorKind::InvalidOption);
    assert!(e.message.starts_with("length"), "{e}");
    assert!(!path.exists());
    let opts = IoOptions { length: Some(300_000), ..IoOptions::default() };
    storage::write_file(&g, &path, &opts).unwrap();
    let r = storage::verify_file(&g, &path, &IoOptions::default()).unwrap();
    assert!(r.passed() && r.bytes == 300_000);
}

#[test]
fn bad_options_and_ranges_are_refused_with_the_field_named() {
    let dir = tempfile::tempdir().unwrap();
    let g = gen(1 << 20, 1);
    let path = dir.path().join("x");
    let cases = [
        (IoOptions { block_size: 1000, ..IoOptions::default() }, "block_size must be a multiple of 4096"),
        (IoOptions { block_size: 0, ..IoOptions::default() }, "got 0"),
        (IoOptions { iodepth: 0, ..IoOptions::default() }, "iodepth must be from 1 to 4096, got 0"),
        (IoOptions { jobs: 5000, ..IoOptions::default() }, "jobs must be from 0"),
    ];
    for (opts, want) in cases {
        let e = storage::write_file(&g, &path, &opts).unwrap_err();
        assert_eq!(e.kind, StorageErrorKind::InvalidOption);
        assert!(e.message.contains(want), "{e}");
    }
    let e = storage::write_file(&g, &path, &IoOptions { offset: 4096, length: Some(1 << 20), ..IoOptions::default() })
        .unwrap_err();
    assert_eq!(e.kind, StorageErrorKind::OutOfRange);
    assert!(e.message.contains("passes the dataset size 1048576"), "{e}");
    let e = storage::write_file(&g, &path, &IoOptions { offset: u64::MAX, length: Some(2), ..IoOptions::default() })
        .unwrap_err();
    assert_eq!(e.kind, StorageErrorKind::OutOfRange);
    assert!(!path.exists(), "nothing is created for a refused run");
    let e = storage::write_file(&g, dir.path(), &IoOptions::default()).unwrap_err();
    assert!(e.message.contains("is a directory"), "{e}");
    let e = storage::verify_file(&g, dir.path().join("missing"), &IoOptions::default()).unwrap_err();
    assert_eq!(e.kind, StorageErrorKind::Open);
}

#[test]
fn a_cancel_flag_stops_a_run_and_leaves_a_clean_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let g = gen(64 << 20, 2);
    let path = dir.path().join("c.bin");
    let cancel = AtomicBool::new(false);
    let mut calls = 0;
    let mut stop_after_first = |p: storage::Progress| {
        calls += 1;
        assert!(p.bytes <= p.total);
        if p.bytes > 0 {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        true
    };
    let control = Control {
        cancel: Some(&cancel),
        progress: Some(&mut stop_after_first),
        interval: std::time::Duration::from_millis(1),
        ..Control::default()
    };
    let opts = IoOptions { jobs: 2, block_size: 64 << 10, sync: false, ..IoOptions::default() };
    match storage::write_file_with(&g, &path, &opts, control) {
        Ok(r) => assert_eq!(r.bytes, 64 << 20, "finished before the flag was seen"),
        Err(e) => {
            assert_eq!(e.kind, StorageErrorKind::Interrupted, "{e}");
            assert!(e.report.interrupted && e.report.prefix <= e.report.bytes);
            // The file holds exactly the complete prefix.
            let data = fs::read(&path).unwrap();
            assert_eq!(data.len() as u64, e.report.prefix);
            assert!(data == bytes(&g, 0, data.len()));
        }
    }
    assert!(calls >= 1);
    // The start callback runs once, with the plan, before any I/O.
    let mut starts = Vec::new();
    let mut on_start = |r: &storage::Report| starts.push((r.target, r.length, r.bytes));
    let control = Control { started: Some(&mut on_start), ..Control::default() };
    storage::write_file_with(&g, &path, &IoOptions { length: Some(8192), ..opts.clone() }, control).unwrap();
    assert_eq!(starts, [(TargetKind::File, 8192, 0)]);
    // A progress callback that says stop.
    let mut no = |_: storage::Progress| false;
    let control = Control { progress: Some(&mut no), interval: std::time::Duration::ZERO, ..Control::default() };
    let r = storage::verify_file_with(&g, &path, &IoOptions { jobs: 1, block_size: 4096, ..opts }, control);
    if let Err(e) = r {
        assert_eq!(e.kind, StorageErrorKind::Interrupted);
    }
}

#[test]
fn streams_special_files_and_a_full_device() {
    let dir = tempfile::tempdir().unwrap();
    let g = gen(3 << 20, 6);
    // /dev/null takes everything and has nothing to sync.
    let r = storage::write_file(&g, "/dev/null", &IoOptions::default()).unwrap();
    assert_eq!((r.target, r.bytes), (TargetKind::Stream, 3 << 20));
    // /dev/full refuses with ENOSPC, said with the path and offset.
    let e = storage::write_file(&g, "/dev/full", &IoOptions::default()).unwrap_err();
    assert_eq!(e.kind, StorageErrorKind::Io);
    assert_eq!(e.os_error, Some(libc::ENOSPC));
    assert!(e.message.starts_with("cannot write /dev/full at offset 0: "), "{e}");
    // O_DIRECT is for files and devices only.
    let e = storage::write_file(&g, "/dev/null", &IoOptions { direct: true, ..IoOptions::default() }).unwrap_err();
    assert!(e.message.contains("O_DIRECT") && e.message.contains("character device"), "{e}");
    // Reading /dev/null: the data ends at once.
    let r = storage::verify_file(&g, "/dev/null", &IoOptions::default()).unwrap();
    assert_eq!(r.data_end, Some(0));
    // A FIFO, written by one thread and checked by another.
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || storage::verify_file(&gen(3 << 20, 6), &fifo, &IoOptions::default()))
    };
    let w = storage::write_file(&g, &fifo, &IoOptions { offset: 0, ..IoOptions::default() }).unwrap();
    assert_eq!(w.target, TargetKind::Stream);
    let r = reader.join().unwrap().unwrap();
    assert!(r.passed(), "{:?}", r.problem());
    assert_eq!(r.bytes, 3 << 20);
}

#[test]
fn the_report_converts_to_json_with_the_promised_keys() {
    let dir = tempfile::tempdir().unwrap();
    let g = gen(1 << 20, 1);
    let r = storage::write_file(&g, dir.path().join("j"), &IoOptions::default()).unwrap();
    let j = r.to_json();
    for key in [
        "\"bytes\": 1048576",
        "\"seconds\": ",
        "\"gbps\": ",
        "\"iops\": ",
        "\"latency_us\": {\"p50\": ",
        "\"p90\": ",
        "\"p99\": ",
        "\"p999\": ",
        "\"max\": ",
        "\"generate_seconds\": ",
        "\"io_seconds\": ",
        "\"bottleneck\": \"",
    ] {
        assert!(j.contains(key), "{key} missing from {j}");
    }
    assert!(r.generate_seconds > 0.0 && r.io_seconds > 0.0 && r.worker_seconds >= r.generate_seconds);
    assert!(r.latency.p50 > 0.0 && r.latency.p50 <= r.latency.p99 && r.latency.p99 <= r.latency.max);
}

#[test]
fn io_buffers_follow_the_range_and_a_run_that_could_pass_the_cap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x");
    // A queue far deeper than the range has blocks costs only the range.
    let g = gen(8 << 20, 3);
    for (op, engine) in [("write", IoEngine::Auto), ("verify", IoEngine::Auto), ("write", IoEngine::Sync)] {
        let opts = IoOptions { jobs: 2, iodepth: 4096, engine, ..IoOptions::default() };
        let r =
            if op == "write" { storage::write_file(&g, &path, &opts) } else { storage::verify_file(&g, &path, &opts) };
        let r = r.unwrap_or_else(|e| panic!("{op} {engine:?}: {e}"));
        assert_eq!(r.bytes, 8 << 20);
        assert!(r.passed(), "{:?}", r.problem());
    }
    assert_eq!(fs::read(&path).unwrap(), bytes(&g, 0, 8 << 20));
    // A block larger than the range: one buffer of the range's size.
    storage::write_file(&g, &path, &IoOptions { jobs: 1, iodepth: 64, block_size: 8 << 20, ..IoOptions::default() })
        .unwrap();
    assert_eq!(fs::read(&path).unwrap(), bytes(&g, 0, 8 << 20));

    // 8 x 256 x 1 MiB = 2 GiB in flight on a dataset that has the blocks.
    let big = gen(64 << 30, 3);
    let fresh = dir.path().join("never");
    let opts = IoOptions { jobs: 8, iodepth: 256, ..IoOptions::default() };
    for e in
        [storage::write_file(&big, &fresh, &opts).unwrap_err(), storage::verify_file(&big, &path, &opts).unwrap_err()]
    {
        assert_eq!(e.kind, StorageErrorKind::InvalidOption, "{e}");
        assert!(
            e.message.starts_with("jobs x iodepth x block_size must need at most 1073741824 bytes (1 GiB)")
                && e.message.contains("got 8 x 256 x 1048576 = 2147483648 bytes"),
            "{e}"
        );
    }
    assert!(!fresh.exists(), "a refused write created its file");
    assert_eq!(storage::MAX_BUFFER_BYTES, 1 << 30);
}
