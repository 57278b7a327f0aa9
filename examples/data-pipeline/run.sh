#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Generate a CSV, compress it, summarise the compressed file as JSON.
# PYTHON picks the interpreter (default python3).
set -e
py=${PYTHON:-python3}
mkdir -p out
"$py" generate.py out/readings.csv
gzip -f out/readings.csv
"$py" summarize.py out/readings.csv.gz out/summary.json
echo "data pipeline done: out/summary.json"
