#!/usr/bin/env bash
# `dgen generate --state` against `dgen generate` with the same options, on
# a file in /dev/shm (so the page cache copy, not a device, is the limit),
# runs of the two alternating, best of REPS (default 3) each:
#
#   scripts/bench-state.sh [SIZE]        # default 1GiB
#
# "first" writes version 0 through a new state (the dataset's own bytes);
# "overwrite" rewrites it through the state (version 1 and up: new data).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -q -p dgen-cli
D=$PWD/target/release/dgen
SIZE=${1:-1GiB}
REPS=${REPS:-3}
dir=$(mktemp -d /dev/shm/dgen-bench-state.XXXXXX)
trap 'rm -rf "$dir"' EXIT
OPTS=(--size "$SIZE" --dedup 2 --compress 3 --seed 1 --jobs 2 --iodepth 4 --block-size 1MiB)

# gbps ARGS...: the GB/s a generate run reports.
gbps() { "$D" generate "${OPTS[@]}" "$@" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["gbps"])'; }
best() { python3 -c 'import sys; print(max(float(x) for x in sys.argv[1:]))' "$@"; }

# Into a new file (the page cache allocates) and over the same file again
# (it does not), each against a plain generate doing the same.
new_plain=() new_state=() re_plain=() re_state=()
for _ in $(seq "$REPS"); do
  rm -f "$dir/f"
  new_plain+=("$(gbps -o "$dir/f")")
  re_plain+=("$(gbps -o "$dir/f")")
  rm -f "$dir/f" "$dir/s"
  new_state+=("$(gbps -o "$dir/f" --state "$dir/s")")
  re_state+=("$(gbps -o "$dir/f" --state "$dir/s")")
done
a=$(best "${new_plain[@]}") b=$(best "${new_state[@]}") c=$(best "${re_plain[@]}") d=$(best "${re_state[@]}")
echo "CPU: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs; $SIZE to /dev/shm, best of $REPS"
printf '%-50s %7.2f GB/s\n' "new file: generate" "$a"
printf '%-50s %7.2f GB/s  %.2fx\n' "new file: generate --state (version 0)" "$b" "$(python3 -c "print($b/$a)")"
printf '%-50s %7.2f GB/s\n' "same file again: generate" "$c"
printf '%-50s %7.2f GB/s  %.2fx\n' "same file again: generate --state (next version)" "$d" "$(python3 -c "print($d/$c)")"
