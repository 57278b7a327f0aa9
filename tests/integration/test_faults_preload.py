# SPDX-License-Identifier: Apache-2.0
"""Faults of the preload measured under load (issue 9): a program that
runs out of fds must see what it sees untraced (our connection gives its
slot back), and a signal handler's file I/O while its thread is inside
our bookkeeping must still reach the report (parked, then recorded), or
be counted as dropped."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402


class FaultTest(rt.TracerTest):

    def build(self, name):
        out = self.path(os.path.basename(name).replace(".c", ""))
        return rt.compile_c(os.path.join("faults", name), out)

    def untraced(self, argv):
        p = subprocess.run(argv, cwd=self.tmp, capture_output=True,
                           timeout=120, env=rt.clean_env(),
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.decode()

    def traced(self, argv):
        run = rt.run_traced(argv, self.tmp, stdin=subprocess.DEVNULL,
                            timeout=300)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        return run, run.proc.stdout.decode()


class FdSlotTest(FaultTest):
    """RLIMIT_NOFILE 64: as many fds traced as untraced."""

    def check_mode(self, mode):
        exe = self.build("emfile.c")
        d = self.path("files")
        os.mkdir(d)
        plain = self.untraced([exe, mode, d])
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        run, traced = self.traced([exe, mode, d])
        self.assertTrue(plain.startswith("count="), plain)
        self.assertEqual(traced, plain,
                         "traced %r, untraced %r" % (traced, plain))
        yields = [p.get("fd_yields", 0) for p in run.processes()]
        self.assertEqual(sum(yields), 1, run.processes())
        return run, int(plain.split()[0].split("=")[1]), d

    def test_open(self):
        run, n, d = self.check_mode("open")
        want = {os.path.join(d, "f%03d" % i) for i in range(n)}
        self.assertEqual(want - run.written_set(), set())
        self.assertEqual(run.report["events_dropped"], 0)

    def test_fopen(self):
        run, n, d = self.check_mode("fopen")
        want = {os.path.join(d, "f%03d" % i) for i in range(n)}
        self.assertEqual(want - run.written_set(), set())

    def test_pipe(self):
        self.check_mode("pipe")

    def test_socket(self):
        self.check_mode("socket")


class SignalIoTest(FaultTest):
    """A SIGALRM handler's files, every 100 us, all in the report."""

    def test_handler_files(self):
        exe = self.build("sig_io.c")
        d = self.path("files")
        os.mkdir(d)
        run, out = self.traced([exe, d, "3000"])
        self.assertTrue(out.startswith("handler_files="), out)
        made = int(out.split("=")[1])
        on_disk = {os.path.join(d, f) for f in os.listdir(d)
                   if f.startswith("h")}
        self.assertEqual(len(on_disk), made)
        missing = on_disk - run.written_set()
        dropped = run.report["events_dropped"]
        print("handler files %d, in report %d, dropped %d"
              % (made, made - len(missing), dropped), file=sys.stderr)
        self.assertLessEqual(len(missing), dropped,
                             "%d handler files missing, only %d events "
                             "counted as dropped: %r"
                             % (len(missing), dropped, sorted(missing)[:5]))
        self.assertEqual(len(missing), 0)


if __name__ == "__main__":
    rt.main()
