//! Gives the shared library a versioned SONAME (`libdgen.so.0`), so that
//! programs linked against it keep loading the same ABI major version and
//! installs can carry the usual `libdgen.so -> libdgen.so.0 -> libdgen.so.X.Y.Z`
//! chain.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    // ELF platforms with a GNU-compatible linker take -soname; macOS and
    // Windows name their libraries differently.
    let elf = matches!(os.as_str(), "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly");
    if elf && env != "msvc" {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libdgen.so.{major}");
    }
}
