/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of preload/transport.c against a real listening socket whose
 * reader we control: a frame larger than the socket can hold, sent to a
 * collector that stalls, arrives whole and in order with the frames sent
 * after it (its tail waits in the queue, which stays the stream's
 * continuation); what the queue cannot hold is dropped whole, counted and
 * reported, never torn.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "roar/ledger.h"
#include "roar/protocol.h"
#include "guard.h"
#include "ledger.h"
#include "session.h"
#include "transport.h"
#include "unit.h"
#include "unit_preload.h"
#include "unit_mp.h"

/* entry.c, which defines these for the .so, is not in preload_core. */
/* Larger than any socket buffer (the connection asks for 256 KiB, which
 * the kernel doubles), smaller than the queue (a whole largest frame). */
#define BIG_PAYLOAD (3u * 1024u * 1024u)

static char tmpdir[PATH_MAX];

/*
 * The collector's side: a thread that accepts one connection, reads
 * nothing until told to go (or, trickling, a little at a time from the
 * start), then reads everything to end of stream in small pieces.
 */
struct reader {
	char path[PATH_MAX];
	int lfd;
	bool trickle; /* 16 KiB every 2 ms, never waiting for go */
	bool ledger;  /* a ledger beside the socket, beaten once */
	int go[2];    /* a byte on go[1]: start reading */
	pthread_t thread;
	unsigned char *got; /* what arrived, in order */
	size_t len, cap;
};

static void *
reader_main(void *p)
{
	struct reader *r = p;
	char c;
	int cfd = accept(r->lfd, NULL, NULL);

	if (cfd < 0)
		return NULL;
	if (!r->trickle && read(r->go[0], &c, 1) != 1) {
		close(cfd);
		return NULL;
	}
	for (;;) {
		size_t piece = r->trickle ? 16384 : 4096;
		size_t want = r->cap - r->len < piece ? r->cap - r->len : piece;
		ssize_t n;

		if (!want)
			break;
		n = read(cfd, r->got + r->len, want);
		if (n <= 0)
			break;
		r->len += (size_t)n;
		if (r->trickle)
			usleep(2000);
	}
	close(cfd);
	return NULL;
}

static void
reader_start(struct reader *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(r->path, sizeof(r->path), "%s/sock", tmpdir);
	ck_assert_uint_lt(strlen(r->path), sizeof(sa.sun_path));
	strcpy(sa.sun_path, r->path);
	r->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(r->lfd, 0);
	ck_assert_int_eq(bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(r->lfd, 8), 0);
	ck_assert_int_eq(pipe(r->go), 0);
	r->cap = 2 * BIG_PAYLOAD + 4096;
	r->got = malloc(r->cap);
	ck_assert_ptr_nonnull(r->got);
	r->len = 0;
	ck_assert_int_eq(pthread_create(&r->thread, NULL, reader_main, r), 0);
	if (r->ledger) {
		struct roar_ledger_head h;
		char lp[PATH_MAX];
		int fd;

		ck_assert_int_eq(roar_ledger_create(r->path), 0);
		snprintf(lp, sizeof(lp), "%s%s", r->path, ROAR_LEDGER_SUFFIX);
		fd = open(lp, O_RDWR);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(pread(fd, &h, sizeof(h), 0), sizeof(h));
		h.beat = 12345; /* alive once, then never again */
		ck_assert_int_eq(pwrite(fd, &h, sizeof(h), 0), sizeof(h));
		close(fd);
	}
	roar_transport_init(r->path);
}

/* What the ledger beside r's socket holds now. */
static void
read_ledger(const struct reader *r, struct roar_ledger_head *h,
	    struct roar_ledger_slot *slots, size_t n)
{
	char lp[PATH_MAX];
	int fd;

