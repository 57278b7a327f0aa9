/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of preload/scratch.c: a small use lives in the struct itself
 * (the caller's stack); a larger use of its own maps writable memory of
 * at least the size asked and unmaps it when given back; a larger shared
 * use (a vfork child) borrows the calling thread's slot, which stays
 * mapped, is reused by the next shared use and grows when that asks for
 * more.
 * Whether an address is still mapped is asked with msync, which fails
 * with ENOMEM on memory that is not.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"
#include "scratch.h"
#include "unit.h"
#include "unit_preload.h"

/* entry.c, which defines these for the .so, is not in preload_core. */
/* The smallest use that is mapped rather than inline. */
#define MAPPED (ROAR_SCRATCH_SMALL + 1)

static bool
mapped(const void *p, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(page - 1);

	if (msync((void *)a, len + ((uintptr_t)p - a), MS_ASYNC) == 0)
		return true;
	ck_assert_int_eq(errno, ENOMEM);
	return false;
}

/* Every byte of [p, p + len) can be written and read back. */
static void
check_writable(unsigned char *p, size_t len, unsigned char v)
{
	memset(p, v, len);
	for (size_t i = 0; i < len; i += 4093)
		ck_assert_uint_eq(p[i], v);
	ck_assert_uint_eq(p[len - 1], v);
}

START_TEST(small_use_is_inline)
{
	static const size_t sizes[] = { 0, 1, ROAR_SCRATCH_SMALL };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (int shared = 0; shared < 2; shared++) {
			struct roar_scratch s;
			unsigned char *p = roar_scratch_get(
				&s, ROAR_SCRATCH_ENV, sizes[i], shared);

			ck_assert_ptr_eq(p, s.small);
			ck_assert_uint_ge(s.size, sizes[i]);
			if (sizes[i])
				check_writable(p, sizes[i], 0x44);
			roar_scratch_put(&s);
			ck_assert_ptr_null(s.base);
		}
}
END_TEST

START_TEST(own_use_is_mapped_then_unmapped)
{
	static const size_t sizes[] = { MAPPED, 2 * MAPPED, 65536, 65537,
					1u << 22 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct roar_scratch s;
		unsigned char *p =
			roar_scratch_get(&s, ROAR_SCRATCH_ENV, sizes[i], false);
		size_t len = sizes[i];

		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_eq(s.base, p);
		ck_assert(!s.borrowed);
		ck_assert_uint_ge(s.size, len);
		check_writable(p, len, (unsigned char)(i + 1));
		ck_assert(mapped(p, len));
		roar_scratch_put(&s);
		ck_assert_ptr_null(s.base);
		ck_assert(!mapped(p, len));
		/* A second put does nothing. */
		roar_scratch_put(&s);
	}
}
END_TEST

START_TEST(own_uses_are_distinct)
{
	struct roar_scratch a, b;
	unsigned char *p =
		roar_scratch_get(&a, ROAR_SCRATCH_FRAME, MAPPED, false);
	unsigned char *q =
		roar_scratch_get(&b, ROAR_SCRATCH_FRAME, MAPPED, false);

	ck_assert(!a.borrowed);

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_ne(p, q);
	memset(p, 1, MAPPED);
	memset(q, 2, MAPPED);
	ck_assert_uint_eq(p[MAPPED - 1], 1);
	roar_scratch_put(&b);
	roar_scratch_put(&a);
}
END_TEST

START_TEST(shared_slot_is_reused_and_grows)
{
	struct roar_scratch a, b, c, d, e;
	unsigned char *p, *q, *g, *h, *other;

	p = roar_scratch_get(&a, ROAR_SCRATCH_FRAME, MAPPED, true);
	ck_assert_ptr_nonnull(p);
	ck_assert(a.borrowed);
	ck_assert_uint_ge(a.size, MAPPED);
	check_writable(p, MAPPED, 0x11);
	/* Given back, the slot stays mapped: the parent keeps it. */
	roar_scratch_put(&a);
	ck_assert_ptr_null(a.base);
	ck_assert(mapped(p, MAPPED));

	/* The next shared use gets the same memory, as it was left. */
	q = roar_scratch_get(&b, ROAR_SCRATCH_FRAME, 2 * MAPPED, true);
	ck_assert_ptr_eq(q, p);
	ck_assert_uint_eq(q[MAPPED - 1], 0x11);
	roar_scratch_put(&b);

	/* A larger one grows the slot: new memory, the old unmapped. */
	g = roar_scratch_get(&c, ROAR_SCRATCH_FRAME, 300000, true);
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_ne(g, p);
	ck_assert_uint_ge(c.size, 300000);
	check_writable(g, 300000, 0x22);
	ck_assert(!mapped(p, MAPPED));
	roar_scratch_put(&c);
	ck_assert(mapped(g, 300000));

	/* A smaller one after it keeps the grown slot. */
	h = roar_scratch_get(&d, ROAR_SCRATCH_FRAME, MAPPED, true);
	ck_assert_ptr_eq(h, g);
	ck_assert_uint_eq(h[299999], 0x22);

	/* Each slot is its own. */
	other = roar_scratch_get(&e, ROAR_SCRATCH_ENV, MAPPED, true);
	ck_assert_ptr_nonnull(other);
	ck_assert_ptr_ne(other, g);
	memset(other, 0x33, MAPPED);
	ck_assert_uint_eq(h[0], 0x22);
	roar_scratch_put(&e);
	roar_scratch_put(&d);
}
END_TEST

static void *
thread_slot(void *arg)
{
	struct roar_scratch s;
	void *p = roar_scratch_get(&s, ROAR_SCRATCH_ARGV, MAPPED, true);

	(void)arg;
	roar_scratch_put(&s);
	return p;
}

START_TEST(shared_slots_are_per_thread)
{
	struct roar_scratch s;
	void *mine = roar_scratch_get(&s, ROAR_SCRATCH_ARGV, MAPPED, true);
	void *theirs = NULL;
	pthread_t t;

	ck_assert_ptr_nonnull(mine);
	roar_scratch_put(&s);
	ck_assert_int_eq(pthread_create(&t, NULL, thread_slot, NULL), 0);
	ck_assert_int_eq(pthread_join(t, &theirs), 0);
	ck_assert_ptr_nonnull(theirs);
	ck_assert_ptr_ne(theirs, mine);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("scratch");

	unit_tcase(s, "get_put", NULL, NULL,
		   UNIT_TESTS(small_use_is_inline,
			      own_use_is_mapped_then_unmapped,
			      own_uses_are_distinct,
			      shared_slot_is_reused_and_grows,
			      shared_slots_are_per_thread));
	return unit_run(s);
}
