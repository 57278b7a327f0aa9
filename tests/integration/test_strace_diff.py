# SPDX-License-Identifier: Apache-2.0
"""Differential tests: the tracer's report against ground truth derived
from `strace -f` of the very same execution (see stracediff/ for how
the truth is derived and which approximations it makes).

Each workload runs in a fresh scratch directory.  A test compares
  - the report's read set and written set with strace's (regular files,
    the loader's files and the glibc-internal files left out, see
    stracediff.comparable / glibc_internal),
  - the report's processes with strace's process tree (same pids), and
    the command of every process that exec'd with the argv of its last
    successful execve,
  - each process's read_paths / written_paths with the credits strace
    saw in that process (per_process=False turns this one off),
and prints a readable diff on failure (each missing path with the strace
call that earned it).  The strace log and report of a failing test are
kept under $ROAR_DIFF_KEEP (default /tmp/roar-strace-diff/<test>/).
ROAR_DIFF_STRICT=1 puts the glibc-internal files back into every
workload's comparison.

Known gaps of the tracer are recorded as @unittest.expectedFailure with a
comment naming the missing feature; remove the decorator when it lands.
"""

import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import roartest  # noqa: E402
import stracediff  # noqa: E402
from roartest import TracerTest, ensure_tool, compile_c  # noqa: E402

PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable
KEEP = os.environ.get("ROAR_DIFF_KEEP", "/tmp/roar-strace-diff")

# The fan-out the issue asks for is 1000 processes; it ran in 8-11 s
# traced under strace (1.5 s traced alone) on the development machine
# (2 CPUs, shared with other builds), well
# under the 60 s budget, so the full size is used.  ROAR_DIFF_FANOUT
# can lower it on a slow machine.
FANOUT = int(os.environ.get("ROAR_DIFF_FANOUT", "1000"))


class DiffTest(TracerTest):
    """A TracerTest whose runs go through strace as well."""

    def setUp(self):
        super().setUp()
        ensure_tool("strace", "strace")
        self.work = self.path("work")
        self.out = self.path("_diff")
        os.mkdir(self.work)
        os.mkdir(self.out)
        self.nrun = 0

    def wpath(self, *parts):
        return os.path.join(self.work, *parts)

    def wwrite(self, name, data="data\n"):
        p = self.wpath(name) if isinstance(name, str) else os.path.join(
            os.fsencode(self.work), name)
        d = os.path.dirname(p)
        if not os.path.isdir(d):
            os.makedirs(d)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    def diff(self, argv, cwd=None, env=None, scope=None, expect_rc=0,
             label=None, check_procs=True, per_process=True, check=True):
        """Run argv under tracer + strace, assert the report agrees with
        strace (unless check is false: then assertAgrees(d) later);
        returns the stracediff.DiffRun."""
        self.nrun += 1
        d = stracediff.run_both(argv, cwd or self.work, env=dict(env or {}),
                                logdir=self.out, watch=self.tmp)
        d.label = label or " ".join(argv)
        d.scope = scope
        d.expect_rc = expect_rc
        d.check_procs = check_procs
        d.per_process = per_process
        stracediff.compare(d, scope=scope)  # fills d.sets
        if check:
            self.assertAgrees(d)
        return d

    def assertAgrees(self, d):
        label, expect_rc = d.label, d.expect_rc
        out, text = stracediff.compare(d, scope=d.scope)
        check_procs = d.check_procs
        if not check_procs:
            for k in ("pids_missing", "pids_extra", "command_mismatch"):
                out[k] = []
        if not d.per_process:
            out["per_process"] = []
        bad = {k: v for k, v in out.items() if v}
        rc_ok = expect_rc is None or d.run.returncode == expect_rc
        if bad or not rc_ok:
            keep = self.keep(d)
            msg = ["report and strace disagree on workload %r "
                   "(%.1f s traced under strace; log and report kept in %s)"
                   % (label, d.seconds, keep)]
            if not rc_ok:
                msg.append("  exit code %r, expected %r; stderr: %r" % (
                    d.run.returncode, expect_rc, d.run.proc.stderr[-2000:]))
            msg.append(text)
            msg.append("  exec'd per strace: %s" % _names(
                stracediff.exec_names(d.truth)))
            msg.append("  report commands:   %s" % _names(
                stracediff.report_names(d.run)))
            self.fail("\n".join(msg))

    def keep(self, d):
        dest = os.path.join(KEEP, self.id().rsplit(".", 2)[-2] + "."
                            + self._testMethodName + ".%d" % self.nrun)
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest, exist_ok=True)
        shutil.copy(d.log, os.path.join(dest, "strace.log"))
        shutil.copy(d.run.report_path, os.path.join(dest, "report.msgpack"))
        return dest

    def assertCovers(self, d, read=(), written=()):
        """Sanity of the ground truth itself: strace must see the files
        the workload obviously touches (guards against a deriver that
        silently finds nothing, which would make every diff pass)."""
        tr = d.truth.filtered("read")
        tw = d.truth.filtered("written")
        for p in read:
            self.assertIn(os.fsencode(p), tr, "strace truth lacks read %r"
                          % p)
        for p in written:
            self.assertIn(os.fsencode(p), tw,
                          "strace truth lacks written %r" % p)


