/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of preload/event.c: every event kind packs into one frame
 * whose header is its payload length and whose payload is exactly one
 * msgpack map that msgpack-c decodes; paths and strings are str when
 * UTF-8 and bin byte for byte otherwise; only file events carry "path";
 * buffers that are too small fail with -EMSGSIZE; a hello or exec with an
 * enormous argv/environment is truncated and says so.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "roar/protocol.h"
#include "backtrace.h"
#include "event.h"
#include "guard.h"
#include "unit.h"
#include "unit_preload.h"
#include "unit_mp.h"

/* entry.c, which defines these for the .so, is not in preload_core. */
static const char *const kind_names[] = ROAR_KIND_NAMES_INIT;
static const struct roar_event_ids ids = { 4194301, 4194302 };

/* A decoded frame: the payload's one msgpack value. */
struct decoded {
	msgpack_unpacked u;
	const msgpack_object *map;
};

/*
 * Check the frame's header against its length, decode the payload, and
 * require that the value is one map that uses every payload byte.
 */
static void
decode_frame(const struct roar_frame *f, struct decoded *d)
{
	size_t off = 0;
	uint32_t len;

	ck_assert_uint_ge(f->len, ROAR_FRAME_HEADER_SIZE + 1);
	ck_assert(!f->overflow);
	len = roar_frame_get_len(f->data);
	ck_assert_uint_eq(len, f->len - ROAR_FRAME_HEADER_SIZE);
	/* The header is little-endian whatever the host. */
	ck_assert_uint_eq(f->data[0], len & 0xff);
	ck_assert_uint_eq(f->data[1], (len >> 8) & 0xff);
	ck_assert_uint_eq(f->data[2], (len >> 16) & 0xff);
	ck_assert_uint_eq(f->data[3], (len >> 24) & 0xff);
	msgpack_unpacked_init(&d->u);
	ck_assert_int_eq(msgpack_unpack_next(&d->u,
					     (const char *)f->data +
						     ROAR_FRAME_HEADER_SIZE,
					     len, &off),
			 MSGPACK_UNPACK_SUCCESS);
	ck_assert_uint_eq(off, len);
	d->map = &d->u.data;
	ck_assert_int_eq(d->map->type, MSGPACK_OBJECT_MAP);
	/* Every key is a str, and no key appears twice. */
	for (uint32_t i = 0; i < d->map->via.map.size; i++) {
		const msgpack_object *k = &d->map->via.map.ptr[i].key;

		ck_assert_int_eq(k->type, MSGPACK_OBJECT_STR);
		for (uint32_t j = 0; j < i; j++) {
			const msgpack_object *o = &d->map->via.map.ptr[j].key;

			ck_assert(!(o->via.str.size == k->via.str.size &&
				    !memcmp(o->via.str.ptr, k->via.str.ptr,
					    k->via.str.size)));
		}
	}
}

static void
decoded_free(struct decoded *d)
{
	msgpack_unpacked_destroy(&d->u);
}

static void
check_head(const msgpack_object *map, enum roar_kind kind,
	   const struct roar_event_ids *who)
{
	ck_assert(mp_is_str(mp_get(map, ROAR_KEY_KIND), kind_names[kind]));
	ck_assert(mp_is_int(mp_get(map, ROAR_KEY_PID), who->pid));
	ck_assert(mp_is_int(mp_get(map, ROAR_KEY_TID), who->tid));
}

static bool
is_file_kind(enum roar_kind k)
{
	return k == ROAR_KIND_READ || k == ROAR_KIND_WRITE ||
	       k == ROAR_KIND_OPEN_READ || k == ROAR_KIND_OPEN_WRITE;
}

static char *const sample_argv[] = { "cc", "-c", "a.c", NULL };
static char *const sample_env[] = { "PATH=/usr/bin", "HOME=/root", NULL };

