#!/usr/bin/env bash
# Installs libdgen from a configured build tree into a temporary prefix, then
# builds and runs programs against it as an outside project would:
# find_package(dgen) (shared, static, C++) and pkg-config (shared, --static).
#
#   tests/consumer/run.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

run() { echo "+ $*"; "$@"; }
fail() { echo "consumer test FAILED: $*" >&2; exit 1; }

run cmake --install "$build" --prefix "$prefix" >/dev/null

# The installed layout: the SONAME chain, the static library, both headers,
# the CMake package and dgen.pc.
pc=$(find "$prefix" -name dgen.pc -path '*/pkgconfig/*' | head -n1)
[ -n "$pc" ] || fail "dgen.pc not installed"
export PKG_CONFIG_PATH="$(dirname "$pc")"
libdir=$(pkg-config --variable=libdir dgen)
includedir=$(pkg-config --variable=includedir dgen)
[ "$(readlink "$libdir/libdgen.so")" = libdgen.so.0 ] || fail "libdgen.so does not point to libdgen.so.0"
[[ "$(readlink "$libdir/libdgen.so.0")" == libdgen.so.0.* ]] || fail "libdgen.so.0 does not point to the real file"
[ -f "$(readlink -f "$libdir/libdgen.so")" ] || fail "broken libdgen.so chain"
readelf -d "$libdir/libdgen.so" | grep -q 'SONAME.*\[libdgen\.so\.0\]' || fail "SONAME is not libdgen.so.0"
[ -f "$libdir/libdgen.a" ] || fail "libdgen.a not installed"
[ -f "$includedir/dgen.h" ] && [ -f "$includedir/dgen.hpp" ] || fail "headers not installed"
[ -f "$libdir/cmake/dgen/dgenConfig.cmake" ] && [ -f "$libdir/cmake/dgen/dgenConfigVersion.cmake" ] \
  || fail "CMake package not installed"
echo "installed layout ok: $(cd "$libdir" && ls -l libdgen.so* | awk '{print $9, $10, $11}' | tr '\n' ' ')"

# Programs linked statically must not need libdgen.so at run time.
no_libdgen_needed() { ! readelf -d "$1" | grep -q 'NEEDED.*libdgen'; }
needs_soname() { readelf -d "$1" | grep -q 'NEEDED.*\[libdgen\.so\.0\]'; }

echo "== find_package(dgen) =="
run cmake -S "$here" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
run cmake --build "$work/cmake" -j2
for t in consumer_shared consumer_static consumer_cpp; do
  run "$work/cmake/$t"
done
needs_soname "$work/cmake/consumer_shared" || fail "consumer_shared does not load libdgen.so.0"
no_libdgen_needed "$work/cmake/consumer_static" || fail "consumer_static still needs libdgen.so"

echo "== pkg-config =="
run cc -std=c99 -Wall -Wextra -Werror -o "$work/pc_shared" "$here/consumer.c" \
  $(pkg-config --cflags --libs dgen) -Wl,-rpath,"$libdir"
run "$work/pc_shared"
needs_soname "$work/pc_shared" || fail "pc_shared does not load libdgen.so.0"
# -l:libdgen.a picks the archive even though libdgen.so sits next to it.
static_libs=$(pkg-config --static --libs dgen | sed 's/-ldgen\b/-l:libdgen.a/')
run cc -std=c99 -Wall -Wextra -Werror -o "$work/pc_static" "$here/consumer.c" $(pkg-config --cflags dgen) $static_libs
run "$work/pc_static"
no_libdgen_needed "$work/pc_static" || fail "pc_static still needs libdgen.so"
run c++ -std=c++17 -Wall -Wextra -Werror -o "$work/pc_cpp" "$here/consumer.cpp" \
  $(pkg-config --cflags --libs dgen) -Wl,-rpath,"$libdir"
run "$work/pc_cpp"

echo "consumer: 6 passed, 0 failed"
