#!/usr/bin/env bash
# Runs every code block of README.md as a user would paste it: the Rust
# blocks with rustdoc against the built library, the C and C++ ones compiled
# and linked against libdgen.a, the Go one as a module that replaces the
# binding with this checkout, the Python one in the venv scripts/test-python.sh
# left, and the shell ones with target/release/dgen and OpenMPI's mpirun on
# PATH. Each runs in its
# own empty folder; any failure fails the suite. Needs `cargo build --release`
# (done here) and, for Python, scripts/test-python.sh run first.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. scripts/lib.sh
export PATH="$HOME/.cargo/bin:$PATH"

apt_install $(missing_commands python3 cc:gcc c++:g++ go:golang-go mpirun:openmpi-bin)
step "build"
cargo build --release -p libdgen-ffi -p dgen-cli || exit 1

work=$(mktemp -d "$root/target/readme.XXXXXX")
trap 'rm -rf "$work"' EXIT
run python3 scripts/readme-snippets.py README.md "$work/src" || exit 1

# in_dir NAME CMD...: runs CMD in a fresh folder $work/run/NAME.
in_dir() {
  local dir=$work/run/$1
  shift
  mkdir -p "$dir" && (cd "$dir" && "$@")
}
check() { # check NAME CMD...: one counted result.
  local name=$1
  shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}

step "Rust (rustdoc --test)"
if [ -f "$work/src/rust.md" ]; then
  mkdir -p "$work/run/rust"
  check "rust blocks" run rustdoc --edition 2021 --test "$work/src/rust.md" \
    --test-run-directory "$work/run/rust" \
    -L "dependency=$root/target/release/deps" --extern "dgen=$root/target/release/libdgen.rlib"
fi

libs=(-lgcc_s -lutil -lrt -lpthread -lm -ldl)
step "C"
for f in "$work"/src/c/*.c; do
  [ -e "$f" ] || continue
  n=$(basename "$f" .c)
  check "C block at README line ${n#L}" in_dir "c-$n" sh -c \
    "cc -std=c11 -Wall -Werror -I'$root/include' '$f' '$root/target/release/libdgen.a' ${libs[*]} -o app && ./app"
done

step "C++"
for f in "$work"/src/cpp/*.cpp; do
  [ -e "$f" ] || continue
  n=$(basename "$f" .cpp)
  check "C++ block at README line ${n#L}" in_dir "cpp-$n" sh -c \
    "c++ -std=c++17 -Wall -Werror -Wno-unused-variable -I'$root/include' -I'$root/bindings/cpp' '$f' \
       '$root/target/release/libdgen.a' ${libs[*]} -o app && ./app"
done

step "Go"
for f in "$work"/src/go/*.go; do
  [ -e "$f" ] || continue
  n=$(basename "$f" .go)
  check "Go block at README line ${n#L}" in_dir "go-$n" sh -c "
    cp '$f' main.go &&
    go mod init example.com/readme >/dev/null 2>&1 &&
    go mod edit -require=github.com/libdgen/dgen/bindings/go@v0.0.0 \
      -replace=github.com/libdgen/dgen/bindings/go='$root/bindings/go' &&
    GOFLAGS=-mod=mod go run ."
done

step "Python"
py=$root/bindings/python/target/venvs/test/bin/python
for f in "$work"/src/python/*.py; do
  [ -e "$f" ] || continue
  n=$(basename "$f" .py)
  if [ -x "$py" ]; then
    check "Python block at README line ${n#L}" in_dir "py-$n" "$py" "$f"
  else
    bad "Python block at README line ${n#L}: no venv at $py (run scripts/test-python.sh first)"
  fi
done

step "shell"
for f in "$work"/src/sh/*.sh; do
  [ -e "$f" ] || continue
  n=$(basename "$f" .sh)
  # mpirun refuses root and more ranks than cores unless told; a user's
  # shell needs neither.
  check "shell block at README line ${n#L}" in_dir "sh-$n" env PATH="$root/target/release:$PATH" \
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
    bash -euo pipefail "$f"
done

echo
echo "readme: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