	snprintf(lp, sizeof(lp), "%s%s", r->path, ROAR_LEDGER_SUFFIX);
	fd = open(lp, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, h, sizeof(*h), 0), sizeof(*h));
	ck_assert_int_eq(pread(fd, slots, n * sizeof(*slots),
			       (off_t)roar_ledger_slot_offset(0)),
			 (ssize_t)(n * sizeof(*slots)));
	close(fd);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Let the reader go, close our side, and wait for it to see the end. */
static void
reader_finish(struct reader *r)
{
	ck_assert_int_eq(write(r->go[1], "g", 1), 1);
	roar_transport_close();
	ck_assert_int_eq(pthread_join(r->thread, NULL), 0);
	close(r->go[0]);
	close(r->go[1]);
	close(r->lfd);
}

static void
reader_free(struct reader *r)
{
	free(r->got);
}

/* A frame of payload bytes (not msgpack: the transport never looks). */
static unsigned char *
make_frame(size_t payload, unsigned seed)
{
	unsigned char *f = malloc(ROAR_FRAME_HEADER_SIZE + payload);

	ck_assert_ptr_nonnull(f);
	roar_frame_put_len(f, (uint32_t)payload);
	for (size_t i = 0; i < payload; i++)
		f[ROAR_FRAME_HEADER_SIZE + i] =
			(unsigned char)((i * 131u + (i >> 12) + seed) & 0xff);
	return f;
}

/* The next frame in what arrived at *off: it is want (of len bytes). */
static void
expect_frame(const struct reader *r, size_t *off, const unsigned char *want,
	     size_t len)
{
	ck_assert_uint_ge(r->len - *off, ROAR_FRAME_HEADER_SIZE);
	ck_assert_uint_eq(roar_frame_get_len(r->got + *off),
			  len - ROAR_FRAME_HEADER_SIZE);
	ck_assert_uint_ge(r->len - *off, len);
	ck_assert_msg(!memcmp(r->got + *off, want, len), "frame at %zu differs",
		      *off);
	*off += len;
}

/* The connection's send buffer: what the socket can hold at once. */
static size_t
sndbuf(void)
{
	int v = 0;
	socklen_t l = sizeof(v);

	ck_assert_int_ge(roar_transport_fd(), 0);
	ck_assert_int_eq(
		getsockopt(roar_transport_fd(), SOL_SOCKET, SO_SNDBUF, &v, &l),
		0);
	return (size_t)v;
}

static void
setup(void)
{
	unit_preload_reset();
	unit_mkdtemp(tmpdir, sizeof(tmpdir), "transport");
}

static void
teardown(void)
{
	unit_preload_end();
	unit_rmtree(tmpdir);
}

START_TEST(big_frame_to_stalled_reader_arrives_in_order)
{
	struct reader *r = calloc(1, sizeof(*r));
	size_t big_len = ROAR_FRAME_HEADER_SIZE + BIG_PAYLOAD;
	size_t small_len = ROAR_FRAME_HEADER_SIZE + 100;
	unsigned char *big = make_frame(BIG_PAYLOAD, 1);
	unsigned char *small = make_frame(100, 2);
	unsigned char *after = make_frame(5000, 3);
	uint64_t dropped = roar_transport_dropped();
	size_t off = 0;

	ck_assert_ptr_nonnull(r);
	reader_start(r);
	roar_guard_depth++;
	/* The socket takes what it can, the tail waits in the queue; the
	 * sender waits its budget for the reader, which does not read. */
	ck_assert_int_eq(roar_transport_send(big, big_len), 0);
	ck_assert_uint_gt(big_len, sndbuf());
	/* Later frames go behind that tail, not into the socket. */
	ck_assert_int_eq(roar_transport_send(small, small_len), 0);
	ck_assert_int_eq(roar_transport_send(after, 4 + 5000), 0);
	roar_guard_depth--;
	reader_finish(r);

	expect_frame(r, &off, big, big_len);
	expect_frame(r, &off, small, small_len);
	expect_frame(r, &off, after, 4 + 5000);
	ck_assert_uint_eq(off, r->len);
	ck_assert_uint_eq(roar_transport_dropped(), dropped);
	free(after);
	free(small);
	free(big);
	reader_free(r);
	free(r);
}
END_TEST

