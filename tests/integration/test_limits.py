# SPDX-License-Identifier: Apache-2.0
"""The collector's limits (issue 9): out of file descriptors it neither
spins nor loses what it could keep, its memory stays bounded whatever its
senders send, and what it or the library cut short is marked in the
report, never dropped silently.  Every run is bounded: the launcher is
killed, with its whole process group, when it overstays."""
import glob
import os
import resource
import signal
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import time
import unittest

import msgpack

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402

PY = "/usr/bin/python3"
MiB = 1024 * 1024

# The traced command of the flood tests: waits (bounded) for the test to
# say "go", then runs one real traced process that reads a file.
DRIVER = textwrap.dedent("""\
    import os, subprocess, sys, time
    go, src = sys.argv[1], sys.argv[2]
    deadline = time.time() + 60
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.05)
    subprocess.run(["/bin/cat", src], stdout=subprocess.DEVNULL, check=True)
    """)

# Sends hellos with huge environments for the pid it runs as.
HELLOS = textwrap.dedent("""\
    import msgpack, os, socket, struct, sys, time
    sock, count, entries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    env = ["A="] * entries
    for i in range(count):
        payload = msgpack.packb({
            "kind": "hello", "pid": os.getpid(), "thread_id": os.getpid(),
            "proto": 1, "ppid": os.getppid(), "origin": "exec",
            "time": time.time() + i * 1e-3, "argv": ["hellos", str(i)],
            "env": env})
        assert len(payload) <= 4 * 1024 * 1024, len(payload)
        s.sendall(struct.pack("<I", len(payload)) + payload)
    s.close()
    """)



def _asan_lean():
    """In the sanitizer build, ASan keeps freed memory in quarantine
    (256 MB by default), which a memory bound would measure instead of
    ours: keep it small there.  Nothing changes in the normal build."""
    opts = os.environ.get("ASAN_OPTIONS")
    if opts is None:
        return {}
    return {"ASAN_OPTIONS": opts + ":quarantine_size_mb=4:"
            "thread_local_quarantine_size_kb=64"}

