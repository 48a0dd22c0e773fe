#!/usr/bin/env bash
# Generation speed of this tree next to another version's, measured on the
# same machine one after the other:
#
#   scripts/bench-compare.sh [REV] [--quick]     (REV defaults to HEAD~1)
#
# REV is checked out into a temporary git worktree and its
# `cargo bench --bench throughput` table is saved; then this tree's benchmark
# runs with `--baseline` on that table. The `vs base` column is this tree's
# share of memset divided by REV's, so a machine that is busier in one run
# than in the other moves both alike.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. scripts/lib.sh

rev=HEAD~1
quick=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=(--quick) ;;
    -*) echo "bench-compare: unknown option $arg" >&2; exit 2 ;;
    *) rev=$arg ;;
  esac
done
commit=$(git rev-parse --verify --quiet "$rev^{commit}") || { echo "bench-compare: not a commit: $rev" >&2; exit 2; }
export PATH="$HOME/.cargo/bin:$PATH"

work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
run git worktree add --detach --quiet "$work/tree" "$commit"

step "baseline: $rev ($(git log -1 --format='%h %s' "$commit"))"
# Its own target folder, kept between runs so only the library rebuilds.
(cd "$work/tree" && CARGO_TARGET_DIR="$root/target/bench-base" run cargo bench --quiet --bench throughput -- ${quick[@]+"${quick[@]}"}) | tee "$work/base.txt"

step "this tree, against it"
run cargo bench --quiet --bench throughput -- ${quick[@]+"${quick[@]}"} --baseline "$work/base.txt"
