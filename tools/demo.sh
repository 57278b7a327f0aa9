#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Set up, build, and trace the bundled example pipeline with roar-run:
# prints the pipeline's own output, then its lineage.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
work=$(mktemp -d /tmp/roar-demo-XXXXXX)
cp -r examples/pipeline/. "$work/"
cd "$work"
echo "== tracing examples/pipeline/run.sh in $work"
"$OLDPWD/build/collector/roar-run" -o lineage.msgpack -- ./run.sh
echo "== report: $work/lineage.msgpack (roar-report show|json FILE)"
