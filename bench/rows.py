# SPDX-License-Identifier: Apache-2.0
"""The rows of bench/run: each workload, the files it works on, and what
it is judged against.  define_rows is the main table, sup_rows the
seccomp supervisor's rows (static and Go programs against strace -f)."""

import os

PY = "/usr/bin/python3"
PY_IMPORTS = "import json, email, http.client, xml.dom.minidom, sqlite3"


def make_files(d, n, size, per_dir=None):
    payload = (b"roar bench data\n" * (size // 16 + 1))[:size]
    for i in range(n):
        sub = d if per_dir is None else os.path.join(d, "d%03d" % (i // per_dir))
        if per_dir is not None and i % per_dir == 0:
            os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "f%05d" % i), "wb") as f:
            f.write(payload)


def gen_build_tree(d, nfiles):
    """nfiles C files (~0.1 s of gcc -O2 each), a main and a Makefile."""
    os.makedirs(d, exist_ok=True)
    objs = []
    for i in range(nfiles):
        parts = ["#include <stdio.h>\n#include <stdlib.h>\n"
                 "#include <string.h>\n#include <math.h>\n\n"]
        for j in range(30):
            parts.append(
                "static double f%d(const double *v, size_t n)\n{\n"
                "\tdouble acc = %d.0;\n"
                "\tfor (size_t k = 0; k < n; k++) {\n"
                "\t\tif (v[k] > acc) acc += sqrt(v[k]) * %d;\n"
                "\t\telse acc -= v[k] / (k + 1.0);\n"
                "\t\tswitch ((int)acc & 7) { case 0: acc *= 1.5; break; "
                "case 3: acc -= 2; break; default: break; }\n"
                "\t}\n\treturn acc;\n}\n" % (j, j, j + 1))
        parts.append("double mod%d(const double *v, size_t n)\n{\n"
                     "\tdouble s = 0;\n" % i)
        parts += ["\ts += f%d(v, n);\n" % j for j in range(30)]
        parts.append("\treturn s;\n}\n")
        with open(os.path.join(d, "m%03d.c" % i), "w") as f:
            f.write("".join(parts))
        objs.append("m%03d.o" % i)
    with open(os.path.join(d, "main.c"), "w") as f:
        f.write("#include <stdio.h>\n#include <stddef.h>\n")
        f.writelines("double mod%d(const double *, size_t);\n" % i
                     for i in range(nfiles))
        f.write("int main(void)\n{\n\tdouble v[4] = {1, 2, 3, 4}, s = 0;\n")
        f.writelines("\ts += mod%d(v, 4);\n" % i for i in range(nfiles))
        f.write('\tprintf("%g\\n", s);\n\treturn 0;\n}\n')
    objs.append("main.o")
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write("CC = gcc\nCFLAGS = -O2\nOBJS = %s\n\n"
                "prog: $(OBJS)\n\t$(CC) -o $@ $(OBJS) -lm\n\n"
                "%%.o: %%.c\n\t$(CC) $(CFLAGS) -c -o $@ $<\n\n"
                "clean:\n\trm -f prog $(OBJS)\n" % " ".join(objs))


def clean_build_tree(d):
    for name in os.listdir(d):
        if name.endswith(".o") or name == "prog":
            os.unlink(os.path.join(d, name))


class Row:
    def __init__(self, key, label, argv, target, setup=None, cwd=None,
                 strace_argv=None, strace_note="", metric=None,
                 vs_fsatrace=False, lifecycle=False, callsites=False,
                 only=None, strace_share=None, sup_floor=False,
                 open_floor=False, info=None):
        self.key = key
        self.label = label
        self.argv = argv
        self.target = target
        # metric: the command prints "METRIC=<seconds>" on stdout, and that,
        # not its wall time, is what every variant of the row is timed by.
        self.metric = metric
        # vs_fsatrace: the verdict also wants roar x <= fsatrace x (when
        # the fsatrace column is measured).
        self.vs_fsatrace = vs_fsatrace
        # lifecycle: a process-creation row, which also gets the floor
        # column (drivers/floorlib.c under the launcher).
        self.lifecycle = lifecycle
        # callsites: also run roar with ROAR_CALLSITES=1 ("cs"), to
        # print what call sites cost, on against off (the default), in the
        # same rounds.
        self.callsites = callsites
        self.setup = setup
        self.cwd = cwd
        # A smaller workload for strace, timed against its own bare runs,
        # when strace on the full one would blow the time budget.
        self.strace_argv = strace_argv
        self.strace_note = strace_note
        # only: the variants this row runs (others are skipped).
        self.only = only
        # sup_floor: the floor column is drivers/supfloor.c (a supervisor
        # that lets every notified call go on and does nothing else).
        self.sup_floor = sup_floor
        # open_floor: the floor column is drivers/floorlib.c built with
        # -DFLOOR_OPEN (the lifecycle, and the least a sound first open
        # costs).
        self.open_floor = open_floor
        # info: a row shown for its price, with no goal of its own (the
        # reason, printed under the table); no verdict.
        self.info = info
        # strace_share: judged by roar's overhead (ratio - 1) against
        # strace's: PASS when at most this share of it (target is None).
        self.strace_share = strace_share


def define_rows(p, tmp, quick):
    rows = []
    data = os.path.join(tmp, "data.1M")
    with open(data, "wb") as f:
        f.write(os.urandom(1 << 20))
    out = os.path.join(tmp, "out.bin")
    rows.append(Row("read", "read micro 1M x read(1B)", [p["rw"], "read", data,
                    "1000000"], 1.05,
                    strace_argv=[p["rw"], "read", data, "20000"],
                    strace_note="1/50"))
    rows.append(Row("write", "write micro 1M x write(1B)",
                    [p["rw"], "write", out, "1000000"], 1.05,
                    strace_argv=[p["rw"], "write", out, "20000"],
                    strace_note="1/50"))
    osd = os.path.join(tmp, "openstorm")
    os.makedirs(osd)
    make_files(osd, 1000, 64)
    rows.append(Row("open", "open storm 100 x 1000 files",
                    [p["openstorm"], osd, "1000", "100"], 1.15,
                    strace_argv=[p["openstorm"], osd, "1000", "10"],
                    strace_note="1/10", callsites=True, open_floor=True))
    rows.append(Row("exec", "exec storm 1000 fork+exec (C)",
                    [p["execstorm"], "1000", "/bin/true"], 1.15,
                    vs_fsatrace=True, lifecycle=True, callsites=True))
    rows.append(Row("bashexec", "exec storm bash 500 x /bin/true",
                    ["bash", "-c",
                     "for ((i = 0; i < 500; i++)); do /bin/true; done"],
                    1.25, lifecycle=True))
    bd = os.path.join(tmp, "buildtree")
    gen_build_tree(bd, 50)
    rows.append(Row("build", "build make -j2, 50 C files",
                    ["make", "-s", "-j2", "prog"], 1.03, cwd=bd,
                    setup=lambda: clean_build_tree(bd)))
    rows.append(Row("python", "python 20 x import json,email,..",
                    ["bash", "-c", 'for i in $(seq 20); do %s -c "%s"; done'
                     % (PY, PY_IMPORTS)], 1.05))
    wt = os.path.join(tmp, "widetree")
    os.makedirs(wt)
    make_files(wt, 20000, 100, per_dir=200)
    wide = "find %s -type f | xargs -P2 -n 200 cat > /dev/null"
    rows.append(Row("wide", "wide tree find|xargs -P2 cat 20k",
                    ["bash", "-c", wide % wt], 1.10, vs_fsatrace=True,
                    # d000..d009: 2,000 of the 20,000 files
                    strace_argv=["bash", "-c", wide % (wt + "/d00?")],
                    strace_note="1/10", callsites=True, open_floor=True))
    rows.append(Row("vfork", "vfork spawn, 2 GiB heap (loop)",
                    [p["vforkheap"], "vfork", "100", "2048", "/bin/true"],
                    1.6, metric="loop_seconds", lifecycle=True))
    rows.append(Row("spawn", "posix_spawn, 2 GiB heap (loop)",
                    [p["vforkheap"], "spawn", "100", "2048", "/bin/true"],
                    1.6, metric="loop_seconds", lifecycle=True))
    if "busybox" in p:
        rows += sup_rows(p, tmp)
    if quick:
        rows = [r for r in rows if r.key in ("open", "exec")]
    return rows


SUP_ROWS = ("bbcat", "bbcp", "goread")


def sup_rows(p, tmp):
    """Programs LD_PRELOAD cannot see, traced by the seccomp supervisor:
    1,000 files of 64 bytes, read by a static busybox (one cat of them
    all, ten times: file calls in a few processes), copied by it (a shell
    loop, one busybox cp per file: 1,000 fork + exec), and read by a
    static Go program (ten passes of os.ReadFile over them).  No preload
    column (LD_PRELOAD alone reaches none of them); the floor column is
    drivers/supfloor.c, the notifications' own price.  strace runs the full
    workload, since the goal is relative to it."""
    d = os.path.join(tmp, "sup")
    files = os.path.join(d, "d")
    out = os.path.join(d, "out")
    os.makedirs(files)
    os.makedirs(out)
    make_files(files, 1000, 64)

    def empty_out():
        for n in os.listdir(out):
            os.unlink(os.path.join(out, n))

    bb = p["busybox"]
    only = ("bare", "roar", "strace", "floor")
    return [
        Row("bbcat", "static busybox 10 x cat 1000 files",
            [bb, "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do "
             "busybox cat d/*; done | busybox wc -c"], None, cwd=d,
            only=only, strace_share=0.25, sup_floor=True),
        Row("bbcp", "static busybox loop 1000 x cp",
            [bb, "sh", "-c", 'for f in d/*; do busybox cp "$f" out/; done'],
            None, cwd=d, setup=empty_out, only=only, strace_share=0.25,
            sup_floor=True,
            info="bbcp: not one of issue 10's rows (a static busybox "
            "pipeline over 1000 files, a Go program reading 1000 files): "
            "it shows what a supervised process costs to start; its "
            "floor alone (the notifications) is most of st/4"),
        Row("goread", "static Go 10 x read 1000 files",
            [p["goread"], files, "10"], None, cwd=d, only=only,
            strace_share=0.25, sup_floor=True),
    ]


# ------------------------------------------------------------ running ---
