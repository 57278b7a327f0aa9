/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process index and the system-file rule the views share (views.h).
 * Reads the decoded report only.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "roar/utf8.h"
#include "roar/mp.h"
#include "report_schema.h"
#include "util.h"
#include "views.h"

int64_t
roar_view_int(const msgpack_object *o, int64_t dflt)
{
	if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (int64_t)o->via.u64;
	if (o && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return o->via.i64;
	return dflt;
}

bool
roar_view_true(const msgpack_object *o)
{
	return o && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean;
}

static int
cmp_host_pid(const char *ha, size_t la, int64_t pa, const char *hb, size_t lb,
	     int64_t pb)
{
	size_t n = la < lb ? la : lb;
	int c = n ? memcmp(ha, hb, n) : 0;

	if (c)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	return (pa > pb) - (pa < pb);
}

static int
cmp_view_proc(const void *a, const void *b)
{
	const struct roar_view_proc *x = a, *y = b;

	return cmp_host_pid(x->host, x->host_len, x->pid, y->host, y->host_len,
			    y->pid);
}

void
roar_view_init(struct roar_view *v, const msgpack_object *report)
{
	const msgpack_object *procs = roar_mp_get(report, ROAR_R_TOP_PROCESSES);
	uint32_t n = procs && procs->type == MSGPACK_OBJECT_ARRAY
			     ? procs->via.array.size
			     : 0;

	v->report = report;
	v->procs = roar_xcalloc(n + 1, sizeof(*v->procs));
	v->nprocs = n;
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object *p = &procs->via.array.ptr[i];
		struct roar_view_proc *vp = &v->procs[i];

		vp->obj = p;
		vp->index = i;
		if (!roar_mp_bytes(roar_mp_get(p, ROAR_R_PROC_HOST), &vp->host,
				   &vp->host_len)) {
			vp->host = "";
			vp->host_len = 0;
		}
		vp->pid = roar_view_int(roar_mp_get(p, ROAR_R_PROC_PID), 0);
		vp->ppid = roar_view_int(roar_mp_get(p, ROAR_R_PROC_PARENT_PID),
					 -1);
	}
	qsort(v->procs, n, sizeof(*v->procs), cmp_view_proc);
}

void
roar_view_free(struct roar_view *v)
{
	free(v->procs);
	v->procs = NULL;
	v->nprocs = 0;
}

const struct roar_view_proc *
roar_view_find(const struct roar_view *v, const char *host, size_t host_len,
	       int64_t pid)
{
	size_t lo = 0, hi = v->nprocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct roar_view_proc *p = &v->procs[mid];
		int c = cmp_host_pid(p->host, p->host_len, p->pid, host,
				     host_len, pid);

		if (!c)
			return p;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct roar_view_proc *
roar_view_parent(const struct roar_view *v, const struct roar_view_proc *p)
{
	if (p->ppid < 0 || p->ppid == p->pid)
		return NULL;
	return roar_view_find(v, p->host, p->host_len, p->ppid);
}

static bool
has_prefix(const char *p, size_t len, const char *prefix, size_t plen)
{
	return len >= plen && !memcmp(p, prefix, plen);
}

bool
roar_view_system_path(const char *exe, size_t exe_len, const char *path,
		      size_t len)
{
	static const char *const dirs[] = { "/usr/",   "/lib/", "/lib32/",
					    "/lib64/", "/etc/", "/proc/",
					    "/sys/",   "/dev/" };
	static const char *const interps[] = { "python", "perl", "ruby",
					       "node" };
	const char *slash, *name, *bin;
	size_t prefix_len;

	for (size_t i = 0; i < ROAR_ARRAY_SIZE(dirs); i++)
		if (has_prefix(path, len, dirs[i], strlen(dirs[i])))
			return true;
	if (!exe || !exe_len)
		return false;
	/* <prefix>/bin/<interpreter>: its library is <prefix>/lib (and
	 * lib64), where a virtualenv or pyenv keeps its site-packages. */
	slash = memrchr(exe, '/', exe_len);
	if (!slash || slash - exe < 4)
		return false;
	name = slash + 1;
	bin = slash - 4;
	if (memcmp(bin, "/bin", 4))
		return false;
	for (size_t i = 0; i < ROAR_ARRAY_SIZE(interps); i++) {
		size_t il = strlen(interps[i]);

		if ((size_t)(exe + exe_len - name) < il ||
		    memcmp(name, interps[i], il))
			continue;
		prefix_len = (size_t)(bin - exe);
		if (!has_prefix(path, len, exe, prefix_len))
			return false;
		return has_prefix(path + prefix_len, len - prefix_len, "/lib/",
				  5) ||
		       has_prefix(path + prefix_len, len - prefix_len,
				  "/lib64/", 7);
	}
	return false;
}

void
roar_view_print_bytes(FILE *out, const char *p, size_t n)
{
	bool utf8 = roar_utf8_valid(p, n);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\\')
			fputs("\\\\", out);
		else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

void
roar_view_print_command(FILE *out, const msgpack_object *cmd, size_t max)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if (!cmd || cmd->type != MSGPACK_OBJECT_ARRAY || !cmd->via.array.size) {
		fputs("(command unknown)", out);
		return;
	}
	m = open_memstream(&buf, &len);
	if (!m)
		return;
	for (uint32_t i = 0; i < cmd->via.array.size; i++) {
		const char *p;
		size_t n;
		bool quote;

		if (i)
			fputc(' ', m);
		if (!roar_mp_bytes(&cmd->via.array.ptr[i], &p, &n)) {
			fputc('?', m);
			continue;
		}
		quote = n == 0 || strcspn(p, " \t'\"") < n;
		if (quote)
			fputc('\'', m);
		roar_view_print_bytes(m, p, n);
		if (quote)
			fputc('\'', m);
	}
	fclose(m);
	if (max && len > max) {
		/* Cut on a character boundary (never inside UTF-8). */
		while (max > 0 && ((unsigned char)buf[max] & 0xc0) == 0x80)
			max--;
		fwrite(buf, 1, max, out);
		fputs("\u2026", out);
	} else {
		fwrite(buf, 1, len, out);
	}
	free(buf);
}
