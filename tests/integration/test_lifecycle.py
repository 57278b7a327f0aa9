# SPDX-License-Identifier: Apache-2.0
"""Process lifecycle (threads + fork, daemon, forkpty, raw clone, vfork,
posix_spawn on small stacks, the program's own environment, commands of
fork children, big heaps, and who may speak for whom on the socket).
Every run is bounded: the fixtures carry their own deadlines and the
launcher is killed, with its whole process group, when it overstays."""
import errno
import os
import signal
import subprocess
import sys
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402

PY = "/usr/bin/python3"


# ---- bounded runs --------------------------------------------------------

_bounded = rt.bounded


def launch(argv, cwd, env=None, timeout=60):
    """argv traced by roar-tracer-preload, within timeout seconds."""
    report = os.path.join(cwd, "report.msgpack")
    if os.path.exists(report):
        os.unlink(report)
    cmd = rt.traced_wrapper() + [rt.tool("roar-tracer-preload"),
                                 report] + list(argv)
    proc = _bounded(cmd, cwd, rt.clean_env() if env is None else env,
                    timeout, "the launcher")
    if not os.path.exists(report):
        raise AssertionError("no report written by %r: rc %d, stderr %r"
                             % (cmd, proc.returncode, proc.stderr))
    return rt.Run(proc, rt.load_report(report), report)


def untraced(argv, cwd, env=None, timeout=60):
    """The control: argv run bare with the same environment."""
    return _bounded(list(argv), cwd, rt.clean_env() if env is None else env,
                    timeout, "the untraced run")


def program_env():
    """The environment handed to the launcher for the environment tests:
    clean_env without ROAR_PRELOAD_LIB when the launcher finds that very
    library beside itself, so the program's environment holds no ROAR_
    variable at all and any the program sees came from the tracer.  (A
    sanitizer build names the plain library by ROAR_PRELOAD_LIB; then it
    stays, and is the program's as much as the untraced run's.)"""
    e = rt.clean_env()
    here = os.path.dirname(rt.tool("roar-tracer-preload"))
    lib = os.path.realpath(rt.LIB)
    for d in (here, os.path.join(here, "..", "preload")):
        for name in ("libroar_tracer_preload.so", "libroar_preload.so",
                     "libroar-tracer-preload.so"):
            cand = os.path.join(d, name)
            if os.path.isfile(cand):
                if os.path.realpath(cand) == lib:
                    del e["ROAR_PRELOAD_LIB"]
                return e
    return e


def need_python():
    return rt.ensure_tool(PY, "python3")


def need_py_module(module, package):
    py = need_python()
    probe = [py, "-c", "import " + module]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    if os.geteuid() == 0 and rt.have("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", package],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if subprocess.run(probe, capture_output=True).returncode != 0:
        raise unittest.SkipTest("%s cannot import %s (package %s)"
                                % (py, module, package))
    return py


def tracer_vars(text):
    """Lines of env output naming the tracer's variables."""
    return [l for l in text.splitlines()
            if l.startswith("LD_PRELOAD=") or l.startswith("ROAR_PRELOAD_")]


def kv(stdout, keys):
    """The fixture's "key=value ..." line as a dict; fails unless every
    key is there."""
    try:
        d = dict(f.split("=", 1) for f in stdout.decode().split())
    except ValueError:
        d = {}
    missing = [k for k in keys if k not in d]
    if missing:
        raise AssertionError("fixture output %r lacks %r" % (stdout, missing))
    return d


class LifecycleTest(rt.TracerTest):
    def build(self, name, flags=()):
        return rt.compile_c(os.path.join("lifecycle", name + ".c"),
                            self.path(name), flags)

    def root(self, run):
        return self.assertOneRoot(run)

    def descends(self, run, pid, ancestor):
        procs = run.proc_by_pid()
        for _ in range(64):
            p = procs.get(pid)
            if p is None or p["parent_pid"] is None:
                return False
            if p["parent_pid"] == ancestor:
                return True
            pid = p["parent_pid"]
        return False

    def writers_of(self, run, path):
        return [p for p in run.processes() if path in p["written_paths"]]


# ---- 1. threads + fork ---------------------------------------------------

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


# ---- 2. daemon(3) --------------------------------------------------------

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


# ---- 3. forkpty(3) -------------------------------------------------------

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


# ---- 4. raw clone3 / clone -----------------------------------------------

