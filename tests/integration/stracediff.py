# SPDX-License-Identifier: Apache-2.0
"""Ground truth for the differential tests: run a workload under the
tracer AND under `strace -f`, and derive from strace's log which files the
workload read and wrote, following docs/roar-compat.md "What is a read and
what is a write".

How a run is arranged
---------------------
strace wraps the launcher:  strace -f ... -o LOG roar-tracer-preload REPORT
CMD...  so the report and the log describe ONE execution (same pids, same
random temporary names, same timing).  The launcher and its collector are
traced too; the derivation keeps only the report's root pid and its
descendants, so their syscalls never count.  The library's own syscalls in
the workload processes (readlink of /proc/self/fd, fstat, faccessat probes,
socket sends) earn no credit under the rules below.

strace flags (STRACE_FLAGS)
---------------------------
-f            follow forks, one log, each line prefixed by the tid
-qq           no attach/exit chatter
-e trace=%file,%desc,%process   opens, path calls, the fd calls (read
              family, write family, splice, sendfile, copy_file_range,
              mmap, ftruncate, close, fcntl...), fork/clone/exec
-e signal=none  no signal lines
-y            every fd argument and returned fd carries its path, as the
              kernel resolves it (/proc/PID/fd): canonical, symlinks
              resolved, "(deleted)" after it once unlinked
-xx           every string AND every fd path hex-escaped: names with
              newlines, quotes, '>' or invalid UTF-8 survive byte for byte
-s 4096       strings up to PATH_MAX; longer argv strings are truncated
              (strace appends "..."), which the exec comparison respects.
              Longer would only bloat the log with read()/write() buffers.
Lines split by another thread ("<unfinished ...>" / "<... X resumed>")
are stitched back per tid before they are parsed.

Derivation (per the contract)
-----------------------------
read     open/openat/openat2 succeeded with O_RDONLY (not O_PATH); or
         read/pread64/readv/preadv/preadv2 returned > 0; or the source of
         splice/sendfile/copy_file_range that returned > 0; or a file
         mmap()ed with PROT_READ.
written  open with O_WRONLY, O_TRUNC, O_APPEND, O_CREAT|O_EXCL, or O_CREAT
         that created the file; or the write family / the destination of
         splice/sendfile/copy_file_range returned > 0; or
         truncate/ftruncate/fallocate succeeded; or the target of a
         successful rename/renameat/renameat2/link/linkat; or a
         MAP_SHARED mapping with PROT_WRITE.
"created" is decided by replaying existence: the paths under the scratch
directory and the entries of /tmp are snapshotted before the run, and
opens with O_CREAT, mkdir, link, rename, unlink along the log update the
picture.  APPROXIMATION: a path elsewhere that the log has not shown is
assumed to exist already, so an O_RDWR|O_CREAT open (no TRUNC, APPEND or
EXCL) of such a path is not credited as written unless bytes move.
Operations on an fd whose path strace marks "(deleted)" earn nothing:
an unlinked file has no name (it was credited by name when opened).

Paths: the fd paths strace prints are already canonical.  Path arguments
(truncate, rename, link, unlink, mkdir, chdir) are joined to their dirfd's
path or to the process's cwd (tracked per tid: inherited at clone, changed
by chdir/fchdir, refreshed whenever strace prints AT_FDCWD<cwd>) and then
canonicalised like Path.resolve(): the parent with os.path.realpath, the
last component kept as is for rename/link targets (they name the link,
not what it points to) and resolved for truncate.

Kept: regular files only, judged per incarnation of a name (unlink,
rmdir, rename away or over it, mkdir, symlink start a new one: git
creates a probe file, then a symlink of the same name).  The last
incarnation of a path that still exists is checked with os.lstat; any
other is regular unless the log showed it as something else (a non-
S_IFREG st_mode in a stat result, O_DIRECTORY, mkdir, symlink, getdents).
Dropped: /dev, /proc, /sys, pipes, sockets, anon
inodes, the report, the socket directory, and the dynamic loader's files
(LOADER_RULE: /etc/ld.so.cache, /etc/ld.so.preload and any path whose
last component ends in ".so" or contains ".so.").  The loader opens
those before main (and for dlopen) through calls no preload hook can see,
so they cannot be compared.  The loader rule is applied to BOTH sides of
the comparison (the linker `ld` reading libc.so.6 as input is a genuine,
hookable read, but indistinguishable by name), see comparable().
The files glibc opens by itself (locale, iconv, NSS, time zone: see
GLIBC_INTERNAL_*) are compared apart, scope "glibc" of compare().

Compared (compare()): the read and written sets; the process set (the
pids of the tree, threads excluded) and, for each process that exec'd,
its report command against the argv of its last successful execve;
and, per process, the report's read_paths / written_paths against the
credits strace saw in that process (its threads included).
"""

import os
import re
import shutil
import signal
import stat
import subprocess
import time

import roartest

STRACE_FLAGS = [
    "-f", "-qq",
    "-e", "trace=%file,%desc,%process",
    "-e", "signal=none",
    "-y", "-xx", "-s", "4096",
]


