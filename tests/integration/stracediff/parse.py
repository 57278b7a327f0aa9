# SPDX-License-Identifier: Apache-2.0
"""strace's log (STRACE_FLAGS, run.py) read back into calls: each line
split into its tid, call name, top-level arguments and return value,
with -xx's hex escapes decoded.  Lines split by another thread
("<unfinished ...>" / "<... X resumed>") are stitched back per tid
before they are parsed.
"""

import re

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


def flag_set(text):
    """The flags of an open-family argument, as a set of names."""
    m = re.search(rb"flags=([A-Z0-9_|]+)", text)
    if m:
        text = m.group(1)
    return set(strip_comments(text).split(b"|"))
