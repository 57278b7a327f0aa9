/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the collector's caps (caps.h) as collector/merge.c keeps
 * them: a process's environment is cut at ROAR_CAP_LIST_ENTRIES entries,
 * an image at ROAR_CAP_IMAGE_BYTES and all the images of one process at
 * ROAR_CAP_PROC_IMAGE_BYTES, each cut counted, and a sender's own mark
 * that it cut a list is kept apart from the collector's count.
 */
#include "config.h"

#include <stdlib.h>

#include "unit_merge.h"

/* A hello of ROOT whose argv is argv (n entries) and env env (m entries);
 * with_mark: the sender says it cut them ("truncated"). */
static int
hello_lists(double t, const char *const *argv, size_t n, const char *const *env,
	    size_t m, bool with_mark)
{
	struct ev e;

	ev_begin(&e, 9 + with_mark);
	ev_str(&e, ROAR_KEY_KIND, "hello");
	ev_int(&e, ROAR_KEY_PID, ROOT);
	ev_int(&e, ROAR_KEY_TID, ROOT);
	ev_int(&e, ROAR_KEY_PROTO, ROAR_PROTOCOL_VERSION);
	ev_int(&e, ROAR_KEY_PPID, 1);
	ev_str(&e, ROAR_KEY_ORIGIN, ROAR_ORIGIN_EXEC);
	ev_double(&e, ROAR_KEY_TIME, t);
	ev_key(&e, ROAR_KEY_ENV);
	msgpack_pack_array(&e.pk, m);
	for (size_t i = 0; i < m; i++)
		mp_pack_cstr(&e.pk, env[i]);
	if (with_mark) {
		ev_key(&e, ROAR_KEY_TRUNCATED);
		msgpack_pack_true(&e.pk);
	}
	ev_key(&e, ROAR_KEY_ARGV);
	msgpack_pack_array(&e.pk, n);
	for (size_t i = 0; i < n; i++)
		mp_pack_cstr(&e.pk, argv[i]);
	return apply(&M, &e);
}

START_TEST(caps_env_entries)
{
	size_t n = ROAR_CAP_LIST_ENTRIES + 5000;
	const char **env = calloc(n, sizeof(*env));
	const struct roar_image *im;

	for (size_t i = 0; i < n; i++)
		env[i] = "V=1";
	ck_assert_int_eq(hello_lists(1.0, make_argv, 2, env, n, false), 0);
	im = roar_proc_image(proc(&M, ROOT));
	ck_assert_uint_eq(im->env.n, ROAR_CAP_LIST_ENTRIES);
	check_strv(&im->argv, make_argv);
	ck_assert(im->truncated);
	ck_assert(roar_merge_truncated(&M, proc(&M, ROOT)));
	ck_assert_uint_eq(M.limits.lists_truncated, 1);
	free(env);
}
END_TEST

START_TEST(caps_image_bytes)
{
	size_t big = 1024 * 1024;
	char *s = malloc(big + 1);
	const char *argv[5];
	const struct roar_image *im;

	memset(s, 'a', big);
	s[big] = '\0';
	for (size_t i = 0; i < 5; i++)
		argv[i] = s;
	ck_assert_int_eq(hello_lists(1.0, argv, 5, make_env, 2, false), 0);
	im = roar_proc_image(proc(&M, ROOT));
	/* 4 MiB of room, each entry costs its bytes and a little more. */
	ck_assert_uint_eq(im->argv.n, 3);
	ck_assert_uint_eq(im->env.n, 2);
	ck_assert(im->truncated);
	ck_assert_uint_le(im->bytes, ROAR_CAP_IMAGE_BYTES);
	ck_assert_uint_eq(M.limits.lists_truncated, 1);
	free(s);
}
END_TEST

START_TEST(caps_sender_mark)
{
	struct roar_proc *p;

	ck_assert_int_eq(hello_lists(1.0, make_argv, 2, make_env, 2, false), 0);
	p = proc(&M, ROOT);
	ck_assert(!roar_merge_truncated(&M, p));
	ck_assert_int_eq(hello_lists(2.0, make_argv, 2, make_env, 2, true), 0);
	ck_assert(roar_merge_truncated(&M, p));
	/* Only the sender cut it: the collector's count stays. */
	ck_assert_uint_eq(M.limits.lists_truncated, 0);
}
END_TEST

START_TEST(caps_images_of_one_process)
{
	size_t big = 1024 * 1024;
	char *s = malloc(big + 1);
	const char *argv[3];
	const struct roar_proc *p;
	size_t total = 0;

	memset(s, 'b', big);
	s[big] = '\0';
	for (size_t i = 0; i < 3; i++)
		argv[i] = s;
	for (int i = 1; i <= 16; i++)
		ck_assert_int_eq(hello_lists(i, argv, 3, make_env, 2, false),
				 0);
	p = proc(&M, ROOT);
	for (size_t i = 0; i < p->nimages; i++)
		total += p->images[i].bytes;
	ck_assert_uint_le(total, ROAR_CAP_PROC_IMAGE_BYTES);
	ck_assert_uint_lt(p->nimages, 16);
	ck_assert_uint_gt(p->nimages, 1);
	/* The oldest went; the latest stands. */
	ck_assert(roar_proc_image(p)->time == 16.0);
	ck_assert_uint_eq(roar_proc_image(p)->argv.n, 3);
	free(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("merge_caps");

	unit_tcase(s, "caps", setup, teardown,
		   UNIT_TESTS(caps_env_entries, caps_image_bytes,
			      caps_sender_mark, caps_images_of_one_process));
	return unit_run(s);
}