class RawClone(LifecycleTest):
    def raw(self, how):
        exe = self.build("raw_clone")
        run = launch([exe, how, "c.txt"], self.tmp, timeout=30)
        if run.returncode == 77:
            self.skipTest("%s here: %s" % (how, run.proc.stdout.decode().strip()))
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


# ---- 5. vfork ------------------------------------------------------------

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


# ---- 6. posix_spawn on a small stack -------------------------------------

class SpawnSmallStack(LifecycleTest):
    def spawn(self, stack, nvars, vlen):
        exe = self.build("spawn_thread")
        args = [exe, str(stack), str(nvars), str(vlen)]
        plain = untraced(args, self.tmp)
        self.assertEqual(plain.returncode, 0,
                         "untraced control: %r" % plain.stdout)
        os.unlink(self.path("out.txt"))
        run = launch(args, self.tmp, timeout=60)
        self.assertNotEqual(run.returncode, 128 + signal.SIGSEGV,
                            "the traced program died of SIGSEGV")
        self.assertEqual(run.returncode, 0, run.proc.stdout)
        fields = kv(run.proc.stdout, ("stack", "rc", "child", "status"))
        with open(self.path("out.txt")) as fh:
            self.assertEqual(fh.read(), "ok\n")
        root = self.root(run)
        procs = run.proc_by_pid()
        cpid = int(fields["child"])
        self.assertIn(cpid, procs, "the spawned sh is not in the report")
        sh = procs[cpid]
        self.assertEqual(sh["command"], ["sh", "-c", "echo ok > out.txt"])
        self.assertEqual(sh["parent_pid"], root["pid"])
        self.assertEqual(sh["written_paths"], [self.path("out.txt")])
        return int(fields["stack"])

    def test_spawn_from_16k_stack_thread_with_20000_vars(self):
        """16 KiB thread stack, or PTHREAD_STACK_MIN where that is larger
        (glibc here: 16 KiB); 20,000 environment variables."""
        self.spawn(16384, 20000, 5)

    def test_spawn_from_128k_stack_thread_with_large_env(self):
        """128 KiB thread stack and an environment of 2 MiB less 256 KiB
        (ARG_MAX is 2 MiB here: the kernel would refuse a full 2 MiB),
        1024-byte variables."""
        arg_max = os.sysconf("SC_ARG_MAX")
        total = min(2 << 20, arg_max) - (256 << 10)
        self.spawn(131072, total // 1032, 1015)


# ---- 7. the environment is the program's ---------------------------------

class ProgramEnvironment(LifecycleTest):
    def test_env_i_env_prints_nothing(self):
        env = program_env()
        plain = untraced(["env", "-i", "env"], self.tmp, env)
        run = launch(["env", "-i", "env"], self.tmp, env, timeout=30)
        self.assertEqual(plain.stdout, b"")
        self.assertEqual(run.proc.stdout, plain.stdout)
        self.assertEqual(run.returncode, 0)
        root = self.root(run)
        self.assertEqual(root["command"], ["env"])
        self.assertTrue(root["traced"], root.get("untraced_reason"))

    def test_system_after_unsetenv_ld_preload(self):
        exe = self.build("env_system")
        env = program_env()
        plain = untraced([exe], self.tmp, env)
        self.assertEqual(plain.stdout, b"system=0 LD_PRELOAD=unset\n")
        os.rename(self.path("envout.txt"), self.path("envout.plain"))
        run = launch([exe], self.tmp, env, timeout=30)
        self.assertEqual(run.proc.stdout, plain.stdout)
        with open(self.path("envout.txt")) as fh:
            traced_env = fh.read()
        with open(self.path("envout.plain")) as fh:
            plain_env = fh.read()
        # Nothing of ours beyond what the user set (a sanitizer build
        # names the library by ROAR_PRELOAD_LIB in both runs).
        self.assertEqual(tracer_vars(traced_env), tracer_vars(plain_env))
        self.assertEqual(traced_env, plain_env)
        root = self.root(run)
        shs = [p for p in run.procs_running("sh")
               if p["parent_pid"] == root["pid"]]
        self.assertEqual(len(shs), 1, "system()'s sh is not traced")
        self.assertEqual(shs[0]["command"],
                         ["sh", "-c", "env | sort > envout.txt"])
        envs = [p for p in run.procs_running("env")
                if self.descends(run, p["pid"], shs[0]["pid"])]
        self.assertEqual(len(envs), 1, "env under system() is not traced")
        self.assertTrue(envs[0]["traced"], envs[0].get("untraced_reason"))
        out = self.path("envout.txt")
        self.assertIn(out, run.written_set())
        w = self.writers_of(run, out)
        self.assertEqual(len(w), 1, w)
        self.assertTrue(self.descends(run, w[0]["pid"], root["pid"]))

    def test_popen_env_and_pclose_status(self):
        exe = self.build("env_popen")
        env = program_env()
        plain = untraced([exe], self.tmp, env)
        run = launch([exe], self.tmp, env, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        text = run.proc.stdout.decode()
        lines = text.splitlines()
        self.assertEqual(lines[-2:], ["pclose=0", "exit3=1/3"])
        self.assertEqual(tracer_vars(text),
                         tracer_vars(plain.stdout.decode()))
        self.assertEqual(sorted(lines),
                         sorted(plain.stdout.decode().splitlines()))
        root = self.root(run)
        envs = [p for p in run.procs_running("env")
                if self.descends(run, p["pid"], root["pid"])]
        self.assertEqual(len(envs), 1, "popen's env is not traced")
        self.assertTrue(envs[0]["traced"], envs[0].get("untraced_reason"))

    def test_shell_env_i_pipeline(self):
        env = program_env()
        argv = ["sh", "-c", "env -i /usr/bin/env; echo $?"]
        plain = untraced(argv, self.tmp, env)
        self.assertEqual(plain.stdout, b"0\n")
        run = launch(argv, self.tmp, env, timeout=30)
        self.assertEqual(run.proc.stdout, plain.stdout)
        self.assertEqual(run.returncode, 0)


# ---- 8. fork children keep the command they were forked from -------------

class CommandAttribution(LifecycleTest):
    def test_subshell_keeps_shell_command_after_parent_execs(self):
        py = need_python()
        script = ("(sleep 0.2; echo x > sub.txt) & "
                  "exec %s -c \"import time; time.sleep(0.6)\"" % py)
        run = launch(["sh", "-c", script], self.tmp, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        sub = self.path("sub.txt")
        w = self.writers_of(run, sub)
        self.assertEqual(len(w), 1, "writers of sub.txt: %r" % w)
        root = self.root(run)
        self.assertEqual(w[0]["parent_pid"], root["pid"])
        self.assertEqual(w[0]["command"], ["sh", "-c", script],
                         "the subshell is credited to the image its parent "
                         "exec'd later")
        self.assertEqual(root["command"],
                         [py, "-c", "import time; time.sleep(0.6)"])


# ---- 9. a big heap starting many processes -------------------------------

class BigHeap(LifecycleTest):
    def test_python_with_2g_heap_runs_100_subprocesses(self):
        py = need_python()
        with open("/proc/meminfo") as fh:
            avail = {l.split(":")[0]: int(l.split()[1]) for l in fh}
        if avail.get("MemAvailable", 0) < 4 << 20:  # kB
            self.skipTest("under 4 GiB of memory available")
        code = textwrap.dedent("""\
            import os, subprocess, sys
            b = bytearray(2 << 30)
            b[::4096] = b"\\x01" * (len(b) // 4096)
            for _ in range(100):
                if subprocess.run(["/bin/true"]).returncode != 0:
                    sys.exit(10)
            print(os.getpid())
            """)
        prog = self.write("heap.py", code)
        run = launch([py, prog], self.tmp, timeout=100)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        pypid = int(run.proc.stdout)
        root = self.root(run)
        self.assertEqual(root["pid"], pypid)
        trues = [p for p in run.processes() if p["command"] == ["/bin/true"]]
        self.assertEqual(len(trues), 100)
        self.assertEqual([t["pid"] for t in trues
                          if t["parent_pid"] != pypid], [])
        self.assertEqual([t["pid"] for t in trues if t["exit_code"] != 0], [])


# ---- 10. identity on the socket ------------------------------------------

IDENTITY = """\
import os, socket, struct, sys, threading, time
import msgpack

sock = None
with open("/proc/self/environ", "rb") as fh:
    for kv in fh.read().split(b"\\0"):
        if kv.startswith(b"ROAR_PRELOAD_TRACE_SOCK="):
            sock = kv.split(b"=", 1)[1]
if not sock:
    print("no ROAR_PRELOAD_TRACE_SOCK")
    sys.exit(3)
me, tid = os.getpid(), threading.get_native_id()
frames = [
    {"kind": "write", "pid": 1, "thread_id": 1, "path": "/etc/shadow"},
    {"kind": "hello", "pid": 1, "thread_id": 1, "proto": 1, "ppid": me,
     "origin": "exec", "argv": ["rm", "-rf", "/"], "env": [], "cwd": "/",
     "exe": "/bin/rm", "time": time.time()},
    {"kind": "fork", "pid": me, "thread_id": tid, "child": 1,
     "time": time.time()},
    {"kind": "exec", "pid": me, "thread_id": tid, "subject": 1,
     "exe": "/bin/evil", "argv": ["evil"], "time": 0.0},
    {"kind": "write", "pid": me, "thread_id": tid, "path": sys.argv[1]},
]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
for f in frames:
    b = msgpack.packb(f, use_bin_type=True)
    s.sendall(struct.pack("<I", len(b)) + b)
s.close()
print(me)
"""


class Identity(LifecycleTest):
    def test_frames_about_other_processes_are_refused(self):
        py = need_py_module("msgpack", "python3-msgpack")
        prog = self.write("identity.py", IDENTITY)
        legit = self.path("legit-frame.txt")  # never opened: only the frame
        run = launch([py, prog, legit], self.tmp, timeout=20)
        self.assertEqual(run.returncode, 0, run.proc.stdout + run.proc.stderr)
        me = int(run.proc.stdout)
        root = self.root(run)
        self.assertEqual(root["pid"], me)
        self.assertNotIn(1, run.proc_by_pid())
        self.assertNotIn("/etc/shadow", run.files())
        argv0 = [p["command"][0] for p in run.processes() if p["command"]]
        self.assertNotIn("rm", argv0)
        self.assertNotIn("evil", argv0)
        self.assertEqual(root["command"], [py, prog, legit])
        refused = run.report.get("frames_refused")
        self.assertIsNotNone(refused, "the report has no frames_refused")
        self.assertGreaterEqual(refused, 4)
        self.assertIn(legit, root["written_paths"],
                      "the script's own frame was not accepted")


# ---- 11. a vfork child's descriptors are its own -------------------------

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


# ---- 12. execveat and syscall(SYS_execve) --------------------------------

class ExecVariants(LifecycleTest):
    def exec_cat(self, how):
        exe = self.build("exec_variants")
        src = self.write("in.txt", "catme\n")
        plain = untraced([exe, how, src], self.tmp)
        self.assertEqual(plain.returncode, 0, "untraced control")
        self.assertTrue(plain.stdout.startswith(b"catme\n"), plain.stdout)
        run = launch([exe, how, src], self.tmp, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertEqual(run.proc.stdout.splitlines()[0], b"catme")
        out = kv(run.proc.stdout.splitlines()[1], ("child", "status"))
        self.assertEqual(out["status"], "0")
        root = self.root(run)
        procs = run.proc_by_pid()
        cpid = int(out["child"])
        self.assertIn(cpid, procs, "the fork child is not in the report")
        cat = procs[cpid]
        self.assertEqual(cat["parent_pid"], root["pid"])
        self.assertEqual(cat["command"], ["cat", src],
                         "the %s exec was not seen" % how)
        self.assertTrue(cat["traced"], cat.get("untraced_reason"))
        self.assertIn(src, cat["read_paths"])
        self.assertEqual(run.report.get("frames_refused"), 0)

    def test_execveat_at_fdcwd(self):
        self.exec_cat("execveat")

    def test_syscall_sys_execve(self):
        self.exec_cat("syscall")


# ---- 13. a statically linked program between traced ones -----------------

class StaticProgram(LifecycleTest):
    def build_static(self):
        cc = rt.ensure_tool("gcc", "gcc")

        def libc_a():
            p = subprocess.run([cc, "-print-file-name=libc.a"],
                               capture_output=True, text=True).stdout.strip()
            return os.path.isabs(p) and os.path.exists(p)
        if not libc_a() and os.geteuid() == 0 and rt.have("apt-get"):
            subprocess.run(["apt-get", "install", "-y", "-q", "libc6-dev"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL,
                           env=dict(os.environ,
                                    DEBIAN_FRONTEND="noninteractive"))
        if not libc_a():
            self.skipTest("no static libc (libc.a, package libc6-dev) "
                          "could be installed here")
        return self.build("static_fork_cat", ["-static"])

    def static_cat(self, argv_prefix):
        exe = self.build_static()
        src = self.write("in.txt", "static\n")
        args = list(argv_prefix) + [exe, src]
        plain = untraced(args, self.tmp)
        self.assertEqual(plain.returncode, 0, "untraced control")
        run = launch(args, self.tmp, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        lines = run.proc.stdout.splitlines()
        self.assertEqual(len(lines), 3, lines)
        me = kv(lines[0], ("self", "conn"))
        self.assertEqual(lines[1], b"static")
        out = kv(lines[2], ("child", "status"))
        self.assertEqual(out["status"], "0")
        spid, cpid = int(me["self"]), int(out["child"])
        root = self.root(run)
        self.assertEqual(root["pid"], spid)
        procs = run.proc_by_pid()
        self.assertIn(cpid, procs, "cat is not in the report")
        cat = procs[cpid]
        self.assertEqual(cat["command"], ["cat", src])
        self.assertTrue(cat["traced"], cat.get("untraced_reason"))
        self.assertIn(src, cat["read_paths"])
        self.assertTrue(self.descends(run, cpid, spid))
        self.assertEqual(run.report.get("frames_refused"), 0)
        return me["conn"]

    def test_static_root_forks_traced_cat(self):
        self.static_cat([])

    def test_static_exec_from_traced_root_hands_over(self):
        """env (traced) execs the static program: the connection env
        handed over lies unused in its environment, and the cat it
        starts must be traced as itself, not speak for its parent.
        The static program may see ROAR_PRELOAD_CONN: it is untraced."""
        self.static_cat(["env"])


# ---- 14. clone(CLONE_FILES) child ----------------------------------------

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


# ---- 15. _Fork then fork -------------------------------------------------

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


# ---- 16. popen: fclose and mode strings ----------------------------------

class PopenDetails(LifecycleTest):
    def test_fclose_of_popen_stream_reaps_child(self):
        exe = self.build("popen_fclose")
        want = "fclose=0 wait=-1 errno=%d children=0" % errno.ECHILD
        plain = untraced([exe], self.tmp)
        self.assertEqual(plain.stdout.decode().strip(), want,
                         "untraced control")
        run = launch([exe], self.tmp, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertEqual(run.proc.stdout.decode().strip(), want,
                         "fclose left the popen child unreaped")

    def test_popen_modes_as_untraced(self):
        exe = self.build("popen_modes")
        args = [exe, "r", "re", "er", "rb", "r+", "rr", "we", "rw", ""]
        plain = untraced(args, self.tmp)
        self.assertEqual(plain.returncode, 0, "untraced control")
        self.assertEqual(len(plain.stdout.splitlines()), len(args) - 1)
        run = launch(args, self.tmp, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertEqual(run.proc.stdout.decode().splitlines(),
                         plain.stdout.decode().splitlines())


# ---- 17. LD_PRELOAD set empty by the program -----------------------------

class EmptyLdPreload(LifecycleTest):
    def test_env_ld_preload_empty_env(self):
        env = program_env()
        argv = ["env", "LD_PRELOAD=", "env"]
        plain = untraced(argv, self.tmp, env)
        self.assertIn("LD_PRELOAD=", plain.stdout.decode().splitlines(),
                      "untraced control")
        run = launch(argv, self.tmp, env, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        text = run.proc.stdout.decode()
        self.assertIn("LD_PRELOAD=", text.splitlines())
        self.assertEqual(tracer_vars(text),
                         tracer_vars(plain.stdout.decode()))

    def test_empty_ld_preload_given_to_launcher(self):
        """The launcher itself started as `env LD_PRELOAD= <launcher> ...
        env`: the command gets LD_PRELOAD back set, and empty."""
        env = dict(program_env(), LD_PRELOAD="")
        plain = untraced(["env"], self.tmp, env)
        self.assertIn("LD_PRELOAD=", plain.stdout.decode().splitlines(),
                      "untraced control")
        run = launch(["env"], self.tmp, env, timeout=30)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        text = run.proc.stdout.decode()
        self.assertIn("LD_PRELOAD=", text.splitlines(),
                      "the empty LD_PRELOAD came back unset")
        self.assertEqual(tracer_vars(text),
                         tracer_vars(plain.stdout.decode()))
        self.assertTrue(self.root(run)["traced"])


# ---------------------------------------------------------------- 18 ---

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


# ---------------------------------------------------------------- 19 ---

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

    def test_fclose_of_popen_stream_returns_wait_status(self):
        exe = self.build("popen_status")
        plain = untraced([exe], self.tmp)
        self.assertEqual(plain.stdout, b"fclose=768 pclose=768\n")
        run = launch([exe], self.tmp, timeout=30)
        self.assertEqual(run.proc.stdout, plain.stdout)


if __name__ == "__main__":
    rt.main()
