# SPDX-License-Identifier: Apache-2.0
"""The core tracer end to end (issue 3 seeds): real programs under
roar-tracer-preload, roar-run and plain LD_PRELOAD, each asserting the
exact report: paths, processes, exit codes, errno.  (--preflight is
test_preflight.py; the installed and linked artefacts, test_install.py.)"""
import json
import os
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402
from test_supervisor import supervisor_unavailable  # noqa: E402


class Pipelines(rt.TracerTest):
    def test_cat_pipe_wc(self):
        f = self.write("f.txt", "a\nb\nc\n")
        run = rt.run_traced(["bash", "-c", "cat f.txt | wc -l"], self.tmp)
        self.assertEqual(run.returncode, 0)
        self.assertEqual(run.proc.stdout.strip(), b"3")
        self.assertEqual(run.read_set(), {f})
        self.assertEqual(run.written_set(), set())
        root = self.assertOneRoot(run)
        self.assertEqual(root["command"], ["bash", "-c", "cat f.txt | wc -l"])
        names = sorted(os.path.basename(c[0]) for c in run.commands())
        self.assertEqual(names, ["bash", "cat", "wc"])
        cat = run.procs_running("cat")[0]
        self.assertEqual(cat["parent_pid"], root["pid"])
        self.assertEqual(cat["read_paths"], [f])

    def test_echo_redirect(self):
        run = rt.run_traced(["bash", "-c", "echo hi > x"], self.tmp)
        self.assertEqual(run.written_set(), {self.path("x")})
        self.assertEqual(run.read_set(), set())
        with open(self.path("x")) as fh:
            self.assertEqual(fh.read(), "hi\n")

    def test_cat_tr_redirect(self):
        a = self.write("a", "banana\n")
        run = rt.run_traced(["bash", "-c", "cat a | tr a b > c"], self.tmp)
        self.assertEqual(run.read_set(), {a})
        self.assertEqual(run.written_set(), {self.path("c")})
        with open(self.path("c")) as fh:
            self.assertEqual(fh.read(), "bbnbnb\n")

    def test_three_stage_pipeline(self):
        a = self.write("words", "b\na\nb\nc\na\n")
        run = rt.run_traced(
            ["bash", "-c", "cat words | sort | uniq -c > counts"], self.tmp)
        self.assertEqual(run.read_set(), {a})
        self.assertEqual(run.written_set(), {self.path("counts")})
        names = sorted(os.path.basename(c[0]) for c in run.commands())
        self.assertEqual(names, ["bash", "cat", "sort", "uniq"])
        for p in run.processes():
            self.assertTrue(p["traced"], p)

    def test_cp_copy_file_range(self):
        a = self.write("a", "x" * 100000)
        run = rt.run_traced(["cp", "a", "b"], self.tmp)
        self.assertEqual(run.read_set(), {a})
        self.assertEqual(run.written_set(), {self.path("b")})

    def test_splice_copy(self):
        exe = rt.compile_c("splice_copy.c", self.path("splice_copy"))
        src = self.write("in.bin", b"\x00\x01" * 50000)
        run = rt.run_traced([exe, "in.bin", "out.bin"], self.tmp)
        self.assertEqual(run.returncode, 0)
        # Opened read-write, so only splice itself can earn these credits.
        self.assertEqual(run.read_set(), {src, exe} - {exe})
        self.assertEqual(run.written_set(), {self.path("out.bin")})
        self.assertEqual(os.path.getsize(self.path("out.bin")), 100000)

    def test_python_sendfile(self):
        src = self.write("src", "payload" * 1000)
        code = ("import os\n"
                "i = os.open('src', os.O_RDWR)\n"
                "o = os.open('dst', os.O_RDWR | os.O_CREAT, 0o644)\n"
                "n = os.sendfile(o, i, 0, 7000)\n"
                "assert n == 7000, n\n")
        run = rt.run_traced(["/usr/bin/python3", "-S", "-c", code], self.tmp)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertIn(src, run.read_set())
        self.assertIn(self.path("dst"), run.written_set())
        self.assertNotIn(self.path("dst"), run.read_set())

    def test_read_write_open_is_neither(self):
        # roar's rule: opened read-write and never read or written.
        self.write("rw", "data")
        code = ("import os\n"
                "fd = os.open('rw', os.O_RDWR)\n"
                "os.close(fd)\n")
        run = rt.run_traced(["/usr/bin/python3", "-S", "-c", code], self.tmp)
        self.assertNotIn(self.path("rw"), run.files())


