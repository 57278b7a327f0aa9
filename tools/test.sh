#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Set up, build, and run the whole test suite: unit and integration tests
# on the normal build, then unit and collector tests under ASan+UBSan, and
# a short run of the collector's frame fuzzer (tests/fuzz).
# Ends with one line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --tests --sanitize || exit 1

status=0
meson test -C build --print-errorlogs || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-asan --print-errorlogs \
	|| status=1
tests/fuzz/run.sh --test || status=1
/usr/bin/python3 tools/count_tests.py build/meson-logs/testlog.json \
	build-asan/meson-logs/testlog.json \
	build-fuzz/meson-logs/testlog.json || status=1
exit $status
