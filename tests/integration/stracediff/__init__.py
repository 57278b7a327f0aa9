# SPDX-License-Identifier: Apache-2.0
"""Ground truth for the differential tests: run a workload under the
tracer AND under `strace -f`, and derive from strace's log which files the
workload read and wrote, following docs/roar-compat.md "What is a read and
what is a write".

The package, by step:
  run.py      runs a workload under strace and the tracer at once
              (run_both: how a run is arranged, STRACE_FLAGS)
  parse.py    reads strace's log back into calls (parse_log)
  derive.py   derives the truth from those calls, per the contract
              (derive: what is a read, what is a write, which paths)
  paths.py    which paths take part in a comparison at all (comparable,
              the loader's and glibc's own files)
  compare.py  the report against the truth (compare)
Each module's docstring gives its part of the rules.  The names the
tests use are all importable from the package itself.
"""

from .compare import (argv_matches, compare, exec_names, keep_log,
                      report_names)
from .derive import Truth, derive, snapshot, tmp_entries
from .parse import parse_log
from .paths import comparable, fsb, glibc_internal, show
from .run import STRACE_FLAGS, DiffRun, run_both

__all__ = [
    "STRACE_FLAGS", "DiffRun", "Truth", "argv_matches", "comparable",
    "compare", "derive", "exec_names", "fsb", "glibc_internal", "keep_log",
    "parse_log", "report_names", "run_both", "show", "snapshot",
    "tmp_entries",
]