class Processes(rt.TracerTest):
    def test_fork_child_writes_first(self):
        exe = rt.compile_c("fork_child_writes.c", self.path("forker"))
        run = rt.run_traced([exe, "child.txt", "parent.txt"], self.tmp)
        self.assertEqual(run.returncode, 0)
        self.assertEqual(run.written_set(),
                         {self.path("child.txt"), self.path("parent.txt")})
        root = self.assertOneRoot(run)
        kids = [p for p in run.processes() if p["pid"] != root["pid"]]
        self.assertEqual(len(kids), 1)
        kid = kids[0]
        self.assertEqual(kid["parent_pid"], root["pid"])
        self.assertEqual(kid["written_paths"], [self.path("child.txt")])
        self.assertEqual(kid["exit_code"], 0)
        self.assertEqual(kid["command"], [exe, "child.txt", "parent.txt"])
        with open(self.path("parent.txt")) as fh:
            self.assertEqual(fh.read(), "parent %d\n" % kid["pid"])

    def test_exit_codes(self):
        for cmd, code, sig in ((["true"], 0, None), (["sh", "-c", "exit 3"], 3, None),
                               (["sh", "-c", "kill -TERM $$"], 128 + 15, 15)):
            run = rt.run_traced(cmd, self.tmp)
            self.assertEqual(run.returncode, code, cmd)
            root = self.assertOneRoot(run)
            if sig:
                self.assertEqual(root["exit_signal"], sig)
                self.assertIsNone(root["exit_code"])
            else:
                self.assertEqual(root["exit_code"], code)
                self.assertIsNone(root["exit_signal"])

    def test_env_and_argv_recorded(self):
        run = rt.run_traced(["sh", "-c", "true"], self.tmp,
                            env={"ROAR_TEST_MARK": "value with spaces"})
        root = self.assertOneRoot(run)
        self.assertEqual(root["env"].get("ROAR_TEST_MARK"), "value with spaces")
        self.assertEqual(root["command"], ["sh", "-c", "true"])
        self.assertEqual(root["cwd"], self.tmp)

    def test_grandchild_outlives_root(self):
        run = rt.run_traced(
            ["sh", "-c", "(sleep 1; echo late > late.txt) & exit 0"], self.tmp)
        self.assertEqual(run.returncode, 0)
        self.assertIn(self.path("late.txt"), run.written_set())
        self.assertTrue(os.path.exists(self.path("late.txt")))
        self.assertOneRoot(run)

    def test_wait_timeout_marks_still_running(self):
        env = {"ROAR_WAIT_TIMEOUT": "0.5"}
        t0 = time.time()
        # The sleeper must not hold our stdout pipe, or we would wait for it.
        run = rt.run_traced(["sh", "-c", "sleep 30 >/dev/null 2>&1 & exit 0"],
                            self.tmp, env=env)
        self.assertLess(time.time() - t0, 20)
        sleeps = run.procs_running("sleep")
        self.assertEqual(len(sleeps), 1)
        self.assertTrue(sleeps[0]["still_running"])
        os.kill(sleeps[0]["pid"], signal.SIGKILL)

    def test_sigterm_after_root_ends_stops_waiting(self):
        report = self.path("r.msgpack")
        launcher = subprocess.Popen(
            [rt.tool("roar-tracer-preload"), report, "sh", "-c",
             "sleep 30 >/dev/null 2>&1 & exit 0"], cwd=self.tmp,
            env=rt.clean_env(), stderr=subprocess.PIPE)
        time.sleep(1.0)
        launcher.send_signal(signal.SIGTERM)
        _, err = launcher.communicate(timeout=20)
        self.assertEqual(launcher.returncode, 0)
        self.assertIn(b"stopped waiting", err)
        rep = rt.load_report(report)
        sleeps = [p for p in rep["processes"] if p["command"][:1] == ["sleep"]]
        self.assertEqual(len(sleeps), 1)
        self.assertTrue(sleeps[0]["still_running"])
        os.kill(sleeps[0]["pid"], signal.SIGKILL)

    def test_threads(self):
        exe = rt.compile_c("threads_write.c", self.path("threads"))
        run = rt.run_traced([exe, self.tmp], self.tmp)
        want = {self.path("thread_%d.txt" % i) for i in range(8)}
        self.assertEqual(run.written_set(), want)
        tids = set()
        for f in run.report["files"]:
            tids.update(f["written_threads"])
        self.assertEqual(len(tids), 8, "one writer thread per file")


