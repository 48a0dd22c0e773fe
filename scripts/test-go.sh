#!/usr/bin/env bash
# The Go binding, end to end: vet and tests under the race detector in
# bindings/go, a module outside it that requires it through a replace, the
# same tests linked to an installed libdgen through pkg-config, the
# cross-language golden hash, and a short benchmark run that prints MB/s and
# the share of the C speed.
#
#   scripts/test-go.sh          (run as root on Debian 12; installs what is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

. scripts/lib.sh

step "tools"
# shellcheck disable=SC2046 # one package a word
apt_install $(missing_commands go:golang-go gcc cmake make pkg-config)
export PATH="$HOME/.cargo/bin:$PATH"
go version

step "cargo build --release (target/release/libdgen.a, linked by default)"
run cargo build --release -p libdgen-ffi

golden=$(sed -n 's/^const golden16MiB = "\([0-9a-f]*\)"$/\1/p' bindings/go/dgen_test.go)
grep -q "$golden" ffi/src/tests.rs tests/c/golden.h || { echo "the Go golden hash differs from the Rust/C one" >&2; exit 1; }
f32_golden=$(sed -n 's/^const goldenF32 = "\([0-9a-f]*\)"$/\1/p' bindings/go/vectors_test.go)
[ -n "$f32_golden" ] && grep -q "GOLDEN_F32: &str = \"$f32_golden\"" ffi/src/tests.rs \
  && grep -q "DGEN_GOLDEN_F32_SHA256 \"$f32_golden\"" tests/c/golden.h \
  || { echo "the Go float32 golden hash differs from the Rust/C one" >&2; exit 1; }
v1_golden=$(sed -n 's/^const goldenV1 = "\([0-9a-f]*\)"$/\1/p' bindings/go/state_test.go)
[ -n "$v1_golden" ] && grep -q "GOLDEN_V1_16MIB: &str = \"$v1_golden\"" tests/state.rs \
  && grep -q "DGEN_GOLDEN_V1_SHA256 \"$v1_golden\"" tests/c/golden.h \
  || { echo "the Go write-version golden hash differs from the Rust/C one" >&2; exit 1; }

step "bindings/go: go vet, go test -race"
(cd bindings/go && run go vet ./... && run go test -race -count=1 ./...)

step "a module that requires the binding through a replace"
(
  cd tests/go-consumer
  run go vet ./...
  run go test -count=1 ./...
  run go build -o "$root/target/dgen-go-consumer" .
)
got=$("$root/target/dgen-go-consumer")
echo "golden SHA-256 from Go: $got"
[ "$got" = "$golden" ] || { echo "expected $golden" >&2; exit 1; }

step "the binding linked to an installed libdgen through pkg-config (-tags dgen_pkgconfig)"
# Go's build cache keeps the linker flags pkg-config gave under a key that
# does not follow PKG_CONFIG_PATH, so a shared cache can hand back a -L for a
# prefix that is gone. This stage uses its own cache, next to its own fixed
# prefix in the build tree.
prefix=$root/build/go-install/prefix
export GOCACHE=$root/build/go-install/gocache
rm -rf "$prefix" "$GOCACHE"
run cmake -S . -B build/go-install -DCMAKE_BUILD_TYPE=Release -DDGEN_BUILD_TESTS=OFF -DDGEN_BUILD_EXAMPLES=OFF \
  -DCMAKE_INSTALL_PREFIX="$prefix"
run cmake --build build/go-install -j2
run cmake --install build/go-install
pcdir=$(dirname "$(find "$prefix" -name dgen.pc | head -1)")
libdir=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir dgen)
(
  cd bindings/go
  export PKG_CONFIG_PATH=$pcdir LD_LIBRARY_PATH=$libdir
  run go test -tags dgen_pkgconfig -count=1 ./...
  run go test -tags dgen_pkgconfig -c -o "$prefix/dgen.test" .
  # Read whole before matching: `grep -q` stops at the first match, and under
  # pipefail the writer's SIGPIPE would fail the check.
  linked=$(ldd "$prefix/dgen.test")
  grep libdgen <<<"$linked"
  grep -q "libdgen.so.0 => $libdir/" <<<"$linked" || { echo "not linked to the installed libdgen" >&2; exit 1; }
)

step "benchmarks (figures only; nothing is asserted on speed)"
(cd bindings/go && run go test -run '^$' -bench . -benchtime 300ms .)

echo
echo "test-go: all stages passed (vet, race tests, consumer module, pkg-config build, golden hash)"
