/* SPDX-License-Identifier: Apache-2.0 */
/*
 * E1/E3 tests of the descriptor hooks (hooks_open.c, hooks_fd.c,
 * hooks_stdio.c, hooks_names.c, hooks_syscall.c): close, dup, dup2, pipe,
 * socket, fread, fwrite, rename, ftruncate, mmap, fcntl and syscall(2)
 * pass errors and results through with errno kept, and do their fd table
 * bookkeeping only on success.
 */
#include "config.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "unit_hooks.h"

START_TEST(close_passes_through)
{
	static const int errs[] = { EBADF, EINTR, EIO };
	struct outcome o;

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		expect(fake_close, -1, errs[i]);
		CALL_HOOK(o, 0, close(42));
		check_outcome(&o, -1, errs[i]);
		ck_assert_int_eq(F.fd, 42);
	}
	ck_assert_int_eq(roar_fdtable_set(42, ROAR_FD_IGNORED), 0);
	expect(fake_close, 0, 0);
	CALL_HOOK(o, 1234, close(42));
	check_outcome(&o, 0, 1234);
	ck_assert_uint_eq(roar_fdtable_lookup(42), ROAR_FD_UNKNOWN);
}
END_TEST

START_TEST(dup_passes_through)
{
	struct outcome o;

	expect(fake_dup, -1, EMFILE);
	CALL_HOOK(o, 0, dup(3));
	check_outcome(&o, -1, EMFILE);
	expect(fake_dup2, -1, EBADF);
	CALL_HOOK(o, 0, dup2(3, 9));
	check_outcome(&o, -1, EBADF);
	ck_assert_int_eq(F.fd, 3);
	ck_assert_int_eq(F.fd2, 9);

	ck_assert_int_eq(roar_fdtable_set(30, ROAR_FD_IGNORED), 0);
	expect(fake_dup, 31, 0);
	CALL_HOOK(o, 1234, dup(30));
	check_outcome(&o, 31, 1234);
	ck_assert_uint_eq(roar_fdtable_lookup(31), ROAR_FD_IGNORED);
	expect(fake_dup2, 40, 0);
	CALL_HOOK(o, 1234, dup2(30, 40));
	check_outcome(&o, 40, 1234);
	ck_assert_uint_eq(roar_fdtable_lookup(40), ROAR_FD_IGNORED);
}
END_TEST

START_TEST(pipe_and_socket_pass_through)
{
	int fds[2] = { -7, -7 };
	struct outcome o;

	expect(fake_pipe, -1, EMFILE);
	CALL_HOOK(o, 0, pipe(fds));
	check_outcome(&o, -1, EMFILE);
	ck_assert_int_eq(fds[0], -7);

	F.fds_out[0] = 600;
	F.fds_out[1] = 601;
	expect(fake_pipe, 0, 0);
	CALL_HOOK(o, 1234, pipe(fds));
	check_outcome(&o, 0, 1234);
	ck_assert_int_eq(fds[0], 600);
	/* Pipe ends are learnt on first use (a pipe record, fdtable.h). */
	ck_assert_uint_eq(roar_fdtable_lookup(600), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(601), ROAR_FD_UNKNOWN);

	expect(fake_socket, -1, EAFNOSUPPORT);
	CALL_HOOK(o, 0, socket(AF_UNIX, SOCK_STREAM, 0));
	check_outcome(&o, -1, EAFNOSUPPORT);
	expect(fake_socket, 602, 0);
	CALL_HOOK(o, 1234, socket(AF_UNIX, SOCK_STREAM, 0));
	check_outcome(&o, 602, 1234);
	ck_assert_uint_eq(roar_fdtable_lookup(602), ROAR_FD_IGNORED);
}
END_TEST

