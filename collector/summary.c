/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Human and JSON views of a report.  Only reads the decoded report; never
 * changes it.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "roar/utf8.h"
#include "mp.h"
#include "summary.h"

static int64_t
int_of(const msgpack_object *o, int64_t dflt)
{
	if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (int64_t)o->via.u64;
	if (o && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return o->via.i64;
	return dflt;
}

/* Print bytes for a terminal: printable ASCII and UTF-8 as they are,
 * control and invalid bytes as \xNN, so odd names stay visible. */
static void
print_shown(FILE *out, const char *p, size_t n)
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

static void
print_obj_bytes(FILE *out, const msgpack_object *o)
{
	const char *p;
	size_t n;

	if (roar_mp_bytes(o, &p, &n))
		print_shown(out, p, n);
	else
		fputs("?", out);
}

static void
print_command(FILE *out, const msgpack_object *cmd)
{
	if (!cmd || cmd->type != MSGPACK_OBJECT_ARRAY || !cmd->via.array.size) {
		fputs("(command unknown)", out);
		return;
	}
	for (uint32_t i = 0; i < cmd->via.array.size; i++) {
		const char *p;
		size_t n;
		bool quote = false;

		if (i)
			fputc(' ', out);
		if (roar_mp_bytes(&cmd->via.array.ptr[i], &p, &n))
			quote = n == 0 || strcspn(p, " \t'\"") < n;
		if (quote)
			fputc('\'', out);
		print_obj_bytes(out, &cmd->via.array.ptr[i]);
		if (quote)
			fputc('\'', out);
	}
}

static void
print_paths(FILE *out, const char *label, const msgpack_object *list,
	    int indent)
{
	if (!list || list->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		fprintf(out, "%*s%s ", indent, "", label);
		print_obj_bytes(out, &list->via.array.ptr[i]);
		fputc('\n', out);
	}
}

static void
print_proc(FILE *out, const msgpack_object *procs, uint32_t idx, int depth,
	   char *seen)
{
	const msgpack_object *p = &procs->via.array.ptr[idx];
	int64_t pid = int_of(roar_mp_get(p, "pid"), 0);
	const msgpack_object *traced = roar_mp_get(p, "traced");
	int64_t code = int_of(roar_mp_get(p, "exit_code"), -1);
	int64_t sig = int_of(roar_mp_get(p, "exit_signal"), -1);
	const msgpack_object *running = roar_mp_get(p, "still_running");
	const msgpack_object *cut = roar_mp_get(p, "truncated");

	seen[idx] = 1;
	fprintf(out, "%*s[%lld] ", depth * 2, "", (long long)pid);
	print_command(out, roar_mp_get(p, "command"));
	if (code >= 0)
		fprintf(out, "  (exit %lld)", (long long)code);
	else if (sig >= 0)
		fprintf(out, "  (killed by signal %lld)", (long long)sig);
	if (running && running->type == MSGPACK_OBJECT_BOOLEAN &&
	    running->via.boolean)
		fputs("  (still running when the report was taken)", out);
	if (cut && cut->type == MSGPACK_OBJECT_BOOLEAN && cut->via.boolean)
		fputs("  (argv or environment truncated)", out);
	fputc('\n', out);
	if (traced && traced->type == MSGPACK_OBJECT_BOOLEAN &&
	    !traced->via.boolean) {
		fprintf(out, "%*s  NOT TRACED: ", depth * 2, "");
		print_obj_bytes(out, roar_mp_get(p, "untraced_reason"));
		fputc('\n', out);
	}
	print_paths(out, "read   ", roar_mp_get(p, "read_paths"), depth * 2 + 2);
	print_paths(out, "written", roar_mp_get(p, "written_paths"), depth * 2 + 2);
	for (uint32_t i = 0; i < procs->via.array.size; i++) {
		const msgpack_object *c = &procs->via.array.ptr[i];

		if (!seen[i] && int_of(roar_mp_get(c, "parent_pid"), -1) == pid)
			print_proc(out, procs, i, depth + 1, seen);
	}
}

int
roar_summary_print(FILE *out, const msgpack_object *report)
{
	const msgpack_object *procs = roar_mp_get(report, "processes");
	const msgpack_object *files = roar_mp_get(report, "files");
	uint32_t np = procs && procs->type == MSGPACK_OBJECT_ARRAY
			      ? procs->via.array.size
			      : 0;
	uint32_t nf = files && files->type == MSGPACK_OBJECT_ARRAY
			      ? files->via.array.size
			      : 0;
	uint32_t nread = 0, nwritten = 0;
	int64_t refused;
	int untraced = 0;
	char *seen = calloc(np + 1, 1);

	if (!seen)
		return 0;
	fprintf(out, "Processes (%u):\n", np);
	for (uint32_t i = 0; i < np; i++) {
		const msgpack_object *p = &procs->via.array.ptr[i];
		const msgpack_object *pp = roar_mp_get(p, "parent_pid");

		if (!seen[i] && (!pp || pp->type == MSGPACK_OBJECT_NIL))
			print_proc(out, procs, i, 1, seen);
	}
	for (uint32_t i = 0; i < np; i++) /* anything not under the root */
		if (!seen[i])
			print_proc(out, procs, i, 1, seen);
	for (uint32_t i = 0; i < np; i++) {
		const msgpack_object *t =
			roar_mp_get(&procs->via.array.ptr[i], "traced");

		if (t && t->type == MSGPACK_OBJECT_BOOLEAN && !t->via.boolean)
			untraced++;
	}
	fprintf(out, "Files (%u):\n", nf);
	for (uint32_t i = 0; i < nf; i++) {
		const msgpack_object *f = &files->via.array.ptr[i];
		const msgpack_object *r = roar_mp_get(f, "read");
		const msgpack_object *w = roar_mp_get(f, "written");
		bool rd = r && r->type == MSGPACK_OBJECT_BOOLEAN && r->via.boolean;
		bool wr = w && w->type == MSGPACK_OBJECT_BOOLEAN && w->via.boolean;

		nread += rd;
		nwritten += wr;
		fprintf(out, "  %s%s ", rd ? "R" : "-", wr ? "W" : "-");
		print_obj_bytes(out, roar_mp_get(f, "path"));
		fputc('\n', out);
	}
	fprintf(out, "Summary: %u processes, %u files read, %u files written, "
		"%lld events dropped",
		np, nread, nwritten,
		(long long)int_of(roar_mp_get(report, "events_dropped"), 0));
	if (untraced)
		fprintf(out, ", %d process%s NOT TRACED (see above)", untraced,
			untraced == 1 ? "" : "es");
	refused = int_of(roar_mp_get(report, "connections_refused"), 0);
	if (refused > 0)
		fprintf(out, ", %lld connection%s refused (out of file "
			"descriptors)", (long long)refused,
			refused == 1 ? "" : "s");
	fputc('\n', out);
	free(seen);
	return untraced;
}

static void
json_string(FILE *out, const char *p, size_t n, bool raw_bytes)
{
	bool valid = !raw_bytes || roar_utf8_valid(p, n);

	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else if (c >= 0x80 && !valid)
			fprintf(out, "\\udc%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void
roar_json_print(FILE *out, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		fputs("null", out);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "true" : "false", out);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		fprintf(out, "%llu", (unsigned long long)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fprintf(out, "%lld", (long long)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		fprintf(out, "%.6f", o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		json_string(out, o->via.str.ptr, o->via.str.size, true);
		break;
	case MSGPACK_OBJECT_BIN:
		json_string(out, o->via.bin.ptr, o->via.bin.size, true);
		break;
	case MSGPACK_OBJECT_ARRAY:
		fputc('[', out);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i)
				fputs(", ", out);
			roar_json_print(out, &o->via.array.ptr[i]);
		}
		fputc(']', out);
		break;
	case MSGPACK_OBJECT_MAP:
		fputc('{', out);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;

			if (i)
				fputs(", ", out);
			if (k->type == MSGPACK_OBJECT_STR ||
			    k->type == MSGPACK_OBJECT_BIN)
				roar_json_print(out, k);
			else {
				/* JSON keys are strings. */
				fputc('"', out);
				fprintf(out, "%lld", (long long)int_of(k, 0));
				fputc('"', out);
			}
			fputs(": ", out);
			roar_json_print(out, &o->via.map.ptr[i].val);
		}
		fputc('}', out);
		break;
	default:
		fputs("null", out);
		break;
	}
}
