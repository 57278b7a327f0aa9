# SPDX-License-Identifier: Apache-2.0
"""The truth of a run: what strace says the workload read and wrote,
derived from its log (parse.py) following docs/roar-compat.md "What is a
read and what is a write".

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
"""

import os
import re
import stat

from .parse import _MODE, array_arg, fd_arg, parse_log, readable, str_arg
from .parse import flag_set, strip_comments
from .paths import _canon_full, _canon_parent, comparable, fsb
from .inspect import exec_inspections


READS = {"read", "pread64", "readv", "preadv", "preadv2"}
WRITES = {"write", "pwrite64", "writev", "pwritev", "pwritev2"}
OPENS = {"open", "openat", "openat2", "creat"}
FORKS = {"clone", "clone3", "fork", "vfork"}
from .inspect import EXECS

O_ACC = {b"O_RDONLY": 0, b"O_WRONLY": 1, b"O_RDWR": 2}


class Truth:
    """What strace says the workload did."""

    def __init__(self):
        # canonical bytes path -> the incarnations of that name that
        # earned the credit (a name unlinked, renamed away or replaced
        # starts a new incarnation, which may be another kind of file)
        self.read = {}
        self.written = {}
        # (path, 'r'|'w') -> the first syscall that earned it
        self.why = {}
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
            continue  # see inspect.exec_inspections
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
