# SPDX-License-Identifier: Apache-2.0
"""Read the gzipped CSV and write a JSON summary per sensor."""
import csv
import gzip
import json
import sys

totals = {}
with gzip.open(sys.argv[1], "rt", newline="") as fh:
    for row in csv.DictReader(fh):
        t = totals.setdefault(row["sensor"], [0, 0.0, None, None])
        c = float(row["celsius"])
        t[0] += 1
        t[1] += c
        t[2] = c if t[2] is None else min(t[2], c)
        t[3] = c if t[3] is None else max(t[3], c)
summary = {s: {"readings": n, "mean": round(tot / n, 2), "min": lo, "max": hi}
           for s, (n, tot, lo, hi) in sorted(totals.items())}
with open(sys.argv[2], "w") as fh:
    json.dump(summary, fh, indent=2, sort_keys=True)
    fh.write("\n")
