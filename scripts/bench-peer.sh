#!/usr/bin/env bash
# libdgen side by side with its peer, measured in one run on this machine:
# the Python package against dgen-py 0.3.0 from PyPI, and the Rust library
# against dgen-data 0.3.0, the crate dgen-py is built on.
#
#   scripts/bench-peer.sh [--python | --rust | --all] [-- ARGS...]
#
# --python (the default): the wheel of bindings/python (the one in
# bindings/python/target/wheels when no source is newer, else built anew as
# scripts/test-python.sh builds it) and dgen-py==0.3.0 go into two venvs
# side by side under bindings/python/target/bench-peer/, and
# bindings/python/bench_compat.py runs the same cases for both packages.
# --rust: benches/peer (a crate outside the workspace) runs libdgen and
# dgen-data in one program. Either prints one table of ratios, ours / the
# peer's, by wall time and by process CPU time, with memset's speed on the
# same 64 MiB buffer. Every figure is a median over rounds of fresh processes
# that alternate between the two libraries; nothing is asserted.
#
# REPS (default 3) is the number of rounds, BUDGET (default 1) the seconds
# each timed measurement lasts (the streaming ones of Python fill a fixed
# 2 GiB instead). ARGS go to bench_compat.py (--only GROUPS, --stream-gib N:
# see its --help).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. scripts/lib.sh

reps=${REPS:-3}
budget=${BUDGET:-1}
python=1
rust=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python=1 rust=0 ;;
    --rust) python=0 rust=1 ;;
    --all) python=1 rust=1 ;;
    --) shift; args=("$@"); break ;;
    *) echo "bench-peer: unknown option $1 (--python, --rust, --all, or -- ARGS)" >&2; exit 2 ;;
  esac
  shift
done
case "$reps" in
  '' | *[!0-9]* | 0) echo "bench-peer: REPS must be a whole number from 1, got '$reps'" >&2; exit 2 ;;
esac
export PATH="$HOME/.cargo/bin:$PATH"

if [ "$python" = 1 ]; then
  step "Python: venvs for this package and dgen-py 0.3.0"
  # dgen-py 0.3.0 needs CPython 3.11 or later.
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "bench-peer: dgen-py 0.3.0 needs Python 3.11 or later; python3 is $(python3 --version 2>&1)" >&2
    exit 1
  }
  probe=$(mktemp -d)
  if ! python3 -m venv "$probe/v" >/dev/null 2>&1; then
    apt_install python3-venv
  fi
  rm -rf "$probe"

  bench=$root/bindings/python/target/bench-peer
  wheels=$root/bindings/python/target/wheels
  wheel=$(ls "$wheels"/libdgen-*.whl 2>/dev/null | head -n 1 || true)
  # What goes into the wheel: the extension and its Python parts, and the
  # library it links.
  sources=(bindings/python/src bindings/python/python bindings/python/Cargo.toml bindings/python/Cargo.lock
    bindings/python/pyproject.toml src Cargo.toml Cargo.lock build.rs)
  if [ -n "$wheel" ] && [ -z "$(find "${sources[@]}" -type f -newer "$wheel" -print -quit)" ]; then
    echo "reusing $wheel (no source is newer)"
  else
    step "build the wheel with pip and maturin (as scripts/test-python.sh does)"
    [ -x "$bench/build/bin/maturin" ] || {
      run python3 -m venv "$bench/build"
      run "$bench/build/bin/pip" install -q maturin
    }
    rm -f "$wheels"/libdgen-*.whl
    mkdir -p "$wheels"
    PATH="$bench/build/bin:$PATH" run "$bench/build/bin/pip" wheel -q --no-build-isolation --no-deps -w "$wheels" \
      ./bindings/python
    wheel=$(ls "$wheels"/libdgen-*.whl)
  fi
  [ -x "$bench/ours/bin/python" ] || run python3 -m venv "$bench/ours"
  run "$bench/ours/bin/pip" install -q --force-reinstall --no-deps "$wheel"
  [ -x "$bench/dgen-py/bin/python" ] || run python3 -m venv "$bench/dgen-py"
  if ! "$bench/dgen-py/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("dgen-py") != "0.3.0")' \
    2>/dev/null; then
    run "$bench/dgen-py/bin/pip" install -q dgen-py==0.3.0
  fi

  step "Python: this package against dgen-py 0.3.0, $reps rounds"
  run "$bench/ours/bin/python" bindings/python/bench_compat.py --peer-python "$bench/dgen-py/bin/python" \
    --rounds "$reps" --budget "$budget" ${args[@]+"${args[@]}"}
fi

if [ "$rust" = 1 ]; then
  step "Rust: build benches/peer (libdgen and dgen-data 0.3.0)"
  # Its own target folder: a workspace of its own, with its own lock file.
  run cargo build --quiet --release --locked --manifest-path benches/peer/Cargo.toml --target-dir target/bench-peer
  step "Rust: libdgen against dgen-data 0.3.0, $reps rounds"
  run target/bench-peer/release/dgen-bench-peer --rounds "$reps" --budget "$budget"
fi
