/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of path interning (preload/intern.c): one record per path,
 * many and huge paths, credit claims once per process and again after a
 * fork child's new generation (also in a real child, and when the
 * generation wraps), an unclaim allowing a retry, and claims and
 * interning racing in threads.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "intern.h"

#include "unit_fdtable.h"

START_TEST(intern_same_and_different)
{
	struct roar_path *a = roar_path_intern("/a/b", 4);
	struct roar_path *a2 = roar_path_intern("/a/bXX", 4); /* len counts */
	struct roar_path *b = roar_path_intern("/a/b/", 5);
	struct roar_path *c = roar_path_intern("/a/c", 4);
	struct roar_path *n1 = roar_path_intern("/x\0y", 4);
	struct roar_path *n2 = roar_path_intern("/x\0z", 4);
	struct roar_path *e = roar_path_intern("", 0);
	char copy[] = "/a/b";

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(a, a2);
	ck_assert_ptr_eq(a, roar_path_intern(copy, 4)); /* bytes, not ptr */
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_ne(a, c);
	ck_assert_ptr_ne(b, c);
	ck_assert_ptr_ne(n1, n2);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_ne(e, a);
	ck_assert_ptr_eq(e, roar_path_intern("", 0));
	/* Records hold their bytes, NUL-terminated. */
	ck_assert_uint_eq(a->len, 4);
	ck_assert_str_eq(a->path, "/a/b");
	ck_assert_uint_eq(b->len, 5);
	ck_assert_uint_eq(n1->len, 4);
	ck_assert_mem_eq(n1->path, "/x\0y", 5);
	ck_assert_uint_eq(e->len, 0);
	ck_assert_int_eq(e->path[0], '\0');
	/* Records are 8-byte aligned (the atomic state is first). */
	ck_assert_uint_eq((uintptr_t)a % 8, 0);
	ck_assert_uint_eq((uintptr_t)b % 8, 0);
}
END_TEST

START_TEST(intern_many_and_huge)
{
	/* Far more than one arena chunk and one record per bucket. */
	enum {
		N = 20000
	};
	static struct roar_path *recs[N];
	static char big[300000];
	char name[64];
	struct roar_path *h;

	for (int i = 0; i < N; i++) {
		int n = snprintf(name, sizeof(name), "/dir%d/file-%d.c", i % 97,
				 i);

		recs[i] = roar_path_intern(name, (size_t)n);
		ck_assert_ptr_nonnull(recs[i]);
		ck_assert_uint_eq((uintptr_t)recs[i] % 8, 0);
	}
	for (int i = 0; i < N; i++) {
		int n = snprintf(name, sizeof(name), "/dir%d/file-%d.c", i % 97,
				 i);

		ck_assert_ptr_eq(roar_path_intern(name, (size_t)n), recs[i]);
		ck_assert_str_eq(recs[i]->path, name);
	}
	/* A record larger than an arena chunk. */
	memset(big, 'p', sizeof(big));
	big[0] = '/';
	h = roar_path_intern(big, sizeof(big));
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->len, sizeof(big));
	ck_assert_mem_eq(h->path, big, sizeof(big));
	ck_assert_int_eq(h->path[sizeof(big)], '\0');
	ck_assert_ptr_eq(roar_path_intern(big, sizeof(big)), h);
	/* Earlier records were not disturbed. */
	snprintf(name, sizeof(name), "/dir%d/file-%d.c", 0, 0);
	ck_assert_ptr_eq(roar_path_intern(name, strlen(name)), recs[0]);
	ck_assert_str_eq(recs[N - 1]->path, "/dir17/file-19999.c");
}
END_TEST

START_TEST(claim_once_per_credit)
{
	struct roar_path *p = roar_path_intern("/claim/me", 9);

	ck_assert(roar_path_wants(p, ROAR_CREDIT_READ));
	ck_assert(roar_path_wants(p, ROAR_CREDIT_WRITE));
	ck_assert(roar_path_claim(p, ROAR_CREDIT_READ));
	ck_assert(!roar_path_claim(p, ROAR_CREDIT_READ));
	ck_assert(!roar_path_claim(p, ROAR_CREDIT_READ));
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_READ));
	/* The other credit is independent. */
	ck_assert(roar_path_wants(p, ROAR_CREDIT_WRITE));
	ck_assert(roar_path_claim(p, ROAR_CREDIT_WRITE));
	ck_assert(!roar_path_claim(p, ROAR_CREDIT_WRITE));
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_WRITE));
	ck_assert(!roar_path_claim(p, ROAR_CREDIT_READ));
}
END_TEST

