# SPDX-License-Identifier: Apache-2.0
"""Scaffolding of the process lifecycle suites (test_lifecycle_*.py): a
program traced by the launcher or run bare as the control, both bounded
(roartest.bounded: the fixtures carry their own deadlines and the
launcher is killed, with its whole process group, when it overstays);
the environment handed to the programs that inspect their own; the
fixtures' "key=value" output; and LifecycleTest, which builds
fixtures/lifecycle/NAME.c and walks a report's process tree."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402

PY = "/usr/bin/python3"


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
