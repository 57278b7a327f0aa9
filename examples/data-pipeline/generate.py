# SPDX-License-Identifier: Apache-2.0
"""Write a small CSV of sensor readings (deterministic, no randomness)."""
import csv
import sys

with open(sys.argv[1], "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["sensor", "hour", "celsius"])
    for hour in range(24):
        for sensor in ("north", "south", "east"):
            w.writerow([sensor, hour, round(10 + (hour * 7 + len(sensor)) % 13 / 2, 1)])
