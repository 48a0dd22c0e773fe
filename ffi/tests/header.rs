//! The committed C header must be what cbindgen makes of ffi/src/ today;
//! a stale header would hand C users declarations that no longer match.
//!
//! Regenerate it with `DGEN_BLESS=1 cargo test -p libdgen-ffi --test header`.

use std::path::Path;

fn generate() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("read cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("header is UTF-8")
}

#[test]
fn committed_header_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/dgen.h");
    let fresh = generate();
    if std::env::var_os("DGEN_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write include/dgen.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        let line = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(fresh.lines().count()))
            + 1;
        panic!(
            "include/dgen.h is stale (first difference at line {line}).\n\
             Regenerate it with:\n    DGEN_BLESS=1 cargo test -p libdgen-ffi --test header\n\
             and commit the result."
        );
    }
}

#[test]
fn header_version_macros_match_the_crate() {
    let header = generate();
    for (name, value) in [
        ("DGEN_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("DGEN_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("DGEN_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let want = format!("#define {name} {value}\n");
        assert!(header.contains(&want), "cbindgen.toml must define `{}`", want.trim());
    }
    let want = format!("#define DGEN_VERSION \"{}\"\n", env!("CARGO_PKG_VERSION"));
    assert!(header.contains(&want), "cbindgen.toml must define `{}`", want.trim());
}
