/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the transport's connection (preload/transport.c,
 * transport_handover.c): it is a high, close-on-exec fd; across an exec
 * it is handed over (what waits sent, close-on-exec cleared, given back
 * when the exec fails), and the new image adopts only a stream connected
 * to our collector's path.
 */
#include "config.h"

#include <stdio.h>

#include "unit_transport.h"

START_TEST(connection_is_high_and_cloexec)
{
	struct reader *r = calloc(1, sizeof(*r));
	unsigned char *f = make_frame(10, 9);
	int fd;

	ck_assert_ptr_nonnull(r);
	reader_start(r);
	roar_guard_depth++;
	ck_assert_int_eq(roar_transport_send(f, 4 + 10), 0);
	roar_guard_depth--;
	fd = roar_transport_fd();
	ck_assert_int_ge(fd, 3);
	ck_assert(roar_transport_owns_fd(fd));
	ck_assert(!roar_transport_owns_fd(-1));
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	reader_finish(r);
	ck_assert_int_eq(roar_transport_fd(), -1);
	free(f);
	reader_free(r);
	free(r);
}
END_TEST

/* A client socket connected to the listener at path. */
static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	strcpy(sa.sun_path, path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

START_TEST(adopt_takes_only_a_connection_to_our_collector)
{
	/* What an exec handed over (ROAR_PRELOAD_CONN): the new image
	 * takes it only when it is a stream to our collector's path. */
	struct reader *r = calloc(1, sizeof(*r));
	unsigned char *f = make_frame(200, 12);
	char other_path[PATH_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int pipefd[2], pair[2], other, elsewhere, fd;
	size_t off = 0;

	ck_assert_ptr_nonnull(r);
	reader_start(r);
	ck_assert_int_eq(pipe(pipefd), 0);
	roar_transport_adopt(pipefd[0]);
	ck_assert_int_eq(roar_transport_fd(), -1);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	roar_transport_adopt(pair[0]);
	ck_assert_int_eq(roar_transport_fd(), -1);
	snprintf(other_path, sizeof(other_path), "%s/other", tmpdir);
	strcpy(sa.sun_path, other_path);
	other = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(other, 0);
	ck_assert_int_eq(bind(other, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(other, 1), 0);
	elsewhere = connect_to(other_path);
	roar_transport_adopt(elsewhere);
	ck_assert_int_eq(roar_transport_fd(), -1);
	roar_transport_adopt(-1);
	ck_assert_int_eq(roar_transport_fd(), -1);

	/* Ours: adopted, close-on-exec again, and the stream goes on. */
	fd = connect_to(r->path);
	roar_transport_adopt(fd);
	ck_assert_int_eq(roar_transport_fd(), fd);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	roar_guard_depth++;
	ck_assert_int_eq(roar_transport_send(f, 4 + 200), 0);
	roar_guard_depth--;
	ck_assert_int_eq(roar_transport_fd(), fd);
	reader_finish(r);
	expect_frame(r, &off, f, 4 + 200);
	ck_assert_uint_eq(off, r->len);

	close(elsewhere);
	close(other);
	close(pair[0]);
	close(pair[1]);
	close(pipefd[0]);
	close(pipefd[1]);
	free(f);
	reader_free(r);
	free(r);
}
END_TEST

START_TEST(handover_keeps_the_stream_across_exec)
{
	/* Before an exec: what waits goes out, the fd loses close-on-exec
	 * and stays ours; an exec that fails gives it back. */
	struct reader *r = calloc(1, sizeof(*r));
	unsigned char *one = make_frame(100, 13);
	unsigned char *two = make_frame(100, 14);
	size_t off = 0;
	int fd;

	ck_assert_ptr_nonnull(r);
	reader_start(r);
	/* Nothing to hand over before the first connection. */
	roar_guard_depth++;
	ck_assert_int_eq(roar_transport_handover(), -1);
	roar_transport_handover_failed();
	ck_assert_int_eq(roar_transport_send(one, 4 + 100), 0);
	fd = roar_transport_handover();
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fd, roar_transport_fd());
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	roar_transport_handover_failed();
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	/* The lock was given back: sending works. */
	ck_assert_int_eq(roar_transport_send(two, 4 + 100), 0);
	roar_guard_depth--;
	reader_finish(r);
	expect_frame(r, &off, one, 4 + 100);
	expect_frame(r, &off, two, 4 + 100);
	ck_assert_uint_eq(off, r->len);
	free(two);
	free(one);
	reader_free(r);
	free(r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("transport_handover");
	TCase *tc;

	tc = unit_tcase(
		s, "stream", setup, teardown,
		UNIT_TESTS(connection_is_high_and_cloexec,
			   adopt_takes_only_a_connection_to_our_collector,
			   handover_keeps_the_stream_across_exec));
	tcase_set_timeout(tc, 30);
	return unit_run(s);
}
