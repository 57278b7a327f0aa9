# SPDX-License-Identifier: Apache-2.0
"""Process lifecycle, the program's own environment: what env -i, system()
after unsetenv("LD_PRELOAD"), popen and an LD_PRELOAD set empty see is
what they would see untraced, while their children stay traced; and
popen's streams (fclose reaping the child and returning its status,
every mode string) behave as untraced."""
import errno
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402
from lifecycletest import (  # noqa: E402
    LifecycleTest, launch, program_env, tracer_vars, untraced)


# ---- the environment is the program's ------------------------------------

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


# ---- LD_PRELOAD set empty by the program ---------------------------------

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


# ---- popen: fclose and mode strings --------------------------------------

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


# ---- regressions of a second review --------------------------------------

class SecondReview(LifecycleTest):
    """Regressions of a second review: each failed before its fix."""

    def test_fclose_of_popen_stream_returns_wait_status(self):
        exe = self.build("popen_status")
        plain = untraced([exe], self.tmp)
        self.assertEqual(plain.stdout, b"fclose=768 pclose=768\n")
        run = launch([exe], self.tmp, timeout=30)
        self.assertEqual(run.proc.stdout, plain.stdout)


if __name__ == "__main__":
    rt.main()
