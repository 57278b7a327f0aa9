/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Human and JSON views of a report.  Only reads the decoded report; never
 * changes it.  The human one is for a glance: what a run read and wrote,
 * without the hundreds of files an interpreter loads from /usr (one count
 * line per process unless --all), temporaries that are gone marked so,
 * and command lines cut to a line.  The report keeps everything.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roar/utf8.h"
#include "roar/mp.h"
#include "report_schema.h"
#include "summary.h"
#include "util.h"
#include "views.h"

static int64_t
int_of(const msgpack_object *o, int64_t dflt)
{
	return roar_view_int(o, dflt);
}

/* What one summary needs while it walks the tree. */
struct summary {
	FILE *out;
	const struct roar_summary_opts *opts;
	struct roar_view view;
	const msgpack_object *procs;
	uint32_t np;
	/* The tree, in the report's order: first child and next sibling,
	 * UINT32_MAX for none. */
	uint32_t *child;
	uint32_t *sibling;
	char *seen;
	bool many_hosts;        /* show [pid@host] */
	char host[256];         /* ours: only our own files can be gone */
	struct roar_map system; /* path hash -> 1: a system file of someone */
};

static const struct roar_view_proc *
view_of(const struct summary *s, uint32_t idx)
{
	const msgpack_object *p = &s->procs->via.array.ptr[idx];
	const char *h;
	size_t hl;

	if (!roar_mp_bytes(roar_mp_get(p, ROAR_R_PROC_HOST), &h, &hl)) {
		h = "";
		hl = 0;
	}
	return roar_view_find(&s->view, h, hl,
			      int_of(roar_mp_get(p, ROAR_R_PROC_PID), 0));
}

static void
print_obj_bytes(FILE *out, const msgpack_object *o)
{
	const char *p;
	size_t n;

	if (roar_mp_bytes(o, &p, &n))
		roar_view_print_bytes(out, p, n);
	else
		fputs("?", out);
}

/* Whether o is the string want. */
static bool
is_str(const msgpack_object *o, const char *want)
{
	const char *p;
	size_t n;

	return roar_mp_bytes(o, &p, &n) && n == strlen(want) &&
	       !memcmp(p, want, n);
}

/* Whether the file at path (of host, "" when unknown) is no longer on
 * disk.  Only this machine's files are asked about. */
static bool
gone(const struct summary *s, const char *host, size_t host_len,
     const char *path, size_t len)
{
	struct stat st;
	char *z;
	bool g;

	if (s->opts->no_gone || len == 0)
		return false;
	if (host_len &&
	    (strlen(s->host) != host_len || memcmp(s->host, host, host_len)))
		return false;
	z = roar_xmalloc(len + 1);
	memcpy(z, path, len);
	z[len] = '\0';
	g = lstat(z, &st) != 0 && errno == ENOENT;
	free(z);
	return g;
}

/* Print a process's files with label; returns how many system files it
 * held back (listed only with --all). */
static size_t
print_paths(struct summary *s, const char *label, const msgpack_object *list,
	    int indent, const char *exe, size_t exe_len, const char *host,
	    size_t host_len, bool written)
{
	size_t folded = 0;

	if (!list || list->type != MSGPACK_OBJECT_ARRAY)
		return 0;
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		const msgpack_object *o = &list->via.array.ptr[i];
		const char *p;
		size_t n;

		if (!roar_mp_bytes(o, &p, &n))
			continue;
		if (roar_view_system_path(exe, exe_len, p, n)) {
			roar_map_put(&s->system, roar_hash_bytes(p, n),
				     (void *)1);
			if (!s->opts->all) {
				folded++;
				continue;
			}
		}
		fprintf(s->out, "%*s%s ", indent, "", label);
		roar_view_print_bytes(s->out, p, n);
		if (written && gone(s, host, host_len, p, n))
			fputs(" (gone)", s->out);
		fputc('\n', s->out);
	}
	return folded;
}

