# SPDX-License-Identifier: Apache-2.0
"""The installed and linked artefacts: meson install's layout (the
launcher finding the library beside it, as in roar's packaged bin/), the
library's exports against its version script, and the few libraries it
needs."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import roartest as rt  # noqa: E402


class Install(rt.TracerTest):
    def test_meson_install_layout(self):
        dest = self.path("dest")
        r = subprocess.run(["meson", "install", "-C", rt.BUILD, "--destdir",
                            dest, "--no-rebuild"], capture_output=True)
        if r.returncode != 0 and b"--destdir" in r.stderr:
            self.skipTest("this meson has no --destdir")
        self.assertEqual(r.returncode, 0, r.stderr)
        prefix = subprocess.run(["meson", "introspect", "--buildoptions",
                                 rt.BUILD], capture_output=True, text=True)
        opts = {o["name"]: o["value"] for o in json.loads(prefix.stdout)}
        bindir = dest + os.path.join(opts["prefix"], opts["bindir"])
        for name in ("roar-tracer-preload", "roar-run", "roar-report",
                     "roar-collector", "libroar_preload.so",
                     "libroar_tracer_preload.so"):
            self.assertTrue(os.path.exists(os.path.join(bindir, name)), name)
        self.assertEqual(os.readlink(os.path.join(bindir,
                                                  "libroar_tracer_preload.so")),
                         "libroar_preload.so")
        # Dropped into a directory of its own, the launcher finds the
        # library beside it, as in roar's packaged bin/.
        if os.path.realpath(rt.LIB) != os.path.realpath(
                os.path.join(rt.BUILD, "preload", "libroar_preload.so")):
            self.skipTest("sanitizer build: its own library is instrumented "
                          "and cannot be preloaded into ordinary programs; "
                          "the plain build runs this part")
        self.write("in", "x")
        env = rt.clean_env()
        del env["ROAR_PRELOAD_LIB"]
        r = subprocess.run([os.path.join(bindir, "roar-tracer-preload"),
                            "rep.msgpack", "cp", "in", "out"], cwd=self.tmp,
                           env=env, capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        rep = rt.load_report(self.path("rep.msgpack"))
        self.assertEqual(rep["written_files"], [self.path("out")])


class Structure(unittest.TestCase):
    def test_exports_match_version_script(self):
        lib = rt.LIB
        nm = subprocess.run(["nm", "-D", "--defined-only", lib],
                            capture_output=True, text=True, check=True).stdout
        exported = {l.split()[-1].split("@")[0] for l in nm.splitlines()
                    if l.split()[1] in ("T", "W", "i")}
        with open(os.path.join(rt.SRC, "preload", "exports.sym")) as fh:
            sym = fh.read()
        body = sym.split("global:")[1].split("local:")[0]
        listed = {s.strip() for s in body.replace("\n", " ").split(";")
                  if s.strip()}
        self.assertEqual(exported, listed)

    def test_needed_libraries_minimal(self):
        out = subprocess.run(["readelf", "-d", rt.LIB], capture_output=True,
                             text=True, check=True).stdout
        needed = {l.split("[")[1].split("]")[0] for l in out.splitlines()
                  if "(NEEDED)" in l}
        self.assertTrue(needed <= {"libc.so.6", "ld-linux-x86-64.so.2",
                                   "ld-linux-aarch64.so.1"}, needed)



if __name__ == "__main__":
    rt.main()
