/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of preload/event.c's frames, file events first: every kind
 * packs into one frame that decodes (only file events carrying "path"),
 * under the names roar's listeners know; file and pipe events' fields,
 * a file event's call site; and paths taken by their length, as str when
 * UTF-8 and byte for byte as bin otherwise, at every header size.
 */
#include "config.h"

#include "backtrace.h"

#include "unit_event.h"

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

int
main(void)
{
	Suite *s = suite_create("event_file");

	unit_tcase(s, "pack", NULL, NULL,
		   UNIT_TESTS(every_kind_round_trips, kind_names_match_protocol,
			      file_event_fields, pipe_event_fields,
			      file_event_call_site, file_event_uses_len_not_nul,
			      path_utf8_is_str_else_bin,
			      long_paths_round_trip));
	return unit_run(s);
}
