/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the report views share (summary.c, dot.c, diff.c, rmerge.c): an
 * index of a decoded report's processes by (host, pid), since a merged
 * report of several hosts may hold one pid twice; and which files are the
 * system's rather than the run's (folded in the summary and the graph).
 */
#ifndef ROAR_VIEWS_H
#define ROAR_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

struct roar_view_proc {
	const msgpack_object *obj; /* the process's map in the report */
	const char *host;          /* its "host" bytes, or "" */
	size_t host_len;
	int64_t pid;
	int64_t ppid;   /* -1: none (a root) */
	uint32_t index; /* position in the report's processes */
};

struct roar_view {
	const msgpack_object *report;
	struct roar_view_proc *procs; /* sorted by (host, pid) */
	size_t nprocs;
};

/** Index report's processes.  Free with roar_view_free. */
void roar_view_init(struct roar_view *v, const msgpack_object *report);
void roar_view_free(struct roar_view *v);

/** The process pid of host, or NULL. */
const struct roar_view_proc *roar_view_find(const struct roar_view *v,
					    const char *host, size_t host_len,
					    int64_t pid);

/** The parent of p on its own host, or NULL (a root, or not reported). */
const struct roar_view_proc *roar_view_parent(const struct roar_view *v,
					      const struct roar_view_proc *p);

/** An integer of o, or dflt when o is none. */
int64_t roar_view_int(const msgpack_object *o, int64_t dflt);

/** Whether o is msgpack true. */
bool roar_view_true(const msgpack_object *o);

/**
 * Whether path (len bytes) is a system file for the process whose "exe"
 * is exe (exe_len bytes; NULL when unknown): under /usr, /lib, /lib64,
 * /etc, /proc, /sys or /dev, or in the library directory of the
 * interpreter it runs (<prefix>/lib for <prefix>/bin/python*, perl*,
 * ruby*, node: a virtualenv's or pyenv's site-packages too).
 */
bool roar_view_system_path(const char *exe, size_t exe_len, const char *path,
			   size_t len);

/** Print p's command, argv quoted where needed, at most max bytes of it
 *  (then "…"); max 0: all of it. */
void roar_view_print_command(FILE *out, const msgpack_object *cmd, size_t max);

/** Print bytes for a terminal: control and invalid bytes as \xNN. */
void roar_view_print_bytes(FILE *out, const char *p, size_t n);

/**
 * roar-report dot: the report as a Graphviz digraph (processes, files,
 * read, write, parent and pipe edges).  all: system files too, else one
 * count node per process.  @return 0
 */
int roar_dot_print(FILE *out, const msgpack_object *report, bool all);

/**
 * roar-report diff: what changed from report a to report b (inputs and
 * outputs added and removed, commands added and removed).
 * @return 0 when nothing did, 1 when something did
 */
int roar_diff_print(FILE *out, const msgpack_object *a,
		    const msgpack_object *b);

/**
 * roar-report merge: one report of the reports in[0..n-1], each
 * process keeping its host (names[i] names input i in messages).
 * Writes it to path.  @return 0, or -errno with a message in err
 */
int roar_merge_reports(const char *path, const msgpack_object *const *in,
		       const char *const *names, size_t n, char *err,
		       size_t errlen);

#endif /* ROAR_VIEWS_H */
