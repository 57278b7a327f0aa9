# SPDX-License-Identifier: Apache-2.0
"""Coverage (issue 4): every family of calls a dynamically linked program
can touch a file or start a process with, each asserting the exact
report; and the program-cannot-break-tracing cases (scrubbed
environments, closed or stolen fds, signal handlers, threads + fork)."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402

_exe = {}


def families(tmp):
    """The families fixture, built once per run."""
    if "families" not in _exe:
        out = os.path.join(rt.tempfile.gettempdir(),
                           "roar-families-%d" % os.getpid())
        rt.compile_c("families.c", out)
        _exe["families"] = out
    return _exe["families"]


def tearDownModule():
    for p in _exe.values():
        try:
            os.unlink(p)
        except OSError:
            pass


class FamilyTest(rt.TracerTest):
    """Runs one case of the families fixture traced."""

    def fam(self, case, *args, env=None):
        run = rt.run_traced([families(self.tmp), case] + list(args), self.tmp,
                            env=env)
        self.assertEqual(run.returncode, 0,
                         "%s failed: %r" % (case, run.proc.stderr))
        return run

    def files(self, *names):
        return {self.path(n) for n in names}


class Families(FamilyTest):
    def test_openat2_through_syscall(self):
        self.write("a", "content\n")
        run = self.fam("openat2", "a")
        self.assertEqual(run.read_set(), self.files("a"))
        self.assertEqual(run.written_set(), set())

    def test_raw_syscalls(self):
        self.write("a", "content\n")
        run = self.fam("raw-syscalls", "a", "b")
        self.assertEqual(run.read_set(), self.files("a"))
        self.assertEqual(run.written_set(), self.files("b"))

    def test_stdio_read_write_streams(self):
        self.write("a", "line\n")
        self.write("b", "")
        run = self.fam("stdio-rw", "a", "b")
        self.assertEqual(run.read_set(), self.files("a"))
        self.assertEqual(run.written_set(), self.files("b"))

    def test_tmpfile_is_not_a_file_for_the_report(self):
        run = self.fam("tmpfile")
        self.assertEqual(run.files(), {})

    def test_mkstemp_created_file_is_written(self):
        run = self.fam("mkstemp")
        name = run.proc.stdout.decode().strip()
        self.assertEqual(run.written_set(), self.files(name))

    def test_vector_positional(self):
        self.write("a", "abcdef")
        self.write("b", "zzzzzz")
        run = self.fam("vector", "a", "b")
        self.assertEqual(run.read_set(), self.files("a"))
        self.assertEqual(run.written_set(), self.files("b"))

    def test_mmap(self):
        self.write("a", "abcdef")
        self.write("b", "zzzzzz")
        run = self.fam("mmap", "a", "b")
        self.assertEqual(run.read_set(), self.files("a"))
        self.assertEqual(run.written_set(), self.files("b"))
        with open(self.path("b")) as f:
            self.assertEqual(f.read(), "MMAPzz")

    def test_write_then_rename(self):
        run = self.fam("rename", "final")
        self.assertEqual(run.written_set(), self.files("tmp.partial", "final"))

    def test_link_target_written(self):
        self.write("a", "x")
        run = self.fam("link", "a", "b")
        self.assertEqual(run.written_set(), self.files("b"))
        self.assertEqual(run.read_set(), set())

    def test_truncate(self):
        self.write("a", "abc")
        self.write("b", "abc")
        run = self.fam("truncate", "a", "b")
        self.assertEqual(run.written_set(), self.files("a", "b"))

    def test_fcntl_dupfd(self):
        self.write("a", "")
        run = self.fam("fcntl-dup", "a")
        self.assertEqual(run.written_set(), self.files("a"))

    def test_chdir_relative_paths(self):
        run = self.fam("chdir", "a", "b")
        self.assertEqual(run.written_set(), self.files("sub/a", "b"))

    def test_fortified_and_largefile_builds(self):
        exe = rt.compile_c("fortified.c", self.path("fortified"),
                           ["-O2", "-D_FORTIFY_SOURCE=2",
                            "-D_FILE_OFFSET_BITS=64"])
        syms = subprocess.run(["nm", "-D", exe], capture_output=True,
                              text=True).stdout
        self.assertIn("__read_chk", syms)
        self.assertIn("open64", syms)
        self.write("in", "0123456789")
        self.write("out", "..........")
        run = rt.run_traced([exe, "in", "out", "8"], self.tmp)
        self.assertEqual(run.returncode, 0)
        self.assertEqual(run.read_set(), self.files("in"))
        self.assertEqual(run.written_set(), self.files("out"))

    def test_stdout_kinds_into_an_inherited_file(self):
        # The program's stdout is a file it did not open (the shell that
        # started it did), and stdio flushes it at exit through its own
        # internal write: the credit comes from the stdio call itself.
        kinds = ("printf", "puts", "putchar", "putchar_unlocked",
                 "vprintf", "dprintf")
        for flags in ([], ["-O2", "-D_FORTIFY_SOURCE=2"]):
            exe = rt.compile_c("stdout_kinds.c",
                               self.path("stdout_kinds%d" % len(flags)),
                               flags)
            for kind in kinds:
                out = self.path("out-%s-%d.txt" % (kind, len(flags)))
                with open(out, "w") as f:
                    run = rt.run_traced([exe, kind], self.tmp, stdout=f)
                self.assertEqual(run.returncode, 0, (kind, flags))
                with open(out) as f:
                    self.assertTrue(f.read(), (kind, flags))
                self.assertIn(out, run.written_set(), (kind, flags))

    def test_hook_called_from_another_librarys_constructor(self):
        lib = self.path("libctor.so")
        subprocess.run(["gcc", "-shared", "-fPIC", "-o", lib,
                        os.path.join(rt.FIXTURES, "ctor_lib.c")], check=True)
        exe = self.path("ctor_main")
        # --no-as-needed: main uses nothing of it, yet it must be loaded.
        subprocess.run(["gcc", "-o", exe, os.path.join(rt.FIXTURES, "ctor_main.c"),
                        "-Wl,--no-as-needed", lib, "-Wl,-rpath," + self.tmp],
                       check=True)
        f = self.write("early.txt", "early")
        run = rt.run_traced([exe], self.tmp, env={"CTOR_FILE": f})
        self.assertEqual(run.returncode, 0)
        self.assertEqual(run.read_set(), {f})


class Processes(FamilyTest):
    def child_of_root(self, run, name):
        root = self.assertOneRoot(run)
        kids = run.procs_running(name)
        self.assertEqual(len(kids), 1, run.processes())
        return root, kids[0]

    def test_posix_spawnp(self):
        a = self.write("a", "spawned\n")
        run = self.fam("spawn", "a")
        root, cat = self.child_of_root(run, "cat")
        self.assertEqual(cat["parent_pid"], root["pid"])
        self.assertEqual(cat["read_paths"], [a])
        self.assertTrue(cat["traced"])

    def test_system_with_scrubbed_environ(self):
        a = self.write("a", "sys\n")
        run = self.fam("system", "a", "b")
        self.assertIn(a, run.read_set())
        self.assertEqual(run.written_set(), self.files("b"))
        names = sorted(os.path.basename(c[0]) for c in run.commands())
        self.assertIn("cat", names)
        self.assertIn("sh", names)

    def test_popen(self):
        a = self.write("a", "pop\n")
        run = self.fam("popen", "a")
        root, cat = self.child_of_root(run, "cat")
        self.assertEqual(cat["read_paths"], [a])

    def test_clone_without_vm(self):
        run = self.fam("clone", "cloned.txt")
        root = self.assertOneRoot(run)
        kids = [p for p in run.processes() if p["pid"] != root["pid"]]
        self.assertEqual(len(kids), 1)
        self.assertEqual(kids[0]["parent_pid"], root["pid"])
        self.assertEqual(kids[0]["written_paths"], [self.path("cloned.txt")])

    def test_vfork_exec(self):
        a = self.write("a", "v\n")
        run = self.fam("vfork", "a", "b")
        root, cp = self.child_of_root(run, "cp")
        self.assertEqual(cp["parent_pid"], root["pid"])
        self.assertEqual(run.written_set(), self.files("b"))

    def test_execve_with_fresh_env(self):
        a = self.write("a", "e\n")
        run = self.fam("execve-empty-env", "a", "b")
        self.assertIn(a, run.read_set())
        self.assertEqual(run.written_set(), self.files("b"))
        self.assertTrue(run.procs_running("cat"), run.processes())

    def test_env_i(self):
        a = self.write("a", "e\n")
        run = rt.run_traced(["env", "-i", "PATH=/usr/bin:/bin", "sh", "-c",
                             "cat a > b"], self.tmp)
        self.assertEqual(run.read_set(), {a})
        self.assertEqual(run.written_set(), self.files("b"))
        self.assertTrue(run.procs_running("cat"))

    def test_python_subprocess_empty_env(self):
        a = self.write("a", "p\n")
        code = ("import subprocess\n"
                "subprocess.run(['/bin/cp', 'a', 'b'], env={}, check=True)\n")
        run = rt.run_traced(["/usr/bin/python3", "-c", code], self.tmp)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertIn(a, run.read_set())
        self.assertIn(self.path("b"), run.written_set())
        self.assertTrue(run.procs_running("cp"))


class ProgramCannotBreakTracing(rt.TracerTest):
    def fam(self, case, *args):
        exe = families(self.tmp)
        plain = subprocess.run([exe, case] + list(args), cwd=self.tmp,
                               capture_output=True, env=rt.clean_env())
        run = rt.run_traced([exe, case] + list(args), self.tmp)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        # The program sees what it sees untraced.
        self.assertEqual(run.proc.stdout, plain.stdout)
        return run

    def test_close_range(self):
        run = self.fam("close-range", "late.txt")
        self.assertEqual(run.written_set(), {self.path("late.txt")})

    def test_closefrom(self):
        run = self.fam("closefrom", "late.txt")
        self.assertEqual(run.written_set(), {self.path("late.txt")})

    def test_close_loop(self):
        run = self.fam("close-loop", "late.txt")
        self.assertEqual(run.proc.stdout, b"closed 0\n")
        self.assertEqual(run.written_set(), {self.path("late.txt")})

    def test_dup2_over_high_fds(self):
        run = self.fam("dup2-high", "late.txt")
        self.assertEqual(run.proc.stdout, b"dup2 ok 124\n")
        self.assertEqual(run.written_set(), {self.path("late.txt")})

    def test_python_closerange(self):
        code = ("import os\nos.closerange(3, 4096)\n"
                "open('late.txt', 'w').write('x')\n")
        run = rt.run_traced(["/usr/bin/python3", "-c", code], self.tmp)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertIn(self.path("late.txt"), run.written_set())

    def test_bash_high_fds(self):
        run = rt.run_traced(["bash", "-c",
                             "exec 255>fd255.txt 200>fd200.txt; echo x >&200; "
                             "echo y >&255; cat fd200.txt"], self.tmp)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertEqual(run.proc.stdout, b"x\n")
        self.assertEqual(run.written_set(),
                         {self.path("fd255.txt"), self.path("fd200.txt")})

    def test_signal_handler_writes(self):
        run = self.fam("signal")
        self.assertEqual(run.written_set(), {self.path("from_handler.txt")})

    def test_threads_while_forking(self):
        run = self.fam("threads-fork")
        want = {self.path("t%d_%d.txt" % (t, i)) for t in range(4)
                for i in range(20)}
        want |= {self.path("child_%d.txt" % i) for i in range(10)}
        self.assertEqual(run.written_set(), want)
        self.assertEqual(len(run.processes()), 11)


if __name__ == "__main__":
    rt.main()
