#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Sum meson test logs into one closing line: 'N passed, N failed, N skipped'.
A TAP test counts its subtests; a unittest module counts its test cases
from the 'Ran N tests' line; anything else counts as one test."""
import json
import re
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        print("count_tests: %s" % e, file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        res = t.get("result")
        out = (t.get("stdout") or "") + (t.get("stderr") or "")
        ran = re.search(r"^Ran (\d+) tests?", out, re.M)
        tap_ok = len(re.findall(r"^ok \d+", out, re.M))
        tap_nok = len(re.findall(r"^not ok \d+", out, re.M))
        skip = re.search(r"skipped=(\d+)", out)
        xfail = re.search(r"expected failures=(\d+)", out)
        fails = re.search(r"failures=(\d+)", out)
        errs = re.search(r"errors=(\d+)", out)
        if tap_ok or tap_nok:
            passed += tap_ok
            failed += tap_nok
        elif ran:
            n = int(ran.group(1))
            s = int(skip.group(1)) if skip else 0
            f = (int(fails.group(1)) if fails else 0) + \
                (int(errs.group(1)) if errs else 0)
            skipped += s
            failed += f
            passed += n - s - f
        elif res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped += 1
        else:
            failed += 1
        if res not in ("OK", "SKIP", "EXPECTEDFAIL") and not (tap_nok or
                                                              (ran and fails)):
            failed += 0 if (tap_nok or fails or errs) else 1
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
sys.exit(1 if failed else 0)
