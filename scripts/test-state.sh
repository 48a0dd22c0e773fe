#!/usr/bin/env bash
# Write versions and the write state on real files, as an array tester uses
# them: precondition with `dgen generate --state`, overwrite, lose writes,
# kill the writer, verify.
#
#   scripts/test-state.sh
#
# - every rerun writes new bytes in every unit, and verify --state passes;
# - lost writes: after an overwrite pass, 1 unit in 500 gets its previous
#   bytes back (what a target that acknowledged a write and dropped it
#   holds); verify reports exactly those units as stale, with their offsets,
#   and nothing else (3 seeds);
# - a block copied over another and a zeroed block are misplaced and zero;
# - SIGKILL of `generate --state` in the middle of an overwrite pass, 5
#   times: verify afterwards reports nothing wrong and checks every unit;
#   in the middle of a first pass: the units written are checked, and those
#   never written (past the end of the cut-short file too) are not missing;
# - the state file of another dataset is refused and left as it was.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

export PATH="$HOME/.cargo/bin:$PATH"
apt_install $(missing_commands python3)
run cargo build --release -q -p dgen-cli || exit 1
D=$PWD/target/release/dgen
loop_scratch test-state
cd "$work" || exit 1

# field JSON KEY: the number at KEY ("state.stale") in a JSON report.
field() {
  python3 -c 'import json,sys; v=json.loads(sys.argv[1]); [v:=v[k] for k in sys.argv[2].split(".")]; print(v)' "$1" "$2"
}

step "reruns write new bytes in every unit, and verify --state passes"
DATA=(--size 32MiB --dedup 2.5 --compress 3 --seed 11)
"$D" generate "${DATA[@]}" -o f --state s --jobs 2 --iodepth 8 --block-size 128KiB 2>/dev/null
"$D" generate "${DATA[@]}" -o ref 2>/dev/null
cmp -s f ref && ok "the first pass through a new state is the dataset itself" || bad "first pass differs from the dataset"
cp f v0
"$D" generate "${DATA[@]}" -o f --state s --jobs 2 --iodepth 8 --block-size 64KiB 2>/dev/null
python3 - <<'EOF' && ok "no 4 KiB unit of the overwrite holds its old bytes" || bad "an overwrite kept a unit's bytes"
a, b = open("v0", "rb").read(), open("f", "rb").read()
assert len(a) == len(b)
same = sum(a[i:i + 4096] == b[i:i + 4096] for i in range(0, len(a), 4096))
assert same == 0, same
EOF
out=$("$D" verify f "${DATA[@]}" --state s --json 2>/dev/null)
[ "$(field "$out" passed)" = True ] && [ "$(field "$out" state.units_ok)" = 8192 ] &&
  ok "verify --state passes on every unit" || bad "verify --state: $out"

