#!/usr/bin/env bash
# Runs every test suite of libdgen: formatting, Rust (library and CLI, and the library
# again with --features hwloc), C/C++ (ctest, sanitizers, valgrind,
# install/consumer checks), Go, fio, Python, MPI, storage I/O, write states,
# object storage on a real S3 server, real btrfs and the README's code
# blocks. Installs what a fresh Debian machine lacks. Every suite runs even when an earlier one fails;
# the exit status is non-zero when any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

# The Rust toolchain comes from rustup, never from apt: Debian's rustc (1.63
# on Debian 12) is older than the rust-version Cargo.toml asks for, and a
# build with it fails far from the cause. Stop here with the reason instead.
export PATH="$HOME/.cargo/bin:$PATH"
need_rust=$(sed -n 's/^rust-version *= *"\([0-9.]*\)"/\1/p' Cargo.toml)
have_rust=$(rustc --version 2>/dev/null | sed -n 's/^rustc \([0-9][0-9.]*\).*/\1/p')
if ! command -v cargo >/dev/null || [ -z "$have_rust" ] ||
    [ "$(printf '%s\n%s\n' "$need_rust" "$have_rust" | sort -V | head -1)" != "$need_rust" ]; then
    echo "test-all: Rust $need_rust or newer is needed (Cargo.toml rust-version); found: ${have_rust:-no rustc/cargo}." >&2
    if command -v rustup >/dev/null; then
        echo "  rustup is installed: run 'rustup toolchain install stable' and 'rustup default stable'." >&2
    else
        echo "  Install rustup's toolchain (not Debian's rustc, which is older):" >&2
        echo "    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal" >&2
        echo "  then open a new shell (or . \"\$HOME/.cargo/env\") and run this script again." >&2
    fi
    exit 1
fi

need_apt=()
command -v cc >/dev/null || need_apt+=(build-essential)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
[ -e /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
# For the build with --features hwloc (topology from hwloc instead of sysfs).
[ -e /usr/include/hwloc.h ] || need_apt+=(libhwloc-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "+ apt-get install ${need_apt[*]}"
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

passed=0
failed=0
failures=()
suite() {
    local name=$1
    shift
    echo
    echo "=== suite: $name: $*"
    local start=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "=== suite: $name: ok ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "=== suite: $name: FAILED ($((SECONDS - start)) s)"
    fi
}

# Formatting, by the committed rustfmt.toml (rustup adds rustfmt when missing).
fmt_check() {
    if ! cargo fmt --version >/dev/null 2>&1 && command -v rustup >/dev/null; then
        echo "+ rustup component add rustfmt"
        rustup component add rustfmt || return 1
    fi
    cargo fmt --all --check
}

suite fmt fmt_check
suite rust cargo test --workspace --release
# The library again with topology from hwloc: its own tests (synthetic
# topologies) and every library test that threads or topology could touch
# (the ratio sweeps measure bytes that the first run already checked).
rust_hwloc() {
    cargo test --release -p libdgen --features hwloc --lib --test topology --test topology_hwloc \
        --test reproducible --test errors --test lifecycle --test storage &&
        cargo test --release -p libdgen-ffi --features hwloc
}
suite rust-hwloc rust_hwloc
for s in c go fio python mpi storage state s3 btrfs readme; do
    if [ -f "scripts/test-$s.sh" ]; then
        suite "$s" bash "scripts/test-$s.sh"
    fi
done

echo
if [ $failed -gt 0 ]; then echo "failed suites: ${failures[*]}"; fi
echo "suites: $passed passed, $failed failed"
[ $failed -eq 0 ]
