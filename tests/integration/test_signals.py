# SPDX-License-Identifier: Apache-2.0
"""Signals sent to the launcher (roar-tracer-preload, and roar-run, which
shares its launch code): each reaches the command (its process group when
it leads one), the report is written whatever the signal, and the
launcher ends as the command did: same exit code, or death by the same
signal.  Every run is bounded: the fixture gives up after 20 s and the
launcher is killed, with its process group, when it overstays."""
import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import termios

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402

_trap = None


def trap():
    """The fixture (fixtures/signals/trap.c), built once."""
    global _trap
    if _trap is None:
        d = tempfile.mkdtemp(prefix="roar-signals-")
        _trap = rt.compile_c(os.path.join("signals", "trap.c"),
                             os.path.join(d, "trap"))
    return _trap


_finish = rt.finish


class Signals(rt.TracerTest):
    def setUp(self):
        super().setUp()
        self.report = self.path("report.msgpack")
        self.write("input.txt", "in\n")

    def launcher(self, argv, via="launcher"):
        if via == "launcher":
            return [rt.tool("roar-tracer-preload"), self.report] + argv
        return [rt.tool("roar-run"), "-q", "-o", self.report, "--"] + argv

    def start(self, argv, via="launcher", **kw):
        """The launcher running argv, in a session of its own (nobody else
        gets what we send it); returns once the command is ready."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(self.launcher(argv, via), cwd=self.tmp,
                             env=rt.clean_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True,
                             **kw)
        if not rt.wait_for_file(self.path("ready"), 20):
            _finish(p, 1, "the launcher, whose command never got ready")
            raise AssertionError("the command never got ready")
        return p

    def send(self, sig, extra=(), traps=None, via="launcher"):
        """Run the fixture trapping traps (default: sig), send sig to the
        launcher alone, wait for it; returns (returncode, stdout, report)."""
        traps = (sig,) if traps is None else traps
        p = self.start([trap(), self.tmp] + list(extra) +
                       [str(int(s)) for s in traps], via)
        p.send_signal(sig)
        out, err = _finish(p, 30, "the launcher")
        self.assertTrue(os.path.exists(self.report),
                        "no report: rc %d, stderr %r" % (p.returncode, err))
        return p.returncode, out, rt.load_report(self.report)

    def root(self, rep):
        roots = [p for p in rep["processes"] if p["parent_pid"] is None]
        self.assertEqual(len(roots), 1, roots)
        return roots[0]

    def assertFiles(self, rep, read=(), written=()):
        files = {f["path"]: f for f in rep["files"]}
        for name in read:
            self.assertIn(self.path(name), files)
            self.assertTrue(files[self.path(name)]["read"], name)
        for name in written:
            self.assertIn(self.path(name), files)
            self.assertTrue(files[self.path(name)]["written"], name)

    def assertCaught(self, sig, rc, out, rep, who=("root",)):
        """The command's handler ran once for sig, its files are in the
        report, and we exited as it did."""
        lines = ["%s got %d x1\n" % (w, sig) for w in who]
        self.assertEqual(sorted(out.decode().splitlines(True)),
                         sorted(lines))
        for w, line in zip(who, lines):
            with open(self.path("%s_got.txt" % w)) as f:
                self.assertEqual(f.read(), line)
        self.assertEqual(rc, 40 + sig)
        self.assertEqual(self.root(rep)["exit_code"], 40 + sig)
        self.assertFiles(rep, read=["input.txt"],
                         written=["before.txt"] +
                         ["%s_got.txt" % w for w in who])

    # ---- passed on, caught by the command ---------------------------------

    def test_sigusr1(self):
        self.assertCaught(signal.SIGUSR1, *self.send(signal.SIGUSR1))

    def test_sigusr2(self):
        self.assertCaught(signal.SIGUSR2, *self.send(signal.SIGUSR2))

    def test_sigalrm(self):
        self.assertCaught(signal.SIGALRM, *self.send(signal.SIGALRM))

    def test_sigint_to_launcher_alone(self):
        self.assertCaught(signal.SIGINT, *self.send(signal.SIGINT))

    def test_sigquit_to_launcher_alone(self):
        self.assertCaught(signal.SIGQUIT, *self.send(signal.SIGQUIT))

    def test_sighup_and_sigterm_trapped(self):
        for sig in (signal.SIGHUP, signal.SIGTERM):
            with self.subTest(sig=sig):
                self.assertCaught(sig, *self.send(sig))
                os.unlink(self.path("ready"))

    def test_realtime_signal(self):
        sig = signal.SIGRTMIN + 2
        self.assertCaught(sig, *self.send(sig))

    def test_roar_run_passes_sigusr1_on(self):
        self.assertCaught(signal.SIGUSR1,
                          *self.send(signal.SIGUSR1, via="roar-run"))

    # ---- the command in a process group of its own --------------------------

    def test_own_session_gets_it_in_its_group(self):
        # The forked child is reached only if the whole group is.
        rc, out, rep = self.send(signal.SIGUSR1, ["--setsid", "--fork"])
        self.assertCaught(signal.SIGUSR1, rc, out, rep, ("root", "child"))
        self.assertEqual(len(rep["processes"]), 2)

    def test_own_process_group_gets_sigint(self):
        rc, out, rep = self.send(signal.SIGINT, ["--setpgid", "--fork"])
        self.assertCaught(signal.SIGINT, rc, out, rep, ("root", "child"))

    # ---- death by a signal ------------------------------------------------

    def assertDiedOfTerm(self, rc, out, rep, via="launcher"):
        # roar-tracer-preload exits 128+N, as roar's contract says (roar
        # reads the number); roar-run dies of the signal itself.
        self.assertEqual(rc, 128 + signal.SIGTERM if via == "launcher"
                         else -signal.SIGTERM)
        self.assertEqual(out, b"")
        root = self.root(rep)
        self.assertEqual(root["exit_signal"], signal.SIGTERM)
        self.assertFalse(root["still_running"])
        self.assertFiles(rep, read=["input.txt"], written=["before.txt"])

    def test_sigterm_untrapped_kills_both(self):
        self.assertDiedOfTerm(*self.send(signal.SIGTERM, traps=()))

    def test_roar_run_dies_of_sigterm_too(self):
        self.assertDiedOfTerm(*self.send(signal.SIGTERM, traps=(),
                                         via="roar-run"), via="roar-run")

    def test_sigusr2_untrapped(self):
        rc, _, rep = self.send(signal.SIGUSR2, traps=())
        self.assertEqual(rc, 128 + signal.SIGUSR2)
        self.assertEqual(self.root(rep)["exit_signal"], signal.SIGUSR2)
        self.assertFiles(rep, read=["input.txt"], written=["before.txt"])

    # ---- the command ignores it ---------------------------------------------

    def test_ignored_sigterm_keeps_us_waiting(self):
        p = self.start(["sh", "-c", "trap '' TERM; : > ready; sleep 1; "
                        "echo done > after.txt"])
        p.send_signal(signal.SIGTERM)
        _, err = _finish(p, 30, "the launcher")
        self.assertEqual(p.returncode, 0, err)
        rep = rt.load_report(self.report)
        self.assertEqual(self.root(rep)["exit_code"], 0)
        self.assertFiles(rep, written=["after.txt"])
        self.assertFalse(any(q["still_running"] for q in rep["processes"]))

    def test_closed_stderr_does_not_cost_the_report(self):
        # "stopped waiting" goes to a closed pipe: the SIGPIPE of our own
        # write is neither fatal nor passed on to anyone.
        r, w = os.pipe()
        p = subprocess.Popen(self.launcher(
            # ready only once the background sleep had time to announce
            # itself (its exec's hello): the report must know it.
            ["sh", "-c", "sleep 30 >/dev/null 2>&1 & /bin/sleep 0.5; "
             ": > ready; exit 3"]),
            cwd=self.tmp, env=rt.clean_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=w, start_new_session=True)
        os.close(w)
        os.close(r)
        self.assertTrue(rt.wait_for_file(self.path("ready"), 20))
        p.send_signal(signal.SIGTERM)
        _finish(p, 30, "the launcher")
        self.assertEqual(p.returncode, 3)
        rep = rt.load_report(self.report)
        sleeps = [q for q in rep["processes"] if q["command"][:1] == ["sleep"]]
        self.assertEqual(len(sleeps), 1)
        self.assertTrue(sleeps[0]["still_running"])
        os.kill(sleeps[0]["pid"], signal.SIGKILL)

    # ---- the terminal's own signals ---------------------------------------

    def test_terminal_ctrl_c_reaches_the_command_once(self):
        # The terminal sends SIGINT to its whole foreground group, the
        # command included: we must not send it a second copy.
        master, slave = os.openpty()
        try:
            p = self.start([trap(), self.tmp, str(int(signal.SIGINT))],
                           stdin=slave, preexec_fn=lambda: fcntl.ioctl(
                               0, termios.TIOCSCTTY, 0))
            os.write(master, b"\x03")
            out, err = _finish(p, 30, "the launcher")
        finally:
            os.close(slave)
            os.close(master)
        self.assertCaught(signal.SIGINT, p.returncode, out,
                          rt.load_report(self.report))


if __name__ == "__main__":
    rt.main()
