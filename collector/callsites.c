/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Call sites (callsites.h): what the library's file events carry under
 * ROAR_KEY_STACK and ROAR_KEY_MODULES, kept raw per process while the run
 * goes on (no file is opened then), symbolized in the report writer, and
 * printed by `roar-report callsites`.
 *
 * Module ids are the library's slots in its per-image table, so they are
 * kept per image: an exec-origin hello starts a new generation.  Within
 * one image a frame may use an id that another thread's frame defines
 * and that arrives later; ids are resolved only when the report is
 * written, so arrival order does not matter.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roar/mp.h"
#include "roar/protocol.h"
#include "callsites.h"
#include "merge.h"
#include "pack.h"
#include "report.h"
#include "report_schema.h"
#include "symbolize.h"
#include "util.h"

#define MAX_FRAMES 64

struct cs_frame {
	uint32_t module;
	uint64_t offset;
};

struct cs_entry {
	uint32_t file; /* index in roar_merge.file_list */
	uint32_t gen;  /* image generation its ids belong to */
	bool write;
	uint32_t n;
	struct cs_frame frame[];
};

struct roar_proc_callsites {
	uint32_t gen;
	struct roar_map modules; /* gen << 32 | id -> struct roar_bytes * */
	struct cs_entry **v;
	size_t n;
	uint64_t dropped; /* past ROAR_CALLSITES_MAX_PER_PROC */
};

/* Call sites kept by this collector so far (one run per process). */
static size_t kept_total;

static struct roar_proc_callsites *
get(struct roar_proc *p)
{
	if (!p->callsites) {
		p->callsites = roar_xcalloc(1, sizeof(*p->callsites));
		roar_map_init(&p->callsites->modules);
	}
	return p->callsites;
}

void
roar_callsites_new_image(struct roar_proc *p)
{
	if (p->callsites)
		p->callsites->gen++;
}

static bool
get_uint(const msgpack_object *o, uint64_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*out = o->via.u64;
	return true;
}

static void
take_modules(struct roar_proc_callsites *cs, const msgpack_object *mods)
{
	if (!mods || mods->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (uint32_t i = 0; i < mods->via.array.size; i++) {
		const msgpack_object *e = &mods->via.array.ptr[i];
		const char *name;
		size_t len;
		uint64_t id, k;
		struct roar_bytes *b, *old;

		if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2 ||
		    !get_uint(&e->via.array.ptr[0], &id) || id > UINT32_MAX ||
		    !roar_mp_bytes(&e->via.array.ptr[1], &name, &len) ||
		    memchr(name, '\0', len))
			continue;
		k = (uint64_t)cs->gen << 32 | id;
		old = roar_map_get(&cs->modules, k);
		if (old) {
			roar_bytes_free(old);
			free(old);
		}
		b = roar_xmalloc(sizeof(*b));
		*b = roar_bytes_dup(name, len);
		roar_map_put(&cs->modules, k, b);
	}
}

void
roar_callsites_on_file(struct roar_proc *p, const msgpack_object *ev,
		       uint32_t file_index, bool write)
{
	const msgpack_object *stack = roar_mp_get(ev, ROAR_KEY_STACK);
	const msgpack_object *mods = roar_mp_get(ev, ROAR_KEY_MODULES);
	struct roar_proc_callsites *cs;
	struct cs_entry *e;
	uint32_t n;

	if (!stack && !mods)
		return;
	cs = get(p);
	take_modules(cs, mods);
	if (file_index == UINT32_MAX || !stack ||
	    stack->type != MSGPACK_OBJECT_ARRAY || !stack->via.array.size)
		return;
	if (cs->n >= ROAR_CALLSITES_MAX_PER_PROC ||
	    kept_total >= ROAR_CALLSITES_MAX_TOTAL) {
		cs->dropped++;
		return;
	}
	kept_total++;
	n = stack->via.array.size;
	if (n > MAX_FRAMES)
		n = MAX_FRAMES;
	e = roar_xcalloc(1, sizeof(*e) + n * sizeof(e->frame[0]));
	e->file = file_index;
	e->gen = cs->gen;
	e->write = write;
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object *f = &stack->via.array.ptr[i];
		uint64_t id, off;

		if (f->type != MSGPACK_OBJECT_ARRAY || f->via.array.size != 2 ||
		    !get_uint(&f->via.array.ptr[0], &id) ||
		    !get_uint(&f->via.array.ptr[1], &off))
			break;
		e->frame[e->n++] = (struct cs_frame){ (uint32_t)id, off };
	}
	if (!e->n) {
		free(e);
		return;
	}
	if ((cs->n & (cs->n - 1)) == 0)
		cs->v = roar_xrealloc(cs->v,
				      (cs->n ? cs->n * 2 : 1) * sizeof(*cs->v));
	cs->v[cs->n++] = e;
}

