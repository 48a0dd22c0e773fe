#!/usr/bin/env bash
# How real files look to storage: for each kind of file found on this
# machine (shared libraries, Rust and Go binaries, ICU data, HTML, an apt
# package index, Python sources, a SQLite database, man pages, a package
# archive, a wheel, a gzip file), zstd-1 and lz4 ratios over independent 128 KiB chunks, their
# quotient, the bytes' order-0 entropy, how many 128 KiB ranges btrfs's
# heuristic would compress, and how many btrfs stores compressed when the
# file is written back at once (dgen analyze --json). Prints a markdown table:
# the reference synthetic data is held against.
#
#   scripts/real-data.sh            # up to 16 MiB of each file
#   LIMIT=8MiB scripts/real-data.sh
#
# Kinds this machine lacks are left out of the table, with a note on
# standard error.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

export PATH="$HOME/.cargo/bin:$PATH"
LIMIT=${LIMIT:-16MiB}
run cargo build --release -q -p dgen-cli >&2 || exit 1
D=$PWD/target/release/dgen
work=$(mktemp -d "$PWD/target/real-data.XXXXXX")
trap 'rm -rf "$work"' EXIT

# first FILE...: the first of the files given that exists.
first() {
  local f
  for f in "$@"; do
    [ -f "$f" ] && { echo "$f"; return; }
  done
}

# Files made from a tree are tar archives, as backups and images hold them.
tar_of() { # NAME DIR FIND-ARGS...
  local name=$1 dir=$2
  shift 2
  [ -d "$dir" ] || return
  find "$dir" "$@" -print0 2>/dev/null | sort -z | tar --null -T - -cf "$work/$name" 2>/dev/null
  [ -s "$work/$name" ] && echo "$work/$name"
}

apt_index() {
  local f
  f=$(ls -S /var/lib/apt/lists/*_Packages* 2>/dev/null | head -1)
  [ -n "$f" ] || return
  /usr/lib/apt/apt-helper cat-file "$f" >"$work/Packages" 2>/dev/null && echo "$work/Packages"
}

# A SQLite database of real records: the apt index's packages, one row each.
sqlite_db() {
  local found idx
  found=$(find / -xdev \( -name '*.sqlite' -o -name '*.sqlite3' \) -size +1M 2>/dev/null | head -1)
  [ -n "$found" ] && { echo "$found"; return; }
  idx=$work/Packages
  [ -s "$idx" ] && command -v python3 >/dev/null || return
  python3 - "$idx" "$work/packages.sqlite" <<'EOF' && echo "$work/packages.sqlite"
import sqlite3, sys
db = sqlite3.connect(sys.argv[2])
db.execute("create table package (name text primary key, version text, section text, size integer, depends text, description text)")
rec = {}
def flush():
    if "Package" in rec:
        db.execute("insert or replace into package values (?,?,?,?,?,?)", (rec.get("Package"), rec.get("Version"),
                   rec.get("Section"), int(rec.get("Installed-Size", "0") or 0), rec.get("Depends"), rec.get("Description")))
    rec.clear()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    if line == "\n":
        flush()
    elif not line.startswith(" ") and ":" in line:
        k, v = line.split(":", 1)
        rec[k] = v.strip()
flush()
db.execute("create index by_section on package (section)")
db.commit()
EOF
}

rows=()
add() { # LABEL FILE
  [ -n "${2:-}" ] && [ -s "$2" ] && rows+=("$1|$2") || echo "real-data: no $1 here" >&2
}
add "libLLVM (shared library)" "$(ls -S /usr/lib/x86_64-linux-gnu/libLLVM*.so* /usr/lib/*/libLLVM*.so* 2>/dev/null | head -1)"
add "libstdc++ (shared library)" "$(first /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6)"
add "cargo (Rust binary)" "$(first "$(rustup which cargo 2>/dev/null)" "$(command -v cargo)")"
add "go (Go binary)" "$(first /usr/local/go/bin/go /usr/lib/go/bin/go)"
add "ICU data (libicudata)" "$(ls -S /usr/lib/x86_64-linux-gnu/libicudata.so.* 2>/dev/null | head -1)"
add "HTML docs (tar of /usr/share/doc)" "$(tar_of html.tar /usr/share/doc -name '*.html')"
add "apt package index (text)" "$(apt_index)"
add "Python sources (tar)" "$(tar_of py.tar "$(ls -d /usr/lib/python3.[0-9]* 2>/dev/null | head -1)" -name '*.py')"
db=$(sqlite_db)
case "$db" in
  "$work"/*) add "SQLite database (the apt index as rows)" "$db" ;;
  *) add "SQLite database" "$db" ;;
esac
add "man pages (tar of .gz pages)" "$(tar_of man.tar /usr/share/man -name '*.gz')"
# Already compressed: what the heuristic is there to skip.
add "Debian package (.deb)" "$(ls -S /var/cache/apt/archives/*.deb 2>/dev/null | head -1)"
add "Python wheel (zip)" "$(ls -S /opt/wheels/*.whl 2>/dev/null | head -1)"
add "gzip file (from /var/lib/apt/lists)" "$(ls -S /var/lib/apt/lists/*.gz 2>/dev/null | head -1)"

echo "| file | bytes | zstd-1 | lz4 | zstd-1/lz4 | order-0 entropy (bits/byte) | mean over 128 KiB | btrfs says compress (128 KiB chunks) | btrfs writes compressed |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for row in "${rows[@]}"; do
  label=${row%%|*}
  f=${row#*|}
  json=$("$D" analyze "$f" --json --limit "$LIMIT" --codecs zstd-1,lz4 --chunks 128KiB 2>&1) ||
    { echo "real-data: $label: $json" >&2; continue; }
  read -r bytes z l e m yes all written < <(jq -r '[.bytes, .compression["zstd-1"]["131072"], .compression.lz4["131072"],
    .entropy_bits_per_byte, .entropy_bits_per_byte_128k_mean, .btrfs_compress_ranges, .btrfs_ranges,
    .btrfs_written_compressed_ranges] | @tsv' <<<"$json")
  printf '| %s | %s | %.3f | %.3f | %.3f | %.3f | %.3f | %s/%s | %s/%s |\n' "$label" "$bytes" "$z" "$l" \
    "$(awk -v z="$z" -v l="$l" 'BEGIN { print z / l }')" "$e" "$m" "$yes" "$all" "$written" "$all"
done
