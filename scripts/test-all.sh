#!/usr/bin/env bash
# Runs every test suite of libdgen: formatting, Rust (library and CLI, and the library
# again with --features hwloc), C/C++ (ctest, sanitizers, valgrind,
# install/consumer checks), Go and fio. Installs what a
# fresh Debian machine lacks. Every suite runs even when an earlier one fails;
# the exit status is non-zero when any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

need_apt=()
command -v cc >/dev/null || need_apt+=(build-essential)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
[ -e /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
# For the build with --features hwloc (topology from hwloc instead of sysfs).
[ -e /usr/include/hwloc.h ] || need_apt+=(libhwloc-dev)
if ! command -v cargo >/dev/null; then
    # Debian's cargo may be older than rust-version in Cargo.toml; rustup's
    # toolchain is preferred where it can be installed.
    need_apt+=(cargo rustc)
fi
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
# topologies) and every other library test, which must not see a difference.
suite rust-hwloc cargo test --release -p libdgen --features hwloc
for s in c go fio storage; do
    if [ -f "scripts/test-$s.sh" ]; then
        suite "$s" bash "scripts/test-$s.sh"
    fi
done

echo
if [ $failed -gt 0 ]; then echo "failed suites: ${failures[*]}"; fi
echo "suites: $passed passed, $failed failed"
[ $failed -eq 0 ]
