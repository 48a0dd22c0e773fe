//! The real `dgen` binary: every subcommand, every kind of bad input, and the
//! generate -> verify -> corrupt -> verify cycle.

use std::fs;
use std::process::Command;

use assert_cmd::prelude::*;
use predicates::prelude::*;

fn dgen() -> Command {
    Command::cargo_bin("dgen").unwrap()
}

fn library_bytes(size: u64, dedup: f64, compress: f64, unit: u32, seed: u64) -> Vec<u8> {
    let cfg = dgen::Config {
        size,
        dedup_ratio: dedup,
        compress_ratio: compress,
        dedup_unit: unit,
        seed: Some(seed),
        ..dgen::Config::default()
    };
    let mut g = dgen::Generator::new(cfg).unwrap();
    let mut buf = vec![0u8; size as usize];
    assert_eq!(g.fill(&mut buf).unwrap(), buf.len());
    buf
}

#[test]
fn generate_writes_the_library_bytes_to_a_file_and_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.bin");
    dgen()
        .args([
            "generate",
            "--size",
            "3MiB",
            "--dedup",
            "2.5",
            "--compress",
            "3",
            "--dedup-unit",
            "8KiB",
            "--seed",
            "9",
            "-o",
        ])
        .arg(&path)
        .assert()
        .success()
        .stderr(predicate::str::contains("wrote 3145728 bytes").and(predicate::str::contains("seed 9")));
    let want = library_bytes(3 << 20, 2.5, 3.0, 8192, 9);
    assert!(fs::read(&path).unwrap() == want);
    let out = dgen()
        .args(["generate", "--size", "3MiB", "--dedup", "2.5", "--compress", "3", "--dedup-unit", "8k", "--seed", "9"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout == want);
    // O_DIRECT with a size that is not a whole number of blocks.
    let direct = dir.path().join("direct.bin");
    let r =
        dgen().args(["generate", "--size", "1000001", "--seed", "9", "--direct", "-o"]).arg(&direct).output().unwrap();
    if r.status.success() {
        assert!(fs::read(&direct).unwrap() == library_bytes(1000001, 1.0, 1.0, 4096, 9));
    } else {
        // Some file systems (tmpfs) refuse O_DIRECT; the error must say so in one line.
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.starts_with("dgen: error: cannot write") && err.lines().count() == 1, "{err}");
    }
}

#[test]
fn unseeded_generate_prints_a_seed_that_repeats_the_run() {
    let out = dgen().args(["generate", "--size", "64KiB"]).output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    let seed: u64 = err.trim().rsplit("seed ").next().unwrap().parse().unwrap();
    let again = dgen().args(["generate", "--size", "64KiB", "--seed", &seed.to_string()]).output().unwrap();
    assert!(again.stdout == out.stdout);
}

#[test]
fn verify_passes_then_names_the_corrupted_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.bin");
    let opts = ["--dedup", "2", "--compress", "2", "--seed", "5"];
    dgen().args(["generate", "--size", "10MiB", "-o"]).arg(&path).args(opts).assert().success();
    let verify = || {
        let mut cmd = dgen();
        cmd.arg("verify").arg(&path).args(opts).args(["--size", "10MiB"]);
        cmd
    };
    verify().assert().success().stderr(predicate::str::contains("all 10485760 bytes match"));
    let mut data = fs::read(&path).unwrap();
    data[7_654_321] ^= 0x40;
    fs::write(&path, &data).unwrap();
    verify().args(["--jobs", "3"]).assert().code(1).stderr(
        predicate::str::contains("first wrong byte at offset 7654321")
            .and(predicate::str::contains("1 of 2560 4 KiB blocks are wrong")),
    );
    // Other options describe other data.
    data[7_654_321] ^= 0x40;
    fs::write(&path, &data).unwrap();
    dgen()
        .arg("verify")
        .arg(&path)
        .args(["--dedup", "3", "--compress", "2", "--seed", "5", "--size", "10MiB"])
        .assert()
        .code(1);
    // A truncated file.
    fs::write(&path, &data[..5_000_000]).unwrap();
    verify().assert().code(1).stderr(predicate::str::contains("data ends at 5000000, the dataset is 10485760"));
    // Without --size a truncated file cannot pass as a smaller dataset.
    dgen().arg("verify").arg(&path).args(opts).assert().code(2).stderr(predicate::str::contains("needs --size"));
}

