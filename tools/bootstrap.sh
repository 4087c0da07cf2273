#!/bin/sh
# bootstrap.sh [BUILDDIR [CONFIGURE-ARGS...]] - install the Debian packages
# mpibatch needs (when missing, as root), then configure and build out of
# tree in BUILDDIR (default: build).  Used by quickstart.sh, test.sh and the
# cluster bootstrap scripts, so every install path is the one CI runs.
# MB_EXTRA_PKGS adds packages only some callers need (tools/test.sh: the
# readers and the browser that tests use, which cluster nodes do not).
set -eu
cd "$(dirname "$0")/.."
builddir=${1:-build}
[ $# -gt 0 ] && shift

PKGS="build-essential autoconf automake libtool pkg-config openmpi-bin libopenmpi-dev
libhdf5-openmpi-dev hdf5-tools libcurl4-openssl-dev libssl-dev libcjson-dev check python3 gnuplot-nox
${MB_EXTRA_PKGS:-}"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "bootstrap: missing packages:$missing; run as root or install them" >&2
        exit 1
    fi
    echo "bootstrap: installing$missing"
    apt-get -o DPkg::Lock::Timeout=900 update -q
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q $missing
fi

[ -x configure ] || autoreconf -fi
mkdir -p "$builddir"
cd "$builddir"
[ -f Makefile ] || ../configure "$@"
make -j"$(nproc)"
