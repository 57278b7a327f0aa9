/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the events the track layer (preload/track_*.c) hands to
 * the transport, read back from a real listening socket: one event per
 * credit and per pipe direction, the process events (fork, exec,
 * exec_failed, reaped, exit) in order with the connection handed over
 * across an exec, a spawn's fork and exec on the child's behalf, a vfork
 * child's frames on a connection of its own, and nothing sent, and nothing
 * failing, without a socket.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <msgpack.h>

#include "guard.h"
#include "unit_mp.h"
#include "unit_track.h"

struct listener {
	char path[PATH_MAX];
	int lfd;
	int cfd;
	unsigned char buf[1 << 16];
	size_t len;
	/* The decoded frame's bytes: msgpack-c's objects point into them. */
	unsigned char frame[1 << 16];
};

static void
listen_on(struct listener *l)
{
	l->lfd = unit_listen_in(tmpdir, l->path, sizeof(l->path), 8);
	l->cfd = -1;
	l->len = 0;
	roar_transport_init(l->path);
}

/* Read until one whole frame is buffered (or time out), and decode it;
 * the result is valid until the next call.  A connection that ends
 * between frames (the transport closes at exec and exit) is followed by
 * the next one; one that ends inside a frame is a torn frame. */
static bool
next_frame(struct listener *l, msgpack_unpacked *u, int timeout_ms)
{
	for (;;) {
		struct pollfd pfd;
		ssize_t n;

		if (l->len >= ROAR_FRAME_HEADER_SIZE) {
			uint32_t flen = roar_frame_get_len(l->buf);
			size_t off = 0;

			ck_assert_uint_gt(flen, 0);
			if (l->len >= ROAR_FRAME_HEADER_SIZE + flen) {
				memcpy(l->frame,
				       l->buf + ROAR_FRAME_HEADER_SIZE, flen);
				msgpack_unpacked_init(u);
				ck_assert_int_eq(msgpack_unpack_next(
							 u,
							 (const char *)l->frame,
							 flen, &off),
						 MSGPACK_UNPACK_SUCCESS);
				ck_assert_uint_eq(off, flen);
				memmove(l->buf,
					l->buf + ROAR_FRAME_HEADER_SIZE + flen,
					l->len - ROAR_FRAME_HEADER_SIZE - flen);
				l->len -= ROAR_FRAME_HEADER_SIZE + flen;
				return true;
			}
		}
		if (l->cfd < 0) {
			pfd = (struct pollfd){ .fd = l->lfd, .events = POLLIN };
			if (poll(&pfd, 1, timeout_ms) <= 0)
				return false;
			l->cfd = accept(l->lfd, NULL, NULL);
			ck_assert_int_ge(l->cfd, 0);
		}
		pfd = (struct pollfd){ .fd = l->cfd, .events = POLLIN };
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return false;
		n = read(l->cfd, l->buf + l->len, sizeof(l->buf) - l->len);
		if (n < 0)
			return false;
		if (n == 0) {
			ck_assert_msg(l->len == 0, "torn frame: %zu bytes",
				      l->len);
			close(l->cfd);
			l->cfd = -1;
			continue;
		}
		l->len += (size_t)n;
	}
}

/* The frame's kind is want (says which kind it was otherwise). */
static void
check_kind(const msgpack_unpacked *u, const char *want)
{
	const msgpack_object *k = mp_get(&u->data, ROAR_KEY_KIND);

	ck_assert_msg(mp_is_str(k, want), "kind %.*s, want %s",
		      k && k->type == MSGPACK_OBJECT_STR ? (int)k->via.str.size
							 : 1,
		      k && k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : "?",
		      want);
}

