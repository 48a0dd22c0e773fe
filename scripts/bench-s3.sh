#!/usr/bin/env bash
# PUT speed on a real S3 server on 127.0.0.1 (versitygw, as in test-s3.sh),
# all in one run on the same server and the same data sizes:
#   - the server's ceiling: curl, with UNSIGNED-PAYLOAD (no hashing on the
#     client), uploading one file of the object size J at a time;
#   - dgen put with the default 8 MiB parts, and with one PUT per object as
#     curl does; the generation share of worker time and the peak memory
#     (against jobs x part size);
#   - s3dlio 0.10.0's put (PyPI), with the same size, count, concurrency and
#     ratios, where it is installed (pip install s3dlio==0.10.0);
#   - warp put, where a warp binary is on PATH or in ~/.cache/dgen-test/warp.
# Every figure is the best of ROUNDS runs. Prints a table; asserts nothing.
#
#   scripts/bench-s3.sh                   (8 objects of 64 MiB, 4 in flight)
#   N=64 SIZE=1MiB J=8 scripts/bench-s3.sh
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/s3-server.sh

N=${N:-8}
SIZE=${SIZE:-64MiB}
J=${J:-4}
ROUNDS=${ROUNDS:-3}
export PATH="$HOME/.cargo/bin:$PATH"

versitygw_binary || { echo "versitygw: $VGW_ERROR" >&2; exit 1; }
run cargo build --release -q -p dgen-cli || exit 1
D=$PWD/target/release/dgen
work=$(mktemp -d "$PWD/target/bench-s3.XXXXXX")
trap 'stop_server; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
server_setup "$work"
BUCKET=bench
start_server || exit 1
s3 -X PUT "$EP/$BUCKET" -o /dev/null || exit 1

bytes=$(python3 -c "import sys; n, s = sys.argv[1:]; u = {'KiB': 1 << 10, 'MiB': 1 << 20, 'GiB': 1 << 30}
print(int(n) * next(int(s[:-3]) * m for k, m in u.items() if s.endswith(k)))" "$N" "$SIZE")
size_bytes=$((bytes / N))
DATA=(--dedup 2 --compress 3 --seed 5)
echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
echo "server: versitygw $VGW_VERSION (posix backend on $(df -T "$work" | awk 'NR == 2 {print $2}')), $EP"
echo "workload: $N objects of $SIZE ($bytes bytes), $J in flight, dedup 2 compress 3; best of $ROUNDS"
echo

# clean PREFIX: deletes the objects under PREFIX, so every run writes anew.
clean() {
  local k
  for k in $(s3 "$EP/$BUCKET?list-type=2&prefix=${1//\//%2F}" | grep -o "<Key>[^<]*</Key>" | sed 's/<[^>]*>//g'); do
    s3 -X DELETE "$EP/$BUCKET/$k" -o /dev/null
  done
}
# seconds CMD...: wall seconds of CMD (failed runs print FAILED).
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/last.err" || { echo FAILED; return; }
  t1=$(date +%s.%N)
  python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$t1"
}
gbps() { python3 -c "import sys; print('%.3f' % (int(sys.argv[1]) / float(sys.argv[2]) / 1e9))" "$bytes" "$1"; }
best() { printf '%s\n' "$@" | grep -v FAILED | sort -g | head -1; }

"$D" generate --size "$SIZE" "${DATA[@]}" -o "$work/object" 2>/dev/null
curl_put() {
  seq 0 $((N - 1)) | xargs -P "$J" -I{} curl -sS -f --aws-sigv4 "aws:amz:us-east-1:s3" --user "$KEY:$SECRET" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$work/object" "$EP/$BUCKET/curl/{}" -o /dev/null
}
s3dlio_put() {
  python3 - "$EP" "$BUCKET" "$N" "$size_bytes" "$J" <<'EOF'
import sys
import s3dlio
ep, bucket, n, size, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s3dlio.put(f"s3://{bucket}/s3dlio/", n, template="obj-{}.bin", size=size, max_in_flight=jobs,
           dedup_factor=2, compress_factor=3)
EOF
}
warp_bin=$(command -v warp || ls "$VGW_CACHE"/warp/warp 2>/dev/null)
have_s3dlio=$(python3 -c 'import s3dlio; print(1)' 2>/dev/null)