START_TEST(big_frame_to_trickling_reader_arrives_in_order)
{
	/* A reader that keeps reading, slowly (about 8 MB/s): the sender
	 * waits for it with the lock released and flushes as it goes; the
	 * frames sent meanwhile and after follow the big one's tail. */
	struct reader *r = calloc(1, sizeof(*r));
	size_t big_len = ROAR_FRAME_HEADER_SIZE + (1u << 20);
	unsigned char *big = make_frame(1u << 20, 10);
	unsigned char *small[8];
	uint64_t dropped = roar_transport_dropped();
	size_t off = 0;

	ck_assert_ptr_nonnull(r);
	r->trickle = true;
	reader_start(r);
	for (int i = 0; i < 8; i++)
		small[i] = make_frame(700u * (unsigned)(i + 1), 11u + i);
	roar_guard_depth++;
	ck_assert_int_eq(roar_transport_send(big, big_len), 0);
	ck_assert_uint_gt(big_len, sndbuf());
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(
			roar_transport_send(small[i], ROAR_FRAME_HEADER_SIZE +
							      700u * (i + 1)),
			0);
	roar_guard_depth--;
	reader_finish(r);

	expect_frame(r, &off, big, big_len);
	for (int i = 0; i < 8; i++)
		expect_frame(r, &off, small[i],
			     ROAR_FRAME_HEADER_SIZE + 700u * (i + 1));
	ck_assert_uint_eq(off, r->len);
	ck_assert_uint_eq(roar_transport_dropped(), dropped);
	for (int i = 0; i < 8; i++)
		free(small[i]);
	free(big);
	reader_free(r);
	free(r);
}
END_TEST

START_TEST(frame_the_queue_cannot_hold_is_dropped_whole)
{
	/* Two big frames to a stalled reader: the second does not fit
	 * behind the first one's tail.  It is lost whole and counted, the
	 * stream stays parseable, and the drop is reported after it. */
	struct reader *r = calloc(1, sizeof(*r));
	size_t big_len = ROAR_FRAME_HEADER_SIZE + BIG_PAYLOAD;
	unsigned char *one = make_frame(BIG_PAYLOAD, 4);
	unsigned char *two = make_frame(BIG_PAYLOAD, 5);
	unsigned char *small = make_frame(64, 6);
	uint64_t dropped = roar_transport_dropped();
	size_t off = 0;

	ck_assert_ptr_nonnull(r);
	reader_start(r);
	roar_guard_depth++;
	ck_assert_int_eq(roar_transport_send(one, big_len), 0);
	ck_assert_int_eq(roar_transport_send(two, big_len), 0);
	ck_assert_uint_eq(roar_transport_dropped(), dropped + 1);
	ck_assert_int_eq(roar_transport_send(small, 4 + 64), 0);
	roar_guard_depth--;
	reader_finish(r);

	expect_frame(r, &off, one, big_len);
	expect_frame(r, &off, small, 4 + 64);
	{
		/* Then the drop report: one msgpack map, count 1. */
		msgpack_unpacked u;
		size_t len, used = 0;

		ck_assert_uint_ge(r->len - off, ROAR_FRAME_HEADER_SIZE);
		len = roar_frame_get_len(r->got + off);
		ck_assert_uint_eq(r->len - off, ROAR_FRAME_HEADER_SIZE + len);
		msgpack_unpacked_init(&u);
		ck_assert_int_eq(
			msgpack_unpack_next(&u,
					    (const char *)r->got + off +
						    ROAR_FRAME_HEADER_SIZE,
					    len, &used),
			MSGPACK_UNPACK_SUCCESS);
		ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_KIND), "dropped"));
		ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_COUNT), 1));
		ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), getpid()));
		msgpack_unpacked_destroy(&u);
	}
	free(small);
	free(two);
	free(one);
	reader_free(r);
	free(r);
}
END_TEST

