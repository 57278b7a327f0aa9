# SPDX-License-Identifier: Apache-2.0
"""roar-report's views (issue 13): dot renders with Graphviz and names
the files, diff names what changed, merge combines hosts' reports, pipes
link the processes of a shell pipeline, the summary folds system files,
and the bundled examples trace to their key inputs and outputs."""
import html
import os
import shutil
import socket
import subprocess
import sys
import unittest

import msgpack

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402

REPORT = rt.tool("roar-report")
EXAMPLES = os.path.join(rt.SRC, "examples")


def report_cmd(*args, **kw):
    return subprocess.run([REPORT] + list(args), capture_output=True,
                          timeout=120, **kw)


def dot_edges(text):
    """The edges of a roar-report dot graph: {(from, to)}, and labels."""
    edges, labels = set(), {}
    for line in text.splitlines():
        line = line.strip()
        if "->" in line:
            a, b = line.split("->", 1)
            edges.add((a.strip(), b.split("[")[0].strip(" ;")))
        elif "label=" in line and line[0] in "pf":
            node = line.split()[0]
            labels[node] = line.split('label="', 1)[1].rsplit('"', 1)[0]
    return edges, labels


def reachable(edges, start):
    seen, todo = {start}, [start]
    while todo:
        n = todo.pop()
        for a, b in edges:
            if a == n and b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


class Pipes(rt.TracerTest):
    def run_pipeline(self):
        self.write("a", "b\na\nb\n")
        return rt.run_traced(["sh", "-c", "cat a | sort | uniq > c"],
                             self.tmp)

    def test_pipes_link_cat_sort_uniq(self):
        run = self.run_pipeline()
        self.assertEqual(run.returncode, 0)
        pid = {os.path.basename(p["command"][0]): p["pid"]
               for p in run.processes() if p["command"]}
        links = set()
        for p in run.report["pipes"]:
            self.assertTrue(p["id"].startswith("pipe:["))
            for w in p["writers"]:
                for r in p["readers"]:
                    links.add((w, r))
        self.assertIn((pid["cat"], pid["sort"]), links)
        self.assertIn((pid["sort"], pid["uniq"]), links)
        # A pipe is never a file: roar would count it as one.
        for f in run.report["files"]:
            self.assertFalse(f["path"].startswith("pipe:"), f)

    def test_dot_has_a_path_from_a_to_c(self):
        run = self.run_pipeline()
        out = report_cmd("dot", run.report_path)
        self.assertEqual(out.returncode, 0, out.stderr)
        edges, labels = dot_edges(out.stdout.decode())
        node = {v: k for k, v in labels.items()}
        a, c = node[self.path("a")], node[self.path("c")]
        # Not through the process tree: parent edges are left out.
        data = {(x, y) for x, y in edges}
        parent = set()
        for line in out.stdout.decode().splitlines():
            if "style=dashed" in line:
                x, y = line.strip().split("->", 1)
                parent.add((x.strip(), y.split("[")[0].strip()))
        self.assertIn(c, reachable(data - parent, a))

    def test_dot_renders_with_graphviz(self):
        dot = rt.ensure_tool("dot", "graphviz")
        run = self.run_pipeline()
        g = report_cmd("dot", run.report_path)
        svg = subprocess.run([dot, "-Tsvg"], input=g.stdout,
                             capture_output=True, timeout=120)
        self.assertEqual(svg.returncode, 0, svg.stderr)
        text = html.unescape(svg.stdout.decode())
        self.assertIn("<svg", text)
        self.assertIn(self.path("a"), text)
        self.assertIn(self.path("c"), text)
        self.assertIn("pipe", text)


class Diff(rt.TracerTest):
    def test_diff_names_changed_output(self):
        self.write("in.txt", "x\n")
        a = rt.run_traced(["sh", "-c", "cat in.txt > out1"], self.tmp,
                          report=self.path("a.msgpack"))
        b = rt.run_traced(["sh", "-c", "cat in.txt > out2"], self.tmp,
                          report=self.path("b.msgpack"))
        same = report_cmd("diff", a.report_path, a.report_path)
        self.assertEqual(same.returncode, 0, same.stdout)
        self.assertEqual(same.stdout, b"")
        d = report_cmd("diff", a.report_path, b.report_path)
        self.assertEqual(d.returncode, 1, d.stderr)
        text = d.stdout.decode()
        self.assertIn("outputs removed:\n  - %s\n" % self.path("out1"), text)
        self.assertIn("outputs added:\n  + %s\n" % self.path("out2"), text)
        self.assertIn("commands added:\n  + sh -c 'cat in.txt > out2'",
                      text)
        self.assertNotIn("inputs", text)