def _names(names):
    return " ".join(stracediff.show(n) for n in names)


class ShellWorkloads(DiffTest):

    def test_cat_pipe_wc(self):
        self.wwrite("f", "one two\nthree\n")
        d = self.diff(["sh", "-c", "cat f | wc"])
        self.assertCovers(d, read=[self.wpath("f")])

    def test_cp(self):
        self.wwrite("a", "x" * 100000)
        d = self.diff(["cp", "a", "b"])
        self.assertCovers(d, read=[self.wpath("a")],
                          written=[self.wpath("b")])

    def test_cat_tr_redirect(self):
        self.wwrite("a", "banana\n")
        d = self.diff(["sh", "-c", "cat a | tr a b > c"])
        self.assertCovers(d, read=[self.wpath("a")],
                          written=[self.wpath("c")])
        with open(self.wpath("c")) as f:
            self.assertEqual(f.read(), "bbnbnb\n")

    def test_sort_uniq_wc(self):
        self.wwrite("words", "".join("w%d\n" % (i % 37)
                                     for i in range(1000)))
        d = self.diff(["sh", "-c", "sort words | uniq | wc -l > counts"])
        self.assertCovers(d, read=[self.wpath("words")],
                          written=[self.wpath("counts")])

    def test_sort_awk_sed_perl(self):
        ensure_tool("perl", "perl")
        ensure_tool("awk", "mawk")
        self.wwrite("data", "".join("%d name%d\n" % (i * 7 % 13, i)
                                    for i in range(200)))
        d = self.diff(["sh", "-c",
                       "sort -n data | awk '{print $2}' "
                       "| sed 's/name/n/' | perl -ne 'print uc' > out.txt"])
        self.assertCovers(d, read=[self.wpath("data")],
                          written=[self.wpath("out.txt")])

    def test_odd_file_names(self):
        names = [b"with spaces.txt", b"new\nline.txt", b"bad\xff.txt",
                 b"quotes \"dq\" 'sq'.txt", b"gt>lt<.txt"]
        for n in names:
            self.wwrite(b"in " + n, b"content of " + n + b"\n")
        d = self.diff(["sh", "-c",
                       'for f in in*; do cat "$f" > "out ${f#in }"; done'])
        w = os.fsencode(self.work)
        self.assertCovers(d, read=[os.path.join(w, b"in " + n)
                                   for n in names],
                          written=[os.path.join(w, b"out " + n)
                                   for n in names])
        # The report must carry the invalid UTF-8 name byte for byte.
        paths = {stracediff.fsb(p) for p in d.run.written_set()}
        self.assertIn(os.path.join(w, b"out bad\xff.txt"), paths)

    def test_fanout_xargs(self):
        t0 = time.time()
        d = self.diff(["sh", "-c",
                       "seq %d | xargs -P4 -n1 sh -c 'echo $0 > out_$0'"
                       % FANOUT])
        self.assertCovers(d, written=[self.wpath("out_%d" % i)
                                      for i in (1, FANOUT)])
        self.assertGreaterEqual(len(d.truth.pids), FANOUT + 2)
        sys.stderr.write("[fan-out %d: %.1f s traced under strace] "
                         % (FANOUT, time.time() - t0))


class ArchiveWorkloads(DiffTest):

    def make_tree(self):
        self.wwrite("dir/a.txt", "alpha\n")
        self.wwrite("dir/sub/b.bin", bytes(range(256)) * 64)
        self.wwrite("dir/sub/deeper/c.txt", "gamma\n" * 100)

    def test_tar_create(self):
        self.make_tree()
        d = self.diff(["tar", "cf", "x.tar", "dir"])
        self.assertCovers(d, read=[self.wpath("dir/sub/b.bin")],
                          written=[self.wpath("x.tar")])

    def test_tar_extract(self):
        self.make_tree()
        subprocess.run(["tar", "cf", "x.tar", "dir"], cwd=self.work,
                       check=True)
        shutil.rmtree(self.wpath("dir"))
        os.mkdir(self.wpath("other"))
        d = self.diff(["tar", "xf", "x.tar", "-C", "other"])
        self.assertCovers(d, read=[self.wpath("x.tar")],
                          written=[self.wpath("other/dir/sub/b.bin")])


