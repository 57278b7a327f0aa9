/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of collector/conn.c against bad frames: a zero or absurd
 * length, a payload that is not exactly one msgpack value (trailing
 * garbage, a truncated value, a huge count, not a map), a malformed event
 * in a good frame, and a frame cut short at the end of the stream; each
 * is counted once in bad_frames and named in the error.
 */
#include "config.h"

#include <errno.h>

#include "unit_conn.h"

static void
check_bad(int rc, uint64_t bad, const char *why)
{
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_uint_eq(M.bad_frames, bad);
	ck_assert_msg(strstr(err, why) != NULL, "err \"%s\" lacks \"%s\"", err,
		      why);
}

START_TEST(zero_length_frame)
{
	static const unsigned char zero[4] = { 0, 0, 0, 0 };

	check_bad(roar_conn_feed(C, &M, zero, sizeof(zero), err, sizeof(err)),
		  1, "bad frame");
}
END_TEST

START_TEST(oversized_frame)
{
	unsigned char hdr[4];

	/* The largest allowed length is only incomplete, not bad... */
	roar_frame_put_len(hdr, ROAR_FRAME_MAX_PAYLOAD);
	ck_assert_int_eq(roar_conn_feed(C, &M, hdr, 4, err, sizeof(err)), 0);
	ck_assert_uint_eq(M.bad_frames, 0);
	roar_conn_free(C);
	C = roar_conn_new(-1);
	/* ...one more is. */
	roar_frame_put_len(hdr, ROAR_FRAME_MAX_PAYLOAD + 1);
	check_bad(roar_conn_feed(C, &M, hdr, 4, err, sizeof(err)), 1,
		  "bad frame");
	roar_conn_free(C);
	C = roar_conn_new(-1);
	/* And 0xffffffff, split inside its header. */
	memset(hdr, 0xff, sizeof(hdr));
	ck_assert_int_eq(roar_conn_feed(C, &M, hdr, 3, err, sizeof(err)), 0);
	check_bad(roar_conn_feed(C, &M, hdr + 3, 1, err, sizeof(err)), 2,
		  "bad frame");
}
END_TEST

START_TEST(trailing_garbage_in_frame)
{
	struct bytes b = { 0 };
	struct ev e;
	unsigned char *payload;
	size_t plen;

	ev_begin(&e, 3);
	ev_str(&e, ROAR_KEY_KIND, "read");
	ev_int(&e, ROAR_KEY_PID, ROOT);
	ev_str(&e, ROAR_KEY_PATH, "/x");
	plen = e.sb.size + 1;
	payload = malloc(plen);
	memcpy(payload, e.sb.data, e.sb.size);
	payload[plen - 1] = 0xc0; /* a msgpack nil after the map */
	put_frame_raw(&b, (uint32_t)plen, payload, plen);
	check_bad(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)), 1,
		  "bad frame");
	/* Nothing of it was applied. */
	ck_assert_uint_eq(M.nfiles, 0);
	ck_assert_ptr_null(roar_merge_find(&M, ROOT));
	ev_free(&e);
	free(payload);
	free(b.p);
}
END_TEST

START_TEST(truncated_value_in_frame)
{
	/* The frame's length ends inside the msgpack value. */
	struct bytes b = { 0 };
	struct ev e;

	ev_begin(&e, 3);
	ev_str(&e, ROAR_KEY_KIND, "read");
	ev_int(&e, ROAR_KEY_PID, ROOT);
	ev_str(&e, ROAR_KEY_PATH, "/x");
	put_frame_raw(&b, (uint32_t)e.sb.size - 2, e.sb.data, e.sb.size - 2);
	check_bad(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)), 1,
		  "bad frame");
	ev_free(&e);
	free(b.p);
}
END_TEST

START_TEST(garbage_payload)
{
	/* 0xc1 is never used in msgpack. */
	static const unsigned char junk[] = { 0xc1, 0xc1, 0xc1 };
	struct bytes b = { 0 };

	put_frame_raw(&b, sizeof(junk), junk, sizeof(junk));
	check_bad(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)), 1,
		  "bad frame");
	free(b.p);
}
END_TEST