static void
print_proc(struct summary *s, uint32_t idx, int depth)
{
	FILE *out = s->out;
	const msgpack_object *p = &s->procs->via.array.ptr[idx];
	const struct roar_view_proc *vp = view_of(s, idx);
	int64_t pid = int_of(roar_mp_get(p, ROAR_R_PROC_PID), 0);
	int64_t code = int_of(roar_mp_get(p, ROAR_R_PROC_EXIT_CODE), -1);
	int64_t sig = int_of(roar_mp_get(p, ROAR_R_PROC_EXIT_SIGNAL), -1);
	const msgpack_object *traced = roar_mp_get(p, ROAR_R_PROC_TRACED);
	const char *exe = NULL;
	size_t exe_len = 0, folded;

	s->seen[idx] = 1;
	if (!roar_mp_bytes(roar_mp_get(p, ROAR_R_PROC_EXE), &exe, &exe_len))
		exe = NULL;
	fprintf(out, "%*s[%lld", depth * 2, "", (long long)pid);
	if (s->many_hosts && vp && vp->host_len) {
		fputc('@', out);
		roar_view_print_bytes(out, vp->host, vp->host_len);
	}
	fputs("] ", out);
	roar_view_print_command(out, roar_mp_get(p, ROAR_R_PROC_COMMAND),
				s->opts->all ? 0 : ROAR_SUMMARY_COMMAND_MAX);
	if (code >= 0)
		fprintf(out, "  (exit %lld)", (long long)code);
	else if (sig >= 0)
		fprintf(out, "  (killed by signal %lld)", (long long)sig);
	if (roar_view_true(roar_mp_get(p, ROAR_R_PROC_STILL_RUNNING)))
		fputs("  (still running when the report was taken)", out);
	if (roar_view_true(roar_mp_get(p, ROAR_R_PROC_TRUNCATED)))
		fputs("  (argv or environment truncated)", out);
	if (is_str(roar_mp_get(p, ROAR_R_PROC_TRACED_BY), "supervisor"))
		fputs("  (seen by the seccomp supervisor)", out);
	if (roar_mp_get(p, ROAR_R_PROC_UNSEEN))
		fputs("  (some of its I/O was not seen: see unseen)", out);
	fputc('\n', out);
	if (traced && traced->type == MSGPACK_OBJECT_BOOLEAN &&
	    !traced->via.boolean) {
		fprintf(out, "%*s  NOT TRACED: ", depth * 2, "");
		print_obj_bytes(out,
				roar_mp_get(p, ROAR_R_PROC_UNTRACED_REASON));
		fputc('\n', out);
	}
	folded = print_paths(s, "read   ",
			     roar_mp_get(p, ROAR_R_PROC_READ_PATHS),
			     depth * 2 + 2, exe, exe_len, vp ? vp->host : "",
			     vp ? vp->host_len : 0, false);
	folded += print_paths(s, "written",
			      roar_mp_get(p, ROAR_R_PROC_WRITTEN_PATHS),
			      depth * 2 + 2, exe, exe_len, vp ? vp->host : "",
			      vp ? vp->host_len : 0, true);
	if (folded)
		fprintf(out, "%*s+ %zu system file%s (--all to list)\n",
			depth * 2 + 2, "", folded, folded == 1 ? "" : "s");
	for (uint32_t c = s->child[idx]; c != UINT32_MAX; c = s->sibling[c])
		if (!s->seen[c])
			print_proc(s, c, depth + 1);
}

/* Link every process under its parent (on its own host), keeping the
 * report's order (by pid) among siblings. */
static void
build_tree(struct summary *s)
{
	uint32_t *last = roar_xcalloc(s->np + 1, sizeof(*last));

	for (uint32_t i = 0; i < s->np; i++) {
		s->child[i] = s->sibling[i] = last[i] = UINT32_MAX;
	}
	for (uint32_t i = 0; i < s->np; i++) {
		const struct roar_view_proc *vp = view_of(s, i);
		const struct roar_view_proc *pp =
			vp ? roar_view_parent(&s->view, vp) : NULL;

		if (!pp || pp->index == i)
			continue;
		if (last[pp->index] == UINT32_MAX)
			s->child[pp->index] = i;
		else
			s->sibling[last[pp->index]] = i;
		last[pp->index] = i;
	}
	free(last);
}

static bool
differing_hosts(const struct roar_view *v)
{
	for (size_t i = 1; i < v->nprocs; i++)
		if (v->procs[i].host_len != v->procs[0].host_len ||
		    memcmp(v->procs[i].host, v->procs[0].host,
			   v->procs[0].host_len))
			return true;
	return false;
}

int
roar_summary_print(FILE *out, const msgpack_object *report)
{
	return roar_summary_print_opts(out, report, NULL);
}

