/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of collector/tally.c with conn.c: a real ledger file beside
 * a real listening socket, slots written as the library would write them,
 * frames fed through a connection.  What a slot made and never arrived is
 * dropped and marks its process incomplete; a slot nobody's hello named
 * still brings its process into the report; a slot that does not name
 * the connection's process is not believed; a dropped event on a stream
 * the ledger counts is not counted twice.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <msgpack.h>

#include "roar/ledger.h"
#include "roar/protocol.h"
#include "conn.h"
#include "merge.h"
#include "tally.h"
#include "unit.h"
#include "unit_mp.h"

static char tmpdir[PATH_MAX];
static char sock[PATH_MAX];
static int lfd = -1;
static struct roar_merge M;
static struct roar_tally T;

static void
setup(void)
{
	unit_mkdtemp(tmpdir, sizeof(tmpdir), "tally");
	lfd = unit_listen_in(tmpdir, sock, sizeof(sock), 8);
	ck_assert_int_eq(roar_tally_create(sock), 0);
	roar_merge_init(&M, 100);
	roar_tally_open(&T, lfd, &M);
}

static void
teardown(void)
{
	roar_tally_close(&T);
	roar_merge_free(&M);
	close(lfd);
	roar_tally_unlink(sock);
	unit_rmtree(tmpdir);
}

static int
ledger_fd(void)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s%s", sock, ROAR_LEDGER_SUFFIX);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	return fd;
}

/* Write slot i as an image of pid would, and take it in the head. */
static void
put_slot(uint64_t i, uint32_t pid, uint32_t ppid, uint64_t made, uint64_t lost)
{
	struct roar_ledger_slot s = { pid, ppid, made, lost, 0 };
	struct roar_ledger_head h;
	int fd = ledger_fd();

	ck_assert_int_eq(pread(fd, &h, sizeof(h), 0), sizeof(h));
	if (h.next < i + 1)
		h.next = i + 1;
	ck_assert_int_eq(pwrite(fd, &h, sizeof(h), 0), sizeof(h));
	ck_assert_int_eq(
		pwrite(fd, &s, sizeof(s), (off_t)roar_ledger_slot_offset(i)),
		sizeof(s));
	close(fd);
}

/* Feed one packed event to c as a frame. */
static void
feed(struct roar_conn *c, struct ev *e)
{
	unsigned char hdr[ROAR_FRAME_HEADER_SIZE];
	char err[256];

	roar_frame_put_len(hdr, (uint32_t)e->sb.size);
	ck_assert_int_eq(
		roar_conn_feed(c, &M, hdr, sizeof(hdr), err, sizeof(err)), 0);
	ck_assert_int_eq(
		roar_conn_feed(c, &M, e->sb.data, e->sb.size, err, sizeof(err)),
		0);
	ev_free(e);
}

static void
hello(struct roar_conn *c, pid_t pid, int64_t slot)
{
	struct ev e;

	ev_begin(&e, slot >= 0 ? 6 : 5);
	ev_str(&e, ROAR_KEY_KIND, "hello");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_PPID, 100);
	ev_str(&e, ROAR_KEY_ORIGIN, ROAR_ORIGIN_FORK);
	ev_double(&e, ROAR_KEY_TIME, 1.0);
	if (slot >= 0)
		ev_int(&e, ROAR_KEY_LEDGER, slot);
	feed(c, &e);
}

static void
file_event(struct roar_conn *c, pid_t pid, const char *path)
{
	struct ev e;

	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, "write");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_str(&e, ROAR_KEY_PATH, path);
	feed(c, &e);
}

static void
dropped_event(struct roar_conn *c, pid_t pid, int64_t count)
{
	struct ev e;

	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, "dropped");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_int(&e, ROAR_KEY_COUNT, count);
	feed(c, &e);
}

static void
resume(struct roar_conn *c, pid_t pid, int64_t slot)
{
	struct ev e;

	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, "resume");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_int(&e, ROAR_KEY_LEDGER, slot);
	feed(c, &e);
}

/* A connection from pid (as SO_PEERCRED would say). */
static struct roar_conn *
conn_of(pid_t pid)
{
	struct roar_conn *c = roar_conn_new(-1);

	c->peer_pid = pid;
	return c;
}

START_TEST(ledger_is_found_beside_the_socket)
{
	ck_assert(M.ledger_on);
	ck_assert_int_ge(T.fd, 0);
}
END_TEST