/*
 * Found by tests/fuzz: msgpack-c allocates a container's elements from
 * its header's count before reading them, so five bytes claiming 2^32-1
 * map entries made the collector ask for 128 GiB (ASan aborts on it; a
 * plain build got NOMEM, or with overcommit the memory).  A count larger
 * than the bytes left is refused before msgpack-c sees it.  The test
 * fails before the fix in the sanitizer build, whose allocator reports
 * the request.
 */
START_TEST(regression_huge_count_is_bad_frame)
{
	/* A map of 2^32-1 entries; a hello whose argv claims 2^31. */
	static const unsigned char map[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
	static const unsigned char argv[] = {
		0x82, 0xa4, 'k',  'i',  'n',  'd',  0xa5, 'h',
		'e',  'l',  'l',  'o',  0xa4, 'a',  'r',  'g',
		'v',  0xdd, 0x80, 0x00, 0x00, 0x00, 0xc0,
	};
	struct bytes b = { 0 };

	put_frame_raw(&b, sizeof(map), map, sizeof(map));
	check_bad(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)), 1,
		  "not one msgpack value");
	free(b.p);
	roar_conn_free(C);
	C = roar_conn_new(-1);
	b = (struct bytes){ 0 };
	put_frame_raw(&b, sizeof(argv), argv, sizeof(argv));
	check_bad(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)), 2,
		  "not one msgpack value");
	free(b.p);
}
END_TEST

START_TEST(malformed_event_in_good_frame)
{
	struct bytes b = { 0 };

	put_file(&b, "read", ROOT, "relative/path");
	check_bad(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)), 1,
		  "bad frame");
	ck_assert_uint_eq(M.nfiles, 0);
	free(b.p);
}
END_TEST

START_TEST(non_map_payload)
{
	struct bytes b = { 0 };
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_int(&pk, 1);
	put_frame_raw(&b, (uint32_t)sb.size, sb.data, sb.size);
	check_bad(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)), 1,
		  "bad frame");
	msgpack_sbuffer_destroy(&sb);
	free(b.p);
}
END_TEST

START_TEST(bad_frame_after_good_ones)
{
	static const unsigned char zero[4] = { 0 };
	struct bytes b = { 0 };

	three_frames(&b);
	put(&b, zero, sizeof(zero));
	put_file(&b, "read", ROOT, "/never");
	check_bad(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)), 1,
		  "bad frame #4");
	/* The good frames before it were applied, nothing after it. */
	ck_assert_uint_eq(C->frames, 3);
	ck_assert_uint_eq(M.nfiles, 2);
	free(b.p);
}
END_TEST

START_TEST(eof_with_leftover_counts_one)
{
	struct bytes b = { 0 };

	put_file(&b, "read", ROOT, "/a");
	put_file(&b, "read", ROOT, "/b");
	/* The second frame is cut short by the sender's death. */
	ck_assert_int_eq(
		roar_conn_feed(C, &M, b.p, b.len - 3, err, sizeof(err)), 0);
	ck_assert_uint_eq(M.nfiles, 1);
	ck_assert_int_eq(roar_conn_eof(C, &M), -EINVAL);
	ck_assert_uint_eq(M.bad_frames, 1);
	/* Once only. */
	ck_assert_int_eq(roar_conn_eof(C, &M), 0);
	ck_assert_uint_eq(M.bad_frames, 1);
	free(b.p);
}
END_TEST

START_TEST(eof_inside_header_counts_one)
{
	static const unsigned char two[2] = { 5, 0 };

	ck_assert_int_eq(roar_conn_feed(C, &M, two, 2, err, sizeof(err)), 0);
	ck_assert_int_eq(roar_conn_eof(C, &M), -EINVAL);
	ck_assert_uint_eq(M.bad_frames, 1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conn_bad_frames");

	unit_tcase(s, "bad_frames", setup, teardown,
		   UNIT_TESTS(zero_length_frame, oversized_frame,
			      trailing_garbage_in_frame,
			      truncated_value_in_frame, garbage_payload,
			      malformed_event_in_good_frame, non_map_payload,
			      bad_frame_after_good_ones,
			      eof_with_leftover_counts_one,
			      eof_inside_header_counts_one,
			      regression_huge_count_is_bad_frame));
	return unit_run(s);
}