/* The frame's argv is want, whole and in order. */
static void
check_argv(const msgpack_unpacked *u, char *const want[])
{
	const msgpack_object *a = mp_get(&u->data, ROAR_KEY_ARGV);

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->type, MSGPACK_OBJECT_ARRAY);
	ck_assert_uint_eq(a->via.array.size, roar_track_count(want));
	ck_assert_ptr_null(mp_get(&u->data, "truncated"));
	for (uint32_t i = 0; i < a->via.array.size; i++)
		ck_assert(mp_is_str(&a->via.array.ptr[i], want[i]));
}

static void
listener_close(struct listener *l)
{
	roar_transport_close();
	roar_transport_init(NULL);
	if (l->cfd >= 0)
		close(l->cfd);
	close(l->lfd);
}

START_TEST(open_sends_one_event_per_credit)
{
	struct listener *l = calloc(1, sizeof(*l));
	char want[PATH_MAX];
	msgpack_unpacked u;
	int fd;

	listen_on(l);
	fd = open_file("sent", O_RDONLY);
	{
		char dir[PATH_MAX];

		ck_assert_ptr_nonnull(realpath(tmpdir, dir));
		ck_assert_uint_lt(strlen(dir) + 6, sizeof(want));
		snprintf(want, sizeof(want), "%s/sent", dir);
	}

	roar_track_open(fd, O_RDONLY, false);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "read");
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), getpid()));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_TID), gettid()));
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_PATH), want));
	ck_assert(mp_is_str(mp_get(&u.data, "via"), "open"));
	msgpack_unpacked_destroy(&u);

	/* The same credit again: nothing more. A write: one event. */
	roar_track_open(fd, O_RDONLY, false);
	roar_track_fd(fd, ROAR_CREDIT_READ);
	roar_track_fd(fd, ROAR_CREDIT_WRITE);
	roar_track_fd(fd, ROAR_CREDIT_WRITE);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "write");
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_PATH), want));
	ck_assert_ptr_null(mp_get(&u.data, "via"));
	msgpack_unpacked_destroy(&u);
	ck_assert(!next_frame(l, &u, 100));
	close(fd);
	listener_close(l);
	free(l);
}
END_TEST

START_TEST(pipe_sends_one_event_per_direction)
{
	struct listener *l = calloc(1, sizeof(*l));
	msgpack_unpacked u;
	struct stat st;
	int p[2], d;

	listen_on(l);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fstat(p[0], &st), 0);
	roar_track_pipe_made(p[0]);
	roar_track_pipe_made(p[1]);
	d = dup(p[1]);
	roar_track_dup(p[1], d);
	roar_track_fd(p[1], ROAR_CREDIT_WRITE);
	roar_track_fd(p[1], ROAR_CREDIT_WRITE);
	roar_track_fd(d, ROAR_CREDIT_WRITE); /* the same pipe */
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "pipe");
	ck_assert(
		mp_is_int(mp_get(&u.data, ROAR_KEY_PIPE), (int64_t)st.st_ino));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_DEV), (int64_t)st.st_dev));
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_DIR), "write"));
	ck_assert_ptr_null(mp_get(&u.data, ROAR_KEY_PATH));
	msgpack_unpacked_destroy(&u);
	roar_track_fd(p[0], ROAR_CREDIT_READ);
	roar_track_fd(p[0], ROAR_CREDIT_READ);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "pipe");
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_DIR), "read"));
	msgpack_unpacked_destroy(&u);
	ck_assert(!next_frame(l, &u, 100));
	close(d);
	close(p[0]);
	close(p[1]);
	listener_close(l);
	free(l);
}
END_TEST

