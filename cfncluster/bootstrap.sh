#!/bin/sh
# bootstrap.sh [SOURCE [PREFIX]] - install mpibatch on a cluster node: the
# Debian/Ubuntu packages it needs, then build and `make install` into PREFIX
# (default /usr/local). Run as root. It is ParallelCluster's OnNodeConfigured
# script (cluster.yaml), the Azure Batch pool's start task (azure/pool.json),
# and what you run by hand on a CfnCluster or any other Debian/Ubuntu node.
#
# SOURCE is where the mpibatch source comes from:
#   a directory                 an unpacked source tree (default: the tree
#                               this script is in, if it is in one)
#   FILE.tar.gz                 a release tarball (`make dist`)
#   https://.../X.tar.gz        the same, downloaded with curl
#   s3://BUCKET/X.tar.gz        the same, downloaded with the AWS CLI
#   https://.../X.git           a git repository, cloned
#
# The build is tools/bootstrap.sh, the install path of the README's first
# command, so CI runs the same steps on every commit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/..}
prefix=${2:-/usr/local}
work=${MPIBATCH_BUILD_ROOT:-/opt/mpibatch}

say() {
    echo "mpibatch bootstrap: $*"
}

# need CMD PACKAGE: install PACKAGE when CMD is missing.
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    say "installing $2"
    apt-get -o DPkg::Lock::Timeout=900 update -q
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q "$2"
}

# unpack TARBALL: the tarball's tree in $work/src.
unpack() {
    rm -rf "$work/src"
    mkdir -p "$work/src"
    tar -xzf "$1" -C "$work/src" --strip-components=1
    src=$work/src
}

mkdir -p "$work"
case $src in
*.git)
    need git git
    rm -rf "$work/src"
    git clone --depth 1 "$src" "$work/src"
    src=$work/src
    ;;
https://* | http://*)
    need curl curl
    curl -fsSL --retry 5 -o "$work/mpibatch.tar.gz" "$src"
    unpack "$work/mpibatch.tar.gz"
    ;;
s3://*)
    aws s3 cp "$src" "$work/mpibatch.tar.gz"
    unpack "$work/mpibatch.tar.gz"
    ;;
*.tar.gz | *.tgz)
    unpack "$src"
    ;;
esac
if [ ! -f "$src/tools/bootstrap.sh" ]; then
    echo "mpibatch bootstrap: no tools/bootstrap.sh under $src: not an mpibatch source tree" >&2
    exit 3
fi

say "building $src into $prefix"
sh "$src/tools/bootstrap.sh" build-node --prefix="$prefix"
make -C "$src/build-node" install
say "installed $("$prefix/bin/mpibatch" --version)"
