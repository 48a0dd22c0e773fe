#!/usr/bin/env bash
# MPI scale-out, end to end: examples/mpi/write_dataset.py under `mpirun -np
# 4` on this host, every rank writing its part (part=(rank, size), through
# the Python package) of one 48 MiB dataset into one file. The file must be
# byte for byte what one `dgen generate` of the same options writes, the
# ranks' reports must merge (`dgen report merge`) into the whole range, a
# seed drawn by rank 0 must be the one every rank used, and a flipped byte
# must fail the verification of every rank, with its offset named and no
# rank left waiting.
#
# Open MPI and mpi4py come from Debian (openmpi-bin, python3-mpi4py): that
# mpi4py is built against the very Open MPI that apt installs, so nothing
# is compiled, no MPI headers (libopenmpi-dev) are needed and nothing is
# fetched from PyPI, and no question of which libmpi a binary wheel finds at
# run time arises. The venv is made from Debian's own python3 with
# --system-site-packages so that it sees that mpi4py; the dgen wheel is
# installed into it. The wheel scripts/test-python.sh leaves in
# bindings/python/target/wheels is used when it is newer than every source
# it is built from; otherwise it is built here the same way (pip and
# maturin in a venv).
#
#   scripts/test-mpi.sh   (as root on Debian 12; installs what is missing)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

. scripts/lib.sh

step "tools"
# shellcheck disable=SC2046 # one package a word
apt_install $(missing_packages openmpi-bin python3-mpi4py python3-venv) $(missing_commands cc:gcc) || exit 1
export PATH="$HOME/.cargo/bin:$PATH"
# Debian's interpreter, the one python3-mpi4py is built for, whatever
# python3 comes first on PATH.
debian_python=/usr/bin/python3
"$debian_python" -c 'import mpi4py; print("mpi4py", mpi4py.__version__)' || exit 1
mpirun --version | head -1

step "the dgen command (the reference) and the wheel"
run cargo build --release -q -p dgen-cli || exit 1
D=$root/target/release/dgen
wheels=$root/bindings/python/target/wheels
wheel=$(ls "$wheels"/libdgen-*-abi3-*.whl 2>/dev/null | head -1)
if [ -n "$wheel" ] && [ -z "$(find src bindings/python/src bindings/python/python Cargo.toml Cargo.lock \
    bindings/python/Cargo.toml bindings/python/Cargo.lock bindings/python/pyproject.toml -newer "$wheel" \
    -print -quit)" ]; then
  echo "using $wheel (newer than its sources)"
else
  # As scripts/test-python.sh builds it, in the same venv path, so that
  # cargo reuses what either script built before.
  build_venv=$root/bindings/python/target/venvs/build
  if [ ! -x "$build_venv/bin/maturin" ]; then
    rm -rf "$build_venv"
    run python3 -m venv "$build_venv" || exit 1
    run "$build_venv/bin/pip" install -q maturin || exit 1
  fi
  rm -rf "$wheels"
  mkdir -p "$wheels"
  PATH="$build_venv/bin:$PATH" run "$build_venv/bin/pip" wheel -q --no-build-isolation --no-deps \
    -w "$wheels" ./bindings/python || exit 1
  wheel=$(ls "$wheels"/libdgen-*-abi3-*.whl)
fi

