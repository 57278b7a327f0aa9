#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the Debian package roar-preload from this checkout:
#   tools/build-deb.sh [OUTDIR]     (default: build-deb/)
# Installs the build dependencies (needs root when some are missing),
# copies the tracked files to OUTDIR/src (dpkg-buildpackage writes the
# .deb beside the tree it builds, and leaves its work files inside it),
# builds there with dpkg-buildpackage -us -uc -b, and prints the .deb's
# path on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
out=${1:-build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# debian/control's Build-Depends, plus what builds a package at all.
# (devscripts is not needed: dpkg-buildpackage is dpkg-dev's.)
pkgs=(dpkg-dev debhelper meson ninja-build pkg-config gcc libc6-dev
      libmsgpack-dev libunwind-dev libdw-dev libelf-dev scdoc)
. tools/packages.sh
roar_need_packages build-deb "${pkgs[@]}"

rm -rf "$out/src"
mkdir -p "$out/src"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	# The files git would track, as they are in the work tree
	# (uncommitted edits and new files too; nothing it ignores).
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		done | xargs -0 cp -P --parents -t "$out/src")
else
	tar -C "$src" --exclude='./build*' -cf - . | tar -C "$out/src" -xf -
fi
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
rm -f "$out/roar-preload_${version}_${arch}.deb"
(cd "$out/src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
	tail -40 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
}
echo "$out/roar-preload_${version}_${arch}.deb"
