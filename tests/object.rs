//! dgen::object against a real S3 server: scripts/test-s3.sh starts one on
//! 127.0.0.1 and runs these with DGEN_S3_ENDPOINT and DGEN_S3_BUCKET set
//! (and the credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY);
//! without a server they say so and pass without checking anything else.
#![cfg(all(unix, feature = "s3"))]

use std::sync::atomic::AtomicBool;

use dgen::object::{
    self, Layout, Naming, ObjectControl, ObjectErrorKind, ObjectOptions, ObjectUrl, ProblemKind, SizeDist, Store,
};
use dgen::{Config, Generator};

/// The S3 server and bucket of scripts/test-s3.sh, or None (said on
/// stderr) when there is none and the test has nothing to run against.
fn server() -> Option<(Store, String)> {
    let (Ok(endpoint), Ok(bucket)) = (std::env::var("DGEN_S3_ENDPOINT"), std::env::var("DGEN_S3_BUCKET")) else {
        eprintln!("no S3 server: set DGEN_S3_ENDPOINT and DGEN_S3_BUCKET (scripts/test-s3.sh does)");
        return None;
    };
    Some((Store { endpoint: Some(endpoint), ..Store::default() }, bucket))
}

fn dataset(prefix: &str, seed: u64) -> (Layout, Generator) {
    let layout = Layout {
        prefix: prefix.into(),
        naming: Naming::Template("o{}.bin".into()),
        count: 10,
        sizes: SizeDist::Uniform { min: 1 << 20, max: 12 << 20 },
        seed,
    };
    let cfg = Config {
        size: layout.total().unwrap(),
        dedup_ratio: 2.0,
        compress_ratio: 3.0,
        seed: Some(seed),
        ..Config::default()
    };
    (layout, Generator::new(cfg).unwrap())
}

#[test]
fn mixed_sizes_put_in_parts_and_verify_object_by_object() {
    let Some((store, bucket)) = server() else { return };
    let url = ObjectUrl::parse(&format!("s3://{bucket}/rust-mixed/")).unwrap();
    let (layout, gen) = dataset(&url.prefix, 21);
    let opts = ObjectOptions { jobs: 4, part_size: 5 << 20, create_bucket: true };
    let put = object::put_objects(&gen, &store, &url, &layout, &opts, &ObjectControl::default()).unwrap();
    let specs = layout.objects().unwrap();
    let large = specs.iter().filter(|o| o.size > 5 << 20).count() as u64;
    let parts: u64 = specs.iter().map(|o| if o.size > 5 << 20 { o.size.div_ceil(5 << 20) } else { 1 }).sum();
    assert_eq!((put.objects, put.bytes, put.multipart_objects, put.requests), (10, gen.size(), large, parts));
    assert!(put.request_latency.p50 > 0.0 && put.worker_seconds > 0.0);
    assert!(put.to_json().contains("\"multipart_objects\": "));

    let ok = object::verify_objects(&gen, &store, &url, &layout, &opts, &ObjectControl::default()).unwrap();
    assert!(ok.passed(), "{:?}", ok.problem());
    assert_eq!((ok.objects, ok.bytes), (10, gen.size()));
    assert!(ok.first_byte.p50 > 0.0);

    // The same keys and sizes from another generator seed: every object is
    // wrong at its first byte.
    let other = Generator::new(Config { seed: Some(22), ..gen.config().clone() }).unwrap();
    let bad = object::verify_objects(&other, &store, &url, &layout, &opts, &ObjectControl::default()).unwrap();
    assert_eq!(bad.wrong, 10);
    assert!(bad.problems.iter().all(|p| p.kind == ProblemKind::Wrong && p.offset == Some(0)));
}

#[test]
fn a_cancelled_put_stops_before_its_first_object() {
    let Some((store, bucket)) = server() else { return };
    let url = ObjectUrl::parse(&format!("s3://{bucket}/rust-cancel/")).unwrap();
    let (layout, gen) = dataset(&url.prefix, 23);
    let cancel = AtomicBool::new(true);
    let control = ObjectControl { cancel: Some(&cancel), started: None };
    let opts = ObjectOptions { create_bucket: true, ..ObjectOptions::default() };
    let e = object::put_objects(&gen, &store, &url, &layout, &opts, &control).unwrap_err();
    assert_eq!(e.kind, ObjectErrorKind::Interrupted);
    assert_eq!((e.report.objects, e.report.aborted_uploads), (0, 0));
    assert!(e.report.interrupted);
}