START_TEST(process_events_in_order)
{
	struct listener *l = calloc(1, sizeof(*l));
	char *const argv[] = { "ls", "-l", NULL };
	msgpack_unpacked u;
	double t;
	int conn;

	listen_on(l);
	/* As the hooks call them: inside the guard (roar_lifecycle_enter
	 * said ROAR_WHO_SELF and entered it). */
	roar_guard_depth++;
	roar_track_fork_parent(4242);
	t = roar_track_exec(ROAR_WHO_SELF, "/bin/ls", argv, &conn, true);
	/* The connection is handed over to the new image: it survives the
	 * exec until the exec fails. */
	ck_assert_int_ge(conn, 0);
	ck_assert_int_eq(conn, roar_transport_fd());
	ck_assert_int_eq(fcntl(conn, F_GETFD) & FD_CLOEXEC, 0);
	roar_track_exec_failed(ROAR_WHO_SELF, ENOENT, t);
	ck_assert_int_eq(roar_transport_fd(), conn);
	ck_assert_int_eq(fcntl(conn, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	roar_track_reaped(4242, 7 << 8);
	roar_track_exit(ROAR_WHO_SELF, 3);
	roar_guard_depth--;

	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "fork");
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_CHILD), 4242));
	ck_assert_ptr_null(mp_get(&u.data, ROAR_KEY_PATH));
	msgpack_unpacked_destroy(&u);

	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exec");
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_EXE), "/bin/ls"));
	check_argv(&u, argv);
	ck_assert_double_eq(mp_get(&u.data, ROAR_KEY_TIME)->via.f64, t);
	/* The sender execs itself: no subject, and no ppid (the
	 * collector knows the session's parent from its hello). */
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), getpid()));
	ck_assert_ptr_null(mp_get(&u.data, ROAR_KEY_PPID));
	ck_assert_ptr_null(mp_get(&u.data, ROAR_KEY_SUBJECT));
	msgpack_unpacked_destroy(&u);

	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exec_failed");
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_ERRNO), ENOENT));
	/* Same time stamp as its exec: the collector pairs them. */
	ck_assert_double_eq(mp_get(&u.data, ROAR_KEY_TIME)->via.f64, t);
	msgpack_unpacked_destroy(&u);

	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "reaped");
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_CHILD), 4242));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_STATUS), 7 << 8));
	msgpack_unpacked_destroy(&u);

	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exit");
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_STATUS), 3));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), getpid()));
	ck_assert_ptr_null(mp_get(&u.data, ROAR_KEY_PPID));
	msgpack_unpacked_destroy(&u);
	ck_assert(!next_frame(l, &u, 100));
	listener_close(l);
	free(l);
}
END_TEST

START_TEST(spawned_announces_child_exec)
{
	struct listener *l = calloc(1, sizeof(*l));
	char *const argv[] = { "cc", "-c", "x.c", NULL };
	msgpack_unpacked u;

	listen_on(l);
	roar_track_spawned(5151, "/usr/bin/cc", argv, 12.5);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "fork");
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), getpid()));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_CHILD), 5151));
	msgpack_unpacked_destroy(&u);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exec");
	/* On the child's behalf: sent by us (the collector checks the
	 * sender), naming the child as its subject and us as its parent. */
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), getpid()));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_SUBJECT), 5151));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PPID), getpid()));
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_EXE), "/usr/bin/cc"));
	check_argv(&u, argv);
	/* Stamped when the spawn started. */
	ck_assert_double_eq(mp_get(&u.data, ROAR_KEY_TIME)->via.f64, 12.5);
	msgpack_unpacked_destroy(&u);
	listener_close(l);
	free(l);
}
END_TEST

