# SPDX-License-Identifier: Apache-2.0
"""Process lifecycle, the ways a process is made: fork while threads open
files and change directory, daemon(3), forkpty(3), raw clone3 and clone
syscalls, a clone(CLONE_FILES) child, _Fork then fork, and a fork from
a signal handler.  Each new process has its own record, under the right
parent, with its own files."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402
from lifecycletest import LifecycleTest, kv, launch, untraced  # noqa: E402


# ---- threads + fork ------------------------------------------------------

class ThreadsAndFork(LifecycleTest):
    def test_fork_1000_times_while_threads_open_and_chdir(self):
        exe = self.build("threads_fork")
        want = set()
        for d in ("A", "B"):
            os.makedirs(self.path(d, "rel"))
            for i in range(3):
                want.add(self.write(os.path.join(d, "rel", "f%d" % i), "x\n"))
        args = [exe, self.path("A"), self.path("B"), "1000"]
        line = b"forks=1000 hung=0 bad=0 openfail=0"
        plain = untraced(args, self.tmp)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertEqual(plain.stdout.strip(), line, "untraced control")
        run = launch(args, self.tmp, timeout=90)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertEqual(run.proc.stdout.strip(), line,
                         "fork children hung (killed after 5 s each)")
        root = self.root(run)
        kids = [p for p in run.processes() if p["parent_pid"] == root["pid"]]
        self.assertGreaterEqual(len(run.processes()), 1001)
        self.assertEqual(len(kids), 1000)
        self.assertEqual([k for k in kids if k["exit_code"] != 0], [])
        # Relative names resolve against whichever directory was current.
        self.assertTrue(run.read_set(), "no reads recorded")
        self.assertLessEqual(run.read_set(), want)
        self.assertEqual(run.written_set(), set())


# ---- daemon(3) -----------------------------------------------------------

class Daemon(LifecycleTest):
    def test_daemon_child_is_traced_and_waited_for(self):
        exe = self.build("daemon_writes")
        out = self.path("out")
        os.mkdir(out)
        files = [os.path.join(out, "d%02d.txt" % i) for i in range(20)]
        run = launch([exe, out], self.tmp, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        missing = [f for f in files if not os.path.exists(f)]
        self.assertEqual(missing, [], "the launcher returned before the "
                         "daemon wrote its files: it did not wait for it")
        with open(files[0]) as fh:
            dpid = int(fh.read().strip().split("=")[1])
        root = self.root(run)
        self.assertNotEqual(dpid, root["pid"])
        procs = run.proc_by_pid()
        self.assertIn(dpid, procs, "the daemon is not in the report")
        d = procs[dpid]
        self.assertEqual(d["parent_pid"], root["pid"])
        self.assertEqual(sorted(d["written_paths"]), files)
        self.assertEqual(set(root["written_paths"]) & set(files), set())
        self.assertEqual(run.written_set(), set(files))


# ---- forkpty(3) ----------------------------------------------------------

class ForkPty(LifecycleTest):
    def test_forkpty_child_has_its_own_record(self):
        exe = self.build("forkpty_child", ["-lutil"])
        run = launch([exe, "pty.txt"], self.tmp, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        out = kv(run.proc.stdout, ("child", "status"))
        self.assertEqual(out["status"], "0")
        cpid = int(out["child"])
        root = self.root(run)
        procs = run.proc_by_pid()
        self.assertIn(cpid, procs, "the forkpty child is not in the report")
        self.assertEqual(procs[cpid]["parent_pid"], root["pid"])
        self.assertEqual(procs[cpid]["written_paths"], [self.path("pty.txt")])
        self.assertNotIn(self.path("pty.txt"), root["written_paths"])


# ---- raw clone3 / clone --------------------------------------------------

class RawClone(LifecycleTest):
    def raw(self, how):
        exe = self.build("raw_clone")
        run = launch([exe, how, "c.txt"], self.tmp, timeout=30)
        if run.returncode == 77:
            self.skipTest("%s here: %s"
                          % (how, run.proc.stdout.decode().strip()))
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        fields = kv(run.proc.stdout, ("child", "parent", "status"))
        cpid, ppid = int(fields["child"]), int(fields["parent"])
        self.assertEqual(fields["status"], "0")
        root = self.root(run)
        self.assertEqual(root["pid"], ppid)
        procs = run.proc_by_pid()
        self.assertIn(cpid, procs, "the %s child is not in the report" % how)
        self.assertEqual(procs[cpid]["parent_pid"], ppid)
        self.assertEqual(procs[cpid]["written_paths"], [self.path("c.txt")])
        self.assertNotIn(self.path("c.txt"), root["written_paths"])

    def test_clone3_syscall_child(self):
        self.raw("clone3")

    def test_clone_syscall_child(self):
        self.raw("clone")


# ---- clone(CLONE_FILES) child --------------------------------------------

class CloneFiles(LifecycleTest):
    def test_clone_files_child_and_parent_reads(self):
        exe = self.build("clone_files")
        first, mine, theirs, after = (
            self.write(n, n + "\n") for n in
            ("first.txt", "child.txt", "parent.txt", "after.txt"))
        args = [exe, first, mine, theirs, after]
        plain = untraced(args, self.tmp)
        self.assertEqual(plain.returncode, 0, "untraced control")
        run = launch(args, self.tmp, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        out = kv(run.proc.stdout, ("child", "parent", "status"))
        self.assertEqual(out["status"], "0")
        cpid, ppid = int(out["child"]), int(out["parent"])
        root = self.root(run)
        self.assertEqual(root["pid"], ppid)
        procs = run.proc_by_pid()
        self.assertIn(cpid, procs, "the clone child is not in the report")
        self.assertEqual(procs[cpid]["parent_pid"], ppid)
        self.assertEqual(sorted(procs[cpid]["read_paths"]), [mine])
        self.assertEqual(sorted(root["read_paths"]),
                         sorted([first, theirs, after]))
        self.assertEqual(run.report.get("frames_refused"), 0)


# ---- _Fork then fork -----------------------------------------------------

class UnderscoreFork(LifecycleTest):
    def test_grandchild_of_underscore_fork_has_right_parent(self):
        exe = self.build("underscore_fork")
        src = self.write("in.txt")
        run = launch([exe, src], self.tmp, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        out = kv(run.proc.stdout,
                 ("child", "grandchild", "gstatus", "root", "status"))
        self.assertEqual((out["gstatus"], out["status"]), ("0", "0"))
        cpid, gpid = int(out["child"]), int(out["grandchild"])
        root = self.root(run)
        self.assertEqual(root["pid"], int(out["root"]))
        procs = run.proc_by_pid()
        self.assertIn(cpid, procs, "the _Fork child is not in the report")
        self.assertIn(gpid, procs, "the grandchild is not in the report")
        self.assertEqual(procs[cpid]["parent_pid"], root["pid"])
        self.assertEqual(procs[gpid]["parent_pid"], cpid,
                         "the grandchild is credited to the wrong parent")
        self.assertIn(src, procs[gpid]["read_paths"])


# ---- regressions of a second review --------------------------------------

class SecondReview(LifecycleTest):
    """Regressions of a second review: each failed before its fix."""

    def test_fork_from_signal_handler_during_fclose(self):
        exe = self.build("signal_fork")
        plain = untraced([exe], self.tmp, timeout=30)
        self.assertEqual(plain.returncode, 0)
        run = launch([exe], self.tmp, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        got = kv(run.proc.stdout, ["loops", "forks"])
        self.assertGreater(int(got["loops"]), 0)
        self.assertGreater(int(got["forks"]), 0)
        # Every fork child is in the report, as the root's child.
        root = self.root(run)
        kids = [p for p in run.processes() if p["parent_pid"] == root["pid"]]
        self.assertEqual(len(kids), int(got["forks"]))


if __name__ == "__main__":
    rt.main()