# ---------------------------------------------------------------- paths

def fsb(p):
    """A path from either side, as bytes (report paths are str, or bytes
    when they are not valid UTF-8)."""
    return p if isinstance(p, bytes) else os.fsencode(p)


def show(p):
    """A path for humans: bytes that are not UTF-8 shown as \\xNN."""
    return repr(fsb(p))[2:-1]


_NOT_FILES = (b"/dev/", b"/proc/", b"/sys/")


def loader_file(p):
    """The dynamic loader's files (see LOADER_RULE in the module doc)."""
    if p in (b"/etc/ld.so.cache", b"/etc/ld.so.preload"):
        return True
    base = p.rsplit(b"/", 1)[-1]
    return base.endswith(b".so") or b".so." in base


def tracer_file(p):
    """The tracer's own files, which strace sees every image map: the
    ledger beside the collector's socket, in the socket directory the
    launcher makes ($TMPDIR/roar-XXXXXX/sock.ledger)."""
    d, base = os.path.split(p)
    return (base == b"sock.ledger" and
            os.path.basename(d).startswith(b"roar-"))


def comparable(p, exclude=()):
    """Whether a path takes part in the comparison, on either side."""
    p = fsb(p)
    if not p.startswith(b"/") or p.startswith(_NOT_FILES):
        return False
    if loader_file(p):
        return False
    if tracer_file(p):
        return False
    for e in exclude:
        e = fsb(e)
        if p == e or (e.endswith(b"/") and p.startswith(e)):
            return False
    return True


# Files glibc opens by itself, through internal calls that never pass a
# PLT entry (__open_nocancel, __fopen_internal): locale data and message
# catalogues (setlocale, gettext), iconv's module cache, NSS and resolver
# configuration and databases (getpwnam, getaddrinfo...), time zones
# (tzset).  compare() keeps them out of the per-workload comparison by
# default (scope "workload") and checks them on their own (scope "glibc",
# GlibcInternalOpens in test_strace_diff.py); ROAR_DIFF_STRICT=1 puts
# them back into every workload.  A program that opens one of these files
# itself is, by name, indistinguishable: it is then checked only under
# ROAR_DIFF_STRICT=1.
GLIBC_INTERNAL_PREFIXES = (
    b"/usr/lib/locale/", b"/usr/share/locale/", b"/usr/share/i18n/",
    b"/usr/lib/x86_64-linux-gnu/gconv/", b"/usr/lib/aarch64-linux-gnu/gconv/",
    b"/usr/lib/gconv/", b"/usr/share/zoneinfo/",
)
GLIBC_INTERNAL_FILES = {
    b"/etc/locale.alias", b"/etc/localtime", b"/etc/nsswitch.conf",
    b"/etc/passwd", b"/etc/group", b"/etc/shadow", b"/etc/gshadow",
    b"/etc/hosts", b"/etc/host.conf", b"/etc/resolv.conf",
    b"/etc/services", b"/etc/protocols", b"/etc/networks",
    b"/etc/gai.conf", b"/etc/netgroup",
}


def glibc_internal(p):
    p = fsb(p)
    return p in GLIBC_INTERNAL_FILES or p.startswith(GLIBC_INTERNAL_PREFIXES)


def _canon_parent(path):
    """Path.resolve() for a name whose last component is kept as is."""
    path = os.path.normpath(path)
    if path == b"/":
        return path
    head, tail = os.path.split(path)
    if tail in (b".", b".."):
        return os.path.realpath(path)
    return os.path.join(os.path.realpath(head), tail)


def _canon_full(path):
    return os.path.realpath(os.path.normpath(path))


# ---------------------------------------------------------------- parsing

_LINE = re.compile(rb"^(\d+)\s+(.*)$", re.S)
_RESUMED = re.compile(rb"^<\.\.\. ([A-Za-z0-9_]+) resumed>(.*)$", re.S)
_UNFINISHED = b" <unfinished ...>"
_CALL = re.compile(rb"^([A-Za-z0-9_]+)\((.*)$", re.S)
_HEX = re.compile(rb"\\x([0-9a-fA-F]{2})")
_FD = re.compile(rb"^(-?\d+|AT_FDCWD)<((?:\\x[0-9a-fA-F]{2})*)>(\(deleted\))?$")
_STR = re.compile(rb'^"((?:[^"\\]|\\.)*)"(\.\.\.)?$', re.S)
_MODE = re.compile(rb"st_mode=(S_IF[A-Z]+)")


def unhex(s):
    """Decode strace's -xx escapes (and the few C escapes, to be safe)."""
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == 0x5C and i + 1 < len(s):  # backslash
            n = s[i + 1]
            if n == ord("x"):
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            simple = {ord("n"): 10, ord("t"): 9, ord("r"): 13, ord("v"): 11,
                      ord("f"): 12, ord('"'): 34, ord("\\"): 92}
            if n in simple:
                out.append(simple[n])
                i += 2
                continue
            if 0x30 <= n <= 0x37:  # octal
                j = i + 1
                while j < len(s) and j < i + 4 and 0x30 <= s[j] <= 0x37:
                    j += 1
                out.append(int(s[i + 1:j], 8) & 0xFF)
                i = j
                continue
        out.append(c)
        i += 1
    return bytes(out)


