/* SPDX-License-Identifier: Apache-2.0 */
/*
 * roar-report diff: what changed between two runs, as sets: the files
 * read (inputs) and written (outputs) by path, and the commands by their
 * argv (a multiset: a command run twice where it ran once is one added).
 * The report holds no file contents, so a file is the same when its name
 * is.  Only reads the decoded reports.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "roar/mp.h"
#include "report_schema.h"
#include "util.h"
#include "views.h"

struct strs {
	struct roar_bytes *v;
	size_t n;
};

static void
strs_add(struct strs *s, const char *p, size_t n)
{
	s->v = roar_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = roar_bytes_dup(p, n);
}

static void
strs_free(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		roar_bytes_free(&s->v[i]);
	free(s->v);
}

static int
cmp_bytes(const void *a, const void *b)
{
	return roar_bytes_cmp(a, b);
}

/* The paths of report's files with the given flag ("read", "written"),
 * sorted, each once (a merged report may name a path per host). */
static void
file_set(const msgpack_object *report, const char *flag, struct strs *out)
{
	const msgpack_object *files = roar_mp_get(report, ROAR_R_TOP_FILES);
	size_t k = 0;

	for (uint32_t i = 0; files && files->type == MSGPACK_OBJECT_ARRAY &&
			     i < files->via.array.size;
	     i++) {
		const msgpack_object *f = &files->via.array.ptr[i];
		const char *p;
		size_t n;

		if (roar_view_true(roar_mp_get(f, flag)) &&
		    roar_mp_bytes(roar_mp_get(f, ROAR_R_FILE_PATH), &p, &n))
			strs_add(out, p, n);
	}
	qsort(out->v, out->n, sizeof(*out->v), cmp_bytes);
	for (size_t i = 0; i < out->n; i++) {
		if (k && !roar_bytes_cmp(&out->v[k - 1], &out->v[i])) {
			roar_bytes_free(&out->v[i]);
			continue;
		}
		out->v[k++] = out->v[i];
	}
	out->n = k;
}

/* Every process's command as it prints, sorted (repeats kept). */
static void
command_set(const msgpack_object *report, struct strs *out)
{
	const msgpack_object *procs = roar_mp_get(report, ROAR_R_TOP_PROCESSES);

	for (uint32_t i = 0; procs && procs->type == MSGPACK_OBJECT_ARRAY &&
			     i < procs->via.array.size;
	     i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);

		if (!m)
			continue;
		roar_view_print_command(m,
					roar_mp_get(&procs->via.array.ptr[i],
						    ROAR_R_PROC_COMMAND),
					0);
		fclose(m);
		strs_add(out, buf, len);
		free(buf);
	}
	qsort(out->v, out->n, sizeof(*out->v), cmp_bytes);
}

/* Print what is in a and not in b under title, with mark; both sorted.
 * @return how many */
static size_t
print_missing(FILE *out, const char *title, char mark, const struct strs *a,
	      const struct strs *b, bool paths)
{
	size_t i = 0, j = 0, n = 0;

	while (i < a->n) {
		int c = j < b->n ? roar_bytes_cmp(&a->v[i], &b->v[j]) : -1;

		if (c > 0) {
			j++;
			continue;
		}
		if (c == 0) {
			i++;
			j++;
			continue;
		}
		if (!n++)
			fprintf(out, "%s:\n", title);
		fprintf(out, "  %c ", mark);
		if (paths)
			roar_view_print_bytes(out, a->v[i].p, a->v[i].len);
		else
			fwrite(a->v[i].p, 1, a->v[i].len, out);
		fputc('\n', out);
		i++;
	}
	return n;
}

int
roar_diff_print(FILE *out, const msgpack_object *a, const msgpack_object *b)
{
	struct strs ia = { 0 }, ib = { 0 }, oa = { 0 }, ob = { 0 };
	struct strs ca = { 0 }, cb = { 0 };
	size_t changes = 0;

	file_set(a, ROAR_R_FILE_READ, &ia);
	file_set(b, ROAR_R_FILE_READ, &ib);
	file_set(a, ROAR_R_FILE_WRITTEN, &oa);
	file_set(b, ROAR_R_FILE_WRITTEN, &ob);
	command_set(a, &ca);
	command_set(b, &cb);
	changes += print_missing(out, "inputs removed", '-', &ia, &ib, true);
	changes += print_missing(out, "inputs added", '+', &ib, &ia, true);
	changes += print_missing(out, "outputs removed", '-', &oa, &ob, true);
	changes += print_missing(out, "outputs added", '+', &ob, &oa, true);
	changes += print_missing(out, "commands removed", '-', &ca, &cb, false);
	changes += print_missing(out, "commands added", '+', &cb, &ca, false);
	strs_free(&ia);
	strs_free(&ib);
	strs_free(&oa);
	strs_free(&ob);
	strs_free(&ca);
	strs_free(&cb);
	return changes ? 1 : 0;
}
