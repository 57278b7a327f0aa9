/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of preload/fdtable.c: slots across chunk boundaries and at
 * the ROAR_FD_MAX edge, path interning, once-per-process credit claims
 * and their reset in a fork child, and what roar_fdtable_resolve makes of
 * real files, symlinks, pipes, directories and devices.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdtable.h"
#include "guard.h"
#include "transport.h"
#include "unit.h"
#include "unit_preload.h"

/* entry.c, which defines these for the .so, is not in preload_core. */
static char tmpdir[PATH_MAX];

static void
setup(void)
{
	unit_preload_reset();
	roar_fdtable_reset();
	unit_mkdtemp(tmpdir, sizeof(tmpdir), "fdtable");
}

static void
teardown(void)
{
	unit_rmtree(tmpdir);
	roar_fdtable_reset();
}

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

/* The canonical absolute path of p, as the kernel would name it. */
static void
canonical(const char *p, char *out)
{
	ck_assert_ptr_nonnull(realpath(p, out));
}

static struct roar_path *
resolved_path(int fd)
{
	uintptr_t v = roar_fdtable_resolve(fd);

	ck_assert_uint_ne(v, ROAR_FD_UNKNOWN);
	ck_assert_uint_ne(v, ROAR_FD_IGNORED);
	/* The answer is cached in the slot. */
	ck_assert_uint_eq(roar_fdtable_lookup(fd), v);
	return (struct roar_path *)v;
}

