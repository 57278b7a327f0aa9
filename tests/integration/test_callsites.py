# SPDX-License-Identifier: Apache-2.0
"""Call sites (README "Call sites"): the first access of each (path, kind)
in a process carries its stack, symbolized when the report is written;
`roar-report callsites REPORT [PATH]` prints one line per access.  They
are off by default; ROAR_CALLSITES=1 turns them on.  Python programs get
their native frames (the interpreter's C functions), not Python-level
ones."""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402

FIX = os.path.join(rt.FIXTURES, "callsites")
_built = {}


# Call sites are asked for (they are off by default).
ON = {"ROAR_CALLSITES": "1"}

def build(name):
    """A fixture of fixtures/callsites, built once with -g -O0."""
    if name not in _built:
        d = tempfile.mkdtemp(prefix="roar-callsites-")
        _built[name] = rt.compile_c(os.path.join(FIX, name + ".c"),
                                    os.path.join(d, name), ["-g", "-O0"])
    return _built[name]


def line_of(src, marker):
    with open(os.path.join(FIX, src)) as f:
        for n, line in enumerate(f, 1):
            if marker in line:
                return n
    raise AssertionError("no %r in %s" % (marker, src))


def callsites(run):
    """(process, callsite) for every call site of the report."""
    return [(p, c) for p in run.processes() for c in p.get("callsites", [])]


class CallSites(rt.TracerTest):
    def report_lines(self, run, *path):
        out = subprocess.run([rt.tool("roar-report"), "callsites",
                              run.report_path] + list(path),
                             capture_output=True, check=True)
        return out.stdout.decode("utf-8", "replace").splitlines()

    def test_c_function_and_line(self):
        exe = build("cfg")
        self.write("config.txt", "a\nb\n")
        run = rt.run_traced([exe], self.tmp, env=ON)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        # What the program sees is what it sees untraced: libunwind holds
        # none of its descriptors.
        bare = subprocess.run([exe], cwd=self.tmp, capture_output=True)
        self.assertEqual(run.proc.stdout, bare.stdout)
        self.assertEqual(bare.stdout, b"2 fd 3 4\n")
        lines = self.report_lines(run, "config.txt")
        self.assertEqual(len(lines), 1, lines)
        want = "cfg.c:%d" % line_of("cfg.c", "/* CALLSITE */")
        fields = lines[0].split()
        self.assertEqual(fields[2], "read", lines)
        self.assertEqual(fields[3], self.path("config.txt"), lines)
        # Innermost first: load_config at the fopen line, then main.
        frames = lines[0].split("  at ", 1)[1].split(" <- ")
        self.assertTrue(frames[0].startswith("load_config ("), frames)
        self.assertIn(want + ")", frames[0])
        self.assertTrue(frames[1].startswith("main ("), frames)
        # The report itself: module, offset, function, file, line.
        sites = [c for _, c in callsites(run)
                 if c["path"] == self.path("config.txt")]
        self.assertEqual(len(sites), 1)
        top = sites[0]["frames"][0]
        self.assertEqual(os.path.realpath(top["module"]),
                         os.path.realpath(exe))
        self.assertEqual(top["function"], "load_config")
        self.assertTrue(top["file"].endswith("cfg.c"), top)
        self.assertEqual(top["line"], int(want.split(":")[1]))
        self.assertIsInstance(top["offset"], int)

    def test_clang_program_without_aranges(self):
        # clang writes no .debug_aranges unless asked: the line is found
        # by walking the compile units.
        clang = rt.ensure_tool("clang", "clang")
        exe = self.path("cfg_clang")
        subprocess.run([clang, "-g", "-O0", "-o", exe,
                        os.path.join(FIX, "cfg.c")], check=True)
        self.write("config.txt", "a\n")
        run = rt.run_traced([exe], self.tmp, env=ON)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        lines = self.report_lines(run, "config.txt")
        self.assertEqual(len(lines), 1, lines)
        want = "cfg.c:%d)" % line_of("cfg.c", "/* CALLSITE */")
        frames = lines[0].split("  at ", 1)[1].split(" <- ")
        self.assertTrue(frames[0].startswith("load_config ("), frames)
        self.assertIn(want, frames[0])

    def test_off_switch(self):
        exe = build("cfg")
        self.write("config.txt", "a\n")
        # Off by default, and with ROAR_CALLSITES=0.
        for env in ({}, {"ROAR_CALLSITES": "0"}):
            run = rt.run_traced([exe], self.tmp, env=env)
            self.assertEqual(run.returncode, 0, run.proc.stderr)
            self.assertIn(self.path("config.txt"), run.read_set())
            self.assertEqual(callsites(run), [])
            self.assertEqual(self.report_lines(run), [])

    def test_later_accesses_add_nothing(self):
        exe = build("cfg")
        self.write("config.txt", "a\n")
        run = rt.run_traced(["/bin/sh", "-c", "%s; %s" % (exe, exe)],
                            self.tmp, env=ON)
        # One call site per process that read it (two cfg processes), and
        # none for the shell, which did not.
        readers = [p for p, c in callsites(run)
                   if c["path"] == self.path("config.txt")]
        self.assertEqual(len(readers), 2)
        self.assertEqual(len({p["pid"] for p in readers}), 2)

    def test_python_native_frames(self):
        data = self.write("data.txt", "x\n")
        py = os.path.realpath(sys.executable)
        run = rt.run_traced(
            [py, "-c", "open(%r).read()" % data], self.tmp, env=ON)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        sites = [c for _, c in callsites(run) if c["path"] == data]
        self.assertEqual(len(sites), 1, callsites(run))
        mods = {os.path.basename(f["module"] or "")
                for f in sites[0]["frames"]}
        self.assertTrue(any("python" in m for m in mods), mods)
        self.assertTrue(any(f["function"] for f in sites[0]["frames"]),
                        sites[0])
        self.assertEqual(len(self.report_lines(run, "data.txt")), 1)

    def test_signal_handler_and_threads(self):
        exe = build("sigthreads")
        run = rt.run_traced([exe], self.tmp, timeout=120, env=ON)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertEqual(run.proc.stdout, b"ok\n")
        written = run.written_set()
        for i in range(4):
            for k in range(50):
                self.assertIn(self.path("t%d_%d.txt" % (i, k)), written)
        on_disk = {self.path(f) for f in os.listdir(self.tmp)
                   if f.startswith("h") or f.startswith("t")}
        self.assertGreaterEqual(len(on_disk), 21)
        self.assertEqual(on_disk - written, set(),
                         "events_dropped %r" % run.report["events_dropped"])
        sites = {c["path"]: c for _, c in callsites(run)}
        # Every thread's files: a stack through worker (main loaded
        # libunwind before the threads started).
        for i in range(4):
            for k in range(50):
                c = sites.get(self.path("t%d_%d.txt" % (i, k)))
                self.assertIsNotNone(c, (i, k))
                self.assertIn("worker",
                              [f["function"] for f in c["frames"]])
        self.assertIn(self.path("m.txt"), sites)
        # The handler's first open was the process's first access: no
        # libunwind is loaded inside a handler, so it has no call site.
        self.assertNotIn(self.path("h0.txt"), sites)
        # Once loaded, handlers unwind through their signal frame.
        handled = [c for p, c in sites.items()
                   if os.path.basename(p).startswith("h")]
        self.assertTrue(handled)
        for c in handled:
            self.assertEqual(c["frames"][0]["function"], "on_alarm", c)


if __name__ == "__main__":
    rt.main()
