#!/usr/bin/env bash
# Tests the fio external ioengine (bindings/fio) with a real fio: the files it
# writes are byte-identical to the C ABI's stream for the same options, for
# any access pattern, block size, job count and number of fio processes;
# dgen_verify=1 finds a flipped byte at its offset; bad options stop fio
# before any job starts.
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
if [ ${#missing[@]} -gt 0 ]; then
    run apt-get update -qq || exit 1
    run apt-get install -y -qq "${missing[@]}" >/dev/null || exit 1
fi
command -v cargo >/dev/null || { echo "test-fio: cargo is needed to build libdgen" >&2; exit 1; }

(cd "$ROOT" && run cargo build --release --quiet) || exit 1
run make -s -C "$FIODIR" || exit 1

# --- scratch space and cleanup ---------------------------------------------
WORK=$(mktemp -d /dev/shm/dgen-fio-test.XXXXXX)
DISK=$(mktemp -d /var/tmp/dgen-fio-test.XXXXXX)   # a real file system, for O_DIRECT
SERVERS=()
cleanup() {
    for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
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
# fio with the engine; engine options are only known after --ioengine.
dfio() { say fio --ioengine=external:"$ENGINE" "$@"; fio --ioengine=external:"$ENGINE" "$@"; }

run "$REF" "$WORK/ref32" $((32 * MiB)) 2.5 3 8192 42 || exit 1
run "$REF" "$WORK/ref36" $((36 * MiB)) 2.5 3 8192 42 || exit 1

# --- the tests ---------------------------------------------------------------
t_help() {
    local out
    out=$(fio --enghelp="$ENGINE") || return 1
    echo "$out"
    for o in dgen_dedup dgen_compress dgen_dedup_unit dgen_seed dgen_verify dgen_null; do
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
t_rand_4k()   { write_and_compare "$WORK/r4k"  "$WORK/ref32" "${DG[@]}" --rw=randwrite --bs=4k   --size=32m; }
t_rand_12k()  { write_and_compare "$WORK/r12k" "$WORK/ref36" "${DG[@]}" --rw=randwrite --bs=12k  --size=36m; }
t_direct()    { write_and_compare "$DISK/dio"  "$WORK/ref36" "${DG[@]}" --rw=randwrite --bs=12k  --size=36m --direct=1; }

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
        expect_refused "dgen_dedup_unit=134217728: dedup_unit must be" --dgen_dedup_unit=128m &&
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
}

# Is something listening on 127.0.0.1:PORT? (reads /proc, needs no tools)
listening() {
    local hex
    hex=$(printf ':%04X' "$1")
    awk -v p="$hex" '$2 == "0100007F" p && $4 == "0A" { f = 1 } END { exit !f }' \
        <(awk '{ print $1, $2, $3, $4 }' /proc/net/tcp)
}

# Two fio servers on loopback each write one half of a file; the result must
# equal one process writing it all.
t_client_server() {
    local base=$((20000 + RANDOM % 20000)) p i
    local ports=($base $((base + 1)))
    for p in "${ports[@]}"; do
        say fio --server=ip:127.0.0.1,$p
        fio --server=ip:127.0.0.1,$p >"$WORK/server-$p.log" 2>&1 &
        SERVERS+=($!)
    done
    for p in "${ports[@]}"; do
        for i in $(seq 100); do listening "$p" && break; sleep 0.1; done
        listening "$p" || { echo "server on port $p did not start"; cat "$WORK/server-$p.log"; return 1; }
    done
    rm -f "$WORK/scaleout"
    run truncate -s 32m "$WORK/scaleout"
    DGEN_FIO_ENGINE=$ENGINE DGEN_FIO_FILE=$WORK/scaleout \
        run fio --client=ip:127.0.0.1,${ports[0]} "$ROOT/examples/fio/scaleout-0.fio" \
        --client=ip:127.0.0.1,${ports[1]} "$ROOT/examples/fio/scaleout-1.fio" || return 1
    run cmp "$WORK/scaleout" "$WORK/ref32"
}

check help-lists-options      t_help
check seq-write-128k          t_seq_128k
check randwrite-4k            t_rand_4k
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
check client-server-halves    t_client_server

echo "fio: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