class Honesty(rt.TracerTest):
    def test_errno_preserved(self):
        exe = rt.compile_c("errno_check.c", self.path("errno_check"))
        secret = self.write("secret", "x")
        os.chmod(secret, 0o600)
        os.chmod(self.tmp, 0o755)
        plain = subprocess.run([exe, secret], cwd=self.tmp, capture_output=True,
                               env=rt.clean_env())
        run = rt.run_traced([exe, secret], self.tmp)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertEqual(run.returncode, 0)
        self.assertEqual(run.proc.stdout, plain.stdout)
        out = plain.stdout.decode()
        self.assertIn("open missing = -1 errno=2 ", out)
        self.assertIn("errno after successful read+close = 4242", out)
        self.assertIn("errno after successful open = 4343", out)
        if os.geteuid() == 0:
            self.assertIn("open root-only as nobody = -1 errno=13 ", out)

    def test_missing_command_still_reports(self):
        run = rt.run_traced(["/nonexistent/cmd", "arg"], self.tmp)
        self.assertEqual(run.returncode, 127)
        root = self.assertOneRoot(run)
        self.assertFalse(root["traced"])
        self.assertIn("No such file", root["untraced_reason"])
        self.assertEqual(root["command"], ["/nonexistent/cmd", "arg"])

    def test_usage_errors(self):
        r = subprocess.run([rt.tool("roar-tracer-preload")], capture_output=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"usage", r.stderr)
        r = subprocess.run([rt.tool("roar-tracer-preload"), "only-report"],
                           capture_output=True)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([rt.tool("roar-run"), "--tracer", "ptrace", "--",
                            "true"], capture_output=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"unknown tracer 'ptrace'", r.stderr)
        r = subprocess.run([rt.tool("roar-report"), "show", "/nonexistent.msgpack"],
                           capture_output=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"cannot open", r.stderr)

    def test_static_binary_traced_by_supervisor(self):
        """A static program, which LD_PRELOAD cannot reach, and its fork
        child are traced by the seccomp supervisor, files and all.  (What
        must stay untraced, a set-ID program, is listed untraced with its
        reason: test_supervisor.py SetId.)"""
        src = os.path.join(rt.FIXTURES, "fork_child_writes.c")
        exe = self.path("static_prog")
        try:
            rt.compile_c(src, exe, ["-static"])
        except subprocess.CalledProcessError:
            self.skipTest("no static libc (libc6-dev's libc.a) to link with")
        run = rt.run_traced(["sh", "-c", exe + " a.txt b.txt; true"], self.tmp)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        root = self.assertOneRoot(run)
        self.assertEqual(root["traced_by"], "preload")
        prog = [p for p in run.processes() if p["command"] and
                p["command"][0] == exe]
        # The program and its fork child (same argv: it did not exec).
        self.assertEqual(len(prog), 2, run.processes())
        parent = [p for p in prog if p["parent_pid"] == root["pid"]]
        self.assertEqual(len(parent), 1, prog)
        parent = parent[0]
        kid = [p for p in prog if p is not parent][0]
        self.assertEqual(kid["parent_pid"], parent["pid"])
        for p in (parent, kid):
            self.assertEqual(p["command"], [exe, "a.txt", "b.txt"])
            self.assertTrue(p["traced"], p)
            self.assertEqual(p["traced_by"], "supervisor", p)
            self.assertIsNone(p["untraced_reason"])
            self.assertEqual(p["exit_code"], 0)
        self.assertEqual(kid["written_paths"], [self.path("a.txt")])
        self.assertEqual(parent["written_paths"], [self.path("b.txt")])
        self.assertEqual(run.written_set(),
                         {self.path("a.txt"), self.path("b.txt")})
        with open(self.path("b.txt")) as fh:
            self.assertEqual(fh.read(), "parent %d\n" % kid["pid"])


