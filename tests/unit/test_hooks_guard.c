/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of what a hook does when it must not trace: with the guard held
 * (a hook interrupting a hook) or before the library is ready it calls
 * the real function straight through and does no bookkeeping; and the
 * table of real functions itself is complete and the C library's.
 */
#include "config.h"

#include "unit_hooks.h"

START_TEST(guard_held_passes_straight_through)
{
	int fd = real_file("g");
	char buf[8];
	struct outcome o;

	/* A hook interrupting a hook (signal handler): depth is 1. */
	roar_guard_depth = 1;
	expect(fake_read, 8, 0);
	CALL_HOOK(o, 1234, read(fd, buf, sizeof(buf)));
	ck_assert_int_eq(F.calls, 1);
	ck_assert_int_eq(o.ret, 8);
	ck_assert_int_eq(o.err, 1234);
	ck_assert_uint_eq(o.depth, 1);
	/* No bookkeeping happened. */
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	expect(fake_write, -1, EINTR);
	CALL_HOOK(o, 0, write(fd, buf, sizeof(buf)));
	ck_assert_int_eq(o.ret, -1);
	ck_assert_int_eq(o.err, EINTR);
	roar_guard_depth = 0;
	close(fd);
}
END_TEST

START_TEST(not_ready_passes_straight_through)
{
	int fd = real_file("nr");
	char buf[8];
	ssize_t ret;
	int err;

	expect(fake_read, 8, 0);
	roar_real_override(&fake);
	errno = 1234;
	ret = read(fd, buf, sizeof(buf));
	err = errno;
	roar_real_override(NULL);
	ck_assert_int_eq(F.calls, 1);
	ck_assert_int_eq(ret, 8);
	ck_assert_int_eq(err, 1234);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	close(fd);
}
END_TEST

START_TEST(real_table_is_complete)
{
	/* E3: every entry is the C library's function or an ENOSYS stub,
	 * never NULL. */
	const struct roar_real *r = roar_real_get();
	void *const *slot = (void *const *)r;

	for (size_t i = 0; i < sizeof(*r) / sizeof(void *); i++)
		ck_assert_msg(slot[i] != NULL, "entry %zu is NULL", i);
	/* And override(NULL) goes back to it. */
	roar_real_override(&fake);
	ck_assert_ptr_eq(roar_real_get(), &fake);
	roar_real_override(NULL);
	ck_assert_ptr_eq(roar_real_get(), r);
}
END_TEST

START_TEST(real_table_resolves_to_libc)
{
	/* The table's read is the C library's, not our hook. */
	const struct roar_real *r = roar_real_get();

	ck_assert_ptr_ne((void *)r->read, (void *)read);
	ck_assert_ptr_ne((void *)r->open, (void *)open);
	ck_assert_ptr_ne((void *)r->close, (void *)close);
	ck_assert_ptr_ne((void *)r->execve, (void *)execve);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hooks_guard");

	unit_tcase(s, "guard", setup, teardown,
		   UNIT_TESTS(guard_held_passes_straight_through,
			      not_ready_passes_straight_through,
			      real_table_is_complete,
			      real_table_resolves_to_libc));
	return unit_run(s);
}
