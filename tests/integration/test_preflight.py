# SPDX-License-Identifier: Apache-2.0
"""roar-tracer-preload --preflight end to end: its checks as JSON and as
text for a dynamic program, a set-ID one (a warning, not a failure),
static programs and busybox scripts the supervisor traces, a script
without #! (and that it really runs so), and commands missing or not
executable."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402


class Preflight(rt.TracerTest):
    def preflight(self, command, text=False):
        """roar-tracer-preload --preflight for command: (exit, JSON or
        text, {check name: check})."""
        argv = [rt.tool("roar-tracer-preload"), "--preflight",
                "--command", command]
        r = subprocess.run(argv if text else argv + ["--json"],
                           capture_output=True, env=rt.clean_env(),
                           cwd=self.tmp)
        if text:
            return r.returncode, r.stdout.decode(), None
        d = json.loads(r.stdout)
        self.assertEqual(d["backend"], "preload")
        self.assertEqual(d["command_checked"], command)
        checks = {c["name"]: c for c in d["checks"]}
        self.assertEqual(len(checks), len(d["checks"]))
        self.assertTrue(all(checks[n]["ok"] for n in
                            ("platform", "library", "socket_dir",
                             "probe_run")), d)
        return r.returncode, d, checks

    def test_preflight_json(self):
        code, d, checks = self.preflight("ls")
        self.assertEqual(code, 0, d)
        self.assertIs(d["ok"], True)
        self.assertEqual(d["warnings"], [])
        self.assertTrue(all(c["ok"] for c in d["checks"]))
        self.assertEqual(checks["command"]["detail"],
                         "found and executable: " + shutil.which("ls"))
        self.assertEqual(checks["command_compatibility"]["detail"],
                         "traced by preload: dynamically linked program")

    def test_preflight_set_id_warns_but_passes(self):
        # roar reads a failed "command" as "not on PATH": a set-ID
        # program is found, and only runs untraced.
        prog = self.path("true-setuid")
        shutil.copy("/bin/true", prog)
        os.chmod(prog, 0o4755)
        code, d, checks = self.preflight(prog)
        self.assertEqual(code, 0, d)
        self.assertIs(d["ok"], True)
        self.assertIs(checks["command"]["ok"], True)
        compat = checks["command_compatibility"]
        self.assertIs(compat["ok"], False)
        self.assertEqual(compat["detail"],
                         "set-user-ID or set-group-ID program: it runs "
                         "untraced (listed with the reason)")
        self.assertEqual(d["warnings"], [compat["detail"]])
        self.assertIn("runs untraced", d["summary"])
        code, text, _ = self.preflight(prog, text=True)
        self.assertEqual(code, 0, text)
        self.assertIn("preload tracing: ok\n", text)
        self.assertIn("  [warn] command_compatibility: set-user-ID", text)
        self.assertIn("  [ok] command: found and executable: " + prog, text)

    def assertSupervised(self, command, what):
        code, d, checks = self.preflight(command)
        self.assertEqual(code, 0, d)
        self.assertIs(d["ok"], True)
        self.assertEqual(d["warnings"], [])
        self.assertIs(checks["command"]["ok"], True)
        self.assertEqual(checks["command_compatibility"],
                         {"name": "command_compatibility", "ok": True,
                          "detail": "traced by the seccomp supervisor: " +
                          what})

    def test_preflight_static_binary(self):
        exe = self.path("static_prog")
        try:
            rt.compile_c("fork_child_writes.c", exe, ["-static"])
        except subprocess.CalledProcessError:
            self.skipTest("no static libc (libc6-dev's libc.a) to link with")
        self.assertSupervised(exe, "static binary")

    def test_preflight_busybox(self):
        bb = "/bin/busybox"
        if not os.access(bb, os.X_OK):
            self.skipTest("/bin/busybox is not installed (busybox-static)")
        with open(bb, "rb") as f:
            if b"ld-linux" in f.read(4096):
                self.skipTest("/bin/busybox is dynamically linked here "
                              "(busybox, not busybox-static)")
        self.assertSupervised(bb, "static binary")
        script = self.write("bb.sh", "#!/bin/busybox sh\necho hi\n")
        os.chmod(script, 0o755)
        self.assertSupervised(script, "script for /bin/busybox: static "
                              "binary")

    def test_preflight_script_without_shebang(self):
        # execvp and the launcher run it with /bin/sh (ENOEXEC).
        script = self.write("plain-script", "echo hi\n")
        os.chmod(script, 0o755)
        code, d, checks = self.preflight(script)
        self.assertEqual(code, 0, d)
        self.assertIs(d["ok"], True)
        self.assertEqual(checks["command"]["detail"],
                         "found and executable: " + script)
        compat = checks["command_compatibility"]
        self.assertIs(compat["ok"], True)
        self.assertRegex(compat["detail"], "^traced by (preload|the seccomp "
                         "supervisor): no #! line, run by /bin/sh: ")
        # It really runs so, under the tracer.
        run = rt.run_traced([script], self.tmp)
        self.assertEqual(run.returncode, 0)
        self.assertEqual(run.proc.stdout, b"hi\n")

    def test_preflight_missing_or_not_executable(self):
        code, d, checks = self.preflight("roar-no-such-command")
        self.assertEqual(code, 1)
        self.assertIs(d["ok"], False)
        self.assertEqual(checks["command"],
                         {"name": "command", "ok": False,
                          "detail": "roar-no-such-command was not found "
                          "on PATH"})
        self.assertIs(checks["command_compatibility"]["ok"], False)
        text = self.write("text", "echo\n")
        code, d, checks = self.preflight(text)
        self.assertEqual(code, 1)
        self.assertEqual(checks["command"]["detail"],
                         text + " is not executable")



if __name__ == "__main__":
    rt.main()
