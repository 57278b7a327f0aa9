/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the openat2 fast path (preload/open_canon.c): which names
 * are their own canonical name, a canonical name opened and recorded
 * under that name with its open credit, a symlink anywhere on the way
 * and relative or dotted names left to the caller's own open (errno
 * kept), failures passed through with openat's errno, a directory
 * ignored, and O_LARGEFILE set as openat sets it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "open_canon.h"
#include "unit_fdtable.h"

/* The kernel's O_LARGEFILE, which glibc spells 0 on x86_64. */
#if defined(__x86_64__)
#define KERNEL_O_LARGEFILE 0100000
#elif defined(__aarch64__)
#define KERNEL_O_LARGEFILE 0400000
#endif

static int
canon_open(const char *path, int flags, size_t *len)
{
	return roar_canon_open(AT_FDCWD, path, flags, 0644, len);
}

START_TEST(canonical_forms)
{
	static const char *yes[] = { "/a", "/a/b", "/a/.b", "/a/..b", "/a/b." };
	static const char *no[] = { "a",     "/",      "/a/",  "//a",
				    "/a//b", "/a/./b", "/a/.", "/a/../b",
				    "/a/..", "" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(roar_canonical_form(yes[i], strlen(yes[i])), "%s",
			      yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(!roar_canonical_form(no[i], strlen(no[i])), "%s",
			      no[i]);
}
END_TEST

START_TEST(canonical_name_recorded)
{
	char dir[PATH_MAX], file[PATH_MAX];
	struct roar_path *p;
	size_t len = 0;
	int fd, fl;

	ck_assert_ptr_nonnull(realpath(tmpdir, dir));
	snprintf(file, sizeof(file), "%s/data", dir);
	errno = 1234;
	fd = canon_open(file, O_RDWR | O_CREAT | O_EXCL, &len);
	if (fd == ROAR_CANON_NONE)
		return; /* no openat2 here (old kernel, seccomp) */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(errno, 1234);
	ck_assert_uint_eq(len, strlen(file));
	fl = fcntl(fd, F_GETFL);
#ifdef KERNEL_O_LARGEFILE
	ck_assert_int_ne(fl & KERNEL_O_LARGEFILE, 0);
#endif
	ck_assert_int_eq(fl & O_ACCMODE, O_RDWR);
	roar_canon_track(fd, file, len, O_RDWR | O_CREAT | O_EXCL, true);
	p = (struct roar_path *)roar_fdtable_lookup(fd);
	ck_assert_uint_gt((uintptr_t)p, ROAR_FD_IGNORED);
	ck_assert_str_eq(p->path, file);
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_WRITE));
	close(fd);

	/* Again read-only: the same record, now with its read credit. */
	fd = canon_open(file, O_RDONLY, &len);
	ck_assert_int_ge(fd, 0);
	roar_canon_track(fd, file, len, O_RDONLY, false);
	ck_assert_ptr_eq((void *)roar_fdtable_lookup(fd), p);
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_READ));
	close(fd);

	/* Once more: every credit sent, the record is reused as it is. */
	fd = canon_open(file, O_RDONLY, &len);
	ck_assert_int_ge(fd, 0);
	roar_canon_track(fd, file, len, O_RDONLY, false);
	ck_assert_ptr_eq((void *)roar_fdtable_lookup(fd), p);
	close(fd);

	/* A directory is nothing to credit. */
	fd = canon_open(dir, O_RDONLY | O_DIRECTORY, &len);
	ck_assert_int_ge(fd, 0);
	roar_canon_track(fd, dir, len, O_RDONLY | O_DIRECTORY, false);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_IGNORED);
	close(fd);
	fd = canon_open(dir, O_RDONLY, &len);
	ck_assert_int_ge(fd, 0);
	roar_canon_track(fd, dir, len, O_RDONLY, false);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_IGNORED);
	close(fd);
}
END_TEST

START_TEST(left_to_the_caller)
{
	char dir[PATH_MAX], path[PATH_MAX];
	size_t len = 0;
	int fd;

	ck_assert_ptr_nonnull(realpath(tmpdir, dir));
	snprintf(path, sizeof(path), "%s/real", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/real/f", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/real/f", dir);
	fd = canon_open(path, O_RDONLY, &len);
	if (fd == ROAR_CANON_NONE)
		return;
	close(fd);

	/* A symlink as a directory and as the last component, twice (the
	 * second time from the cache of such names). */
	snprintf(path, sizeof(path), "%s/link", dir);
	ck_assert_int_eq(symlink("real", path), 0);
	snprintf(path, sizeof(path), "%s/flink", dir);
	ck_assert_int_eq(symlink("real/f", path), 0);
	for (int round = 0; round < 2; round++) {
		errno = 77;
		snprintf(path, sizeof(path), "%s/link/f", dir);
		ck_assert_int_eq(canon_open(path, O_RDONLY, &len),
				 ROAR_CANON_NONE);
		ck_assert_int_eq(errno, 77);
		snprintf(path, sizeof(path), "%s/flink", dir);
		ck_assert_int_eq(canon_open(path, O_RDONLY | O_CREAT, &len),
				 ROAR_CANON_NONE);
		ck_assert_int_eq(errno, 77);
	}
	/* Relative, dotted, O_PATH, O_TMPFILE, kernel-made. */
	ck_assert_int_eq(canon_open("f", O_RDONLY, &len), ROAR_CANON_NONE);
	snprintf(path, sizeof(path), "%s/real/./f", dir);
	ck_assert_int_eq(canon_open(path, O_RDONLY, &len), ROAR_CANON_NONE);
	snprintf(path, sizeof(path), "%s/real/f", dir);
	ck_assert_int_eq(canon_open(path, O_PATH, &len), ROAR_CANON_NONE);
	ck_assert_int_eq(canon_open(dir, O_TMPFILE | O_RDWR, &len),
			 ROAR_CANON_NONE);
	ck_assert_int_eq(canon_open("/proc/self/status", O_RDONLY, &len),
			 ROAR_CANON_NONE);
	ck_assert_int_eq(errno, 77);

	/* A failure is openat's. */
	snprintf(path, sizeof(path), "%s/real/none", dir);
	ck_assert_int_eq(canon_open(path, O_RDONLY, &len), -1);
	ck_assert_int_eq(errno, ENOENT);
	snprintf(path, sizeof(path), "%s/real/f/x", dir);
	ck_assert_int_eq(canon_open(path, O_RDONLY, &len), -1);
	ck_assert_int_eq(errno, ENOTDIR);
	snprintf(path, sizeof(path), "%s/real/f", dir);
	ck_assert_int_eq(canon_open(path, O_RDONLY | O_CREAT | O_EXCL, &len),
			 -1);
	ck_assert_int_eq(errno, EEXIST);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("open_canon");

	unit_tcase(s, "canon", setup, teardown,
		   UNIT_TESTS(canonical_forms, canonical_name_recorded,
			      left_to_the_caller));
	return unit_run(s);
}
