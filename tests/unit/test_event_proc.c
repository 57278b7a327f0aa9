/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of preload/event.c's process events: a hello of an exec
 * (argv, environment, cwd and exe) and of a fork (minimal, or late), the
 * fields of fork, exec, exec_failed, exit, reaped and dropped, an exec's
 * subject and ppid, an exit's ppid, and an exec packed into exactly the
 * size roar_event_exec_size gives it.
 */
#include "config.h"

#include <stdint.h>

#include "unit_event.h"

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

int
main(void)
{
	Suite *s = suite_create("event_proc");

	unit_tcase(s, "pack", NULL, NULL,
		   UNIT_TESTS(hello_exec_fields, hello_fork_minimal,
			      hello_fork_late, other_event_fields,
			      exec_subject_and_ppid, exit_has_ppid,
			      exec_without_argv));
	/* Regressions: each was a bug these tests found. */
	unit_tcase(s, "regressions", NULL, NULL,
		   UNIT_TESTS(regression_exec_size_is_enough));
	return unit_run(s);
}
