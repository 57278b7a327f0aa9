#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the collector's libFuzzer target (ASan+UBSan, clang) in build-fuzz
# and run it on the seeds (tests/fuzz/corpus) plus what earlier runs found
# (build-fuzz/tests/fuzz/corpus; new inputs go there, not into the tree).
#   tests/fuzz/run.sh [SECONDS | -runs=N] [libFuzzer options...]
#   tests/fuzz/run.sh --build    only build
#   tests/fuzz/run.sh --test     the suite's short run, as a meson test
#                                (build-fuzz/meson-logs/testlog.json)
# Default: 60 seconds.  A crash is written to build-fuzz/tests/fuzz/artifacts/
# and reproduced with build-fuzz/tests/fuzz/fuzz_frames FILE.
set -euo pipefail
cd "$(dirname "$0")/../.."

# clang 14 and its libFuzzer/sanitizer runtimes (Debian 12's own).
pkgs=(clang libclang-rt-14-dev meson ninja-build pkg-config libmsgpack-dev)
. tools/packages.sh
roar_need_packages fuzz "${pkgs[@]}"

werror=false
[ "${CI:-}" = true ] && werror=true
if [ ! -f build-fuzz/build.ninja ]; then
	# b_lundef=false: clang's sanitizer runtimes are linked late.
	CC=clang meson setup build-fuzz -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dwerror="$werror" >/dev/null
fi
ninja -C build-fuzz >/dev/null

case "${1:-}" in
--build)
	exit 0 ;;
--test)
	exec meson test -C build-fuzz --suite fuzz --print-errorlogs ;;
esac

limit=(-max_total_time=60)
if [ $# -gt 0 ]; then
	case "$1" in
	-runs=*) limit=("$1") ;;
	[0-9]*) limit=(-max_total_time="$1") ;;
	*) limit=() ;;
	esac
	[ "${#limit[@]}" -gt 0 ] && shift
fi
work=build-fuzz/tests/fuzz/corpus
artifacts=build-fuzz/tests/fuzz/artifacts
mkdir -p "$work" "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec build-fuzz/tests/fuzz/fuzz_frames -artifact_prefix="$artifacts/" \
	-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${limit[@]}" \
	"$@" "$work" tests/fuzz/corpus