def readable(text):
    """A log fragment for humans: hex runs decoded, non-UTF-8 escaped."""
    return _HEXRUN.sub(lambda m: repr(unhex(m.group(0)))[2:-1].encode(),
                       text).decode("utf-8", "replace")


_HEXRUN = re.compile(rb"(?:\\x[0-9a-fA-F]{2})+")


def split_call(body):
    """'args) = ret' -> (list of top-level arg texts, ret text), scanning
    quotes and brackets; None when the line is not a complete call."""
    depth = 0
    i = 0
    args = []
    start = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c == 0x22:  # "
            i += 1
            while i < n and body[i] != 0x22:
                i += 2 if body[i] == 0x5C else 1
        elif c == 0x2F and body[i:i + 2] == b"/*":
            j = body.find(b"*/", i + 2)
            i = n if j < 0 else j + 1
        elif c == 0x3C:  # < : an fd path decoration, hex only inside
            j = body.find(b">", i)
            i = n if j < 0 else j
        elif c in b"([{":
            depth += 1
        elif c in b")]}":
            if depth == 0 and c == 0x29:
                args.append(body[start:i].strip())
                rest = body[i + 1:].strip()
                if not rest.startswith(b"="):
                    return None
                if args == [b""]:
                    args = []
                return args, rest[1:].strip()
            depth -= 1
        elif c == 0x2C and depth == 0:
            args.append(body[start:i].strip())
            start = i + 1
        i += 1
    return None


def strip_comments(a):
    return re.sub(rb"\s*/\*.*?\*/", b"", a).strip()


def fd_arg(a):
    """(number or 'AT_FDCWD', path bytes or None, deleted) for an fd arg."""
    m = _FD.match(strip_comments(a))
    if not m:
        return None
    num = m.group(1)
    return (num if num == b"AT_FDCWD" else int(num),
            unhex(m.group(2)), bool(m.group(3)))


def str_arg(a):
    """(bytes, truncated) for a quoted string arg, else None."""
    m = _STR.match(strip_comments(a))
    if not m:
        return None
    return unhex(m.group(1)), bool(m.group(2))


def array_arg(a):
    """A ["..", ".."] argv array -> list of (bytes, truncated)."""
    a = strip_comments(a)
    if not a.startswith(b"[") or not a.endswith(b"]"):
        return None
    parts = split_call(a[1:-1] + b") = 0")
    if parts is None:
        return None
    out = []
    for p in parts[0]:
        if p == b"...":
            out.append((b"...", True))
            continue
        s = str_arg(p)
        if s is None:
            return None
        out.append(s)
    return out


def ret_value(ret):
    """(int or None, fd path or None, deleted) of a return text."""
    tok = ret.split(None, 1)[0] if ret else b""
    m = _FD.match(tok)
    if m:
        return int(m.group(1)), unhex(m.group(2)), bool(m.group(3))
    try:
        return int(tok, 0), None, False
    except ValueError:
        return None, None, False


class Call:
    __slots__ = ("tid", "name", "args", "ret", "rv", "rpath", "rdeleted")

    def __init__(self, tid, name, args, ret):
        self.tid = tid
        self.name = name
        self.args = args
        self.ret = ret
        self.rv, self.rpath, self.rdeleted = ret_value(ret)

    @property
    def ok(self):
        return self.rv is not None and self.rv >= 0


def parse_log(path):
    """The calls of an `strace -f` log in order, split lines stitched."""
    pending = {}
    calls = []
    bad = []
    with open(path, "rb") as f:
        data = f.read()
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        m = _LINE.match(raw)
        if not m:
            bad.append(raw)
            continue
        tid = int(m.group(1))
        text = m.group(2)
        if text.startswith((b"+++", b"---")):
            continue
        r = _RESUMED.match(text)
        if r:
            name = r.group(1)
            head = pending.pop(tid, None)
            if head is None:
                # A multi-threaded execve finishes in the thread-group
                # leader, not in the thread that started it.
                for k, v in list(pending.items()):
                    if v.startswith(name + b"("):
                        head = pending.pop(k)
                        break
            if head is None:
                bad.append(raw)
                continue
            text = head + r.group(2)
        elif text.endswith(_UNFINISHED):
            pending[tid] = text[:-len(_UNFINISHED)]
            continue
        c = _CALL.match(text)
        if not c:
            bad.append(raw)
            continue
        parts = split_call(c.group(2))
        if parts is None:
            bad.append(raw)
            continue
        calls.append(Call(tid, c.group(1).decode(), parts[0], parts[1]))
    return calls, bad


# ---------------------------------------------------------------- derive