void
roar_callsites_free(struct roar_proc *p)
{
	struct roar_proc_callsites *cs = p->callsites;

	if (!cs)
		return;
	for (size_t i = 0; i < cs->modules.cap; i++) {
		if (!cs->modules.used[i])
			continue;
		roar_bytes_free(cs->modules.vals[i]);
		free(cs->modules.vals[i]);
	}
	roar_map_free(&cs->modules);
	for (size_t i = 0; i < cs->n; i++)
		free(cs->v[i]);
	kept_total -= cs->n < kept_total ? cs->n : kept_total;
	free(cs->v);
	free(cs);
	p->callsites = NULL;
}

bool
roar_callsites_any(const struct roar_proc *p)
{
	return p->callsites && p->callsites->n > 0;
}

/* ---- the report ------------------------------------------------------- */

/*
 * A frame: module (path, nil when its id was never defined), offset (the
 * address in the module's ELF when it could be read, else the file
 * offset the library sent), function, file, line (nil when unknown).
 */
static void
pack_frame(msgpack_packer *pk, const struct roar_proc_callsites *cs,
	   uint32_t gen, const struct cs_frame *f, struct roar_symbolizer *s)
{
	const struct roar_bytes *mod = NULL;
	struct roar_symbol sym = { 0 };

	if (f->module != ROAR_STACK_NO_MODULE)
		mod = roar_map_get(&cs->modules,
				   (uint64_t)gen << 32 | f->module);
	if (mod)
		roar_symbolize(s, mod->p, f->offset, &sym);
	msgpack_pack_map(pk, ROAR_R_SIZE(ROAR_REPORT_FRAME_KEYS));
	roar_pack_key(pk, ROAR_R_FRAME_MODULE);
	roar_pack_bytes_or_nil(pk, mod);
	roar_pack_key(pk, ROAR_R_FRAME_OFFSET);
	msgpack_pack_uint64(pk, sym.addr ? sym.addr : f->offset);
	roar_pack_key(pk, ROAR_R_FRAME_FUNCTION);
	roar_pack_cstr_or_nil(pk, sym.function);
	roar_pack_key(pk, ROAR_R_FRAME_FILE);
	roar_pack_cstr_or_nil(pk, sym.file);
	roar_pack_key(pk, ROAR_R_FRAME_LINE);
	roar_pack_int_or_nil(pk, sym.file != NULL, sym.line);
}

void
roar_callsites_pack(msgpack_packer *pk, const struct roar_merge *m,
		    const struct roar_proc *p, struct roar_symbolizer *s)
{
	const struct roar_proc_callsites *cs = p->callsites;

	msgpack_pack_array(pk, cs ? cs->n : 0);
	for (size_t i = 0; cs && i < cs->n; i++) {
		const struct cs_entry *e = cs->v[i];
		const struct roar_file *f = m->file_list[e->file];

		msgpack_pack_map(pk, ROAR_R_SIZE(ROAR_REPORT_CALLSITE_KEYS));
		roar_pack_key(pk, ROAR_R_CS_PATH);
		roar_pack_bytes(pk, f->path.p, f->path.len);
		roar_pack_key(pk, ROAR_R_CS_KIND);
		roar_pack_cstr(pk, e->write ? ROAR_R_CS_KIND_WRITE
					    : ROAR_R_CS_KIND_READ);
		roar_pack_key(pk, ROAR_R_CS_FRAMES);
		msgpack_pack_array(pk, e->n);
		for (uint32_t k = 0; k < e->n; k++)
			pack_frame(pk, cs, e->gen, &e->frame[k], s);
	}
}

/* ---- roar-report callsites ------------------------------------------- */

static void
print_bytes(FILE *out, const msgpack_object *o, const char *none)
{
	const char *p;
	size_t len;

	if (roar_mp_bytes(o, &p, &len))
		fwrite(p, 1, len, out);
	else
		fputs(none, out);
}

/* Whether path is want, or ends in "/" want. */
static bool
path_matches(const msgpack_object *path, const char *want)
{
	const char *p;
	size_t len, wlen;

	if (!want)
		return true;
	wlen = strlen(want);
	if (!roar_mp_bytes(path, &p, &len))
		return false;
	if (len == wlen && !memcmp(p, want, len))
		return true;
	return len > wlen && p[len - wlen - 1] == '/' &&
	       !memcmp(p + len - wlen, want, wlen);
}

