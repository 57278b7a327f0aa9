# SPDX-License-Identifier: Apache-2.0
"""The exec hook's own look at an exec target, which strace shows and the
comparison must not credit (see exec_inspections)."""

import os

from .parse import fd_arg, flag_set, str_arg
from .paths import _canon_full

EXECS = {"execve", "execveat"}


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
    ENOEXEC for a script without #!) comes before any call of X that
    could earn a credit (_earns_nothing), except calls on the inspection
    fds themselves (pread64, fstat, fgetxattr, close...) and further such
    opens of P or of the interpreter P names (its #! line; /bin/sh for a
    file that is neither ELF nor #!), the next level the hook inspects.
    What earns nothing may come between: failed calls (the armed-filter
    probe fchdir(0x5eed0a11) = EBADF, the launcher's execvp trying PATH
    entries that do not exist), calls that never credit (the hand-over's
    fcntl(SOCK, F_SETFD, 0), faccessat, stat, munmap), I/O on a socket or
    pipe (the library's exec event on its connection) and an anonymous
    mmap (its scratch buffer for the exec's environment).  A successful
    execve of anything else ends the window unconfirmed.
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
                if _earns_nothing(d):
                    continue
                break
    return skip


# The calls derive() may credit: opens, path calls, and the fd calls
# below (FD_CREDITS: which of their arguments are fds).
FD_CREDITS = {
    "read": (0,), "pread64": (0,), "readv": (0,), "preadv": (0,),
    "preadv2": (0,), "write": (0,), "pwrite64": (0,), "writev": (0,),
    "pwritev": (0,), "pwritev2": (0,), "sendfile": (0, 1),
    "splice": (0, 2), "copy_file_range": (0, 2), "mmap": (4,),
    "ftruncate": (0,), "fallocate": (0,),
}
PATH_CREDITS = {"open", "openat", "openat2", "creat", "truncate", "rename",
                "renameat", "renameat2", "link", "linkat"}


def _earns_nothing(d):
    """Whether call d can earn no credit at all: it failed, it is none
    of the crediting calls, or every fd it names is not a file (a
    socket, pipe or anonymous inode: strace's -y path is not absolute)."""
    if not d.ok:
        return True
    if d.name in PATH_CREDITS:
        return False
    if d.name not in FD_CREDITS:
        return True
    for i in FD_CREDITS[d.name]:
        fa = fd_arg(d.args[i]) if i < len(d.args) else None
        if fa and fa[1] and fa[1].startswith(b"/"):
            return False
    return True


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
