#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A small data pipeline: raw measurements in, a cleaned table and a
# summary out.  Traced with roar-run, its lineage shows which step read and
# wrote which file.
set -e
mkdir -p out
# Step 1: drop comments and blank lines (grep), keep the header separate.
grep -v '^#' data/measurements.csv | grep -v '^$' > out/clean.csv
# Step 2: sort by station, then by value (sort | tee).
tail -n +2 out/clean.csv | sort -t, -k1,1 -k3,3n | tee out/sorted.csv > /dev/null
# Step 3: per-station mean with awk, and a copy of the config it used.
awk -F, -f summarize.awk out/sorted.csv > out/summary.txt
cp config/stations.cfg out/stations.used.cfg
# Step 4: a compressed archive of the results (cat | gzip).
cat out/summary.txt out/sorted.csv | gzip -c > out/results.gz
echo "pipeline done: $(wc -l < out/sorted.csv) rows, summary in out/summary.txt"
