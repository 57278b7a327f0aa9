# SPDX-License-Identifier: Apache-2.0
"""The seccomp supervisor end to end: programs LD_PRELOAD cannot see (a
static busybox, a gcc -static program, Go programs with and without cgo,
git-lfs) run under the tracer, each report asserted exactly (paths per
process, the process tree with argv, exit codes, traced_by) and, where a
workload allows, against `strace -f` of the very same execution (the
stracediff package).  What must stay untraced (a set-ID program) stays
listed untraced with its reason, and what the supervisor cannot see
(io_uring) is marked unseen.

Under ROAR_TEST_NOPTRACE=1 (the *_noptrace variant in meson.build) every
traced run goes through fixtures/lifecycle/noptrace.c: ptrace forbidden,
CAP_SYS_PTRACE dropped, no_new_privs set.  strace, the test's ground
truth and not part of the tracer, then wraps that wrapper.
"""
import ctypes
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roartest as rt  # noqa: E402
import stracediff  # noqa: E402
from stracediff.run import _descendants  # noqa: E402

SUP_FIXTURES = os.path.join(rt.FIXTURES, "supervisor")
KEEP = os.environ.get("ROAR_DIFF_KEEP", "/tmp/roar-strace-diff")


# ---------------------------------------------------------------- probes

_SECCOMP_GET_ACTION_AVAIL = 2
_SECCOMP_RET_USER_NOTIF = 0x7fc00000
_SYS_SECCOMP = {"x86_64": 317}


def supervisor_unavailable():
    """None when the supervisor can exist here, else why not: its filter
    is x86_64's (include/roar/supervise.h), and the kernel must offer
    seccomp user notification (seccomp(SECCOMP_GET_ACTION_AVAIL) of
    SECCOMP_RET_USER_NOTIF, which changes nothing)."""
    machine = platform.machine()
    if machine not in _SYS_SECCOMP:
        return ("the supervisor's seccomp filter is written for x86_64; "
                "this machine is %s" % machine)
    libc = ctypes.CDLL(None, use_errno=True)
    action = ctypes.c_uint32(_SECCOMP_RET_USER_NOTIF)
    r = libc.syscall(ctypes.c_long(_SYS_SECCOMP[machine]),
                     ctypes.c_long(_SECCOMP_GET_ACTION_AVAIL),
                     ctypes.c_long(0), ctypes.byref(action))
    if r != 0:
        return ("this kernel offers no seccomp user notification "
                "(SECCOMP_GET_ACTION_AVAIL of SECCOMP_RET_USER_NOTIF: %s)"
                % os.strerror(ctypes.get_errno()))
    return None


def build_static(name, out):
    """A fixtures/supervisor/NAME.c program linked -static."""
    try:
        return rt.compile_c(os.path.join(SUP_FIXTURES, name + ".c"), out,
                            ["-static"])
    except subprocess.CalledProcessError:
        raise unittest.SkipTest("no static libc (libc6-dev's libc.a) to "
                                "link with")


def has_interp(path):
    """Whether an ELF file has a PT_INTERP (is dynamically linked)."""
    out = subprocess.run(["readelf", "-lW", path], capture_output=True,
                         text=True, check=True).stdout
    return any(l.split()[:1] == ["INTERP"] for l in out.splitlines())


# ---------------------------------------------------------------- base