fn analyze_json(path: &std::path::Path) -> serde_json::Value {
    let out = dgen().arg("analyze").arg(path).arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn analyze_reads_standard_input_limits_and_samples_and_refuses_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.bin");
    dgen().args(["generate", "--size", "16MiB", "--compress", "2", "--seed", "4", "-o"]).arg(&path).assert().success();
    let data = fs::read(&path).unwrap();
    let fast = ["--codecs", "zstd-1,lz4", "--chunks", "64KiB", "--json"];
    let run = |extra: &[&str], input: Option<Vec<u8>>, target: &std::path::Path| {
        let mut cmd = assert_cmd::Command::cargo_bin("dgen").unwrap();
        cmd.arg("analyze").arg(target).args(fast).args(extra);
        if let Some(i) = input {
            cmd.write_stdin(i);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let whole = run(&[], None, &path);
    let piped = run(&[], Some(data.clone()), std::path::Path::new("-"));
    assert_eq!(whole["compression"], piped["compression"], "standard input reads the same bytes");
    assert_eq!(piped["bytes"], 16 << 20);
    let limited = run(&["--limit", "4MiB"], None, &path);
    assert_eq!(limited["bytes"], 4 << 20);
    assert_eq!(limited["sampled"], true);
    let sample = run(&["--sample", "0.5"], None, &path);
    assert_eq!(sample["bytes"], 8 << 20, "half of four 4 MiB regions");
    assert_eq!(sample["total_bytes"], 16 << 20);
    // The default layout's target is the geometric mean of zstd-1 and lz4.
    let z = sample["compression"]["zstd-1"]["65536"].as_f64().unwrap();
    let l = sample["compression"]["lz4"]["65536"].as_f64().unwrap();
    assert!(((z * l).sqrt() / 2.0 - 1.0).abs() < 0.05, "a sample estimates the whole: {z} {l}");
    let piped_sample = run(&["--sample", "0.5"], Some(data), std::path::Path::new("-"));
    assert_eq!(piped_sample["bytes"], 8 << 20);

    let empty = dir.path().join("empty");
    fs::write(&empty, b"").unwrap();
    dgen()
        .arg("analyze")
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is empty: there is nothing to analyze"));
    assert_cmd::Command::cargo_bin("dgen").unwrap().args(["analyze", "-"]).write_stdin(Vec::new()).assert().code(2);
    for (args, what) in [
        (vec!["--sample", "0"], "--sample"),
        (vec!["--sample", "1.5"], "--sample"),
        (vec!["--codecs", "zip"], "--codecs"),
        (vec!["--chunks", "3000"], "--chunks"),
    ] {
        dgen().arg("analyze").arg(&path).args(&args).assert().code(2).stderr(predicates::str::contains(what));
    }
}

#[test]
fn analyze_reports_what_was_asked_for_and_counts_zero_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.bin");
    dgen()
        .args(["generate", "--size", "16MiB", "--dedup", "2", "--compress", "2", "--seed", "3", "-o"])
        .arg(&path)
        .assert()
        .success();
    let v = analyze_json(&path);
    assert_eq!(v["bytes"], 16 << 20);
    assert_eq!(v["zero_blocks_4k"], 0);
    let keys: Vec<&String> = v["dedup"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["4096", "8192", "16384", "32768", "65536", "131072"]);
    let d4 = v["dedup"]["4096"].as_f64().unwrap();
    assert!((d4 / 2.0 - 1.0).abs() < 0.02, "dedup {d4}");
    let codecs: Vec<&String> = v["compression"].as_object().unwrap().keys().collect();
    assert_eq!(
        codecs,
        ["zstd-1", "zstd-3", "lz4", "lz4hc", "gzip-1", "gzip-6", "snappy", "lzo1x-1", "lzjb", "brotli-5", "lzma2"]
    );
    for codec in codecs {
        for chunk in ["4096", "32768", "131072", "1048576"] {
            assert!(v["compression"][codec][chunk].as_f64().unwrap() > 1.0, "{codec} {chunk}");
        }
    }
    // The default layout's target is the geometric mean of zstd-1 and lz4.
    let z = v["compression"]["zstd-1"]["131072"].as_f64().unwrap();
    let l = v["compression"]["lz4"]["131072"].as_f64().unwrap();
    assert!(((z * l).sqrt() / 2.0 - 1.0).abs() < 0.05, "zstd-1 {z}, lz4 {l}");
    // Content-defined chunks see the copies of the 4 KiB units too, less of
    // them the larger the chunks.
    let cdc: Vec<f64> = ["8192", "16384", "65536"].iter().map(|k| v["dedup_cdc"][k].as_f64().unwrap()).collect();
    assert!(cdc[0] > 1.5 && cdc[0] <= 2.0 && cdc[2] < cdc[0], "{cdc:?}");
    assert_eq!(v["sampled"], false);

    let zeros = dir.path().join("z.bin");
    fs::write(&zeros, vec![0u8; 40960 + 100]).unwrap();
    let v = analyze_json(&zeros);
    assert_eq!(v["zero_blocks_4k"], 10);
    assert!(v["dedup"]["4096"].as_f64().unwrap() > 5.0);
    // The table form.
    dgen()
        .arg("analyze")
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("gzip-6").and(predicate::str::contains("dedup ratio")));
}