static size_t
count_list(char *const *v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

/* Pack one representative event of kind k. */
static int
pack_kind(struct roar_frame *f, enum roar_kind k)
{
	static const char path[] = "/src/a.c";
	struct roar_hello h = {
		.ppid = 77,
		.origin = ROAR_ORIGIN_EXEC,
		.argv = sample_argv,
		.envp = sample_env,
		.cwd = "/src",
		.exe = "/usr/bin/cc",
		.time = 1700000000.25,
	};

	switch (k) {
	case ROAR_KIND_READ:
	case ROAR_KIND_WRITE:
	case ROAR_KIND_OPEN_READ:
	case ROAR_KIND_OPEN_WRITE:
		return roar_event_file(f, &ids, k, path, strlen(path), "open");
	case ROAR_KIND_HELLO:
		return roar_event_hello(f, &ids, &h);
	case ROAR_KIND_FORK:
		return roar_event_fork(f, &ids, 4000);
	case ROAR_KIND_EXEC:
		return roar_event_exec(f, &ids, 0, 77, "/bin/sh", sample_argv,
				       12.5);
	case ROAR_KIND_EXEC_FAILED:
		return roar_event_exec_failed(f, &ids, ENOENT, 12.5);
	case ROAR_KIND_EXIT:
		return roar_event_exit(f, &ids, 77, 3, 13.0, 0);
	case ROAR_KIND_REAPED:
		return roar_event_reaped(f, &ids, 4000, 3 << 8);
	case ROAR_KIND_DROPPED:
		return roar_event_dropped(f, &ids, 17);
	case ROAR_KIND_RESUME:
		return roar_event_resume(f, &ids, 9);
	case ROAR_KIND_PIPE:
		return roar_event_pipe(f, &ids, 13, 4242, true);
	case ROAR_KIND_COUNT_:
		break;
	}
	ck_abort_msg("no such kind %d", (int)k);
	return -1;
}

START_TEST(every_kind_round_trips)
{
	unsigned char buf[4096];

	for (int k = 0; k < ROAR_KIND_COUNT_; k++) {
		struct roar_frame f;
		struct decoded d;

		roar_frame_init(&f, buf, sizeof(buf));
		ck_assert_int_eq(pack_kind(&f, (enum roar_kind)k), 0);
		decode_frame(&f, &d);
		check_head(d.map, (enum roar_kind)k, &ids);
		if (is_file_kind((enum roar_kind)k))
			ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_PATH),
					    "/src/a.c"));
		else
			/* roar's listeners would count it as a read. */
			ck_assert_msg(mp_get(d.map, ROAR_KEY_PATH) == NULL,
				      "kind %s carries a path", kind_names[k]);
		decoded_free(&d);
	}
}
END_TEST

START_TEST(kind_names_match_protocol)
{
	/* The wire names roar's listeners know. */
	ck_assert_str_eq(kind_names[ROAR_KIND_READ], "read");
	ck_assert_str_eq(kind_names[ROAR_KIND_WRITE], "write");
	ck_assert_str_eq(kind_names[ROAR_KIND_OPEN_READ], "open_read");
	ck_assert_str_eq(kind_names[ROAR_KIND_OPEN_WRITE], "open_write");
	ck_assert_uint_eq(sizeof(kind_names) / sizeof(kind_names[0]),
			  ROAR_KIND_COUNT_);
}
END_TEST

START_TEST(file_event_fields)
{
	unsigned char buf[512];
	struct roar_frame f;
	struct decoded d;

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(
		roar_event_file(&f, &ids, ROAR_KIND_WRITE, "/o/x.o", 6, NULL),
		0);
	decode_frame(&f, &d);
	check_head(d.map, ROAR_KIND_WRITE, &ids);
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_PATH), "/o/x.o"));
	ck_assert_ptr_null(mp_get(d.map, "via"));
	ck_assert_uint_eq(d.map->via.map.size, 4);
	decoded_free(&d);

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(
		roar_event_file(&f, &ids, ROAR_KIND_READ, "/i/y.c", 6, "mmap"),
		0);
	decode_frame(&f, &d);
	check_head(d.map, ROAR_KIND_READ, &ids);
	ck_assert(mp_is_str(mp_get(d.map, "via"), "mmap"));
	ck_assert_uint_eq(d.map->via.map.size, 5);
	decoded_free(&d);
}
END_TEST

START_TEST(pipe_event_fields)
{
	unsigned char buf[128];
	struct roar_frame f;
	struct decoded d;
	const msgpack_object *o;

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_pipe(&f, &ids, 13, 987654321, false), 0);
	decode_frame(&f, &d);
	check_head(d.map, ROAR_KIND_PIPE, &ids);
	o = mp_get(d.map, ROAR_KEY_PIPE);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o->via.u64, 987654321);
	o = mp_get(d.map, ROAR_KEY_DEV);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o->via.u64, 13);
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_DIR), "read"));
	/* Not a file: roar's listeners must not count it as one. */
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_PATH));
	decoded_free(&d);
}
END_TEST

