#!/usr/bin/env bash
# dgen put / get / verify s3://... against a real S3 server started here on
# 127.0.0.1 (versitygw, pinned below, built once with `go install` and kept
# in ~/.cache/dgen-test so that a rerun does not build it again), stopped on
# any exit. What it shows:
#   - 64 objects of 1 MiB and 4 of 48 MiB (multipart) at dedup 2, compress 3:
#     the bytes read back with curl are the dataset's ranges, and their dedup
#     and zstd ratios are the ones asked for (dgen analyze);
#   - verify passes, and fails naming the key of an object overwritten, one
#     changed at one byte, one deleted, one truncated and an extra one;
#   - faults: the server killed in the middle of a put (exit 1, the objects
#     done so far, and a rerun completes), a wrong secret (one line naming
#     the 403), a missing bucket (a clear error, or created), SIGINT (exit
#     130 and no multipart upload left behind);
#   - bad input: one line and exit 2;
#   - the library's tests/object.rs, the Python package's
#     tests/test_objects.py (when scripts/test-python.sh has built it) and
#     the Go example (bindings/go/examples/s3put) against the same server.
# No traffic leaves 127.0.0.1. About 10 s once built (the first run on a
# machine adds about 4 minutes of server build, and its Rust tests' build).
#
#   scripts/test-s3.sh
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

export PATH="$HOME/.cargo/bin:$PATH:/usr/local/go/bin:$HOME/go/bin"
apt_install $(missing_commands curl)

. scripts/s3-server.sh
versitygw_binary || {
  bad "versitygw $VGW_VERSION: $VGW_ERROR"
  echo "$passed passed, $failed failed, $skipped skipped"
  exit 1
}

# The command and both tests/object.rs (the library's and the CLI's), built
# together so that the two runs of cargo below share one build.
run cargo test --release -q -p libdgen -p dgen-cli --test object --no-run || exit 1
D=$PWD/target/release/dgen

work=$(mktemp -d "$PWD/target/test-s3.XXXXXX")
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
server_setup "$work"
BUCKET=dgen-test

