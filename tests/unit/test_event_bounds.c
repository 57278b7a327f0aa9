/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of preload/event.c at the edge of its buffer: a buffer one
 * byte too small fails with -EMSGSIZE (a hello or exec drops list
 * entries instead) and nothing is written past its end; a hello or exec
 * with an enormous argv or environment is cut to fit, keeps a prefix in
 * order, and says "truncated".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "unit_event.h"

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
 * Was a bug (fixed, kept as a regression test): event.c roar_event_hello()
 * reserves only TAIL_RESERVE * 4 = 1024 bytes for everything but argv and env,
 * yet cwd and exe may each be up to PATH_MAX (entry.c's announce() passes
 * getcwd() and /proc/self/exe). With an argv/environment large enough to be
 * truncated and a cwd of a few KiB, the lists take their whole budget, cwd
 * overflows the frame and the hello fails with -EMSGSIZE instead of being
 * truncated: the process loses its hello (and with it its argv) entirely.
 * Expected: rc 0, "truncated": true.  Actual: rc -EMSGSIZE.
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

int
main(void)
{
	Suite *s = suite_create("event_bounds");
	TCase *big;

	unit_tcase(s, "pack", NULL, NULL,
		   UNIT_TESTS(too_small_buffer_is_emsgsize,
			      overflow_never_writes_past_cap));
	big = unit_tcase(s, "truncation", NULL, NULL,
			 UNIT_TESTS(hello_huge_lists_truncated,
				    hello_one_huge_argument,
				    hello_truncated_in_every_buffer_size,
				    exec_huge_argv_truncated));
	tcase_set_timeout(big, 30);
	/* Regressions: each was a bug these tests found. */
	unit_tcase(s, "regressions", NULL, NULL,
		   UNIT_TESTS(regression_hello_huge_lists_long_cwd));
	return unit_run(s);
}