START_TEST(file_event_call_site)
{
	unsigned char buf[1024];
	struct roar_frame f;
	struct decoded d;
	struct roar_callsite cs = { 0 };
	const msgpack_object *st, *mods;
	size_t need;

	cs.n = 2;
	cs.frame[0] = (struct roar_callsite_frame){ 1, 0x119a };
	cs.frame[1] = (struct roar_callsite_frame){ ROAR_STACK_NO_MODULE,
						    0x7fff12345678ull };
	cs.nnew = 1;
	cs.mod[0] = (struct roar_callsite_module){ 1, "/usr/bin/cfgXYZ", 12 };
	need = roar_backtrace_frame_bytes(&cs);
	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_file_at(&f, &ids, ROAR_KIND_READ,
					    "/etc/c.txt", 10, "open", &cs),
			 0);
	/* roar_backtrace_frame_bytes, which track_file.c sizes its buffer
	 * with, is an upper bound. */
	roar_frame_init(&f, buf, sizeof(buf));
	roar_event_file(&f, &ids, ROAR_KIND_READ, "/etc/c.txt", 10, "open");
	{
		size_t plain = f.len;

		roar_frame_init(&f, buf, sizeof(buf));
		roar_event_file_at(&f, &ids, ROAR_KIND_READ, "/etc/c.txt", 10,
				   "open", &cs);
		ck_assert_uint_le(f.len - plain, need);
	}
	decode_frame(&f, &d);
	check_head(d.map, ROAR_KIND_READ, &ids);
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_PATH), "/etc/c.txt"));
	st = mp_get(d.map, ROAR_KEY_STACK);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(st->type, MSGPACK_OBJECT_ARRAY);
	ck_assert_uint_eq(st->via.array.size, 2);
	ck_assert_uint_eq(st->via.array.ptr[0].via.array.ptr[0].via.u64, 1);
	ck_assert_uint_eq(st->via.array.ptr[0].via.array.ptr[1].via.u64,
			  0x119a);
	ck_assert_uint_eq(st->via.array.ptr[1].via.array.ptr[0].via.u64,
			  ROAR_STACK_NO_MODULE);
	ck_assert_uint_eq(st->via.array.ptr[1].via.array.ptr[1].via.u64,
			  0x7fff12345678ull);
	mods = mp_get(d.map, ROAR_KEY_MODULES);
	ck_assert_ptr_nonnull(mods);
	ck_assert_uint_eq(mods->via.array.size, 1);
	ck_assert(mp_is_str(&mods->via.array.ptr[0].via.array.ptr[1],
			    "/usr/bin/cfg"));
	decoded_free(&d);

	/* No frames and no modules: the plain event. */
	cs.n = 0;
	cs.nnew = 0;
	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_file_at(&f, &ids, ROAR_KIND_READ,
					    "/etc/c.txt", 10, NULL, &cs),
			 0);
	decode_frame(&f, &d);
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_STACK));
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_MODULES));
	ck_assert_uint_eq(d.map->via.map.size, 4);
	decoded_free(&d);
}
END_TEST

START_TEST(file_event_uses_len_not_nul)
{
	/* Only len bytes are the path, whatever follows them. */
	static const char path[] = "/a/bXYZ";
	unsigned char buf[512];
	struct roar_frame f;
	struct decoded d;

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(
		roar_event_file(&f, &ids, ROAR_KIND_READ, path, 4, NULL), 0);
	decode_frame(&f, &d);
	ck_assert(mp_is_strn(mp_get(d.map, ROAR_KEY_PATH), "/a/b", 4));
	decoded_free(&d);
}
END_TEST

START_TEST(path_utf8_is_str_else_bin)
{
	static const struct {
		const char *p;
		size_t len;
		bool utf8;
	} cases[] = {
		{ "/plain/ascii", 12, true },
		{ "/caf\xc3\xa9", 6, true },                   /* é */
		{ "/\xe2\x82\xac/\xf0\x9f\x98\x80", 9, true }, /* euro, emoji */
		{ "/latin1-\xe9", 9, false },
		{ "/\xff\xfe", 3, false },
		{ "/over\xc0\xaf", 7, false },        /* overlong '/' */
		{ "/sur\xed\xa0\x80", 7, false },     /* surrogate */
		{ "/big\xf4\x90\x80\x80", 8, false }, /* > U+10FFFF */
		{ "/cut\xe2\x82", 6, false },         /* truncated */
		{ "/bad\x80", 5, false },             /* lone cont. */
	};
	unsigned char buf[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct roar_frame f;
		struct decoded d;
		const msgpack_object *o;

		roar_frame_init(&f, buf, sizeof(buf));
		ck_assert_int_eq(roar_event_file(&f, &ids, ROAR_KIND_READ,
						 cases[i].p, cases[i].len,
						 NULL),
				 0);
		decode_frame(&f, &d);
		o = mp_get(d.map, ROAR_KEY_PATH);
		if (cases[i].utf8)
			ck_assert_msg(mp_is_strn(o, cases[i].p, cases[i].len),
				      "case %zu not a str", i);
		else
			ck_assert_msg(mp_is_bin(o, cases[i].p, cases[i].len),
				      "case %zu not a byte-exact bin", i);
		decoded_free(&d);
	}
}
END_TEST

