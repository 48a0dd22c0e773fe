//! `dgen put`, `get` and `verify s3://...` without a server: every bad input
//! is one line and exit 2, before any request. scripts/test-s3.sh runs them
//! against a real S3 server.

use std::process::Command;

use assert_cmd::prelude::*;

fn refused(args: &[&str], needle: &str) {
    let out =
        Command::cargo_bin("dgen").unwrap().args(args).env("AWS_ENDPOINT_URL", "http://127.0.0.1:9").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    refused(&["put", "s3://bench/x/", "--objects", "1", "--object-size", "0"], "--object-size");
    refused(&["put", "s3://bench/x/", "--objects", "0", "--object-size", "1MiB"], "--objects");
    refused(&["put", "bench/x/", "--objects", "1", "--object-size", "1MiB"], "not an S3 URL");
    refused(&["put", "s3://b/x", "--objects", "1", "--object-size", "1MiB"], "not a valid bucket name");
    refused(&["put", "s3://bench/x/", "--objects", "1", "--object-size", "1MiB", "--part-size", "4MiB"], "--part-size");
    refused(&["put", "s3://bench/x/", "--objects", "1"], "--object-size");
    refused(&["put", "s3://bench/x/", "--objects", "1", "--object-size", "1MiB", "--sizes", "fixed:1MiB"], "give one");
    refused(&["put", "s3://bench/x/", "--objects", "1", "--sizes", "normal:1:2"], "--sizes");
    refused(&["put", "s3://bench/x/", "--objects", "1", "--object-size", "1MiB", "--name", "x"], "--name");
    refused(&["put", "s3://bench/x/", "--objects", "1", "--object-size", "1MiB", "--dedup", "0.5"], "--dedup");
    refused(
        &["put", "s3://bench/x/", "--objects", "1", "--object-size", "1MiB", "--endpoint", "ftp://h"],
        "--endpoint",
    );
    refused(&["put", "s3://bench/x/", "--objects", "1", "--object-size", "1MiB", "--access-key", "k"], "--secret-key");
    refused(&["get", "s3://bench/x/", "--objects", "1", "--object-size", "1MiB"], "--seed");
    refused(&["verify", "s3://bench/x/", "--objects", "1", "--object-size", "1MiB"], "--seed");
    refused(&["verify", "s3://bench/x/", "--seed", "1", "--object-size", "1MiB"], "--objects");
}

#[test]
fn an_unreachable_server_is_a_runtime_failure_in_one_line() {
    // Port 9 (discard) on loopback: nothing listens there.
    let out = Command::cargo_bin("dgen")
        .unwrap()
        .args(["put", "s3://bench/x/", "--objects", "1", "--object-size", "4KiB"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "k")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot reach http://127.0.0.1:9"), "{err}");
}
