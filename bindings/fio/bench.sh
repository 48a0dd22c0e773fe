#!/usr/bin/env bash
# Compares the engine with fio's own buffer generation, at bs 128k and 4k and
# numjobs 1 and 2, and prints a table of write bandwidth:
#   null:  dgen_null=1                 vs  ioengine=null  + refill_buffers
#   file:  the engine on /dev/shm      vs  ioengine=psync + refill_buffers
# each for random data (libdgen ratios 1/1; fio plain random buffers) and for
# dedup 2.5 / compression 3 (fio's nearest: dedupe_percentage=60,
# buffer_compress_percentage=67, i.e. 1 - 1/ratio).
#
# usage: bench.sh [SECONDS per run, default 2] [RUNS per point, default 3]
# The two sides of a point run in turn, RUNS times each, and the best run of
# each side is shown, so that a burst of other load on a shared machine does
# not decide a comparison. Needs the engine built (make -C bindings/fio).
# Files go to /dev/shm and are removed at the end.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ENGINE=$HERE/libdgen_fio.so
SECS=${1:-2}
RUNS=${2:-3}
DIR=$(mktemp -d /dev/shm/dgen-fio-bench.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
[ -f "$ENGINE" ] || { echo "bench.sh: build the engine first: make -C $HERE" >&2; exit 1; }

# bw BS JOBS fio-args...: write bandwidth in GB/s (10^9 bytes) of one run.
bw() {
    local bs=$1 jobs=$2 kib
    shift 2
    kib=$(fio --name=b --directory="$DIR" --rw=write --bs="$bs" --numjobs="$jobs" \
        --size=512m --time_based --runtime="$SECS" --group_reporting \
        --output-format=terse "$@" | awk -F';' '{ print $48 }')
    rm -f "$DIR"/b.*
    awk -v k="$kib" 'BEGIN { printf "%.2f", k * 1024 / 1e9 }'
}

best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }

ext=(--ioengine=external:"$ENGINE")
random_dgen=(--dgen_dedup=1 --dgen_compress=1 --dgen_seed=1)
mixed_dgen=(--dgen_dedup=2.5 --dgen_compress=3 --dgen_seed=1)
mixed_fio=(--dedupe_percentage=60 --buffer_compress_percentage=67)

echo "write bandwidth, best of $RUNS runs of ${SECS}s"
printf '%-5s %-4s %-6s %-12s %12s %12s %7s\n' bs jobs mode data "fio GB/s" "dgen GB/s" ratio
for bs in 128k 4k; do
    for jobs in 1 2; do
        for mode in null file; do
            if [ $mode = null ]; then
                fio_eng=(--ioengine=null)
                dgen_eng=("${ext[@]}" --dgen_null=1)
            else
                fio_eng=(--ioengine=psync)
                dgen_eng=("${ext[@]}")
            fi
            for data in random 2.5/3; do
                if [ "$data" = random ]; then
                    fio_data=(--refill_buffers)
                    dgen_data=("${random_dgen[@]}")
                else
                    fio_data=(--refill_buffers "${mixed_fio[@]}")
                    dgen_data=("${mixed_dgen[@]}")
                fi
                f=0
                d=0
                for _ in $(seq "$RUNS"); do
                    f=$(best "$f" "$(bw $bs $jobs "${fio_eng[@]}" "${fio_data[@]}")")
                    d=$(best "$d" "$(bw $bs $jobs "${dgen_eng[@]}" "${dgen_data[@]}")")
                done
                printf '%-5s %-4s %-6s %-12s %12s %12s %6.2fx\n' $bs $jobs $mode "$data" "$f" "$d" \
                    "$(awk -v a="$d" -v b="$f" 'BEGIN { print (b > 0 ? a / b : 0) }')"
            done
        done
    done
done