START_TEST(frames_wait_for_a_late_collector)
{
	/* No listener yet: the frame waits in the queue and goes out,
	 * whole and first, once one is there. */
	struct reader *r = calloc(1, sizeof(*r));
	unsigned char *early = make_frame(300, 7);
	unsigned char *late = make_frame(40, 8);
	size_t off = 0;

	ck_assert_ptr_nonnull(r);
	snprintf(r->path, sizeof(r->path), "%s/sock", tmpdir);
	roar_transport_init(r->path);
	roar_guard_depth++;
	ck_assert_int_eq(roar_transport_send(early, 4 + 300), 0);
	ck_assert_int_eq(roar_transport_fd(), -1);
	roar_guard_depth--;
	reader_start(r);
	/* The retry spacing starts at a few ms. */
	usleep(50 * 1000);
	roar_guard_depth++;
	ck_assert_int_eq(roar_transport_send(late, 4 + 40), 0);
	ck_assert_int_ge(roar_transport_fd(), 0);
	roar_guard_depth--;
	reader_finish(r);
	expect_frame(r, &off, early, 4 + 300);
	expect_frame(r, &off, late, 4 + 40);
	ck_assert_uint_eq(off, r->len);
	free(late);
	free(early);
	reader_free(r);
	free(r);
}
END_TEST

START_TEST(a_new_connection_names_its_slot_before_what_waited)
{
	/* A ledger, but no listener yet: the frames wait in the queue.  The
	 * first connection's first frame must name the image's slot (a
	 * resume), ahead of them, or the collector could not count them. */
	struct reader *r = calloc(1, sizeof(*r));
	unsigned char *early = make_frame(300, 9);
	unsigned char *late = make_frame(40, 10);
	size_t off = 0, len, used = 0;
	msgpack_unpacked u;

	ck_assert_ptr_nonnull(r);
	snprintf(r->path, sizeof(r->path), "%s/sock", tmpdir);
	ck_assert_int_eq(roar_ledger_create(r->path), 0);
	roar_transport_init(r->path);
	ck_assert_int_eq(roar_ledger_slot(), 0);
	roar_guard_depth++;
	ck_assert_int_eq(roar_transport_send(early, 4 + 300), 0);
	ck_assert_int_eq(roar_transport_fd(), -1);
	roar_guard_depth--;
	reader_start(r);
	usleep(50 * 1000);
	roar_guard_depth++;
	ck_assert_int_eq(roar_transport_send(late, 4 + 40), 0);
	ck_assert_int_ge(roar_transport_fd(), 0);
	roar_guard_depth--;
	reader_finish(r);
	ck_assert_uint_ge(r->len, ROAR_FRAME_HEADER_SIZE);
	len = roar_frame_get_len(r->got);
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(msgpack_unpack_next(&u,
					     (const char *)r->got +
						     ROAR_FRAME_HEADER_SIZE,
					     len, &used),
			 MSGPACK_UNPACK_SUCCESS);
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_KIND), "resume"));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_LEDGER), 0));
	msgpack_unpacked_destroy(&u);
	off = ROAR_FRAME_HEADER_SIZE + len;
	expect_frame(r, &off, early, 4 + 300);
	expect_frame(r, &off, late, 4 + 40);
	ck_assert_uint_eq(off, r->len);
	free(late);
	free(early);
	reader_free(r);
	free(r);
}
END_TEST

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

