# SPDX-License-Identifier: Apache-2.0
"""The report of a run against its truth (derive.py).

Compared (compare()): the read and written sets; the process set (the
pids of the tree, threads excluded) and, for each process that exec'd,
its report command against the argv of its last successful execve (as
the kernel rewrote it for a #! script's interpreter);
and, per process, the report's read_paths / written_paths against the
credits strace saw in that process (its threads included).
"""

import os
import shutil

from .paths import comparable, fsb, glibc_internal, show


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
        argv = script_argv(fn, argv)
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


def script_argv(fn, argv, depth=0):
    """The argv the kernel gives the image an exec of fn with argv runs
    (strace's form: (bytes, truncated) pairs): for a #! script, its
    interpreter, the line's one optional argument, then fn itself in
    place of argv[0] (binfmt_script), followed again for an interpreter
    that is a script (Linux follows a few levels)."""
    if fn is None or argv is None or depth > 4:
        return argv
    try:
        with open(fn, "rb") as f:
            head = f.read(256)
    except OSError:
        return argv
    if not head.startswith(b"#!"):
        return argv
    line = head[2:].split(b"\n", 1)[0].strip(b" \t")
    if not line:
        return argv
    parts = line.split(None, 1)
    new = [(parts[0], False)]
    if len(parts) > 1:
        new.append((parts[1].strip(b" \t"), False))
    new.append((fsb(fn) if not isinstance(fn, bytes) else fn, False))
    new += list(argv[1:])
    return script_argv(parts[0], new, depth + 1)


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