class Launch:
    """The launcher (which is the collector: it forks the command and
    collects in the parent) running argv, its socket directory under our
    own TMPDIR so that the test can find the socket."""

    def __init__(self, test, argv, nofile=None, timeout=120):
        self.report = test.path("report.msgpack")
        tmpdir = test.path("sockets")
        os.makedirs(tmpdir, exist_ok=True)
        self.tmpdir = tmpdir
        self.timeout = timeout
        self.start = time.time()

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.p = subprocess.Popen(
            [rt.tool("roar-tracer-preload"), self.report] + list(argv),
            cwd=test.tmp, env=rt.clean_env(dict(_asan_lean(),
                                                TMPDIR=tmpdir)),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True,
            preexec_fn=limit)

    def socket_path(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            for cand in glob.glob(os.path.join(self.tmpdir, "roar-*", "*")):
                if stat.S_ISSOCK(os.stat(cand).st_mode):
                    return cand
            time.sleep(0.02)
        self.kill()
        raise AssertionError("the launcher made no socket in %s"
                             % self.tmpdir)

    def hwm_kib(self):
        """The collector's peak resident set so far (VmHWM)."""
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise AssertionError("no VmHWM for the launcher")

    def kill(self):
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def finish(self):
        """Wait (bounded); returns (stderr, CPU seconds, report)."""
        left = max(1, self.timeout - (time.time() - self.start))
        try:
            _, err = self.p.communicate(timeout=left)
        except subprocess.TimeoutExpired:
            self.kill()
            _, err = self.p.communicate(timeout=10)
            raise AssertionError("the launcher still ran after %d s; "
                                 "stderr %r" % (self.timeout, err[-2000:]))
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (ru.ru_utime - self.ru0.ru_utime) + \
              (ru.ru_stime - self.ru0.ru_stime)
        if not os.path.exists(self.report):
            raise AssertionError("no report: rc %d, stderr %r"
                                 % (self.p.returncode, err[-2000:]))
        return err, cpu, rt.load_report(self.report)


class LimitsTest(rt.TracerTest):

    def driver(self):
        self.write("driver.py", DRIVER)
        src = self.write("input.txt", "lineage\n")
        go = self.path("go")
        return [PY, self.path("driver.py"), go, src], go, src

    def test_out_of_descriptors(self):
        """With idle connections holding every descriptor the collector
        may have, it neither spins nor floods stderr, counts what it
        refused, and the real process's reads still reach the report."""
        argv, go, src = self.driver()
        run = Launch(self, argv, nofile=48)
        idle = []
        try:
            path = run.socket_path()
            for _ in range(120):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                idle.append(s)
            time.sleep(1.0)          # the collector at its limit, idle
            open(go, "w").close()
            err, cpu, report = run.finish()
        finally:
            run.kill()
            for s in idle:
                s.close()
        print("out of descriptors: stderr %d bytes, CPU %.2f s, %d refused"
              % (len(err), cpu, report.get("connections_refused", -1)),
              file=sys.stderr)
        if os.environ.get("ROAR_TEST_VERBOSE"):
            print(err.decode(errors="replace"), file=sys.stderr)
        self.assertLess(len(err), 2000, err[-2000:])
        self.assertLessEqual(err.count(b"\n"), 6, err)
        self.assertLess(cpu, 1.5, "the collector spun: %.2f s CPU" % cpu)
        self.assertGreater(report["connections_refused"], 0)
        self.assertIn(src, report["read_files"])

    def test_partial_frames_bounded(self):
        """500 connections each holding most of a 4 MiB frame, then
        hanging: the collector stays far below 256 MB and the real
        process's reads still reach the report; the torn frames are
        counted."""
        argv, go, src = self.driver()
        run = Launch(self, argv, timeout=240)
        held = []
        try:
            path = run.socket_path()
            body = struct.pack("<I", 4 * MiB) + b"\xc0" * (4 * MiB - 4096)
            for _ in range(500):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                held.append(s)
                try:
                    s.sendall(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass             # torn down: counted, not kept
            time.sleep(0.5)
            hwm = run.hwm_kib()
            open(go, "w").close()
            err, cpu, report = run.finish()
        finally:
            run.kill()
            for s in held:
                s.close()
        print("partial frames: VmHWM %d KiB, stderr %d bytes, CPU %.2f s"
              % (hwm, len(err), cpu), file=sys.stderr)
        self.assertLess(hwm, 256 * 1024, "VmHWM %d KiB" % hwm)
        self.assertIn(src, report["read_files"])
        torn = report["roar_preload"]["frames_torn"]
        self.assertGreater(torn, 400)
        self.assertGreaterEqual(report["events_dropped"], torn)
        self.assertLess(len(err), 2000, err[-2000:])

    def test_huge_environments(self):
        """Five hellos of 1.3 M environment entries: bounded memory, and
        the sender's process is marked truncated."""
        argv, go, src = self.driver()
        self.write("hellos.py", HELLOS)
        run = Launch(self, argv)
        try:
            path = run.socket_path()
            sender = subprocess.run(
                [PY, self.path("hellos.py"), path, "5", "1300000"],
                capture_output=True, timeout=120)
            self.assertEqual(sender.returncode, 0, sender.stderr)
            time.sleep(0.5)
            hwm = run.hwm_kib()
            open(go, "w").close()
            err, cpu, report = run.finish()
        finally:
            run.kill()
        print("huge environments: VmHWM %d KiB" % hwm, file=sys.stderr)
        self.assertLess(hwm, 160 * 1024, "VmHWM %d KiB" % hwm)
        senders = [p for p in report["processes"]
                   if p["command"] and p["command"][0] == "hellos"]
        self.assertEqual(len(senders), 1, report["processes"])
        self.assertIs(senders[0]["truncated"], True)
        self.assertGreaterEqual(report["roar_preload"]["lists_truncated"], 5)
        self.assertIn(src, report["read_files"])

    def test_long_argv_marked(self):
        """/bin/true with 11 arguments of 60 KiB: what the report shows
        is the command or a prefix of it, and a prefix is marked."""
        args = ["/bin/true"] + [chr(ord("a") + i) * (60 * 1024)
                                for i in range(11)]
        run = Launch(self, args)
        err, cpu, report = run.finish()
        roots = [p for p in report["processes"] if p["parent_pid"] is None]
        self.assertEqual(len(roots), 1)
        cmd = roots[0]["command"]
        self.assertEqual(cmd, args[:len(cmd)])
        self.assertIs(roots[0]["truncated"], cmd != args,
                      "%d of %d arguments" % (len(cmd), len(args)))
        # The library's hello frame is 512 KiB: this one is cut.
        self.assertLess(len(cmd), len(args))
        summary = subprocess.run([rt.tool("roar-report"), "show", self.path(
            "report.msgpack")], capture_output=True, timeout=60)
        self.assertIn(b"truncated", summary.stdout + summary.stderr)

    def test_path_past_path_max(self):
        """A file reached by a relative name below a working directory
        deeper than PATH_MAX is reported by its full name."""
        self.write("deep.py", textwrap.dedent("""\
            import os
            os.mkdir("deep")
            os.chdir("deep")
            for i in range(23):
                os.mkdir("d" * 200)
                os.chdir("d" * 200)
            with open("leaf.txt", "w") as f:
                f.write("x")
            with open("leaf.txt") as f:
                f.read()
            """))
        run = Launch(self, [PY, self.path("deep.py")])
        err, cpu, report = run.finish()
        want = os.path.join(self.tmp, "deep", *(["d" * 200] * 23),
                            "leaf.txt")
        self.assertGreater(len(want), 4500)
        self.assertTrue(want in report["read_files"] and
                        want in report["written_files"],
                        "the %d-byte name is not in the report" % len(want))
        self.assertEqual(report["events_dropped"], 0)


if __name__ == "__main__":
    rt.main()