START_TEST(long_paths_round_trip)
{
	/* str8, str16 and bin16 headers. */
	static unsigned char buf[70000];
	static char path[65600];
	size_t lens[] = { 31, 32, 255, 256, 65535, 65536 };

	for (size_t i = 0; i < sizeof(path); i++)
		path[i] = (char)('a' + i % 26);
	path[0] = '/';
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct roar_frame f;
		struct decoded d;

		roar_frame_init(&f, buf, sizeof(buf));
		ck_assert_int_eq(roar_event_file(&f, &ids, ROAR_KIND_READ, path,
						 lens[i], NULL),
				 0);
		decode_frame(&f, &d);
		ck_assert(mp_is_strn(mp_get(d.map, ROAR_KEY_PATH), path,
				     lens[i]));
		decoded_free(&d);
		/* And as bin once one byte is not UTF-8. */
		path[lens[i] - 1] = '\xff';
		roar_frame_init(&f, buf, sizeof(buf));
		ck_assert_int_eq(roar_event_file(&f, &ids, ROAR_KIND_READ, path,
						 lens[i], NULL),
				 0);
		decode_frame(&f, &d);
		ck_assert(
			mp_is_bin(mp_get(d.map, ROAR_KEY_PATH), path, lens[i]));
		decoded_free(&d);
		path[lens[i] - 1] = (char)('a' + (lens[i] - 1) % 26);
	}
}
END_TEST

START_TEST(hello_exec_fields)
{
	char *const argv[] = { "prog", "arg\xff", NULL }; /* bin element */
	char *const envp[] = { "A=1", NULL };
	struct roar_hello h = {
		.ppid = 1,
		.origin = ROAR_ORIGIN_EXEC,
		.argv = argv,
		.envp = envp,
		.cwd = "/w\xfe",
		.exe = "/bin/prog",
		.time = 1234.5,
	};
	unsigned char buf[1 << 16];
	struct roar_frame f;
	struct decoded d;
	const msgpack_object *o;

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_hello(&f, &ids, &h), 0);
	decode_frame(&f, &d);
	check_head(d.map, ROAR_KIND_HELLO, &ids);
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_PROTO),
			    ROAR_PROTOCOL_VERSION));
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_PPID), 1));
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_ORIGIN), "exec"));
	o = mp_get(d.map, ROAR_KEY_TIME);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->type, MSGPACK_OBJECT_FLOAT64);
	ck_assert_double_eq(o->via.f64, 1234.5);
	o = mp_get(d.map, ROAR_KEY_ARGV);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->type, MSGPACK_OBJECT_ARRAY);
	ck_assert_uint_eq(o->via.array.size, 2);
	ck_assert(mp_is_str(&o->via.array.ptr[0], "prog"));
	ck_assert(mp_is_bin(&o->via.array.ptr[1], "arg\xff", 4));
	o = mp_get(d.map, ROAR_KEY_ENV);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o->via.array.size, 1);
	ck_assert(mp_is_str(&o->via.array.ptr[0], "A=1"));
	ck_assert(mp_is_bin(mp_get(d.map, ROAR_KEY_CWD), "/w\xfe", 3));
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_EXE), "/bin/prog"));
	ck_assert_ptr_null(mp_get(d.map, "truncated"));
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_PATH));
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_LATE));
	decoded_free(&d);
}
END_TEST

START_TEST(hello_fork_minimal)
{
	struct roar_hello h = {
		.ppid = 4000,
		.origin = ROAR_ORIGIN_FORK,
		.time = 5.0,
	};
	unsigned char buf[512];
	struct roar_frame f;
	struct decoded d;

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_hello(&f, &ids, &h), 0);
	decode_frame(&f, &d);
	check_head(d.map, ROAR_KIND_HELLO, &ids);
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_ORIGIN), "fork"));
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_PPID), 4000));
	/* No argv, env, cwd, exe, truncated: kind pid tid proto ppid
	 * origin time. */
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_ARGV));
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_ENV));
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_CWD));
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_EXE));
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_LATE));
	ck_assert_uint_eq(d.map->via.map.size, 7);
	decoded_free(&d);
}
END_TEST

START_TEST(hello_fork_late)
{
	/* A process noticed after the fact (raw clone, _Fork) says so. */
	struct roar_hello h = {
		.ppid = 4000,
		.origin = ROAR_ORIGIN_FORK,
		.time = 5.0,
		.late = true,
	};
	unsigned char buf[512];
	struct roar_frame f;
	struct decoded d;

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_hello(&f, &ids, &h), 0);
	decode_frame(&f, &d);
	check_head(d.map, ROAR_KIND_HELLO, &ids);
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_ORIGIN), "fork"));
	ck_assert(mp_is_true(mp_get(d.map, ROAR_KEY_LATE)));
	ck_assert_double_eq(mp_get(d.map, ROAR_KEY_TIME)->via.f64, 5.0);
	ck_assert_uint_eq(d.map->via.map.size, 8);
	decoded_free(&d);
}
END_TEST

