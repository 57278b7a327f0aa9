/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of preload/transport.c's queue against a collector that is
 * slow, stalled or not there yet: a frame larger than the socket can
 * hold arrives whole and in order with the frames sent after it (its
 * tail waits in the queue, which stays the stream's continuation); what
 * the queue cannot hold is dropped whole, counted and reported, never
 * torn; and what waited goes out once a collector listens, after the
 * resume that names the image's ledger slot.
 */
#include "config.h"

#include <stdio.h>

#include <msgpack.h>

#include "unit_mp.h"

#include "unit_transport.h"

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

int
main(void)
{
	Suite *s = suite_create("transport_queue");
	TCase *tc;

	tc = unit_tcase(
		s, "stream", setup, teardown,
		UNIT_TESTS(big_frame_to_stalled_reader_arrives_in_order,
			   big_frame_to_trickling_reader_arrives_in_order,
			   frame_the_queue_cannot_hold_is_dropped_whole,
			   frames_wait_for_a_late_collector,
			   a_new_connection_names_its_slot_before_what_waited));
	tcase_set_timeout(tc, 30);
	return unit_run(s);
}