class Modes(rt.TracerTest):
    def test_plain_ld_preload(self):
        a = self.write("a", "one\ntwo\n")
        plain = subprocess.run(["sh", "-c", "sort -r a > b; cat b"],
                               cwd=self.tmp, capture_output=True,
                               env=rt.clean_env())
        run = rt.run_traced(["sh", "-c", "sort -r a > b; cat b"], self.tmp,
                            via="plain")
        self.assertEqual(run.proc.stdout, plain.stdout)
        self.assertEqual(run.proc.stderr, b"")
        self.assertEqual(run.read_set(), {a, self.path("b")})
        self.assertEqual(run.written_set(), {self.path("b")})
        self.assertOneRoot(run)

    def test_plain_default_report_location(self):
        env = rt.clean_env()
        env["LD_PRELOAD"] = rt.LIB
        r = subprocess.run(["sh", "-c", "echo x > y"], cwd=self.tmp, env=env)
        self.assertEqual(r.returncode, 0)
        report = self.path("roar-report.msgpack")
        self.assertTrue(rt.wait_for_file(report, 30))
        rep = rt.load_report(report)
        self.assertEqual([f["path"] for f in rep["files"]], [self.path("y")])

    def test_roar_run_summary_and_json(self):
        self.write("in", "z\n")
        r = subprocess.run([rt.tool("roar-run"), "-o", "rep.msgpack", "--json", "-",
                            "--", "cp", "in", "out"], cwd=self.tmp,
                           capture_output=True, env=rt.clean_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        d = json.loads(r.stdout)
        self.assertEqual([f["path"] for f in d["files"]],
                         [self.path("in"), self.path("out")])
        self.assertIn(b"read    " + self.path("in").encode(), r.stderr)
        self.assertIn(b"written " + self.path("out").encode(), r.stderr)

    def test_late_binding_listener(self):
        """roar's Ray worker listener binds after the program started."""
        sock = self.path("late.sock")
        listener = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(rt.FIXTURES, "late_listener.py"),
             sock, "1.0", "4.0"], stdout=subprocess.PIPE)
        env = rt.clean_env({"LD_PRELOAD": rt.LIB, "ROAR_PRELOAD_TRACE_SOCK": sock})
        self.write("early.txt", "e")
        # The shell itself lives on past the bind: its early events wait in
        # its queue.  (A process that ends before the listener exists
        # cannot deliver; roar's own library loses those too.)
        script = ("read x < early.txt; echo a > before.txt; sleep 2; "
                  "echo b > after.txt; cat after.txt > /dev/null")
        r = subprocess.run(["sh", "-c", script], cwd=self.tmp, env=env,
                           capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        out, _ = listener.communicate(timeout=30)
        events = [json.loads(l) for l in out.decode().splitlines()]
        got = {(e["kind"], e["path"]) for e in events}
        self.assertIn(("write", self.path("after.txt")), got)
        self.assertIn(("read", self.path("after.txt")), got)
        # Sent before the listener existed: queued, then delivered.
        self.assertIn(("write", self.path("before.txt")), got)
        self.assertIn(("read", self.path("early.txt")), got)
        for e in events:
            self.assertIsInstance(e["pid"], int)
            self.assertIsInstance(e["thread_id"], int)


class Collector(rt.TracerTest):
    def test_bad_frames_are_counted_and_isolated(self):
        """A broken frame drops its own connection only."""
        # The launcher's variables are taken out of the command's own
        # environment; /proc still shows what the kernel was given.
        code = r"""
import os, socket, struct
env = dict(e.split(b"=", 1) for e in
           open("/proc/self/environ", "rb").read().split(b"\0") if b"=" in e)
sock = env[b"ROAR_PRELOAD_TRACE_SOCK"].decode()
assert "ROAR_PRELOAD_TRACE_SOCK" not in os.environ
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
s.sendall(struct.pack("<I", 3) + b"\xc1\xc1\xc1")   # not msgpack
s.close()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
s.sendall(struct.pack("<I", 0xffffffff))             # absurd length
s.close()
with open("after.txt", "w") as f:
    f.write("still traced")
"""
        run = rt.run_traced(["/usr/bin/python3", "-S", "-c", code], self.tmp)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertIn(self.path("after.txt"), run.written_set())
        self.assertEqual(run.report["roar_preload"]["bad_frames"], 2)
        self.assertGreaterEqual(run.report["events_dropped"], 2)
        self.assertIn(b"bad frame", run.proc.stderr)

    def test_report_is_roar_shaped(self):
        self.write("in", "x")
        run = rt.run_traced(["cp", "in", "out"], self.tmp)
        r = run.report
        self.assertEqual(r["version"], 1)
        self.assertEqual(r["tracer_mode"], "preload")
        self.assertIsInstance(r["start_time"], float)
        self.assertLessEqual(r["start_time"], r["end_time"])
        self.assertEqual(r["opened_files"], [self.path("in"), self.path("out")])
        self.assertEqual(r["read_files"], [self.path("in")])
        self.assertEqual(r["written_files"], [self.path("out")])
        pids = [p["pid"] for p in r["processes"]]
        self.assertEqual(pids, sorted(pids))
        spots = r["roar_preload"]["blind_spots"]
        self.assertTrue(any("locale" in s for s in spots), spots)
        for p in r["processes"]:
            self.assertIsInstance(p["command"], list)
            self.assertIsInstance(p["env"], dict)
        # No leftovers beside the report (atomic write via rename).
        self.assertEqual(sorted(os.listdir(self.tmp)),
                         ["in", "out", "report.msgpack"])

    def test_odd_names(self):
        names = [b"with space", b"new\nline", b"bad\xff.txt",
                 b"quote'\"s", "caf\u00e9".encode()]
        for n in names:
            with open(os.path.join(os.fsencode(self.tmp), n), "wb") as f:
                f.write(b"x")
        code = ("import os\n"
                "for n in os.listdir(b'.'):\n"
                "    open(n, 'rb').read()\n"
                "    open(n + b'.out', 'wb').write(b'y')\n")
        run = rt.run_traced(["/usr/bin/python3", "-S", "-c", code], self.tmp)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        want = {os.path.join(os.fsencode(self.tmp), n) for n in names}
        mine = os.fsencode(self.tmp) + b"/"
        got_read = {os.fsencode(p) for p in run.read_set()
                    if os.fsencode(p).startswith(mine)}
        got_written = {os.fsencode(p) for p in run.written_set()}
        self.assertEqual(got_read, want)
        self.assertEqual(got_written, {w + b".out" for w in want})
        # Invalid UTF-8 arrives as bytes (msgpack bin), exactly.
        self.assertIn(os.path.join(os.fsencode(self.tmp), b"bad\xff.txt"),
                      {p for p in run.read_set() if isinstance(p, bytes)})
        js = subprocess.run([rt.tool("roar-report"), "json", run.report_path],
                            capture_output=True, check=True).stdout
        decoded = json.loads(js)
        self.assertIn(os.path.join(os.fsencode(self.tmp), b"bad\xff.txt"),
                      {os.fsencode(f["path"]) for f in decoded["files"]})


class ReportSafety(rt.TracerTest):
    """The report holds every process's environment: who can read it, and
    what a planted link can do to it (issue 9's report points)."""

    def test_report_is_owner_only(self):
        run = rt.run_traced(["true"], self.tmp)
        mode = os.stat(run.report_path).st_mode & 0o777
        self.assertEqual(mode & 0o077, 0, oct(mode))

    def test_planted_temporary_link_is_not_followed(self):
        victim = self.write("victim.txt", "precious\n")
        report = self.path("r.msgpack")
        e = rt.clean_env()
        p = subprocess.Popen(rt.traced_wrapper() +
                             [rt.tool("roar-tracer-preload"), report,
                              "sleep", "0.5"], cwd=self.tmp, env=e,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # The names the launcher would try first (and the one it used
        # to open with O_TRUNC), all links to the victim.
        names = ["%s.tmp.%d" % (report, p.pid)]
        names += ["%s.tmp.%d.%d" % (report, p.pid, n) for n in range(3)]
        for name in names:
            os.symlink(victim, name)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")
        self.assertFalse(os.path.islink(report))
        r = rt.load_report(report)
        self.assertEqual([q["command"] for q in r["processes"]],
                         [["sleep", "0.5"]])

    def test_report_flushed_to_disk_only_when_asked(self):
        shim = rt.compile_c("fsynclog.c", self.path("fsynclog.so"),
                            ["-shared", "-fPIC", "-ldl"])
        log = self.path("fsync.log")
        report = self.path("r.msgpack")
        for want in ("", "1"):
            if os.path.exists(log):
                os.unlink(log)
            e = rt.clean_env({"FSYNC_LOG": log, "LD_PRELOAD": shim})
            # In the sanitizer build the launcher is ASan's: a preloaded
            # library ahead of its runtime is no fault of the launcher.
            e["ASAN_OPTIONS"] = (e.get("ASAN_OPTIONS", "") +
                                 ":verify_asan_link_order=0").lstrip(":")
            if want:
                e["ROAR_REPORT_FSYNC"] = want
            p = subprocess.run(rt.traced_wrapper() +
                               [rt.tool("roar-tracer-preload"), report,
                                "cat", self.write("in.txt")],
                               cwd=self.tmp, env=e, capture_output=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            synced = []
            if os.path.exists(log):
                with open(log) as f:
                    synced = [n for n in f.read().splitlines()
                              if n.startswith(report + ".tmp.")]
            # Whole either way: written beside its name, then renamed.
            r = rt.load_report(report)
            self.assertIn(self.path("in.txt"),
                          {f["path"] for f in r["files"] if f["read"]})
            self.assertEqual([n for n in os.listdir(self.tmp)
                              if ".tmp." in n], [])
            if want:
                self.assertEqual(len(synced), 1, synced)
            else:
                self.assertEqual(synced, [])

    def test_secret_values_are_redacted_unless_kept(self):
        e = {"MY_API_TOKEN": "t0ps3cret", "AWS_SECRET_ACCESS_KEY": "k3y",
             "DB_PASSWORD": "pw", "PLAIN_VALUE": "visible"}
        # Any case, anywhere in the name, each word; near misses kept.
        hidden = {"github_token": "h1", "x_Credential": "h2", "AUTH": "h3",
                  "apikey": "h4", "passwd_FILE": "h5", "mySecretThing": "h6"}
        shown = {"TOKE": "s1", "SECRE": "s2", "PASSWOR": "s3", "KE": "s4",
                 "AUT": "s5", "CREDENTIA": "s6"}
        run = rt.run_traced(["true"], self.tmp,
                            env=dict(e, **hidden, **shown))
        env = self.assertOneRoot(run)["env"]
        self.assertEqual(env["PLAIN_VALUE"], "visible")
        for k in ("MY_API_TOKEN", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD",
                  *hidden):
            self.assertEqual(env[k], "<redacted by roar-preload>", k)
        for k, v in shown.items():
            self.assertEqual(env[k], v, k)
        with open(run.report_path, "rb") as f:
            blob = f.read()
        for v in (b"t0ps3cret", b"k3y"):
            self.assertNotIn(v, blob)
        kept = rt.run_traced(["true"], self.tmp,
                             env=dict(e, ROAR_KEEP_SECRETS="1"))
        self.assertEqual(self.assertOneRoot(kept)["env"]["MY_API_TOKEN"],
                         "t0ps3cret")
        flag = rt.run_traced(["true"], self.tmp, env=e, via="roar-run")
        self.assertEqual(self.assertOneRoot(flag)["env"]["DB_PASSWORD"],
                         "<redacted by roar-preload>")
        report = self.path("kept.msgpack")
        proc = subprocess.run(rt.traced_wrapper() +
                              [rt.tool("roar-run"), "-q", "--keep-secrets",
                               "-o", report, "--", "true"], cwd=self.tmp,
                              env=rt.clean_env(e), capture_output=True,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        root = [q for q in rt.load_report(report)["processes"]
                if q["parent_pid"] is None][0]
        self.assertEqual(root["env"]["DB_PASSWORD"], "pw")


if __name__ == "__main__":
    rt.main()