step "lost writes are reported stale, with their offsets, and nothing else"
for seed in 1 2 3; do
  DATA=(--size 32MiB --dedup 2 --compress 2 --seed "$seed")
  rm -f f s
  "$D" generate "${DATA[@]}" -o f --state s 2>/dev/null
  "$D" generate "${DATA[@]}" -o f --state s 2>/dev/null
  cp f before
  "$D" generate "${DATA[@]}" -o f --state s --iodepth 16 --block-size 4KiB 2>/dev/null
  # 1 unit in 500 (seeded choice) gets the previous write's bytes back.
  want=$(python3 - "$seed" <<'EOF'
import random, sys
random.seed(int(sys.argv[1]))
units = 8192
lost = sorted(random.sample(range(units), units // 500))
old = open("before", "rb").read()
with open("f", "r+b") as f:
    for u in lost:
        f.seek(u * 4096)
        f.write(old[u * 4096:(u + 1) * 4096])
print(len(lost), " ".join(str(u * 4096) for u in lost[:16]))
EOF
)
  out=$("$D" verify f "${DATA[@]}" --state s --json 2>"err.$seed")
  got="$(field "$out" state.stale) $(field "$out" state.first_stale)"
  others="$(field "$out" state.misplaced) $(field "$out" state.zero) $(field "$out" state.corrupt)"
  if [ "$got" = "$want" ] && [ "$others" = "0 0 0" ] && grep -q "(version 1 of 2)" "err.$seed"; then
    ok "seed $seed: ${want%% *} lost writes, all stale (version 1 of 2), nothing else"
  else
    bad "seed $seed: want stale '$want', got '$got', others '$others': $(cat "err.$seed")"
  fi
done

step "misplaced and zeroed blocks"
python3 - <<'EOF'
with open("f", "r+b") as f:
    f.seek(3000 * 4096); block = f.read(4096)
    f.seek(10 * 4096); f.write(block)
    f.seek(20 * 4096); f.write(bytes(4096))
EOF
out=$("$D" verify f "${DATA[@]}" --state s --json 2>/dev/null)
[ "$(field "$out" state.misplaced)" = 1 ] && [ "$(field "$out" state.first_misplaced)" = 40960 ] &&
  [ "$(field "$out" state.zero)" = 1 ] && [ "$(field "$out" state.first_zero)" = 81920 ] &&
  ok "a copied block is misplaced, a zeroed one zero" || bad "misplaced/zero: $out"

# kill_midway: runs `generate --state s` of $DATA into f (2 jobs, iodepth
# 16, 4 KiB blocks) and SIGKILLs it 0.1-0.3 s in; its exit status in $rc.
kill_midway() {
  "$D" generate "${DATA[@]}" -o f --state s --jobs 2 --iodepth 16 --block-size 4KiB 2>/dev/null &
  local pid=$!
  sleep "0.$((RANDOM % 3 + 1))"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rc=$?
}

step "SIGKILL in the middle of an overwrite: no false report, every unit checked"
DATA=(--size 512MiB --dedup 2 --compress 2 --seed 21)
rm -f f s
"$D" generate "${DATA[@]}" -o f --state s 2>/dev/null
for i in 1 2 3 4 5; do
  kill_midway
  flight=$("$D" state show s --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["in_flight"])')
  out=$("$D" verify f "${DATA[@]}" --state s --json 2>"err.kill")
  if [ "$(field "$out" passed)" = True ] && [ "$(field "$out" state.units_ok)" = 131072 ]; then
    ok "kill $i (exit $rc, $flight units in flight): all 131072 units checked and right"
  else
    bad "kill $i (exit $rc): $(cat err.kill)"
  fi
done
"$D" generate "${DATA[@]}" -o f --state s 2>/dev/null
out=$("$D" state show s --json)
[ "$(field "$out" in_flight)" = 0 ] && ok "the next writer settles what the killed ones left in flight" ||
  bad "in flight after a rerun: $out"

step "SIGKILL in the middle of a first pass: the units written are checked, the others are not missing"
for i in 1 2; do
  rm -f f s
  kill_midway
  out=$("$D" verify f "${DATA[@]}" --state s --json 2>"err.first")
  n_ok=$(field "$out" state.units_ok)
  n_unwritten=$(field "$out" state.units_unwritten)
  n_doubt=$(field "$out" state.units_in_doubt)
  if [ "$rc" = 137 ] && [ "$(field "$out" passed)" = True ] && [ $((n_ok + n_unwritten + n_doubt)) = 131072 ] &&
    [ "$n_ok" -gt 0 ] && [ "$n_unwritten" -gt 0 ]; then
    ok "first-pass kill $i: $n_ok units right, $n_unwritten never written, $n_doubt in doubt, nothing wrong"
  else
    bad "first-pass kill $i (exit $rc): $(cat err.first)"
  fi
done

step "the state of another dataset is refused and left as it was"
sum=$(sha256sum s)
err=$("$D" generate --size 512MiB --dedup 2 --compress 2 --seed 22 -o f --state s 2>&1 >/dev/null)
rc=$?
if [ "$rc" = 2 ] && [[ "$err" == *"its seed is 21, this run's is 22"* ]] && [ "$(sha256sum s)" = "$sum" ]; then
  ok "another seed: exit 2, one line, state untouched"
else
  bad "another seed: exit $rc: $err"
fi

echo
echo "test-state: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
