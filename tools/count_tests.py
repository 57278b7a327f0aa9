#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Sum meson test logs (testlog.json) into one closing line:
'N passed, N failed, N skipped'.  A TAP test (the check suites) counts its
subtests; a unittest module counts its cases from its 'Ran N tests' and
closing 'OK (...)' / 'FAILED (...)' lines (an expected failure counts as
passed, an unexpected success as failed); anything else counts as one
test by its result.  Exits 1 when anything failed or a log is missing."""
import json
import re
import sys


def unittest_counts(out):
    ran = re.search(r"^Ran (\d+) tests? in", out, re.M)
    if not ran:
        return None
    n = int(ran.group(1))
    tail = re.search(r"^(OK|FAILED)(?: \((.*)\))?\s*$", out, re.M)
    fields = {}
    if tail and tail.group(2):
        for part in tail.group(2).split(","):
            k, _, v = part.strip().partition("=")
            fields[k] = int(v)
    failed = (fields.get("failures", 0) + fields.get("errors", 0) +
              fields.get("unexpected successes", 0))
    skipped = fields.get("skipped", 0)
    if tail is None:  # the module died before its summary
        failed = max(failed, 1)
    return max(n - failed - skipped, 0), failed, skipped


def main(paths):
    passed = failed = skipped = 0
    for path in paths:
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError as e:
            print("count_tests: %s" % e, file=sys.stderr)
            failed += 1
            continue
        for line in lines:
            t = json.loads(line)
            res = t.get("result")
            out = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
            tap_ok = len(re.findall(r"^ok \d+", out, re.M))
            tap_nok = len(re.findall(r"^not ok \d+", out, re.M))
            u = unittest_counts(out)
            if tap_ok or tap_nok:
                passed += tap_ok
                failed += tap_nok
                if res not in ("OK", "SKIP") and not tap_nok:
                    failed += 1  # crashed after its last ok
            elif u:
                passed += u[0]
                failed += u[1]
                skipped += u[2]
                if res not in ("OK", "EXPECTEDFAIL") and not u[1]:
                    failed += 1
            elif res in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif res == "SKIP":
                skipped += 1
            else:
                failed += 1
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
