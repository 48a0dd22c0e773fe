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
    dgen()
        .arg("verify")
        .arg(&path)
        .args(opts)
        .assert()
        .success()
        .stderr(predicate::str::contains("all 10485760 bytes match"));
    let mut data = fs::read(&path).unwrap();
    data[7_654_321] ^= 0x40;
    fs::write(&path, &data).unwrap();
    dgen().arg("verify").arg(&path).args(opts).assert().code(1).stderr(
        predicate::str::contains("first wrong byte at offset 7654321")
            .and(predicate::str::contains("1 of 2560 4 KiB blocks are wrong")),
    );
    // Other options describe other data.
    data[7_654_321] ^= 0x40;
    fs::write(&path, &data).unwrap();
    dgen().arg("verify").arg(&path).args(["--dedup", "3", "--compress", "2", "--seed", "5"]).assert().code(1);
    // A truncated file.
    fs::write(&path, &data[..5_000_000]).unwrap();
    dgen()
        .arg("verify")
        .arg(&path)
        .args(opts)
        .args(["--size", "10MiB"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is 5000000 bytes, the dataset is 10485760"));
}

fn analyze_json(path: &std::path::Path) -> serde_json::Value {
    let out = dgen().arg("analyze").arg(path).arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
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
    for codec in ["zstd-1", "zstd-3", "lz4", "gzip-6"] {
        for chunk in ["4096", "32768", "131072", "1048576"] {
            assert!(v["compression"][codec][chunk].as_f64().unwrap() > 1.0, "{codec} {chunk}");
        }
    }
    let z = v["compression"]["zstd-1"]["131072"].as_f64().unwrap();
    assert!((z / 2.0 - 1.0).abs() < 0.05, "zstd-1 {z}");

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
        (vec!["generate", "--size", "1M", "--direct"], "--direct needs an output file"),
        (vec!["generate", "--size", "1M", "-o", "/nonexistent-dir/x"], "cannot write /nonexistent-dir/x"),
        (vec!["verify", "/nonexistent-file", "--seed", "1"], "cannot open /nonexistent-file"),
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
    let mut first = [0u8; 10];
    std::io::Read::read_exact(&mut out, &mut first).unwrap();
    drop(out);
    let status = child.wait().unwrap();
    assert!(status.success());
}
