#!/usr/bin/env bash
# dgen generate / dgen verify against fio on the same machine, same sizes,
# same block size, workers and queue depth:
#   1. a file on this machine's disk with O_DIRECT: dgen generate --direct
#      vs fio --rw=write --ioengine=io_uring --direct=1 --refill_buffers
#      --buffer_compress_percentage=67, then dgen verify --direct vs fio's
#      sequential read of the same file;
#   2. a file in /dev/shm (memory), where generating the data is the limit:
#      the same write without O_DIRECT.
# Each case runs REPS times, alternating the two tools; the best of each is
# compared (the machine may be shared, so the best is the least disturbed).
#
#   scripts/bench-storage.sh            (SIZE=2GiB JOBS=2 DEPTH=4 REPS=3 DIR=target/bench-storage)
#   SIZE=8GiB JOBS=4 DEPTH=8 scripts/bench-storage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

SIZE=${SIZE:-2GiB}
JOBS=${JOBS:-2}
DEPTH=${DEPTH:-4}
REPS=${REPS:-3}
DIR=${DIR:-$PWD/target/bench-storage}
SHM=${SHM:-/dev/shm}

command -v fio >/dev/null || apt_install fio
command -v python3 >/dev/null || apt_install python3
run cargo build --release -q -p dgen-cli
DGEN=$PWD/target/release/dgen

bytes() { python3 -c "
import re,sys
m=re.fullmatch(r'(\d+)\s*([KMGT]i?B?)?', sys.argv[1]); n=int(m.group(1)); u=(m.group(2) or '')[:1]
print(n * 1024 ** ' KMGT'.index(u) if u else n)" "$1"; }
total=$(bytes "$SIZE")
per_job=$((total / JOBS))
total=$((per_job * JOBS))

mkdir -p "$DIR"
work=$(mktemp -d "$DIR/run.XXXXXX")
shm=$(mktemp -d "$SHM/dgen-bench.XXXXXX")
trap 'rm -rf "$work" "$shm"' EXIT

# fio's throughput in GB/s (10^9 bytes/s) from its JSON, for rw=write or read.
fio_gbps() {
  local kind=$1
  shift
  fio --output-format=json "$@" | python3 -c "
import json,sys; j=json.load(sys.stdin)['jobs'][0]['$kind']; print('%.3f' % (j['bw_bytes'] / 1e9))"
}
dgen_gbps() { python3 -c "import json,sys; print('%.3f' % json.loads(sys.stdin.read())['gbps'])"; }
dgen_field() { python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).read())[sys.argv[2]])" "$@"; }

fio_job() { # FILE RW DIRECT
  echo --name=bench --filename="$1" --rw="$2" --ioengine=io_uring --direct="$3" --bs=1m \
    --numjobs="$JOBS" --iodepth="$DEPTH" --size="$per_job" --offset_increment="$per_job" \
    --refill_buffers --buffer_compress_percentage=67 --group_reporting --end_fsync=1
}

best() { printf '%s\n' "$@" | sort -g | tail -1; }

compare() { # LABEL DGEN_BEST FIO_BEST
  python3 -c "
import sys; l,d,f=sys.argv[1],float(sys.argv[2]),float(sys.argv[3])
print('%-34s dgen %7.3f GB/s   fio %7.3f GB/s   dgen/fio %5.2f' % (l, d, f, d / f))" "$@"
}

model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo
echo "CPU: $model, $(nproc) CPUs; kernel $(uname -r); fio $(fio --version)"
echo "size $total bytes, jobs $JOBS, iodepth $DEPTH, block 1 MiB, best of $REPS"
echo "disk: $(df -h "$DIR" | awk 'NR==2 {print $1" ("$2")"}') at $DIR"

results=()

# ---- 1. disk, O_DIRECT -------------------------------------------------------
f=$work/data.bin
step "disk, O_DIRECT: lay out $f"
"$DGEN" generate --size "$total" --dedup 1 --compress 3 --seed 1 --jobs "$JOBS" --direct -o "$f" 2>/dev/null
dw=() fw=() dr=() fr=()
for i in $(seq "$REPS"); do
  # Overwrites in place: both tools find the file's blocks allocated.
  fw+=("$(fio_gbps write $(fio_job "$f" write 1))")
  dw+=("$("$DGEN" generate --size "$total" --compress 3 --seed 1 --jobs "$JOBS" --iodepth "$DEPTH" \
      --block-size 1MiB --direct --json -o "$f" 2>/dev/null | dgen_gbps)")
  fr+=("$(fio_gbps read $(fio_job "$f" read 1))")
  dr+=("$("$DGEN" verify "$f" --size "$total" --compress 3 --seed 1 --jobs "$JOBS" --iodepth "$DEPTH" \
      --block-size 1MiB --direct --json 2>/dev/null | dgen_gbps)")
  echo "run $i: write dgen ${dw[-1]} fio ${fw[-1]}   read/verify dgen ${dr[-1]} fio ${fr[-1]} GB/s"
done
"$DGEN" verify "$f" --size "$total" --compress 3 --seed 1 --jobs "$JOBS" --iodepth "$DEPTH" --direct --json \
  >"$work/verify.json" 2>/dev/null
results+=("$(compare "disk write, O_DIRECT" "$(best "${dw[@]}")" "$(best "${fw[@]}")")")
results+=("$(compare "disk verify vs read, O_DIRECT" "$(best "${dr[@]}")" "$(best "${fr[@]}")")")
verdict_read=$(dgen_field "$work/verify.json" bottleneck)
rm -f "$f"

# ---- 2. /dev/shm: generation is the limit --------------------------------------
f=$shm/data.bin
step "memory ($SHM), page cache"
"$DGEN" generate --size "$total" --seed 1 --jobs "$JOBS" -o "$f" 2>/dev/null
sw=() sf=()
for i in $(seq "$REPS"); do
  sf+=("$(fio_gbps write $(fio_job "$f" write 0))")
  out=$("$DGEN" generate --size "$total" --compress 3 --seed 1 --jobs "$JOBS" --iodepth "$DEPTH" \
      --block-size 1MiB --json -o "$f" 2>/dev/null)
  sw+=("$(echo "$out" | dgen_gbps)")
  echo "run $i: write dgen ${sw[-1]} fio ${sf[-1]} GB/s"
done
echo "$out" >"$work/shm.json"
results+=("$(compare "$SHM write (page cache)" "$(best "${sw[@]}")" "$(best "${sf[@]}")")")
verdict_shm=$(dgen_field "$work/shm.json" bottleneck)

echo
echo "==== results (CPU: $model) ===="
printf '%s\n' "${results[@]}"
echo "dgen verify --direct on disk: $verdict_read"
echo "dgen generate into $SHM: $verdict_shm"
echo "goals: disk write and verify >= 0.95 of fio; $SHM write >= 1.5x fio"
