# SPDX-License-Identifier: Apache-2.0
"""Which paths take part in the differential comparison, on either side,
and the canonical forms of path arguments.

Dropped: /dev, /proc, /sys, pipes, sockets, anon inodes,
the report, the socket directory, and the dynamic loader's files
(LOADER_RULE: /etc/ld.so.cache, /etc/ld.so.preload and any path whose
last component ends in ".so" or contains ".so.").  The loader opens
those before main (and for dlopen) through calls no preload hook can see,
so they cannot be compared.  The loader rule is applied to BOTH sides of
the comparison (the linker `ld` reading libc.so.6 as input is a genuine,
hookable read, but indistinguishable by name), see comparable().
The files glibc opens by itself (locale, iconv, NSS, time zone: see
GLIBC_INTERNAL_*) are compared apart, scope "glibc" of compare().
"""

import os


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
