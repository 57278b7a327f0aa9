# SPDX-License-Identifier: Apache-2.0
"""Process lifecycle, vfork: the child shares the parent's memory, hence
the tracer's bookkeeping, but has its own descriptor table, its own
record and its own writes, nested vforks included."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402
from lifecycletest import LifecycleTest, kv, launch, untraced  # noqa: E402


# ---- vfork ---------------------------------------------------------------

class VFork(LifecycleTest):
    def test_vfork_shares_memory_with_parent(self):
        exe = self.build("vfork_shared")
        plain = untraced([exe], self.tmp)
        self.assertEqual(plain.returncode, 0, "untraced control")
        run = launch([exe], self.tmp, timeout=30)
        self.assertEqual(run.returncode, plain.returncode,
                         "the parent did not see the vfork child's store: %r"
                         % run.proc.stdout)
        out = kv(run.proc.stdout, ("child", "x"))
        self.assertEqual(out["x"], "42")
        cpid = int(out["child"])
        root = self.root(run)
        procs = run.proc_by_pid()
        self.assertIn(cpid, procs, "the vfork child is not in the report")
        self.assertIn(procs[cpid]["command"], (["true"], ["/bin/true"]))
        self.assertEqual(procs[cpid]["parent_pid"], root["pid"])


# ---- a vfork child's descriptors are its own -----------------------------

class VForkDescriptors(LifecycleTest):
    """The vfork child shares the parent's memory, hence the tracer's
    bookkeeping, but has its own descriptor table."""

    def redirect(self, how):
        exe = self.build("vfork_fds")
        src = self.write("in.txt", "data\n")
        later = self.write("other.txt", "o\n")
        args = [exe, how, src, later]
        plain = untraced(args, self.tmp)
        self.assertEqual(plain.returncode, 0, "untraced control")
        self.assertEqual(kv(plain.stdout, ("read",))["read"], "5")
        run = launch(args, self.tmp, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        out = kv(run.proc.stdout, ("child", "status", "read"))
        self.assertEqual(out["status"], "0")
        self.assertEqual(out["read"], "5", "the parent read the wrong file")
        root = self.root(run)
        self.assertIn(src, root["read_paths"], "the child's %s changed the "
                      "parent's view of its descriptor" % how)
        self.assertIn(later, root["read_paths"],
                      "the parent's later open was lost")
        procs = run.proc_by_pid()
        cpid = int(out["child"])
        if cpid in procs:
            self.assertNotIn(src, procs[cpid]["read_paths"])
        self.assertEqual(run.report.get("frames_refused"), 0)

    def test_child_dup2_leaves_parent_fd(self):
        self.redirect("dup2")

    def test_child_close_range_leaves_parent_fd(self):
        self.redirect("close_range")

    def test_child_open_is_credited_to_child(self):
        exe = self.build("vfork_fds")
        src = self.write("child_only.txt", "c\n")
        run = launch([exe, "open", src], self.tmp, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        out = kv(run.proc.stdout, ("child", "status"))
        self.assertEqual(out["status"], "0")
        cpid = int(out["child"])
        root = self.root(run)
        procs = run.proc_by_pid()
        self.assertIn(cpid, procs, "the vfork child is not in the report")
        self.assertEqual(procs[cpid]["parent_pid"], root["pid"])
        self.assertIn(src, procs[cpid]["read_paths"],
                      "the vfork child's open is not credited to it")
        self.assertNotIn(src, root["read_paths"],
                         "the vfork child's open is credited to the parent")


# ---- regressions of a second review --------------------------------------

class SecondReview(LifecycleTest):
    """Regressions of a second review: each failed before its fix."""

    def test_nested_vfork_child_keeps_its_own_writes(self):
        exe = self.build("nested_vfork")
        out = self.path("child_out")
        run = launch([exe, out], self.tmp, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        got = kv(run.proc.stdout, ["parent", "child"])
        procs = run.proc_by_pid()
        child = procs[int(got["child"])]
        self.assertEqual(child["written_paths"], [out])
        self.assertNotIn(out, procs[int(got["parent"])]["written_paths"])
        self.assertEqual(run.report["frames_refused"], 0)


if __name__ == "__main__":
    rt.main()
