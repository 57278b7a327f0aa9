/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of preload/fdtable.c's slots: set and looked up across
 * chunk boundaries and at the ROAR_FD_MAX edge, forgotten by range,
 * allocating nothing for an unknown value, and all forgotten at reset.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#include "unit_fdtable.h"

/* A fake record pointer: any value but UNKNOWN and IGNORED. */
#define FAKE(n) ((uintptr_t)0x1000 + (uintptr_t)(n)*16)

START_TEST(set_lookup_across_chunks)
{
	static const int fds[] = { 0,    1,    1023,  1024,           1025,
				   2047, 2048, 70000, ROAR_FD_MAX - 1 };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		ck_assert_uint_eq(roar_fdtable_lookup(fds[i]), ROAR_FD_UNKNOWN);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		ck_assert_int_eq(roar_fdtable_set(fds[i], FAKE(i)), 0);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		ck_assert_uint_eq(roar_fdtable_lookup(fds[i]), FAKE(i));
	/* Neighbours untouched. */
	ck_assert_uint_eq(roar_fdtable_lookup(2), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(1022), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(1026), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(69999), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(70001), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(ROAR_FD_MAX - 2),
			  ROAR_FD_UNKNOWN);
	/* Chunks exist exactly where something was stored. */
	ck_assert_ptr_nonnull(roar_fd_chunks[0]);
	ck_assert_ptr_nonnull(roar_fd_chunks[1]);
	ck_assert_ptr_nonnull(roar_fd_chunks[2]);
	ck_assert_ptr_nonnull(roar_fd_chunks[70000 >> ROAR_FD_CHUNK_BITS]);
	ck_assert_ptr_nonnull(roar_fd_chunks[ROAR_FD_CHUNKS - 1]);
	ck_assert_ptr_null(roar_fd_chunks[3]);
	/* Overwrite and clear. */
	ck_assert_int_eq(roar_fdtable_set(1024, ROAR_FD_IGNORED), 0);
	ck_assert_uint_eq(roar_fdtable_lookup(1024), ROAR_FD_IGNORED);
	ck_assert_int_eq(roar_fdtable_set(1024, ROAR_FD_UNKNOWN), 0);
	ck_assert_uint_eq(roar_fdtable_lookup(1024), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(1023), FAKE(2));
}
END_TEST

START_TEST(forget_range)
{
	for (int fd = 0; fd < 2100; fd++)
		ck_assert_int_eq(roar_fdtable_set(fd, FAKE(fd)), 0);
	ck_assert_int_eq(roar_fdtable_set(ROAR_FD_MAX - 1, FAKE(1)), 0);
	/* Across a chunk boundary, bounds inclusive. */
	roar_fdtable_forget_range(10, 2000);
	ck_assert_uint_eq(roar_fdtable_lookup(9), FAKE(9));
	ck_assert_uint_eq(roar_fdtable_lookup(10), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(1023), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(1024), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(2000), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(2001), FAKE(2001));
	/* A single fd. */
	roar_fdtable_forget_range(5, 5);
	ck_assert_uint_eq(roar_fdtable_lookup(4), FAKE(4));
	ck_assert_uint_eq(roar_fdtable_lookup(5), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(6), FAKE(6));
	/* Through absent chunks to the end (closefrom(3) is ~0U): no
	 * allocation, no wrap-around, everything from 3 on forgotten. */
	roar_fdtable_forget_range(3, ~0u);
	ck_assert_uint_eq(roar_fdtable_lookup(2), FAKE(2));
	ck_assert_uint_eq(roar_fdtable_lookup(3), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(2099), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(ROAR_FD_MAX - 1),
			  ROAR_FD_UNKNOWN);
	ck_assert_ptr_null(roar_fd_chunks[500]);
	/* An empty range (first > last) forgets nothing. */
	roar_fdtable_forget_range(2, 1);
	ck_assert_uint_eq(roar_fdtable_lookup(2), FAKE(2));
	/* A range wholly past the table. */
	roar_fdtable_forget_range(ROAR_FD_MAX + 1, ~0u);
	ck_assert_uint_eq(roar_fdtable_lookup(1), FAKE(1));
}
END_TEST

START_TEST(fd_max_edge)
{
	ck_assert_int_eq(roar_fdtable_set(ROAR_FD_MAX - 1, FAKE(1)), 0);
	ck_assert_uint_eq(roar_fdtable_lookup(ROAR_FD_MAX - 1), FAKE(1));
	ck_assert_int_eq(roar_fdtable_set(ROAR_FD_MAX, FAKE(2)), -EBADF);
	ck_assert_uint_eq(roar_fdtable_lookup(ROAR_FD_MAX), ROAR_FD_UNKNOWN);
	ck_assert_int_eq(roar_fdtable_set(ROAR_FD_MAX + 1, FAKE(2)), -EBADF);
	ck_assert_int_eq(roar_fdtable_set(INT_MAX, FAKE(2)), -EBADF);
	ck_assert_uint_eq(roar_fdtable_lookup(INT_MAX), ROAR_FD_UNKNOWN);
	ck_assert_int_eq(roar_fdtable_set(-1, FAKE(2)), -EBADF);
	ck_assert_int_eq(roar_fdtable_set(INT_MIN, FAKE(2)), -EBADF);
	ck_assert_uint_eq(roar_fdtable_lookup(-1), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(INT_MIN), ROAR_FD_UNKNOWN);
	/* The last slot did not spill into anything. */
	ck_assert_uint_eq(roar_fdtable_lookup(ROAR_FD_MAX - 1), FAKE(1));
}
END_TEST

START_TEST(set_unknown_allocates_nothing)
{
	ck_assert_ptr_null(roar_fd_chunks[5]);
	ck_assert_int_eq(
		roar_fdtable_set(5 * ROAR_FD_CHUNK_SIZE + 3, ROAR_FD_UNKNOWN),
		0);
	ck_assert_ptr_null(roar_fd_chunks[5]);
}
END_TEST

START_TEST(reset_forgets_fds)
{
	ck_assert_int_eq(roar_fdtable_set(7, FAKE(7)), 0);
	roar_fdtable_reset();
	ck_assert_uint_eq(roar_fdtable_lookup(7), ROAR_FD_UNKNOWN);
	ck_assert_ptr_null(roar_fd_chunks[0]);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fdtable_slots");

	unit_tcase(s, "slots", setup, teardown,
		   UNIT_TESTS(set_lookup_across_chunks, fd_max_edge,
			      forget_range, set_unknown_allocates_nothing,
			      reset_forgets_fds));
	return unit_run(s);
}
