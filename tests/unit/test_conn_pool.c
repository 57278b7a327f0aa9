/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the receive-buffer pool (conn.h): a connection holds a
 * buffer only while a frame is incomplete and never past the frame's
 * length; when the pool's budget is spent the stalest incomplete frame
 * is torn (counted, its stream refused from then on), and a frame larger
 * than the whole budget is torn at once.
 */
#include "config.h"

#include <errno.h>

#include "unit_conn.h"

/* A hello of ROOT whose one argument has len bytes: a frame of about
 * len + 64 bytes. */
static void
put_big_hello(struct bytes *b, size_t len)
{
	char *arg = malloc(len + 1);
	struct ev e;

	memset(arg, 'y', len);
	arg[len] = '\0';
	ev_begin(&e, 5);
	ev_str(&e, ROAR_KEY_KIND, "hello");
	ev_int(&e, ROAR_KEY_PID, ROOT);
	ev_str(&e, ROAR_KEY_ORIGIN, ROAR_ORIGIN_EXEC);
	ev_double(&e, ROAR_KEY_TIME, 1.0);
	ev_key(&e, ROAR_KEY_ARGV);
	msgpack_pack_array(&e.pk, 1);
	mp_pack_cstr(&e.pk, arg);
	put_event(b, &e);
	free(arg);
}

START_TEST(pool_buffer_only_while_incomplete)
{
	struct roar_conn_pool pool = { .limit = 1u << 30 };
	unsigned char hdr[ROAR_FRAME_HEADER_SIZE];
	struct bytes b = { 0 };

	C->pool = &pool;
	/* Whole frames are applied in place: nothing is held. */
	three_frames(&b);
	ck_assert_int_eq(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)),
			 0);
	ck_assert_ptr_null(C->buf);
	ck_assert_uint_eq(pool.used, 0);
	/* A frame declared 4 MiB long holds what arrived, not 4 MiB. */
	roar_frame_put_len(hdr, ROAR_FRAME_MAX_PAYLOAD);
	ck_assert_int_eq(
		roar_conn_feed(C, &M, hdr, sizeof(hdr), err, sizeof(err)), 0);
	ck_assert_int_eq(roar_conn_feed(C, &M, b.p, 100, err, sizeof(err)), 0);
	ck_assert_uint_le(C->cap, 16384);
	ck_assert_uint_eq(pool.used, C->cap);
	ck_assert_uint_eq(pool.n, 1);
	ck_assert_int_eq(roar_conn_eof(C, &M), -EINVAL);
	ck_assert_uint_eq(pool.used, 0);
	ck_assert_uint_eq(pool.n, 0);
	free(pool.v);
	free(b.p);
}
END_TEST

START_TEST(pool_buffer_never_past_frame)
{
	struct roar_conn_pool pool = { .limit = 1u << 30 };
	struct bytes b = { 0 };

	C->pool = &pool;
	put_big_hello(&b, 40000);
	/* All but the last byte: the buffer stops at the frame's length
	 * (it would have doubled to 64 KiB). */
	ck_assert_int_eq(
		roar_conn_feed(C, &M, b.p, b.len - 1, err, sizeof(err)), 0);
	ck_assert_uint_eq(C->cap, b.len);
	ck_assert_int_eq(
		roar_conn_feed(C, &M, b.p + b.len - 1, 1, err, sizeof(err)), 0);
	ck_assert_uint_eq(C->frames, 1);
	ck_assert_ptr_null(C->buf);
	ck_assert_uint_eq(pool.used, 0);
	free(pool.v);
	free(b.p);
}
END_TEST

START_TEST(pool_tears_stalest)
{
	struct roar_conn_pool pool = { .limit = 256 * 1024 };
	struct roar_conn *stale = roar_conn_new(-1), *fresh = roar_conn_new(-1);
	struct roar_conn *other = roar_conn_new(-1);
	struct bytes a = { 0 }, b = { 0 };

	stale->pool = fresh->pool = other->pool = &pool;
	put_big_hello(&a, 200000);
	put_big_hello(&b, 200000);
	/* Two incomplete frames; stale stopped arriving long ago. */
	ck_assert_int_eq(
		roar_conn_feed(stale, &M, a.p, 100000, err, sizeof(err)), 0);
	stale->last_ms -= 5000;
	ck_assert_int_eq(roar_conn_feed(other, &M, a.p, 1000, err, sizeof(err)),
			 0);
	ck_assert_int_eq(
		roar_conn_feed(fresh, &M, b.p, 20000, err, sizeof(err)), 0);
	ck_assert(!pool.evicted);
	/* fresh must grow past the budget: stale goes, not other. */
	ck_assert_int_eq(roar_conn_feed(fresh, &M, b.p + 20000,
					b.len - 20000 - 1, err, sizeof(err)),
			 0);
	ck_assert(pool.evicted);
	ck_assert(stale->evicted);
	ck_assert(!other->evicted);
	ck_assert_ptr_null(stale->buf);
	ck_assert_uint_eq(M.limits.frames_torn, 1);
	ck_assert_uint_eq(M.limits.bytes_torn, 100000);
	ck_assert_uint_eq(M.bad_frames, 1);
	ck_assert_uint_le(pool.used, pool.limit);
	/* The torn stream has lost its framing: it is refused from now on. */
	ck_assert_int_eq(
		roar_conn_feed(stale, &M, a.p + 100000, 10, err, sizeof(err)),
		-ENOBUFS);
	/* fresh completes its frame, and gives its buffer back. */
	ck_assert_int_eq(
		roar_conn_feed(fresh, &M, b.p + b.len - 1, 1, err, sizeof(err)),
		0);
	ck_assert_uint_eq(fresh->frames, 1);
	ck_assert_uint_eq(pool.used, other->cap);
	roar_conn_free(stale);
	roar_conn_free(fresh);
	roar_conn_free(other);
	ck_assert_uint_eq(pool.used, 0);
	ck_assert_uint_eq(pool.n, 0);
	free(pool.v);
	free(a.p);
	free(b.p);
}
END_TEST

START_TEST(pool_frame_larger_than_budget)
{
	struct roar_conn_pool pool = { .limit = 32 * 1024 };
	struct bytes b = { 0 };

	C->pool = &pool;
	put_big_hello(&b, 100000);
	ck_assert_int_eq(
		roar_conn_feed(C, &M, b.p, b.len - 1, err, sizeof(err)),
		-ENOBUFS);
	ck_assert(C->evicted);
	ck_assert_uint_eq(M.limits.frames_torn, 1);
	ck_assert_uint_eq(M.bad_frames, 1);
	ck_assert_uint_eq(pool.used, 0);
	/* Nothing more is counted at its end: it was counted once. */
	ck_assert_int_eq(roar_conn_eof(C, &M), 0);
	ck_assert_uint_eq(M.bad_frames, 1);
	free(pool.v);
	free(b.p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conn_pool");
	TCase *tc;

	tc = unit_tcase(s, "split", setup, teardown,
			UNIT_TESTS(pool_buffer_only_while_incomplete,
				   pool_buffer_never_past_frame,
				   pool_tears_stalest,
				   pool_frame_larger_than_budget));
	tcase_set_timeout(tc, 60);
	return unit_run(s);
}
