//! Bad input is an error that names the field and the value, never a panic;
//! out-of-range requests are refused; verification pinpoints wrong bytes.

use dgen::{Config, Error, Generator};

fn rejected(cfg: Config, field: &str, value: &str) {
    match Generator::new(cfg.clone()) {
        Err(e @ Error::InvalidConfig { .. }) => {
            let msg = e.to_string();
            let Error::InvalidConfig { field: f, value: v, .. } = &e else { unreachable!() };
            assert_eq!(*f, field, "{cfg:?}");
            assert_eq!(v, value, "{cfg:?}");
            assert!(msg.starts_with(field) && msg.contains(value), "message {msg:?} names field and value");
        }
        other => panic!("{cfg:?} was not rejected: {other:?}"),
    }
}

#[test]
fn every_invalid_config_value_is_named() {
    let d = Config::default();
    for (v, s) in [
        (0.5, "0.5"),
        (0.0, "0"),
        (-1.0, "-1"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (1025.0, "1025"),
        (1e300, "1e300"),
    ] {
        rejected(Config { dedup_ratio: v, ..d.clone() }, "dedup_ratio", s);
    }
    for (v, s) in [(0.99, "0.99"), (f64::NAN, "NaN"), (f64::INFINITY, "inf"), (32.5, "32.5"), (-3.0, "-3")] {
        rejected(Config { compress_ratio: v, ..d.clone() }, "compress_ratio", s);
    }
    for v in [0u32, 1, 1000, 4095, 4097, 6144, (64 << 20) + 4096, u32::MAX] {
        rejected(Config { dedup_unit: v, ..d.clone() }, "dedup_unit", &v.to_string());
    }
    rejected(Config { threads: 5000, ..d.clone() }, "threads", "5000");
    let e = Generator::new(Config { dedup_ratio: 0.5, ..d }).unwrap_err();
    assert_eq!(e.to_string(), "dedup_ratio must be a number from 1.0 to 1024.0, got 0.5");
}

#[test]
fn limits_themselves_are_accepted() {
    for cfg in [
        Config { dedup_ratio: 1024.0, compress_ratio: 32.0, ..Config::default() },
        Config { dedup_unit: 64 << 20, threads: 4096, ..Config::default() },
        Config { dedup_unit: 12288, ..Config::default() },
    ] {
        let g = Generator::new(cfg).unwrap();
        let mut buf = vec![0u8; 100_000];
        g.fill_at(12345, &mut buf).unwrap();
        g.verify_at(12345, &buf).unwrap();
    }
}

#[test]
fn ranges_past_the_end_are_refused() {
    let g = Generator::new(Config { size: 10_000, seed: Some(1), ..Config::default() }).unwrap();
    let mut buf = [0u8; 100];
    assert!(g.fill_at(9_900, &mut buf).is_ok());
    assert!(g.fill_at(10_000, &mut []).is_ok(), "an empty range at the end is fine");
    let e = g.fill_at(9_901, &mut buf).unwrap_err();
    assert_eq!(e, Error::OutOfRange { offset: 9_901, len: 100, size: 10_000 });
    assert!(e.to_string().contains("9901") && e.to_string().contains("10000"));
    assert!(matches!(g.fill_at(u64::MAX, &mut buf), Err(Error::OutOfRange { .. })));
    assert!(matches!(g.verify_at(10_001, &[]), Err(Error::OutOfRange { .. })));

    let endless = Generator::new(Config { seed: Some(1), ..Config::default() }).unwrap();
    let e = endless.fill_at(u64::MAX - 10, &mut buf).unwrap_err();
    assert!(matches!(e, Error::OutOfRange { size: 0, .. }));
    assert!(e.to_string().contains("2^64"));

    let mut g = Generator::new(Config { size: 10_000, seed: Some(1), ..Config::default() }).unwrap();
    assert!(g.set_position(10_001).is_err());
    g.set_position(9_990).unwrap();
    assert_eq!(g.fill(&mut buf).unwrap(), 10, "short last fill");
    assert!(g.is_complete());
    assert_eq!(g.fill(&mut buf).unwrap(), 0);
}

#[test]
fn verify_reports_the_exact_offset_of_the_first_wrong_byte() {
    let g = Generator::new(Config {
        size: 64 << 20,
        compress_ratio: 2.0,
        dedup_ratio: 2.0,
        seed: Some(9),
        threads: 2,
        ..Config::default()
    })
    .unwrap();
    let base = 1_000_003u64;
    let mut buf = vec![0u8; 20 << 20];
    g.fill_at(base, &mut buf).unwrap();
    g.verify_at(base, &buf).unwrap();
    for at in [0usize, 1, 4095, 4096, 777_777, (20 << 20) - 1] {
        let mut bad = buf.clone();
        bad[at] ^= 0x10;
        // A second, later flip must not hide the first.
        let later = (at + 5_000_000).min(bad.len() - 1);
        if later != at {
            bad[later] ^= 1;
        }
        match g.verify_at(base, &bad) {
            Err(Error::Mismatch { offset, expected, actual }) => {
                assert_eq!(offset, base + at as u64);
                assert_eq!(expected, buf[at]);
                assert_eq!(actual, buf[at] ^ 0x10);
            }
            other => panic!("flip at {at} not found: {other:?}"),
        }
    }
}

#[test]
fn generator_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Generator>();
}

#[test]
fn an_empty_range_is_refused_past_the_end_and_allowed_at_it() {
    let g = Generator::new(Config { size: 10_000, seed: Some(1), ..Config::default() }).unwrap();
    assert!(g.fill_at(10_000, &mut []).is_ok());
    assert!(g.verify_at(10_000, &[]).is_ok());
    assert_eq!(g.fill_at(10_001, &mut []), Err(Error::OutOfRange { offset: 10_001, len: 0, size: 10_000 }));
    assert_eq!(g.verify_at(10_001, &[]), Err(Error::OutOfRange { offset: 10_001, len: 0, size: 10_000 }));
}