class Cli(rt.TracerTest):
    def test_unknown_subcommand(self):
        out = report_cmd("bogus", "x.msgpack")
        self.assertEqual(out.returncode, 2)
        err = out.stderr.decode()
        self.assertIn("'bogus'", err)
        for c in ("show", "json", "dot", "diff", "merge"):
            self.assertIn(c, err)

    def test_version(self):
        out = report_cmd("--version")
        self.assertEqual(out.returncode, 0)
        self.assertRegex(out.stdout.decode(), r"^roar-report \d+\.\d+")

    def test_json_still_works(self):
        self.write("f", "1\n")
        run = rt.run_traced(["cat", "f"], self.tmp)
        import json
        out = report_cmd("json", run.report_path)
        self.assertEqual(out.returncode, 0)
        j = json.loads(out.stdout)
        self.assertEqual(j["read_files"], [self.path("f")])
        self.assertIn("pipes", j)


class Summary(rt.TracerTest):
    def test_system_files_folded_temporaries_gone(self):
        py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
            else shutil.which("python3")
        script = self.write("s.py", "import json, csv, gzip\n"
                            "open('tmp.txt', 'w').write('x')\n"
                            "import os; os.unlink('tmp.txt')\n"
                            "open('kept.txt', 'w').write('y')\n")
        run = rt.run_traced([py, script, "x" * 150], self.tmp)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        short = report_cmd("show", run.report_path).stdout.decode()
        full = report_cmd("show", "--all", run.report_path).stdout.decode()
        self.assertRegex(short, r"\+ \d+ system files \(--all to list\)")
        self.assertNotIn("/usr/lib/python3", short)
        self.assertIn("/usr/lib/python3", full)
        self.assertLess(len(short.splitlines()), len(full.splitlines()))
        self.assertIn(self.path("tmp.txt") + " (gone)", short)
        self.assertIn(self.path("kept.txt") + "\n", short)
        self.assertIn("\u2026", short)          # the long argv cut
        self.assertIn("x" * 150, full)
        self.assertIn("Summary: 1 process,", short)

    def test_interpreter_prefix_lib_is_system(self):
        # A pyenv-like prefix: <prefix>/bin/python3 reading <prefix>/lib.
        prefix = self.path("prefix")
        os.makedirs(os.path.join(prefix, "bin"))
        os.makedirs(os.path.join(prefix, "lib", "python3.99"))
        lib = self.write("prefix/lib/python3.99/mod.py", "x\n")
        own = self.write("mine.txt", "y\n")
        fake = os.path.join(prefix, "bin", "python3")
        shutil.copy(shutil.which("cat"), fake)
        run = rt.run_traced([fake, lib, own], self.tmp)
        short = report_cmd("show", run.report_path).stdout.decode()
        self.assertNotIn("read    " + lib, short)
        self.assertIn("read    " + own, short)
        self.assertIn("+ 1 system file (--all to list)", short)


