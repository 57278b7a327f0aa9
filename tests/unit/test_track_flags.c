/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the track layer's reading of its callers' arguments
 * (preload/track_file.c, track_proc.c): fopen modes as open flags, which
 * opens need an existence probe to tell whether they created the file,
 * the probe itself, and counting a NULL-terminated vector.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "unit_track.h"

START_TEST(fopen_flags)
{
	static const struct {
		const char *mode;
		int flags;
	} cases[] = {
		{ "r", O_RDONLY },
		{ "rb", O_RDONLY },
		{ "re", O_RDONLY },
		{ "rm", O_RDONLY },
		{ "rbe", O_RDONLY },
		{ "r+", O_RDWR },
		{ "rb+", O_RDWR },
		{ "r+b", O_RDWR },
		{ "r+e", O_RDWR },
		{ "w", O_WRONLY | O_CREAT | O_TRUNC },
		{ "wb", O_WRONLY | O_CREAT | O_TRUNC },
		{ "we", O_WRONLY | O_CREAT | O_TRUNC },
		{ "w+", O_RDWR | O_CREAT | O_TRUNC },
		{ "w+b", O_RDWR | O_CREAT | O_TRUNC },
		{ "wx", O_WRONLY | O_CREAT | O_TRUNC | O_EXCL },
		{ "w+x", O_RDWR | O_CREAT | O_TRUNC | O_EXCL },
		{ "wbx", O_WRONLY | O_CREAT | O_TRUNC | O_EXCL },
		{ "a", O_WRONLY | O_CREAT | O_APPEND },
		{ "ab", O_WRONLY | O_CREAT | O_APPEND },
		{ "a+", O_RDWR | O_CREAT | O_APPEND },
		{ "a+b", O_RDWR | O_CREAT | O_APPEND },
		{ "w,ccs=UTF-8", O_WRONLY | O_CREAT | O_TRUNC },
		/* Nothing after the ccs= part counts. */
		{ "r,ccs=x+", O_RDONLY },
		/* "" is in bug_fopen_flags_empty_mode. */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* O_CLOEXEC ("e") is irrelevant to what an open earns. */
		int got = roar_track_fopen_flags(cases[i].mode) & ~O_CLOEXEC;

		ck_assert_msg(got == cases[i].flags,
			      "mode \"%s\": got %#o, want %#o", cases[i].mode,
			      got, cases[i].flags);
	}
	ck_assert_int_eq(roar_track_fopen_flags(NULL), O_RDONLY);
}
END_TEST

/*
 * Was a bug (fixed, kept as a regression test): track.c
 * roar_track_fopen_flags() starts its modifier loop at mode + 1 without
 * checking mode[0], so an empty mode string ("", which fopen rejects with
 * EINVAL) is read one byte past its terminator: ASan reports a
 * global-buffer-overflow at track.c:132.  The hooks call it before the real
 * fopen (fopen_probe), so fopen(path, "") in a traced program over-reads.
 * Expected: O_RDONLY and no out-of-bounds read. Fix: return early when !mode[0]
 * (or loop from mode while skipping the first character only when it is there).
 */
START_TEST(regression_fopen_flags_empty_mode)
{
	/* Heap-allocated so that ASan sees the byte after the NUL. */
	char *mode = calloc(1, 1);

	ck_assert_ptr_nonnull(mode);
	ck_assert_int_eq(roar_track_fopen_flags(mode) & ~O_CLOEXEC, O_RDONLY);
	free(mode);
}
END_TEST

START_TEST(open_needs_probe_matrix)
{
	static const struct {
		int flags;
		bool probe;
	} cases[] = {
		{ O_RDONLY, false },
		{ O_WRONLY, false },
		{ O_RDWR, false },
		{ O_RDONLY | O_CREAT, true },
		{ O_RDWR | O_CREAT, true },
		/* Write-only already earns a write credit. */
		{ O_WRONLY | O_CREAT, false },
		/* O_EXCL: a success means created. */
		{ O_RDWR | O_CREAT | O_EXCL, false },
		{ O_RDONLY | O_CREAT | O_EXCL, false },
		/* O_TRUNC and O_APPEND already earn a write credit. */
		{ O_RDWR | O_CREAT | O_TRUNC, false },
		{ O_RDWR | O_CREAT | O_APPEND, false },
		{ O_RDONLY | O_CREAT | O_TRUNC, false },
		{ O_RDWR | O_CREAT | O_CLOEXEC, true },
		{ O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK, true },
		{ O_RDWR | O_TRUNC, false },
		{ O_RDONLY | O_DIRECTORY, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(roar_track_open_needs_probe(cases[i].flags) ==
				      cases[i].probe,
			      "flags %#o", cases[i].flags);
}
END_TEST

START_TEST(open_probe)
{
	char file[PATH_MAX];
	int fd, dfd;

	snprintf(file, sizeof(file), "%s/exists", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert(!roar_track_open_probe(AT_FDCWD, file));
	snprintf(file, sizeof(file), "%s/missing", tmpdir);
	ck_assert(roar_track_open_probe(AT_FDCWD, file));
	ck_assert(!roar_track_open_probe(AT_FDCWD, NULL));
	/* Relative to a directory fd. */
	dfd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	ck_assert(!roar_track_open_probe(dfd, "exists"));
	ck_assert(roar_track_open_probe(dfd, "missing"));
	close(dfd);
	/* A dangling symlink: O_CREAT would create its target. */
	snprintf(file, sizeof(file), "%s/dangling", tmpdir);
	ck_assert_int_eq(symlink("nowhere", file), 0);
	ck_assert(roar_track_open_probe(AT_FDCWD, file));
}
END_TEST

START_TEST(count)
{
	char *const v[] = { "a", "b", "c", NULL };
	char *const e[] = { NULL };

	ck_assert_uint_eq(roar_track_count(v), 3);
	ck_assert_uint_eq(roar_track_count(e), 0);
	ck_assert_uint_eq(roar_track_count(NULL), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("track_flags");

	unit_tcase(s, "flags", setup, teardown,
		   UNIT_TESTS(fopen_flags, open_needs_probe_matrix, open_probe,
			      count));
	/* Regressions: each was a bug these tests found. */
	unit_tcase(s, "regressions", setup, teardown,
		   UNIT_TESTS(regression_fopen_flags_empty_mode));
	return unit_run(s);
}
