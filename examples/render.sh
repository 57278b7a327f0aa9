#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Run each example under roar-run and render its lineage graph
# (roar-report dot | dot -Tpng) into examples/<name>/lineage.png.
#   examples/render.sh [BUILD_DIR]    (default: build)
# Each example runs in a copy in a temporary directory, so the tree stays
# clean; the graph's paths are that copy's.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
command -v dot >/dev/null || { echo "render.sh: needs dot (Debian package graphviz)" >&2; exit 1; }
# The system python, not a version manager's shim (whose own scripts
# would crowd the graph).
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
export PYTHON
for ex in pipeline data-pipeline make-build shell-pipeline; do
	work=$(mktemp -d "/tmp/roar-$ex-XXXXXX")
	cp -r "$here/$ex/." "$work/"
	rm -f "$work/lineage.png" "$work/README.md"
	(cd "$work" && "$build/collector/roar-run" -q -o report.msgpack -- ./run.sh >/dev/null)
	"$build/collector/roar-report" dot "$work/report.msgpack" |
		dot -Tpng -Gdpi=60 -o "$here/$ex/lineage.png"
	echo "render.sh: $ex/lineage.png ($(wc -c < "$here/$ex/lineage.png") bytes)"
	rm -rf "$work"
done
