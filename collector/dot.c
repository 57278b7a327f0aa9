/* SPDX-License-Identifier: Apache-2.0 */
/*
 * roar-report dot: a report as a Graphviz lineage graph.  Processes are
 * boxes, files are notes; a file a process read points at it, a file it
 * wrote is pointed at by it, a parent points at its child with a dashed
 * edge, and a pipe is an edge from each process that wrote it to each
 * that read it.  A file is one node per (host, path): a merged report's
 * hosts do not share files.  Only reads the decoded report.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "roar/utf8.h"
#include "roar/mp.h"
#include "report_schema.h"
#include "util.h"
#include "views.h"

/* Bytes of a command a process box shows. */
#define DOT_COMMAND_MAX 40

/* A DOT string's body: quotes and backslashes escaped, bytes that are
 * not printable UTF-8 written as \xNN so the label stays one line. */
static void
dot_bytes(FILE *out, const char *p, size_t n)
{
	bool utf8 = roar_utf8_valid(p, n);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			fprintf(out, "\\\\x%02x", c);
		else
			fputc(c, out);
	}
}

static void
dot_command(FILE *out, const msgpack_object *cmd)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return;
	roar_view_print_command(m, cmd, DOT_COMMAND_MAX);
	fclose(m);
	/* roar_view_print_command escaped odd bytes already; only the
	 * quoting DOT needs remains. */
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '"' || buf[i] == '\\')
			fputc('\\', out);
		fputc(buf[i], out);
	}
	free(buf);
}

struct dot {
	FILE *out;
	struct roar_map files; /* hash of host NUL path -> node number + 1 */
	uint32_t nfiles;
	bool all;
};

static uint64_t
file_key(const char *host, size_t hl, const char *p, size_t n)
{
	/* FNV-1a over host, a NUL, path: no path holds a NUL. */
	uint64_t h = roar_hash_bytes(host, hl);

	h ^= 0;
	h *= 1099511628211ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* The node of file p on host, declared on first use. */
static uint32_t
file_node(struct dot *d, const char *host, size_t hl, const char *p, size_t n)
{
	uint64_t k = file_key(host, hl, p, n);
	void *v = roar_map_get(&d->files, k);

	if (v)
		return (uint32_t)(uintptr_t)v - 1;
	roar_map_put(&d->files, k, (void *)(uintptr_t)(d->nfiles + 1));
	fprintf(d->out, "\tf%u [shape=note, label=\"", d->nfiles);
	dot_bytes(d->out, p, n);
	fputs("\"];\n", d->out);
	return d->nfiles++;
}

/* Edges between process node pn and its files of list; returns how many
 * system files were left out. */
static size_t
file_edges(struct dot *d, const struct roar_view_proc *vp, const char *exe,
	   size_t exe_len, const msgpack_object *list, bool written,
	   bool count_only)
{
	size_t folded = 0;

	if (!list || list->type != MSGPACK_OBJECT_ARRAY)
		return 0;
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		const char *p;
		size_t n;
		uint32_t f;

		if (!roar_mp_bytes(&list->via.array.ptr[i], &p, &n))
			continue;
		if (!d->all && roar_view_system_path(exe, exe_len, p, n)) {
			folded++;
			continue;
		}
		if (count_only)
			continue;
		f = file_node(d, vp->host, vp->host_len, p, n);
		if (written)
			fprintf(d->out, "\tp%u -> f%u;\n", vp->index, f);
		else
			fprintf(d->out, "\tf%u -> p%u;\n", f, vp->index);
	}
	return folded;
}