START_TEST(what_never_arrived_is_dropped_and_marked)
{
	struct roar_conn *c = conn_of(100);
	struct roar_proc *p;

	/* Made 6 frames (hello, 2 writes, 3 that died in its queue) and
	 * lost 1 event that never became a frame. */
	put_slot(0, 100, 1, 6, 1);
	hello(c, 100, 0);
	file_event(c, 100, "/out/a");
	file_event(c, 100, "/out/b");
	ck_assert_uint_eq(c->slot, 0);
	roar_tally_settle(&T, &M);
	p = roar_merge_find(&M, 100);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->dropped, 3 + 1);
	ck_assert(p->incomplete);
	ck_assert_uint_eq(roar_merge_dropped(&M), 4);
	roar_conn_free(c);
}
END_TEST

START_TEST(complete_stream_is_not_marked)
{
	struct roar_conn *c = conn_of(100);
	struct roar_proc *p;

	put_slot(0, 100, 1, 2, 0);
	hello(c, 100, 0);
	file_event(c, 100, "/out/a");
	roar_tally_settle(&T, &M);
	p = roar_merge_find(&M, 100);
	ck_assert_uint_eq(p->dropped, 0);
	ck_assert(!p->incomplete);
	roar_conn_free(c);
}
END_TEST

START_TEST(a_process_never_heard_of_is_listed)
{
	struct roar_proc *p;

	/* Slot 3 was taken by pid 4242 (child of 100), whose every frame
	 * died with it: nothing ever arrived. */
	put_slot(3, 4242, 100, 7, 0);
	ck_assert_ptr_null(roar_merge_find(&M, 4242));
	roar_tally_settle(&T, &M);
	p = roar_merge_find(&M, 4242);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->dropped, 7);
	ck_assert(p->incomplete);
	ck_assert_int_eq(p->ppid, 100);
	ck_assert_int_eq(roar_merge_parent(&M, p), 100);
}
END_TEST

START_TEST(a_slot_of_another_process_is_not_believed)
{
	struct roar_conn *c = conn_of(500);
	struct roar_proc *p;

	/* Pid 500 names slot 2, which pid 400 took. */
	put_slot(2, 400, 100, 9, 0);
	hello(c, 500, 2);
	roar_tally_settle(&T, &M);
	p = roar_merge_find(&M, 500);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->dropped, 0);
	ck_assert(!p->incomplete);
	ck_assert_ptr_null(roar_merge_find(&M, 400));
	ck_assert_uint_eq(M.ledger_mismatch, 1);
	roar_conn_free(c);
}
END_TEST

START_TEST(dropped_events_on_a_counted_stream_are_not_counted_twice)
{
	struct roar_conn *c = conn_of(100), *old = conn_of(101);
	struct roar_proc *p;

	/* Made: hello, write, dropped(2) = 3 frames, and 2 frames that
	 * were lost (the ones the dropped event speaks of). */
	put_slot(0, 100, 1, 5, 0);
	hello(c, 100, 0);
	file_event(c, 100, "/out/a");
	dropped_event(c, 100, 2);
	/* A stream without a slot (an older library): its own word. */
	hello(old, 101, -1);
	dropped_event(old, 101, 3);
	roar_tally_settle(&T, &M);
	p = roar_merge_find(&M, 100);
	ck_assert_uint_eq(p->dropped, 2);
	ck_assert_uint_eq(roar_merge_find(&M, 101)->dropped, 3);
	ck_assert_uint_eq(roar_merge_dropped(&M), 5);
	roar_conn_free(c);
	roar_conn_free(old);
}
END_TEST

START_TEST(torn_frame_on_a_counted_stream_counts_once)
{
	struct roar_conn *c = conn_of(100);
	unsigned char hdr[ROAR_FRAME_HEADER_SIZE];
	char err[256];

	put_slot(0, 100, 1, 2, 0);
	hello(c, 100, 0);
	/* The second frame's header came, its payload never did. */
	roar_frame_put_len(hdr, 50);
	ck_assert_int_eq(
		roar_conn_feed(c, &M, hdr, sizeof(hdr), err, sizeof(err)), 0);
	ck_assert_int_eq(roar_conn_eof(c, &M), -EINVAL);
	roar_tally_settle(&T, &M);
	ck_assert_uint_eq(M.bad_frames, 1);
	ck_assert_uint_eq(M.bad_in_ledger, 1);
	/* The ledger counts it as made and not got: once, there. */
	ck_assert_uint_eq(
		roar_merge_dropped(&M) + M.bad_frames - M.bad_in_ledger, 1);
	roar_conn_free(c);
}
END_TEST

