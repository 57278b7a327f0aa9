# SPDX-License-Identifier: Apache-2.0
"""Faults on the collector's side: a stalled collector (stopped with
SIGSTOP while the command runs) neither slows the command down beyond a
small bound nor loses an event without counting it; the ledger brings
the count of what a process made and never delivered into the report,
even from a process killed with its queue full.  Every run is bounded."""
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402

PY = "/usr/bin/python3"

WRITER = """
import os, sys
n = int(sys.argv[1])
for i in range(n):
    open("out/f%d" % i, "w").close()
if sys.argv[2] == "kill":
    os.kill(os.getpid(), 9)
"""


def stalled(inner):
    """A shell command that stops the launcher (its collector) while
    inner runs, and lets it go on afterwards."""
    return ["sh", "-c", "kill -STOP $PPID; %s; st=$?; kill -CONT $PPID; "
            "exit $st" % inner]


class StalledCollector(rt.TracerTest):
    def run_bounded(self, argv, timeout=120):
        t0 = time.monotonic()
        run = rt.run_traced(argv, self.tmp, timeout=timeout)
        return run, time.monotonic() - t0

    def writer(self, n, how):
        os.mkdir(self.path("out"))
        self.write("writer.py", WRITER)
        return "%s writer.py %d %s" % (PY, n, how)

    def out_files(self, run):
        return {p for p in run.written_set()
                if p.startswith(self.path("out") + "/")}

    def writer_proc(self, run):
        procs = [p for p in run.processes()
                 if p["command"][:2] == [PY, "writer.py"]]
        self.assertEqual(len(procs), 1, run.commands())
        return procs[0]

    def check_accounted(self, run, n, exit_expected):
        got = len(self.out_files(run))
        w = self.writer_proc(run)
        # What the writer made and the collector never got: its files
        # beyond the socket's buffers, and its exit event if that died
        # in its queue too.
        exit_lost = exit_expected and w["exit_code"] is None
        self.assertGreater(w["events_dropped"], 0,
                           "a stalled collector must cost the writer "
                           "something, or the test proves nothing")
        self.assertEqual(got + w["events_dropped"], n + int(exit_lost),
                         "files in report %d + dropped %d != written %d"
                         % (got, w["events_dropped"], n))
        self.assertTrue(w["incomplete"])
        self.assertTrue(run.report["roar_preload"]["ledger"])
        # The run's total is the processes' own, nothing guessed.
        self.assertEqual(run.report["events_dropped"],
                         sum(p["events_dropped"] for p in run.processes()))
        root = self.assertOneRoot(run)
        self.assertFalse(root["incomplete"], root)
        return got

    def test_short_lived_writer_loses_nothing_uncounted(self):
        run, _ = self.run_bounded(stalled(self.writer(5000, "exit")))
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.check_accounted(run, 5000, exit_expected=True)

    def test_killed_writer_loses_nothing_uncounted(self):
        run, _ = self.run_bounded(stalled(self.writer(5000, "kill")))
        self.assertEqual(run.returncode, 128 + 9, run.proc.stderr)
        got = self.check_accounted(run, 5000, exit_expected=False)
        self.assertLess(got, 5000)

    def test_healthy_collector_loses_nothing(self):
        os.mkdir(self.path("out"))
        self.write("writer.py", WRITER)
        run = rt.run_traced([PY, "writer.py", "5000", "kill"], self.tmp)
        w = self.writer_proc(run)
        self.assertEqual(len(self.out_files(run)), 5000)
        self.assertEqual(w["events_dropped"], 0)
        self.assertFalse(w["incomplete"])
        self.assertEqual(run.report["events_dropped"], 0)

    def test_many_processes_run_at_full_speed(self):
        batch = "for i in $(seq 400); do /bin/true; done"
        healthy = []
        stopped = []
        for _ in range(2):
            _, t = self.run_bounded(["sh", "-c", batch])
            healthy.append(t)
            run, t = self.run_bounded(stalled(batch))
            stopped.append(t)
        self.assertLess(min(stopped), 3 * min(healthy),
                        "stalled %r vs healthy %r" % (stopped, healthy))
        # And every one of them is in the report, complete or marked.
        trues = run.procs_running("true")
        self.assertEqual(len(trues), 400)
        lost = sum(p["events_dropped"] for p in trues)
        self.assertEqual(run.report["events_dropped"],
                         sum(p["events_dropped"] for p in run.processes()))
        self.assertEqual(lost == 0,
                         not any(p["incomplete"] for p in trues))


if __name__ == "__main__":
    rt.main()