#[test]
fn threads_above_the_cpus_are_accepted_and_capped() {
    let allowed = dgen::Topology::current().allowed.len();
    for asked in [allowed + 1, 4096] {
        let g = Generator::new(Config { threads: asked, seed: Some(4), ..Config::default() }).unwrap();
        assert_eq!(g.threads(), allowed, "threads {asked} on {allowed} CPUs");
        let mut buf = vec![0u8; 4 << 20];
        g.fill_at(0, &mut buf).unwrap();
        g.verify_at(0, &buf).unwrap();
    }
    let g = Generator::new(Config { threads: 1, ..Config::default() }).unwrap();
    assert_eq!(g.threads(), 1);
}

#[test]
fn seeking_past_the_end_is_refused_and_keeps_the_position() {
    use std::io::{ErrorKind, Seek, SeekFrom};
    let mut g = Generator::new(Config { size: 10_000, seed: Some(1), ..Config::default() }).unwrap();
    g.seek(SeekFrom::Start(400)).unwrap();
    for bad in [SeekFrom::Start(10_001), SeekFrom::End(1), SeekFrom::Current(-401), SeekFrom::Current(i64::MAX)] {
        let e = g.seek(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
        assert_eq!(g.position(), 400, "{bad:?} moved the position");
    }
    let e = g.seek(SeekFrom::Start(10_001)).unwrap_err();
    assert_eq!(
        e.into_inner().unwrap().downcast::<Error>().unwrap().to_string(),
        Error::OutOfRange { offset: 10_001, len: 0, size: 10_000 }.to_string()
    );
    let mut endless = Generator::new(Config { seed: Some(1), ..Config::default() }).unwrap();
    let e = endless.seek(SeekFrom::End(0)).unwrap_err();
    assert!(e.to_string().contains("endless"), "{e}");
    assert_eq!(endless.seek(SeekFrom::Start(u64::MAX)).unwrap(), u64::MAX);
}

#[test]
fn generate_refuses_sizes_no_vector_holds() {
    for (size, shown) in [(0u64, "0"), (u64::MAX, "18446744073709551615"), (1 << 63, "9223372036854775808")] {
        match dgen::generate(Config { size, ..Config::default() }) {
            Err(Error::InvalidConfig { field: dgen::Field::Size, value, .. }) => assert_eq!(value, shown),
            other => panic!("generate(size {size}) = {:?}", other.map(|v| v.len())),
        }
    }
    // A bad field is named as by Generator::new.
    let e = dgen::generate(Config { size: 10, dedup_ratio: 0.5, ..Config::default() }).unwrap_err();
    assert!(e.to_string().starts_with("dedup_ratio"), "{e}");
}

/// For every config field with numeric bounds: the bounds are accepted, a
/// step past either is refused naming the field, and the message gives the
/// same bounds as `Field::bounds` (so no face has to copy them).
#[test]
fn bounds_and_validation_agree_for_every_config_field() {
    use dgen::{ErrorKind, Field};
    type Set = fn(&mut Config, f64);
    let fields: [(Field, Set, f64); 4] = [
        (Field::DedupRatio, |c, v| c.dedup_ratio = v, 0.5),
        (Field::CompressRatio, |c, v| c.compress_ratio = v, 0.5),
        (Field::DedupUnit, |c, v| c.dedup_unit = v as u32, 4096.0),
        (Field::Threads, |c, v| c.threads = v as usize, 1.0),
    ];
    for (field, set, step) in fields {
        let b = field.bounds().expect("numeric");
        for ok in [b.min, b.max] {
            let mut cfg = Config::default();
            set(&mut cfg, ok);
            assert_eq!(cfg.validate(), Ok(()), "{field} = {ok}");
        }
        for bad in [b.min - step, b.max + step] {
            if bad < 0.0 {
                continue;
            }
            let mut cfg = Config::default();
            set(&mut cfg, bad);
            let e = cfg.validate().unwrap_err();
            assert_eq!((e.kind(), e.field()), (ErrorKind::InvalidConfig, Some(field)), "{field} = {bad}");
            let text = e.to_string();
            let shown = |v: f64| if step < 1.0 { format!("{v:.1}") } else { format!("{v}") };
            assert!(text.contains(&shown(b.min)) && text.contains(&shown(b.max)), "{text}");
        }
    }
    // A named compressor caps compress_ratio; Config::bounds says where.
    let cfg = Config { compressor: dgen::Compressor::Lz4, ..Config::default() };
    let cap = cfg.bounds(Field::CompressRatio).unwrap().max;
    assert!(cap <= dgen::MAX_COMPRESS_RATIO);
    assert!(Config { compress_ratio: cap, ..cfg.clone() }.validate().is_ok());
    if cap < dgen::MAX_COMPRESS_RATIO {
        assert!(Config { compress_ratio: cap + 0.05, ..cfg }.validate().is_err());
    }
}

/// Storage and state errors convert into the one `Error`, keeping their
/// kind, field and report.
#[test]
fn storage_errors_convert_with_kind_field_and_report() {
    use dgen::{ErrorKind, Field};
    let opts = dgen::storage::IoOptions { block_size: 1000, ..Default::default() };
    let e: Error = opts.validate().unwrap_err().into();
    assert_eq!((e.kind(), e.field()), (ErrorKind::InvalidOption, Some(Field::BlockSize)));
    assert!(e.report().is_some());
    assert!(e.to_string().starts_with("block_size must be a multiple of 4096"), "{e}");
}
