# SPDX-License-Identifier: Apache-2.0
"""Process lifecycle, who may speak for whom on the socket: a traced
program that sends frames in the name of other processes (pid 1, a
forged fork and exec) has them refused and counted, and its own
accepted."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402
from lifecycletest import LifecycleTest, launch, need_py_module  # noqa: E402


# ---- identity on the socket ----------------------------------------------

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


if __name__ == "__main__":
    rt.main()
