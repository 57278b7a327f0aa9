# SPDX-License-Identifier: Apache-2.0
"""Process lifecycle, new images: posix_spawn from threads with small
stacks and huge environments, execveat and syscall(SYS_execve), a
statically linked program between traced ones, a fork child keeping
the command it was forked from after its parent execs, and a 2 GiB
heap starting 100 processes."""
import os
import signal
import subprocess
import sys
import textwrap

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402
from lifecycletest import (  # noqa: E402
    LifecycleTest, kv, launch, need_python, untraced)


# ---- posix_spawn on a small stack ----------------------------------------

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


# ---- execveat and syscall(SYS_execve) ------------------------------------

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


# ---- a statically linked program between traced ones ---------------------

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


# ---- fork children keep the command they were forked from ----------------

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


# ---- a big heap starting many processes ----------------------------------

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


if __name__ == "__main__":
    rt.main()
