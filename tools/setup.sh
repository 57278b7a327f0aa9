#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install what is missing (Debian packages), then configure and build.
#   tools/setup.sh [--tests] [--sanitize] [--tsan]
# --tests also installs the programs the test suite runs under the tracer,
#   and valgrind, which checks the collector on a real run.
# --sanitize also builds build-asan (ASan+UBSan collector and unit tests).
# --tsan also builds build-tsan (clang, ThreadSanitizer) for the unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
want_asan=0
want_tsan=0
for a in "$@"; do
	case "$a" in
	--tests) want_tests=1 ;;
	--sanitize) want_asan=1 ;;
	--tsan) want_tsan=1 ;;
	*) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
	esac
done

pkgs=(meson ninja-build pkg-config gcc g++ libc6-dev libmsgpack-dev check
      libsubunit-dev libunwind-dev libdw-dev libelf-dev python3 python3-msgpack
      scdoc)
if [ "$want_tests" = 1 ]; then
	pkgs+=(strace make sqlite3 git perl tar coreutils findutils gawk
	       valgrind graphviz gzip clang-format)
	# Programs preload cannot see, for the image and supervisor tests:
	# Go programs, a static /bin/busybox, git-lfs (a Go program from
	# Debian), file capabilities (setcap) and capsh.
	pkgs+=(golang-go busybox-static git-lfs libcap2-bin)
fi
if [ "$want_tsan" = 1 ]; then
	# llvm: llvm-symbolizer, for tools/tsan-symbolize.py.
	pkgs+=(clang libclang-rt-14-dev llvm)
fi
. tools/packages.sh
roar_need_packages setup "${pkgs[@]}"

werror=false
[ "${CI:-}" = true ] && werror=true
if [ ! -f build/build.ninja ]; then
	meson setup build -Dwerror="$werror" >/dev/null
fi
ninja -C build >/dev/null

if [ "$want_asan" = 1 ]; then
	if [ ! -f build-asan/build.ninja ]; then
		meson setup build-asan -Db_sanitize=address,undefined \
			-Db_lundef=false -Dwerror="$werror" \
			-Dtest_preload_lib="$PWD/build/preload/libroar_preload.so" >/dev/null
	fi
	ninja -C build-asan >/dev/null
fi

# ThreadSanitizer for the unit tests only: TSan cannot be preloaded into
# uninstrumented programs, so the integration tests (which LD_PRELOAD the
# library into real programs) stay with the other builds.  clang, because
# GCC's runtime symbolizes in-process at start-up through mmap(), which in a
# unit test binary is our own (instrumented) hook, before TSan is ready.
# Warnings are the GCC builds' business (-Dwerror there); clang has its
# own opinions about glibc's declarations.
if [ "$want_tsan" = 1 ]; then
	if [ ! -f build-tsan/build.ninja ]; then
		CC=clang meson setup build-tsan -Db_sanitize=thread \
			-Db_lundef=false -Dwerror=false \
			-Dtest_preload_lib="$PWD/build/preload/libroar_preload.so" >/dev/null
	fi
	ninja -C build-tsan >/dev/null
fi