int
roar_summary_print_opts(FILE *out, const msgpack_object *report,
			const struct roar_summary_opts *opts)
{
	static const struct roar_summary_opts defaults;
	const msgpack_object *procs = roar_mp_get(report, ROAR_R_TOP_PROCESSES);
	const msgpack_object *files = roar_mp_get(report, ROAR_R_TOP_FILES);
	uint32_t nf = files && files->type == MSGPACK_OBJECT_ARRAY
			      ? files->via.array.size
			      : 0;
	uint32_t nread = 0, nwritten = 0;
	size_t folded = 0;
	int64_t refused, dropped, unrecorded;
	int untraced = 0;
	struct summary s = { .out = out, .opts = opts ? opts : &defaults };

	s.procs = procs;
	s.np = procs && procs->type == MSGPACK_OBJECT_ARRAY
		       ? procs->via.array.size
		       : 0;
	roar_view_init(&s.view, report);
	roar_map_init(&s.system);
	s.many_hosts = differing_hosts(&s.view);
	if (gethostname(s.host, sizeof(s.host) - 1) != 0)
		s.host[0] = '\0';
	s.child = roar_xcalloc(s.np + 1, sizeof(*s.child));
	s.sibling = roar_xcalloc(s.np + 1, sizeof(*s.sibling));
	s.seen = roar_xcalloc(s.np + 1, 1);
	build_tree(&s);

	fprintf(out, "Processes (%u):\n", s.np);
	for (uint32_t i = 0; i < s.np; i++) {
		const struct roar_view_proc *vp = view_of(&s, i);

		if (!s.seen[i] && (!vp || !roar_view_parent(&s.view, vp)))
			print_proc(&s, i, 1);
	}
	for (uint32_t i = 0; i < s.np; i++) /* anything in a cycle */
		if (!s.seen[i])
			print_proc(&s, i, 1);
	for (uint32_t i = 0; i < s.np; i++) {
		const msgpack_object *t = roar_mp_get(&procs->via.array.ptr[i],
						      ROAR_R_PROC_TRACED);

		if (t && t->type == MSGPACK_OBJECT_BOOLEAN && !t->via.boolean)
			untraced++;
	}
	fprintf(out, "Files (%u):\n", nf);
	for (uint32_t i = 0; i < nf; i++) {
		const msgpack_object *f = &files->via.array.ptr[i];
		bool rd = roar_view_true(roar_mp_get(f, ROAR_R_FILE_READ));
		bool wr = roar_view_true(roar_mp_get(f, ROAR_R_FILE_WRITTEN));
		const char *p, *h;
		size_t n, hl;

		nread += rd;
		nwritten += wr;
		if (!roar_mp_bytes(roar_mp_get(f, ROAR_R_FILE_PATH), &p, &n))
			continue;
		if (!roar_mp_bytes(roar_mp_get(f, ROAR_R_FILE_HOST), &h, &hl)) {
			h = "";
			hl = 0;
		}
		if (!s.opts->all &&
		    (roar_view_system_path(NULL, 0, p, n) ||
		     roar_map_get(&s.system, roar_hash_bytes(p, n)))) {
			folded++;
			continue;
		}
		fprintf(out, "  %s%s ", rd ? "R" : "-", wr ? "W" : "-");
		roar_view_print_bytes(out, p, n);
		if (s.many_hosts && hl) {
			fputs("  @", out);
			roar_view_print_bytes(out, h, hl);
		}
		if (wr && gone(&s, h, hl, p, n))
			fputs(" (gone)", out);
		fputc('\n', out);
	}
	if (folded)
		fprintf(out, "  + %zu system file%s (--all to list)\n", folded,
			folded == 1 ? "" : "s");
	dropped = int_of(roar_mp_get(report, ROAR_R_TOP_EVENTS_DROPPED), 0);
	fprintf(out,
		"Summary: %u %s, %u %s read, %u %s written, "
		"%lld %s dropped",
		s.np, roar_plural(s.np, "process", "processes"), nread,
		roar_plural(nread, "file", "files"), nwritten,
		roar_plural(nwritten, "file", "files"), (long long)dropped,
		roar_plural((uint64_t)dropped, "event", "events"));
	if (untraced)
		fprintf(out, ", %d process%s NOT TRACED (see above)", untraced,
			untraced == 1 ? "" : "es");
	refused =
		int_of(roar_mp_get(report, ROAR_R_TOP_CONNECTIONS_REFUSED), 0);
	if (refused > 0)
		fprintf(out,
			", %lld connection%s refused (out of file "
			"descriptors)",
			(long long)refused, refused == 1 ? "" : "s");
	unrecorded = int_of(
		roar_mp_get(roar_mp_get(roar_mp_get(report,
						    ROAR_R_TOP_ROAR_PRELOAD),
					ROAR_R_RP_SUPERVISOR),
			    "unrecorded"),
		0);
	if (unrecorded > 0)
		fprintf(out,
			", %lld watched call%s let go unrecorded (the "
			"collector was stopped or starved)",
			(long long)unrecorded, unrecorded == 1 ? "" : "s");
	fputc('\n', out);
	free(s.seen);
	free(s.child);
	free(s.sibling);
	roar_map_free(&s.system);
	roar_view_free(&s.view);
	return untraced;
}