class BuildWorkloads(DiffTest):

    def test_make_gcc(self):
        self.make_project()
        # Files, processes and commands; the per-process lists are
        # checked by test_make_gcc_per_process.
        d = self.diff(["make"], per_process=False)
        self.assertCovers(d, read=[self.wpath("main.c"),
                                   self.wpath("util.h"),
                                   self.wpath("main.o")],
                          written=[self.wpath("prog"),
                                   self.wpath("util.o")])

    def test_make_gcc_per_process(self):
        self.make_project()
        self.diff(["make"])

    def make_project(self):
        ensure_tool("make", "make")
        ensure_tool("gcc", "gcc")
        self.wwrite("util.h", "int twice(int x);\n")
        self.wwrite("util.c", '#include "util.h"\n'
                    "int twice(int x) { return 2 * x; }\n")
        self.wwrite("main.c", '#include <stdio.h>\n#include "util.h"\n'
                    'int main(void) { printf("%d\\n", twice(21)); '
                    "return 0; }\n")
        self.wwrite("Makefile",
                    "prog: main.o util.o\n\tgcc -o prog main.o util.o\n"
                    "%.o: %.c util.h\n\tgcc -c -O1 -o $@ $<\n")


class VcsAndDbWorkloads(DiffTest):

    def test_git_init_add_commit(self):
        ensure_tool("git", "git")
        repo = self.wpath("repo")
        self.wwrite("repo/a.txt", "alpha\n")
        self.wwrite("repo/sub/b.txt", "beta\n")
        env = {"HOME": self.tmp, "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
               "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z"}
        d = self.diff(["sh", "-c",
                       "git init -q -b main . && git add a.txt sub/b.txt && "
                       "git -c user.name=Test -c user.email=t@example.com "
                       "commit -q -m first"], cwd=repo, env=env)
        self.assertCovers(d, read=[os.path.join(repo, "a.txt")],
                          written=[os.path.join(repo, ".git/index")])

    def test_sqlite_create_then_select(self):
        ensure_tool("sqlite3", "sqlite3")
        d = self.diff(["sqlite3", "db.sqlite",
                       "CREATE TABLE t(x INTEGER, y TEXT);"
                       "INSERT INTO t VALUES (1, 'one'), (2, 'two');"],
                      label="sqlite3 create+insert")
        self.assertCovers(d, written=[self.wpath("db.sqlite")])
        d = self.diff(["sqlite3", "db.sqlite", "SELECT * FROM t;"],
                      label="sqlite3 select")
        self.assertEqual(d.run.proc.stdout, b"1|one\n2|two\n")
        self.assertCovers(d, read=[self.wpath("db.sqlite")])


class PythonWorkloads(DiffTest):

    def test_python_subprocess(self):
        self.wwrite("a", "payload\n")
        d = self.diff([PY, "-c",
                       "import subprocess\n"
                       "subprocess.run(['cat', 'a'], stdout=open('b', 'w'),"
                       " check=True)\n"])
        self.assertCovers(d, read=[self.wpath("a")],
                          written=[self.wpath("b")])

    def test_python_multiprocessing(self):
        d = self.diff([PY, "-c",
                       "import multiprocessing as mp\n"
                       "def work(i):\n"
                       "    with open('mp_%d.out' % i, 'w') as f:\n"
                       "        f.write(str(i) * 100)\n"
                       "    return i\n"
                       "with mp.get_context('fork').Pool(2) as p:\n"
                       "    assert p.map(work, range(6)) == list(range(6))\n"])
        self.assertCovers(d, written=[self.wpath("mp_%d.out" % i)
                                      for i in range(6)])

    def test_contract_corners(self):
        # The rarer routes of the contract in one process: read-write
        # open without I/O (neither), mmap read and shared write, truncate
        # and ftruncate, hard link target, rename over an existing file,
        # sendfile and copy_file_range.
        for n in ("rw_idle", "mapped_r", "mapped_w", "trunc", "ftrunc",
                  "link_src", "old", "victim", "sf_src", "cfr_src"):
            self.wwrite(n, "0123456789\n")
        d = self.diff([PY, "-c", r"""
import mmap, os
fd = os.open('rw_idle', os.O_RDWR); os.close(fd)
with open('mapped_r', 'rb') as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ); m[:4]; m.close()
fd = os.open('mapped_w', os.O_RDWR)
m = mmap.mmap(fd, 0, flags=mmap.MAP_SHARED,
              prot=mmap.PROT_READ | mmap.PROT_WRITE)
m[0:1] = b'X'; m.close(); os.close(fd)
os.truncate('trunc', 3)
fd = os.open('ftrunc', os.O_RDWR); os.ftruncate(fd, 2); os.close(fd)
os.link('link_src', 'link_dst')
os.replace('old', 'victim')
i = os.open('sf_src', os.O_RDONLY | os.O_NOFOLLOW)
o = os.open('sf_dst', os.O_RDWR | os.O_CREAT | os.O_EXCL)
os.sendfile(o, i, 0, 11); os.close(i); os.close(o)
i = os.open('cfr_src', os.O_RDWR)
o = os.open('cfr_dst', os.O_RDWR | os.O_CREAT | os.O_EXCL)
os.copy_file_range(i, o, 11); os.close(i); os.close(o)
"""])
        w = self.wpath
        self.assertCovers(d, read=[w("mapped_r"), w("sf_src"), w("cfr_src")],
                          written=[w("mapped_w"), w("trunc"), w("ftrunc"),
                                   w("link_dst"), w("victim"), w("sf_dst"),
                                   w("cfr_dst")])
        self.assertNotIn(os.fsencode(w("rw_idle")),
                         d.truth.filtered("read") | d.truth.filtered(
                             "written"))

    def test_write_then_rename(self):
        d = self.diff([PY, "-c",
                       "import os\n"
                       "with open('final.tmp', 'w') as f:\n"
                       "    f.write('done\\n')\n"
                       "os.rename('final.tmp', 'final.txt')\n"])
        self.assertCovers(d, written=[self.wpath("final.tmp"),
                                      self.wpath("final.txt")])


