#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Check that every C source and header of the tree is as .clang-format
# formats it (clang-format 14, Debian 12), installing clang-format if it
# is missing.  Checked: preload/, collector/, common/, include/,
# tests/unit/, tests/fuzz/; not the integration fixtures nor the bench
# drivers, which copy the shape of the programs they stand for.  Exits non-zero, naming
# the files, when one would change.  Changes nothing.
#   tools/check-format.sh [file...]     (default: the whole list above)
set -euo pipefail
cd "$(dirname "$0")/.."

. tools/packages.sh
roar_need_packages check-format clang-format

if [ "$#" -gt 0 ]; then
	files=("$@")
else
	mapfile -t files < <(find preload collector common include tests/unit \
		tests/fuzz -type f \( -name '*.c' -o -name '*.h' \) \
		2>/dev/null | sort)
fi

bad=0
for f in "${files[@]}"; do
	if ! clang-format --style=file --dry-run --Werror "$f" \
		2>/dev/null; then
		echo "check-format: $f is not formatted" \
		     "(clang-format $f | diff $f - shows how)" >&2
		bad=1
	fi
done
exit "$bad"
