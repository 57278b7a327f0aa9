# SPDX-License-Identifier: Apache-2.0
"""What a person meets first (issue 13): roar-run --json FILE leaves the
command's stdout alone, checks that fail before the command runs, the
notice while waiting for processes the command left running, the report
of plain LD_PRELOAD there when the command returns, --version and --help,
the man pages, and the Debian package traced from a dpkg -x.  Every run
is bounded (roartest.bounded)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402


_bounded = rt.bounded


def project_version():
    with open(os.path.join(rt.SRC, "meson.build")) as f:
        return re.search(r"version:\s*'([^']+)'", f.read()).group(1)


def sanitizer_build():
    """Whether ROAR_BUILD_DIR is a sanitizer build (tools/test.sh runs
    the suites twice; the package is built by the plain run only)."""
    p = os.path.join(rt.BUILD, "meson-info", "intro-buildoptions.json")
    try:
        with open(p) as f:
            opts = {o["name"]: o["value"] for o in json.load(f)}
    except (OSError, ValueError):
        return False
    return opts.get("b_sanitize", "none") not in ("none", "")


def plain_preload_env(lib, report, extra=None):
    """Plain LD_PRELOAD use: no launcher, no socket, the report named."""
    env = rt.clean_env()
    env.pop("ROAR_PRELOAD_LIB", None)
    env.pop("ROAR_WAIT_TIMEOUT", None)
    env.update(extra or {})
    env["LD_PRELOAD"] = lib
    env["ROAR_REPORT"] = report
    return env


class JsonTest(rt.TracerTest):
    def test_json_file_keeps_stdout_the_commands(self):
        self.write("a.txt", "the command's own output\n")
        r = _bounded([rt.tool("roar-run"), "-q", "--json", "j.json", "-o",
                      "r.msgpack", "--", "cat", "a.txt"], self.tmp,
                     rt.clean_env(), 60, "roar-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"the command's own output\n")
        with open(self.path("j.json")) as f:
            d = json.load(f)
        self.assertEqual([f["path"] for f in d["files"]],
                         [self.path("a.txt")])
        self.assertEqual(os.stat(self.path("j.json")).st_mode & 0o777, 0o600)

    def test_json_dash_is_stdout_after_the_output(self):
        self.write("a.txt", "out\n")
        r = _bounded([rt.tool("roar-run"), "-q", "--json", "-", "-o",
                      "r.msgpack", "--", "cat", "a.txt"], self.tmp,
                     rt.clean_env(), 60, "roar-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(b"out\n{"), r.stdout[:80])
        d = json.loads(r.stdout[4:])
        self.assertEqual(d["version"], 1)

    def test_json_followed_by_an_option_is_refused_before_the_run(self):
        r = _bounded([rt.tool("roar-run"), "-q", "--json", "-o", "r.msgpack",
                      "--", "touch", "ran"], self.tmp, rt.clean_env(), 60,
                     "roar-run")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--json takes a file name", r.stderr)
        self.assertFalse(os.path.exists(self.path("ran")))


class SummaryAllTest(rt.TracerTest):
    def test_roar_run_folds_system_files_unless_all(self):
        self.write("s.py", "import json\nopen('mine.txt', 'w').close()\n")
        argv = ["/usr/bin/python3", "s.py"]
        folded = _bounded([rt.tool("roar-run"), "-o", "r.msgpack", "--"] +
                          argv, self.tmp, rt.clean_env(), 60, "roar-run")
        full = _bounded([rt.tool("roar-run"), "--all", "-o", "r.msgpack",
                         "--"] + argv, self.tmp, rt.clean_env(), 60,
                        "roar-run")
        self.assertEqual(folded.returncode, 0, folded.stderr)
        self.assertEqual(full.returncode, 0, full.stderr)
        self.assertIn(b"system files (--all to list)", folded.stderr)
        self.assertIn(b"mine.txt", folded.stderr)
        self.assertNotIn(b"/json/__pycache__/", folded.stderr)
        self.assertNotIn(b"--all to list", full.stderr)
        self.assertIn(b"/json/__pycache__/", full.stderr)


class ProgressTest(rt.TracerTest):
    def run_sleep(self, env, *opts):
        return _bounded([rt.tool("roar-run")] + list(opts) +
                        ["-o", "r.msgpack", "--", "sleep", "1"], self.tmp,
                        rt.clean_env(env), 60, "roar-run")

    def test_progress_lines_while_the_command_runs(self):
        r = self.run_sleep({"ROAR_PROGRESS": "0.2"})
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [l for l in r.stderr.decode().splitlines()
                 if "roar-run: tracing for" in l]
        # About five in a second; a loaded machine may say fewer.
        self.assertGreaterEqual(len(lines), 2, r.stderr)
        self.assertIn("1 process,", lines[-1])

    def test_no_progress_when_quiet_or_not_a_terminal(self):
        for env, opts in (({"ROAR_PROGRESS": "0.2"}, ["-q"]), ({}, [])):
            r = self.run_sleep(env, *opts)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn(b"tracing for", r.stderr)

    def test_bad_progress_value_runs_nothing(self):
        r = _bounded([rt.tool("roar-run"), "-o", "r.msgpack", "--", "sh",
                      "-c", ": > ran"], self.tmp,
                     rt.clean_env({"ROAR_PROGRESS": "soon"}), 60, "roar-run")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"ROAR_PROGRESS", r.stderr)
        self.assertFalse(os.path.exists(self.path("ran")))


class ChecksBeforeWorkTest(rt.TracerTest):
    def assert_not_run(self, r):
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertFalse(os.path.exists(self.path("ran")),
                         "the command ran although we could not trace it")
        lines = r.stderr.decode().strip().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("nothing was run", lines[0])

    def test_roar_run_report_dir_missing(self):
        r = _bounded([rt.tool("roar-run"), "-o", "/nonexist/dir/r.msgpack",
                      "--", "sh", "-c", "touch ran"], self.tmp,
                     rt.clean_env(), 60, "roar-run")
        self.assert_not_run(r)
        self.assertIn(b"/nonexist/dir", r.stderr)

    def test_roar_run_report_is_a_directory(self):
        os.mkdir(self.path("d"))
        r = _bounded([rt.tool("roar-run"), "-o", "d", "--", "sh", "-c",
                      "touch ran"], self.tmp, rt.clean_env(), 60, "roar-run")
        self.assert_not_run(r)

    def test_roar_run_json_dir_missing(self):
        r = _bounded([rt.tool("roar-run"), "--json", "/nonexist/j.json",
                      "-o", "r.msgpack", "--", "sh", "-c", "touch ran"],
                     self.tmp, rt.clean_env(), 60, "roar-run")
        self.assert_not_run(r)

    def test_launcher_report_dir_missing(self):
        r = _bounded([rt.tool("roar-tracer-preload"),
                      "/nonexist/dir/r.msgpack", "sh", "-c", "touch ran"],
                     self.tmp, rt.clean_env(), 60, "roar-tracer-preload")
        self.assert_not_run(r)

    def test_library_missing(self):
        if any(os.path.exists(os.path.join(d, "libroar_preload.so"))
               for d in ("/usr/local/bin", "/usr/bin")):
            self.skipTest("a library is installed in the prefix, which the "
                          "launcher falls back to")
        for prog in ("roar-run", "roar-tracer-preload"):
            # A copy alone in a directory: nothing beside it to find.
            lone = self.path("lone")
            os.makedirs(lone, exist_ok=True)
            exe = os.path.join(lone, prog)
            shutil.copy(rt.tool(prog), exe)
            env = rt.clean_env({"ROAR_PRELOAD_LIB": self.path("nope.so")})
            argv = ([exe, "-o", "r.msgpack", "--"] if prog == "roar-run"
                    else [exe, "r.msgpack"])
            r = _bounded(argv + ["sh", "-c", "touch ran"], self.tmp, env, 60,
                         prog)
            self.assert_not_run(r)
            self.assertIn(b"ROAR_PRELOAD_LIB", r.stderr)

    def test_the_commands_status_wins(self):
        for argv in ([rt.tool("roar-run"), "-q", "-o", "r.msgpack", "--"],
                     [rt.tool("roar-tracer-preload"), "r.msgpack"]):
            r = _bounded(argv + ["sh", "-c", "exit 3"], self.tmp,
                         rt.clean_env(), 60, argv[0])
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertTrue(os.path.exists(self.path("r.msgpack")))
            os.unlink(self.path("r.msgpack"))


class WaitNoticeTest(rt.TracerTest):
    CMD = ["sh", "-c", "sleep 3 >/dev/null 2>&1 & echo started"]

    def test_notice_names_who_we_wait_for(self):
        t0 = time.monotonic()
        r = _bounded([rt.tool("roar-run"), "--timeout", "2", "-o",
                      "r.msgpack", "--"] + self.CMD, self.tmp,
                     rt.clean_env(), 60, "roar-run")
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"started\n")
        err = r.stderr.decode()
        m = re.search(r"waiting for 1 process it left running:\n"
                      r"  pid (\d+) sleep\n", err)
        self.assertTrue(m, err)
        self.assertIn("Ctrl-C", err)
        self.assertIn("ROAR_WAIT_TIMEOUT", err)
        self.assertNotIn("1 processes", err)
        rep = rt.load_report(self.path("r.msgpack"))
        procs = {p["pid"]: p for p in rep["processes"]}
        self.assertTrue(procs[int(m.group(1))]["still_running"])
        self.assertLess(took, 10)

    def test_quiet_says_nothing(self):
        r = _bounded([rt.tool("roar-run"), "-q", "--timeout", "1.5", "-o",
                      "r.msgpack", "--"] + self.CMD, self.tmp,
                     rt.clean_env(), 60, "roar-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(b"waiting for", r.stderr)

    def test_no_notice_when_nothing_is_left(self):
        r = _bounded([rt.tool("roar-run"), "-o", "r.msgpack", "--", "sh",
                      "-c", "sleep 1.5"], self.tmp, rt.clean_env(), 60,
                     "roar-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(b"waiting for", r.stderr)

    def test_launcher_notice(self):
        env = rt.clean_env({"ROAR_WAIT_TIMEOUT": "2"})
        r = _bounded([rt.tool("roar-tracer-preload"), "r.msgpack"] +
                     self.CMD, self.tmp, env, 60, "roar-tracer-preload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"roar-tracer-preload: the command has ended; "
                      b"waiting for 1 process", r.stderr)


class PlainPreloadReportTest(rt.TracerTest):
    """LD_PRELOAD=... cmd; the report is there when cmd returns."""

    def test_report_there_when_the_command_returns_20_of_20(self):
        self.write("a.txt", "a\n")
        found = 0
        for i in range(20):
            rep = self.path("r%d.msgpack" % i)
            env = plain_preload_env(rt.LIB, rep)
            r = _bounded(["sh", "-c", "cat a.txt > b.txt"], self.tmp, env,
                         30, "the traced shell")
            self.assertEqual(r.returncode, 0, r.stderr)
            if os.path.exists(rep):
                found += 1
                d = rt.load_report(rep)
                roots = [p for p in d["processes"]
                         if p["parent_pid"] is None]
                self.assertEqual(len(roots), 1)
                self.assertEqual(roots[0]["exit_code"], 0)
                self.assertIn(self.path("b.txt"),
                              [f["path"] for f in d["files"] if f["written"]])
        self.assertEqual(found, 20, "report there right after the command "
                         "returned in %d of 20 runs" % found)

    def test_root_that_execs_still_waits(self):
        # dash execs its last command: the root's last image is cat's.
        self.write("a.txt", "a\n")
        rep = self.path("r.msgpack")
        r = _bounded(["sh", "-c", "exec cat a.txt"], self.tmp,
                     plain_preload_env(rt.LIB, rep), 30, "the traced shell")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(rep))

    def test_children_do_not_wait(self):
        # If a child waited for the report (which waits for the root,
        # which waits for the child), each would cost the whole bound.
        rep = self.path("r.msgpack")
        t0 = time.monotonic()
        r = _bounded(["sh", "-c", "for i in 1 2 3; do sh -c 'exit 0'; done"],
                     self.tmp, plain_preload_env(rt.LIB, rep), 60,
                     "the traced shell")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(len(rt.load_report(rep)["processes"]), 4)

    def test_wait_is_bounded_by_roar_wait_timeout(self):
        rep = self.path("r.msgpack")
        env = plain_preload_env(rt.LIB, rep, {"ROAR_WAIT_TIMEOUT": "0.5"})
        t0 = time.monotonic()
        r = _bounded(["sh", "-c", "sleep 3 >/dev/null 2>&1 & exit 0"],
                     self.tmp, env, 30, "the traced shell")
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertLess(took, 2.5)
        d = rt.load_report(rep)
        sleeps = [p for p in d["processes"] if p["command"][:1] == ["sleep"]]
        self.assertEqual(len(sleeps), 1, d["processes"])
        self.assertTrue(sleeps[0]["still_running"])


class VersionHelpTest(unittest.TestCase):
    def test_version(self):
        v = project_version()
        for prog in ("roar-run", "roar-tracer-preload", "roar-collector"):
            r = subprocess.run([rt.tool(prog), "--version"],
                               capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, prog)
            self.assertEqual(r.stdout.decode(), "%s %s\n" % (prog, v))

    def test_help_names_the_environment_and_signals(self):
        for prog in ("roar-run", "roar-tracer-preload"):
            r = subprocess.run([rt.tool(prog), "--help"],
                               capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, prog)
            for word in (b"ROAR_DEBUG", b"ROAR_WAIT_TIMEOUT", b"ROAR_REPORT",
                         b"ROAR_KEEP_SECRETS", b"Signals", b"Exit status"):
                self.assertIn(word, r.stdout, (prog, word))


MAN_PAGES = ("man1/roar-run.1", "man1/roar-report.1",
             "man1/roar-tracer-preload.1", "man7/libroar_preload.7")


def render_man(path):
    """man -l, its bold and underline (overstrikes) taken out."""
    env = dict(os.environ, MANWIDTH="80")
    r = subprocess.run(["man", "-l", path], capture_output=True,
                       env=env, timeout=60, stdin=subprocess.DEVNULL)
    r.stdout = re.sub(b".\x08", b"", r.stdout)
    return r


class ManTest(unittest.TestCase):
    def test_man_pages_render(self):
        d = os.path.join(rt.BUILD, "docs", "man")
        if not os.path.isdir(d):
            self.skipTest("built without man pages (no scdoc)")
        if not shutil.which("man"):
            self.skipTest("no man(1) here")
        for page in MAN_PAGES:
            p = os.path.join(d, os.path.basename(page))
            r = render_man(p)
            self.assertEqual(r.returncode, 0, (p, r.stderr))
            self.assertEqual(r.stderr, b"", p)
            self.assertIn(b"NAME", r.stdout)
        r = render_man(os.path.join(d, "libroar_preload.7"))
        for var in (b"ROAR_PRELOAD_TRACE_SOCK", b"ROAR_PRELOAD_LIB",
                    b"ROAR_REPORT", b"ROAR_DEBUG", b"ROAR_COLLECTOR",
                    b"ROAR_WAIT_TIMEOUT", b"ROAR_KEEP_SECRETS",
                    b"CANNOT SEE"):
            self.assertIn(var, r.stdout)


class DebTest(unittest.TestCase):
    """The .deb, built once (tools/build-deb.sh), or the one named by
    ROAR_TEST_DEB, unpacked with dpkg -x and traced from there."""

    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="roar-deb-")
        deb = os.environ.get("ROAR_TEST_DEB")
        if not deb:
            if sanitizer_build():
                raise unittest.SkipTest("the package is built and tested "
                                        "by the plain build's suite")
            if not shutil.which("dpkg-buildpackage"):
                raise unittest.SkipTest("dpkg-buildpackage is not "
                                        "installed (Debian package "
                                        "dpkg-dev)")
            r = subprocess.run([os.path.join(rt.SRC, "tools", "build-deb.sh"),
                                os.path.join(cls.top, "out")],
                               capture_output=True, timeout=900,
                               stdin=subprocess.DEVNULL)
            if r.returncode != 0 and b"need root to install" in r.stderr:
                raise unittest.SkipTest("build dependencies missing and "
                                        "not root: %s"
                                        % r.stderr.decode().strip())
            if r.returncode != 0:
                raise AssertionError("tools/build-deb.sh failed: %r"
                                     % r.stderr[-3000:])
            deb = r.stdout.decode().strip().splitlines()[-1]
        cls.deb = deb
        cls.root = os.path.join(cls.top, "x")
        subprocess.run(["dpkg", "-x", deb, cls.root], check=True, timeout=60)
        cls.bin = os.path.join(cls.root, "usr", "bin")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.top, ignore_errors=True)

    def setUp(self):
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix="roar-test-"))
        with open(os.path.join(self.tmp, "a.txt"), "w") as f:
            f.write("a\n")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def env(self):
        """No ROAR_PRELOAD_LIB: the extracted launcher finds its own."""
        env = rt.clean_env()
        env.pop("ROAR_PRELOAD_LIB", None)
        env.pop("ROAR_COLLECTOR", None)
        return env

    def test_package_metadata(self):
        r = subprocess.run(["dpkg-deb", "-f", self.deb, "Package", "Depends"],
                           capture_output=True, check=True, timeout=60)
        self.assertIn(b"Package: roar-preload", r.stdout)
        self.assertIn(b"libmsgpackc", r.stdout)
        for name in ("roar-run", "roar-report", "roar-tracer-preload",
                     "roar-collector", "libroar_preload.so",
                     "libroar_tracer_preload.so"):
            self.assertTrue(os.path.exists(os.path.join(self.bin, name)),
                            name)

    def test_extracted_roar_run_traces(self):
        r = _bounded([os.path.join(self.bin, "roar-run"), "-o", "r.msgpack",
                      "--", "sh", "-c", "cat a.txt > b.txt"], self.tmp,
                     self.env(), 60, "the packaged roar-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        d = rt.load_report(os.path.join(self.tmp, "r.msgpack"))
        files = {f["path"]: f for f in d["files"]}
        self.assertTrue(files[os.path.join(self.tmp, "a.txt")]["read"])
        self.assertTrue(files[os.path.join(self.tmp, "b.txt")]["written"])
        self.assertIn(b"written " + os.path.join(self.tmp, "b.txt").encode(),
                      r.stderr)

    def test_extracted_library_alone(self):
        rep = os.path.join(self.tmp, "r.msgpack")
        env = self.env()
        env["LD_PRELOAD"] = os.path.join(self.bin, "libroar_preload.so")
        env["ROAR_REPORT"] = rep
        r = _bounded(["sh", "-c", "cat a.txt > c.txt"], self.tmp, env, 60,
                     "the traced shell")
        self.assertEqual(r.returncode, 0, r.stderr)
        d = rt.load_report(rep)
        self.assertIn(os.path.join(self.tmp, "c.txt"),
                      [f["path"] for f in d["files"] if f["written"]])

    def test_packaged_man_pages_render(self):
        if not shutil.which("man"):
            self.skipTest("no man(1) here")
        for page in MAN_PAGES:
            p = os.path.join(self.root, "usr", "share", "man", page + ".gz")
            r = render_man(p)
            self.assertEqual(r.returncode, 0, (p, r.stderr))
            self.assertIn(b"NAME", r.stdout)


if __name__ == "__main__":
    rt.main()
