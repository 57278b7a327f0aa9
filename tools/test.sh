#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Set up, build, and run the whole test suite: unit and integration tests
# on the normal build (with the collector under valgrind there), then unit
# and collector tests under ASan+UBSan, the unit tests under ThreadSanitizer,
# and a short run of the collector's frame fuzzer (tests/fuzz).
# Ends with one line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --tests --sanitize --tsan || exit 1

status=0
meson test -C build --print-errorlogs || status=1
# The unit suites under memcheck (tests/meson.build's setup).
# (meson names its log testlog-valgrind.json after the setup.)
meson test -C build --setup valgrind --suite unit --print-errorlogs \
	|| status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-asan --print-errorlogs \
	|| status=1
# Unit tests only (setup.sh says why).  symbolize=0: TSan's symbolizer
# would reach our own pipe() hook from inside a report and deadlock;
# tools/tsan-symbolize.py names the frames of a failure's log instead.
TSAN_OPTIONS="symbolize=0 suppressions=$PWD/tests/unit/tsan.supp" \
	meson test -C build-tsan --suite unit --print-errorlogs || {
	status=1
	tools/tsan-symbolize.py build-tsan/meson-logs/testlog.txt |
		grep -A30 "WARNING: ThreadSanitizer" >&2
}
tests/fuzz/run.sh --test || status=1
/usr/bin/python3 tools/count_tests.py build/meson-logs/testlog.json \
	build/meson-logs/testlog-valgrind.json \
	build-asan/meson-logs/testlog.json \
	build-tsan/meson-logs/testlog.json \
	build-fuzz/meson-logs/testlog.json || status=1
exit $status