READS = {"read", "pread64", "readv", "preadv", "preadv2"}
WRITES = {"write", "pwrite64", "writev", "pwritev", "pwritev2"}
OPENS = {"open", "openat", "openat2", "creat"}
FORKS = {"clone", "clone3", "fork", "vfork"}
EXECS = {"execve", "execveat"}

O_ACC = {b"O_RDONLY": 0, b"O_WRONLY": 1, b"O_RDWR": 2}


def flag_set(text):
    m = re.search(rb"flags=([A-Z0-9_|]+)", text)
    if m:
        text = m.group(1)
    return set(strip_comments(text).split(b"|"))


class Truth:
    """What strace says the workload did."""

    def __init__(self):
        # canonical bytes path -> the incarnations of that name that
        # earned the credit (a name unlinked, renamed away or replaced
        # starts a new incarnation, which may be another kind of file)
        self.read = {}
        self.written = {}
        self.why = {}            # (path, 'r'|'w') -> first syscall that earned it
        self.nonfile = set()     # (path, incarnation) shown not regular
        self.final = {}          # path -> its last incarnation
        self.by_pid = {}         # (pid, 'r'|'w') -> set of paths
        self.pids = set()        # processes (thread-group leaders) in the tree
        self.threads = set()     # tids that were threads, not processes
        self.parent = {}         # pid -> parent pid
        self.execs = {}          # pid -> list of (filename, argv) successful
        self.bad_lines = []

    def last_exec(self):
        return {pid: v[-1] for pid, v in self.execs.items() if v}

    def filtered(self, which, exclude=()):
        src = self.read if which == "read" else self.written
        return {p for p, incs in src.items()
                if comparable(p, exclude)
                and any(self.is_regular(p, i) for i in incs)}

    def is_regular_any(self, p):
        incs = self.read.get(p, set()) | self.written.get(p, set())
        return any(self.is_regular(p, i) for i in incs)

    def is_regular(self, p, i=None):
        """Whether incarnation i (default: the last) of p was a regular
        file: by lstat for the last one when it still exists, else by
        what the log showed (regular unless shown otherwise)."""
        last = self.final.get(p, 0)
        if i is None:
            i = last
        if i == last:
            try:
                return stat.S_ISREG(os.lstat(p).st_mode)
            except OSError:
                pass
        return (p, i) not in self.nonfile


def _tree(calls, root):
    """The pids of the root's subtree: parent links from fork results,
    threads recognised by CLONE_THREAD."""
    parent = {}
    threads = set()
    for c in calls:
        if c.name in FORKS and c.rv and c.rv > 0:
            parent[c.rv] = c.tid
            if any(b"CLONE_THREAD" in a for a in c.args):
                threads.add(c.rv)
    members = {root}
    changed = True
    while changed:
        changed = False
        for child, par in parent.items():
            if par in members and child not in members:
                members.add(child)
                changed = True
    return members, parent, threads


def snapshot(*dirs):
    """Existing paths (bytes) under each dir, for the creation replay."""
    seen = set()
    for d in dirs:
        d = fsb(d)
        seen.add(d)
        for top, dnames, fnames in os.walk(d):
            for n in dnames + fnames:
                seen.add(os.path.join(top, n))
    return seen


def tmp_entries():
    try:
        return {os.path.join(b"/tmp", n) for n in os.listdir(b"/tmp")}
    except OSError:
        return set()


