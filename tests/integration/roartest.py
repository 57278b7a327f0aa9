# SPDX-License-Identifier: Apache-2.0
"""Shared helpers of the integration tests: run programs under the built
tracer, decode reports, build C fixtures, and find or install the tools a
test needs.  Every helper raises on failure; none hides one."""

import os
import tempfile
import shutil
import signal
import subprocess
import unittest

import msgpack

BUILD = os.environ.get("ROAR_BUILD_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
SRC = os.environ.get("ROAR_SRC_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..")
LIB = os.environ.get("ROAR_TEST_LIB") or os.path.join(
    BUILD, "preload", "libroar_preload.so")
FIXTURES = os.path.join(SRC, "tests", "integration", "fixtures")


def tool(name):
    """Path of one of our programs in the build tree."""
    return os.path.join(BUILD, "collector", name)


def clean_env(extra=None):
    """The environment for a traced run: ours, without a tracer of its own."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "ROAR_PRELOAD_TRACE_SOCK", "ROAR_REPORT")}
    env["ROAR_PRELOAD_LIB"] = LIB
    if extra:
        env.update(extra)
    return env


def load_report(path):
    with open(path, "rb") as f:
        return msgpack.unpackb(f.read(), raw=False, strict_map_key=False)


class Run:
    """A finished traced run: its process result and its decoded report."""

    def __init__(self, proc, report, report_path):
        self.proc = proc
        self.report = report
        self.report_path = report_path

    @property
    def returncode(self):
        return self.proc.returncode

    def files(self):
        return {f["path"]: f for f in self.report["files"]}

    def read_set(self):
        return {f["path"] for f in self.report["files"] if f["read"]}

    def written_set(self):
        return {f["path"] for f in self.report["files"] if f["written"]}

    def processes(self):
        return self.report["processes"]

    def proc_by_pid(self):
        return {p["pid"]: p for p in self.report["processes"]}

    def roots(self):
        return [p for p in self.report["processes"] if p["parent_pid"] is None]

    def commands(self):
        return [p["command"] for p in self.report["processes"]]

    def procs_running(self, name):
        """Processes whose argv[0] ends with name."""
        return [p for p in self.report["processes"]
                if p["command"] and os.path.basename(p["command"][0]) == name]


_wrapper = None


def traced_wrapper():
    """What every traced run is prefixed with: [] normally; under
    ROAR_TEST_NOPTRACE=1 the noptrace fixture (ptrace forbidden by
    seccomp, CAP_SYS_PTRACE dropped), checked once to really ban both."""
    global _wrapper
    if _wrapper is not None:
        return _wrapper
    if not os.environ.get("ROAR_TEST_NOPTRACE"):
        _wrapper = []
        return _wrapper
    out = os.path.join(tempfile.mkdtemp(prefix="roar-noptrace-"), "noptrace")
    compile_c(os.path.join(FIXTURES, "lifecycle", "noptrace.c"), out)
    check = subprocess.run([out, "--check"], capture_output=True)
    if check.stdout != b"ptrace=EPERM cap_sys_ptrace=0\n":
        raise AssertionError("noptrace does not ban ptrace here: %r %r"
                             % (check.stdout, check.stderr))
    _wrapper = [out]
    return _wrapper


def run_traced(argv, cwd, env=None, via="launcher", timeout=300, stdin=None,
               report=None, stdout=None):
    """Run argv traced and return a Run.  via: 'launcher'
    (roar-tracer-preload), 'roar-run', or 'plain' (LD_PRELOAD only).
    stdout: a file for the command's stdout (else it is captured)."""
    report = report or os.path.join(cwd, "report.msgpack")
    if os.path.exists(report):
        os.unlink(report)
    e = clean_env(env)
    if via == "launcher":
        cmd = [tool("roar-tracer-preload"), report] + list(argv)
    elif via == "roar-run":
        cmd = [tool("roar-run"), "-q", "-o", report, "--"] + list(argv)
    elif via == "plain":
        cmd = list(argv)
        e["LD_PRELOAD"] = LIB
        e["ROAR_REPORT"] = report
    else:
        raise ValueError(via)
    proc = subprocess.run(traced_wrapper() + cmd, cwd=cwd, env=e,
                          stdout=stdout or subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout,
                          stdin=stdin)
    if via == "plain":
        wait_for_file(report, 30)
    if not os.path.exists(report):
        raise AssertionError("no report written by %r: stderr %r"
                             % (cmd, proc.stderr))
    return Run(proc, load_report(report), report)


def finish(p, timeout, what):
    """p.communicate() within timeout; on overstay kill p's process group
    (start it with start_new_session=True) and fail."""
    try:
        return p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            _, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            err = b""
        raise AssertionError("%s still running after %d s; stderr %r"
                             % (what, timeout, (err or b"")[-2000:]))


def bounded(cmd, cwd, env, timeout, what, stdout=subprocess.PIPE):
    """Run cmd in a session of its own, within timeout seconds (else kill
    that process group and fail).  Returns a CompletedProcess."""
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                         stdout=stdout, stderr=subprocess.PIPE,
                         start_new_session=True)
    out, err = finish(p, timeout, "%s (%r)" % (what, cmd))
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def wait_for_file(path, seconds):
    import time
    deadline = time.time() + seconds
    while time.time() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.02)
    return False


def have(program):
    return shutil.which(program) is not None


def ensure_tool(program, package):
    """Find program, installing Debian's package when we may (root)."""
    if have(program):
        return shutil.which(program)
    if os.geteuid() == 0 and have("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", package],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if not have(program):
        raise unittest.SkipTest("%s is not installed and package %s could "
                                "not be installed here" % (program, package))
    return shutil.which(program)


def compile_c(src, out, flags=()):
    """Build a C fixture with gcc; src is a file name under fixtures/ or
    a path."""
    cc = ensure_tool("gcc", "gcc")
    path = src if os.path.isabs(src) else os.path.join(FIXTURES, src)
    subprocess.run([cc, "-std=gnu11", "-Wall", "-o", out, path] + list(flags)
                   + ["-lpthread"], check=True)
    return out


class TracerTest(unittest.TestCase):
    """A test case with a fresh scratch directory (canonical path)."""

    def setUp(self):
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix="roar-test-"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def write(self, name, data="data\n"):
        p = self.path(name)
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(p, mode) as f:
            f.write(data)
        return p

    def assertOneRoot(self, run):
        roots = run.roots()
        self.assertEqual(len(roots), 1, "exactly one root: %r" % roots)
        return roots[0]


def main():
    unittest.main(verbosity=2)
