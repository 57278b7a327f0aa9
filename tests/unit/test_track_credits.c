/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the credits the track layer claims (preload/track_file.c,
 * track_syscall.c): which kind of open earns a read or a write,
 * directories and pipes earning none, bytes moving on an fd (one it never
 * saw opening included), dup, close and close_range bookkeeping, names
 * (rename, truncate, links), mmap's protections and sharing, and raw
 * syscall(2)s decoded.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "unit_track.h"

static struct roar_path *
path_of(int fd)
{
	uintptr_t v = roar_fdtable_lookup(fd);

	ck_assert_uint_gt(v, ROAR_FD_IGNORED);
	return (struct roar_path *)v;
}

/* With no socket configured, the credits are still claimed: that is
 * what decides whether an event would go out. */
START_TEST(open_credits)
{
	static const struct {
		int flags;
		bool created;
		bool read;
		bool write;
	} cases[] = {
		{ O_RDONLY, false, true, false },
		{ O_WRONLY, false, false, true },
		{ O_RDWR, false, false, false },
		{ O_RDWR | O_TRUNC, false, false, true },
		{ O_RDWR | O_APPEND, false, false, true },
		{ O_RDWR | O_CREAT, true, false, true },
		{ O_RDWR | O_CREAT, false, false, false },
		{ O_RDONLY | O_CREAT, true, false, true },
		{ O_RDWR | O_CREAT | O_EXCL, false, false, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];
		struct roar_path *p;
		int fd;

		snprintf(name, sizeof(name), "credit-%zu", i);
		fd = open_file(name, O_RDWR);
		roar_track_open(fd, cases[i].flags, cases[i].created);
		p = path_of(fd);
		ck_assert_msg(roar_path_wants(p, ROAR_CREDIT_READ) ==
				      !cases[i].read,
			      "case %zu read", i);
		ck_assert_msg(roar_path_wants(p, ROAR_CREDIT_WRITE) ==
				      !cases[i].write,
			      "case %zu write", i);
		close(fd);
	}
}
END_TEST

START_TEST(open_of_directory_and_pipe_earns_nothing)
{
	int p[2], d;

	d = open(tmpdir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(d, 0);
	roar_track_open(d, O_RDONLY, false);
	ck_assert_uint_eq(roar_fdtable_lookup(d), ROAR_FD_IGNORED);
	close(d);
	/* A FIFO opened for writing is a pipe record, and its open earns
	 * no file credit. */
	ck_assert_int_eq(pipe(p), 0);
	roar_track_open(p[1], O_WRONLY, false);
	ck_assert(roar_path_is_pipe(
		(struct roar_path *)roar_fdtable_lookup(p[1])));
	ck_assert(roar_path_wants((struct roar_path *)roar_fdtable_lookup(p[1]),
				  ROAR_CREDIT_WRITE));
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(fd_credit_and_bookkeeping)
{
	int fd = open_file("rw", O_RDWR), fd2;
	struct roar_path *p;

	/* O_RDWR earns nothing until bytes move. */
	roar_track_open(fd, O_RDWR, false);
	p = path_of(fd);
	ck_assert(roar_path_wants(p, ROAR_CREDIT_READ));
	roar_track_fd(fd, ROAR_CREDIT_READ);
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_READ));
	ck_assert(roar_path_wants(p, ROAR_CREDIT_WRITE));
	roar_track_fd(fd, ROAR_CREDIT_WRITE);
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_WRITE));

	/* dup copies the slot; forget clears one slot only. */
	fd2 = dup(fd);
	ck_assert_int_ge(fd2, 0);
	roar_track_dup(fd, fd2);
	ck_assert_uint_eq(roar_fdtable_lookup(fd2), (uintptr_t)p);
	roar_track_forget(fd);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(fd2), (uintptr_t)p);
	roar_track_not_a_file(fd2);
	ck_assert_uint_eq(roar_fdtable_lookup(fd2), ROAR_FD_IGNORED);
	/* An ignored fd earns nothing and resolves nothing. */
	roar_track_fd(fd2, ROAR_CREDIT_READ);
	ck_assert_uint_eq(roar_fdtable_lookup(fd2), ROAR_FD_IGNORED);
	close(fd);
	close(fd2);
}
END_TEST