def derive(log, root, cwd, before=None, watched=()):
    """Truth of the subtree of pid root in the strace log.  cwd: the
    directory the command started in.  before: paths that existed before
    the run under the watched directories (snapshot() + tmp_entries())."""
    calls, bad = parse_log(log)
    inspected = exec_inspections(calls)  # the exec hook's own look
    t = Truth()
    t.bad_lines = bad
    members, parent, threads = _tree(calls, root)
    t.threads = threads & members
    def group(tid):
        """The process (thread-group leader) a tid belongs to."""
        while tid in t.threads and tid in parent:
            tid = parent[tid]
        return tid
    t.pids = members - t.threads
    t.parent = {k: v for k, v in parent.items() if k in members}
    before = before or set()
    watched = [fsb(w) for w in watched] + [b"/tmp"]
    exists = {}
    cwds = {}
    inc = t.final

    def cur(p):
        return inc.get(p, 0)

    def gone(p):
        """The name no longer refers to what it did: a new incarnation."""
        if p:
            inc[p] = cur(p) + 1
            exists[p] = False

    def nonfile(p):
        if p:
            t.nonfile.add((p, cur(p)))
    base_cwd = fsb(cwd)

    def existed(p):
        if p in exists:
            return exists[p]
        for w in watched:
            if p == w or p.startswith(w + b"/"):
                if w == b"/tmp" and p.count(b"/") > 2:
                    break
                return p in before
        return True  # APPROXIMATION: unseen paths elsewhere existed

    def get_cwd(tid):
        if tid not in cwds:
            par = parent.get(tid)
            cwds[tid] = cwds.get(par, base_cwd) if par else base_cwd
        return cwds[tid]

    def at_path(c, dirarg, patharg, resolve_last):
        """Canonical path of a (dirfd, path) pair or plain path arg."""
        s = str_arg(patharg) if patharg is not None else None
        if s is None:
            return None
        name = s[0]
        if name.startswith(b"/"):
            full = name
        else:
            base = None
            if dirarg is not None:
                fa = fd_arg(dirarg)
                if fa and fa[1]:
                    base = fa[1]
            if base is None:
                base = get_cwd(c.tid)
            full = os.path.join(base, name) if name else base
        return _canon_full(full) if resolve_last else _canon_parent(full)

    def credit(p, kind, c):
        if not p or not p.startswith(b"/"):
            return
        (t.read if kind == "r" else t.written).setdefault(
            p, set()).add(cur(p))
        t.by_pid.setdefault((group(c.tid), kind), set()).add(p)
        if (p, kind) not in t.why:
            t.why[(p, kind)] = "pid %d %s(%s) = %s" % (
                c.tid, c.name, readable(b", ".join(c.args))[:160],
                readable(c.ret)[:80])

    def fd_credit(arg, kind, c):
        fa = fd_arg(arg)
        if fa and fa[1] and not fa[2]:
            credit(fa[1], kind, c)

    for c in calls:
        # Learn the cwd from any AT_FDCWD decoration, members or not.
        for a in c.args:
            if a.startswith(b"AT_FDCWD<"):
                fa = fd_arg(a)
                if fa:
                    cwds[c.tid] = fa[1]
                break
        if c.tid not in members:
            continue  # the launcher and collector: only their cwd matters
        if id(c) in inspected:
            continue  # see exec_inspections
        name = c.name
        a = c.args
        # Type information from stat results.
        if name in ("newfstatat", "fstat", "stat", "lstat", "statx") and c.ok:
            m = None
            for x in a:
                m = _MODE.search(x) or m
            if m:
                if name in ("fstat",) or (name == "newfstatat"
                                          and b"AT_EMPTY_PATH" in a[-1]
                                          and a[1] == b'""'):
                    fa = fd_arg(a[0])
                    p = fa[1] if fa and not fa[2] else None
                elif name == "statx":
                    p = at_path(c, a[0], a[1], b"AT_SYMLINK_NOFOLLOW"
                                not in a[2])
                    if a[1] == b'""':
                        fa = fd_arg(a[0])
                        p = fa[1] if fa and not fa[2] else None
                elif name in ("stat", "lstat"):
                    p = at_path(c, None, a[0], name == "stat")
                else:
                    p = at_path(c, a[0], a[1], b"AT_SYMLINK_NOFOLLOW"
                                not in a[-1])
                if p and m.group(1) != b"S_IFREG":
                    nonfile(p)
            continue
        if name in FORKS:
            if c.rv and c.rv > 0:
                cwds.setdefault(c.rv, get_cwd(c.tid))
            continue
        if name in EXECS:
            if c.ok:
                fn = str_arg(a[0] if name == "execve" else a[1])
                argv = array_arg(a[1] if name == "execve" else a[2])
                t.execs.setdefault(c.tid, []).append(
                    (fn[0] if fn else None, argv))
            continue
        if not c.ok:
            continue
        if name in OPENS:
            # The returned fd's -y path is the canonical name opened.
            if name == "creat":
                flags = {b"O_WRONLY", b"O_CREAT", b"O_TRUNC"}
            elif name == "open":
                flags = flag_set(a[1])
            else:  # openat, openat2 ({flags=..., ...})
                flags = flag_set(a[2])
            p = c.rpath
            if not p or not p.startswith(b"/") or c.rdeleted:
                continue
            if b"O_DIRECTORY" in flags:
                nonfile(p)
                continue
            if b"O_PATH" in flags:
                continue
            acc = 0
            for f in flags:
                if f in O_ACC:
                    acc = O_ACC[f]
            created = False
            if b"O_CREAT" in flags:
                created = not existed(p)
                exists[p] = True
            if (acc == 1 or flags & {b"O_TRUNC", b"O_APPEND"} or created
                    or {b"O_CREAT", b"O_EXCL"} <= flags):
                credit(p, "w", c)
            elif acc == 0:
                credit(p, "r", c)
            continue
        if name in READS and c.rv > 0:
            fd_credit(a[0], "r", c)
        elif name in WRITES and c.rv > 0:
            fd_credit(a[0], "w", c)
        elif name == "sendfile" and c.rv > 0:
            fd_credit(a[1], "r", c)
            fd_credit(a[0], "w", c)
        elif name in ("splice", "copy_file_range") and c.rv > 0:
            fd_credit(a[0], "r", c)
            fd_credit(a[2], "w", c)
        elif name == "mmap":
            fa = fd_arg(a[4])
            if fa and fa[1] and not fa[2]:
                if b"PROT_READ" in a[2]:
                    credit(fa[1], "r", c)
                if b"MAP_SHARED" in a[3] and b"PROT_WRITE" in a[2]:
                    credit(fa[1], "w", c)
        elif name in ("ftruncate", "fallocate"):
            fd_credit(a[0], "w", c)
        elif name == "truncate":
            credit(at_path(c, None, a[0], True), "w", c)
        elif name in ("rename", "renameat", "renameat2", "link", "linkat"):
            if name in ("rename", "link"):
                src = at_path(c, None, a[0], False)
                dst = at_path(c, None, a[1], False)
            else:
                src = at_path(c, a[0], a[1], False)
                dst = at_path(c, a[2], a[3], False)
            was_file = src and (src, cur(src)) not in t.nonfile
            if dst and name.startswith("rename"):
                gone(dst)  # replaced by what src named
            if dst:
                exists[dst] = True
                if not was_file:
                    nonfile(dst)
            credit(dst, "w", c)
            if src and name.startswith("rename") and (
                    len(a) < 5 or b"RENAME_EXCHANGE" not in a[4]):
                gone(src)
        elif name in ("unlink", "unlinkat", "rmdir"):
            if name == "unlinkat":
                p = at_path(c, a[0], a[1], False)
                if b"AT_REMOVEDIR" in a[2]:
                    nonfile(p)
            else:
                p = at_path(c, None, a[0], False)
                if name == "rmdir":
                    nonfile(p)
            gone(p)
        elif name in ("mkdir", "mkdirat"):
            p = (at_path(c, None, a[0], False) if name == "mkdir"
                 else at_path(c, a[0], a[1], False))
            if p:
                gone(p)
                nonfile(p)
                exists[p] = True
        elif name in ("symlink", "symlinkat", "mknod", "mknodat"):
            if name == "symlink":
                p = at_path(c, None, a[1], False)
            elif name == "symlinkat":
                p = at_path(c, a[1], a[2], False)
            elif name == "mknod":
                p = at_path(c, None, a[0], False)
            else:
                p = at_path(c, a[0], a[1], False)
            if p:
                gone(p)
                nonfile(p)
                exists[p] = True
        elif name in ("getdents64", "getdents"):
            fa = fd_arg(a[0])
            if fa and fa[1]:
                nonfile(fa[1])
        elif name == "chdir":
            p = at_path(c, None, a[0], True)
            if p:
                cwds[c.tid] = p
        elif name == "fchdir":
            fa = fd_arg(a[0])
            if fa and fa[1]:
                cwds[c.tid] = fa[1]
    return t