class SupTest(rt.TracerTest):
    """A TracerTest that needs the supervisor, with a work directory
    inside the scratch one (strace's log and the reports stay beside it,
    out of the workload's way) and strace comparisons."""

    def setUp(self):
        why = supervisor_unavailable()
        if why:
            self.skipTest(why)
        super().setUp()
        self.work = self.path("work")
        os.mkdir(self.work)
        self.nrun = 0

    def wpath(self, *parts):
        return os.path.join(self.work, *parts)

    def wwrite(self, name, data="data\n"):
        p = self.wpath(name)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    def proc(self, run, command):
        """The one process of the report whose command is command."""
        got = [p for p in run.processes() if p["command"] == command]
        self.assertEqual(len(got), 1, "one process %r in %r" % (
            command, [p["command"] for p in run.processes()]))
        return got[0]

    def assertTracedBy(self, p, tracer):
        what = {k: v for k, v in p.items() if k != "env"}
        self.assertEqual(p["traced_by"], tracer, what)
        self.assertTrue(p["traced"], what)
        self.assertIsNone(p["untraced_reason"], what)

    def assertSupervised(self, p):
        self.assertTracedBy(p, "supervisor")

    def assertPreloaded(self, p):
        self.assertTracedBy(p, "preload")

    # ---- strace -f of the same execution

    def strace_run(self, argv, env=None, timeout=300):
        """argv under the launcher (behind the noptrace wrapper when the
        suite runs so) under strace -f; returns a stracediff.DiffRun.
        stracediff.run_both cannot put the wrapper between strace and the
        launcher, so this is its loop with traced_wrapper() inserted."""
        strace = rt.ensure_tool("strace", "strace")
        self.nrun += 1
        log = self.path("strace-%d.log" % self.nrun)
        report = self.path("report-%d.msgpack" % self.nrun)
        before = stracediff.snapshot(self.tmp) | stracediff.tmp_entries()
        e = rt.clean_env(env)
        e["ASAN_OPTIONS"] = (e.get("ASAN_OPTIONS", "")
                             + ":detect_leaks=0").lstrip(":")
        cmd = ([strace] + stracediff.STRACE_FLAGS + ["-o", log]
               + rt.traced_wrapper()
               + [rt.tool("roar-tracer-preload"), report] + list(argv))
        t0 = time.time()
        p = subprocess.Popen(cmd, cwd=self.work, env=e,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for pid in [p.pid] + _descendants(p.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            out, err = p.communicate()
            self.fail("strace + launcher did not finish within %d s: %r; "
                      "stderr %r" % (timeout, argv, err[-2000:]))
        proc = subprocess.CompletedProcess(cmd, p.returncode, out, err)
        if not os.path.exists(report):
            self.fail("no report written by %r: stderr %r" % (cmd, err))
        run = rt.Run(proc, rt.load_report(report), report)
        root = self.assertOneRoot(run)
        truth = stracediff.derive(log, root["pid"], self.work, before,
                                  [self.tmp])
        return stracediff.DiffRun(run, truth, log, time.time() - t0)

    def assertAgrees(self, d, label):
        """Report and strace agree: read and written sets, per-process
        read_paths/written_paths, the pids of the tree and the argv of
        every exec."""
        out, text = stracediff.compare(d)
        bad = {k: v for k, v in out.items() if v}
        if bad:
            dest = os.path.join(KEEP, "%s.%s.%d" % (
                type(self).__name__, self._testMethodName, self.nrun))
            shutil.rmtree(dest, ignore_errors=True)
            os.makedirs(dest, exist_ok=True)
            shutil.copy(d.log, os.path.join(dest, "strace.log"))
            shutil.copy(d.run.report_path, os.path.join(dest,
                                                        "report.msgpack"))
            self.fail("report and strace disagree on %r (log and report "
                      "kept in %s)\n%s\n  exec'd per strace: %s\n  report "
                      "commands:   %s" % (
                          label, dest, text,
                          stracediff.exec_names(d.truth),
                          stracediff.report_names(d.run)))

    def assertCovers(self, d, read=(), written=()):
        """The ground truth itself saw what the workload obviously did
        (a deriver that finds nothing would make every diff pass)."""
        for p in read:
            self.assertIn(os.fsencode(p), d.truth.filtered("read"))
        for p in written:
            self.assertIn(os.fsencode(p), d.truth.filtered("written"))


# ---------------------------------------------------------------- busybox

BUSYBOX_SCRIPT = "busybox cat in > out; busybox cp out copy"


class BusyboxStatic(SupTest):
    """Debian's busybox-static: a static shell running static applets.
    busybox sh opens the redirection itself before it forks the cat, and
    execs its last command (busybox cp) in place of itself."""

    def setUp(self):
        super().setUp()
        self.busybox = rt.ensure_tool("busybox", "busybox-static")
        if has_interp(self.busybox):
            self.skipTest("%s is the dynamic busybox; the static one is "
                          "package busybox-static" % self.busybox)
        self.src = self.wwrite("in", "hello\n")

    def assertPipelineReport(self, run):
        """The report of busybox sh -c BUSYBOX_SCRIPT, whoever started
        it: the shell (its last command busybox cp) and the cat."""
        w = self.wpath
        sh = self.proc(run, ["busybox", "cp", "out", "copy"])
        cat = self.proc(run, ["busybox", "cat", "in"])
        self.assertSupervised(sh)
        self.assertSupervised(cat)
        self.assertEqual(cat["parent_pid"], sh["pid"])
        self.assertEqual(cat["read_paths"], [w("in")])
        self.assertEqual(cat["written_paths"], [w("out")])
        self.assertEqual(sh["read_paths"], [w("out")])
        self.assertEqual(sorted(sh["written_paths"]), [w("copy"), w("out")])
        self.assertEqual(cat["exit_code"], 0)
        self.assertEqual(sh["exit_code"], 0)
        self.assertEqual(run.read_set() & {w("in"), w("out"), w("copy")},
                         {w("in"), w("out")})
        with open(w("copy")) as f:
            self.assertEqual(f.read(), "hello\n")

    def test_pipeline_matches_strace(self):
        argv = ["busybox", "sh", "-c", BUSYBOX_SCRIPT]
        d = self.strace_run(argv)
        self.assertEqual(d.run.returncode, 0, d.run.proc.stderr)
        self.assertCovers(d, read=[self.wpath("in"), self.wpath("out")],
                          written=[self.wpath("out"), self.wpath("copy")])
        self.assertAgrees(d, " ".join(argv))
        # The root exec'd busybox cp in place of the shell.
        self.assertEqual(len(d.run.processes()), 2)
        self.assertPipelineReport(d.run)

    def test_pipeline_under_dynamic_shell_plain_ld_preload(self):
        """Armed by the library's exec hook (bash is traced by preload),
        not by the launcher; and with nothing but LD_PRELOAD set."""
        run = rt.run_traced(["bash", "-c", "busybox sh -c '%s'; true"
                             % BUSYBOX_SCRIPT], self.work, via="plain")
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        bash = self.assertOneRoot(run)
        self.assertPreloaded(bash)
        self.assertEqual(bash["read_paths"], [])
        self.assertEqual(bash["written_paths"], [])
        sh = self.proc(run, ["busybox", "cp", "out", "copy"])
        self.assertEqual(sh["parent_pid"], bash["pid"])
        self.assertPipelineReport(run)
        self.assertEqual(len(run.processes()), 3)

    def test_pipeline_without_capabilities(self):
        """No privilege is needed: CAP_SYS_PTRACE and CAP_SYS_ADMIN
        dropped by capsh (from the bounding set too) for the launcher,
        its collector and the workload."""
        capsh = rt.ensure_tool("capsh", "libcap2-bin")
        drop = [capsh, "--drop=cap_sys_ptrace,cap_sys_admin", "--", "-c",
                'exec "$0" "$@"']
        check = subprocess.run(rt.traced_wrapper() + drop +
                               ["grep", "^Cap", "/proc/self/status"],
                               capture_output=True, text=True, check=True)
        caps = dict(l.split(":\t") for l in check.stdout.splitlines())
        for name in ("CapEff", "CapPrm", "CapBnd"):
            mask = int(caps[name], 16)
            self.assertEqual(mask & (1 << 19), 0, "cap_sys_ptrace in %s"
                             % name)
            self.assertEqual(mask & (1 << 21), 0, "cap_sys_admin in %s"
                             % name)
        report = self.path("capsh.msgpack")
        proc = rt.bounded(rt.traced_wrapper() + drop +
                          [rt.tool("roar-run"), "-q", "-o", report, "--",
                           "busybox", "sh", "-c", BUSYBOX_SCRIPT],
                          self.work, rt.clean_env(), 120, "capsh roar-run")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        run = rt.Run(proc, rt.load_report(report), report)
        self.assertOneRoot(run)
        self.assertPipelineReport(run)


# ---------------------------------------------------------------- gcc -static

class StaticC(SupTest):
    def setUp(self):
        super().setUp()
        self.exe = build_static("static_ops", self.path("static_ops"))
        self.src = self.wwrite("in", "static payload\n")

    def test_static_parent_dynamic_child_matches_strace(self):
        """The static parent is the supervisor's; its fork child execs a
        dynamic cp, which the library traces: reported once, with its
        own files only (none of the loader's or glibc's that the filter,
        inherited across the exec, also sees)."""
        w = self.wpath
        argv = [self.exe, "in", "tmp", "out", "copy"]
        d = self.strace_run(argv)
        run = d.run
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertCovers(d, read=[w("in"), w("out")],
                          written=[w("tmp"), w("out"), w("copy")])
        self.assertAgrees(d, "static_ops")
        root = self.assertOneRoot(run)
        self.assertSupervised(root)
        self.assertEqual(root["command"], argv)
        self.assertEqual(root["read_paths"], [w("in")])
        self.assertEqual(sorted(root["written_paths"]), [w("out"), w("tmp")])
        self.assertEqual(root["exit_code"], 0)
        self.assertEqual(len(run.processes()), 2, run.commands())
        cp = self.proc(run, ["cp", "out", "copy"])
        self.assertPreloaded(cp)
        self.assertEqual(cp["parent_pid"], root["pid"])
        self.assertEqual(cp["read_paths"], [w("out")])
        self.assertEqual(cp["written_paths"], [w("copy")])
        self.assertEqual(cp["exit_code"], 0)
        self.assertEqual(run.proc.stdout,
                         b"child=%d status=0\n" % cp["pid"])
        # Not a shared library, locale file or anything else of the
        # loader's or glibc's: only the workload's four files.
        self.assertEqual({f["path"] for f in run.report["files"]},
                         {w("in"), w("tmp"), w("out"), w("copy")})
        with open(w("copy")) as f:
            self.assertEqual(f.read(), "static payload\n")

    def test_exit_status_passes_through(self):
        w = self.wpath
        # The root command (armed by the launcher), through roar-run's
        # JSON report.
        js = self.path("r.json")
        proc = rt.bounded(rt.traced_wrapper() +
                          [rt.tool("roar-run"), "-q", "--json", js, "--",
                           self.exe, "in", "tmp", "out", "copy", "3"],
                          self.work, rt.clean_env(), 120, "roar-run")
        self.assertEqual(proc.returncode, 3, proc.stderr)
        with open(js) as f:
            rep = json.load(f)
        root = [p for p in rep["processes"] if p["parent_pid"] is None]
        self.assertEqual(len(root), 1)
        self.assertEqual(root[0]["exit_code"], 3)
        self.assertIsNone(root[0]["exit_signal"])
        self.assertEqual(root[0]["traced_by"], "supervisor")
        self.assertIn(w("in"), root[0]["read_paths"])
        # A child of a traced shell (armed by the exec hook).
        run = rt.run_traced(["sh", "-c", '"$0" in tmp out copy 5; '
                             'echo $? > status', self.exe], self.work)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        prog = self.proc(run, [self.exe, "in", "tmp", "out", "copy", "5"])
        self.assertSupervised(prog)
        self.assertEqual(prog["exit_code"], 5)
        with open(w("status")) as f:
            self.assertEqual(f.read(), "5\n")
        self.assertIn(w("status"), self.assertOneRoot(run)["written_paths"])


# ---------------------------------------------------------------- Go

class Go(SupTest):
    """A Go program built here with Debian's golang-go, no network: once
    CGO_ENABLED=0 (static), once with cgo (dynamic, libc loaded, yet
    the file calls are the Go runtime's own)."""

    @classmethod
    def setUpClass(cls):
        cls.built = {}
        cls.gotmp = None
        if supervisor_unavailable():
            return
        go = rt.ensure_tool("go", "golang-go")
        cls.gotmp = os.path.realpath(
            tempfile.mkdtemp(prefix="roar-go-"))
        src = os.path.join(cls.gotmp, "src")
        shutil.copytree(os.path.join(SUP_FIXTURES, "goprog"), src)
        home = os.path.join(cls.gotmp, "home")
        os.mkdir(home)
        for cgo in ("0", "1"):
            env = dict(os.environ, HOME=home, GOPATH=os.path.join(home, "go"),
                       GOCACHE=os.path.join(home, "cache"), GOFLAGS="",
                       GOPROXY="off", GO111MODULE="on", GOTOOLCHAIN="local",
                       CGO_ENABLED=cgo)
            out = os.path.join(cls.gotmp, "goprog-cgo%s" % cgo)
            r = subprocess.run([go, "build", "-o", out, "."], cwd=src,
                               env=env, capture_output=True, timeout=600)
            if r.returncode != 0:
                raise AssertionError("go build (CGO_ENABLED=%s) failed: %s"
                                     % (cgo, r.stderr.decode()))
            cls.built[cgo] = out

    @classmethod
    def tearDownClass(cls):
        if cls.gotmp:
            shutil.rmtree(cls.gotmp, ignore_errors=True)

    def go_case(self, cgo):
        w = self.wpath
        exe = self.built[cgo]
        self.assertEqual(has_interp(exe), cgo == "1")
        self.wwrite("in", "go payload\n")
        argv = [exe, "in", ".", "out", "copy"]
        d = self.strace_run(argv)
        run = d.run
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        mode, tmp = run.proc.stdout.decode().split()
        self.assertEqual(mode, "mode=" + ("cgo" if cgo == "1" else "nocgo"))
        tmp = w(os.path.basename(tmp.split("=", 1)[1]))
        self.assertCovers(d, read=[w("in"), w("out")],
                          written=[tmp, w("out"), w("copy")])
        self.assertAgrees(d, "goprog CGO_ENABLED=" + cgo)
        root = self.assertOneRoot(run)
        self.assertSupervised(root)
        self.assertEqual(root["command"], argv)
        mine = [p for p in root["read_paths"] if p.startswith(self.tmp)]
        self.assertEqual(mine, [w("in")])
        self.assertEqual(sorted(root["written_paths"]), sorted([tmp, w("out")]))
        cp = self.proc(run, ["/bin/cp", "out", "copy"])
        self.assertEqual(cp["parent_pid"], root["pid"])
        self.assertEqual(cp["written_paths"], [w("copy")])
        if cgo == "0":
            # Go without cgo hands its children the environment it was
            # given: our library runs in cp, which the supervisor then
            # leaves to it (reported once, by the library).
            self.assertPreloaded(cp)
            self.assertEqual(cp["read_paths"], [w("out")])
        else:
            # With cgo our library runs in the Go program too and, as in
            # any image, takes its variables back out of the environment
            # it was started with, which Go's runtime reads as well: cp
            # starts without LD_PRELOAD.  The supervisor, whose filter it
            # inherited, sees it instead, the C library's own files
            # (locale data) included, as strace does.
            self.assertSupervised(cp)
            mine = [p for p in cp["read_paths"] if p.startswith(self.tmp)]
            self.assertEqual(mine, [w("out")])
            self.assertFalse([p for p in cp["read_paths"]
                              if p.endswith(".so") or ".so." in p],
                             "no shared library is the program's")
        self.assertEqual(len(run.processes()), 2, run.commands())
        with open(w("copy")) as f:
            self.assertEqual(f.read(), "go payload\n")

    def test_go_static_matches_strace(self):
        self.go_case("0")

    def test_go_cgo_matches_strace(self):
        self.go_case("1")


class GitLfs(SupTest):
    def test_git_lfs_pointer_reads_the_file(self):
        """The silent gap: git-lfs (Go, from Debian) hashing a file used
        to be reported traced with no read at all."""
        lfs = rt.ensure_tool("git-lfs", "git-lfs")
        data = bytes(range(256)) * 800  # 200 KB
        model = self.wwrite("model.bin", data)
        home = self.path("home")
        os.mkdir(home)
        run = rt.run_traced([lfs, "pointer", "--file=model.bin"], self.work,
                            env={"HOME": home, "XDG_CONFIG_HOME": home,
                                 "GIT_CONFIG_NOSYSTEM": "1"},
                            via="roar-run", stdin=subprocess.DEVNULL)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertIn(b"oid sha256:" +
                      hashlib.sha256(data).hexdigest().encode(),
                      run.proc.stdout)
        self.assertIn(b"size 204800", run.proc.stdout)
        root = self.assertOneRoot(run)
        self.assertEqual(root["command"], [lfs, "pointer", "--file=model.bin"])
        self.assertSupervised(root)
        self.assertIn(model, root["read_paths"])
        self.assertIn(model, run.read_set())
        self.assertNotIn(model, run.written_set())


# ---------------------------------------------------------------- untraced

class SetId(SupTest):
    """A set-user-ID program must not run under no_new_privs (it would
    lose its privilege): it stays listed untraced, with the reason, and
    runs exactly as it does without the tracer."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("making a set-user-ID program of another user "
                          "needs root")
        os.chmod(self.tmp, 0o755)
        os.chmod(self.work, 0o755)
        self.exe = build_static("idcheck", self.path("idcheck"))
        os.chown(self.exe, 65534, -1)  # nobody
        os.chmod(self.exe, 0o4755)
        self.src = self.wwrite("in", "secret-free\n")
        os.chmod(self.src, 0o644)
        # How it runs untraced in this environment (behind the noptrace
        # wrapper its no_new_privs and filter are the wrapper's).
        self.bare = subprocess.run(rt.traced_wrapper() + [self.exe, "in"],
                                   cwd=self.work, capture_output=True,
                                   check=True).stdout
        if not rt.traced_wrapper():
            self.assertEqual(self.bare,
                             b"uid=0 euid=65534 nnp=0 filters=0\n")

    def assertUntracedSetId(self, p):
        what = {k: v for k, v in p.items() if k != "env"}
        self.assertEqual(p["traced_by"], "none", what)
        self.assertFalse(p["traced"], what)
        # "set-user-ID or set-group-ID program" (image.h's words) or
        # "setuid/setgid program: PATH" (the collector's diagnosis).
        self.assertRegex(p["untraced_reason"] or "", r"(?i)set-?u(ser-)?id",
                         what)
        self.assertEqual(p["read_paths"], [])
        self.assertEqual(p["written_paths"], [])

    def test_setid_root_command(self):
        run = rt.run_traced([self.exe, "in"], self.work)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertEqual(run.proc.stdout, self.bare)
        self.assertUntracedSetId(self.assertOneRoot(run))
        # What an untraced process did is not claimed either way.
        self.assertNotIn(self.src, run.read_set())

    def test_setid_child_of_traced_shell(self):
        run = rt.run_traced(["sh", "-c", '"$0" in; cat in > copy; true',
                             self.exe], self.work)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertEqual(run.proc.stdout, self.bare)
        root = self.assertOneRoot(run)
        self.assertPreloaded(root)
        setid = self.proc(run, [self.exe, "in"])
        self.assertUntracedSetId(setid)
        self.assertEqual(setid["parent_pid"], root["pid"])
        # Its siblings are traced as ever.
        cat = self.proc(run, ["cat", "in"])
        self.assertPreloaded(cat)
        self.assertEqual(cat["read_paths"], [self.src])
        self.assertEqual(cat["written_paths"], [self.wpath("copy")])
        self.assertEqual(len(run.processes()), 3, run.commands())


class Unseen(SupTest):
    def test_io_uring_marked_unseen(self):
        exe = build_static("uring", self.path("uring"))
        self.wwrite("in", "ring\n")
        run = rt.run_traced([exe, "in", "out"], self.work, via="roar-run")
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertRegex(run.proc.stdout, rb"^io_uring_setup=(0|-1) errno=")
        root = self.assertOneRoot(run)
        self.assertSupervised(root)
        self.assertEqual(root.get("unseen"), ["io_uring"])
        # What it did with ordinary calls is seen as ever.
        self.assertEqual(root["read_paths"], [self.wpath("in")])
        self.assertEqual(root["written_paths"], [self.wpath("out")])
        # A supervised program without a ring is not marked.
        ops = build_static("static_ops", self.path("static_ops"))
        run = rt.run_traced([ops, "in", "tmp", "out2", "copy"], self.work,
                            via="roar-run")
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        root = self.assertOneRoot(run)
        self.assertSupervised(root)
        self.assertFalse(root.get("unseen"), root)


# ---------------------------------------------------------------- preflight

class Preflight(SupTest):
    def preflight(self, command):
        r = subprocess.run(rt.traced_wrapper() +
                           [rt.tool("roar-tracer-preload"), "--preflight",
                            "--json", "--command", command],
                           capture_output=True, env=rt.clean_env(),
                           cwd=self.work, timeout=120)
        return r, json.loads(r.stdout)

    def test_preflight_static_and_no_shebang_script(self):
        exe = build_static("static_ops", self.path("static_ops"))
        script = self.wwrite("noshebang", "echo hi > noshebang.out\n")
        os.chmod(script, 0o755)
        for command in (exe, script):
            r, d = self.preflight(command)
            self.assertEqual(r.returncode, 0, (command, d))
            self.assertIs(d["ok"], True, d)
            self.assertEqual(d["command_checked"], command)
            self.assertEqual(d["warnings"], [], d)
            self.assertTrue(all(c["ok"] for c in d["checks"]), d)
            checks = {c["name"]: c for c in d["checks"]}
            # TO CONFIRM after merge (the check is being added on sup by
            # another engineer): a "command_compatibility" check, ok for
            # a static binary (the supervisor traces it) and for a
            # script the ENOEXEC rule runs with /bin/sh.  Asserted only
            # when present, until it lands.
            if "command_compatibility" in checks:
                self.assertIs(checks["command_compatibility"]["ok"], True, d)


if __name__ == "__main__":
    rt.main()
