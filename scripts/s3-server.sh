# A real S3 server on 127.0.0.1 for scripts/test-s3.sh and
# scripts/bench-s3.sh (sourced, not run): versitygw, pinned, built once with
# `go install` into ~/.cache/dgen-test (DGEN_TEST_CACHE) and kept there, so a
# rerun starts it in a fraction of a second instead of building it again
# (about 4 minutes on 2 cores). Chosen over MinIO (AGPL, no tagged module
# version, 7 to 30 minutes of build), s3s-fs (over 20 minutes of build) and
# S3Proxy (a JVM): Apache-2.0, starts in 0.15 s with 50 MB, and as strict as
# AWS (it refuses a LocationConstraint of us-east-1).

VGW_VERSION=v1.8.0
VGW_CACHE=${DGEN_TEST_CACHE:-$HOME/.cache/dgen-test}
VGW=$VGW_CACHE/versitygw-$VGW_VERSION/versitygw
VGW_ERROR=""

# versitygw_binary: builds $VGW when it is not there yet; on failure,
# $VGW_ERROR says why.
versitygw_binary() {
  [ -x "$VGW" ] && return 0
  export PATH="$PATH:/usr/local/go/bin:$HOME/go/bin"
  if ! command -v go >/dev/null; then
    VGW_ERROR="go is needed to build it (go install)"
    return 1
  fi
  step "building versitygw $VGW_VERSION into $VGW_CACHE (once)"
  mkdir -p "$(dirname "$VGW")"
  if ! run env GOBIN="$(dirname "$VGW")" go install "github.com/versity/versitygw/cmd/versitygw@$VGW_VERSION"; then
    VGW_ERROR="go install github.com/versity/versitygw/cmd/versitygw@$VGW_VERSION failed"
    return 1
  fi
}

# server_setup DIR: the server's settings, its data under DIR/data and its
# log in DIR/server.log; a free port on 127.0.0.1 chosen by the kernel.
# Sets KEY, SECRET, PORT, EP (http://127.0.0.1:PORT) and the AWS_*
# variables that dgen, s3dlio and minio-go read.
server_setup() {
  server_dir=$1
  server=""
  KEY=dgen-test-key
  SECRET=dgen-test-secret
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  EP=http://127.0.0.1:$PORT
  mkdir -p "$server_dir/data"
  export AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_ENDPOINT_URL=$EP AWS_REGION=us-east-1
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION
}

# start_server: starts versitygw on $EP and waits until it answers.
start_server() {
  ROOT_ACCESS_KEY=$KEY ROOT_SECRET_KEY=$SECRET "$VGW" --port "127.0.0.1:$PORT" --quiet posix "$server_dir/data" \
    >>"$server_dir/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null "$EP" && return 0
    sleep 0.1
  done
  echo "versitygw did not answer on $EP:"
  cat "$server_dir/server.log"
  return 1
}

# stop_server: stops the server this shell started, if it runs.
stop_server() {
  if [ -n "${server:-}" ]; then
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    server=""
  fi
}

# s3 CURL-ARGS...: a request signed as the server's root user, with curl
# (UNSIGNED-PAYLOAD: the body is not hashed).
s3() {
  curl -sS -f --aws-sigv4 "aws:amz:us-east-1:s3" --user "$KEY:$SECRET" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}
