# Helpers shared by the test scripts (sourced, not run).

run() { echo "+ $*"; "$@"; }
step() { echo; echo "==== $* ===="; }

# apt_install PKG...: installs the Debian packages given (as root, or through
# sudo when there is one); does nothing when given none.
apt_install() {
  [ $# -gt 0 ] || return 0
  local sudo=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo=sudo; fi
  run $sudo apt-get update -qq
  run $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# missing_commands CMD[:PKG]...: prints the Debian package of each command
# that is not on PATH (PKG, or the command itself where the names agree), one
# a line, for apt_install.
missing_commands() {
  local spec
  for spec in "$@"; do
    command -v "${spec%%:*}" >/dev/null || echo "${spec#*:}"
  done
}

# missing_packages PKG...: prints those of the Debian packages given that
# dpkg does not have installed, one a line, for apt_install.
missing_packages() {
  local pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || echo "$pkg"
  done
}

# Counted results of a test script: ok, bad (a failure) and skip print one
# line each and count it in $passed, $failed and $skipped.
passed=0
failed=0
skipped=0
ok() { passed=$((passed + 1)); echo "ok    $*"; }
bad() { failed=$((failed + 1)); echo "FAIL  $*"; }
skip() { skipped=$((skipped + 1)); echo "skip  $*"; }

# loop_scratch NAME: a scratch folder target/NAME.XXXXXX ($work) and the
# lists of loop devices ($loops) and mount points ($mounts) that the script
# adds to, all removed on any exit; SIGINT and SIGTERM exit 130.
loop_scratch() {
  work=$(mktemp -d "$PWD/target/$1.XXXXXX")
  loops=()
  mounts=()
  trap loop_cleanup EXIT
  trap 'exit 130' INT TERM
}
loop_cleanup() {
  local m l
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m"; done
  for l in "${loops[@]}"; do losetup -d "$l"; done
  rm -rf "$work"
}

# expect NAME CODE NEEDLE -- CMD...: CMD exits with CODE and its stderr holds
# NEEDLE (one counted result).
expect() {
  _expect "$1" "$2" "$3" any "${@:5}"
}
# one_line NAME CODE NEEDLE -- CMD...: as expect, and stderr is one line.
one_line() {
  _expect "$1" "$2" "$3" one "${@:5}"
}
_expect() {
  local name=$1 code=$2 needle=$3 lines=$4
  shift 4
  local err rc
  err=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" = "$code" ] && [[ "$err" == *"$needle"* ]] &&
    { [ "$lines" = any ] || [ "$(printf '%s\n' "$err" | wc -l)" = 1 ]; }; then
    ok "$name"
  elif [ "$lines" = any ]; then
    bad "$name: exit $rc (want $code), stderr: $err"
  else
    bad "$name: exit $rc (want $code, one line holding '$needle'), stderr: $err"
  fi
}