START_TEST(resolve_regular_file)
{
	char file[PATH_MAX], want[PATH_MAX];
	struct roar_path *p;
	int fd;

	snprintf(file, sizeof(file), "%s/data.txt", tmpdir);
	fd = open(file, O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	canonical(file, want);
	p = resolved_path(fd);
	ck_assert_str_eq(p->path, want);
	ck_assert_uint_eq(p->len, strlen(want));
	ck_assert_int_eq(p->path[0], '/');
	/* The same file through another fd is the same record. */
	{
		int fd2 = open(file, O_RDONLY);

		ck_assert_int_ge(fd2, 0);
		ck_assert_ptr_eq(resolved_path(fd2), p);
		close(fd2);
	}
	/* get() on a cached slot does not resolve again. */
	ck_assert_uint_eq(roar_fdtable_get(fd), (uintptr_t)p);
	close(fd);
}
END_TEST

START_TEST(resolve_relative_and_dotted)
{
	char want[PATH_MAX], cwd[PATH_MAX], file[PATH_MAX];
	int fd;

	snprintf(file, sizeof(file), "%s/sub", tmpdir);
	ck_assert_int_eq(mkdir(file, 0755), 0);
	snprintf(file, sizeof(file), "%s/sub/../rel.txt", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(file, sizeof(file), "%s/rel.txt", tmpdir);
	canonical(file, want);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(tmpdir), 0);
	fd = open("./sub/../rel.txt", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(resolved_path(fd)->path, want);
	close(fd);
	ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

START_TEST(resolve_through_symlink)
{
	char target[PATH_MAX], link[PATH_MAX], want[PATH_MAX];
	int fd;

	snprintf(target, sizeof(target), "%s/target.bin", tmpdir);
	snprintf(link, sizeof(link), "%s/link.bin", tmpdir);
	fd = open(target, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(symlink("target.bin", link), 0);
	canonical(target, want);
	fd = open(link, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(resolved_path(fd)->path, want);
	close(fd);
}
END_TEST

START_TEST(resolve_odd_bytes_in_name)
{
	char file[PATH_MAX], want[PATH_MAX];
	int fd;

	snprintf(file, sizeof(file), "%s/odd \xff\xfe name", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	canonical(file, want);
	ck_assert_str_eq(resolved_path(fd)->path, want);
	close(fd);
}
END_TEST

START_TEST(resolve_pipe_record_dir_dev_ignored)
{
	int p[2], d, n;

	struct roar_path *r0, *r1;
	struct stat st;
	char want[64];

	/* A pipe is no file but a pipe record, the same for both ends and
	 * named by device and inode (never a canonical path). */
	ck_assert_int_eq(pipe(p), 0);
	r0 = (struct roar_path *)roar_fdtable_resolve(p[0]);
	r1 = (struct roar_path *)roar_fdtable_resolve(p[1]);
	ck_assert_uint_gt((uintptr_t)r0, ROAR_FD_IGNORED);
	ck_assert_ptr_eq(r0, r1);
	ck_assert_uint_eq(roar_fdtable_lookup(p[0]), (uintptr_t)r0);
	ck_assert(roar_path_is_pipe(r0));
	ck_assert_int_eq(fstat(p[0], &st), 0);
	snprintf(want, sizeof(want), "pipe:[%lu:%lu]", (unsigned long)st.st_dev,
		 (unsigned long)st.st_ino);
	ck_assert_str_eq(r0->path, want);
	ck_assert_uint_eq(r0->ino, (uint64_t)st.st_ino);
	close(p[0]);
	close(p[1]);

	d = open(tmpdir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(d, 0);
	ck_assert_uint_eq(roar_fdtable_resolve(d), ROAR_FD_IGNORED);
	ck_assert_uint_eq(roar_fdtable_lookup(d), ROAR_FD_IGNORED);
	close(d);

	n = open("/dev/null", O_RDWR);
	ck_assert_int_ge(n, 0);
	ck_assert_uint_eq(roar_fdtable_resolve(n), ROAR_FD_IGNORED);
	close(n);
}
END_TEST

START_TEST(resolve_pseudo_fs_ignored)
{
	/* Kernel-made regular files are no lineage. */
	static const char *const paths[] = { "/proc/self/status",
					     "/proc/version",
					     "/sys/kernel/uevent_seqnum" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct stat st;
		int fd = open(paths[i], O_RDONLY);

		if (fd < 0)
			continue;
		ck_assert_int_eq(fstat(fd, &st), 0);
		ck_assert_msg(roar_fdtable_resolve(fd) == ROAR_FD_IGNORED,
			      "%s credited", paths[i]);
		close(fd);
	}
}
END_TEST

START_TEST(name_does_not_cache)
{
	char file[PATH_MAX], want[PATH_MAX];
	uintptr_t v;
	int fd;

	snprintf(file, sizeof(file), "%s/named", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	canonical(file, want);
	v = roar_fdtable_name(fd);
	ck_assert_uint_gt(v, ROAR_FD_IGNORED);
	ck_assert_str_eq(((struct roar_path *)v)->path, want);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	/* The same record resolve would give. */
	ck_assert_uint_eq(roar_fdtable_resolve(fd), v);
	close(fd);
	ck_assert_uint_eq(roar_fdtable_name(-1), ROAR_FD_IGNORED);
}
END_TEST

START_TEST(resolve_unlinked_file_ignored)
{
	char file[PATH_MAX];
	int fd;

	snprintf(file, sizeof(file), "%s/gone", tmpdir);
	fd = open(file, O_RDWR | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(file), 0);
	ck_assert_uint_eq(roar_fdtable_resolve(fd), ROAR_FD_IGNORED);
	close(fd);
#ifdef O_TMPFILE
	fd = open(tmpdir, O_TMPFILE | O_RDWR, 0600);
	if (fd >= 0) {
		ck_assert_uint_eq(roar_fdtable_resolve(fd), ROAR_FD_IGNORED);
		close(fd);
	}
#endif
}
END_TEST

START_TEST(resolve_closed_fd)
{
	int fd = open("/dev/null", O_RDONLY);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_uint_eq(roar_fdtable_resolve(fd), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_resolve(-1), ROAR_FD_IGNORED);
	ck_assert_uint_eq(roar_fdtable_lookup(-1), ROAR_FD_UNKNOWN);
	/* Not open either: nothing cached, nothing credited. */
	ck_assert_uint_eq(roar_fdtable_resolve(ROAR_FD_MAX + 5),
			  ROAR_FD_UNKNOWN);
}
END_TEST

/*
 * Was a bug (fixed, kept as a regression test): fdtable.c roar_fdtable_resolve() now caches whatever
 * roar_fdtable_name() answers, including the ROAR_FD_IGNORED it returns
 * when fstat fails (EBADF: the number is not open).  roar_fdtable_name's
 * own comment says "Not open (EBADF): leave the slot unknown for the next
 * owner", and that is what the code did before roar_fdtable_name was split
 * out.  With the slot cached as IGNORED, a file that later gets this
 * number through a call we do not hook (or a dup/open racing with the
 * failed resolve in another thread) is never credited by roar_track_fd.
 * Expected: lookup(fd) == ROAR_FD_UNKNOWN after resolving a closed fd.
 * Actual: ROAR_FD_IGNORED.
 */
START_TEST(regression_resolve_closed_fd_leaves_slot_unknown)
{
	int fd = open("/dev/null", O_RDONLY);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_uint_eq(roar_fdtable_resolve(fd), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
}
END_TEST

START_TEST(resolve_high_fd)
{
	char file[PATH_MAX], want[PATH_MAX];
	int fd, hi;

	snprintf(file, sizeof(file), "%s/high", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	canonical(file, want);
	/* Above the first chunk (needs RLIMIT_NOFILE > 1500). */
	hi = fcntl(fd, F_DUPFD, 1500);
	if (hi >= 0) {
		ck_assert_str_eq(resolved_path(hi)->path, want);
		ck_assert_ptr_nonnull(roar_fd_chunks[1]);
		close(hi);
	}
	close(fd);
}
END_TEST

START_TEST(get_resolves_unknown_slot)
{
	char file[PATH_MAX], want[PATH_MAX];
	uintptr_t v;
	int fd;

	snprintf(file, sizeof(file), "%s/lazy", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	canonical(file, want);
	/* With the guard not entered, the hook did no bookkeeping. */
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	v = roar_fdtable_get(fd);
	ck_assert_uint_gt(v, ROAR_FD_IGNORED);
	ck_assert_str_eq(((struct roar_path *)v)->path, want);
	close(fd);
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

/* A directory below tmpdir whose name is past PATH_MAX, made and entered
 * by relative names (as a program would); returns the absolute name's
 * length and leaves the working directory there.  The caller goes back
 * with fchdir(*home). */
static size_t
enter_deep(int *home, char *name, size_t cap)
{
	char comp[201];
	size_t len;

	memset(comp, 'd', 200);
	comp[200] = '\0';
	*home = open(".", O_PATH | O_DIRECTORY);
	ck_assert_int_ge(*home, 0);
	ck_assert_int_eq(chdir(tmpdir), 0);
	len = (size_t)snprintf(name, cap, "%s", tmpdir);
	for (int i = 0; i < 23; i++) {
		ck_assert_int_eq(mkdir(comp, 0700), 0);
		ck_assert_int_eq(chdir(comp), 0);
		len += (size_t)snprintf(name + len, cap - len, "/%s", comp);
	}
	ck_assert_uint_gt(len, PATH_MAX);
	return len;
}

/* nftw (unit_rmtree) gives up past PATH_MAX: rm does not. */
static void
leave_deep(int home)
{
	char cmd[PATH_MAX + 64];

	ck_assert_int_eq(fchdir(home), 0);
	close(home);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/d*", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(name_past_path_max)
{
	static char want[8192];
	char comp[201], rel[512];
	struct roar_path *p;
	struct stat st;
	uint64_t drops = roar_transport_dropped();
	int home, fd;
	size_t len = enter_deep(&home, want, sizeof(want) - 16);

	fd = open("leaf", O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	/* The kernel cannot say this name ... */
	ck_assert_int_eq(roar_fdtable_name(fd), ROAR_FD_IGNORED);
	ck_assert_uint_eq(roar_transport_dropped(), drops + 1);
	/* ... but what the open was given can. */
	p = (struct roar_path *)roar_fdtable_name_at(fd, &st, AT_FDCWD, "leaf");
	ck_assert_uint_gt((uintptr_t)p, ROAR_FD_IGNORED);
	snprintf(want + len, sizeof(want) - len, "/leaf");
	ck_assert_uint_eq(p->len, len + 5);
	ck_assert_str_eq(p->path, want);
	ck_assert_uint_eq(p->ino, (uint64_t)st.st_ino);
	/* From a directory above, through a name with "." and "..". */
	memset(comp, 'd', 200);
	comp[200] = '\0';
	snprintf(rel, sizeof(rel), "./../%s/%s/leaf", comp, comp);
	ck_assert_int_eq(chdir(".."), 0);
	p = (struct roar_path *)roar_fdtable_name_at(fd, &st, AT_FDCWD, rel);
	ck_assert_uint_gt((uintptr_t)p, ROAR_FD_IGNORED);
	ck_assert_str_eq(p->path, want);
	ck_assert_uint_eq(roar_transport_dropped(), drops + 1);
	close(fd);
	leave_deep(home);
}
END_TEST

START_TEST(name_past_path_max_through_symlink_counted)
{
	static char want[8192];
	struct stat st;
	uint64_t drops = roar_transport_dropped();
	int home, fd;

	enter_deep(&home, want, sizeof(want) - 16);
	fd = open("leaf", O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(symlink("leaf", "link"), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	/* The last component is a link, not the file: not guessed, and
	 * counted as a lost event. */
	ck_assert_int_eq(roar_fdtable_name_at(fd, &st, AT_FDCWD, "link"),
			 ROAR_FD_IGNORED);
	ck_assert_uint_eq(roar_transport_dropped(), drops + 1);
	close(fd);
	leave_deep(home);
}
END_TEST

static Suite *
fdtable_suite(void)
{
	Suite *s = suite_create("fdtable");
	TCase *slots = tcase_create("slots");
	TCase *intern = tcase_create("intern");
	TCase *resolve = tcase_create("resolve");

	tcase_add_checked_fixture(slots, setup, teardown);
	tcase_add_test(slots, set_lookup_across_chunks);
	tcase_add_test(slots, fd_max_edge);
	tcase_add_test(slots, forget_range);
	tcase_add_test(slots, set_unknown_allocates_nothing);
	tcase_add_test(slots, reset_forgets_fds);
	suite_add_tcase(s, slots);

	tcase_add_checked_fixture(intern, setup, teardown);
	tcase_add_test(intern, intern_same_and_different);
	tcase_add_test(intern, intern_many_and_huge);
	tcase_add_test(intern, claim_once_per_credit);
	tcase_add_test(intern, claim_again_after_fork_generation);
	tcase_add_test(intern, generation_wraps_past_zero);
	tcase_add_test(intern, unclaim_allows_retry);
	tcase_add_test(intern, claim_and_intern_race);
	tcase_add_test(intern, fork_child_generation);
	tcase_set_timeout(intern, 30);
	suite_add_tcase(s, intern);

	tcase_add_checked_fixture(resolve, setup, teardown);
	tcase_add_test(resolve, resolve_regular_file);
	tcase_add_test(resolve, resolve_relative_and_dotted);
	tcase_add_test(resolve, resolve_through_symlink);
	tcase_add_test(resolve, resolve_odd_bytes_in_name);
	tcase_add_test(resolve, resolve_pipe_record_dir_dev_ignored);
	tcase_add_test(resolve, resolve_pseudo_fs_ignored);
	tcase_add_test(resolve, name_does_not_cache);
	tcase_add_test(resolve, resolve_unlinked_file_ignored);
	tcase_add_test(resolve, resolve_closed_fd);
	tcase_add_test(resolve, resolve_high_fd);
	tcase_add_test(resolve, get_resolves_unknown_slot);
	tcase_add_test(resolve, name_past_path_max);
	tcase_add_test(resolve, name_past_path_max_through_symlink_counted);
	suite_add_tcase(s, resolve);

	{
		/* Regressions: each was a bug these tests found. */
		TCase *bugs = tcase_create("regressions");

		tcase_add_checked_fixture(bugs, setup, teardown);
		tcase_add_test(
			bugs, regression_resolve_closed_fd_leaves_slot_unknown);
		suite_add_tcase(s, bugs);
	}
	return s;
}

int
main(void)
{
	return unit_run(fdtable_suite());
}
