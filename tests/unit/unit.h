/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared scaffolding of the unit suites: building and running one check
 * Suite with TAP on stdout (meson's protocol: 'tap'), temporary
 * directories and the files and sockets tests make in them.  Tests named regression_* pin bugs these suites once
 * found.  Tests named bug_* show a bug the code under test still has
 * (each says which, in a BUG comment): they are registered only when
 * ROAR_UNIT_BUGS is set, so the suite stays green while
 * `ROAR_UNIT_BUGS=1 meson test --suite unit` shows them failing; once
 * fixed, a bug_ test becomes a regression_ one.
 */
#ifndef ROAR_UNIT_H
#define ROAR_UNIT_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>

/** Whether tests showing known, unfixed bugs should be registered. */
static inline bool
unit_want_bugs(void)
{
	const char *v = getenv("ROAR_UNIT_BUGS");

	return v && *v;
}

/**
 * Run s with TAP on stdout and nothing else there (CK_SILENT), so that
 * meson's TAP parser sees only TAP.  CK_FORK stays at its default (the
 * valgrind setup sets CK_FORK=no).
 * @return the process exit status
 */
static inline int
unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/** The NULL-terminated list of tests unit_tcase takes: UNIT_TESTS(a, b). */
#define UNIT_TESTS(...) ((const TTest *const[]){ __VA_ARGS__, NULL })

/**
 * Add to s a TCase named name holding tests (UNIT_TESTS), each run
 * between setup and teardown when they are given (a checked fixture:
 * in the test's own process).
 * @return the TCase, for tcase_set_timeout
 */
static inline TCase *
unit_tcase(Suite *s, const char *name, SFun setup, SFun teardown,
	   const TTest *const *tests)
{
	TCase *tc = tcase_create(name);

	if (setup || teardown)
		tcase_add_checked_fixture(tc, setup, teardown);
	for (; *tests; tests++)
		tcase_add_test(tc, *tests);
	suite_add_tcase(s, tc);
	return tc;
}

/** Make a fresh private directory under $TMPDIR (or /tmp) into dir. */
static inline void
unit_mkdtemp(char *dir, size_t cap, const char *tag)
{
	const char *base = getenv("TMPDIR");

	snprintf(dir, cap, "%s/roar-unit-%s-XXXXXX",
		 base && *base ? base : "/tmp", tag);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline int
unit_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/** Remove dir and everything below it (no symlinks followed). */
static inline void
unit_rmtree(const char *dir)
{
	if (dir[0])
		nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/** Open dir/name with flags, making it (mode 0644) if it is not there. */
static inline int
unit_open_in(const char *dir, const char *name, int flags)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, flags | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	return fd;
}

/**
 * A listening AF_UNIX stream socket bound at dir/sock, whose name goes
 * into path (cap bytes), with backlog pending connections at most.
 * @return the socket
 */
static inline int
unit_listen_in(const char *dir, char *path, size_t cap, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(path, cap, "%s/sock", dir);
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, backlog), 0);
	return fd;
}

#endif /* ROAR_UNIT_H */
