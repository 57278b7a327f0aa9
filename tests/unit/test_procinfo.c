/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of collector/procinfo.c: /proc/PID/stat lines parsed for
 * the parent, state and start time (a command name made to mislead
 * included), malformed ones refused, and this process's own entry as the
 * kernel gives it, which is what a run reads by default.
 */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "procinfo.h"
#include "unit_merge.h"

START_TEST(proc_stat_parse)
{
	static const char *const good[] = {
		"123 (sh) S 45 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 "
		"0 777 3133440 380",
		"123 (a b) R 45 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 -5 1 0 "
		"777\n",
		/* A name made to mislead: ") S 9 " inside it. */
		"123 (x) S 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 1 ) S 45 1 1 0 "
		"-1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 777 1",
		"123 ()) Z 45 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 777",
	};
	static const char *const bad[] = {
		"123 sh S 45",
		"123 (sh) S",
		"123 (sh) S x 1",
		"123 (sh)",
		"123 (sh) S -45 1",
		"123 (sh) S 99999999999 1",
		"",
		"123 (sh) S 45 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0",
		"123 (sh) S 45 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 x",
	};
	struct roar_proc_stat st;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&st, 0, sizeof(st));
		ck_assert_msg(roar_proc_parse_stat(good[i], strlen(good[i]),
						   &st) == 0,
			      "%s", good[i]);
		ck_assert_int_eq(st.ppid, 45);
		ck_assert_uint_eq(st.start, 777);
		ck_assert_int_eq(st.state, i == 1 ? 'R' : i == 3 ? 'Z' : 'S');
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(roar_proc_parse_stat(bad[i], strlen(bad[i]),
						   &st) == -EINVAL,
			      "%s", bad[i]);
	/* Not NUL-terminated: only len bytes count. */
	ck_assert_int_eq(roar_proc_parse_stat("1 (a) S 45 ", 9, &st), -EINVAL);
}
END_TEST

START_TEST(proc_stat_of_self)
{
	struct roar_proc_stat me, dad;

	ck_assert_int_eq(roar_proc_stat(getpid(), &me), 0);
	ck_assert_int_eq(me.ppid, getppid());
	ck_assert_int_eq(me.state, 'R');
	ck_assert_int_eq(roar_proc_stat(getppid(), &dad), 0);
	ck_assert_uint_le(dad.start, me.start);
	ck_assert_int_eq(roar_proc_stat(0x7ffffffe, &me), -ESRCH);
	ck_assert_int_eq(roar_proc_stat(0, &me), -EINVAL);
	/* The default reader is the kernel's. */
	ck_assert_ptr_eq((void *)M.proc_stat, (void *)roar_proc_stat);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("procinfo");

	unit_tcase(s, "procinfo", setup, teardown,
		   UNIT_TESTS(proc_stat_parse, proc_stat_of_self));
	return unit_run(s);
}