declare -A t
for round in $(seq "$ROUNDS"); do
  clean curl/
  t[curl]+=" $(seconds curl_put)"
  clean dgen/
  t[dgen]+=" $(seconds "$D" put "s3://$BUCKET/dgen/" --objects "$N" --object-size "$SIZE" "${DATA[@]}" --jobs "$J")"
  clean dgen1/
  t[dgen1]+=" $(seconds "$D" put "s3://$BUCKET/dgen1/" --objects "$N" --object-size "$SIZE" "${DATA[@]}" --jobs "$J" \
    --part-size "$(( size_bytes > 5 << 20 ? size_bytes : 5 << 20 ))")"
  if [ -n "$have_s3dlio" ]; then
    clean s3dlio/
    t[s3dlio]+=" $(seconds s3dlio_put)"
  fi
  echo "round $round: curl ${t[curl]##* } s, dgen ${t[dgen]##* } s, dgen one PUT ${t[dgen1]##* } s${have_s3dlio:+, s3dlio ${t[s3dlio]:+${t[s3dlio]##* }} s}"
done

# One more dgen put for its report and its peak memory.
clean dgen/
/usr/bin/time -f "%M" -o "$work/rss" "$D" put "s3://$BUCKET/dgen/" --objects "$N" --object-size "$SIZE" "${DATA[@]}" \
  --jobs "$J" --json >"$work/report.json" 2>/dev/null
share=$(python3 -c 'import json, sys; print("%.1f" % (100 * json.load(open(sys.argv[1]))["generation_share"]))' "$work/report.json")
p99=$(python3 -c 'import json, sys; print("%.0f" % (json.load(open(sys.argv[1]))["request_latency_us"]["p99"] / 1000))' "$work/report.json")
rss_mib=$(($(cat "$work/rss") / 1024))
part_mib=$(( size_bytes > 8 << 20 ? 8 : (size_bytes + (1 << 20) - 1) >> 20 ))

ceiling=$(best ${t[curl]})
echo
printf '%-44s %8s %8s %10s\n' "PUT of $N x $SIZE, $J in flight" "seconds" "GB/s" "x ceiling"
row() {
  local name=$1 s
  s=$(best $2)
  [ -z "$s" ] && { printf '%-44s %8s\n' "$name" "failed: $(head -c 200 "$work/last.err")"; return; }
  printf '%-44s %8.2f %8s %10.2f\n' "$name" "$s" "$(gbps "$s")" "$(python3 -c "import sys; print(float(sys.argv[1]) / float(sys.argv[2]))" "$ceiling" "$s")"
}
row "curl -T, UNSIGNED-PAYLOAD (the ceiling)" "${t[curl]}"
row "dgen put (8 MiB parts)" "${t[dgen]}"
row "dgen put (one PUT per object)" "${t[dgen1]}"
if [ -n "$have_s3dlio" ]; then
  row "s3dlio 0.10.0 put" "${t[s3dlio]}"
else
  printf '%-44s %s\n' "s3dlio 0.10.0 put" "not installed (pip install s3dlio==0.10.0)"
fi
if [ -n "$warp_bin" ]; then
  printf '%-44s %s\n' "warp put" "$("$warp_bin" put --host "127.0.0.1:$PORT" --access-key "$KEY" --secret-key "$SECRET" \
    --bucket warp --obj.size "$SIZE" --concurrent "$J" --duration 20s --noclear 2>&1 | grep -m1 -i "average" )"
else
  printf '%-44s %s\n' "warp put" "no warp binary (go install github.com/minio/warp@latest)"
fi
echo
echo "dgen put: generation took $share% of worker time; PUT p99 $p99 ms; peak memory $rss_mib MiB in all" \
  "(the bodies: jobs x a 1 MiB chunk = $J MiB; the bound of jobs x part size = $J x $part_mib MiB = $((J * part_mib)) MiB)"
