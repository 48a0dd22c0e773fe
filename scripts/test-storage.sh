#!/usr/bin/env bash
# dgen generate / dgen verify against what a storage tester points them at:
# regular files with every offset/length/jobs/block-size/iodepth/O_DIRECT
# combination tried, ranges written apart, loop devices (as root), FIFOs,
# /dev/null, /dev/full, a full tmpfs, a file system without O_DIRECT (ramfs),
# truncated and longer files, standard input and output, a closed standard
# output, a terminal, SIGINT and SIGTERM in the middle, and (when the fio
# engine is built) a file fio wrote. Loop devices and mounts are removed on
# any exit. About 10 s after the build.
#
#   scripts/test-storage.sh
#
# The reference bytes come from `dgen generate` to standard output: one
# block after the other in order, a different path through the library
# (dgen::storage's stream) from the parallel positional writes checked here.
# cli/tests/cli.rs and tests/storage.rs check both against Generator::fill_at.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

export PATH="$HOME/.cargo/bin:$PATH"
run cargo build --release -q -p dgen-cli || exit 1
D=$PWD/target/release/dgen
# Not /dev/shm: O_DIRECT needs a disk-backed file system on older kernels.
loop_scratch test-storage

# same NAME A B [OFFSET LENGTH]: file B holds A's bytes (all, or LENGTH at OFFSET).
same() {
  local name=$1 a=$2 b=$3
  if [ $# -ge 5 ]; then
    cmp -s -i "$4:$4" -n "$5" "$a" "$b" && ok "$name" || bad "$name: $(cmp -i "$4:$4" -n "$5" "$a" "$b" 2>&1)"
  else
    cmp -s "$a" "$b" && ok "$name" || bad "$name: $(cmp "$a" "$b" 2>&1)"
  fi
}
size_of() { stat -c %s "$1"; }
# stop_with SIG PID SECONDS LOG: sends SIG to PID, a job of this shell, and
# waits up to SECONDS for it to end; one that has not is killed (a failure,
# not a hang) and LOG says so. Its exit status is left in $rc.
stop_with() {
  local sig=$1 pid=$2 secs=$3 log=$4
  kill "-$sig" "$pid"
  for _ in $(seq $((secs * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    echo "(did not stop within $secs s of SIG$sig)" >>"$log"
  fi
  wait "$pid"
  rc=$?
}

OPTS=(--dedup 2 --compress 3 --dedup-unit 8KiB --seed 42)
SIZE=$((5 * 1048576 + 12345))
ref=$work/ref.bin
"$D" generate --size "$SIZE" "${OPTS[@]}" --jobs 1 --block-size 4KiB >"$ref" 2>/dev/null
[ "$(size_of "$ref")" = "$SIZE" ] || { echo "no reference data"; exit 1; }

step "every offset/length/jobs/block-size/iodepth/O_DIRECT combination gives the library's bytes"
direct_ok=1
"$D" generate --size 8192 --seed 1 --direct -o "$work/probe" 2>/dev/null || direct_ok=0
for combo in "0 - 1 1MiB 1 0" "0 - 3 64KiB 1 1" "0 - 2 4KiB 8 1" "1000 3000001 2 256KiB 1 1" \
  "28672 1048576 3 8KiB 16 0" "777 1000 2 4KiB 2 1" "$((SIZE - 10)) - 2 4KiB 1 1" "12288 - 1 1MiB 3 0" \
  "4095 4097 4 4KiB 4 1" "0 $SIZE 2 128KiB 32 0"; do
  read -r off len jobs bs depth direct <<<"$combo"
  [ "$direct" = 1 ] && [ "$direct_ok" = 0 ] && { skip "combo $combo: no O_DIRECT here"; continue; }
  f=$work/combo.bin
  rm -f "$f"
  args=(--offset "$off" --jobs "$jobs" --block-size "$bs" --iodepth "$depth")
  [ "$len" != - ] && args+=(--length "$len") || len=$((SIZE - off))
  [ "$direct" = 1 ] && args+=(--direct)
  if ! "$D" generate --size "$SIZE" "${OPTS[@]}" "${args[@]}" -o "$f" 2>"$work/err"; then
    bad "combo $combo: $(cat "$work/err")"
    continue
  fi
  [ "$(size_of "$f")" = $((off + len)) ] || { bad "combo $combo: length $(size_of "$f")"; continue; }
  same "combo $combo" "$ref" "$f" "$off" "$len"
  expect "combo $combo: verify" 0 "match" -- "$D" verify "$f" --size "$SIZE" "${OPTS[@]}" "${args[@]}"
done

step "two ranges written separately make the whole dataset"
f=$work/parts.bin
rm -f "$f"
"$D" generate --size "$SIZE" "${OPTS[@]}" --offset 1234567 --jobs 2 -o "$f" 2>/dev/null
"$D" generate --size "$SIZE" "${OPTS[@]}" --length 1234567 --jobs 3 --block-size 8KiB -o "$f" 2>/dev/null
same "range [1234567, end) then [0, 1234567)" "$ref" "$f"
expect "the whole dataset verifies" 0 "all $SIZE bytes match" -- "$D" verify "$f" --size "$SIZE" "${OPTS[@]}"

step "truncated and longer files, standard input"
cp "$ref" "$work/t.bin"
truncate -s 3000000 "$work/t.bin"
expect "truncated file" 1 "data ends at 3000000, the dataset is $SIZE" -- "$D" verify "$work/t.bin" --size "$SIZE" "${OPTS[@]}"
cp "$ref" "$work/l.bin"
printf 'tail' >>"$work/l.bin"
expect "longer file" 1 "goes on past the end of the dataset" -- "$D" verify "$work/l.bin" --size "$SIZE" "${OPTS[@]}"
expect "longer file, range checked" 0 "match" -- "$D" verify "$work/l.bin" --size "$SIZE" --length "$SIZE" "${OPTS[@]}"
expect "verify without --size" 2 "verify needs --size" -- "$D" verify "$ref" "${OPTS[@]}"
expect "standard input from a file" 0 "all $SIZE bytes match" -- sh -c "\"$D\" verify - --size $SIZE ${OPTS[*]} <\"$ref\""
expect "standard input from a pipe" 0 "all $SIZE bytes match" -- sh -c "cat \"$ref\" | \"$D\" verify - --size $SIZE ${OPTS[*]}"
expect "truncated standard input" 1 "data ends at 3000000" -- sh -c "head -c 3000000 \"$ref\" | \"$D\" verify - --size $SIZE ${OPTS[*]}"
expect "longer standard input" 1 "goes on past" -- sh -c "(cat \"$ref\"; echo x) | \"$D\" verify - --size $SIZE ${OPTS[*]}"
expect "/dev/stdin" 0 "match" -- sh -c "cat \"$ref\" | \"$D\" verify /dev/stdin --size $SIZE ${OPTS[*]}"
bad_copy=$work/b.bin
cp "$ref" "$bad_copy"
printf '\x00' | dd of="$bad_copy" bs=1 seek=4000000 conv=notrunc status=none
expect "a wrong byte" 1 "first wrong byte at offset 4000000" -- "$D" verify "$bad_copy" --size "$SIZE" "${OPTS[@]}" --direct

step "special files: /dev/null, /dev/full, FIFOs, standard output"
expect "-o /dev/null" 0 "wrote $SIZE bytes" -- "$D" generate --size "$SIZE" "${OPTS[@]}" -o /dev/null
expect "-o /dev/full" 1 "cannot write /dev/full at offset 0: No space left on device" -- "$D" generate --size "$SIZE" "${OPTS[@]}" -o /dev/full
expect "--direct on /dev/null" 2 "O_DIRECT" -- "$D" generate --size "$SIZE" "${OPTS[@]}" --direct -o /dev/null
fifo=$work/fifo
mkfifo "$fifo"
cat "$fifo" >"$work/from-fifo.bin" &
expect "-o FIFO" 0 "wrote $SIZE bytes" -- "$D" generate --size "$SIZE" "${OPTS[@]}" -o "$fifo"
wait
same "FIFO carries the dataset" "$ref" "$work/from-fifo.bin"
"$D" generate --size "$SIZE" "${OPTS[@]}" -o "$fifo" 2>/dev/null &
expect "verify FIFO" 0 "all $SIZE bytes match" -- "$D" verify "$fifo" --size "$SIZE" "${OPTS[@]}"
wait
"$D" generate --size "$SIZE" "${OPTS[@]}" -o /dev/stdout 2>/dev/null | cat >"$work/stdout.bin"
same "-o /dev/stdout into a pipe" "$ref" "$work/stdout.bin"
"$D" generate --size "$SIZE" "${OPTS[@]}" --offset 5000 --length 100000 2>/dev/null >"$work/range-out.bin"
[ "$(size_of "$work/range-out.bin")" = 100000 ] && cmp -s -i 5000:0 -n 100000 "$ref" "$work/range-out.bin" && ok "range to standard output holds [5000, 105000)" || bad "range to standard output"
expect "closed standard output" 2 "standard output is closed" -- sh -c "\"$D\" generate --size 1MiB --seed 1 >&-"
out=$(script -qec "\"$D\" generate --size 1MiB --seed 1" /dev/null 2>&1 | tr -d '\r')
[[ "$out" == *"standard output is a terminal"* && ${#out} -lt 300 ]] && ok "a terminal is refused" || bad "terminal: $out"

step "the endless stream (--size 0), as fio's engine writes it"
expect "--size 0 without --length" 2 "--length" -- "$D" generate --size 0 --seed 3 -o "$work/e.bin"
"$D" generate --size 0 --length 3MiB --seed 3 --jobs 2 -o "$work/e.bin" 2>/dev/null
expect "verify --size 0 checks all there is" 0 "all 3145728 bytes match" -- "$D" verify "$work/e.bin" --size 0 --seed 3
expect "verify --size 0 --length" 1 "data ends at 3145728" -- "$D" verify "$work/e.bin" --size 0 --length 4MiB --seed 3
if [ -f bindings/fio/libdgen_fio.so ] && command -v fio >/dev/null; then
  fio --name=w --ioengine=external:"$PWD/bindings/fio/libdgen_fio.so" --dgen_dedup=2 --dgen_compress=3 \
    --dgen_dedup_unit=8k --dgen_seed=42 --filename="$work/fio.bin" --rw=write --bs=8k --size=100m >/dev/null 2>&1
  expect "a file fio's engine wrote" 0 "all 104857600 bytes match" -- "$D" verify "$work/fio.bin" --size 0 "${OPTS[@]}"
else
  skip "a file fio's engine wrote: bindings/fio/libdgen_fio.so is not built"
fi

step "the JSON report"
json=$("$D" generate --size "$SIZE" "${OPTS[@]}" --jobs 2 --iodepth 4 --json -o "$work/j.bin" 2>/dev/null)
if echo "$json" | jq -e '.bytes and .seconds and .gbps and .iops and .latency_us.p50 and .latency_us.p90
    and .latency_us.p99 and .latency_us.p999 and .latency_us.max and (.generate_seconds != null)
    and (.io_seconds != null) and (.bottleneck | test("-bound: generation took"))' >/dev/null; then
  ok "generate --json has every key"
else
  bad "generate --json: $json"
fi
json=$("$D" verify "$bad_copy" --size "$SIZE" "${OPTS[@]}" --json 2>/dev/null)
[ "$(echo "$json" | jq -r '.passed, .mismatch_offset, .wrong_blocks' | tr '\n' ' ')" = "false 4000000 1 " ] \
  && ok "verify --json names the mismatch" || bad "verify --json: $json"

step "SIGINT and SIGTERM in the middle"
sig_case() { # SIGNAL TARGET-DESCRIPTION
  local sig=$1 kind=$2 f=$work/sig.bin pid rc err written prefix
  rm -f "$f"
  if [ "$kind" = file ]; then
    "$D" generate --size 64GiB --seed 77 --jobs 2 --block-size 64KiB -o "$f" 2>"$work/sig.err" &
  else
    # A reader that never reads: the write blocks once the pipe is full.
    exec 7<>"$fifo"
    "$D" generate --size 64GiB --seed 77 -o "$fifo" 2>"$work/sig.err" &
  fi
  pid=$!
  sleep 1
  stop_with "$sig" "$pid" 10 "$work/sig.err"
  [ "$kind" = file ] || exec 7>&-
  err=$(cat "$work/sig.err")
  written=$(sed -n 's/.*interrupted: wrote \([0-9]*\) bytes.*/\1/p' <<<"$err")
  if [ "$rc" != 130 ] || [[ "$err" != *"dgen: seed 77: writing"* ]] || [[ "$err" != *", seed 77"* ]] || [ -z "$written" ]; then
    bad "$sig on a $kind: exit $rc, stderr: $err"
    return
  fi
  if [ "$kind" = file ]; then
    prefix=$(sed -n 's/.*complete for its first \([0-9]*\) bytes.*/\1/p' <<<"$err")
    if [ "$(size_of "$f")" = "$prefix" ] && [ "$prefix" -gt 0 ] &&
      "$D" verify "$f" --size 64GiB --length "$prefix" --seed 77 2>/dev/null; then
      ok "$sig on a file: exit 130, seed, $written bytes written, the file is the first $prefix bytes"
    else
      bad "$sig on a file: file is $(size_of "$f") bytes, message: $err"
    fi
  else
    ok "$sig on a blocked FIFO: exit 130, seed, $written bytes written"
  fi
}
sig_case INT file
sig_case TERM file
sig_case INT fifo

# A FIFO with no reader (or no writer) blocks the open itself: the first
# signal must end it, after the seed line.
open_case() { # SIGNAL generate|verify
  local sig=$1 cmd=$2 f=$work/lonely.fifo pid rc err want
  rm -f "$f"
  mkfifo "$f"
  if [ "$cmd" = generate ]; then
    "$D" generate --size 8MiB --seed 1 -o "$f" 2>"$work/open.err" &
    want="interrupted: wrote 0 bytes to $f"
  else
    "$D" verify "$f" --size 8MiB --seed 1 2>"$work/open.err" &
    want="interrupted: checked 0 bytes of $f"
  fi
  pid=$!
  sleep 0.5
  stop_with "$sig" "$pid" 5 "$work/open.err"
  err=$(cat "$work/open.err")
  if [ "$rc" = 130 ] && [[ "$err" == *"$want"*", seed 1"* ]] &&
    { [ "$cmd" = verify ] || [[ "$err" == "dgen: seed 1: writing 8388608 bytes"* ]]; }; then
    ok "$sig during the open of a FIFO nobody opens ($cmd): exit 130, seed"
  else
    bad "$sig during the open of a FIFO ($cmd): exit $rc, stderr: $err"
  fi
}
open_case INT generate
open_case TERM generate
open_case INT verify
open_case TERM verify

step "loop devices, a full file system, a file system without O_DIRECT (root)"
if [ "$(id -u)" != 0 ] || ! command -v losetup >/dev/null; then
  skip "loop devices, tmpfs and ramfs mounts: need root (and losetup)"
else
  img=$work/dev.img
  truncate -s 16MiB "$img"
  if L=$(losetup -f --show "$img" 2>/dev/null); then
    loops+=("$L")
    dev_size=$(blockdev --getsize64 "$L")
    expect "unaligned size with --direct to $L" 0 "wrote 1000001 bytes" -- "$D" generate --size 1000001 "${OPTS[@]}" --direct -o "$L"
    head -c 1000001 "$L" >"$work/dev-head.bin"
    "$D" generate --size 1000001 "${OPTS[@]}" >"$work/ref-1000001.bin" 2>/dev/null
    same "the device holds the dataset, tail included" "$work/ref-1000001.bin" "$work/dev-head.bin"
    [ "$(blockdev --getsize64 "$L")" = "$dev_size" ] && ok "the device keeps its size" || bad "device size changed"
    expect "verify $L" 0 "all 1000001 bytes match" -- "$D" verify "$L" --size 1000001 "${OPTS[@]}"
    expect "verify $L --direct, io_uring" 0 "all 1000001 bytes match" -- "$D" verify "$L" --size 1000001 "${OPTS[@]}" --direct --iodepth 8 --jobs 2 --block-size 64KiB
    expect "verify $L, a larger dataset" 1 "data ends at 16777216, the dataset is 33554432" -- "$D" verify "$L" --size 32MiB "${OPTS[@]}"
    expect "a range past the device" 2 "past the end of $L" -- "$D" generate --size 32MiB "${OPTS[@]}" -o "$L"
    expect "... names --size, the option given" 2 "dgen: error: --size: range out of bounds" -- "$D" generate --size 32MiB "${OPTS[@]}" -o "$L"
    expect "... names --offset when given" 2 "dgen: error: --offset/--size: range out of bounds" -- "$D" generate --size 32MiB --offset 1MiB "${OPTS[@]}" -o "$L"
    expect "the whole device, in ranges" 0 "wrote" -- "$D" generate --size 16MiB "${OPTS[@]}" --length 5MiB --direct --iodepth 4 -o "$L"
    expect "... its second range" 0 "wrote" -- "$D" generate --size 16MiB "${OPTS[@]}" --offset 5MiB --jobs 2 -o "$L"
    expect "... verifies whole" 0 "all 16777216 bytes match" -- "$D" verify "$L" --size 16MiB "${OPTS[@]}" --direct
    # dgen analyze reads a block device at its size (not a length of 0).
    got=$("$D" analyze "$L" --json --codecs zstd-1 --chunks 128KiB 2>&1)
    if [[ "$got" == *'"bytes":16777216'* && "$got" == *'"zstd-1"'* ]]; then ok "analyze $L"; else bad "analyze $L: $got"; fi
    printf 'X' | dd of="$L" bs=1 seek=9999999 conv=notrunc status=none
    sync
    expect "a corrupted byte on $L" 1 "first wrong byte at offset 9999999" -- "$D" verify "$L" --size 16MiB "${OPTS[@]}" --direct
    # A mounted device is in use: writing it is refused.
    if mkfs.ext4 -q -F "$L" >/dev/null 2>&1 && mkdir -p "$work/mnt-ext4" && mount "$L" "$work/mnt-ext4"; then
      mounts+=("$work/mnt-ext4")
      expect "a mounted device is refused" 2 "in use" -- "$D" generate --size 1MiB --seed 1 -o "$L"
    else
      skip "mounted device: mkfs.ext4 or mount failed"
    fi
  else
    skip "loop devices: losetup could not attach one (no /dev/loop* in this container?)"
  fi
  mkdir -p "$work/small"
  if mount -t tmpfs -o size=1m tmpfs "$work/small"; then
    mounts+=("$work/small")
    expect "ENOSPC on a full tmpfs" 1 "No space left on device" -- "$D" generate --size 4MiB --seed 9 -o "$work/small/x.bin"
    grep -q "seed 9" <<<"$("$D" generate --size 4MiB --seed 9 -o "$work/small/x.bin" 2>&1)" && ok "ENOSPC says the seed" || bad "ENOSPC: no seed"
    n=$(size_of "$work/small/x.bin")
    "$D" generate --size 4MiB --seed 9 2>/dev/null | cmp -s -n "$n" - "$work/small/x.bin" && ok "what fitted ($n bytes) is the dataset's start" || bad "ENOSPC leftovers"
    # Two workers: blocks past the first gap were written, then cut away;
    # the message says so rather than count them as kept.
    err=$("$D" generate --size 4MiB --seed 9 --jobs 2 --block-size 64KiB -o "$work/small/x.bin" 2>&1)
    n2=$(size_of "$work/small/x.bin")
    written=$(sed -n 's/.*; \([0-9]*\) bytes were written.*/\1/p' <<<"$err")
    if [[ "$err" == *"x.bin was cut to $n2 bytes, where the part written without a gap ends"* ]] ||
      { [ "$written" = "$n2" ] && [[ "$err" != *"cut"* ]]; }; then
      ok "ENOSPC says what the file holds ($written bytes written, $n2 kept)"
    else
      bad "ENOSPC: the message does not say what the file holds ($n2 bytes): $err"
    fi
  else
    skip "tmpfs mount failed"
  fi
  mkdir -p "$work/ram"
  if mount -t ramfs ramfs "$work/ram"; then
    mounts+=("$work/ram")
    expect "--direct where the file system has no O_DIRECT" 2 "does not support direct I/O" -- "$D" generate --size 1MiB --seed 1 --direct -o "$work/ram/x.bin"
    [ ! -e "$work/ram/x.bin" ] && ok "no file left behind" || bad "an empty file was left behind"
  else
    skip "ramfs mount failed"
  fi
fi

echo
echo "test-storage: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