# ------------------------------------------- the exec hook's inspection

def exec_inspections(calls):
    """The calls of the tracer's own look at an exec target, which the
    comparison must not credit (ids of Call objects, for derive to skip).

    Just before an exec, the library's exec hook (and the launcher, for
    the root command) opens the target read-only and preads its ELF
    headers or #! line (include/roar/image.h), to choose who traces the
    new image; strace shows e.g.
        openat(AT_FDCWD, "/usr/bin/tar", O_RDONLY|O_NONBLOCK|O_NOCTTY|
               O_CLOEXEC) = 3   pread64(3, ...)   close(3)
        execve("/usr/bin/tar", ...)
    The rule: a successful read-only open of P by tid X is the hook's
    when X's next execve of a path resolving to P (whatever its result:
    ENOEXEC for a script without #!) comes before any other successful
    call of X, except calls on the inspection fds themselves (pread64,
    fstat, close...) and further such opens of P or of the interpreter
    P names (its #! line; /bin/sh for a file that is neither ELF nor #!),
    the next level the hook inspects.  Failed calls earn nothing and may
    come between (the armed-filter probe fchdir(0x5eed0a11) = EBADF, the
    launcher's execvp trying PATH entries that do not exist).  A
    successful execve of anything else ends the window unconfirmed.
    Not recognised (credited as reads, as before): an inspection in one
    thread followed by an execve that strace logs in another.
    """
    skip = set()
    by_tid = {}
    for c in calls:
        by_tid.setdefault(c.tid, []).append(c)
    for seq in by_tid.values():
        for i, c in enumerate(seq):
            p = _inspection_open(c)
            if p is None or id(c) in skip:
                continue
            run, fds, allowed = [c], {(c.rv, p)}, {p} | _interpreter(p)
            for d in seq[i + 1:]:
                if d.name in EXECS:
                    if _exec_target(d, c) == p:
                        skip.update(id(x) for x in run)
                        break
                    if d.ok:
                        break
                    continue
                q = _inspection_open(d)
                if q is not None and q in allowed:
                    run.append(d)
                    fds.add((d.rv, q))
                    allowed |= _interpreter(q)
                    continue
                fa = fd_arg(d.args[0]) if d.args else None
                if fa and (fa[0], fa[1]) in fds:
                    run.append(d)
                    continue
                if not d.ok:
                    continue
                break
    return skip


