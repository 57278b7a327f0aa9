#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Symbolize ThreadSanitizer reports of the build-tsan unit tests.

tools/test.sh runs them with TSAN_OPTIONS=symbolize=0: TSan's symbolizer
starts llvm-symbolizer through pipe(2), which in a test binary is our own
hook, instrumented, so the first report would deadlock inside itself.
This filter puts the names back afterwards, from llvm-symbolizer:
  tools/tsan-symbolize.py [LOG] < LOG   (e.g. build-tsan/meson-logs/testlog.txt)
A frame "(test_fdtable_intern+0x1234)" is looked up in
build-tsan/tests/unit, the system library directories, or as the path it
names."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRS = [os.path.join(ROOT, "build-tsan", "tests", "unit"),
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"]
FRAME = re.compile(r"<null> <null> \(([^()\s+]+)\+(0x[0-9a-f]+)\)")
cache = {}


def find(module):
    if os.path.isabs(module):
        return module
    for d in DIRS:
        p = os.path.join(d, module)
        if os.path.exists(p):
            return p
    return None


def symbolize(m):
    module, off = m.group(1), m.group(2)
    path = find(module)
    if not path:
        return m.group(0)
    if (path, off) not in cache:
        r = subprocess.run(["llvm-symbolizer", "--obj=" + path, off],
                           capture_output=True, text=True)
        lines = r.stdout.split("\n")
        name = lines[0] if lines and lines[0] else "??"
        where = lines[1] if len(lines) > 1 else "??"
        cache[(path, off)] = "%s %s (%s+%s)" % (name, where, module, off)
    return cache[(path, off)]


def main():
    src = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    for line in src:
        sys.stdout.write(FRAME.sub(symbolize, line))


if __name__ == "__main__":
    main()