class ThreadWorkloads(DiffTest):

    def test_eight_threads(self):
        exe = compile_c(os.path.join(roartest.FIXTURES, "diff", "threads.c"),
                        self.path("threads"))
        d = self.diff([exe, "8"])
        self.assertCovers(d, written=[self.wpath("thread_%d.out" % i)
                                      for i in range(8)],
                          read=[self.wpath("thread_%d.out" % i)
                                for i in range(8)])
        self.assertEqual(len(d.truth.threads), 8)


class StdioWorkloads(DiffTest):

    def test_fseek_refill(self):
        exe = compile_c(os.path.join(roartest.FIXTURES, "diff",
                                     "fseek_rw.c"), self.path("fseek_rw"))
        self.wwrite("data.txt", "".join("%d\n" % i for i in range(100)))
        d = self.diff([exe, "data.txt"])
        self.assertCovers(d, read=[self.wpath("data.txt")],
                          written=[self.wpath("data.txt")])


class GlibcInternalOpens(DiffTest):
    """The files glibc opens by itself (stracediff.glibc_internal), kept
    out of the workload tests and checked here on their own."""

    @unittest.expectedFailure
    # Missing: glibc-internal opens.  setlocale() opens the locale files
    # (/usr/lib/locale/..., /etc/locale.alias, gconv-modules.cache) and
    # NSS opens /etc/nsswitch.conf, /etc/passwd with __open_nocancel /
    # __fopen_internal, which never pass through the exported open/fopen
    # the library interposes; strace sees them read (O_RDONLY + read or
    # mmap), the report does not.
    def test_locale_and_nss_files(self):
        self.wwrite("f")
        d = self.diff(["sh", "-c", "cat f; getent passwd root"],
                      env={"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
                      scope="glibc", check=False)
        if not d.sets["strace_read"]:
            self.skipTest("strace saw no glibc-internal opens here (no "
                          "C.UTF-8 locale files?): nothing to compare")
        self.assertAgrees(d)


class DeriverSelfTest(unittest.TestCase):
    """The ground-truth deriver on a hand-written strace log: split lines,
    hex names, cwd tracking, creation replay, deleted fds, the tree."""

    LOG = r'''100  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD, child_tidptr=0x7f) = 200
200  execve("\x2f\x62\x69\x6e\x2f\x78", ["\x78", "\x61\x72\x67"], 0x7ffd /* 3 vars */) = 0
200  openat(AT_FDCWD<\x2f\x77>, "\x72", O_RDONLY|O_CLOEXEC) = 3<\x2f\x77\x2f\x72>
200  openat(AT_FDCWD<\x2f\x77>, "\x6e\x65\x77", O_RDWR|O_CREAT, 0666) = 4<\x2f\x77\x2f\x6e\x65\x77>
200  openat(AT_FDCWD<\x2f\x77>, "\x6f\x6c\x64", O_RDWR|O_CREAT, 0666) = 5<\x2f\x77\x2f\x6f\x6c\x64>
200  openat(AT_FDCWD<\x2f\x77>, "\x72\x77", O_RDWR) = 6<\x2f\x77\x2f\x72\x77>
200  read(6<\x2f\x77\x2f\x72\x77>,  <unfinished ...>
201  write(7<\x2f\x77\x2f\x62\x61\x64\xff>, "\x00", 1) = 1
200  <... read resumed>"\x61", 1) = 1
200  write(6<\x2f\x77\x2f\x72\x77>, "", 0) = 0
200  openat(AT_FDCWD<\x2f\x77>, "\x64", O_RDONLY|O_DIRECTORY) = 8<\x2f\x77\x2f\x64>
200  chdir("\x73\x75\x62") = 0
200  rename("\x74\x6d\x70", "\x66\x69\x6e") = 0
200  unlink("\x67\x6f\x6e\x65") = 0
200  write(9<\x2f\x77\x2f\x73\x75\x62\x2f\x67\x6f\x6e\x65>(deleted), "\x00", 1) = 1
200  splice(10<\x2f\x77\x2f\x73\x72\x63>, NULL, 11<\x70\x69\x70\x65\x3a\x5b\x31\x5d>, NULL, 65536, 0) = 5
200  mmap(NULL, 6, PROT_READ, MAP_PRIVATE, 12<\x2f\x77\x2f\x6d>, 0) = 0x7f00
200  ftruncate(13<\x2f\x77\x2f\x74>, 0) = 0
200  openat(AT_FDCWD<\x2f\x77\x2f\x73\x75\x62>, "\x6e\x6f", O_RDONLY) = -1 ENOENT (No such file or directory)
200  clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0, stack=0x7f, stack_size=0x7ff}, 88) = 201
200  openat(AT_FDCWD<\x2f\x77\x2f\x73\x75\x62>, "\x2f\x77\x2f\x67", O_RDWR|O_CREAT|O_EXCL, 0600) = 14<\x2f\x77\x2f\x67>
200  unlink("\x2f\x77\x2f\x67") = 0
200  symlink("\x74", "\x2f\x77\x2f\x67") = 0
200  newfstatat(AT_FDCWD<\x2f\x77\x2f\x73\x75\x62>, "\x2f\x77\x2f\x67", {st_mode=S_IFLNK|0777, st_size=1, ...}, AT_SYMLINK_NOFOLLOW) = 0
200  openat(AT_FDCWD<\x2f\x77\x2f\x73\x75\x62>, "\x2f\x77\x2f\x64\x64", O_RDONLY|O_NONBLOCK|O_CLOEXEC) = 15<\x2f\x77\x2f\x64\x64>
200  getdents64(15<\x2f\x77\x2f\x64\x64>, 0x55 /* 3 entries */, 32768) = 72
300  openat(AT_FDCWD<\x2f\x77>, "\x6f\x75\x74\x73\x69\x64\x65", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3<\x2f\x77\x2f\x6f\x75\x74\x73\x69\x64\x65>
'''

    def test_derive(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".log",
                                         delete=False) as f:
            f.write(self.LOG)
        try:
            t = stracediff.derive(f.name, 100, "/w",
                                  before={b"/w", b"/w/old"}, watched=["/w"])
        finally:
            os.unlink(f.name)
        self.assertEqual(t.bad_lines, [])
        self.assertEqual(t.pids, {100, 200})
        self.assertEqual(t.threads, {201})
        self.assertEqual(t.execs[200], [(b"/bin/x", [(b"x", False),
                                                     (b"arg", False)])])
        self.assertEqual(set(t.read), {b"/w/r", b"/w/rw", b"/w/src",
                                       b"/w/m", b"/w/dd"})
        self.assertEqual(set(t.written), {b"/w/new", b"/w/bad\xff",
                                          b"/w/sub/fin", b"/w/t", b"/w/g"})
        self.assertIn((b"/w/d", 0), t.nonfile)
        # A name that was a regular file, then a symlink (git's probes),
        # keeps the credit of its regular incarnation; a directory read
        # with getdents is not a file.
        self.assertIn(b"/w/g", t.filtered("written"))
        self.assertIn(b"/w/dd", t.read)
        self.assertNotIn(b"/w/dd", t.filtered("read"))

    def test_argv_match(self):
        self.assertTrue(stracediff.argv_matches(
            [(b"sh", False), (b"-c", False), (b"abc", True)],
            [b"sh", b"-c", b"abcdef"]))
        self.assertFalse(stracediff.argv_matches(
            [(b"sh", False)], [b"bash"]))


if __name__ == "__main__":
    roartest.main()
