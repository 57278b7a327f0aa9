# SPDX-License-Identifier: Apache-2.0
"""bench/run's table: the machine it ran on, each row's ratios and
verdict against its target, and the supervisor rows against strace."""

import os
import platform


def machine_info():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d CPUs (%s), Linux %s, load %s" % (
        os.cpu_count(), model, platform.release(),
        " ".join(open("/proc/loadavg").read().split()[:3]))


def fmt_ratio(x):
    return "-" if x is None else "%.2f" % x


def print_table(results, ingest, variants, reps, wait_timeout, elapsed):
    fsa = "fsatrace" in variants
    flo = "floor" in variants
    print("roar-preload bench: %s" % machine_info())
    print("runs per variant: %d (medians; ratios = median of paired "
          "variant/bare runs, interleaved; +-%%: max-min of the bare runs "
          "over their median, a noise gauge)" % reps)
    hdr = "%-34s %4s %8s %6s %7s %8s %-8s %9s %9s" % (
        "row", "runs", "bare s", "+-%", "roar x", "target", "verdict",
        "preload x", "strace x")
    if fsa:
        hdr += " %10s" % "fsatrace x"
    if flo:
        hdr += " %7s" % "floor x"
    print(hdr)
    print("-" * len(hdr))
    notes = []
    for row, res in results:
        roar = res.get("roar")
        verdict = "-"
        fx = res.get("fsatrace")
        if roar is not None and row.info:
            verdict = "info"
            notes.append(row.info)
        elif roar is not None and row.strace_share is not None:
            if res.get("strace") is not None:
                ok = roar - 1 <= row.strace_share * (res["strace"] - 1)
                verdict = "PASS" if ok else "MISS"
        elif roar is not None:
            ok = roar <= row.target
            if row.vs_fsatrace and fx is not None:
                ok = ok and roar <= fx
            verdict = "PASS" if ok else "MISS"
            if res["stuck"]:
                verdict += "+HANG"
                notes.append(
                    "%s: %d/%d traced runs never ended by themselves (ended "
                    "by ROAR_WAIT_TIMEOUT=%gs); without that wait: %.2fx" %
                    (row.key, res["stuck"], reps, wait_timeout,
                     res["roar_unstuck"]))
        st = fmt_ratio(res.get("strace"))
        if res.get("strace") is not None and row.strace_note:
            st += "(%s)" % row.strace_note
        if row.strace_share is not None:
            target = ("(st/%g)" if row.info else "st/%g") % (
                1 / row.strace_share)
        else:
            target = "<=%.2f%s" % (row.target, "*" if row.vs_fsatrace else "")
        line = "%-34s %4d %8.3f %6.0f %7s %8s %-8s %9s %9s" % (
            row.label, res["runs"], res["bare"], 100 * res["spread"],
            fmt_ratio(roar), target,
            verdict, fmt_ratio(res.get("preload")), st)
        if fsa:
            line += " %10s" % fmt_ratio(fx)
        if flo:
            line += " %7s" % fmt_ratio(res.get("floor"))
        print(line)
    if ingest:
        # Issue 11: >= 2 M frames/s, <= 200 B a path besides the path.
        ok_fps = ingest["fps_e2e"] >= 2e6
        extra = ingest["bytes_path"] - ingest["path_len"]
        ok_mem = extra <= 200
        print("%-34s %4d %8s %6s %7s %8s %-8s" % (
            "collector ingest, %d conns" % ingest["conns"], ingest["runs"],
            "-", "-", "-", "see below",
            "PASS" if ok_fps and ok_mem else "MISS"))
        print("  %d frames, all distinct paths (%d bytes each):" %
              (ingest["frames"], ingest["path_len"]))
        print("  frames/s, first frame -> report written: %10.0f  "
              "(target >= 2000000: %s)" %
              (ingest["fps_e2e"], "PASS" if ok_fps else "MISS"))
        print("  frames/s, first frame -> last merged:    %10.0f" %
              ingest["fps_ingest"])
        print("  peak RSS per distinct path: %.0f B = path %d + %.0f B "
              "(target <= 200 besides the path: %s)" %
              (ingest["bytes_path"], ingest["path_len"], extra,
               "PASS" if ok_mem else "MISS"))
        print("  of which while merging (VmHWM before the report): %.0f B" %
              ingest["bytes_path_ingest"])
    cs = [(row, res) for row, res in results if res.get("cs") is not None]
    if cs:
        print("call sites (README \"Call sites\"), same rounds as the "
              "table: roar x with them on (ROAR_CALLSITES=1) and off "
              "(the default)")
        for row, res in cs:
            print("  %-34s on %5s  off %5s  on/off %5s" % (
                row.label, fmt_ratio(res["cs"]),
                fmt_ratio(res.get("roar")),
                fmt_ratio(res["cs"] / res["roar"]
                          if res.get("roar") else None)))
    sup = [(row, res) for row, res in results
           if row.strace_share is not None and res.get("roar") is not None]
    if sup:
        print("supervisor rows: overhead = ratio - 1; goal: roar's at most "
              "1/%g of strace's (target st/%g)" % (
                  1 / sup[0][0].strace_share, 1 / sup[0][0].strace_share))
        for row, res in sup:
            ro, so = res["roar"] - 1, res.get("strace")
            so = None if so is None else so - 1
            fo = res.get("floor")
            fo = None if fo is None else fo - 1
            print("  %-34s roar %+7.0f%%  strace %+7s  roar/strace %5s"
                  "  floor %+7s  floor/strace %5s" % (
                      row.label, 100 * ro,
                      "-" if so is None else "%+.0f%%" % (100 * so),
                      "-" if not so else "%.2f" % (ro / so),
                      "-" if fo is None else "%+.0f%%" % (100 * fo),
                      "-" if fo is None or not so else "%.2f" % (fo / so)))
        if any(res.get("floor") is not None for _, res in sup):
            print("note: supervisor rows' floor: drivers/supfloor.c, our "
                  "filter with every notified call let go at once and "
                  "nothing recorded: the notifications' own price")
    for n in notes:
        print("note: " + n)
    rows = [r for r, _ in results]
    if any(r.vs_fsatrace for r in rows):
        print("note: target *: also roar x <= fsatrace x of the same run%s" %
              ("" if fsa else " (not checked: no fsatrace column)"))
    metrics = sorted({r.metric for r in rows if r.metric})
    if metrics:
        print("note: %s rows: bare s and ratios are of the %s the command "
              "prints itself, not of its wall time" % (
                  ", ".join(r.key for r in rows if r.metric),
                  "/".join(metrics)))
    if not fsa and rows:
        print("note: fsatrace column skipped; to get it: "
              "bench/build-fsatrace.sh TARBALL (fsatrace's source), then "
              "bench/run --fsatrace /tmp/fsatrace-build/src/fsatrace")
    if flo and any(r.lifecycle for r, _ in results):
        print("note: floor: the launcher with drivers/floorlib.c instead of "
              "our library: resolve the wrapped functions, connect, announce "
              "every image (argv, env, cwd, exe), fork and exit, nothing "
              "else: what any tracer reporting every process pays here")
    if flo and any(r.open_floor for r, _ in results):
        print("note: floor of the first-open rows: drivers/floorlib.c with "
              "-DFLOOR_OPEN: the same, and at every open only the no-filter "
              "check (prctl) and openat2 refusing symlinks, what naming "
              "files soundly without a readlink takes; no file remembered, "
              "no frame sent")
    if any(r.strace_note for r, _ in results if "strace" in variants):
        print("note: strace (1/N): strace -f on a workload N times smaller, "
              "against its own bare runs (the full one takes minutes under "
              "strace here)")
    print("suite wall time: %.0f s" % elapsed)