START_TEST(fd_credit_learns_unknown_fd)
{
	/* An fd inherited across exec (never seen opening): the first
	 * read resolves and credits it. */
	int fd = open_file("inherited", O_RDONLY);
	struct roar_path *p;

	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	roar_track_fd(fd, ROAR_CREDIT_READ);
	p = path_of(fd);
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_READ));
	ck_assert(roar_path_wants(p, ROAR_CREDIT_WRITE));
	close(fd);
}
END_TEST

START_TEST(open_refreshes_stale_slot)
{
	/* The slot of a number reused behind our back names the old file;
	 * an open learns afresh. */
	int fd = open_file("old", O_RDONLY), fd2;
	struct roar_path *old;

	roar_track_open(fd, O_RDONLY, false);
	old = path_of(fd);
	close(fd);
	fd2 = open_file("new", O_RDONLY);
	ck_assert_int_eq(fd2, fd);
	roar_track_open(fd2, O_RDONLY, false);
	ck_assert_ptr_ne(path_of(fd2), old);
	ck_assert(!roar_path_wants(path_of(fd2), ROAR_CREDIT_READ));
	close(fd2);
}
END_TEST

/* The record of the file at name in tmpdir (interned by its real path). */
static struct roar_path *
record_of(const char *name)
{
	char path[PATH_MAX], real[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(realpath(path, real));
	return roar_path_intern(real, strlen(real));
}

START_TEST(path_credit_for_names)
{
	char path[PATH_MAX], link[PATH_MAX];
	int fd = open_file("renamed", O_WRONLY);

	close(fd);
	snprintf(path, sizeof(path), "%s/renamed", tmpdir);
	roar_track_path(AT_FDCWD, path, ROAR_CREDIT_WRITE, false, "rename");
	ck_assert(!roar_path_wants(record_of("renamed"), ROAR_CREDIT_WRITE));
	ck_assert(roar_path_wants(record_of("renamed"), ROAR_CREDIT_READ));

	/* Relative to a directory fd, following a final symlink. */
	fd = open_file("target", O_WRONLY);
	close(fd);
	snprintf(link, sizeof(link), "%s/lnk", tmpdir);
	ck_assert_int_eq(symlink("target", link), 0);
	fd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	roar_track_path(fd, "lnk", ROAR_CREDIT_WRITE, true, "truncate");
	ck_assert(!roar_path_wants(record_of("target"), ROAR_CREDIT_WRITE));
	close(fd);

	/* Not following it: a symlink is not a file for the report. */
	roar_intern_atfork_child();
	roar_track_path(AT_FDCWD, link, ROAR_CREDIT_WRITE, false, "link");
	ck_assert(roar_path_wants(record_of("target"), ROAR_CREDIT_WRITE));

	/* Names that are gone or not files: nothing, and no crash. */
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	roar_track_path(AT_FDCWD, path, ROAR_CREDIT_WRITE, true, "rename");
	roar_track_path(AT_FDCWD, tmpdir, ROAR_CREDIT_WRITE, true, "rename");
	roar_track_path(AT_FDCWD, NULL, ROAR_CREDIT_WRITE, true, "rename");
	ck_assert(roar_path_wants(record_of("target"), ROAR_CREDIT_WRITE));
}
END_TEST

START_TEST(mmap_credits)
{
	static const struct {
		int prot, flags;
		bool read, write;
	} cases[] = {
		{ PROT_READ, MAP_PRIVATE, true, false },
		{ PROT_READ | PROT_WRITE, MAP_PRIVATE, true, false },
		{ PROT_READ | PROT_WRITE, MAP_SHARED, true, true },
		{ PROT_WRITE, MAP_SHARED, false, true },
		{ PROT_READ, MAP_SHARED, true, false },
		{ PROT_NONE, MAP_SHARED, false, false },
		{ PROT_EXEC, MAP_PRIVATE, false, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];
		struct roar_path *p;
		int fd;

		snprintf(name, sizeof(name), "mapped-%zu", i);
		fd = open_file(name, O_RDWR);
		roar_track_mmap(fd, cases[i].prot, cases[i].flags);
		p = record_of(name);
		ck_assert_msg(roar_path_wants(p, ROAR_CREDIT_READ) ==
				      !cases[i].read,
			      "case %zu read", i);
		ck_assert_msg(roar_path_wants(p, ROAR_CREDIT_WRITE) ==
				      !cases[i].write,
			      "case %zu write", i);
		/* As the close hook would (it passes through here). */
		close(fd);
		roar_track_forget(fd);
	}
}
END_TEST

START_TEST(raw_syscalls_decoded)
{
	char path[PATH_MAX];
	long a[6] = { 0 };
	int fd = open_file("raw", O_RDWR);

	/* read(fd, ...) = 5 */
	a[0] = fd;
	roar_track_syscall(SYS_read, a, 5, false);
	ck_assert(!roar_path_wants(record_of("raw"), ROAR_CREDIT_READ));
	ck_assert(roar_path_wants(record_of("raw"), ROAR_CREDIT_WRITE));
	/* write(fd, ...) = 0 moves nothing. */
	roar_track_syscall(SYS_write, a, 0, false);
	ck_assert(roar_path_wants(record_of("raw"), ROAR_CREDIT_WRITE));
	roar_track_syscall(SYS_pwrite64, a, 3, false);
	ck_assert(!roar_path_wants(record_of("raw"), ROAR_CREDIT_WRITE));
	/* close(fd) forgets the slot. */
	roar_track_syscall(SYS_close, a, 0, false);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	close(fd);

	/* openat(AT_FDCWD, path, O_RDONLY) = fd */
	fd = open_file("raw2", O_RDONLY);
	snprintf(path, sizeof(path), "%s/raw2", tmpdir);
	a[0] = AT_FDCWD;
	a[1] = (long)path;
	a[2] = O_RDONLY;
	roar_track_syscall(SYS_openat, a, fd, false);
	ck_assert(!roar_path_wants(record_of("raw2"), ROAR_CREDIT_READ));
	close(fd);
	/* renameat(AT_FDCWD, x, AT_FDCWD, path): the target is written. */
	a[0] = AT_FDCWD;
	a[1] = (long)"/nonexistent";
	a[2] = AT_FDCWD;
	a[3] = (long)path;
	roar_track_syscall(SYS_renameat, a, 0, false);
	ck_assert(!roar_path_wants(record_of("raw2"), ROAR_CREDIT_WRITE));
}
END_TEST

START_TEST(closed_range_forgets)
{
	int fd = open_file("ranged", O_RDONLY);

	roar_track_open(fd, O_RDONLY, false);
	ck_assert_uint_gt(roar_fdtable_lookup(fd), ROAR_FD_IGNORED);
	ck_assert_int_eq(roar_fdtable_set(700, ROAR_FD_IGNORED), 0);
	roar_track_closed_range((unsigned)fd, ~0u);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(700), ROAR_FD_UNKNOWN);
	close(fd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("track_credits");

	unit_tcase(s, "credits", setup, teardown,
		   UNIT_TESTS(open_credits,
			      open_of_directory_and_pipe_earns_nothing,
			      fd_credit_and_bookkeeping,
			      fd_credit_learns_unknown_fd,
			      open_refreshes_stale_slot, path_credit_for_names,
			      mmap_credits, raw_syscalls_decoded,
			      closed_range_forgets));
	return unit_run(s);
}
