#!/usr/bin/env bash
# Puts the source of the installed fio in DIR and runs its ./configure, so the
# engine is compiled against the very headers (struct layouts, and
# FIO_IOOPS_VERSION) of the fio that will load it.
#
# usage: fio-src.sh DIR
# DIR already holding fio.h is only configured. Otherwise the Debian source
# package of the installed fio version is fetched (a deb-src entry for the
# running release is added when none exists; that needs root).
set -euo pipefail

dir=${1:?usage: fio-src.sh DIR}

if [ ! -f "$dir/fio.h" ]; then
    command -v fio >/dev/null || { echo "fio-src.sh: fio is not installed" >&2; exit 1; }
    version=$(dpkg-query -W -f='${Version}' fio 2>/dev/null) || {
        echo "fio-src.sh: fio is not a Debian package here; fetch its source and pass FIO_SRC=/path" >&2
        exit 1
    }
    command -v dpkg-source >/dev/null || { echo "+ apt-get install -y dpkg-dev"; apt-get install -y -qq dpkg-dev >/dev/null; }
    if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
        echo "+ adding deb-src for $codename to /etc/apt/sources.list.d/debian-src.sources"
        cat > /etc/apt/sources.list.d/debian-src.sources <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        apt-get update -qq
    fi
    parent=$(dirname "$dir")
    mkdir -p "$parent"
    work=$(mktemp -d "$parent/.fetch.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    echo "+ apt-get source --download-only fio=$version (in $work)"
    (cd "$work" && apt-get source -qq -o APT::Sandbox::User=root --download-only "fio=$version")
    dsc=$(ls "$work"/fio_*.dsc)
    echo "+ dpkg-source -x $(basename "$dsc")"
    (cd "$work" && dpkg-source -q -x "$dsc" src >/dev/null)
    rm -rf "$dir"
    mv "$work/src" "$dir"
fi

if [ ! -f "$dir/config-host.h" ]; then
    echo "+ (cd $dir && ./configure --disable-native)"
    (cd "$dir" && ./configure --disable-native >/dev/null)
fi
