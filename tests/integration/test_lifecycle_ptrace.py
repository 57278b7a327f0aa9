# SPDX-License-Identifier: Apache-2.0
"""Process lifecycle where users run us: ptrace(2) forbidden and
CAP_SYS_PTRACE dropped (fixtures/lifecycle/noptrace.c).  A ptrace
tracer fails there; the launcher traces a pipeline as usual."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402
from lifecycletest import LifecycleTest, untraced  # noqa: E402


# ---- ptrace(2) banned ----------------------------------------------------

class PtraceBanned(LifecycleTest):
    """Where users run us: ptrace(2) forbidden, CAP_SYS_PTRACE dropped.
    (The *_noptrace suites run whole modules so; this checks the wrapper
    itself and the contrast with a ptrace tracer, in every suite.)"""

    def wrapper(self):
        out = self.path("noptrace")
        rt.compile_c(os.path.join("lifecycle", "noptrace.c"), out)
        return out

    def test_ptrace_tracer_fails_and_we_do_not(self):
        w = self.wrapper()
        check = untraced([w, "--check"], self.tmp)
        self.assertEqual(check.stdout, b"ptrace=EPERM cap_sys_ptrace=0\n")
        strace = rt.ensure_tool("strace", "strace")
        st = untraced([w, strace, "-f", "-o", os.devnull, "true"], self.tmp)
        self.assertNotEqual(st.returncode, 0, "strace traced under the ban")
        self.assertIn(b"Operation not permitted", st.stderr)
        f = self.write("f.txt", "a\nb\n")
        report = self.path("r.msgpack")
        # LeakSanitizer (a sanitizer build's launcher) needs ptrace.
        env = dict(rt.clean_env(), ASAN_OPTIONS="detect_leaks=0")
        proc = untraced([w, rt.tool("roar-tracer-preload"), report, "bash",
                         "-c", "cat f.txt | wc -l > n.txt"], self.tmp, env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        run = rt.Run(proc, rt.load_report(report), report)
        self.assertEqual(run.read_set(), {f})
        self.assertEqual(run.written_set(), {self.path("n.txt")})
        cat = run.procs_running("cat")
        self.assertEqual(len(cat), 1)
        self.assertEqual(cat[0]["read_paths"], [f])
        self.assertEqual(run.report["frames_refused"], 0)


if __name__ == "__main__":
    rt.main()