START_TEST(shared_exec_uses_own_connection)
{
	/* A vfork child (ROAR_WHO_SHARED) sends on a connection of its own
	 * and leaves the parent's connection and queue alone. */
	struct listener *l = calloc(1, sizeof(*l));
	char *const argv[] = { "sh", "-c", "true", NULL };
	msgpack_unpacked u;
	double t;
	int conn, handed, fd = open_file("before", O_RDONLY);

	listen_on(l);
	roar_track_open(fd, O_RDONLY, false);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "read");
	msgpack_unpacked_destroy(&u);
	conn = roar_transport_fd();
	ck_assert_int_ge(conn, 0);

	t = roar_track_exec(ROAR_WHO_SHARED, "/bin/sh", argv, &handed, true);
	/* Nothing to hand over: the parent's connection is not ours. */
	ck_assert_int_eq(handed, -1);
	roar_track_exec_failed(ROAR_WHO_SHARED, ENOEXEC, t);
	ck_assert_int_eq(roar_transport_fd(), conn);
	ck_assert_int_eq(fcntl(conn, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	{
		/* Each one-shot frame came on a connection of its own. */
		struct listener *o = calloc(1, sizeof(*o));

		o->lfd = l->lfd;
		o->cfd = -1;
		ck_assert(next_frame(o, &u, 2000));
		check_kind(&u, "exec");
		ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), getpid()));
		/* A vfork child has said nothing before: it names its
		 * parent. */
		ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PPID), getppid()));
		ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_EXE), "/bin/sh"));
		check_argv(&u, argv);
		msgpack_unpacked_destroy(&u);
		ck_assert(next_frame(o, &u, 2000));
		check_kind(&u, "exec_failed");
		ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_ERRNO), ENOEXEC));
		msgpack_unpacked_destroy(&u);
		if (o->cfd >= 0)
			close(o->cfd);
		free(o);
	}
	/* The parent's connection still works. */
	roar_track_fd(fd, ROAR_CREDIT_WRITE);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "write");
	msgpack_unpacked_destroy(&u);
	close(fd);
	listener_close(l);
	free(l);
}
END_TEST

/*
 * Was a bug: roar_event_exec_size did not count the array header that
 * fitting() charges first, so every exec frame sized by it lost its last
 * argument and said "truncated": true (`ls` reported for `ls -l`).
 */
START_TEST(regression_exec_event_keeps_whole_argv)
{
	struct listener *l = calloc(1, sizeof(*l));
	char *const argv[] = { "ls", "-l", NULL };
	char *const cc[] = { "cc", "-c", "x.c", NULL };
	msgpack_unpacked u;
	double t;
	int conn;

	listen_on(l);
	roar_guard_depth++;
	t = roar_track_exec(ROAR_WHO_SELF, "/bin/ls", argv, &conn, true);
	roar_track_exec_failed(ROAR_WHO_SELF, ENOENT, t);
	roar_guard_depth--;
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exec");
	ck_assert_uint_eq(mp_get(&u.data, ROAR_KEY_ARGV)->via.array.size, 2);
	ck_assert_ptr_null(mp_get(&u.data, "truncated"));
	msgpack_unpacked_destroy(&u);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exec_failed");
	msgpack_unpacked_destroy(&u);

	roar_track_spawned(5151, "/usr/bin/cc", cc, 12.5);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "fork");
	msgpack_unpacked_destroy(&u);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exec");
	ck_assert_uint_eq(mp_get(&u.data, ROAR_KEY_ARGV)->via.array.size, 3);
	ck_assert_ptr_null(mp_get(&u.data, "truncated"));
	msgpack_unpacked_destroy(&u);
	listener_close(l);
	free(l);
}
END_TEST

START_TEST(nothing_sent_without_socket)
{
	/* roar_transport_init(NULL): events are dropped quietly, and the
	 * track layer does not fail. */
	int fd = open_file("quiet", O_RDONLY);

	roar_transport_init(NULL);
	roar_track_open(fd, O_RDONLY, false);
	roar_track_fork_parent(1234);
	roar_guard_depth++;
	roar_track_exit(ROAR_WHO_SELF, 0);
	roar_guard_depth--;
	ck_assert(!roar_transport_owns_fd(fd));
	close(fd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("track_events");

	unit_tcase(s, "events", setup, teardown,
		   UNIT_TESTS(open_sends_one_event_per_credit,
			      pipe_sends_one_event_per_direction,
			      process_events_in_order,
			      spawned_announces_child_exec,
			      shared_exec_uses_own_connection,
			      nothing_sent_without_socket));
	/* Regressions: each was a bug these tests found. */
	unit_tcase(s, "regressions", setup, teardown,
		   UNIT_TESTS(regression_exec_event_keeps_whole_argv));
	return unit_run(s);
}