START_TEST(a_reconnection_resumes_its_slot)
{
	struct roar_conn *c = conn_of(100), *again = conn_of(100);
	struct roar_proc *p;

	/* hello + write on the first connection; resume + 2 writes on the
	 * second (after the program took the first one's fd, say). */
	put_slot(0, 100, 1, 5, 0);
	hello(c, 100, 0);
	file_event(c, 100, "/out/a");
	resume(again, 100, 0);
	file_event(again, 100, "/out/b");
	file_event(again, 100, "/out/c");
	ck_assert_int_eq(again->slot, 0);
	roar_tally_settle(&T, &M);
	p = roar_merge_find(&M, 100);
	ck_assert_uint_eq(p->dropped, 0);
	ck_assert(!p->incomplete);
	ck_assert_uint_eq(M.unknown_events, 0);
	ck_assert_uint_eq(M.nfiles, 3);
	roar_conn_free(c);
	roar_conn_free(again);
}
END_TEST

START_TEST(frames_before_the_hello_are_its_images)
{
	struct roar_conn *c = conn_of(100);
	struct roar_proc *p;

	/* An early hook (another library's constructor) sent two frames
	 * before the image's hello. */
	put_slot(0, 100, 1, 3, 0);
	file_event(c, 100, "/etc/early");
	file_event(c, 100, "/etc/early2");
	hello(c, 100, 0);
	roar_tally_settle(&T, &M);
	p = roar_merge_find(&M, 100);
	ck_assert_uint_eq(p->dropped, 0);
	ck_assert(!p->incomplete);
	roar_conn_free(c);
}
END_TEST

START_TEST(a_resume_for_another_process_slot_is_ignored)
{
	struct roar_conn *c = conn_of(100), *thief = conn_of(666);

	put_slot(0, 100, 1, 2, 0);
	hello(c, 100, 0);
	/* Pid 666 claims slot 0: its frames do not count there. */
	resume(thief, 666, 0);
	file_event(thief, 666, "/out/x");
	ck_assert_int_eq(thief->slot, -1);
	file_event(c, 100, "/out/a");
	roar_tally_settle(&T, &M);
	ck_assert_uint_eq(roar_merge_find(&M, 100)->dropped, 0);
	ck_assert_uint_eq(M.ledger_mismatch, 0);
	roar_conn_free(c);
	roar_conn_free(thief);
}
END_TEST

START_TEST(beat_is_written)
{
	struct roar_ledger_head h;
	int fd = ledger_fd();

	ck_assert_int_eq(pread(fd, &h, sizeof(h), 0), sizeof(h));
	ck_assert_uint_gt(h.beat, 0);
	close(fd);
}
END_TEST

START_TEST(no_ledger_no_counting)
{
	struct roar_merge m;
	struct roar_tally t;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	/* An unbound socket has no path: no ledger. */
	roar_merge_init(&m, 1);
	roar_tally_open(&t, fd, &m);
	ck_assert(!m.ledger_on);
	ck_assert_int_eq(t.fd, -1);
	roar_tally_settle(&t, &m);
	roar_tally_close(&t);
	roar_merge_free(&m);
	close(fd);
}
END_TEST

START_TEST(a_shrunk_ledger_is_harmless)
{
	char path[PATH_MAX];

	/* A peer truncates the file: settling reads what is there. */
	put_slot(0, 100, 1, 3, 0);
	snprintf(path, sizeof(path), "%s%s", sock, ROAR_LEDGER_SUFFIX);
	ck_assert_int_eq(truncate(path, ROAR_LEDGER_HEAD_SIZE), 0);
	roar_tally_settle(&T, &M);
	ck_assert_ptr_null(roar_merge_find(&M, 100));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tally");

	unit_tcase(
		s, "ledger", setup, teardown,
		UNIT_TESTS(
			ledger_is_found_beside_the_socket,
			what_never_arrived_is_dropped_and_marked,
			complete_stream_is_not_marked,
			a_process_never_heard_of_is_listed,
			a_slot_of_another_process_is_not_believed,
			dropped_events_on_a_counted_stream_are_not_counted_twice,
			torn_frame_on_a_counted_stream_counts_once,
			a_reconnection_resumes_its_slot,
			frames_before_the_hello_are_its_images,
			a_resume_for_another_process_slot_is_ignored,
			beat_is_written, no_ledger_no_counting,
			a_shrunk_ledger_is_harmless));
	return unit_run(s);
}