static const char *
base_name(const char *p, size_t len, size_t *blen)
{
	const char *b = p;

	for (size_t i = 0; i < len; i++)
		if (p[i] == '/')
			b = p + i + 1;
	*blen = len - (size_t)(b - p);
	return b;
}

/* "function (file:line)", "function (module+0xoff)" or "module+0xoff". */
static void
print_frame(FILE *out, const msgpack_object *fr)
{
	const msgpack_object *fn = roar_mp_get(fr, ROAR_R_FRAME_FUNCTION);
	const msgpack_object *file = roar_mp_get(fr, ROAR_R_FRAME_FILE);
	const msgpack_object *line = roar_mp_get(fr, ROAR_R_FRAME_LINE);
	const msgpack_object *mod = roar_mp_get(fr, ROAR_R_FRAME_MODULE);
	const msgpack_object *off = roar_mp_get(fr, ROAR_R_FRAME_OFFSET);
	const char *mp = "?", *b;
	size_t mlen = 1, blen;
	bool has_fn = fn && roar_mp_bytes(fn, &b, &blen);

	if (has_fn)
		print_bytes(out, fn, "?");
	if (has_fn)
		fputs(" (", out);
	if (file && file->type != MSGPACK_OBJECT_NIL && line &&
	    line->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		print_bytes(out, file, "?");
		fprintf(out, ":%" PRIu64, line->via.u64);
	} else {
		roar_mp_bytes(mod, &mp, &mlen);
		b = base_name(mp, mlen, &blen);
		fwrite(b, 1, blen, out);
		fprintf(out, "+0x%" PRIx64,
			off && off->type == MSGPACK_OBJECT_POSITIVE_INTEGER
				? off->via.u64
				: 0);
	}
	if (has_fn)
		fputc(')', out);
}

static int
print_callsites(FILE *out, const msgpack_object *report, const char *want)
{
	const msgpack_object *procs = roar_mp_get(report, ROAR_R_TOP_PROCESSES);
	int lines = 0;

	if (!procs || procs->type != MSGPACK_OBJECT_ARRAY)
		return 0;
	for (uint32_t i = 0; i < procs->via.array.size; i++) {
		const msgpack_object *p = &procs->via.array.ptr[i];
		const msgpack_object *cs =
			roar_mp_get(p, ROAR_R_PROC_CALLSITES);
		const msgpack_object *cmd = roar_mp_get(p, ROAR_R_PROC_COMMAND);
		const msgpack_object *pid = roar_mp_get(p, ROAR_R_PROC_PID);
		const msgpack_object *argv0 =
			cmd && cmd->type == MSGPACK_OBJECT_ARRAY &&
					cmd->via.array.size
				? &cmd->via.array.ptr[0]
				: NULL;

		if (!cs || cs->type != MSGPACK_OBJECT_ARRAY)
			continue;
		for (uint32_t k = 0; k < cs->via.array.size; k++) {
			const msgpack_object *c = &cs->via.array.ptr[k];
			const msgpack_object *frames =
				roar_mp_get(c, ROAR_R_CS_FRAMES);

			if (!path_matches(roar_mp_get(c, ROAR_R_CS_PATH), want))
				continue;
			fprintf(out, "%" PRId64 " ",
				pid && (pid->type ==
						MSGPACK_OBJECT_POSITIVE_INTEGER ||
					pid->type ==
						MSGPACK_OBJECT_NEGATIVE_INTEGER)
					? pid->via.i64
					: 0);
			print_bytes(out, argv0, "?");
			fputc(' ', out);
			print_bytes(out, roar_mp_get(c, ROAR_R_CS_KIND), "?");
			fputc(' ', out);
			print_bytes(out, roar_mp_get(c, ROAR_R_CS_PATH), "?");
			for (uint32_t j = 0;
			     frames && frames->type == MSGPACK_OBJECT_ARRAY &&
			     j < frames->via.array.size;
			     j++) {
				fputs(j ? " <- " : "  at ", out);
				print_frame(out, &frames->via.array.ptr[j]);
			}
			fputc('\n', out);
			lines++;
		}
	}
	return lines;
}

int
roar_callsites_main(int argc, char **argv)
{
	msgpack_unpacked u;
	char *data;
	char err[4096];

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: roar-report callsites FILE [PATH]\n");
		return 2;
	}
	if (roar_report_read(argv[1], &u, &data, err, sizeof(err)) != 0) {
		fprintf(stderr, "roar-report: %s\n", err);
		return 1;
	}
	print_callsites(stdout, &u.data, argc == 3 ? argv[2] : NULL);
	msgpack_unpacked_destroy(&u);
	free(data);
	return fflush(stdout) == 0 ? 0 : 1;
}