START_TEST(other_event_fields)
{
	unsigned char buf[4096];
	struct roar_frame f;
	struct decoded d;
	const msgpack_object *o;

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_fork(&f, &ids, 4194300), 0);
	decode_frame(&f, &d);
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_CHILD), 4194300));
	decoded_free(&d);

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_exec(&f, &ids, 0, 4194299, "/bin/sh",
					 sample_argv, 99.75),
			 0);
	decode_frame(&f, &d);
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_EXE), "/bin/sh"));
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_PPID), 4194299));
	/* Subject 0: the sender itself execs. */
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_SUBJECT));
	o = mp_get(d.map, ROAR_KEY_ARGV);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o->via.array.size, 3);
	ck_assert(mp_is_str(&o->via.array.ptr[2], "a.c"));
	ck_assert_double_eq(mp_get(d.map, ROAR_KEY_TIME)->via.f64, 99.75);
	ck_assert_ptr_null(mp_get(d.map, "truncated"));
	decoded_free(&d);

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_exec_failed(&f, &ids, ENOEXEC, 99.75), 0);
	decode_frame(&f, &d);
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_ERRNO), ENOEXEC));
	ck_assert_double_eq(mp_get(d.map, ROAR_KEY_TIME)->via.f64, 99.75);
	decoded_free(&d);

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_exit(&f, &ids, 4194299, -1, 100.0, 0), 0);
	decode_frame(&f, &d);
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_STATUS), -1));
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_PPID), 4194299));
	decoded_free(&d);

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_reaped(&f, &ids, 12, 0x7f00 | 9), 0);
	decode_frame(&f, &d);
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_CHILD), 12));
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_STATUS), 0x7f09));
	decoded_free(&d);

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_dropped(&f, &ids, UINT64_MAX), 0);
	decode_frame(&f, &d);
	o = mp_get(d.map, ROAR_KEY_COUNT);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	ck_assert(o->via.u64 == UINT64_MAX);
	decoded_free(&d);
}
END_TEST

START_TEST(exec_subject_and_ppid)
{
	/* A parent announcing the exec of the child posix_spawn made: the
	 * sender stays the sender, the child is the subject. */
	unsigned char buf[1024];
	struct roar_frame f;
	struct decoded d;

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_exec(&f, &ids, 5151, 4242, "/usr/bin/cc",
					 sample_argv, 3.5),
			 0);
	decode_frame(&f, &d);
	check_head(d.map, ROAR_KIND_EXEC, &ids);
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_SUBJECT), 5151));
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_PPID), 4242));
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_EXE), "/usr/bin/cc"));
	ck_assert_uint_eq(mp_get(d.map, ROAR_KEY_ARGV)->via.array.size, 3);
	ck_assert_double_eq(mp_get(d.map, ROAR_KEY_TIME)->via.f64, 3.5);
	/* kind pid tid subject ppid exe argv time */
	ck_assert_uint_eq(d.map->via.map.size, 8);
	decoded_free(&d);

	/* No subject: the same without the key. */
	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_exec(&f, &ids, 0, 4242, "/usr/bin/cc",
					 sample_argv, 3.5),
			 0);
	decode_frame(&f, &d);
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_SUBJECT));
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_PPID), 4242));
	ck_assert_uint_eq(d.map->via.map.size, 7);
	decoded_free(&d);

	/* ppid 0: the collector knows the parent already; no key. */
	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_exec(&f, &ids, 0, 0, "/usr/bin/cc",
					 sample_argv, 3.5),
			 0);
	decode_frame(&f, &d);
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_SUBJECT));
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_PPID));
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_EXE), "/usr/bin/cc"));
	ck_assert_uint_eq(d.map->via.map.size, 6);
	decoded_free(&d);
}
END_TEST

START_TEST(exit_has_ppid)
{
	/* A vfork child announces itself by its exit: it carries ppid. */
	unsigned char buf[256];
	struct roar_frame f;
	struct decoded d;

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_exit(&f, &ids, 4242, 3, 13.0, 0), 0);
	decode_frame(&f, &d);
	check_head(d.map, ROAR_KIND_EXIT, &ids);
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_PPID), 4242));
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_STATUS), 3));
	ck_assert_double_eq(mp_get(d.map, ROAR_KEY_TIME)->via.f64, 13.0);
	/* kind pid tid ppid status time */
	ck_assert_uint_eq(d.map->via.map.size, 6);
	decoded_free(&d);

	/* ppid 0 leaves it out. */
	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_exit(&f, &ids, 0, 3, 13.0, 0), 0);
	decode_frame(&f, &d);
	ck_assert_ptr_null(mp_get(d.map, ROAR_KEY_PPID));
	ck_assert(mp_is_int(mp_get(d.map, ROAR_KEY_STATUS), 3));
	ck_assert_uint_eq(d.map->via.map.size, 5);
	decoded_free(&d);
}
END_TEST

/*
 * roar_event_exec_size is what track_proc.c sizes an exec's frame by: an
 * exec event packed into exactly that many bytes goes out whole (no
 * argument dropped, no "truncated") and writes nothing past them.
 *
 * Was a bug: it did not count the array header that fitting() charges
 * before the first argument, so the last argument of every argv was
 * dropped.
 */
