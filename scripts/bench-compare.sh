#!/usr/bin/env bash
# Generation speed of this tree next to another version's, measured on the
# same machine:
#
#   scripts/bench-compare.sh [REV] [--quick | --ab]     (REV defaults to HEAD~1)
#
# REV is checked out into a temporary git worktree and its
# `cargo bench --bench throughput` table is saved; then this tree's benchmark
# runs with `--baseline` on that table. The `vs base` column is this tree's
# share of memset divided by REV's, so a machine that is busier in one run
# than in the other moves both alike.
#
# --ab instead builds one program that links both versions (benches/ab) and
# times them in turns, row by row, back to back: the way to judge a change
# of a few percent, which two runs one after the other cannot tell from the
# machine's drift. ROUNDS (default 7) rounds, BUDGET (default 0.2) seconds
# per measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. scripts/lib.sh

rev=HEAD~1
quick=()
ab=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=(--quick) ;;
    --ab) ab=1 ;;
    -*) echo "bench-compare: unknown option $arg" >&2; exit 2 ;;
    *) rev=$arg ;;
  esac
done
commit=$(git rev-parse --verify --quiet "$rev^{commit}") || { echo "bench-compare: not a commit: $rev" >&2; exit 2; }
export PATH="$HOME/.cargo/bin:$PATH"

work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
run git worktree add --detach --quiet "$work/tree" "$commit"

if [ "$ab" = 1 ]; then
  # Two packages named libdgen in one build need two versions: the base's
  # becomes 0.0.0-base, in the temporary worktree only.
  sed -i '0,/^version = /s/^version = .*/version = "0.0.0-base"/' "$work/tree/Cargo.toml"
  mkdir -p "$work/ab"
  cat >"$work/ab/Cargo.toml" <<EOF
[package]
name = "dgen-bench-ab"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[[bin]]
name = "dgen-bench-ab"
path = "$root/benches/ab/src/main.rs"

[dependencies]
head = { package = "libdgen", path = "$root" }
base = { package = "libdgen", path = "$work/tree" }

[profile.release]
codegen-units = 1
lto = "thin"
EOF
  step "build one program with $rev as base and this tree as head"
  run cargo build --quiet --release --manifest-path "$work/ab/Cargo.toml" --target-dir "$root/target/bench-ab"
  step "base: $rev ($(git log -1 --format='%h %s' "$commit")), head: this tree"
  run "$root/target/bench-ab/release/dgen-bench-ab" --rounds "${ROUNDS:-7}" --budget "${BUDGET:-0.2}"
  exit 0
fi

step "baseline: $rev ($(git log -1 --format='%h %s' "$commit"))"
# Its own target folder, kept between runs so only the library rebuilds.
(cd "$work/tree" && CARGO_TARGET_DIR="$root/target/bench-base" run cargo bench --quiet --bench throughput -- ${quick[@]+"${quick[@]}"}) | tee "$work/base.txt"

step "this tree, against it"
run cargo bench --quiet --bench throughput -- ${quick[@]+"${quick[@]}"} --baseline "$work/base.txt"
