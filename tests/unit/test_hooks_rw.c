/* SPDX-License-Identifier: Apache-2.0 */
/*
 * E1/E3 tests of the read and write hooks (hooks_rw.c): read, write,
 * their positional and vector variants and __read_chk pass errors and
 * short counts through with errno as the real function left it, credit
 * what moved, and keep the caller's errno when bookkeeping fails.
 */
#include "config.h"

#include <sys/uio.h>

#include "unit_hooks.h"

static const int errnos[] = { EINTR, EBADF, EAGAIN, EIO, EFAULT, ENOSPC };

START_TEST(read_errors_pass_through)
{
	char buf[64];

	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
		struct outcome o;

		expect(fake_read, -1, errnos[i]);
		CALL_HOOK(o, 0, read(7, buf, sizeof(buf)));
		check_outcome(&o, -1, errnos[i]);
		/* The caller's arguments, unchanged. */
		ck_assert_int_eq(F.fd, 7);
		ck_assert_ptr_eq(F.buf, buf);
		ck_assert_uint_eq(F.n, sizeof(buf));
	}
}
END_TEST

START_TEST(read_short_count_keeps_errno)
{
	int fd = real_file("r");
	char buf[100];
	struct outcome o;

	expect(fake_read, 3, 0);
	CALL_HOOK(o, 1234, read(fd, buf, sizeof(buf)));
	check_outcome(&o, 3, 1234);
	/* The real was entered with the caller's errno. */
	ck_assert_int_eq(F.entry_errno, 1234);
	/* Bookkeeping did run (the read was credited)... */
	ck_assert_uint_gt(roar_fdtable_lookup(fd), ROAR_FD_IGNORED);
	ck_assert(!roar_path_wants((struct roar_path *)roar_fdtable_lookup(fd),
				   ROAR_CREDIT_READ));
	/* ...and a second read takes the fast path, same result. */
	expect(fake_read, 100, 0);
	CALL_HOOK(o, 4321, read(fd, buf, sizeof(buf)));
	check_outcome(&o, 100, 4321);
	close(fd);
}
END_TEST

START_TEST(read_success_when_bookkeeping_fails)
{
	/* fd 987 is not open: bookkeeping's fstat fails with EBADF, which
	 * must not leak into the caller's errno. */
	char buf[8];
	struct outcome o;

	ck_assert_int_eq(fcntl(987, F_GETFD), -1);
	expect(fake_read, 5, 0);
	CALL_HOOK(o, 1234, read(987, buf, sizeof(buf)));
	check_outcome(&o, 5, 1234);
	expect(fake_read, 5, 0);
	CALL_HOOK(o, 0, read(987, buf, sizeof(buf)));
	check_outcome(&o, 5, 0);
}
END_TEST

START_TEST(read_success_errno_from_real_kept)
{
	/* A real function may set errno and still succeed; the caller sees
	 * what it left. */
	int fd = real_file("r2");
	char buf[16];
	struct outcome o;

	expect(fake_read, 4, EAGAIN);
	CALL_HOOK(o, 1234, read(fd, buf, sizeof(buf)));
	check_outcome(&o, 4, EAGAIN);
	close(fd);
}
END_TEST

START_TEST(read_eof_does_no_bookkeeping)
{
	int fd = real_file("eof");
	char buf[16];
	struct outcome o;

	expect(fake_read, 0, 0);
	CALL_HOOK(o, 1234, read(fd, buf, sizeof(buf)));
	check_outcome(&o, 0, 1234);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	close(fd);
}
END_TEST

START_TEST(write_errors_and_short_counts)
{
	static const char data[10] = "0123456789";
	int fd = real_file("w");
	struct outcome o;

	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
		expect(fake_write, -1, errnos[i]);
		CALL_HOOK(o, 0, write(fd, data, sizeof(data)));
		check_outcome(&o, -1, errnos[i]);
		ck_assert_ptr_eq(F.buf, data);
		ck_assert_uint_eq(F.n, sizeof(data));
	}
	expect(fake_write, -1, EPIPE);
	CALL_HOOK(o, 0, write(fd, data, sizeof(data)));
	check_outcome(&o, -1, EPIPE);
	/* Failures credit nothing. */
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);

	expect(fake_write, 1, 0);
	CALL_HOOK(o, 1234, write(fd, data, sizeof(data)));
	check_outcome(&o, 1, 1234);
	ck_assert(!roar_path_wants((struct roar_path *)roar_fdtable_lookup(fd),
				   ROAR_CREDIT_WRITE));
	close(fd);
}
END_TEST

START_TEST(positional_and_vector_variants)
{
	int fd = real_file("pv");
	char buf[32];
	struct iovec iov[2] = { { buf, 16 }, { buf + 16, 16 } };
	struct outcome o;

	expect(fake_pread, -1, EINVAL);
	CALL_HOOK(o, 0, pread(fd, buf, sizeof(buf), 4096));
	check_outcome(&o, -1, EINVAL);
	ck_assert_int_eq(F.off, 4096);

	expect(fake_pread, 7, 0);
	CALL_HOOK(o, 1234, pread(fd, buf, sizeof(buf), 8));
	check_outcome(&o, 7, 1234);

	expect(fake_pwrite, -1, ESPIPE);
	CALL_HOOK(o, 0, pwrite(fd, buf, sizeof(buf), 1));
	check_outcome(&o, -1, ESPIPE);

	expect(fake_pwrite, 2, 0);
	CALL_HOOK(o, 1234, pwrite(fd, buf, sizeof(buf), 1));
	check_outcome(&o, 2, 1234);

	expect(fake_readv, -1, EINTR);
	CALL_HOOK(o, 0, readv(fd, iov, 2));
	check_outcome(&o, -1, EINTR);
	ck_assert_ptr_eq(F.iov, iov);
	ck_assert_int_eq(F.cnt, 2);

	expect(fake_readv, 17, 0);
	CALL_HOOK(o, 1234, readv(fd, iov, 2));
	check_outcome(&o, 17, 1234);

	expect(fake_writev, -1, EINTR);
	CALL_HOOK(o, 0, writev(fd, iov, 2));
	check_outcome(&o, -1, EINTR);

	expect(fake_writev, 5, 0);
	CALL_HOOK(o, 1234, writev(fd, iov, 2));
	check_outcome(&o, 5, 1234);

	expect(fake_read_chk, -1, EINTR);
	CALL_HOOK(o, 0, __read_chk(fd, buf, 8, sizeof(buf)));
	check_outcome(&o, -1, EINTR);

	expect(fake_read_chk, 8, 0);
	CALL_HOOK(o, 1234, __read_chk(fd, buf, 8, sizeof(buf)));
	check_outcome(&o, 8, 1234);
	close(fd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hooks_rw");

	unit_tcase(s, "read_write", setup, teardown,
		   UNIT_TESTS(read_errors_pass_through,
			      read_short_count_keeps_errno,
			      read_success_when_bookkeeping_fails,
			      read_success_errno_from_real_kept,
			      read_eof_does_no_bookkeeping,
			      write_errors_and_short_counts,
			      positional_and_vector_variants));
	return unit_run(s);
}
