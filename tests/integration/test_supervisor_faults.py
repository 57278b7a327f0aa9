# SPDX-License-Identifier: Apache-2.0
"""The seccomp supervisor when things go wrong: a watched call waits for
the supervisor's answer, so the collector being stopped or killed must
never stop or break a supervised program (the watchman answers instead,
collector/supervise_watch.c, and the calls it let go are counted as
unrecorded), and where seccomp(2) is forbidden the program runs
untraced, listed with the reason.  The program is a static busybox shell
loop that writes a marker file at its end; each test asserts that the
marker appears while the collector cannot answer, and what the report
says afterwards."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roartest as rt  # noqa: E402
from test_supervisor import supervisor_unavailable  # noqa: E402

BUSYBOX = "/bin/busybox"
LOOP = ("for i in $(busybox seq 20); do busybox cat in > f$i; "
        "busybox sleep 0.05; done; busybox touch done.mark")


def static_busybox():
    """Why busybox-static cannot be had here, or None."""
    rt.ensure_tool("busybox", "busybox-static")
    out = subprocess.run(["file", "-L", BUSYBOX], capture_output=True)
    if b"statically linked" not in out.stdout and b"static-pie" \
            not in out.stdout:
        return "busybox is not the static build: %r" % out.stdout
    return None


class CollectorFaults(rt.TracerTest):
    def setUp(self):
        super().setUp()
        why = supervisor_unavailable() or static_busybox()
        if why:
            self.skipTest(why)
        self.write("in", "x\n")

    def start(self, report, loop=LOOP):
        env = rt.clean_env()
        cmd = rt.traced_wrapper() + [
            rt.tool("roar-run"), "-q", "--json", report, "--",
            "busybox", "sh", "-c", loop]
        return subprocess.Popen(cmd, cwd=self.tmp, env=env,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE,
                                start_new_session=True)

    def collector_of(self, p):
        """The roar-run process (the collector), behind the wrapper."""
        deadline = time.time() + 10
        while time.time() < deadline:
            out = subprocess.run(["pgrep", "-s", str(p.pid), "-x",
                                  "roar-run"], capture_output=True)
            pids = [int(x) for x in out.stdout.split()]
            # The watchman is a roar-run too, in a session of its own.
            if pids:
                return min(pids)
            time.sleep(0.02)
        self.fail("no roar-run process")

    def wait_marker(self, seconds):
        return rt.wait_for_file(self.path("done.mark"), seconds)

    def run_acting_on_collector(self, act, loop=LOOP):
        """Run loop under roar-run; once it wrote f1, act(collector pid).
        Returns the report, having asserted that roar-run succeeded."""
        report = self.path("r.json")
        p = self.start(report, loop)
        try:
            rt.wait_for_file(self.path("f1"), 10)
            act(self.collector_of(p))
            _, err = rt.finish(p, 60, "roar-run")
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate()
        self.assertEqual(p.returncode, 0, err)
        with open(report) as f:
            return json.load(f)

    def test_stopped_collector_does_not_stop_the_program(self):
        def stop(pid):
            os.kill(pid, signal.SIGSTOP)
            try:
                # 20 rounds with the watchman's stall limit once:
                # well within 20 s, where a hang would never end.
                self.assertTrue(self.wait_marker(20),
                                "the program stopped with the collector")
            finally:
                os.kill(pid, signal.SIGCONT)

        r = self.run_acting_on_collector(stop)
        for i in range(1, 21):
            self.assertTrue(os.path.exists(self.path("f%d" % i)))
        sup = r["roar_preload"]["supervisor"]
        self.assertEqual(sup["listeners"], 1, sup)
        self.assertGreater(sup["unrecorded"], 0, sup)
        self.assertEqual([q["traced_by"] for q in r["processes"]
                          if q["parent_pid"] is None], ["supervisor"])

    def test_collector_stopped_and_continued_twice_still_ends(self):
        """Continued while its watchman answers, the supervisor and the
        watchman both wake for the same call; whoever loses must not wait
        for ever (the run would never end)."""
        def stop_twice(pid):
            for _ in range(2):
                os.kill(pid, signal.SIGSTOP)
                time.sleep(5)  # past the watchman's stall limit
                os.kill(pid, signal.SIGCONT)
                time.sleep(0.5)
            self.assertTrue(self.wait_marker(60), "the program hung")

        r = self.run_acting_on_collector(stop_twice,
                                         LOOP.replace("seq 20", "seq 200"))
        self.assertTrue(all(os.path.exists(self.path("f%d" % i))
                            for i in range(1, 201)))
        sup = r["roar_preload"]["supervisor"]
        self.assertGreater(sup["unrecorded"], 0, sup)
        self.assertGreater(sup["notifications"], 0, sup)

    def test_killed_collector_does_not_break_the_program(self):
        report = self.path("r.json")
        p = self.start(report)
        try:
            rt.wait_for_file(self.path("f1"), 10)
            os.kill(self.collector_of(p), signal.SIGKILL)
            self.assertTrue(self.wait_marker(20),
                            "the program hung or failed once the "
                            "collector was gone")
        finally:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
        # Every watched call went on as if nothing happened: all files
        # were written (a call failing with ENOSYS would have stopped
        # busybox cat short).
        for i in range(1, 21):
            with open(self.path("f%d" % i)) as f:
                self.assertEqual(f.read(), "x\n")


class Forbidden(rt.TracerTest):
    def noseccomp(self):
        deny = os.path.join(self.tmp, "noseccomp")
        rt.compile_c(os.path.join(rt.FIXTURES, "supervisor",
                                  "noseccomp.c"), deny)
        return deny

    def test_collector_without_seccomp_still_finishes(self):
        """The collector itself where seccomp(2) is forbidden has no
        supervisor: the run must still end and write its report (it
        once waited forever for a supervisor that did not exist)."""
        report = self.path("r.msgpack")
        self.write("in", "z\n")
        r = rt.bounded([self.noseccomp(), rt.tool("roar-tracer-preload"),
                        report, "/bin/sh", "-c", "cat in > out"],
                       self.tmp, rt.clean_env(), 60, "the launcher")
        self.assertEqual(r.returncode, 0, r.stderr)
        run = rt.load_report(report)
        files = {f["path"]: f for f in run["files"]}
        self.assertTrue(files[self.path("in")]["read"], files)
        self.assertTrue(files[self.path("out")]["written"], files)

    def test_seccomp_forbidden_lists_untraced_with_reason(self):
        """A sandbox that forbids seccomp(2) (here: a filter of ours
        making it fail with EPERM before the tracer starts): the static
        program runs, untraced, and its reason says why."""
        why = static_busybox()
        if why:
            self.skipTest(why)
        deny = self.noseccomp()
        self.write("in", "y\n")
        r = rt.run_traced([deny, "/bin/sh", "-c",
                           "busybox cat in > out; true"], self.tmp)
        self.assertEqual(r.returncode, 0, r.proc.stderr)
        with open(self.path("out")) as f:
            self.assertEqual(f.read(), "y\n")
        bb = [q for q in r.processes()
              if (q.get("command") or [""])[0] == "busybox"
              or (q.get("exe") or "").endswith("busybox")]
        self.assertEqual(len(bb), 1, r.commands())
        self.assertFalse(bb[0]["traced"], bb[0])
        self.assertEqual(bb[0]["traced_by"], "none")
        self.assertRegex(bb[0]["untraced_reason"],
                         "static binary.*supervisor could not be armed")


if __name__ == "__main__":
    rt.main()
