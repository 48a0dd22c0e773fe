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
