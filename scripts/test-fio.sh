#!/usr/bin/env bash
# Tests the fio external ioengine (bindings/fio) with a real fio: the files it
# writes are byte-identical to the C ABI's stream for the same options, for
# any access pattern, block size, queue depth (io_uring and pread/pwrite),
# job count and number of fio processes; dgen_part splits a job's range as
# `dgen --part` does, on files and block devices, and fio servers writing
# their parts make one dataset, which a server never does without
# dgen_seed; dgen_verify=1 finds a flipped byte at its offset; a reading job
# never writes; bad options stop fio before any job starts. Write versions:
# overwrites through a write state (dgen_state, or the run's own) write new
# bytes with the dataset's ratios, a verify run finds lost writes as stale
# (as `dgen verify --state` counts them), a SIGKILLed writer leaves no false
# report, and dgen_overwrite=same writes the same bytes on every pass.
#
# Installs what it needs on Debian 12 when missing (run as root), builds the
# library and the engine, and ends with "fio: N passed, M failed"; exits
# non-zero on any failure.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FIODIR=$ROOT/bindings/fio
ENGINE=$FIODIR/libdgen_fio.so
REF=$FIODIR/dgen_ref

say() { echo "+ $*" >&2; }
run() { say "$@"; "$@"; }

# --- what the suite needs -------------------------------------------------
missing=()
command -v fio >/dev/null || missing+=(fio)
command -v cc >/dev/null || missing+=(gcc libc6-dev)
command -v make >/dev/null || missing+=(make)
command -v dpkg-source >/dev/null || missing+=(dpkg-dev)
command -v cmp >/dev/null || missing+=(diffutils)
command -v truncate >/dev/null || missing+=(coreutils)
command -v sha256sum >/dev/null || missing+=(coreutils)
command -v losetup >/dev/null || missing+=(mount)
command -v python3 >/dev/null || missing+=(python3)
command -v pgrep >/dev/null || missing+=(procps)
# The engine's io_uring path is built with liburing.
printf '#include <liburing.h>\n' | cc -E -x c - >/dev/null 2>&1 || missing+=(liburing-dev)
if [ ${#missing[@]} -gt 0 ]; then
    run apt-get update -qq || exit 1
    run apt-get install -y -qq "${missing[@]}" >/dev/null || exit 1
fi
command -v cargo >/dev/null || { echo "test-fio: cargo is needed to build libdgen" >&2; exit 1; }

# The library for the engine, and the dgen command the scale-out tests
# compare with.
(cd "$ROOT" && run cargo build --release --quiet -p libdgen-ffi -p dgen-cli) || exit 1
DGEN=$ROOT/target/release/dgen
run make -s -C "$FIODIR" all test-helpers || exit 1

# --- scratch space and cleanup ---------------------------------------------
WORK=$(mktemp -d /dev/shm/dgen-fio-test.XXXXXX)
DISK=$(mktemp -d /var/tmp/dgen-fio-test.XXXXXX)   # a real file system, for O_DIRECT
SERVERS=()
LOOPS=()
cleanup() {
    for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    for dev in "${LOOPS[@]}"; do losetup -d "$dev"; done
    rm -rf "$WORK" "$DISK"
}
trap cleanup EXIT

passed=0
failed=0
# check NAME CMD...: runs one test; its output is shown only when it fails.
check() {
    local name=$1 log=$WORK/$1.log
    shift
    if "$@" >"$log" 2>&1; then
        echo "ok   $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        sed 's/^/     | /' "$log" | tail -40
        failed=$((failed + 1))
    fi
}

MiB=1048576
DG=(--dgen_dedup=2.5 --dgen_compress=3 --dgen_dedup_unit=8k --dgen_seed=42)
# Block sizes that split the 8k dedup units (4k, 12k, 20k) write the same
# bytes on every pass: dgen_overwrite=new (the default) takes whole units.
SAME=(--dgen_overwrite=same)
# fio with the engine; engine options are only known after --ioengine.
dfio() { say fio --ioengine=external:"$ENGINE" "$@"; fio --ioengine=external:"$ENGINE" "$@"; }

run "$REF" "$WORK/ref32" $((32 * MiB)) 2.5 3 8192 42 || exit 1
run "$REF" "$WORK/ref36" $((36 * MiB)) 2.5 3 8192 42 || exit 1
NO_URING=$FIODIR/without_io_uring

# --- the tests ---------------------------------------------------------------
t_help() {
    local out
    out=$(fio --enghelp="$ENGINE") || return 1
    echo "$out"
    for o in dgen_dedup dgen_compress dgen_compressor dgen_dedup_unit dgen_seed dgen_verify \
        dgen_null dgen_part dgen_overwrite dgen_state dgen_io fixedbufs sqthread_poll sqthread_poll_cpu; do
        grep -q "^$o " <<<"$out" || { echo "missing $o"; return 1; }
    done
}

# write_and_compare FILE REFERENCE fio-args...
write_and_compare() {
    local file=$1 ref=$2
    shift 2
    rm -f "$file"
    dfio --name=w --filename="$file" "$@" || return 1
    run cmp "$file" "$ref"
}

t_seq_128k()  { write_and_compare "$WORK/seq"  "$WORK/ref32" "${DG[@]}" --rw=write     --bs=128k --size=32m; }
t_rand_8k()   { write_and_compare "$WORK/r8k"  "$WORK/ref32" "${DG[@]}" --rw=randwrite --bs=8k   --size=32m; }
t_rand_4k()   { write_and_compare "$WORK/r4k"  "$WORK/ref32" "${DG[@]}" "${SAME[@]}" --rw=randwrite --bs=4k --size=32m; }
t_rand_12k()  { write_and_compare "$WORK/r12k" "$WORK/ref36" "${DG[@]}" "${SAME[@]}" --rw=randwrite --bs=12k --size=36m; }
t_direct()    { write_and_compare "$DISK/dio"  "$WORK/ref36" "${DG[@]}" "${SAME[@]}" --rw=randwrite --bs=12k --size=36m --direct=1; }

# Two jobs, each writing half of one file, with no seed given: they must
# share the run's seed, which fio prints.
t_numjobs_shared_seed() {
    local out seed
    rm -f "$WORK/nj"
    out=$(dfio --name=nj --filename="$WORK/nj" --dgen_dedup=2.5 --dgen_compress=3 \
        --dgen_dedup_unit=8k --rw=randwrite --bs=16k --size=16m --numjobs=2 \
        --offset_increment=16m 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    seed=$(sed -n 's/^dgen: nj: random seed \([0-9]*\) .*/\1/p' <<<"$out" | head -1)
    [ -n "$seed" ] || { echo "no seed printed"; return 1; }
    run "$REF" "$WORK/ref-nj" $((32 * MiB)) 2.5 3 8192 "$seed" || return 1
    run cmp "$WORK/nj" "$WORK/ref-nj"
}

# fio's own buffer options must not leak into the data.
t_fio_buffer_options_ignored() {
    local out
    out=$(write_and_compare "$WORK/scr" "$WORK/ref32" "${DG[@]}" --rw=randwrite --bs=64k \
        --size=32m --scramble_buffers=1 --refill_buffers=1 --buffer_compress_percentage=50 2>&1) ||
        { echo "$out"; return 1; }
    echo "$out"
    grep -q "have no effect here" <<<"$out" || { echo "no note about fio's buffer options"; return 1; }
}

# A different seed must give different bytes (the comparisons above would
# pass for any engine that ignored its options only if this failed).
t_other_seed_differs() {
    rm -f "$WORK/s43"
    dfio --name=w --filename="$WORK/s43" --dgen_dedup=2.5 --dgen_compress=3 \
        --dgen_dedup_unit=8k --dgen_seed=43 --rw=write --bs=128k --size=32m || return 1
    ! cmp -s "$WORK/s43" "$WORK/ref32"
}

t_verify_read_passes() {
    dfio --name=v --filename="$WORK/seq" "${DG[@]}" --rw=read --bs=64k --size=32m --dgen_verify=1 &&
        dfio --name=v --filename="$WORK/r12k" "${DG[@]}" --rw=randread --bs=12k --size=36m --dgen_verify=1
}

t_verify_read_finds_flip() {
    local off=5000003 byte flipped out
    cp "$WORK/seq" "$WORK/flip"
    byte=$(od -An -tu1 -j$off -N1 "$WORK/flip" | tr -d ' ')
    flipped=$(printf '\\%03o' $((byte ^ 0xff)))
    printf "$flipped" | dd of="$WORK/flip" bs=1 seek=$off conv=notrunc status=none
    run cmp "$WORK/flip" "$WORK/ref32" && { echo "byte was not changed"; return 1; }
    if out=$(dfio --name=v --filename="$WORK/flip" "${DG[@]}" --rw=read --bs=64k \
        --size=32m --dgen_verify=1 2>&1); then
        echo "$out"
        echo "fio passed a file with a wrong byte"
        return 1
    fi
    echo "$out"
    grep -q "verify failed: file $WORK/flip, offset $off " <<<"$out"
}

# expect_refused NAME-IN-MESSAGE fio-args...: fio must fail before it creates
# the file, with a message that names the option and its value.
expect_refused() {
    local want=$1 out
    shift
    rm -f "$WORK/bad"
    if out=$(dfio --name=bad --filename="$WORK/bad" --rw=write --bs=4k --size=1m "$@" 2>&1); then
        echo "$out"
        echo "fio accepted $*"
        return 1
    fi
    echo "$out"
    grep -qF -- "$want" <<<"$out" || { echo "message does not name: $want"; return 1; }
    [ ! -e "$WORK/bad" ] || { echo "the file was created"; return 1; }
}

t_bad_options() {
    expect_refused "dgen_dedup=0.5: dedup_ratio must be" --dgen_dedup=0.5 &&
        expect_refused "dgen_dedup=2000: dedup_ratio must be" --dgen_dedup=2000 &&
        expect_refused "dgen_compress=abc is not a number" --dgen_compress=abc &&
        expect_refused "dgen_compress=33: compress_ratio must be" --dgen_compress=33 &&
        expect_refused "dgen_dedup_unit=5000: dedup_unit must be" --dgen_dedup_unit=5000 &&
        expect_refused "dgen_dedup_unit=128m: dedup_unit must be" --dgen_dedup_unit=128m &&
        expect_refused "dgen_seed=-1 is not a whole number" --dgen_seed=-1 &&
        expect_refused "verify= cannot be used with this engine" --verify=crc32c &&
        expect_refused "dgen_verify=1 needs data read back" --dgen_null=1 --dgen_verify=1
}

t_null_mode() {
    local out
    rm -f "$WORK/null"
    out=$(dfio --name=n --filename="$WORK/null" --dgen_null=1 "${DG[@]}" --rw=write \
        --bs=128k --size=1g 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    grep -q "io=1024MiB" <<<"$out" || { echo "did not write 1 GiB"; return 1; }
    [ ! -e "$WORK/null" ] || { echo "null mode created the file"; return 1; }
}

t_examples() {
    export DGEN_FIO_ENGINE=$ENGINE DGEN_FIO_FILE=$WORK/example
    rm -f "$WORK/example"
    run fio "$ROOT/examples/fio/seq-write.fio" || return 1
    run cmp "$WORK/example" "$WORK/ref32" || return 1
    run fio "$ROOT/examples/fio/rand-write-verify.fio" || return 1
    (cd "$WORK" && run fio --size=64m "$ROOT/examples/fio/null-gen.fio") || return 1
    rm -f "$DISK/deep"
    DGEN_FIO_FILE=$DISK/deep run fio "$ROOT/examples/fio/deep-queue.fio" >"$WORK/deep.out" || return 1
    cat "$WORK/deep.out"
    [ "$(grep -c 'IO depths.*32=[5-9][0-9]' "$WORK/deep.out")" = 2 ] ||
        { echo "both jobs should run at depth 32"; return 1; }
}

# Is something listening on 127.0.0.1:PORT? (reads /proc, needs no tools)
listening() {
    local hex
    hex=$(printf ':%04X' "$1")
    awk -v p="$hex" '$2 == "0100007F" p && $4 == "0A" { f = 1 } END { exit !f }' \
        <(awk '{ print $1, $2, $3, $4 }' /proc/net/tcp)
}

# PORTS: two fio servers on loopback, started by the first test that needs
# them and stopped on exit.
PORTS=()
start_servers() {
    local base p i
    [ ${#PORTS[@]} -eq 0 ] || return 0
    base=$((20000 + RANDOM % 20000))
    for p in $base $((base + 1)); do
        say fio --server=ip:127.0.0.1,$p
        fio --server=ip:127.0.0.1,$p >"$WORK/server-$p.log" 2>&1 &
        SERVERS+=($!)
    done
    for p in $base $((base + 1)); do
        for i in $(seq 100); do listening "$p" && break; sleep 0.1; done
        listening "$p" || { echo "server on port $p did not start"; cat "$WORK/server-$p.log"; return 1; }
    done
    PORTS=($base $((base + 1)))
}

# sha256 FILE: the file's SHA-256 alone.
sha256() { sha256sum <"$1" | cut -d' ' -f1; }

# The 32 MiB dataset of the example job files, as one `dgen generate` makes it.
dgen_ref32() {
    [ -s "$WORK/dgen32" ] && return 0
    run "$DGEN" generate --size 32MiB --dedup 2.5 --compress 3 --dedup-unit 8KiB --seed 42 \
        -o "$WORK/dgen32" 2>/dev/null
}

# Two fio servers on loopback each write their dgen_part of one file, from
# the example job files, into a file that does not exist yet: the file must
# be the dataset one `dgen generate` makes.
t_client_server() {
    local dir=$ROOT/examples/fio/client-server want got
    start_servers || return 1
    dgen_ref32 || return 1
    rm -f "$WORK/scaleout"
    DGEN_FIO_ENGINE=$ENGINE DGEN_FIO_FILE=$WORK/scaleout \
        run fio --client=ip:127.0.0.1,${PORTS[0]} "$dir/part-0-of-2.fio" \
        --client=ip:127.0.0.1,${PORTS[1]} "$dir/part-1-of-2.fio" || return 1
    want=$(sha256 "$WORK/dgen32")
    got=$(sha256 "$WORK/scaleout")
    echo "want $want"; echo "got  $got"
    [ "$got" = "$want" ]
}

# A job run on a fio server without dgen_seed fails, before it touches its
# file, and says to give every server the same seed; the client's exit
# status says so.
t_client_needs_seed() {
    local out
    start_servers || return 1
    sed '/^dgen_seed=/d' "$ROOT/examples/fio/client-server/part-0-of-2.fio" >"$WORK/noseed.fio"
    ! grep -q dgen_seed= "$WORK/noseed.fio" || return 1
    rm -f "$WORK/noseed"
    if out=$(DGEN_FIO_ENGINE=$ENGINE DGEN_FIO_FILE=$WORK/noseed \
        fio --client=ip:127.0.0.1,${PORTS[0]} "$WORK/noseed.fio" 2>&1); then
        echo "$out"; echo "the client run without dgen_seed succeeded"; return 1
    fi
    echo "$out"
    grep -q "without dgen_seed, and each server would draw its own seed: give every server the same dgen_seed" \
        <<<"$out" || return 1
    [ ! -e "$WORK/noseed" ] || { echo "the file was created"; return 1; }
}

# dgen_part moves a job to the part `dgen generate --part` writes: the same
# offset and length for each of 5 uneven parts of a range that starts at
# 4 MiB, and together the same bytes.
t_part_matches_dgen_part() {
    local i out want have
    local dg=(--dedup 2.5 --compress 3 --seed 42)
    rm -f "$WORK/fio-parts" "$WORK/dgen-parts"
    for i in 0 1 2 3 4; do
        out=$(dfio --name=p$i --filename="$WORK/fio-parts" --dgen_dedup=2.5 --dgen_compress=3 \
            --dgen_seed=42 --dgen_part=$i/5 --offset=4m --size=12m --rw=randwrite --bs=4k 2>&1) ||
            { echo "$out"; return 1; }
        echo "$out"
        have=$(sed -n "s|^dgen: p$i: dgen_part=$i/5: offset=\([0-9]*\) size=\([0-9]*\) .*|\1 \2|p" <<<"$out")
        out=$(run "$DGEN" generate --size 16MiB --offset 4MiB --length 12MiB --part $i/5 "${dg[@]}" \
            -o "$WORK/dgen-parts" --json 2>/dev/null) || return 1
        want=$(sed -n 's/.*"offset": \([0-9]*\), "length": \([0-9]*\),.*/\1 \2/p' <<<"$out")
        echo "part $i/5: fio $have, dgen $want"
        [ -n "$want" ] && [ "$have" = "$want" ] || return 1
    done
    [ "$(stat -c %s "$WORK/fio-parts")" = $((16 * MiB)) ] || return 1
    run cmp "$WORK/fio-parts" "$WORK/dgen-parts"
}

# On a block device (a loop device), without size=: two fio processes at
# once, each on its dgen_part of the whole device, make the dataset; a
# third verifies one part of three.
t_part_block_device() {
    local dev want got i pids=() rc=0
    dgen_ref32 || return 1
    run truncate -s 32m "$DISK/loop.img" || return 1
    dev=$(losetup -f --show "$DISK/loop.img") || { echo "no loop device"; return 1; }
    LOOPS+=("$dev")
    for i in 0 1; do
        dfio --name=b$i --filename="$dev" "${DG[@]}" --dgen_part=$i/2 --rw=write --bs=128k \
            --direct=1 --iodepth=8 >"$WORK/bdev-$i.log" 2>&1 &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || rc=1; done
    cat "$WORK"/bdev-*.log
    [ $rc = 0 ] || return 1
    want=$(sha256 "$WORK/dgen32")
    got=$(sha256 "$dev")
    echo "want $want"; echo "got  $got"
    [ "$got" = "$want" ] || return 1
    dfio --name=v --filename="$dev" "${DG[@]}" --dgen_part=1/3 --rw=randread --bs=4k --iodepth=8 \
        --dgen_verify=1
}

t_part_refused() {
    expect_refused 'dgen_part=2/2: part 2/2: parts are counted from 0, so the index must be below 2' \
        --dgen_part=2/2 &&
        expect_refused 'dgen_part=0/0: part 0/0: the number of parts must be at least 1' --dgen_part=0/0 &&
        expect_refused 'dgen_part=x: part "x" is not of the form I/N' --dgen_part=x &&
        expect_refused 'dgen_part=0/512: part 0/512 is empty' --dgen_part=0/512 &&
        expect_refused 'dgen_part=1/2 cannot be used with offset_increment=' --dgen_part=1/2 \
            --numjobs=2 --offset_increment=1m &&
        expect_refused 'dgen_part=1/3 is 348160 bytes at offset 348160, not a whole number of 131072-byte blocks' \
            --dgen_part=1/3 --bs=128k --size=1m
}

# --- queue depth: io_uring ----------------------------------------------------

# depth_share OUTPUT DEPTH: the share (in %) of I/O that fio's "IO depths"
# line puts at DEPTH (its buckets: 1 2 4 8 16 32 >=64).
depth_share() {
    local key=$2=
    [ "$2" -ge 64 ] && key='>=64='
    grep -m1 'IO depths' <<<"$1" | tr ',' '\n' | sed 's/.*: *//; s/^ *//' |
        awk -v k="$key" 'index($0, k) == 1 { sub(k, ""); sub("%", ""); print int($0) }'
}

# expect_depth OUTPUT DEPTH: most I/O ran at DEPTH, as fio counts it.
expect_depth() {
    local share
    share=$(depth_share "$1" "$2")
    echo "IO depths at $2: ${share:-none}%"
    [ -n "$share" ] && [ "$share" -ge 50 ]
}

# At each depth: sequential and random writes, 4 jobs writing a quarter
# each at an odd block size, a random mix of reads (checked) and writes
# over the written file, and 4 jobs reading it back (checked). Each file
# must be byte-identical to the C ABI's stream; fio must report the depth.
t_depths() {
    local d out
    for d in 1 4 16 64; do
        echo "=== iodepth=$d"
        out=$(write_and_compare "$WORK/d-seq" "$WORK/ref32" "${DG[@]}" --iodepth=$d \
            --rw=write --bs=128k --size=32m 2>&1) || { echo "$out"; return 1; }
        echo "$out"
        expect_depth "$out" $d || return 1
        if [ $d -gt 1 ]; then
            grep -q "ioengine=dgen, iodepth=$d" <<<"$out" || return 1
            ! grep -q "capped at 1" <<<"$out" || { echo "fio capped the depth"; return 1; }
        fi
        write_and_compare "$WORK/d-r8k" "$WORK/ref32" "${DG[@]}" --iodepth=$d \
            --rw=randwrite --bs=8k --size=32m || return 1
        write_and_compare "$WORK/d-r4k" "$WORK/ref32" "${DG[@]}" "${SAME[@]}" --iodepth=$d \
            --rw=randwrite --bs=4k --size=32m || return 1
        write_and_compare "$WORK/d-nj" "$WORK/ref36" "${DG[@]}" "${SAME[@]}" --iodepth=$d \
            --rw=randwrite --bs=12k --numjobs=4 --size=9m --offset_increment=9m || return 1
        # 4 jobs on a quarter each share the run's state: 8 MiB + 1 MiB
        # ranges, rounded to the 8 MiB dedup windows of 8k units, are one
        # 40 MiB dataset.
        write_and_compare "$WORK/d-nj8" "$WORK/ref36" "${DG[@]}" --iodepth=$d \
            --rw=randwrite --bs=8k --numjobs=4 --size=9m --offset_increment=9m || return 1
        # randrw over the right bytes: reads are checked, writes must leave
        # them as they were, and both must have happened.
        cp "$WORK/ref36" "$WORK/d-rw"
        out=$(dfio --name=rw --filename="$WORK/d-rw" "${DG[@]}" "${SAME[@]}" --iodepth=$d --rw=randrw \
            --bs=20k --size=36m --dgen_verify=1 2>&1) || { echo "$out"; return 1; }
        echo "$out"
        grep -Eq 'issued rwts: total=[1-9][0-9]*,[1-9][0-9]*,' <<<"$out" ||
            { echo "randrw did not both read and write"; return 1; }
        run cmp "$WORK/d-rw" "$WORK/ref36" || return 1
        dfio --name=r --filename="$WORK/d-nj" "${DG[@]}" --iodepth=$d --rw=randread \
            --bs=12k --numjobs=4 --size=9m --offset_increment=9m --dgen_verify=1 || return 1
    done
}

# The same bytes through O_DIRECT on a real file system, with fio's
# io_uring options that change how buffers and submissions reach the kernel.
t_uring_direct_options() {
    write_and_compare "$DISK/u-dio" "$WORK/ref36" "${DG[@]}" "${SAME[@]}" --iodepth=16 --rw=randwrite \
        --bs=12k --size=36m --direct=1 &&
        dfio --name=r --filename="$DISK/u-dio" "${DG[@]}" --iodepth=16 --rw=randread \
            --bs=12k --size=36m --direct=1 --dgen_verify=1 &&
        write_and_compare "$WORK/u-fixed" "$WORK/ref32" "${DG[@]}" --iodepth=16 \
            --rw=randwrite --bs=16k --size=32m --fixedbufs &&
        write_and_compare "$WORK/u-sqp" "$WORK/ref32" "${DG[@]}" --iodepth=16 \
            --rw=randwrite --bs=16k --size=32m --sqthread_poll &&
        write_and_compare "$WORK/u-sync" "$WORK/ref32" "${DG[@]}" --iodepth=16 \
            --rw=randwrite --bs=16k --size=32m --fsync=5 --end_fsync=1
}

# A flipped byte read through io_uring is named at its offset, on standard
# error and in the job's summary on standard output.
t_uring_finds_flip() {
    local off=7000001 byte flipped out err
    cp "$WORK/ref32" "$WORK/uflip"
    byte=$(od -An -tu1 -j$off -N1 "$WORK/uflip" | tr -d ' ')
    flipped=$(printf '\\%03o' $((byte ^ 0x5a)))
    printf "$flipped" | dd of="$WORK/uflip" bs=1 seek=$off conv=notrunc status=none
    if out=$(dfio --name=v --filename="$WORK/uflip" "${DG[@]}" --rw=randread --bs=12k \
        --size=32m --iodepth=16 --dgen_verify=1 2>"$WORK/uflip.err"); then
        echo "$out"; cat "$WORK/uflip.err"
        echo "fio passed a file with a wrong byte"
        return 1
    fi
    err=$(cat "$WORK/uflip.err")
    echo "$out"; echo "$err"
    grep -q "verify failed: file $WORK/uflip, offset $off " <<<"$err" || return 1
    grep -q "err=84 (.*data differs at offset $off " <<<"$out" ||
        { echo "standard output does not give the offset"; return 1; }
}

# A job that only reads, or verifies, refuses a file shorter than its range
# (or none at all) before fio can lay it out, and leaves it as it was.
t_short_file_untouched() {
    local f=$DISK/short before after out
    head -c $((3 * MiB)) /dev/urandom >"$f"
    before=$(md5sum <"$f")
    for args in "--rw=read --dgen_verify=1" "--rw=randread --iodepth=16" \
        "--rw=randrw --dgen_verify=1 --iodepth=8"; do
        # shellcheck disable=SC2086
        if out=$(dfio --name=short --filename="$f" "${DG[@]}" --bs=64k --size=8m $args 2>&1); then
            echo "$out"; echo "fio accepted a short file ($args)"; return 1
        fi
        echo "$out"
        grep -q "holds 3145728 bytes, but this job's range ends at 8388608" <<<"$out" || return 1
        ! grep -q "Laying out" <<<"$out" || { echo "fio laid the file out"; return 1; }
        after=$(md5sum <"$f")
        [ "$before" = "$after" ] && [ "$(stat -c %s "$f")" = $((3 * MiB)) ] ||
            { echo "the file changed ($args)"; return 1; }
    done
    # Within the file's size, the same job runs (and fails on these
    # random bytes, which are not the data).
    ! dfio --name=short --filename="$f" "${DG[@]}" --bs=64k --size=3m --rw=read --dgen_verify=1 || return 1
    [ "$before" = "$(md5sum <"$f")" ] || { echo "the file changed"; return 1; }
    rm -f "$WORK/none"
    if out=$(dfio --name=none --filename="$WORK/none" "${DG[@]}" --rw=read --bs=64k --size=1m 2>&1); then
        echo "$out"; echo "a read job ran without its file"; return 1
    fi
    echo "$out"
    grep -q "$WORK/none does not exist" <<<"$out" || return 1
    [ ! -e "$WORK/none" ] || { echo "a read job created its file"; return 1; }
}

# Where io_uring cannot be used (here: a seccomp filter, as in containers),
# the engine says so once and writes the same bytes with pread/pwrite;
# dgen_io=io_uring fails instead, and dgen_io=psync never tries.
t_psync_fallback() {
    local out n
    rm -f "$WORK/fb"
    local args=(--ioengine=external:"$ENGINE" --name=fb --filename="$WORK/fb" "${DG[@]}" "${SAME[@]}")
    say "$NO_URING" fio "${args[@]}" --rw=randwrite --bs=12k --iodepth=16 --numjobs=4 ...
    out=$("$NO_URING" fio "${args[@]}" --rw=randwrite --bs=12k --iodepth=16 --numjobs=4 \
        --size=9m --offset_increment=9m 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    n=$(grep -c "io_uring cannot be used here (io_uring_setup: Operation not permitted)" <<<"$out")
    [ "$n" = 1 ] || { echo "the fallback was said $n times"; return 1; }
    expect_depth "$out" 1 || return 1
    run cmp "$WORK/fb" "$WORK/ref36" || return 1
    say "$NO_URING" fio "${args[@]}" --rw=randread --dgen_io=io_uring ...
    if out=$("$NO_URING" fio "${args[@]}" --rw=randread --bs=12k --iodepth=16 --size=36m \
        --dgen_io=io_uring 2>&1); then
        echo "$out"; echo "dgen_io=io_uring ran without io_uring"; return 1
    fi
    echo "$out"
    grep -q "dgen_io=io_uring, but io_uring cannot be used here" <<<"$out" || return 1
    out=$(dfio --name=ps --filename="$WORK/fb" "${DG[@]}" --rw=randread --bs=12k --iodepth=16 \
        --size=36m --dgen_io=psync --dgen_verify=1 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    expect_depth "$out" 1
}

# dgen_compressor reaches the library: each name gives the bytes the C ABI
# gives for it.
t_compressor() {
    local c
    for c in auto zstd lz4 gzip snappy lzo lzjb; do
        run "$REF" "$WORK/ref-$c" $((4 * MiB)) 2.5 3 8192 42 "$c" || return 1
        write_and_compare "$WORK/c-$c" "$WORK/ref-$c" "${DG[@]}" --dgen_compressor=$c \
            --rw=randwrite --bs=8k --iodepth=8 --size=4m || return 1
    done
    # The library's names: an alias gives its compressor's bytes.
    run "$REF" "$WORK/ref-zlib" $((4 * MiB)) 2.5 3 8192 42 ZLIB && cmp -s "$WORK/ref-zlib" "$WORK/ref-gzip" || return 1
    ! run "$REF" "$WORK/ref-x" 4096 1 1 4096 1 brotli
}

# Messages: a number out of range is said to be one; a value fio's parser
# could take apart is shown once and as written.
t_messages() {
    local out
    expect_refused "dgen_dedup=1e400 is out of range: dedup_ratio must be" --dgen_dedup=1e400 &&
        expect_refused "dgen_compress=1e-400 is out of range: compress_ratio must be" \
            --dgen_compress=1e-400 &&
        expect_refused "dgen_compressor=brotli: compressor must be one of auto, zstd, lz4, gzip, snappy, lzo, lzjb, got brotli" --dgen_compressor=brotli &&
        expect_refused "dgen_io=libaio: must be auto, io_uring or psync" --dgen_io=libaio || return 1
    out=$(dfio --name=bad --filename="$WORK/bad" --rw=write --bs=4k --size=1m \
        --dgen_dedup_unit=-4k 2>&1) && { echo "$out"; return 1; }
    echo "$out"
    [ "$(grep -c 'dgen_dedup_unit=-4k: must be a multiple of 4096' <<<"$out")" = 1 ] ||
        { echo "not said exactly once, as written"; return 1; }
    ! grep -q 18446744073709547520 <<<"$out"
}

# The project's golden stream (tests/c/golden.h): 1 GiB is a whole number of
# 1024-unit dedup windows, so the sized stream it is defined by and the
# engine's endless one hold the same bytes; its first 16 MiB, written
# through io_uring, must hash to the shared value.
t_golden() {
    local h=$ROOT/tests/c/golden.h get want got
    get() { sed -n "s/^#define DGEN_GOLDEN_$1 *\"\{0,1\}\([^\"u]*\).*/\1/p" "$h"; }
    want=$(get SHA256)
    [ ${#want} = 64 ] || { echo "no hash in $h"; return 1; }
    rm -f "$WORK/golden"
    dfio --name=g --filename="$WORK/golden" --dgen_dedup="$(get DEDUP_RATIO)" \
        --dgen_compress="$(get COMPRESS_RATIO)" --dgen_dedup_unit="$(get DEDUP_UNIT)" \
        --dgen_seed="$(get SEED)" --rw=randwrite --bs=64k --iodepth=16 --size=16m || return 1
    got=$(sha256sum <"$WORK/golden" | cut -d' ' -f1)
    echo "want $want"; echo "got  $got"
    [ "$got" = "$want" ]
}

# --- write versions and the write state ---------------------------------------

SD=(--dgen_dedup=2 --dgen_compress=2 --dgen_seed=5)
SDGEN=(--size 32MiB --dedup 2 --compress 2 --seed 5)

# json_get JSON PATH: the value at a dotted PATH ("state.stale").
json_get() {
    python3 -c 'import json,sys; v=json.loads(sys.argv[1]); [v:=v[k] for k in sys.argv[2].split(".")]; print(v)' "$1" "$2"
}

# A file preconditioned through a state (rw=write), then random 4k writes
# at iodepth 16 from 2 jobs, twice over the file each: every unit holds new
# bytes, with the dataset's dedup and compression, and both fio and
# `dgen verify` check it against the state.
t_state_overwrite() {
    local f=$WORK/sv s=$WORK/sv.state out pre post
    rm -f "$f" "$s"
    dfio --name=pre --filename="$f" "${SD[@]}" --dgen_state="$s" --rw=write --bs=128k \
        --size=32m || return 1
    # The first pass is the dataset itself.
    run "$DGEN" generate "${SDGEN[@]}" -o "$WORK/sv.dataset" 2>/dev/null || return 1
    run cmp "$f" "$WORK/sv.dataset" || return 1
    cp "$f" "$WORK/sv.pre"
    out=$(dfio --name=rw --filename="$f" "${SD[@]}" --dgen_state="$s" --rw=randwrite --bs=4k \
        --iodepth=16 --numjobs=2 --size=32m --io_size=64m --group_reporting 2>&1) ||
        { echo "$out"; return 1; }
    echo "$out"
    expect_depth "$out" 16 || return 1
    cp "$f" "$WORK/sv.post"
    python3 - "$WORK/sv.pre" "$f" <<'PY' || return 1
import sys
a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
assert len(a) == len(b) == 32 << 20
same = sum(a[i:i + 4096] == b[i:i + 4096] for i in range(0, len(a), 4096))
print(f"units holding their precondition bytes: {same} of {len(a) // 4096}")
assert same == 0
PY
    # Measured on the final file: each unit's latest version.
    pre=$("$DGEN" analyze "$WORK/sv.pre" --json --codecs zstd-1,lz4 --chunks 4KiB 2>/dev/null) || return 1
    post=$("$DGEN" analyze "$f" --json --codecs zstd-1,lz4 --chunks 4KiB 2>/dev/null) || return 1
    python3 - "$pre" "$post" <<'PY' || return 1
import json, sys
pre, post = json.loads(sys.argv[1]), json.loads(sys.argv[2])
dedup = post["dedup"]["4096"]
print(f"final file: dedup {dedup} (dgen_dedup=2, within 5%)")
assert abs(dedup / 2 - 1) <= 0.05, dedup
for c in ("zstd-1", "lz4"):
    a, b = pre["compression"][c]["4096"], post["compression"][c]["4096"]
    print(f"{c} at 4 KiB: precondition {a}, final {b} (within 3%)")
    assert abs(b / a - 1) <= 0.03, (c, a, b)
PY
    out=$(dfio --name=v --filename="$f" "${SD[@]}" --dgen_state="$s" --rw=read --bs=1m \
        --size=32m --dgen_verify=1 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    grep -q "dgen: v: verify: 8192 units right against state $s" <<<"$out" || return 1
    out=$(run "$DGEN" verify "$f" "${SDGEN[@]}" --state "$s" --json 2>/dev/null) || { echo "$out"; return 1; }
    echo "$out"
    [ "$(json_get "$out" passed)" = True ] && [ "$(json_get "$out" state.units_ok)" = 8192 ]
}

# Lost writes: 1 unit in 500 gets its bytes from before the randwrite pass
# back. fio's verify run fails naming them stale, and `dgen verify --state`
# counts exactly those.
t_state_lost_writes() {
    local f=$WORK/sl s=$WORK/sl.state want out err rc got n offs
    [ -s "$WORK/sv.post" ] || { echo "needs state-overwrite first"; return 1; }
    cp "$WORK/sv.post" "$f" && cp "$WORK/sv.state" "$s" || return 1
    want=$(python3 - "$WORK/sv.pre" "$f" <<'PY'
import random, sys
random.seed(500)
lost = sorted(random.sample(range(8192), 8192 // 500))
old = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "r+b") as f:
    for u in lost:
        f.seek(u * 4096)
        f.write(old[u * 4096:(u + 1) * 4096])
print(len(lost), " ".join(str(u * 4096) for u in lost))
PY
)
    echo "put back: $want"
    out=$(dfio --name=v --filename="$f" "${SD[@]}" --dgen_state="$s" --rw=randread --bs=64k \
        --iodepth=8 --size=32m --dgen_verify=1 2>"$WORK/sl.err")
    rc=$?
    err=$(cat "$WORK/sl.err")
    echo "$out"; echo "$err"
    [ $rc != 0 ] || { echo "fio passed a file with lost writes"; return 1; }
    n=${want%% *}
    read -ra offs <<<"${want#* }"
    grep -qF "verify failed: file $f, state $s: $n of 8192 units checked are wrong: $n stale (at offsets ${offs[0]}, ${offs[1]}, ${offs[2]}, ${offs[3]}, ...)" \
        <<<"$err" || { echo "no line naming $n stale units"; return 1; }
    grep -qF "error=$n stale (first at offset ${offs[0]}))" <<<"$out" ||
        { echo "the job's summary does not name them"; return 1; }
    out=$("$DGEN" verify "$f" "${SDGEN[@]}" --state "$s" --json 2>/dev/null)
    got="$(json_get "$out" state.stale) $(json_get "$out" state.first_stale)"
    echo "dgen verify: stale $got"
    [ "$got" = "$want" ] || return 1
    [ "$(json_get "$out" state.misplaced) $(json_get "$out" state.zero) $(json_get "$out" state.corrupt)" = "0 0 0" ]
}

# SIGKILL of a writer at iodepth 16, 5 times: afterwards a verify run
# reports nothing wrong, whatever was in flight.
t_state_kill() {
    local f=$WORK/sk s=$WORK/sk.state i pid kids out flight
    rm -f "$f" "$s"
    dfio --name=pre --filename="$f" "${SD[@]}" --dgen_state="$s" --rw=write --bs=1m \
        --size=32m >/dev/null || return 1
    for i in 1 2 3 4 5; do
        say fio --name=w ... --dgen_state="$s" --rw=randwrite --bs=4k --iodepth=16 --numjobs=2 \
            --time_based --runtime=30 '(then SIGKILL)'
        fio --ioengine=external:"$ENGINE" --name=w --filename="$f" "${SD[@]}" --dgen_state="$s" \
            --rw=randwrite --bs=4k --iodepth=16 --numjobs=2 --size=32m --time_based \
            --runtime=30 >"$WORK/sk.log" 2>&1 &
        pid=$!
        sleep "0.$((RANDOM % 5 + 4))"
        # fio and its job processes, by parent pid.
        kids=$(pgrep -P "$pid" | tr '\n' ' ')
        # shellcheck disable=SC2086
        kill -KILL "$pid" $kids 2>/dev/null
        wait "$pid" 2>/dev/null
        flight=$("$DGEN" state show "$s" --json |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["in_flight"])')
        out=$(dfio --name=v --filename="$f" "${SD[@]}" --dgen_state="$s" --rw=read --bs=1m \
            --size=32m --dgen_verify=1 2>&1) || { echo "$out"; echo "kill $i: false report"; return 1; }
        grep "verify:" <<<"$out"
        echo "kill $i (job processes $kids): $flight units in flight; verify passed"
        grep -q "dgen: v: verify: 8192 units right" <<<"$out" || return 1
    done
}

# dgen_overwrite=same writes the same bytes on every pass; the default
# writes new ones.
t_overwrite_same() {
    local f=$WORK/same
    write_and_compare "$f" "$WORK/ref32" "${DG[@]}" --rw=write --bs=64k --size=32m || return 1
    dfio --name=w --filename="$f" "${DG[@]}" "${SAME[@]}" --rw=randwrite --bs=8k --iodepth=16 \
        --size=32m --io_size=64m || return 1
    run cmp "$f" "$WORK/ref32" || return 1
    dfio --name=w --filename="$f" "${DG[@]}" --rw=randwrite --bs=8k --iodepth=16 \
        --size=32m --io_size=64m || return 1
    ! cmp -s "$f" "$WORK/ref32" || { echo "dgen_overwrite=new wrote the same bytes"; return 1; }
}

# Bad combinations stop fio before any file or state is made, in one line
# naming the option and value.
t_state_refused() {
    local s=$WORK/refused.state n sum out
    rm -f "$s"
    expect_refused "dgen_overwrite=maybe: must be new or same" --dgen_overwrite=maybe &&
        expect_refused "dgen_overwrite=same cannot be used with dgen_state=$s: a state records" \
            --dgen_overwrite=same --dgen_state="$s" &&
        expect_refused "bs=4k (writes) is not a multiple of dgen_dedup_unit=8k: with dgen_overwrite=new (the default) writes cover whole dedup units" \
            --dgen_dedup_unit=8k --bs=4k &&
        expect_refused "bsrange=8k-12k (writes) is not a multiple of dgen_dedup_unit=8k" \
            --dgen_dedup_unit=8k --bsrange=8k-12k &&
        expect_refused "offset=4k is not a multiple of dgen_dedup_unit=8k" --dgen_dedup_unit=8k \
            --bs=8k --offset=4k &&
        expect_refused "bs=12k (reads) is not a multiple of dgen_dedup_unit=8k: reads checked against a write state" \
            --dgen_dedup_unit=8k --rw=randrw --bs=12k,8k --dgen_verify=1 &&
        expect_refused "dgen_state=$s cannot be used with dgen_null=1" --dgen_state="$s" --dgen_null=1 ||
        return 1
    [ ! -e "$s" ] || { echo "a refused job made its state"; return 1; }
    rm -f "$WORK/bad1" "$WORK/bad2"
    if out=$(dfio --name=bad --filename="$WORK/bad1:$WORK/bad2" --rw=write --bs=4k --size=1m 2>&1); then
        echo "$out"; echo "two files were accepted"; return 1
    fi
    echo "$out"
    grep -q "dgen_overwrite=new (the default) keeps the versions of one file per job, and this job has 2" \
        <<<"$out" || return 1
    [ ! -e "$WORK/bad1" ] && [ ! -e "$WORK/bad2" ] || { echo "a file was created"; return 1; }
    # numjobs clones say it once.
    n=$(fio --ioengine=external:"$ENGINE" --name=bad --filename="$WORK/bad" --rw=write --bs=4k \
        --size=1m --dgen_dedup_unit=8k --numjobs=3 2>&1 | grep -c "is not a multiple")
    [ "$n" = 1 ] || { echo "said $n times"; return 1; }
    # A state of another dataset: the job fails, the state is untouched.
    [ -s "$WORK/sv.state" ] || { echo "needs state-overwrite first"; return 1; }
    sum=$(sha256 "$WORK/sv.state")
    if out=$(dfio --name=other --filename="$WORK/sv.other" --dgen_dedup=2 --dgen_compress=2 \
        --dgen_seed=6 --dgen_state="$WORK/sv.state" --rw=write --bs=64k --size=32m 2>&1); then
        echo "$out"; echo "another seed was accepted"; return 1
    fi
    echo "$out"
    grep -q "dgen_state=$WORK/sv.state: .*is for another dataset: its seed is 5, this run's is 6" <<<"$out" || return 1
    [ "$(sha256 "$WORK/sv.state")" = "$sum" ]
}

# Without dgen_state, the jobs of one run share a state of the run's own in
# $TMPDIR, as processes and as threads: a verify job after three writes of
# every unit passes, and the last job removes the state. The next run keeps
# its own, so its first writes are the dataset again.
t_run_state() {
    local tmp=$WORK/tmp f=$WORK/rs mode out jf=$WORK/rs.fio
    mkdir -p "$tmp"
    printf '%s\n' '[global]' "ioengine=external:$ENGINE" dgen_dedup=2 dgen_compress=2 \
        dgen_seed=9 "filename=$f" size=16m '[w]' rw=randwrite bs=4k iodepth=16 io_size=48m \
        '[v]' stonewall rw=read bs=256k dgen_verify=1 >"$jf"
    run "$REF" "$WORK/ref16" $((16 * MiB)) 2 2 4096 9 || return 1
    for mode in --thread=0 --thread=1; do
        rm -f "$f"
        out=$(TMPDIR=$tmp run fio "$mode" "$jf" 2>&1) || { echo "$out"; return 1; }
        echo "$out"
        grep -q "dgen: v: verify: 4096 units right against state $tmp/dgen-fio-$(id -u)-" <<<"$out" ||
            return 1
        [ -z "$(ls -A "$tmp")" ] || { echo "$mode left $(ls "$tmp")"; return 1; }
        python3 - "$WORK/ref16" "$f" <<'PY' || return 1
import sys
a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
same = sum(a[i:i + 4096] == b[i:i + 4096] for i in range(0, len(a), 4096))
print(f"units holding their first write after three writes each: {same} of 4096")
assert same == 0
PY
    done
    rm -f "$f"
    TMPDIR=$tmp dfio --name=w --filename="$f" --dgen_dedup=2 --dgen_compress=2 --dgen_seed=9 \
        --rw=randwrite --bs=4k --size=16m || return 1
    run cmp "$f" "$WORK/ref16" || return 1
    [ -z "$(ls -A "$tmp")" ]
}

check help-lists-options      t_help
check seq-write-128k          t_seq_128k
check randwrite-8k            t_rand_8k
check randwrite-4k-same       t_rand_4k
check randwrite-12k           t_rand_12k
check randwrite-12k-direct    t_direct
check numjobs-shared-seed     t_numjobs_shared_seed
check fio-buffer-opts-ignored t_fio_buffer_options_ignored
check other-seed-differs      t_other_seed_differs
check verify-read-passes      t_verify_read_passes
check verify-read-finds-flip  t_verify_read_finds_flip
check bad-options-refused     t_bad_options
check null-mode               t_null_mode
check example-job-files       t_examples
check client-server-parts     t_client_server
check client-needs-seed       t_client_needs_seed
check part-matches-dgen-part  t_part_matches_dgen_part
check part-block-device       t_part_block_device
check part-refused            t_part_refused
check iodepth-1-4-16-64       t_depths
check uring-direct-options    t_uring_direct_options
check uring-finds-flip        t_uring_finds_flip
check short-file-untouched    t_short_file_untouched
check psync-fallback          t_psync_fallback
check compressor-option       t_compressor
check messages                t_messages
check golden-stream           t_golden
check state-overwrite         t_state_overwrite
check state-lost-writes       t_state_lost_writes
check state-kill              t_state_kill
check overwrite-same          t_overwrite_same
check state-refused           t_state_refused
check run-state               t_run_state

echo "fio: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
