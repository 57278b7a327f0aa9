/* SPDX-License-Identifier: Apache-2.0 */
/*
 * E1/E3 tests of the open hooks (hooks_open.c): open, openat, __open_2,
 * creat and fopen pass errors through whether or not an existence probe
 * runs before them, keep the caller's errno on success while crediting
 * what a created file earns, and fclose passes through.
 */
#include "config.h"

#include <stdint.h>

#include "open_canon.h"
#include "unit_hooks.h"

START_TEST(open_errors_pass_through)
{
	static const int errs[] = { ENOENT, EACCES, EINTR, EMFILE, ENOTDIR };
	char path[PATH_MAX];
	struct outcome o;

	snprintf(path, sizeof(path), "%s/nope", tmpdir);
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		expect(fake_open, -1, errs[i]);
		CALL_HOOK(o, 0, open(path, O_RDONLY));
		check_outcome(&o, -1, errs[i]);
		ck_assert_ptr_eq(F.path, path);
		ck_assert_int_eq(F.flags, O_RDONLY);

		/* With the existence probe in front of the real call. */
		expect(fake_open, -1, errs[i]);
		CALL_HOOK(o, 1234, open(path, O_RDWR | O_CREAT, 0640));
		check_outcome(&o, -1, errs[i]);
		ck_assert_int_eq(F.entry_errno, 1234);
		ck_assert_int_eq(F.mode, 0640);

		expect(fake_openat, -1, errs[i]);
		CALL_HOOK(o, 0,
			  openat(AT_FDCWD, path, O_WRONLY | O_CREAT, 0600));
		check_outcome(&o, -1, errs[i]);
		ck_assert_int_eq(F.fd, AT_FDCWD);
		ck_assert_int_eq(F.mode, 0600);

		expect(fake_open_2, -1, errs[i]);
		CALL_HOOK(o, 0, __open_2(path, O_RDONLY));
		check_outcome(&o, -1, errs[i]);

		expect(fake_creat, -1, errs[i]);
		CALL_HOOK(o, 0, creat(path, 0600));
		check_outcome(&o, -1, errs[i]);
	}
}
END_TEST

START_TEST(open_success_keeps_errno)
{
	char path[PATH_MAX];
	struct outcome o;
	struct roar_path *p;

	/* O_CREAT on a new name: the probe (faccessat) fails with ENOENT
	 * and the real call runs; neither may show in errno. */
	snprintf(path, sizeof(path), "%s/created", tmpdir);
	expect(fake_open, 0, 0);
	F.open_for_real = true;
	CALL_HOOK(o, 1234, open(path, O_RDWR | O_CREAT, 0640));
	ck_assert_int_ge(o.ret, 0);
	check_outcome(&o, F.ret, 1234);
	ck_assert_int_eq(F.entry_errno, 1234);
	ck_assert_int_eq(F.flags, O_RDWR | O_CREAT);
	ck_assert_int_eq(F.mode, 0640);
	/* It was created: a write credit. */
	p = (struct roar_path *)roar_fdtable_lookup((int)o.ret);
	ck_assert_uint_gt((uintptr_t)p, ROAR_FD_IGNORED);
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_WRITE));
	ck_assert(roar_path_wants(p, ROAR_CREDIT_READ));
	close((int)o.ret);

	/* The same name again: it exists, O_RDWR earns nothing. */
	roar_intern_atfork_child(); /* forget the credits */
	expect(fake_open, 0, 0);
	F.open_for_real = true;
	CALL_HOOK(o, 1234, open(path, O_RDWR | O_CREAT, 0640));
	check_outcome(&o, F.ret, 1234);
	p = (struct roar_path *)roar_fdtable_lookup((int)o.ret);
	ck_assert(roar_path_wants(p, ROAR_CREDIT_WRITE));
	ck_assert(roar_path_wants(p, ROAR_CREDIT_READ));
	close((int)o.ret);

	/* Read-only: a read credit, errno kept. */
	expect(fake_openat, 0, 0);
	F.open_for_real = true;
	CALL_HOOK(o, 77, openat(AT_FDCWD, path, O_RDONLY));
	check_outcome(&o, F.ret, 77);
	p = (struct roar_path *)roar_fdtable_lookup((int)o.ret);
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_READ));
	close((int)o.ret);
}
END_TEST

START_TEST(open_success_on_fd_we_cannot_resolve)
{
	/* A fake that hands out a number that is not open. */
	struct outcome o;

	expect(fake_open, 955, 0);
	CALL_HOOK(o, 1234, open("/whatever", O_RDONLY));
	check_outcome(&o, 955, 1234);
}
END_TEST

START_TEST(fopen_passes_through)
{
	char path[PATH_MAX];
	struct outcome o;

	snprintf(path, sizeof(path), "%s/f", tmpdir);
	expect(fake_fopen, 0, ENOENT);
	CALL_HOOK(o, 0, (intptr_t)fopen(path, "r"));
	check_outcome(&o, 0, ENOENT);
	ck_assert_ptr_eq(F.path, path);
	ck_assert_str_eq(F.fmode, "r");

	/* "r+" with no O_CREAT: no probe; "a+" creates: probe runs. */
	expect(fake_fopen, 0, EACCES);
	CALL_HOOK(o, 1234, (intptr_t)fopen(path, "a+"));
	check_outcome(&o, 0, EACCES);
	ck_assert_int_eq(F.entry_errno, 1234);
}
END_TEST

START_TEST(fclose_passes_through)
{
	/* The fake does not close f, which the compiler cannot know. */
	int (*volatile hook_fclose)(FILE *) = fclose;
	FILE *f = fopen("/dev/null", "r");
	struct outcome o;

	ck_assert_ptr_nonnull(f);
	expect(fake_fclose, EOF, EIO);
	CALL_HOOK(o, 0, hook_fclose(f));
	check_outcome(&o, EOF, EIO);
	expect(fake_fclose, 0, 0);
	CALL_HOOK(o, 1234, hook_fclose(f));
	check_outcome(&o, 0, 1234);
	hook_fclose(f); /* for real */
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hooks_open");

	/* The fakes stand for open and openat: keep openat2 out of it
	 * (test_open_canon.c tests that path). */
	roar_canon_set_state(-1);

	unit_tcase(s, "open", setup, teardown,
		   UNIT_TESTS(open_errors_pass_through,
			      open_success_keeps_errno,
			      open_success_on_fd_we_cannot_resolve,
			      fopen_passes_through, fclose_passes_through));
	return unit_run(s);
}
