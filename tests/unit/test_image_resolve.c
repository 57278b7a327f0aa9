/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of roar_image_resolve (common/image.c): the file execvp
 * would run for a name and a PATH (missing, directory and not executable
 * candidates skipped, empty and relative elements, names with a slash, no
 * PATH at all), asked of /bin/sh's exec too.
 */
#include "config.h"

#include <fcntl.h>

#include "unit_image.h"

START_TEST(resolve_like_execvp)
{
	char out[PATH_MAX], pathvar[4 * PATH_MAX], small[PATH_MAX];
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const struct roar_image_io *io = &roar_image_io_libc;

	ck_assert_int_ge(here, 0);
	ck_assert_int_eq(mkdir(at("a"), 0755), 0);
	ck_assert_int_eq(mkdir(at("b"), 0755), 0);
	ck_assert_int_eq(mkdir(at("d"), 0755), 0);
	ck_assert_int_eq(mkdir(at("d/prog"), 0755), 0);
	write_text(at("a/prog"), "#!/bin/sh\nexit 5\n", 0644);
	write_text(at("b/prog"), "#!/bin/sh\nexit 7\n", 0755);

	/* Missing, a directory, not executable: skipped, like execvp. */
	snprintf(pathvar, sizeof(pathvar), "%s:%s:%s:%s", at("missing"),
		 at("d"), at("a"), at("b"));
	ck_assert_int_eq(
		roar_image_resolve(io, "prog", pathvar, out, sizeof(out)), 0);
	ck_assert_str_eq(out, at("b/prog"));
	ck_assert(
		run("PATH='%s' /bin/sh -c 'exec prog'; test $? = 7", pathvar));
	/* Only not executable ones: EACCES, naming the first. */
	snprintf(pathvar, sizeof(pathvar), "%s:%s:%s", at("missing"), at("a"),
		 at("d"));
	ck_assert_int_eq(
		roar_image_resolve(io, "prog", pathvar, out, sizeof(out)),
		-EACCES);
	ck_assert_str_eq(out, at("a/prog"));
	ck_assert_int_eq(
		roar_image_resolve(io, "prog", at("missing"), out, sizeof(out)),
		-ENOENT);
	ck_assert_int_eq(roar_image_resolve(io, "", pathvar, out, sizeof(out)),
			 -ENOENT);

	/* An empty element, first, inner or last: the working directory. */
	ck_assert_int_eq(chdir(at("b")), 0);
	ck_assert_int_eq(roar_image_resolve(io, "prog", ":/nonexistent", out,
					    sizeof(out)),
			 0);
	ck_assert_str_eq(out, "./prog");
	ck_assert_int_eq(roar_image_resolve(io, "prog", "/nonexistent::/x", out,
					    sizeof(out)),
			 0);
	ck_assert_str_eq(out, "./prog");
	ck_assert_int_eq(roar_image_resolve(io, "prog", "/nonexistent:", out,
					    sizeof(out)),
			 0);
	ck_assert_int_eq(roar_image_resolve(io, "prog", "", out, sizeof(out)),
			 0);
	ck_assert_str_eq(out, "./prog");
	/* A relative element is taken from the working directory. */
	ck_assert_int_eq(
		roar_image_resolve(io, "prog", "../a:../b", out, sizeof(out)),
		0);
	ck_assert_str_eq(out, "../b/prog");
	ck_assert_int_eq(fchdir(here), 0);
	close(here);

	/* A name with a slash is not searched for. */
	ck_assert_int_eq(roar_image_resolve(io, at("b/prog"), "/nonexistent",
					    out, sizeof(out)),
			 0);
	ck_assert_str_eq(out, at("b/prog"));
	ck_assert_int_eq(
		roar_image_resolve(io, at("a/prog"), NULL, out, sizeof(out)),
		-EACCES);
	ck_assert_int_eq(
		roar_image_resolve(io, at("none"), NULL, out, sizeof(out)),
		-ENOENT);
	/* No PATH: glibc's /bin:/usr/bin. */
	ck_assert_int_eq(roar_image_resolve(io, "sh", NULL, out, sizeof(out)),
			 0);
	ck_assert_msg(!strcmp(out, "/bin/sh") || !strcmp(out, "/usr/bin/sh"),
		      "%s", out);
	/* A candidate too long for out is skipped. */
	snprintf(pathvar, sizeof(pathvar), "%s/%0200d:%s", dir, 0, at("b"));
	ck_assert_int_eq(roar_image_resolve(io, "prog", pathvar, small,
					    strlen(at("b/prog")) + 1),
			 0);
	ck_assert_str_eq(small, at("b/prog"));
}
END_TEST

static Suite *
image_resolve_suite(void)
{
	Suite *s = suite_create("image_resolve");
	TCase *use = tcase_create("use");

	tcase_add_checked_fixture(use, setup, teardown);
	tcase_add_test(use, resolve_like_execvp);
	suite_add_tcase(s, use);
	return s;
}

int
main(void)
{
	return unit_run(image_resolve_suite());
}