def _inspection_open(c):
    """The canonical path a successful read-only open returned, else
    None (flags beyond the access mode are not checked: O_CLOEXEC,
    O_NONBLOCK, O_NOCTTY may all be there)."""
    if c.name not in ("open", "openat", "openat2") or not c.ok:
        return None
    flags = flag_set(c.args[1] if c.name == "open" else c.args[2])
    if flags & {b"O_WRONLY", b"O_RDWR", b"O_CREAT", b"O_TRUNC", b"O_PATH",
                b"O_DIRECTORY"}:
        return None
    if not c.rpath or not c.rpath.startswith(b"/") or c.rdeleted:
        return None
    return c.rpath


def _exec_target(d, opened):
    """Canonical path an execve/execveat names, a relative one taken
    from the cwd strace printed on the inspection open (AT_FDCWD<cwd>)."""
    if d.name == "execve":
        s, base = str_arg(d.args[0]), None
    else:
        s = str_arg(d.args[1])
        fa = fd_arg(d.args[0])
        base = fa[1] if fa and fa[0] != b"AT_FDCWD" else None
    if s is None:
        return None
    name = s[0]
    if not name.startswith(b"/"):
        if base is None and opened.name == "openat":
            fa = fd_arg(opened.args[0])
            base = fa[1] if fa and fa[0] == b"AT_FDCWD" else None
        if base is None:
            return None
        name = os.path.join(base, name)
    return _canon_full(name)


def _interpreter(p):
    """{canonical interpreter} an exec of file p runs (its #! line, or
    /bin/sh for neither ELF nor #!), read from disk now; else {}."""
    try:
        with open(p, "rb") as f:
            head = f.read(256)
    except OSError:
        return set()
    if head.startswith(b"\x7fELF"):
        return set()
    if head.startswith(b"#!"):
        words = head[2:].split(b"\n", 1)[0].split()
        return {_canon_full(words[0])} if words else set()
    return {_canon_full(b"/bin/sh")}


# ---------------------------------------------------------------- running

class DiffRun:
    """One execution seen by both the tracer (run.report) and strace
    (truth)."""

    def __init__(self, run, truth, log, seconds):
        self.run = run
        self.truth = truth
        self.log = log
        self.seconds = seconds