START_TEST(stalled_collector_is_declared_and_nobody_waits)
{
	/* A collector that beat once and stopped.  The first sender to
	 * find its socket full waits until the beat has not moved for the
	 * detection time, says so in the ledger, and goes on; a second
	 * process then does not wait at all.  Every frame is in the
	 * ledger as made, each process in a slot of its own. */
	struct reader *r = calloc(1, sizeof(*r));
	size_t big_len = ROAR_FRAME_HEADER_SIZE + BIG_PAYLOAD;
	unsigned char *big = make_frame(BIG_PAYLOAD, 7);
	struct roar_ledger_head h;
	struct roar_ledger_slot s[2];
	uint64_t t0, waited;
	int status;
	pid_t child;

	ck_assert_ptr_nonnull(r);
	r->ledger = true;
	reader_start(r);
	ck_assert_int_eq(roar_ledger_slot(), 0);
	roar_guard_depth++;
	t0 = mono_ms();
	ck_assert_int_eq(roar_transport_send(big, big_len), 0);
	waited = mono_ms() - t0;
	read_ledger(r, &h, s, 2);
	ck_assert_uint_eq(h.stalled_at, 12345);
	/* At least the detection time, well short of the budget. */
	ck_assert_uint_ge(waited, 90);
	ck_assert_uint_lt(waited, 240);

	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		roar_session.pid = getpid();
		roar_transport_atfork_child(false);
		roar_ledger_atfork_child(getpid(), getppid());
		t0 = mono_ms();
		roar_transport_send(big, big_len);
		waited = mono_ms() - t0;
		free(big);
		reader_free(r);
		free(r);
		_exit(roar_ledger_slot() == 1 && waited < 60 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	roar_guard_depth--;
	read_ledger(r, &h, s, 2);
	ck_assert_uint_eq(h.next, 2);
	/* Each: the frame, and the resume that named its slot first (no
	 * hello went ahead of it here). */
	ck_assert_uint_eq(s[0].pid, (uint32_t)getpid());
	ck_assert_uint_eq(s[0].made, 2);
	ck_assert_uint_eq(s[1].pid, (uint32_t)child);
	ck_assert_uint_eq(s[1].ppid, (uint32_t)getpid());
	ck_assert_uint_eq(s[1].made, 2);
	reader_finish(r);
	free(big);
	reader_free(r);
	free(r);
}
END_TEST

START_TEST(lost_events_are_in_the_ledger)
{
	struct reader *r = calloc(1, sizeof(*r));
	struct roar_ledger_head h;
	struct roar_ledger_slot s[1];
	unsigned char *small = make_frame(64, 8);

	ck_assert_ptr_nonnull(r);
	r->ledger = true;
	reader_start(r);
	roar_guard_depth++;
	ck_assert_int_eq(roar_transport_send(small, 4 + 64), 0);
	roar_guard_depth--;
	roar_transport_count_drop();
	roar_transport_count_drop();
	read_ledger(r, &h, s, 1);
	ck_assert_uint_eq(s[0].lost, 2);
	ck_assert_uint_eq(s[0].made, 2); /* the resume, and the frame */
	reader_finish(r);
	free(small);
	reader_free(r);
	free(r);
}
END_TEST

static Suite *
transport_suite(void)
{
	Suite *s = suite_create("transport");
	TCase *tc = tcase_create("stream");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, big_frame_to_stalled_reader_arrives_in_order);
	tcase_add_test(tc, big_frame_to_trickling_reader_arrives_in_order);
	tcase_add_test(tc, frame_the_queue_cannot_hold_is_dropped_whole);
	tcase_add_test(tc, frames_wait_for_a_late_collector);
	tcase_add_test(tc, connection_is_high_and_cloexec);
	tcase_add_test(tc, adopt_takes_only_a_connection_to_our_collector);
	tcase_add_test(tc, handover_keeps_the_stream_across_exec);
	tcase_add_test(tc, stalled_collector_is_declared_and_nobody_waits);
	tcase_add_test(tc, lost_events_are_in_the_ledger);
	tcase_add_test(tc, a_new_connection_names_its_slot_before_what_waited);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(transport_suite());
}
