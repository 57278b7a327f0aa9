#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Set up, build, install (as root: meson install to the build's prefix,
# /usr/local unless configured otherwise), and trace the bundled example
# pipeline with roar-run: prints the pipeline's own output, then its
# lineage.  Afterwards roar-run, roar-report and roar-tracer-preload run
# by name (not root: the line to add to PATH is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
if [ "$(id -u)" = 0 ]; then
	meson install -C build --quiet >/dev/null
	bindir=$(meson introspect build --buildoptions |
		/usr/bin/python3 -c 'import json, sys; o = {x["name"]: x["value"] for x in json.load(sys.stdin)}; print(o["prefix"] + "/" + o["bindir"])')
	echo "== installed roar-run, roar-report, roar-tracer-preload in $bindir"
	case ":$PATH:" in
	*":$bindir:"*) ;;
	*) echo "== $bindir is not on your PATH: export PATH=\"$bindir:\$PATH\"" ;;
	esac
else
	echo "== not root, so nothing installed; to run the tools by name:"
	echo "   export PATH=\"$PWD/build/collector:\$PATH\""
fi
work=$(mktemp -d /tmp/roar-demo-XXXXXX)
cp -r examples/pipeline/. "$work/"
cd "$work"
echo "== tracing examples/pipeline/run.sh in $work"
"$OLDPWD/build/collector/roar-run" -o lineage.msgpack -- ./run.sh
echo "== report: $work/lineage.msgpack (roar-report show|json FILE)"