step "a venv with Debian's mpi4py and the wheel"
work=$(mktemp -d /dev/shm/dgen-mpi-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
venv=$root/target/test-mpi/venv
rm -rf "$venv"
run "$debian_python" -m venv --system-site-packages "$venv" || exit 1
run "$venv/bin/pip" install -q --no-index --no-deps "$wheel" || exit 1
"$venv/bin/python" - "$venv" <<'EOF' || exit 1
import sys, dgen, mpi4py
assert dgen.__file__.startswith(sys.argv[1]), dgen.__file__
print("dgen", dgen.__version__, "from", dgen.__file__)
print("mpi4py", mpi4py.__version__, "from", mpi4py.__file__)
EOF

# mpi NP ARGS...: write_dataset.py on NP ranks of this host. Open MPI
# refuses root without --allow-run-as-root, and more ranks than CPUs
# without --oversubscribe; the timeout ends a run whose ranks wait for one
# that is gone.
mpi() {
  local np=$1 as_root=()
  shift
  [ "$(id -u)" = 0 ] && as_root=(--allow-run-as-root)
  run timeout 120 mpirun "${as_root[@]}" --oversubscribe -np "$np" \
    "$venv/bin/python" "$root/examples/mpi/write_dataset.py" "$@"
}

size=48MiB
opts=(--size $size --dedup 2.5 --compress 3 --dedup-unit 8KiB)
sha() { sha256sum <"$1" | cut -d' ' -f1; }

step "the reference: one dgen generate"
run "$D" generate "${opts[@]}" --seed 42 -o "$work/ref.bin" 2>/dev/null || exit 1
want=$(sha "$work/ref.bin")
echo "sha256 $want"

step "4 ranks write their parts of one file, then verify them"
mpi 4 "$work/data.bin" "${opts[@]}" --seed 42 --verify --reports "$work/reports" >"$work/run.log" 2>"$work/run.err"
rc=$?
cat "$work/run.log" "$work/run.err"
if [ "$rc" = 0 ]; then
  ok "mpirun -np 4: every rank wrote and verified its part"
else
  bad "mpirun -np 4 exited $rc"
fi
got=$(sha "$work/data.bin" 2>/dev/null)
if [ "$got" = "$want" ]; then
  ok "the file's sha256 is one dgen generate's ($got)"
else
  bad "the file's sha256 is ${got:-missing}, one dgen generate's is $want"
fi
if [ "$(grep -c '^rank [0-3]: write 12582912 bytes at offset' "$work/run.log")" = 4 ] &&
  [ "$(grep -c '^rank [0-3]: verify 12582912 bytes at offset' "$work/run.log")" = 4 ]; then
  ok "each rank wrote and verified a quarter"
else
  bad "rank 0's summary does not show four quarters written and verified"
fi

step "the ranks' reports merge into the whole"
if merged=$("$D" report merge "$work"/reports/write-{0,1,2,3}.json --json 2>&1) &&
  grep -q '"offset": 0, "length": 50331648, "bytes": 50331648,' <<<"$merged"; then
  ok "dgen report merge: bytes 50331648 from offset 0"
else
  bad "dgen report merge of the write reports: $merged"
fi
if "$D" report merge "$work"/reports/verify-{0,1,2,3}.json >"$work/merge.log" 2>&1; then
  ok "dgen report merge of the verify reports passes"
else
  bad "dgen report merge of the verify reports: $(cat "$work/merge.log")"
fi

step "a seed drawn by rank 0 is every rank's"
rm -f "$work/data.bin"
mpi 3 "$work/data.bin" "${opts[@]}" >"$work/noseed.log" 2>"$work/noseed.err"
rc=$?
cat "$work/noseed.log" "$work/noseed.err"
seed=$(sed -n 's/^wrote .* seed \([0-9]*\)$/\1/p' "$work/noseed.log")
if [ "$rc" = 0 ] && [ -n "$seed" ] && run "$D" verify "$work/data.bin" "${opts[@]}" --seed "$seed" >/dev/null 2>&1; then
  ok "3 ranks without --seed wrote one dataset of seed $seed"
else
  bad "3 ranks without --seed: mpirun exited $rc; the file is not one dataset of the printed seed (${seed:-none})"
fi

step "a flipped byte fails its rank's verification, and every rank exits"
cp "$work/ref.bin" "$work/flip.bin"
off=$((30 * 1048576 + 12345))   # in part 2 of 4
byte=$(od -An -tu1 -j$off -N1 "$work/flip.bin" | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 0xff)))" | dd of="$work/flip.bin" bs=1 seek=$off conv=notrunc status=none
mpi 4 "$work/flip.bin" "${opts[@]}" --seed 42 --verify-only >"$work/flip.log" 2>"$work/flip.err"
rc=$?
cat "$work/flip.log" "$work/flip.err"
if [ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q "^rank 2: verify failed: .*$off" "$work/flip.log" &&
  [ "$(grep -c '^rank [013]: verify 12582912 bytes' "$work/flip.log")" = 3 ]; then
  ok "rank 2 names offset $off, the others pass, and mpirun exits $rc"
else
  bad "a flipped byte at $off: mpirun exited $rc (124 is the timeout)"
fi

echo
echo "test-mpi: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
