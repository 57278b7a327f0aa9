# SPDX-License-Identifier: Apache-2.0
"""Running a workload under the tracer and strace at once.

How a run is arranged
---------------------
strace wraps the launcher:  strace -f ... -o LOG roar-tracer-preload REPORT
CMD...  so the report and the log describe ONE execution (same pids, same
random temporary names, same timing).  The launcher and its collector are
traced too; the derivation keeps only the report's root pid and its
descendants, so their syscalls never count.  The library's own syscalls in
the workload processes (readlink of /proc/self/fd, fstat, faccessat probes,
socket sends) earn no credit under the rules below.

strace flags (STRACE_FLAGS)
---------------------------
-f            follow forks, one log, each line prefixed by the tid
-qq           no attach/exit chatter
-e trace=%file,%desc,%process   opens, path calls, the fd calls (read
              family, write family, splice, sendfile, copy_file_range,
              mmap, ftruncate, close, fcntl...), fork/clone/exec
-e signal=none  no signal lines
-y            every fd argument and returned fd carries its path, as the
              kernel resolves it (/proc/PID/fd): canonical, symlinks
              resolved, "(deleted)" after it once unlinked
-xx           every string AND every fd path hex-escaped: names with
              newlines, quotes, '>' or invalid UTF-8 survive byte for byte
-s 4096       strings up to PATH_MAX; longer argv strings are truncated
              (strace appends "..."), which the exec comparison respects.
              Longer would only bloat the log with read()/write() buffers.
"""

import os
import signal
import subprocess
import time

import roartest

from .derive import derive, snapshot, tmp_entries

STRACE_FLAGS = [
    "-f", "-qq",
    "-e", "trace=%file,%desc,%process",
    "-e", "signal=none",
    "-y", "-xx", "-s", "4096",
]


class DiffRun:
    """One execution seen by both the tracer (run.report) and strace
    (truth)."""

    def __init__(self, run, truth, log, seconds):
        self.run = run
        self.truth = truth
        self.log = log
        self.seconds = seconds


def run_both(argv, cwd, env=None, timeout=300, stdin=None, logdir=None,
             report=None, watch=None):
    """Run argv with the launcher under strace; returns DiffRun.  Built on
    the roartest helpers (tool, clean_env, load_report, Run); run_traced
    itself cannot put strace in front of the launcher."""
    strace = roartest.ensure_tool("strace", "strace")
    logdir = logdir or os.path.dirname(cwd)
    log = os.path.join(logdir, "strace-%d.log" % os.getpid())
    report = report or os.path.join(logdir, "report-%d.msgpack" % os.getpid())
    for p in (log, report):
        if os.path.exists(p):
            os.unlink(p)
    watched = [watch or cwd]
    before = snapshot(*watched) | tmp_entries()
    e = roartest.clean_env(env)
    # In the sanitizer build the launcher is instrumented, and
    # LeakSanitizer cannot run under ptrace: leaks are checked by the
    # other suites there.
    e["ASAN_OPTIONS"] = (e.get("ASAN_OPTIONS", "")
                         + ":detect_leaks=0").lstrip(":")
    cmd = ([strace] + STRACE_FLAGS + ["-o", log,
                                      roartest.tool("roar-tracer-preload"),
                                      report] + list(argv))
    t0 = time.time()
    # Our own session, so that a hang can be ended whole: strace, the
    # launcher, the collector and the workload, by this group's id.
    p = subprocess.Popen(cmd, cwd=cwd, env=e, stdin=stdin,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # Every process below strace, by pid (the launcher may move the
        # workload to a group of its own), then strace's own group.
        for pid in [p.pid] + _descendants(p.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        out, err = p.communicate()
        raise AssertionError(
            "strace + launcher did not finish within %d s (ended by "
            "SIGKILL): %r; stderr tail %r" % (timeout, argv, err[-2000:]))
    proc = subprocess.CompletedProcess(cmd, p.returncode, out, err)
    seconds = time.time() - t0
    if not os.path.exists(report):
        raise AssertionError("no report written by %r: stderr %r"
                             % (cmd, proc.stderr))
    run = roartest.Run(proc, roartest.load_report(report), report)
    roots = run.roots()
    if len(roots) != 1:
        raise AssertionError("report has %d roots" % len(roots))
    truth = derive(log, roots[0]["pid"], cwd, before, watched)
    return DiffRun(run, truth, log, seconds)


def _descendants(pid):
    """Pids below pid, from /proc/PID/task/TID/children."""
    out = []
    todo = [pid]
    while todo:
        cur = todo.pop()
        try:
            tids = os.listdir("/proc/%d/task" % cur)
        except OSError:
            continue
        for tid in tids:
            try:
                with open("/proc/%d/task/%s/children" % (cur, tid)) as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            out.extend(kids)
            todo.extend(kids)
    return out
