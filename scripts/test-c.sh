#!/usr/bin/env bash
# The C and C++ faces of libdgen, end to end: the header is fresh, the C ABI
# tests pass (Rust side, C, C++), the C tests are clean under ASan+UBSan and
# valgrind, an installed libdgen works from an outside CMake project and
# through pkg-config (shared and static), and the examples run.
#
#   scripts/test-c.sh          (run as root on Debian 12; installs what is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

. scripts/lib.sh

step "tools"
need=$(missing_packages cmake make gcc g++ pkg-config valgrind libgtest-dev binutils)
if [ -n "$need" ]; then
  # shellcheck disable=SC2086 # one package a word
  apt_install $need
else
  echo "cmake, g++, pkg-config, valgrind, libgtest-dev: installed"
fi
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || { echo "cargo not found: install the Rust toolchain first" >&2; exit 1; }

step "cargo build --release (libdgen.so, libdgen.a)"
run cargo build --release -p libdgen-ffi
readelf -d target/release/libdgen.so | grep SONAME
# Read whole before matching: under pipefail a `grep -q` that stops early
# would fail the check through the writer's SIGPIPE.
dynamic=$(readelf -d target/release/libdgen.so)
grep -q 'SONAME.*\[libdgen\.so\.0\]' <<<"$dynamic" || { echo "SONAME is not libdgen.so.0" >&2; exit 1; }

step "header freshness and C ABI tests (Rust side)"
run cargo test --release -p libdgen-ffi

step "CMake build and ctest (C, C++, valgrind)"
run cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
run cmake --build build -j2
run ctest --test-dir build -j2 --output-on-failure

step "AddressSanitizer + UBSan (tests linked to libdgen.a)"
run cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDGEN_SANITIZE=ON -DDGEN_BUILD_EXAMPLES=OFF
run cmake --build build/asan -j2
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run ctest --test-dir build/asan -j2 --output-on-failure

step "installed libdgen from an outside project (find_package, pkg-config)"
run tests/consumer/run.sh build

step "examples"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run build/examples/c/dgen_stream_c "$out/c.bin" 32
run build/examples/cpp/dgen_stream_cpp "$out/cpp.bin" 32
run cmp "$out/c.bin" "$out/cpp.bin"

echo
echo "test-c: all stages passed (Rust FFI tests, ctest, ASan/UBSan, valgrind, consumer, examples)"
