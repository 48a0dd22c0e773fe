#!/usr/bin/env bash
# The Python package, end to end: rustfmt and clippy on the extension's
# crate, a wheel built by pip through maturin in a fresh venv, that wheel
# installed into a second fresh venv (no Rust needed there), the pytest suite
# run against the installed package, the wheel's symbols checked against the
# CPython 3.9 stable ABI, the type stubs checked against the package by
# mypy's stubtest, the cross-language golden hash, and a short benchmark run
# that prints figures next to the C ABI's.
#
#   scripts/test-python.sh          (run as root on Debian 12; installs what is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

. scripts/lib.sh

step "tools"
# shellcheck disable=SC2046 # one package a word
apt_install $(missing_commands python3 cc:gcc)
export PATH="$HOME/.cargo/bin:$PATH"
# Debian's python3 has no venv module (nor ensurepip) without python3-venv.
probe=$(mktemp -d)
if ! python3 -m venv "$probe/v" >/dev/null 2>&1; then
  apt_install python3-venv
fi
rm -rf "$probe"
python3 --version
cargo --version

step "the golden hashes are the ones Rust, C and Go check"
# same_golden WHAT NAME FILE C_NAME NOTE: the hash NAME in the Python test
# FILE (WHAT, in the message when they differ) equals C_NAME in
# tests/c/golden.h; prints it, followed by NOTE.
same_golden() {
  local py c
  py=$(sed -n "s/^$2 = \"\\([0-9a-f]*\\)\"\$/\\1/p" "bindings/python/tests/$3")
  c=$(sed -n "s/^#define $4 \"\\([0-9a-f]*\\)\"\$/\\1/p" tests/c/golden.h)
  [ -n "$py" ] && [ "$py" = "$c" ] || {
    echo "the Python $1 ($py) differs from tests/c/golden.h ($c)" >&2
    exit 1
  }
  echo "$py$5"
}
same_golden "golden hash" GOLDEN_SHA256 test_generator.py DGEN_GOLDEN_SHA256 ""
same_golden "float32 golden hash" GOLDEN_F32_SHA256 test_vectors.py DGEN_GOLDEN_F32_SHA256 " (float32)"
same_golden "write-version golden hash" GOLDEN_V1_SHA256 test_state.py DGEN_GOLDEN_V1_SHA256 " (version 1 through a write state)"

step "rustfmt and clippy on bindings/python (not in the cargo workspace)"
run cargo fmt --manifest-path bindings/python/Cargo.toml --check
# Its own target folder: maturin's builds set PYO3_PYTHON, which would make
# the two take turns rebuilding PyO3 in a shared one.
run cargo clippy --manifest-path bindings/python/Cargo.toml --release --target-dir bindings/python/target/clippy \
  -- -D warnings

# Both venvs live at fixed paths in the crate's target folder and are made
# anew each run: the build sees the same interpreter path every time, so
# cargo reuses what it built before.
venvs=$root/bindings/python/target/venvs
wheels=$root/bindings/python/target/wheels
rm -rf "$venvs" "$wheels"
mkdir -p "$venvs" "$wheels"

step "build the wheel with pip and maturin in a fresh venv"
run python3 -m venv "$venvs/build"
run "$venvs/build/bin/pip" install -q maturin
# What `pip install ./bindings/python` does, with the venv's maturin
# instead of one pip would fetch into a throwaway environment (maturin's
# build backend runs `maturin` from PATH).
PATH="$venvs/build/bin:$PATH" run "$venvs/build/bin/pip" wheel -q --no-build-isolation --no-deps -w "$wheels" \
  ./bindings/python
wheel=$(ls "$wheels"/libdgen-*.whl)
echo "$wheel"
case "$wheel" in
  *-cp39-abi3-*) ;;
  *) echo "expected one abi3 wheel for CPython 3.9 and later, got $wheel" >&2; exit 1 ;;
esac

step "the wheel's symbols: the CPython 3.9 stable ABI, and the buffer protocol"
# PyObject_GetBuffer and PyBuffer_Release joined the stable ABI in 3.11
# unchanged; every CPython 3 exports them, and the extension calls them on
# 3.9 and 3.10 too (see src/buffer.rs). Anything else past 3.9 fails here.
run "$venvs/build/bin/pip" install -q abi3audit
# It exits 1 for those two; the report below is what is checked.
"$venvs/build/bin/abi3audit" -R "$wheel" > "$wheels/abi3audit.json" || true
"$venvs/build/bin/python" - "$wheels/abi3audit.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
allowed = {"PyObject_GetBuffer", "PyBuffer_Release"}
for spec in report["specs"].values():
    for ext in spec["wheel"]:
        r = ext["result"]
        later = set(r["future_abi3_objects"])
        print(f'{ext["name"]}: baseline {r["baseline"]}, non-abi3 symbols {r["non_abi3_symbols"]}, '
              f'from later versions {sorted(later)}')
        assert r["is_abi3"] and r["baseline"] == "3.9", r
        assert not r["non_abi3_symbols"], r["non_abi3_symbols"]
        assert later <= allowed, later - allowed
EOF

step "install the wheel into a fresh venv and run the tests there"
run python3 -m venv "$venvs/test"
run "$venvs/test/bin/pip" install -q "$wheel" pytest numpy mypy
# The package under test is the installed one, not the source folder.
"$venvs/test/bin/python" - "$venvs/test" <<'EOF'
import sys, dgen, dgen.compat
prefix = sys.argv[1]
assert dgen.__file__.startswith(prefix), dgen.__file__
assert dgen._dgen.__file__.startswith(prefix), dgen._dgen.__file__
print("import dgen ->", dgen.__file__)
EOF
(cd bindings/python && run "$venvs/test/bin/python" -m pytest -p no:cacheprovider -q tests)

step "the type stubs match the installed module"
(cd "$venvs" && run "$venvs/test/bin/python" -m mypy.stubtest dgen)

step "benchmark (figures only; nothing is asserted on speed)"
run cargo build --release -p libdgen-ffi
(cd bindings/python && run "$venvs/test/bin/python" bench.py --quick --no-build)

echo
echo "test-python: all stages passed (fmt, clippy, wheel, abi3 symbols, fresh-venv install, pytest, stubs, golden hash)"