class Merge(rt.TracerTest):
    def test_merge_two_hosts(self):
        self.write("in.txt", "x\n")
        a = rt.run_traced(["sh", "-c", "cat in.txt > a.out"], self.tmp,
                          report=self.path("a.msgpack"))
        b = rt.run_traced(["sh", "-c", "cat in.txt > b.out"], self.tmp,
                          report=self.path("b.msgpack"))
        here = socket.gethostname()
        self.assertTrue(all(p["host"] == here for p in a.processes()))
        # The second run "happened" on another machine, with the first
        # run's pids (which must not be taken for the same processes).
        rb = dict(b.report)
        pidmap = {p["pid"]: q["pid"] for p, q in
                  zip(sorted(rb["processes"], key=lambda p: p["pid"]),
                      sorted(a.processes(), key=lambda p: p["pid"]))}
        for p in rb["processes"]:
            p["host"] = "node2"
            p["pid"] = pidmap[p["pid"]]
            if p["parent_pid"] is not None:
                p["parent_pid"] = pidmap[p["parent_pid"]]
        with open(self.path("b2.msgpack"), "wb") as fh:
            fh.write(msgpack.packb(rb, use_bin_type=True))
        out = report_cmd("merge", self.path("m.msgpack"), a.report_path,
                         self.path("b2.msgpack"))
        self.assertEqual(out.returncode, 0, out.stderr)
        m = rt.load_report(self.path("m.msgpack"))
        self.assertEqual(m["version"], 1)
        self.assertEqual(sorted(m["hosts"]), sorted([here, "node2"]))
        procs = m["processes"]
        self.assertEqual(len(procs), len(a.processes()) + len(rb["processes"]))
        keys = {(p["host"], p["pid"]) for p in procs}
        self.assertEqual(len(keys), len(procs))
        # Same pids on both hosts, and each parent is on its own host.
        self.assertEqual({p["pid"] for p in procs if p["host"] == here},
                         {p["pid"] for p in procs if p["host"] == "node2"})
        for p in procs:
            if p["parent_pid"] is not None:
                self.assertIn((p["host"], p["parent_pid"]), keys)
        files = {(f["host"], f["path"]) for f in m["files"]}
        self.assertIn((here, self.path("in.txt")), files)
        self.assertIn(("node2", self.path("in.txt")), files)
        self.assertIn((here, self.path("a.out")), files)
        self.assertIn(("node2", self.path("b.out")), files)
        self.assertNotIn((here, self.path("b.out")), files)
        self.assertEqual(sorted(m["written_files"]),
                         [self.path("a.out"), self.path("b.out")])
        # The views take it: one tree per host, each named.
        show = report_cmd("show", self.path("m.msgpack"))
        self.assertEqual(show.returncode, 0, show.stderr)
        self.assertIn("@node2]", show.stdout.decode())
        g = report_cmd("dot", self.path("m.msgpack"))
        self.assertEqual(g.returncode, 0)

    def test_merge_refuses_one_host_twice(self):
        self.write("in.txt", "x\n")
        a = rt.run_traced(["cat", "in.txt"], self.tmp)
        out = report_cmd("merge", self.path("m.msgpack"), a.report_path,
                         a.report_path)
        self.assertEqual(out.returncode, 1)
        self.assertIn("both of host", out.stderr.decode())


class Examples(rt.TracerTest):
    def run_example(self, name, env=None):
        work = self.path(name)
        shutil.copytree(os.path.join(EXAMPLES, name), work)
        return work, rt.run_traced(["./run.sh"], work, env=env,
                                   report=self.path(name + ".msgpack"))

    def test_data_pipeline(self):
        py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
            else shutil.which("python3")
        rt.ensure_tool("gzip", "gzip")
        w, run = self.run_example("data-pipeline", {"PYTHON": py})
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        j = os.path.join
        self.assertIn(j(w, "generate.py"), run.read_set())
        self.assertIn(j(w, "summarize.py"), run.read_set())
        self.assertIn(j(w, "out", "readings.csv.gz"), run.read_set())
        self.assertIn(j(w, "out", "readings.csv.gz"), run.written_set())
        self.assertIn(j(w, "out", "summary.json"), run.written_set())

    def test_make_build(self):
        rt.ensure_tool("make", "make")
        rt.ensure_tool("gcc", "gcc")
        w, run = self.run_example("make-build")
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertEqual(run.proc.stdout, b"hello, roar\n")
        j = os.path.join
        for src in ("Makefile", "src/main.c", "src/greet.c", "src/greet.h"):
            self.assertIn(j(w, src), run.read_set())
        for out in ("build/main.o", "build/greet.o", "build/hello"):
            self.assertIn(j(w, out), run.written_set())

    def test_shell_pipeline(self):
        w, run = self.run_example("shell-pipeline")
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertIn(os.path.join(w, "words.txt"), run.read_set())
        self.assertIn(os.path.join(w, "out", "counts.txt"),
                      run.written_set())
        # Four pipes between five processes.
        linked = [p for p in run.report["pipes"]
                  if p["writers"] and p["readers"]]
        self.assertGreaterEqual(len(linked), 4)

    def test_examples_have_readme_and_graph(self):
        for name in ("data-pipeline", "make-build", "shell-pipeline"):
            d = os.path.join(EXAMPLES, name)
            with open(os.path.join(d, "README.md")) as fh:
                text = fh.read()
            self.assertIn("lineage.png", text)
            self.assertIn("render.sh", text)
            png = os.path.join(d, "lineage.png")
            with open(png, "rb") as fh:
                self.assertEqual(fh.read(8), b"\x89PNG\r\n\x1a\n")
            self.assertLess(os.path.getsize(png), 200 * 1024)


if __name__ == "__main__":
    rt.main()