#[test]
fn analyze_reports_entropy_and_what_btrfs_would_compress() {
    let dir = tempfile::tempdir().unwrap();
    let random = dir.path().join("r.bin");
    dgen().args(["generate", "--size", "4MiB", "--compress", "1", "--seed", "8", "-o"]).arg(&random).assert().success();
    // Text from a small vocabulary in a pseudo-random order: few byte
    // values, no long repeats.
    let words = ["storage ", "the ", "array ", "of ", "blocks, ", "writes ", "and ", "reads.\n", "A ", "file "];
    let mut x = 1u64;
    let mut text = Vec::new();
    while text.len() < 4 << 20 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        text.extend_from_slice(words[(x >> 33) as usize % words.len()].as_bytes());
    }
    text.truncate(4 << 20);
    let prose = dir.path().join("t.txt");
    fs::write(&prose, &text).unwrap();

    let fast = ["--json", "--codecs", "zstd-1", "--chunks", "128KiB"];
    let run = |path: &std::path::Path| {
        let out = dgen().arg("analyze").arg(path).args(fast).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let r = run(&random);
    let e = r["entropy_bits_per_byte"].as_f64().unwrap();
    let m = r["entropy_bits_per_byte_128k_mean"].as_f64().unwrap();
    assert!(e > 7.99 && e <= 8.0 && m > 7.99 && m <= e, "random: {r}");
    assert_eq!(r["btrfs_ranges"], 32);
    assert_eq!(r["btrfs_compress_ranges"], 0);
    assert_eq!(r["btrfs_compress_share"], 0.0);
    assert_eq!(r["btrfs_reasons"]["core-set-high"], 32);

    let t = run(&prose);
    let e = t["entropy_bits_per_byte"].as_f64().unwrap();
    assert!(e > 2.0 && e < 5.0, "text: {t}");
    assert_eq!(t["btrfs_ranges"], 32);
    assert_eq!(t["btrfs_compress_share"], 1.0);
    assert_eq!(t["btrfs_reasons"]["byte-set"], 32);

    // A file that does not end on 128 KiB counts its short last range.
    let odd = dir.path().join("odd.bin");
    fs::write(&odd, &text[..(1 << 20) + 5000]).unwrap();
    assert_eq!(run(&odd)["btrfs_ranges"], 9);
    assert_eq!(t["btrfs_written_compressed_ranges"], 32);
    assert_eq!(r["btrfs_written_compressed_ranges"], 0);

    // Ranges yes, no, yes, yes | no, yes, yes, yes: btrfs's heuristic lets
    // six through, but a "no" leaves the rest of its 512 KiB writeback
    // chunk raw, so one is compressed when the file is written back.
    let noise = fs::read(&random).unwrap();
    let r = 128 << 10;
    let mixed: Vec<u8> =
        [(&text, 0), (&noise, 1), (&text, 2), (&text, 3), (&noise, 4), (&text, 5), (&text, 6), (&text, 7)]
            .iter()
            .flat_map(|&(src, i)| src[i * r..(i + 1) * r].to_vec())
            .collect();
    let mixed_path = dir.path().join("mixed.bin");
    fs::write(&mixed_path, &mixed).unwrap();
    let m = run(&mixed_path);
    assert_eq!(
        (m["btrfs_compress_ranges"].as_u64(), m["btrfs_written_compressed_ranges"].as_u64()),
        (Some(6), Some(1))
    );

    dgen()
        .arg("analyze")
        .arg(&prose)
        .args(["--codecs", "lz4", "--chunks", "4KiB"])
        .assert()
        .success()
        .stdout(predicate::str::contains("order-0 entropy").and(predicate::str::contains("compresses 32 of 32")));

    // Nothing to analyze is an error, not a report of 1.000 ratios.
    let out = dgen().arg("analyze").arg(&random).args(["--limit", "0"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with("dgen: error:") && err.contains("--limit 0"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bench_quick_prints_every_case_and_compares_with_a_saved_table() {
    let out = dgen().args(["bench", "--quick"]).output().unwrap();
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("before.txt");
    std::fs::write(&saved, &out.stdout).unwrap();
    let out = dgen().args(["bench", "--quick", "--json", "--baseline"]).arg(&saved).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kernel = v["kernel"].as_str().unwrap();
    assert!(["portable", "avx2", "avx512"].contains(&kernel), "kernel {kernel:?} is not a kernel's name");
    let rows = v["results"].as_array().unwrap();
    assert!(rows.len() == 9 || rows.len() == 18);
    for r in rows {
        assert!(r["gbps"].as_f64().unwrap() > 0.0 && r["memset_gbps"].as_f64().unwrap() > 0.0);
        assert!(r["vs_baseline"].as_f64().unwrap() > 0.0, "{r}");
    }
    // A baseline that cannot be read stops before anything is measured.
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "no table here\n").unwrap();
    dgen()
        .args(["bench", "--baseline"])
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--baseline").and(predicate::str::contains("no benchmark rows")));
    dgen()
        .args(["bench", "--baseline"])
        .arg(dir.path().join("missing.txt"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--baseline"));
}

#[test]
fn topology_prints_text_and_json() {
    dgen().arg("topology").assert().success().stdout(predicate::str::contains("generator threads:"));
    let out = dgen().args(["topology", "--json", "--threads", "3", "--numa-mode", "force"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Workers are capped at the CPUs the process may use.
    let threads = 3.min(v["allowed_cpus"].as_array().unwrap().len());
    assert_eq!(v["placement"]["threads"], threads);
    assert_eq!(v["placement"]["pinned"].as_array().unwrap().len(), threads);
    dgen().args(["topology", "--numa-node", "999"]).assert().code(2).stderr(predicate::str::contains("--numa-node"));
}

/// Every kind of bad input: one line on stderr, exit code 2, no panic.
#[test]
fn bad_input_gives_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["generate", "--size", "abc"], "--size"),
        (vec!["generate", "--size", "-5"], "--size"),
        (vec!["generate", "--size", "1.5"], "whole number of bytes"),
        (vec!["generate", "--size", "99999999TiB"], "larger than"),
        (vec!["generate", "--size", "0"], "--size"),
        (
            vec!["generate", "--size", "1M", "--dedup", "0.5"],
            "--dedup: dedup_ratio must be a number from 1.0 to 1024.0, got 0.5",
        ),
        (vec!["generate", "--size", "1M", "--dedup", "NaN"], "got NaN"),
        (vec!["generate", "--size", "1M", "--compress", "inf"], "--compress: compress_ratio"),
        (vec!["generate", "--size", "1M", "--compress", "two"], "not a number"),
        (vec!["generate", "--size", "1M", "--dedup-unit", "1000"], "--dedup-unit: dedup_unit"),
        (vec!["generate", "--size", "1M", "--threads", "100000"], "--threads"),
        (vec!["generate", "--size", "1M", "--compressor", "zip"], "compressor must be one of auto, zstd, lz4"),
        (
            vec!["generate", "--size", "1M", "--compressor", "snappy", "--compress", "30"],
            "--compress: compress_ratio must be at most 18.1 for compressor snappy",
        ),
        (vec!["generate", "--size", "1M", "--direct"], "--direct needs an output file"),
        (vec!["generate", "--size", "1M", "-o", "/nonexistent-dir/x"], "cannot write /nonexistent-dir/x"),
        (vec!["verify", "/nonexistent-file", "--seed", "1", "--size", "1M"], "cannot open /nonexistent-file"),
        (vec!["generate", "--size", "1M", "--block-size", "1000", "-o", "x"], "--block-size: block_size"),
        (vec!["generate", "--size", "1M", "--iodepth", "0", "-o", "x"], "--iodepth: iodepth"),
        (vec!["generate", "--size", "1M", "--jobs", "5000", "-o", "x"], "--jobs: jobs"),
        (
            vec!["generate", "--size", "1M", "--offset", "2M", "-o", "x"],
            "--offset/--size: the range [2097152, 1048576)",
        ),
        (vec!["generate", "--size", "1M", "--length", "2M", "-o", "x"], "--length: the range [0, 2097152)"),
        (vec!["generate", "--size", "1M", "--compress", "-inf", "-o", "x"], "--compress: compress_ratio must be"),
        (vec!["generate", "--size", "1M", "--dedup", "-2", "-o", "x"], "--dedup: dedup_ratio must be"),
        (vec!["generate", "--size", "1M", "--jobs", "-1", "-o", "x"], "invalid value '-1' for '--jobs <N>'"),
        (vec!["generate", "--size", "0", "-o", "x"], "--length"),
        (vec!["generate", "--size", "1M", "-o", "."], "is a directory"),
        (vec!["analyze", "/nonexistent-file"], "cannot open /nonexistent-file"),
        (vec!["generate"], "--size"),
        (vec!["frobnicate"], "frobnicate"),
    ];
    for (args, needle) in cases {
        let out = dgen().args(&args).current_dir(dir.path()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("dgen: error:") && err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}");
    }
    // verify without a seed cannot know the data.
    let f = dir.path().join("f");
    fs::write(&f, b"x").unwrap();
    dgen().arg("verify").arg(&f).assert().code(2).stderr(predicate::str::contains("needs --seed"));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = dgen()
        .args(["generate", "--size", "1GiB", "--seed", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = vec![0u8; 200000];
    std::io::Read::read_exact(&mut out, &mut first).unwrap();
    drop(out);
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success());
    // The count is of what the pipe took, whole blocks or not.
    let err = String::from_utf8_lossy(&done.stderr);
    let took: u64 = err
        .split("closed it after ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    assert!(took >= 200000, "{err}");
}

#[test]
fn messages_say_what_happened_in_the_words_of_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = dgen().args(args).current_dir(dir.path()).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // A stream has one worker: what asked for more is said to be ignored.
    let (code, err) =
        run(&["generate", "--size", "1MiB", "--seed", "1", "--jobs", "4", "--iodepth", "8", "-o", "/dev/null"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(
            "dgen: /dev/null is a stream, written in order by one worker: --jobs 4 and --iodepth 8 do not apply"
        ),
        "{err}"
    );
    let (_, err) = run(&["generate", "--size", "1MiB", "--seed", "1", "-o", "/dev/null"]);
    assert!(!err.contains("do not apply") && !err.contains("does not apply"), "{err}");
    // Another seed: every block is wrong, and the likely causes are named.
    let (code, err) = run(&["generate", "--size", "1MiB", "--seed", "1", "-o", "a.bin"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = run(&["verify", "a.bin", "--size", "1MiB", "--seed", "2"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("256 of 256 4 KiB blocks are wrong; every block is wrong: the data was likely written with another seed, size"), "{err}");
    // The endless stream (what fio's engine writes) verified with a size.
    let (code, err) =
        run(&["generate", "--size", "0", "--length", "1000000", "--dedup", "2.5", "--seed", "3", "-o", "e.bin"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = run(&["verify", "e.bin", "--size", "1000000", "--dedup", "2.5", "--seed", "3"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("it holds the endless stream of these options") && err.contains("--size 0"), "{err}");
    let (code, err) = run(&["verify", "e.bin", "--size", "0", "--dedup", "2.5", "--seed", "3"]);
    assert_eq!(code, Some(0), "{err}");
    // A file that is not that stream gets no such hint.
    let (_, err) = run(&["verify", "a.bin", "--size", "1MiB", "--seed", "2"]);
    assert!(!err.contains("endless stream"), "{err}");
}

#[test]
fn ranges_jobs_blocks_and_queue_depths_give_the_library_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let size: u64 = 3 * 1024 * 1024 + 777;
    let want = library_bytes(size, 2.0, 3.0, 4096, 13);
    let cases: &[&[&str]] = &[
        &["--jobs", "1"],
        &["--jobs", "3", "--block-size", "64KiB"],
        &["--jobs", "2", "--block-size", "4KiB", "--iodepth", "8"],
        &["--offset", "1000", "--length", "2000000", "--jobs", "2", "--iodepth", "4"],
        &["--offset", "8192", "--jobs", "4", "--block-size", "8KiB"],
    ];
    for (k, extra) in cases.iter().enumerate() {
        let path = dir.path().join(format!("r{k}.bin"));
        let base = ["generate", "--size", &size.to_string(), "--dedup", "2", "--compress", "3", "--seed", "13"];
        dgen().args(base).args(*extra).arg("-o").arg(&path).assert().success();
        let got = fs::read(&path).unwrap();
        let off = extra.iter().position(|a| *a == "--offset").map_or(0, |i| extra[i + 1].parse::<usize>().unwrap());
        let len =
            extra.iter().position(|a| *a == "--length").map_or(size as usize - off, |i| extra[i + 1].parse().unwrap());
        assert_eq!(got.len(), off + len, "case {k}");
        assert!(got[off..] == want[off..off + len], "case {k}: bytes differ");
        let verify = [
            "verify",
            path.to_str().unwrap(),
            "--size",
            &size.to_string(),
            "--dedup",
            "2",
            "--compress",
            "3",
            "--seed",
            "13",
        ];
        dgen().args(verify).args(*extra).assert().success();
    }
    // Standard output from an offset is the stream from there.
    let out = dgen()
        .args(["generate", "--size", &size.to_string(), "--dedup", "2", "--compress", "3", "--seed", "13"])
        .args(["--offset", "5000", "--length", "70000"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout == want[5000..75000]);
}

#[test]
fn verify_reads_standard_input() {
    let want = library_bytes(1 << 20, 1.0, 2.0, 4096, 8);
    let run = |data: &[u8]| {
        let mut child = dgen()
            .args(["verify", "-", "--size", "1MiB", "--compress", "2", "--seed", "8"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let data = data.to_vec();
        let feeder = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &data));
        let out = child.wait_with_output().unwrap();
        let _ = feeder.join();
        out
    };
    let ok = run(&want);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let short = run(&want[..600_000]);
    assert_eq!(short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&short.stderr).contains("data ends at 600000, the dataset is 1048576"));
}

#[test]
fn json_reports_have_the_promised_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.bin");
    let out = dgen()
        .args(["generate", "--size", "4MiB", "--seed", "2", "--jobs", "2", "--json", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["bytes", "seconds", "gbps", "iops", "generate_seconds", "io_seconds", "bottleneck"] {
        assert!(!v[key].is_null(), "{key} in {v}");
    }
    for key in ["p50", "p90", "p99", "p999", "max"] {
        assert!(v["latency_us"][key].as_f64().unwrap() > 0.0, "{key} in {v}");
    }
    assert_eq!(v["bytes"], 4 << 20);
    assert_eq!(v["target"], "file");
    let out = dgen().args(["verify", "--size", "4MiB", "--seed", "2", "--json"]).arg(&path).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], true);
    assert_eq!(v["operation"], "verify");
    // With the data on standard output, the report goes to standard error.
    let out = dgen().args(["generate", "--size", "64KiB", "--seed", "2", "--json"]).output().unwrap();
    assert_eq!(out.stdout.len(), 65536);
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().find(|l| l.starts_with('{')).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(line).unwrap()["bytes"], 65536);
}

#[test]
fn sigint_stops_cleanly_and_says_how_far_it_got() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    let child = dgen()
        .args(["generate", "--size", "64GiB", "--seed", "31", "--jobs", "2", "--block-size", "64KiB", "-o"])
        .arg(&path)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    // SAFETY: kill(2) with the pid of a child this test started and still owns.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.starts_with("dgen: seed 31: writing 68719476736 bytes"), "{err}");
    let last = err.lines().last().unwrap();
    assert!(last.starts_with("dgen: interrupted: wrote ") && last.ends_with(", seed 31"), "{last}");
    let prefix: u64 = last.split("complete for its first ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert_eq!(fs::metadata(&path).unwrap().len(), prefix);
    dgen()
        .args(["verify", "--size", "64GiB", "--seed", "31", "--length", &prefix.to_string()])
        .arg(&path)
        .assert()
        .success();
}

/// Runs `dgen ARGS` through a shell with standard output redirected as
/// `redirect` says (`>/dev/full`, `>&-`, `| true`); its exit code and stderr.
fn dgen_redirected(args: &str, redirect: &str, dir: &std::path::Path) -> (i32, String) {
    let bin = assert_cmd::cargo::cargo_bin("dgen");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("\"$0\" {args} {redirect}"))
        .arg(bin)
        .current_dir(dir)
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_report_that_cannot_be_written_is_one_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = dgen_redirected("generate --size 1MiB --seed 5 -o x.bin", "", dir.path());
    assert_eq!(code, 0, "{err}");
    let lost = "dgen: error: cannot write to standard output: No space left on device";
    for args in [
        "generate --size 1MiB --seed 5 -o x.bin --json",
        "verify x.bin --size 1MiB --seed 5 --json",
        "analyze x.bin --codecs zstd-1 --chunks 4KiB",
        "analyze x.bin --codecs zstd-1 --chunks 4KiB --json",
        "topology",
        "topology --json",
        "bench --quick --json",
    ] {
        let (code, err) = dgen_redirected(args, ">/dev/full", dir.path());
        assert_eq!(code, 1, "{args}: {err}");
        assert!(!err.contains("panicked"), "{args}: {err}");
        assert_eq!(err.lines().filter(|l| l.contains("standard output")).count(), 1, "{args}: {err}");
        assert!(err.lines().last().unwrap_or("").starts_with(lost), "{args}: {err}");
    }
    // A failed verification keeps its verdict, and says the report was lost.
    let (code, err) = dgen_redirected("verify x.bin --size 1MiB --seed 6 --json", ">/dev/full", dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("first wrong byte at offset 0") && err.contains(lost), "{err}");
    // A closed standard output loses nothing silently.
    let (code, err) = dgen_redirected("generate --size 1MiB --seed 5 -o x.bin --json", ">&-", dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--json: standard output is closed"), "{err}");
    let (code, err) = dgen_redirected("topology", ">&-", dir.path());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot write to standard output: it is closed"), "{err}");
}

#[test]
fn a_reader_that_stops_early_ends_the_report_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = dgen_redirected("generate --size 1MiB --seed 5 -o x.bin", "", dir.path());
    assert_eq!(code, 0, "{err}");
    // The reader is gone before the command writes: every write gets EPIPE.
    for args in ["analyze x.bin --codecs zstd-1 --chunks 4KiB", "topology", "verify x.bin --size 1MiB --seed 5 --json"]
    {
        let mut child = dgen()
            .args(args.split(' '))
            .current_dir(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args}: {err}");
        assert!(!err.contains("panicked") && !err.contains("standard output"), "{args}: {err}");
    }
}

/// Runs `dgen ARGS` to its end; its exit status and peak resident memory in
/// KiB, from the kernel's accounting of that one child.
fn peak_rss_kib(args: &[&str], dir: &std::path::Path) -> (i32, i64) {
    // Reaped by the wait4 below, which also reads its usage.
    #[allow(clippy::zombie_processes)]
    let child = dgen().args(args).current_dir(dir).stderr(std::process::Stdio::null()).spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 writes the status and
    // the usage through pointers to these live locals, and reaps only the
    // child this test spawned (which `child` never waits for).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    (libc::WEXITSTATUS(status), usage.ru_maxrss)
}

#[test]
fn io_memory_follows_the_data_not_the_queue_depth() {
    let dir = tempfile::tempdir().unwrap();
    let (code, small) =
        peak_rss_kib(&["generate", "--size", "4MiB", "--seed", "1", "--jobs", "1", "-o", "a.bin"], dir.path());
    assert_eq!(code, 0);
    for args in [
        ["--size", "4MiB", "--jobs", "2", "--iodepth", "256", "--block-size", "1MiB"],
        ["--size", "8MiB", "--jobs", "1", "--iodepth", "4096", "--block-size", "1MiB"],
        ["--size", "4MiB", "--jobs", "1", "--iodepth", "64", "--block-size", "8MiB"],
    ] {
        let mut all = vec!["generate", "--seed", "1", "-o", "b.bin"];
        all.extend(args);
        let (code, peak) = peak_rss_kib(&all, dir.path());
        assert_eq!(code, 0, "{args:?}");
        // The data is 4 or 8 MiB: at most that much more than a plain run.
        assert!(peak < small + 16 * 1024, "{args:?}: {peak} KiB at peak, {small} KiB for a plain run");
    }
    let out = dgen()
        .args(["generate", "--size", "64GiB", "--seed", "1", "--jobs", "8", "--iodepth", "256", "-o", "c.bin"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with("dgen: error: --jobs x --iodepth x --block-size: jobs x iodepth x block_size must need at most 1073741824 bytes (1 GiB)"), "{err}");
    assert!(err.contains("8 x 256 x 1048576"), "{err}");
    assert!(!dir.path().join("c.bin").exists());
}

#[test]
fn parts_written_separately_make_the_whole_dataset_and_verify_alone() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.bin");
    let parted = dir.path().join("parted.bin");
    // Not a multiple of 4 KiB, so that the last part takes a remainder.
    let size = "1000000";
    let data = ["--size", size, "--seed", "31", "--dedup", "2", "--compress", "3"];
    dgen().args(["generate", "-o"]).arg(&whole).args(data).assert().success();
    // Written out of order, each by its own run.
    for i in [2, 0, 1] {
        let part = format!("{i}/3");
        dgen().args(["generate", "--part", &part, "--jobs", "2", "-o"]).arg(&parted).args(data).assert().success();
    }
    let (a, b) = (std::fs::read(&whole).unwrap(), std::fs::read(&parted).unwrap());
    assert_eq!(a.len(), 1_000_000);
    assert!(a == b, "three parts differ from one run");
    assert_eq!(a, library_bytes(1_000_000, 2.0, 3.0, 4096, 31));
    let mut total = 0;
    for i in 0..3 {
        let part = format!("{i}/3");
        let out = dgen().args(["verify", "--json", "--part", &part]).arg(&parted).args(data).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["passed"], true);
        if i > 0 {
            assert_eq!(v["offset"].as_u64().unwrap() % 4096, 0, "{v}");
        }
        total += v["bytes"].as_u64().unwrap();
    }
    assert_eq!(total, 1_000_000);
    // A part of a range: --offset/--length are cut too.
    let out = dgen()
        .args(["verify", "--json", "--part", "1/2", "--offset", "8KiB", "--length", "64KiB"])
        .arg(&parted)
        .args(data)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["offset"].as_u64(), v["length"].as_u64()), (Some(40960), Some(32768)), "{v}");
    // A damaged byte fails only the part that holds it.
    let mut damaged = b.clone();
    damaged[700_000] ^= 1;
    std::fs::write(&parted, &damaged).unwrap();
    dgen().args(["verify", "--part", "0/3"]).arg(&parted).args(data).assert().success();
    dgen()
        .args(["verify", "--part", "2/3"])
        .arg(&parted)
        .args(data)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("first wrong byte at offset 700000"));
}

#[test]
fn bad_parts_are_one_line_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.bin");
    let cases: [(&[&str], &str); 7] = [
        (&["--part", "3/3"], "--part 3/3: parts are counted from 0, so the index must be below 3"),
        (&["--part", "0/0"], "--part 0/0: the number of parts must be at least 1"),
        (&["--part", "1"], "--part \"1\" is not of the form I/N"),
        (&["--part", "-1/4"], "--part \"-1/4\" is not of the form I/N"),
        (&["--part", "x/4"], "--part \"x/4\" is not of the form I/N"),
        (&["--part", "0/32"], "--part 0/32 is empty: the range of 65536 bytes at offset 0 holds 16 whole 4 KiB blocks"),
        (&["--part", "0/2", "--size", "0"], "--part 0/2: the endless stream (size 0) has no end"),
    ];
    for (extra, want) in cases {
        for verb in ["generate", "verify"] {
            let mut cmd = dgen();
            cmd.args([verb, "--seed", "1"]);
            if !extra.contains(&"--size") {
                cmd.args(["--size", "64KiB"]);
            }
            if verb == "generate" {
                cmd.arg("-o");
            }
            let out = cmd.arg(&path).args(extra).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            if verb == "generate" && extra.contains(&"0") {
                // generate refuses the endless stream without --length first.
                assert_eq!(out.status.code(), Some(2), "{err}");
                continue;
            }
            assert_eq!(out.status.code(), Some(2), "{verb} {extra:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains(want), "{verb} {extra:?}: {err}");
        }
    }
}

#[test]
fn report_merge_adds_up_the_parts_as_json_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.bin");
    let data = ["--size", "6MiB", "--seed", "8", "--block-size", "64KiB"];
    let mut writes = Vec::new();
    let mut verifies = Vec::new();
    for i in 0..2 {
        let part = format!("{i}/2");
        for (verb, list) in [("generate", &mut writes), ("verify", &mut verifies)] {
            let mut cmd = dgen();
            cmd.args([verb, "--json", "--part", &part]).args(data);
            if verb == "generate" {
                cmd.arg("-o");
            }
            let out = cmd.arg(&path).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(
                v["start_time"].as_f64().unwrap() > 1.6e9 && v["end_time"].as_f64() >= v["start_time"].as_f64(),
                "{v}"
            );
            assert!(v["latency_histogram"].as_str().unwrap().contains(':'), "{v}");
            let file = dir.path().join(format!("{verb}{i}.json"));
            std::fs::write(&file, &out.stdout).unwrap();
            list.push(file);
        }
    }
    for (list, op) in [(&writes, "write"), (&verifies, "verify")] {
        let out = dgen().args(["report", "merge", "--json"]).args(list).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["reports"], 2);
        assert_eq!(v["operation"], op);
        assert_eq!(
            (v["bytes"].as_u64(), v["offset"].as_u64(), v["length"].as_u64()),
            (Some(6 << 20), Some(0), Some(6 << 20))
        );
        assert_eq!(v["ios"], 96);
        assert!(v["latency_us"]["p99"].as_f64().unwrap() > 0.0, "{v}");
        let out = dgen().args(["report", "merge"]).args(list).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("reports: 2") && text.contains("6291456 bytes in") && text.contains("latency: p50"),
            "{text}"
        );
    }
    // A part that failed fails the merge, at its first wrong byte.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[5_000_000] ^= 0x80;
    std::fs::write(&path, &bytes).unwrap();
    let out = dgen().args(["verify", "--json", "--part", "1/2"]).args(data).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(&verifies[1], &out.stdout).unwrap();
    let out = dgen().args(["report", "merge", "--json"]).args(&verifies).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["passed"].as_bool(), v["mismatch_offset"].as_u64()), (Some(false), Some(5_000_000)), "{v}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("first wrong byte at offset 5000000") && err.lines().count() == 1, "{err}");
    // Reports that do not belong together, or are not reports.
    let out =
        dgen().args(["report", "merge", writes[0].to_str().unwrap(), verifies[0].to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot merge a write report with a verify report"));
    std::fs::write(dir.path().join("x.json"), "not json").unwrap();
    let out = dgen().args(["report", "merge"]).arg(dir.path().join("x.json")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no JSON report"));
}

/// `dgen ARGS` in `dir`, as (exit code, stderr).
fn dgen_in(dir: &std::path::Path, args: &str) -> (i32, String) {
    let out = dgen().current_dir(dir).args(args.split_whitespace()).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_state_makes_each_rerun_write_new_versions_and_verify_catches_lost_writes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = "--size 8MiB --dedup 2 --compress 3 --seed 3";
    // The first run through a new state writes the dataset itself.
    let (code, err) = dgen_in(d, &format!("generate {data} -o f --state s --iodepth 4 --block-size 64KiB"));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("state s: 2048 of 2048 units written, 0 overwritten, latest version 0"), "{err}");
    assert!(fs::read(d.join("f")).unwrap() == library_bytes(8 << 20, 2.0, 3.0, 4096, 3));
    let old = fs::read(d.join("f")).unwrap();
    // A rerun writes version 1 of every unit: no unit keeps its bytes.
    let (code, err) = dgen_in(d, &format!("generate {data} -o f --state s --jobs 2"));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2048 overwritten, latest version 1"), "{err}");
    let new = fs::read(d.join("f")).unwrap();
    assert!(old.chunks(4096).zip(new.chunks(4096)).all(|(a, b)| a != b));
    let (code, err) = dgen_in(d, &format!("verify f {data} --state s"));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("state: 2048 units right, 0 wrong"), "{err}");
    // Without the state every block is wrong, and the hint says why.
    let (code, err) = dgen_in(d, &format!("verify f {data}"));
    assert_eq!(code, 1);
    assert!(err.contains("overwritten with a write state (verify with it)"), "{err}");
    // Units 5 and 700 lose their overwrite (the old bytes are back), unit
    // 9 gets unit 1000's data, unit 11 is zeroed.
    let mut bytes = new.clone();
    let at = |u: usize| u * 4096..(u + 1) * 4096;
    for u in [5, 700] {
        bytes[at(u)].copy_from_slice(&old[at(u)]);
    }
    let other = new[at(1000)].to_vec();
    bytes[at(9)].copy_from_slice(&other);
    bytes[at(11)].fill(0);
    fs::write(d.join("f"), &bytes).unwrap();
    let out =
        dgen().current_dir(d).args(format!("verify f {data} --state s --json").split_whitespace()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dgen: state: 2 stale: 20480 (version 0 of 1), 2867200 (version 0 of 1)"), "{err}");
    assert!(err.contains("4 of 2048 units checked are wrong: 2 stale (lost writes) from offset 20480, 1 misplaced from offset 36864, 1 zero from offset 45056"), "{err}");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let st = &j["state"];
    assert_eq!(
        (st["stale"].as_u64(), st["misplaced"].as_u64(), st["zero"].as_u64(), st["corrupt"].as_u64()),
        (Some(2), Some(1), Some(1), Some(0))
    );
    assert_eq!(st["first_stale"], "20480 2867200");
    // state show, as text and JSON.
    let out = dgen().current_dir(d).args(["state", "show", "s", "--json"]).output().unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (j["units"].as_u64(), j["overwritten"].as_u64(), j["max_version"].as_u64()),
        (Some(2048), Some(2048), Some(1))
    );
    dgen().current_dir(d).args(["state", "show", "s"]).assert().success().stdout(predicate::str::contains(
        "units: 2048 in all, 2048 written (0 once, 2048 overwritten), 0 never written",
    ));
}

#[test]
fn a_state_that_cannot_be_used_is_one_line_and_the_file_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, err) = dgen_in(d, "generate --size 1MiB --seed 3 -o f --state s");
    assert_eq!(code, 0, "{err}");
    let before = fs::read(d.join("s")).unwrap();
    for (args, says) in [
        (
            "generate --size 1MiB --seed 4 -o f --state s",
            "--state: state file s is for another dataset: its seed is 3, this run's is 4",
        ),
        ("verify f --size 2MiB --seed 3 --state s", "its size is 1048576, this run's is 2097152"),
        (
            "generate --size 1MiB --seed 3 -o f --state s --dedup-unit 8KiB",
            "its dedup_unit is 4096, this run's is 8192",
        ),
        ("generate --size 1MiB --seed 3 -o - --state s", "a write state needs a regular file or block device"),
        ("verify f --size 1MiB --seed 3 --state nothing", "cannot open state file nothing"),
        ("state show f", "state file f: not a dgen state file"),
    ] {
        let out =
            dgen().current_dir(d).args(args.split_whitespace()).stdout(std::process::Stdio::null()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{args}: {err}");
        assert!(err.contains(says), "{args}: {err}");
        assert_eq!(err.lines().filter(|l| l.contains("error")).count(), 1, "{err}");
    }
    let (code, err) = dgen_in(d, "generate --size 1MiB --seed 3 -o g --state t --dedup-unit 8KiB --block-size 4KiB");
    assert_eq!(code, 2);
    assert!(err.contains("multiples of the dedup unit (8192), got offset 0 and block size 4096"), "{err}");
    assert!(fs::read(d.join("s")).unwrap() == before, "a refused state is untouched");
}
