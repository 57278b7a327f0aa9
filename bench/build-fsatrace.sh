#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build fsatrace (a peer LD_PRELOAD tracer, MIT) from its source tarball,
# outside the repository, for `bench/run --fsatrace PATH`.
#
#   bench/build-fsatrace.sh TARBALL [OUTDIR]
#
# TARBALL: fsatrace's source (a .tar.gz of its repository, which you
# fetch yourself); OUTDIR defaults to /tmp/fsatrace-build.  The source is extracted
# into OUTDIR/src (replacing what was there), built with make/gcc, and the
# path of the fsatrace binary (fsatrace.so beside it) is printed on stdout.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: bench/build-fsatrace.sh TARBALL [OUTDIR]" >&2; exit 2; }
tarball=$1
out=${2:-/tmp/fsatrace-build}
[ -f "$tarball" ] || { echo "build-fsatrace: no tarball $tarball" >&2; exit 1; }
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")
mkdir -p "$out"
out=$(cd "$out" && pwd)
case "$out/" in
"$root"/*) echo "build-fsatrace: $out is inside the repository" >&2; exit 1;;
esac
rm -rf "$out/src"
mkdir "$out/src"
tar -xzf "$tarball" -C "$out/src"
# The tarball may or may not have a top-level directory.
dir=$(dirname "$(find "$out/src" -maxdepth 2 -name unix.mk | head -n 1)")
[ -f "$dir/Makefile" ] || { echo "build-fsatrace: no Makefile in $tarball" >&2; exit 1; }
make -C "$dir" CC=gcc fsatrace fsatrace.so >"$out/make.log" 2>&1 ||
	{ tail -n 30 "$out/make.log" >&2; exit 1; }
echo "$dir/fsatrace"