# wait_for FILE TEXT SECONDS: until FILE holds TEXT.
wait_for() {
  for _ in $(seq $(($3 * 10))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# ends PID SECONDS: waits for the background job PID; its exit status in $rc.
ends() {
  local pid=$1 secs=$2
  for _ in $(seq $((secs * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  wait "$pid"
  rc=$?
}

DATA=(--dedup 2 --compress 3 --compressor zstd --seed 11)

step "bad input: one line, exit 2"
one_line "object size 0" 2 "--object-size" -- "$D" put "s3://$BUCKET/x/" --objects 1 --object-size 0
one_line "--objects 0" 2 "--objects" -- "$D" put "s3://$BUCKET/x/" --objects 0 --object-size 1MiB
one_line "malformed URL" 2 "not an S3 URL" -- "$D" put "$BUCKET/x/" --objects 1 --object-size 1MiB
one_line "bad bucket name" 2 "not a valid bucket name" -- "$D" put "s3://A_B/x/" --objects 1 --object-size 1MiB
one_line "part size under 5 MiB" 2 "--part-size" -- "$D" put "s3://$BUCKET/x/" --objects 1 --object-size 1MiB \
  --part-size 4MiB
one_line "bad --sizes" 2 "--sizes" -- "$D" put "s3://$BUCKET/x/" --objects 1 --sizes uniform:2MiB:1MiB
one_line "bad --endpoint" 2 "--endpoint" -- "$D" put "s3://$BUCKET/x/" --objects 1 --object-size 1MiB \
  --endpoint 127.0.0.1:1
one_line "verify s3:// without --seed" 2 "--seed" -- "$D" verify "s3://$BUCKET/x/" --objects 1 --object-size 1MiB
one_line "object options on a file" 2 "s3://" -- "$D" verify "$work/none" --size 4096 --seed 1 --objects 3

step "versitygw $VGW_VERSION on $EP"
start_server || exit 1

step "credentials and buckets"
one_line "wrong secret: the 403 in one line" 1 "403" -- "$D" put "s3://$BUCKET/x/" --objects 1 --object-size 1MiB \
  --access-key "$KEY" --secret-key wrong-secret
one_line "missing bucket" 1 "bucket $BUCKET does not exist" -- "$D" put "s3://$BUCKET/x/" --objects 1 \
  --object-size 1MiB
expect "--create-bucket creates it" 0 "putting 1 objects" -- "$D" put "s3://$BUCKET/x/" --objects 1 \
  --object-size 1MiB --create-bucket
s3 "$EP/$BUCKET/x/00000000" -o /dev/null && ok "the object is there" || bad "GET x/00000000 after put"
s3 -X DELETE "$EP/$BUCKET/x/00000000"

step "put 64 x 1 MiB and 4 x 48 MiB (multipart) at dedup 2, compress 3"
SMALL=(--objects 64 --object-size 1MiB)
LARGE=(--objects 4 --object-size 48MiB)
if "$D" put "s3://$BUCKET/small/" "${SMALL[@]}" "${DATA[@]}" --jobs 8 --json >"$work/small.json" 2>"$work/small.err"; then
  ok "put small: $(tail -1 "$work/small.err")"
else
  bad "put small: $(cat "$work/small.err")"
fi
if "$D" put "s3://$BUCKET/large/" "${LARGE[@]}" "${DATA[@]}" --jobs 4 --json >"$work/large.json" 2>"$work/large.err"; then
  ok "put large: $(tail -1 "$work/large.err")"
else
  bad "put large: $(cat "$work/large.err")"
fi
python3 - "$work/small.json" "$work/large.json" <<'EOF' && ok "reports: objects, bytes, multipart uploads, latency" || bad "reports"
import json, sys
s, l = (json.load(open(p)) for p in sys.argv[1:3])
assert (s["objects"], s["bytes"], s["requests"], s["multipart_objects"]) == (64, 64 << 20, 64, 0), s
assert (l["objects"], l["bytes"], l["requests"], l["multipart_objects"]) == (4, 192 << 20, 24, 4), l
for r in (s, l):
    assert r["request_latency_us"]["p50"] > 0 and r["gbps"] > 0 and r["seed"] == 11, r
EOF

step "GET back with curl: the dataset's ranges, and its ratios"
# get_all PREFIX N FILE: objects PREFIX00000000.. concatenated into FILE.
get_all() {
  local i
  : >"$3"
  for i in $(seq 0 $(($2 - 1))); do
    s3 "$EP/$BUCKET/$1$(printf %08d "$i")" >>"$3" || return 1
  done
}
for set in small:64:64MiB large:4:192MiB; do
  IFS=: read -r name n size <<<"$set"
  get_all "$name/" "$n" "$work/$name.got" || bad "GET $name"
  "$D" generate --size "$size" "${DATA[@]}" -o "$work/$name.want" 2>/dev/null
  cmp -s "$work/$name.got" "$work/$name.want" && ok "$name: objects = the stream's ranges" ||
    bad "$name: $(cmp "$work/$name.got" "$work/$name.want" 2>&1)"
  "$D" analyze "$work/$name.got" --json --codecs zstd-1 --chunks 128KiB >"$work/$name.analyze" 2>/dev/null
  python3 - "$work/$name.analyze" "$name" <<'EOF' && ok "$name: $(cat "$work/ratios")" || bad "$name: $(cat "$work/ratios")"
import json, os, sys
a = json.load(open(sys.argv[1]))
dedup, zstd = a["dedup"]["4096"], a["compression"]["zstd-1"]["131072"]
line = f"dedup {dedup:.4f} (2 +-1%), zstd-1 {zstd:.3f} (3 +-3%)"
open(os.path.join(os.path.dirname(sys.argv[1]), "ratios"), "w").write(line)
sys.exit(0 if abs(dedup / 2 - 1) <= 0.01 and abs(zstd / 3 - 1) <= 0.03 else 1)
EOF
  rm -f "$work/$name.want" "$work/$name.analyze"
done

step "verify and get"
expect "verify small" 0 "all 64 objects" -- "$D" verify "s3://$BUCKET/small/" "${SMALL[@]}" "${DATA[@]}"
expect "verify large" 0 "all 4 objects" -- "$D" verify "s3://$BUCKET/large/" "${LARGE[@]}" "${DATA[@]}"
expect "get large" 0 "got 4 objects" -- "$D" get "s3://$BUCKET/large/" "${LARGE[@]}" "${DATA[@]}"
expect "verify with another seed fails" 1 "wrong large/00000000: first wrong offset 0" -- \
  "$D" verify "s3://$BUCKET/large/" "${LARGE[@]}" --dedup 2 --compress 3 --compressor zstd --seed 12

step "verify names each wrong object"
head -c 1MiB /dev/urandom >"$work/other"
s3 -T "$work/other" "$EP/$BUCKET/small/00000003" || bad "overwrite small/00000003"
# small/00000005 with one byte changed at offset 123456.
s3 "$EP/$BUCKET/small/00000005" -o "$work/o5"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[123456] ^= 0xff; open(sys.argv[1], "wb").write(b)' \
  "$work/o5"
s3 -T "$work/o5" "$EP/$BUCKET/small/00000005" || bad "overwrite small/00000005"
s3 -X DELETE "$EP/$BUCKET/small/00000010" || bad "delete small/00000010"
s3 -r 0-999 "$EP/$BUCKET/small/00000020" -o "$work/o20"
s3 -T "$work/o20" "$EP/$BUCKET/small/00000020" || bad "truncate small/00000020"
s3 -T "$work/o20" "$EP/$BUCKET/small/zz-extra.bin" || bad "put small/zz-extra.bin"
"$D" verify "s3://$BUCKET/small/" "${SMALL[@]}" "${DATA[@]}" --json >"$work/verify.json" 2>"$work/verify.err"
rc=$?
[ $rc = 1 ] && ok "verify exits 1" || bad "verify exit $rc: $(cat "$work/verify.err")"
for want in "wrong small/00000003: first wrong offset" "wrong small/00000005: first wrong offset 123456" \
  "missing small/00000010" "short small/00000020: 1000 of 1048576 bytes, first wrong offset 1000" \
  "extra small/zz-extra.bin: 1000 bytes"; do
  grep -qF "dgen: $want" "$work/verify.err" && ok "verify says: $want" || bad "verify did not say '$want': $(cat "$work/verify.err")"
done
python3 - "$work/verify.json" <<'EOF' && ok "verify --json: the counts and each problem" || bad "verify --json: $(cat "$work/verify.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert (r["missing"], r["short"], r["wrong"], r["extra"], r["passed"]) == (1, 1, 2, 1, False), r
kinds = {p["key"]: (p["kind"], p["offset"]) for p in r["problems"]}
assert kinds["small/00000005"] == ("wrong", 123456) and kinds["small/00000010"] == ("missing", None), kinds
EOF

step "SIGINT: in-flight parts finish, unfinished multipart uploads are aborted"
"$D" put "s3://$BUCKET/int/" --objects 16 --object-size 48MiB "${DATA[@]}" --jobs 2 2>"$work/int.err" &
pid=$!
wait_for "$work/int.err" "seed 11" 30 && sleep 0.5
kill -INT "$pid"
ends "$pid" 60
[ $rc = 130 ] && grep -q "interrupted: .* of 16 objects done" "$work/int.err" &&
  ok "exit 130: $(tail -1 "$work/int.err")" || bad "SIGINT: exit $rc: $(cat "$work/int.err")"
uploads=$(s3 "$EP/$BUCKET?prefix=int%2F&uploads=" | grep -c "<UploadId>")
[ "$uploads" = 0 ] && ok "no incomplete multipart upload left under int/" || bad "$uploads multipart uploads left"

step "server killed in the middle of a put, then a rerun"
"$D" put "s3://$BUCKET/kill/" --objects 16 --object-size 48MiB "${DATA[@]}" --jobs 4 2>"$work/kill.err" &
pid=$!
wait_for "$work/kill.err" "seed 11" 30 && sleep 0.5
kill -KILL "$server"
wait "$server" 2>/dev/null
server=""
ends "$pid" 120
[ $rc = 1 ] && grep -q "of 16 objects done" "$work/kill.err" && ok "exit 1: $(tail -1 "$work/kill.err")" ||
  bad "server killed: exit $rc: $(cat "$work/kill.err")"
start_server || exit 1
expect "the rerun completes" 0 "put 16 objects" -- "$D" put "s3://$BUCKET/kill/" --objects 16 --object-size 48MiB \
  "${DATA[@]}" --jobs 4
expect "and verifies" 0 "all 16 objects" -- "$D" verify "s3://$BUCKET/kill/" --objects 16 --object-size 48MiB \
  "${DATA[@]}"

step "mixed sizes and a name template"
MIXED=(--objects 40 --sizes lognormal:300KiB:200KiB --name "obj-{}.bin")
expect "put lognormal sizes" 0 "put 40 objects" -- "$D" put "s3://$BUCKET/mixed/" "${MIXED[@]}" "${DATA[@]}"
expect "verify them" 0 "all 40 objects" -- "$D" verify "s3://$BUCKET/mixed/" "${MIXED[@]}" "${DATA[@]}"
s3 "$EP/$BUCKET/mixed/obj-39.bin" -o /dev/null && ok "keys from the template" || bad "mixed/obj-39.bin missing"

step "the library's tests (tests/object.rs) against the same server"
if DGEN_S3_ENDPOINT=$EP DGEN_S3_BUCKET=$BUCKET run cargo test --release -q -p libdgen -p dgen-cli --test object \
  >"$work/rust.log" 2>&1; then
  ok "cargo test --test object: $(grep "test result" "$work/rust.log" | tr '\n' ' ')"
else
  bad "cargo test --test object: $(tail -30 "$work/rust.log")"
fi

# The package scripts/test-python.sh built and installed (that suite runs
# before this one in scripts/test-all.sh), or DGEN_TEST_PYTHON's.
py=${DGEN_TEST_PYTHON:-$PWD/bindings/python/target/venvs/test/bin/python}
if [ -x "$py" ] && "$py" -c "import dgen, pytest; dgen.put_objects" 2>/dev/null; then
  step "Python: put_objects, get_objects, verify_objects against the same server"
  if (cd bindings/python && DGEN_S3_ENDPOINT=$EP DGEN_S3_BUCKET=$BUCKET run "$py" -m pytest -p no:cacheprovider -q \
    tests/test_objects.py); then
    ok "pytest tests/test_objects.py"
  else
    bad "pytest tests/test_objects.py"
  fi
else
  skip "Python: no installed package with put_objects and pytest at $py (scripts/test-python.sh makes one)"
fi

if command -v go >/dev/null; then
  step "the Go example against the same server"
  # The binding links target/release/libdgen.a.
  [ -f target/release/libdgen.a ] || run cargo build --release -q -p libdgen-ffi
  if (cd bindings/go/examples/s3put && DGEN_S3_ENDPOINT=$EP DGEN_S3_BUCKET=$BUCKET run go test -count=1 -v . 2>&1 |
    grep -E "^(---|ok|FAIL|PASS)"; exit "${PIPESTATUS[0]}"); then
    ok "go test bindings/go/examples/s3put"
  else
    bad "go test bindings/go/examples/s3put"
  fi
else
  skip "the Go example: no go"
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