START_TEST(regression_exec_size_is_enough)
{
	static char big[70000];
	char *const one[] = { "true", NULL };
	char *const none[] = { NULL };
	char *const mixed[] = { "a",         "",          "-Wl,--as-needed",
				big + 69000, big + 60000, big,
				NULL };
	const struct {
		const char *exe;
		char *const *argv;
	} cases[] = {
		{ "/bin/true", one },
		{ "", none },
		{ "/usr/bin/cc", sample_argv },
		{ "/usr/bin/ld", mixed },
	};
	static unsigned char buf[200000];

	/* Strings of 999 (str16), 9999 (str16) and 69999 (str32) bytes. */
	memset(big, 'b', sizeof(big) - 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t need = roar_event_exec_size(cases[i].exe, cases[i].argv);
		size_t n = count_list(cases[i].argv);
		struct roar_frame f;
		struct decoded d;

		ck_assert_uint_lt(need + 64, sizeof(buf));
		memset(buf, 0xa5, sizeof(buf));
		roar_frame_init(&f, buf, need);
		ck_assert_int_eq(roar_event_exec(&f, &ids, 0, 1, cases[i].exe,
						 cases[i].argv, 1.0),
				 0);
		for (size_t j = need; j < need + 64; j++)
			ck_assert_uint_eq(buf[j], 0xa5);
		decode_frame(&f, &d);
		ck_assert_msg(mp_get(d.map, "truncated") == NULL,
			      "case %zu truncated in %zu bytes", i, need);
		ck_assert_uint_eq(mp_get(d.map, ROAR_KEY_ARGV)->via.array.size,
				  n);
		ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_EXE), cases[i].exe));
		decoded_free(&d);
	}
}
END_TEST

START_TEST(exec_without_argv)
{
	/* track_proc.c passes an empty vector for a NULL argv. */
	char *const empty[] = { NULL };
	unsigned char buf[1024];
	struct roar_frame f;
	struct decoded d;
	const msgpack_object *o;

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_exec(&f, &ids, 0, 1, "", empty, 1.0), 0);
	decode_frame(&f, &d);
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_EXE), ""));
	o = mp_get(d.map, ROAR_KEY_ARGV);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o->via.array.size, 0);
	decoded_free(&d);
}
END_TEST

START_TEST(too_small_buffer_is_emsgsize)
{
	unsigned char buf[4096];

	for (int k = 0; k < ROAR_KIND_COUNT_; k++) {
		struct roar_frame f;
		size_t need;

		/* The exact size fits... */
		roar_frame_init(&f, buf, sizeof(buf));
		ck_assert_int_eq(pack_kind(&f, (enum roar_kind)k), 0);
		need = f.len;
		if (k != ROAR_KIND_HELLO && k != ROAR_KIND_EXEC) {
			/* (hello and exec size their lists to the buffer) */
			roar_frame_init(&f, buf, need);
			ck_assert_int_eq(pack_kind(&f, (enum roar_kind)k), 0);
			ck_assert_uint_eq(f.len, need);
		}
		/* ...one byte less, or a tiny buffer, does not (or, for
		 * hello and exec, only by dropping list entries). */
		roar_frame_init(&f, buf, need - 1);
		if (k == ROAR_KIND_HELLO || k == ROAR_KIND_EXEC) {
			struct decoded d;

			if (pack_kind(&f, (enum roar_kind)k) == 0) {
				decode_frame(&f, &d);
				ck_assert(
					mp_is_true(mp_get(d.map, "truncated")));
				decoded_free(&d);
			} else {
				ck_assert(f.overflow);
			}
		} else {
			ck_assert_msg(pack_kind(&f, (enum roar_kind)k) ==
					      -EMSGSIZE,
				      "kind %s fits in %zu < %zu bytes",
				      kind_names[k], need - 1, need);
			ck_assert(f.overflow);
		}
		roar_frame_init(&f, buf, ROAR_FRAME_HEADER_SIZE + 1);
		ck_assert_int_eq(pack_kind(&f, (enum roar_kind)k), -EMSGSIZE);
		ck_assert_uint_le(f.len, f.cap);
	}
}
END_TEST

START_TEST(overflow_never_writes_past_cap)
{
	unsigned char buf[256];

	for (size_t cap = ROAR_FRAME_HEADER_SIZE + 1; cap < 64; cap++) {
		struct roar_frame f;

		memset(buf, 0xa5, sizeof(buf));
		roar_frame_init(&f, buf, cap);
		ck_assert_int_eq(roar_event_file(&f, &ids, ROAR_KIND_READ,
						 "/some/long/enough/path/x.c",
						 26, "open"),
				 -EMSGSIZE);
		for (size_t i = cap; i < sizeof(buf); i++)
			ck_assert_uint_eq(buf[i], 0xa5);
	}
}
END_TEST

