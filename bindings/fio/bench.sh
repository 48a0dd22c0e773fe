#!/usr/bin/env bash
# Compares the engine with fio's own buffer generation and prints tables of
# write bandwidth. Three sections, all by default:
#
#   gen   bs 128k and 4k, numjobs 1 and 2, on /dev/shm:
#           null:  dgen_null=1              vs  ioengine=null  + refill_buffers
#           file:  the engine (pread/pwrite) vs  ioengine=psync + refill_buffers
#         each for random data (libdgen ratios 1/1; fio plain random buffers)
#         and for dedup 2.5 / compression 3.
#   shm   the engine at its default I/O path (io_uring when iodepth > 1,
#         pread/pwrite at 1) vs ioengine=io_uring, on /dev/shm, bs 128k and
#         4k, iodepth 1, 16 and 64, dedup 2.5 / compression 3.
#   disk  the same with direct=1 on a file of a real file system
#         (DGEN_BENCH_DIR, default /var/tmp), 1 GiB per job written once
#         before the runs so that every run overwrites allocated blocks.
#   state write versions: the engine with dgen_overwrite=same (the same
#         bytes on every pass) vs dgen_overwrite=new with dgen_state (each
#         write claims the units' next versions in the state file), on
#         /dev/shm, randwrite at iodepth 16, bs 4k and 128k, dedup 2.5 /
#         compression 3. Not among the defaults.
#
# Dedup 2.5 / compression 3 is, for fio, its nearest: refill_buffers,
# dedupe_percentage=60 and buffer_compress_percentage=67 (1 - 1/ratio).
#
# usage: bench.sh [SECONDS per run, default 2] [RUNS per point, default 3] [SECTION...]
#   JOBS="1 2" sets numjobs for shm, disk and state (default 1).
# The two sides of a point run in turn, RUNS times each, and the best run of
# each side is shown, so that a burst of other load on a shared machine does
# not decide a comparison. Needs the engine built (make -C bindings/fio).
# Files are removed at the end.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ENGINE=$HERE/libdgen_fio.so
SECS=${1:-2}
RUNS=${2:-3}
shift $(($# > 2 ? 2 : $#))
SECTIONS=${*:-gen shm disk}
JOBS=${JOBS:-1}
SHM=$(mktemp -d /dev/shm/dgen-fio-bench.XXXXXX)
DISK=$(mktemp -d "${DGEN_BENCH_DIR:-/var/tmp}/dgen-fio-bench.XXXXXX")
trap 'rm -rf "$SHM" "$DISK"' EXIT
[ -f "$ENGINE" ] || { echo "bench.sh: build the engine first: make -C $HERE" >&2; exit 1; }

# bw DIR BS JOBS fio-args...: write bandwidth in GB/s (10^9 bytes) of one run.
bw() {
    local dir=$1 bs=$2 jobs=$3 kib
    shift 3
    kib=$(fio --name=b --directory="$dir" --rw=write --bs="$bs" --numjobs="$jobs" \
        --time_based --runtime="$SECS" --group_reporting \
        --output-format=terse "$@" | awk -F';' '{ print $48 }')
    awk -v k="$kib" 'BEGIN { printf "%.2f", k * 1024 / 1e9 }'
}

best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# point DIR BS JOBS "fio-args" "dgen-args" [extra args for both]: best of
# RUNS for each side; prints "fio dgen".
point() {
    local dir=$1 bs=$2 jobs=$3 f=0 d=0 i
    local -a fio_args dgen_args
    read -r -a fio_args <<<"$4"
    read -r -a dgen_args <<<"$5"
    shift 5
    for i in $(seq "$RUNS"); do
        f=$(best "$f" "$(bw "$dir" "$bs" "$jobs" "${fio_args[@]}" "$@")")
        d=$(best "$d" "$(bw "$dir" "$bs" "$jobs" "${dgen_args[@]}" "$@")")
    done
    echo "$f $d"
}

ext="--ioengine=external:$ENGINE"
random_dgen="--dgen_dedup=1 --dgen_compress=1 --dgen_seed=1"
mixed_dgen="--dgen_dedup=2.5 --dgen_compress=3 --dgen_seed=1"
mixed_fio="--refill_buffers --dedupe_percentage=60 --buffer_compress_percentage=67"

echo "fio $(fio --version), $(nproc) CPUs: $(lscpu | sed -n 's/^Model name: *//p')"
echo "write bandwidth in GB/s, best of $RUNS runs of ${SECS}s"

section_gen() {
    echo
    echo "== generation: /dev/shm, fio's generation vs the engine's"
    printf '%-5s %-4s %-6s %-8s %10s %10s %7s\n' bs jobs mode data "fio" "dgen" ratio
    for bs in 128k 4k; do
        for jobs in 1 2; do
            for mode in null file; do
                if [ $mode = null ]; then
                    fe=--ioengine=null
                    de="$ext --dgen_null=1"
                else
                    fe=--ioengine=psync
                    de="$ext --dgen_io=psync"
                fi
                for data in random 2.5/3; do
                    if [ "$data" = random ]; then
                        fd="--refill_buffers"
                        dd="$random_dgen"
                    else
                        fd="$mixed_fio"
                        dd="$mixed_dgen"
                    fi
                    read -r f d < <(point "$SHM" $bs $jobs "$fe $fd" "$de $dd" --size=512m)
                    rm -f "$SHM"/b.*
                    printf '%-5s %-4s %-6s %-8s %10s %10s %6sx\n' $bs $jobs $mode "$data" \
                        "$f" "$d" "$(ratio "$d" "$f")"
                done
            done
        done
    done
}

# uring_table DIR NAME fio-args...: the engine at its default path vs fio's
# io_uring engine, dedup 2.5 / compression 3, at each bs, iodepth and jobs.
uring_table() {
    local dir=$1 name=$2 bs d jobs f e
    shift 2
    echo
    echo "== $name: ioengine=io_uring + refill/dedupe 60/compress 67 vs the engine at dedup 2.5/compress 3"
    printf '%-5s %-7s %-4s %10s %10s %7s\n' bs iodepth jobs "fio" "dgen" ratio
    for bs in 128k 4k; do
        for d in 1 16 64; do
            for jobs in $JOBS; do
                read -r f e < <(point "$dir" $bs $jobs "--ioengine=io_uring $mixed_fio" \
                    "$ext $mixed_dgen" --iodepth=$d "$@")
                printf '%-5s %-7s %-4s %10s %10s %6sx\n' $bs $d $jobs "$f" "$e" "$(ratio "$e" "$f")"
            done
        done
    done
}

# lay_out DIR SIZE fio-args...: writes every job's file once, so that the
# runs of both sides only overwrite.
lay_out() {
    local dir=$1 size=$2 maxjobs
    shift 2
    maxjobs=$(tr ' ' '\n' <<<"$JOBS" | sort -n | tail -1)
    fio --name=b --directory="$dir" --rw=write --bs=1m --size="$size" --numjobs="$maxjobs" \
        --ioengine=psync --output-format=terse "$@" >/dev/null
}

# Write versions against the same bytes on every pass, both through the
# engine: what the state costs a write.
section_state() {
    local bs jobs f d
    echo
    echo "== /dev/shm, randwrite, iodepth 16: dgen_overwrite=same vs dgen_overwrite=new with dgen_state"
    printf '%-5s %-4s %10s %10s %7s\n' bs jobs same new ratio
    for bs in 4k 128k; do
        for jobs in $JOBS; do
            rm -f "$SHM/state"
            read -r f d < <(point "$SHM" $bs $jobs "$ext $mixed_dgen --dgen_overwrite=same" \
                "$ext $mixed_dgen --dgen_state=$SHM/state" --rw=randwrite --iodepth=16 --size=512m)
            printf '%-5s %-4s %10s %10s %6sx\n' $bs $jobs "$f" "$d" "$(ratio "$d" "$f")"
        done
    done
}

for s in $SECTIONS; do
    case $s in
    gen) section_gen ;;
    shm)
        lay_out "$SHM" 512m
        uring_table "$SHM" "/dev/shm" --size=512m
        rm -f "$SHM"/b.*
        ;;
    disk)
        lay_out "$DISK" 1g --direct=1
        uring_table "$DISK" "$(df --output=source,fstype "$DISK" | tail -1 | tr -s ' ') at $DISK, direct=1" \
            --size=1g --direct=1
        ;;
    state)
        lay_out "$SHM" 512m
        section_state
        rm -f "$SHM"/b.* "$SHM/state"
        ;;
    *) echo "bench.sh: unknown section $s (gen, shm, disk, state)" >&2; exit 2 ;;
    esac
done