def run_both(argv, cwd, env=None, timeout=300, stdin=None, logdir=None,
             report=None, watch=None):
    """Run argv with the launcher under strace; returns DiffRun.  Built on
    the roartest helpers (tool, clean_env, load_report, Run); run_traced
    itself cannot put strace in front of the launcher."""
    strace = roartest.ensure_tool("strace", "strace")
    logdir = logdir or os.path.dirname(cwd)
    log = os.path.join(logdir, "strace-%d.log" % os.getpid())
    report = report or os.path.join(logdir, "report-%d.msgpack" % os.getpid())
    for p in (log, report):
        if os.path.exists(p):
            os.unlink(p)
    watched = [watch or cwd]
    before = snapshot(*watched) | tmp_entries()
    e = roartest.clean_env(env)
    # In the sanitizer build the launcher is instrumented, and
    # LeakSanitizer cannot run under ptrace: leaks are checked by the
    # other suites there.
    e["ASAN_OPTIONS"] = (e.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    cmd = ([strace] + STRACE_FLAGS + ["-o", log,
                                      roartest.tool("roar-tracer-preload"),
                                      report] + list(argv))
    t0 = time.time()
    # Our own session, so that a hang can be ended whole: strace, the
    # launcher, the collector and the workload, by this group's id.
    p = subprocess.Popen(cmd, cwd=cwd, env=e, stdin=stdin,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # Every process below strace, by pid (the launcher may move the
        # workload to a group of its own), then strace's own group.
        for pid in [p.pid] + _descendants(p.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        out, err = p.communicate()
        raise AssertionError(
            "strace + launcher did not finish within %d s (ended by "
            "SIGKILL): %r; stderr tail %r" % (timeout, argv, err[-2000:]))
    proc = subprocess.CompletedProcess(cmd, p.returncode, out, err)
    seconds = time.time() - t0
    if not os.path.exists(report):
        raise AssertionError("no report written by %r: stderr %r"
                             % (cmd, proc.stderr))
    run = roartest.Run(proc, roartest.load_report(report), report)
    roots = run.roots()
    if len(roots) != 1:
        raise AssertionError("report has %d roots" % len(roots))
    truth = derive(log, roots[0]["pid"], cwd, before, watched)
    return DiffRun(run, truth, log, seconds)


def _descendants(pid):
    """Pids below pid, from /proc/PID/task/TID/children."""
    out = []
    todo = [pid]
    while todo:
        cur = todo.pop()
        try:
            tids = os.listdir("/proc/%d/task" % cur)
        except OSError:
            continue
        for tid in tids:
            try:
                with open("/proc/%d/task/%s/children" % (cur, tid)) as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


def socket_dir(run):
    for p in run.roots():
        s = (p.get("env") or {}).get("ROAR_PRELOAD_TRACE_SOCK")
        if s:
            return os.path.dirname(s) + "/"
    return None


def default_scope():
    return "all" if os.environ.get("ROAR_DIFF_STRICT") == "1" else "workload"


def in_scope(p, scope):
    if scope == "all":
        return True
    if scope == "glibc":
        return glibc_internal(p)
    return not glibc_internal(p)


def compare(d, exclude=(), scope=None):
    """Differences between report and truth: a dict of lists (empty when
    they agree) and a readable text.  scope: "workload" (all but the
    glibc-internal files, the default), "glibc" (only those), "all"."""
    scope = scope or default_scope()
    run, t = d.run, d.truth
    excl = [run.report_path, d.log] + list(exclude)
    sd = socket_dir(run)
    if sd:
        excl.append(sd)

    def keep(p):
        return comparable(p, excl) and in_scope(p, scope)

    rep_read = {fsb(p) for p in run.read_set() if keep(p)}
    rep_written = {fsb(p) for p in run.written_set() if keep(p)}
    tr_read = {p for p in t.filtered("read", excl) if in_scope(p, scope)}
    tr_written = {p for p in t.filtered("written", excl)
                  if in_scope(p, scope)}
    d.sets = {"report_read": rep_read, "report_written": rep_written,
              "strace_read": tr_read, "strace_written": tr_written}
    out = {
        "read_missing": sorted(tr_read - rep_read),
        "read_extra": sorted(rep_read - tr_read),
        "written_missing": sorted(tr_written - rep_written),
        "written_extra": sorted(rep_written - tr_written),
    }
    # Processes: same pids; each exec'd pid's command is its last argv.
    rep_pids = {p["pid"] for p in run.processes()}
    out["pids_missing"] = sorted(t.pids - rep_pids)
    out["pids_extra"] = sorted(rep_pids - t.pids)
    bypid = run.proc_by_pid()
    mism = []
    for pid, (fn, argv) in sorted(t.last_exec().items()):
        p = bypid.get(pid)
        if p is None or argv is None:
            continue
        cmd = [fsb(x) for x in (p.get("command") or [])]
        if not argv_matches(argv, cmd):
            mism.append((pid, [a for a, _ in argv], cmd))
    out["command_mismatch"] = mism
    # Per process (the report's extra read_paths / written_paths): the
    # same filters, so a credit given to the wrong process shows here.
    per = []
    for pid in sorted(t.pids & rep_pids):
        p = bypid[pid]
        for kind, key in (("r", "read_paths"), ("w", "written_paths")):
            if key not in p:
                continue
            got = {fsb(x) for x in p.get(key) or () if keep(x)}
            want = {x for x in t.by_pid.get((pid, kind), ())
                    if keep(x) and t.is_regular_any(x)}
            if got != want:
                per.append((pid, key, sorted(want - got), sorted(got - want)))
    out["per_process"] = per
    lines = []
    for k in ("read_missing", "read_extra", "written_missing",
              "written_extra"):
        for p in out[k]:
            why = t.why.get((p, "r" if k.startswith("read") else "w"), "")
            lines.append("  %-16s %s%s" % (k, show(p),
                                           ("   <- strace: " + why)
                                           if why else ""))
    if out["pids_missing"]:
        lines.append("  pids in strace, not in report: %s" % (
            ", ".join("%d %s" % (pid, _argv0(t, pid))
                      for pid in out["pids_missing"][:20])))
    if out["pids_extra"]:
        lines.append("  pids in report, not in strace tree: %s"
                     % out["pids_extra"][:20])
    for pid, key, missing, extra in per[:20]:
        lines.append("  pid %d %s (%s): missing %s, extra %s" % (
            pid, key, _argv0(t, pid), [show(x) for x in missing],
            [show(x) for x in extra]))
    for pid, want, got in mism[:20]:
        lines.append("  command of %d: strace exec %r, report %r"
                     % (pid, want, got))
    if t.bad_lines:
        lines.append("  (%d strace lines not parsed, first: %r)"
                     % (len(t.bad_lines), t.bad_lines[0][:200]))
    return out, "\n".join(lines)


def _argv0(t, pid):
    e = t.execs.get(pid)
    if e and e[-1][1]:
        return show(e[-1][1][0][0])
    return "(no exec)"


def argv_matches(argv, cmd):
    """strace's argv (list of (bytes, truncated)) against a report
    command (list of bytes)."""
    if argv and argv[-1] == (b"...", True):
        argv = argv[:-1]
        if len(cmd) < len(argv):
            return False
        cmd = cmd[:len(argv)]
    if len(argv) != len(cmd):
        return False
    for (a, trunc), c in zip(argv, cmd):
        if trunc:
            if not c.startswith(a):
                return False
        elif a != c:
            return False
    return True


def exec_names(t):
    """argv[0] basenames of every successful exec in the tree, sorted."""
    out = []
    for pid, lst in t.execs.items():
        for fn, argv in lst:
            if argv:
                out.append(os.path.basename(argv[0][0]))
    return sorted(out)


def report_names(run):
    return sorted(os.path.basename(fsb(p["command"][0]))
                  for p in run.processes() if p.get("command"))


def keep_log(d, dest):
    shutil.copy(d.log, dest)