/* A NULL-terminated list of n strings of len bytes each (heap). */
static char **
make_list(size_t n, size_t len, char fill)
{
	char **v = calloc(n + 1, sizeof(*v));

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < n; i++) {
		v[i] = malloc(len + 1);
		ck_assert_ptr_nonnull(v[i]);
		memset(v[i], fill, len);
		snprintf(v[i], len, "%c%zu=", fill, i); /* distinct */
		v[i][strlen(v[i])] = fill;
		v[i][len] = '\0';
	}
	return v;
}

static void
free_list(char **v)
{
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* The decoded array is a prefix of list (in order, byte for byte). */
static void
check_prefix(const msgpack_object *a, char **list, size_t total)
{
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->type, MSGPACK_OBJECT_ARRAY);
	ck_assert_uint_le(a->via.array.size, total);
	for (uint32_t i = 0; i < a->via.array.size; i++)
		ck_assert(mp_is_str(&a->via.array.ptr[i], list[i]));
}

START_TEST(hello_huge_lists_truncated)
{
	/* 1 MiB of argv and of environment into a 64 KiB frame. */
	char **argv = make_list(10000, 100, 'a');
	char **envp = make_list(10000, 100, 'E');
	struct roar_hello h = {
		.ppid = 1,
		.origin = ROAR_ORIGIN_EXEC,
		.argv = argv,
		.envp = envp,
		.cwd = "/home/user/project",
		.exe = "/usr/bin/python3",
		.time = 1.0,
	};
	static unsigned char buf[1 << 16];
	struct roar_frame f;
	struct decoded d;
	const msgpack_object *a, *e;

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_hello(&f, &ids, &h), 0);
	ck_assert_uint_le(f.len, sizeof(buf));
	decode_frame(&f, &d);
	check_head(d.map, ROAR_KIND_HELLO, &ids);
	ck_assert(mp_is_true(mp_get(d.map, "truncated")));
	a = mp_get(d.map, ROAR_KEY_ARGV);
	e = mp_get(d.map, ROAR_KEY_ENV);
	check_prefix(a, argv, 10000);
	check_prefix(e, envp, 10000);
	ck_assert_uint_lt(a->via.array.size, 10000);
	ck_assert_uint_lt(e->via.array.size, 10000);
	/* Something useful still made it: the command's first words. */
	ck_assert_uint_ge(a->via.array.size, 100);
	/* The keys after the lists survived. */
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_CWD), "/home/user/project"));
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_EXE), "/usr/bin/python3"));
	decoded_free(&d);
	free_list(argv);
	free_list(envp);
}
END_TEST

START_TEST(hello_one_huge_argument)
{
	/* A single argument bigger than the frame: dropped, not split. */
	char **argv = make_list(2, 200000, 'z');
	char *const envp[] = { "A=1", NULL };
	struct roar_hello h = {
		.ppid = 1,
		.origin = ROAR_ORIGIN_EXEC,
		.argv = argv,
		.envp = envp,
		.time = 1.0,
	};
	static unsigned char buf[1 << 16];
	struct roar_frame f;
	struct decoded d;

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_hello(&f, &ids, &h), 0);
	decode_frame(&f, &d);
	ck_assert(mp_is_true(mp_get(d.map, "truncated")));
	ck_assert_uint_eq(mp_get(d.map, ROAR_KEY_ARGV)->via.array.size, 0);
	ck_assert_uint_eq(mp_get(d.map, ROAR_KEY_ENV)->via.array.size, 1);
	decoded_free(&d);
	free_list(argv);
}
END_TEST

START_TEST(hello_truncated_in_every_buffer_size)
{
	/* Whatever the buffer, a hello either fits (maybe truncated) and
	 * decodes, or fails cleanly; from a modest size up it always fits. */
	char **argv = make_list(300, 40, 'a');
	char **envp = make_list(300, 40, 'E');
	struct roar_hello h = {
		.ppid = 1,
		.origin = ROAR_ORIGIN_EXEC,
		.argv = argv,
		.envp = envp,
		.cwd = "/tmp",
		.exe = "/bin/true",
		.time = 1.0,
	};
	static unsigned char buf[32768];

	for (size_t cap = 16; cap <= sizeof(buf); cap += 97) {
		struct roar_frame f;
		struct decoded d;
		int rc;

		roar_frame_init(&f, buf, cap);
		rc = roar_event_hello(&f, &ids, &h);
		if (cap >= 2048)
			ck_assert_msg(rc == 0, "hello fails in %zu bytes", cap);
		if (rc != 0) {
			ck_assert_int_eq(rc, -EMSGSIZE);
			continue;
		}
		decode_frame(&f, &d);
		check_prefix(mp_get(d.map, ROAR_KEY_ARGV), argv, 300);
		check_prefix(mp_get(d.map, ROAR_KEY_ENV), envp, 300);
		if (mp_get(d.map, ROAR_KEY_ARGV)->via.array.size < 300 ||
		    mp_get(d.map, ROAR_KEY_ENV)->via.array.size < 300)
			ck_assert(mp_is_true(mp_get(d.map, "truncated")));
		else
			ck_assert_ptr_null(mp_get(d.map, "truncated"));
		decoded_free(&d);
	}
	free_list(argv);
	free_list(envp);
}
END_TEST

