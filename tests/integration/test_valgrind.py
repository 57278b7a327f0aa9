# SPDX-License-Identifier: Apache-2.0
"""The collector under valgrind's memcheck on real workloads: the
launcher (roar-tracer-preload) runs under valgrind, with
--trace-children=no so that the command it forks and executes runs
natively (and traced); only the collector's own memory is checked:
invalid reads and writes, uninitialised values, and leaks (definite,
indirect or possible) all fail the run through --error-exitcode.

valgrind 3.19 does not know pidfd_open(2) (it warns "unhandled syscall
434"): the collector gets ENOSYS and cannot watch its processes, so each
counts as exited when first heard of (collect.c watch) and the run ends on
the root's wait and the connections' ends.  The pidfd watching itself is
therefore not what is checked here; ASan (build-asan) covers it.  Only in
the plain build: an ASan binary cannot run under valgrind."""

import os
import subprocess

import roartest
from roartest import TracerTest

VG_ERROR = 99  # valgrind's verdict, apart from the command's own status


class ValgrindTest(TracerTest):
    def valgrind_run(self, argv):
        vg = roartest.ensure_tool("valgrind", "valgrind")
        report = self.path("report.msgpack")
        cmd = [vg, "-q", "--error-exitcode=%d" % VG_ERROR,
               "--leak-check=full",
               "--show-leak-kinds=definite,indirect,possible",
               "--errors-for-leak-kinds=definite,indirect,possible",
               "--trace-children=no",
               roartest.tool("roar-tracer-preload"), report] + argv
        proc = subprocess.run(cmd, cwd=self.tmp, env=roartest.clean_env(),
                              capture_output=True, timeout=300)
        err = proc.stderr.decode(errors="replace")
        self.assertNotEqual(proc.returncode, VG_ERROR,
                            "valgrind found errors:\n" + err)
        self.assertEqual(proc.returncode, 0, err)
        self.assertNotIn("Invalid ", err)
        self.assertNotIn("definitely lost", err)
        return roartest.Run(proc, roartest.load_report(report), report)

    def test_pipeline(self):
        self.write("a", "b\na\nc\n")
        run = self.valgrind_run(["sh", "-c", "cat a | sort > b"])
        with open(self.path("b")) as f:
            self.assertEqual(f.read(), "a\nb\nc\n")
        self.assertOneRoot(run)
        self.assertIn(self.path("a"), run.read_set())
        self.assertIn(self.path("b"), run.written_set())
        self.assertNotIn(self.path("b"), run.read_set())
        names = sorted(os.path.basename(c[0]) for c in run.commands() if c)
        self.assertEqual(names, ["cat", "sh", "sort"])
        self.assertEqual(run.report["frames_refused"], 0)

    def test_tar(self):
        roartest.ensure_tool("tar", "tar")
        os.mkdir(self.path("d"))
        self.write("d/f1", "one\n")
        self.write("d/f2", "two\n")
        run = self.valgrind_run(["tar", "cf", "out.tar", "d"])
        self.assertOneRoot(run)
        self.assertTrue({self.path("d", "f1"), self.path("d", "f2")}
                        <= run.read_set())
        self.assertIn(self.path("out.tar"), run.written_set())
        self.assertEqual(run.commands(), [["tar", "cf", "out.tar", "d"]])


if __name__ == "__main__":
    roartest.main()
