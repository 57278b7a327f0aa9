# SPDX-License-Identifier: Apache-2.0
"""What the seccomp supervisor says of a new image (its hello): argv and
environment as the exec call gave them (read from the caller's memory
while the call waits, not from /proc), or as the kernel rewrote them for
a script's interpreter; its working directory as its parent had it at
the fork (even when the parent moved on, and was looked at there, before
the child's first watched call), and its exe by its canonical name
(also when exec'd through /proc/self/exe or a symlink); failed execs
leave the image as it was.  Processes killed before their exit_group
are forgotten at once: the supervisor keeps no pidfd of theirs.  The program is a gcc -static one (fixtures/supervisor/execargs.c);
the expected values are what it passed, and strace -f's record of the
same run for the execs."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roartest as rt  # noqa: E402
from test_supervisor import SupTest, build_static  # noqa: E402

NVARS = 3000
BIG_ARG = 20000


class Hellos(SupTest):
    def setUp(self):
        super().setUp()
        self.exe = build_static("execargs", self.path("execargs"))
        for d in ("a", "b"):
            os.mkdir(self.wpath(d))
            self.wwrite(os.path.join(d, "marker"), d + "\n")
        os.symlink(self.exe, self.wpath("link"))
        os.symlink(self.exe, self.wpath("a", "prog"))
        self.wwrite("noexec", "#!/bin/sh\n")
        os.chmod(self.wpath("noexec"), 0o644)
        self.wwrite("script", "#!%s\n" % self.exe)
        os.chmod(self.wpath("script"), 0o755)

    def child(self, run, who):
        got = [p for p in run.processes()
               if p.get("env", {}).get("EXECARGS_CHILD") == who]
        self.assertEqual(len(got), 1, "one image of child %s in %r" % (
            who, [p["command"] for p in run.processes()]))
        return got[0]

    def test_hellos_from_the_exec_arguments(self):
        run = rt.run_traced([self.exe, self.work], self.work)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        root = self.assertOneRoot(run)
        self.assertSupervised(root)
        real = os.path.realpath(self.exe)
        a_dir, b_dir = self.wpath("a"), self.wpath("b")

        a = self.child(run, "A")
        self.assertSupervised(a)
        self.assertEqual(a["command"],
                         ["execargs", "child", "A", "x" * BIG_ARG])
        want = {"V%04d" % i: "value-%04d-0123456789abcdef0123456789" % i
                for i in range(NVARS)}
        want["EXECARGS_CHILD"] = "A"
        self.assertEqual(a["env"], want)
        # Its parent was in b (and had said so) when A first called,
        # but A never moved from a.
        self.assertEqual(a["cwd"], a_dir)
        self.assertEqual(a["exe"], real)
        self.assertIn(os.path.join(a_dir, "marker"), a["read_paths"])

        b = self.child(run, "B")
        self.assertSupervised(b)
        self.assertEqual(b["command"], [""])
        self.assertEqual(b["env"], {"EXECARGS_CHILD": "B"})
        self.assertEqual(b["cwd"], b_dir)
        self.assertEqual(b["exe"], real)  # exec'd through the symlink
        self.assertIn(os.path.join(b_dir, "marker"), b["read_paths"])

        c = self.child(run, "C")
        self.assertSupervised(c)
        self.assertEqual(c["command"], ["execargs", "child", "C"])
        self.assertEqual(c["exe"], real)
        self.assertIn(os.path.join(b_dir, "marker"), c["read_paths"])
        d = self.child(run, "D")
        self.assertSupervised(d)
        # The kernel's argv for a script's interpreter, not the exec's.
        self.assertEqual(d["command"],
                         [self.exe, self.wpath("script"), "arg1"])
        self.assertEqual(d["exe"], real)
        self.assertIn(os.path.join(b_dir, "marker"), d["read_paths"])
        # Two failed execs before C's: no image of theirs, none of the
        # parent's image lost (the fork child's own process is C's).
        self.assertEqual(
            sorted(p["pid"] for p in run.processes() if p is not root),
            sorted({a["pid"], b["pid"], c["pid"], d["pid"]}))
        self.assertEqual(b["parent_pid"], root["pid"])
        self.assertEqual(a["parent_pid"], root["pid"])
        self.assertEqual(c["parent_pid"], root["pid"])

    def test_killed_children_are_forgotten(self):
        """300 children killed before their exit_group: each one's read
        is in the report, and the launcher (where the supervisor runs)
        holds no fd of theirs afterwards."""
        n = 300
        run = rt.run_traced([self.exe, self.work, str(n)], self.work)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        out = run.proc.stdout.decode()
        fds = int(out.split("launcher_fds=")[1].split()[0])
        self.assertGreater(fds, 0, out)
        self.assertLess(fds, 100, "the launcher still holds %d fds" % fds)
        root = self.assertOneRoot(run)
        marker = self.wpath("b", "marker")
        killed = [p for p in run.processes()
                  if p["parent_pid"] == root["pid"] and
                  p["command"] == root["command"]]
        self.assertEqual(len(killed), n)
        for p in killed:
            self.assertIn(marker, p["read_paths"], p["pid"])

    def test_agrees_with_strace(self):
        """Read and written sets, the process tree and every exec's argv,
        as strace -f saw the same run."""
        d = self.strace_run([self.exe, self.work])
        self.assertEqual(d.run.returncode, 0, d.run.proc.stderr)
        self.assertCovers(d, read=[self.wpath("a", "marker"),
                                   self.wpath("b", "marker")])
        self.assertAgrees(d, "execargs")


if __name__ == "__main__":
    unittest.main(verbosity=2)