START_TEST(exec_huge_argv_truncated)
{
	char **argv = make_list(5000, 100, 'x');
	static unsigned char buf[16 * 1024];
	struct roar_frame f;
	struct decoded d;

	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(
		roar_event_exec(&f, &ids, 0, 1, "/usr/bin/xargs", argv, 2.0),
		0);
	decode_frame(&f, &d);
	check_head(d.map, ROAR_KIND_EXEC, &ids);
	ck_assert(mp_is_true(mp_get(d.map, "truncated")));
	check_prefix(mp_get(d.map, ROAR_KEY_ARGV), argv, 5000);
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_EXE), "/usr/bin/xargs"));
	ck_assert_double_eq(mp_get(d.map, ROAR_KEY_TIME)->via.f64, 2.0);
	decoded_free(&d);
	free_list(argv);
}
END_TEST

/*
 * Was a bug (fixed, kept as a regression test): event.c roar_event_hello() reserves only TAIL_RESERVE * 4 = 1024
 * bytes for everything but argv and env, yet cwd and exe may each be up to
 * PATH_MAX (entry.c's announce() passes getcwd() and /proc/self/exe).
 * With an argv/environment large enough to be truncated and a cwd of a
 * few KiB, the lists take their whole budget, cwd overflows the frame and
 * the hello fails with -EMSGSIZE instead of being truncated: the process
 * loses its hello (and with it its argv) entirely.  Expected: rc 0,
 * "truncated": true.  Actual: rc -EMSGSIZE.
 */
START_TEST(regression_hello_huge_lists_long_cwd)
{
	char **argv = make_list(10000, 100, 'a');
	char **envp = make_list(10000, 100, 'E');
	static char cwd[4000];
	struct roar_hello h = {
		.ppid = 1,
		.origin = ROAR_ORIGIN_EXEC,
		.argv = argv,
		.envp = envp,
		.cwd = cwd,
		.exe = "/usr/bin/python3",
		.time = 1.0,
	};
	static unsigned char buf[1 << 16];
	struct roar_frame f;
	struct decoded d;

	memset(cwd, 'd', sizeof(cwd) - 1);
	cwd[0] = '/';
	roar_frame_init(&f, buf, sizeof(buf));
	ck_assert_int_eq(roar_event_hello(&f, &ids, &h), 0);
	decode_frame(&f, &d);
	ck_assert(mp_is_true(mp_get(d.map, "truncated")));
	ck_assert(mp_is_str(mp_get(d.map, ROAR_KEY_CWD), cwd));
	decoded_free(&d);
	free_list(argv);
	free_list(envp);
}
END_TEST

static Suite *
event_suite(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("pack");
	TCase *big = tcase_create("truncation");

	tcase_add_test(tc, every_kind_round_trips);
	tcase_add_test(tc, kind_names_match_protocol);
	tcase_add_test(tc, file_event_fields);
	tcase_add_test(tc, pipe_event_fields);
	tcase_add_test(tc, file_event_call_site);
	tcase_add_test(tc, file_event_uses_len_not_nul);
	tcase_add_test(tc, path_utf8_is_str_else_bin);
	tcase_add_test(tc, long_paths_round_trip);
	tcase_add_test(tc, hello_exec_fields);
	tcase_add_test(tc, hello_fork_minimal);
	tcase_add_test(tc, hello_fork_late);
	tcase_add_test(tc, other_event_fields);
	tcase_add_test(tc, exec_subject_and_ppid);
	tcase_add_test(tc, exit_has_ppid);
	tcase_add_test(tc, exec_without_argv);
	tcase_add_test(tc, too_small_buffer_is_emsgsize);
	tcase_add_test(tc, overflow_never_writes_past_cap);
	suite_add_tcase(s, tc);

	tcase_add_test(big, hello_huge_lists_truncated);
	tcase_add_test(big, hello_one_huge_argument);
	tcase_add_test(big, hello_truncated_in_every_buffer_size);
	tcase_add_test(big, exec_huge_argv_truncated);
	tcase_set_timeout(big, 30);
	suite_add_tcase(s, big);

	{
		/* Regressions: each was a bug these tests found. */
		TCase *bugs = tcase_create("regressions");

		tcase_add_test(bugs, regression_hello_huge_lists_long_cwd);
		tcase_add_test(bugs, regression_exec_size_is_enough);
		suite_add_tcase(s, bugs);
	}
	return s;
}

int
main(void)
{
	return unit_run(event_suite());
}