static void
pipe_edges(struct dot *d, const struct roar_view *v, const msgpack_object *pi)
{
	const msgpack_object *w = roar_mp_get(pi, ROAR_R_PIPE_WRITERS);
	const msgpack_object *r = roar_mp_get(pi, ROAR_R_PIPE_READERS);
	const char *host;
	size_t hl;

	if (!w || !r || w->type != MSGPACK_OBJECT_ARRAY ||
	    r->type != MSGPACK_OBJECT_ARRAY)
		return;
	/* A report of one run names no host per pipe: its processes'. */
	if (!roar_mp_bytes(roar_mp_get(pi, ROAR_R_PIPE_HOST), &host, &hl)) {
		host = v->nprocs ? v->procs[0].host : "";
		hl = v->nprocs ? v->procs[0].host_len : 0;
	}
	for (uint32_t i = 0; i < w->via.array.size; i++) {
		const struct roar_view_proc *a = roar_view_find(
			v, host, hl, roar_view_int(&w->via.array.ptr[i], -1));

		for (uint32_t j = 0; a && j < r->via.array.size; j++) {
			const struct roar_view_proc *b = roar_view_find(
				v, host, hl,
				roar_view_int(&r->via.array.ptr[j], -1));

			if (b && b != a)
				fprintf(d->out,
					"\tp%u -> p%u [color=blue, "
					"penwidth=2, label=\"pipe\", "
					"fontcolor=blue];\n",
					a->index, b->index);
		}
	}
}

int
roar_dot_print(FILE *out, const msgpack_object *report, bool all)
{
	const msgpack_object *pipes = roar_mp_get(report, ROAR_R_TOP_PIPES);
	struct roar_view v;
	struct dot d = { .out = out, .all = all };

	bool many_hosts;

	roar_view_init(&v, report);
	roar_map_init(&d.files);
	/* Sorted by host: the first and the last differ when any do. */
	many_hosts = v.nprocs &&
		     (v.procs[0].host_len != v.procs[v.nprocs - 1].host_len ||
		      memcmp(v.procs[0].host, v.procs[v.nprocs - 1].host,
			     v.procs[0].host_len));
	fputs("digraph roar {\n\trankdir=LR;\n"
	      "\tnode [fontname=\"Helvetica\", fontsize=10];\n"
	      "\tedge [fontname=\"Helvetica\", fontsize=9];\n",
	      out);
	for (size_t i = 0; i < v.nprocs; i++) {
		const struct roar_view_proc *vp = &v.procs[i];
		const msgpack_object *p = vp->obj;
		const char *exe;
		size_t exe_len, folded;

		if (!roar_mp_bytes(roar_mp_get(p, ROAR_R_PROC_EXE), &exe,
				   &exe_len))
			exe = NULL, exe_len = 0;
		folded = file_edges(&d, vp, exe, exe_len,
				    roar_mp_get(p, ROAR_R_PROC_READ_PATHS),
				    false, true);
		folded += file_edges(&d, vp, exe, exe_len,
				     roar_mp_get(p, ROAR_R_PROC_WRITTEN_PATHS),
				     true, true);
		fprintf(out, "\tp%u [shape=box, style=rounded, label=\"%lld",
			vp->index, (long long)vp->pid);
		if (many_hosts && vp->host_len) {
			fputc('@', out);
			dot_bytes(out, vp->host, vp->host_len);
		}
		fputs("\\n", out);
		dot_command(out, roar_mp_get(p, ROAR_R_PROC_COMMAND));
		if (folded)
			fprintf(out, "\\n(+%zu system file%s)", folded,
				folded == 1 ? "" : "s");
		fputs("\"];\n", out);
	}
	for (size_t i = 0; i < v.nprocs; i++) {
		const struct roar_view_proc *vp = &v.procs[i];
		const struct roar_view_proc *pp = roar_view_parent(&v, vp);
		const char *exe;
		size_t exe_len;

		if (!roar_mp_bytes(roar_mp_get(vp->obj, ROAR_R_PROC_EXE), &exe,
				   &exe_len))
			exe = NULL, exe_len = 0;
		if (pp)
			fprintf(out,
				"\tp%u -> p%u [style=dashed, "
				"color=gray40];\n",
				pp->index, vp->index);
		file_edges(&d, vp, exe, exe_len,
			   roar_mp_get(vp->obj, ROAR_R_PROC_READ_PATHS), false,
			   false);
		file_edges(&d, vp, exe, exe_len,
			   roar_mp_get(vp->obj, ROAR_R_PROC_WRITTEN_PATHS),
			   true, false);
	}
	for (uint32_t i = 0; pipes && pipes->type == MSGPACK_OBJECT_ARRAY &&
			     i < pipes->via.array.size;
	     i++)
		pipe_edges(&d, &v, &pipes->via.array.ptr[i]);
	fputs("}\n", out);
	roar_map_free(&d.files);
	roar_view_free(&v);
	return 0;
}