START_TEST(claim_again_after_fork_generation)
{
	struct roar_path *p = roar_path_intern("/gen/x", 6);
	uint32_t gen = roar_path_generation;

	ck_assert(roar_path_claim(p, ROAR_CREDIT_READ));
	ck_assert(roar_path_claim(p, ROAR_CREDIT_WRITE));
	roar_intern_atfork_child();
	ck_assert_uint_ne(roar_path_generation, gen);
	/* Both credits are wanted again, once each. */
	ck_assert(roar_path_wants(p, ROAR_CREDIT_READ));
	ck_assert(roar_path_wants(p, ROAR_CREDIT_WRITE));
	ck_assert(roar_path_claim(p, ROAR_CREDIT_READ));
	ck_assert(!roar_path_claim(p, ROAR_CREDIT_READ));
	/* The write credit of the old generation is not carried over. */
	ck_assert(roar_path_wants(p, ROAR_CREDIT_WRITE));
	ck_assert(roar_path_claim(p, ROAR_CREDIT_WRITE));
	ck_assert(!roar_path_claim(p, ROAR_CREDIT_WRITE));
	/* And once more. */
	roar_intern_atfork_child();
	ck_assert(roar_path_claim(p, ROAR_CREDIT_WRITE));
	ck_assert(!roar_path_claim(p, ROAR_CREDIT_WRITE));
	ck_assert(roar_path_claim(p, ROAR_CREDIT_READ));
}
END_TEST

START_TEST(generation_wraps_past_zero)
{
	struct roar_path *p = roar_path_intern("/gen/wrap", 9);

	roar_path_generation = UINT32_MAX;
	ck_assert(roar_path_claim(p, ROAR_CREDIT_READ));
	roar_intern_atfork_child();
	ck_assert_uint_ne(roar_path_generation, 0);
	ck_assert(roar_path_claim(p, ROAR_CREDIT_READ));
	ck_assert(!roar_path_claim(p, ROAR_CREDIT_READ));
}
END_TEST

START_TEST(unclaim_allows_retry)
{
	struct roar_path *p = roar_path_intern("/unclaim", 8);

	ck_assert(roar_path_claim(p, ROAR_CREDIT_READ));
	ck_assert(roar_path_claim(p, ROAR_CREDIT_WRITE));
	roar_path_unclaim(p, ROAR_CREDIT_READ);
	ck_assert(roar_path_wants(p, ROAR_CREDIT_READ));
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_WRITE));
	ck_assert(roar_path_claim(p, ROAR_CREDIT_READ));
	ck_assert(!roar_path_claim(p, ROAR_CREDIT_READ));
}
END_TEST

/* Threads racing for the same claim and the same intern. */
struct race {
	pthread_barrier_t *go;
	struct roar_path *p;
	int won;
	struct roar_path *interned;
};

static void *
race_thread(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(r->go);
	r->won = roar_path_claim(r->p, ROAR_CREDIT_WRITE);
	r->interned = roar_path_intern("/race/same", 10);
	return NULL;
}

START_TEST(claim_and_intern_race)
{
	enum {
		T = 8,
		ROUNDS = 200
	};
	pthread_barrier_t go;

	for (int round = 0; round < ROUNDS; round++) {
		char name[32];
		int n = snprintf(name, sizeof(name), "/race/%d", round);
		struct race r[T];
		pthread_t th[T];
		int wins = 0;

		pthread_barrier_init(&go, NULL, T);
		for (int i = 0; i < T; i++) {
			r[i] = (struct race){ &go,
					      roar_path_intern(name, (size_t)n),
					      0, NULL };
			ck_assert_int_eq(pthread_create(&th[i], NULL,
							race_thread, &r[i]),
					 0);
		}
		for (int i = 0; i < T; i++) {
			pthread_join(th[i], NULL);
			wins += r[i].won;
			ck_assert_ptr_eq(r[i].interned, r[0].interned);
		}
		pthread_barrier_destroy(&go);
		ck_assert_int_eq(wins, 1);
	}
}
END_TEST

START_TEST(fork_child_generation)
{
	/* atfork in a real child: the parent's claims stay, the child's
	 * are fresh. */
	struct roar_path *p = roar_path_intern("/forked", 7);
	int status;
	pid_t pid;

	ck_assert(roar_path_claim(p, ROAR_CREDIT_READ));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		roar_intern_atfork_child();
		_exit(roar_path_claim(p, ROAR_CREDIT_READ) &&
				      !roar_path_claim(p, ROAR_CREDIT_READ)
			      ? 0
			      : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert(!roar_path_claim(p, ROAR_CREDIT_READ));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fdtable_intern");
	TCase *tc;

	tc = unit_tcase(s, "intern", setup, teardown,
			UNIT_TESTS(intern_same_and_different,
				   intern_many_and_huge, claim_once_per_credit,
				   claim_again_after_fork_generation,
				   generation_wraps_past_zero,
				   unclaim_allows_retry, claim_and_intern_race,
				   fork_child_generation));
	tcase_set_timeout(tc, 30);
	return unit_run(s);
}