START_TEST(stdio_movers_pass_through)
{
	FILE *f;
	char buf[64];
	struct outcome o;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/stdio", tmpdir);
	f = fopen(path, "w+");
	ck_assert_ptr_nonnull(f);
	expect(fake_fread, 0, EIO);
	CALL_HOOK(o, 0, fread(buf, 1, sizeof(buf), f));
	check_outcome(&o, 0, EIO);
	ck_assert_ptr_eq(F.buf, buf);
	ck_assert_uint_eq(F.n, sizeof(buf));
	/* Short read: credited, errno kept. */
	expect(fake_fread, 3, 0);
	CALL_HOOK(o, 1234, fread(buf, 1, sizeof(buf), f));
	check_outcome(&o, 3, 1234);
	ck_assert(!roar_path_wants(
		(struct roar_path *)roar_fdtable_lookup(fileno(f)),
		ROAR_CREDIT_READ));
	expect(fake_fwrite, 0, ENOSPC);
	CALL_HOOK(o, 0, fwrite(buf, 2, 8, f));
	check_outcome(&o, 0, ENOSPC);
	ck_assert_uint_eq(F.n, 16);
	expect(fake_fwrite, 5, 0);
	CALL_HOOK(o, 1234, fwrite(buf, 2, 8, f));
	check_outcome(&o, 5, 1234);
	fclose(f);
}
END_TEST

START_TEST(names_pass_through)
{
	char path[PATH_MAX];
	struct outcome o;
	int fd = real_file("to");

	close(fd);
	snprintf(path, sizeof(path), "%s/to", tmpdir);
	expect(fake_rename, -1, EXDEV);
	CALL_HOOK(o, 0, rename("/a", path));
	check_outcome(&o, -1, EXDEV);
	ck_assert_ptr_eq(F.path, path);
	expect(fake_rename, 0, 0);
	CALL_HOOK(o, 1234, rename("/a", path));
	check_outcome(&o, 0, 1234);

	fd = real_file("trunc");
	expect(fake_ftruncate, -1, EINVAL);
	CALL_HOOK(o, 0, ftruncate(fd, -1));
	check_outcome(&o, -1, EINVAL);
	ck_assert_int_eq(F.off, -1);
	expect(fake_ftruncate, 0, 0);
	CALL_HOOK(o, 1234, ftruncate(fd, 10));
	check_outcome(&o, 0, 1234);
	close(fd);
}
END_TEST

/* roar maps memory for its own tables and makes raw syscalls through
 * the table: calls of these besides the test's one are roar's own. */
static void
allow_roar_calls(void)
{
	F.target = NULL;
}

START_TEST(fd_management_pass_through)
{
	struct outcome o;
	int fd = real_file("mm");

	expect(fake_mmap, (long)(intptr_t)MAP_FAILED, ENODEV);
	allow_roar_calls();
	CALL_HOOK(o, 0,
		  (intptr_t)mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0));
	check_outcome(&o, (long)(intptr_t)MAP_FAILED, ENODEV);
	ck_assert_int_eq(F.fd, fd);
	expect(fake_mmap, 0x10000, 0);
	allow_roar_calls();
	CALL_HOOK(o, 1234,
		  (intptr_t)mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0));
	check_outcome(&o, 0x10000, 1234);

	expect(fake_fcntl, -1, EMFILE);
	CALL_HOOK(o, 0, fcntl(fd, F_DUPFD, 100));
	check_outcome(&o, -1, EMFILE);
	ck_assert_int_eq(F.cnt, F_DUPFD);
	expect(fake_fcntl, 0, 0);
	CALL_HOOK(o, 1234, fcntl(fd, F_GETFD));
	check_outcome(&o, 0, 1234);
	close(fd);
}
END_TEST

START_TEST(raw_syscall_passes_through)
{
	struct outcome o;
	char buf[8];
	int fd = real_file("sys");

	expect(fake_syscall, -1, EBADF);
	allow_roar_calls();
	CALL_HOOK(o, 0, syscall(SYS_read, 999, buf, sizeof(buf)));
	check_outcome(&o, -1, EBADF);
	ck_assert_int_eq(F.cnt, SYS_read);
	ck_assert_int_eq(F.fd, 999);
	expect(fake_syscall, 4, 0);
	allow_roar_calls();
	CALL_HOOK(o, 1234, syscall(SYS_read, fd, buf, sizeof(buf)));
	check_outcome(&o, 4, 1234);
	ck_assert(!roar_path_wants((struct roar_path *)roar_fdtable_lookup(fd),
				   ROAR_CREDIT_READ));
	close(fd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hooks_fds");

	unit_tcase(s, "fds", setup, teardown,
		   UNIT_TESTS(close_passes_through, dup_passes_through,
			      pipe_and_socket_pass_through,
			      stdio_movers_pass_through, names_pass_through,
			      fd_management_pass_through,
			      raw_syscall_passes_through));
	return unit_run(s);
}
