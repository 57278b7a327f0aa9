/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of conn.c's fast path for flat frames (roar_conn_flat_unpack)
 * against msgpack-c itself: random flat maps, in every encoding a number
 * or a string may take (not only the shortest), must come out as the
 * very objects msgpack_unpack_next makes; a payload cut short, or with a
 * byte over, is refused; what is not flat (an array, a nested map, an
 * ext, a long key, too many entries) is left to msgpack-c; and frames fed
 * whole and fed a byte at a time merge alike.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "unit_conn.h"

struct buf {
	unsigned char b[1 << 16];
	size_t n;
};

static void
put_raw(struct buf *b, const void *p, size_t n)
{
	ck_assert_uint_le(b->n + n, sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
put_u8(struct buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;

	put_raw(b, &c, 1);
}

static void
put_be(struct buf *b, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		put_u8(b, (unsigned)(v >> (8 * i)) & 0xff);
}

static uint64_t
rnd64(void)
{
	return (uint64_t)random() << 33 ^ (uint64_t)random() << 11 ^
	       (uint64_t)random();
}

/* A string or bin of len random bytes, in one of the encodings that
 * hold it. */
static void
put_bytes(struct buf *b, bool bin, size_t len)
{
	int pick = (int)(random() % 4);

	if (!bin && len < 32 && pick == 0)
		put_u8(b, 0xa0 | (unsigned)len);
	else if (len < 256 && pick <= 1)
		put_u8(b, bin ? 0xc4 : 0xd9), put_be(b, len, 1);
	else if (pick <= 2)
		put_u8(b, bin ? 0xc5 : 0xda), put_be(b, len, 2);
	else
		put_u8(b, bin ? 0xc6 : 0xdb), put_be(b, len, 4);
	for (size_t i = 0; i < len; i++)
		put_u8(b, (unsigned)random() & 0xff);
}

/* One random scalar or string value, in a random encoding. */
static void
put_value(struct buf *b)
{
	uint64_t u = rnd64();
	int width = 1 << (random() % 4); /* 1, 2, 4 or 8 bytes */
	uint64_t mask = width == 8 ? ~0ull : (1ull << (8 * width)) - 1;

	switch (random() % 11) {
	case 0:
		put_u8(b, (unsigned)(u & 0x7f)); /* positive fixint */
		break;
	case 1:
		put_u8(b, 0xe0 | (unsigned)(u & 0x1f)); /* negative fixint */
		break;
	case 2: /* unsigned, any width */
		put_u8(b, 0xcc + (unsigned)__builtin_ctz((unsigned)width));
		put_be(b, u & mask, width);
		break;
	case 3: /* signed, any width, either sign */
		put_u8(b, 0xd0 + (unsigned)__builtin_ctz((unsigned)width));
		put_be(b, u & mask, width);
		break;
	case 4: {
		float f = (float)((double)(int64_t)u / 1e9);
		uint32_t bits;

		memcpy(&bits, &f, 4);
		put_u8(b, 0xca);
		put_be(b, bits, 4);
		break;
	}
	case 5: {
		double d = (double)(int64_t)u / 1e7;
		uint64_t bits;

		memcpy(&bits, &d, 8);
		put_u8(b, 0xcb);
		put_be(b, bits, 8);
		break;
	}
	case 6:
		put_u8(b, 0xc0);
		break;
	case 7:
		put_u8(b, 0xc2 + (unsigned)(u & 1));
		break;
	case 8:
		put_bytes(b, true, (size_t)(u % 300));
		break;
	default:
		put_bytes(b, false, (size_t)(u % 300));
		break;
	}
}

/* A random flat map of keys entries. */
static void
put_flat(struct buf *b, unsigned keys)
{
	b->n = 0;
	put_u8(b, 0x80 | keys);
	for (unsigned i = 0; i < keys; i++) {
		size_t kl = (size_t)(random() % 32);

		put_u8(b, 0xa0 | (unsigned)kl);
		for (size_t k = 0; k < kl; k++)
			put_u8(b, 'a' + (unsigned)(random() % 26));
		put_value(b);
	}
}

/* Equal as msgpack-c means it, floats by their bits (a NaN too). */
static bool
same(const msgpack_object *a, const msgpack_object *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return !memcmp(&a->via.f64, &b->via.f64, sizeof(double));
	case MSGPACK_OBJECT_MAP:
		if (a->via.map.size != b->via.map.size)
			return false;
		for (uint32_t i = 0; i < a->via.map.size; i++)
			if (!same(&a->via.map.ptr[i].key,
				  &b->via.map.ptr[i].key) ||
			    !same(&a->via.map.ptr[i].val,
				  &b->via.map.ptr[i].val))
				return false;
		return true;
	default:
		return msgpack_object_equal(*a, *b);
	}
}

/* msgpack-c's own reading of p: true when it is one whole value. */
static bool
reference(const unsigned char *p, size_t n, msgpack_unpacked *u)
{
	size_t used = 0;

	msgpack_unpacked_init(u);
	return msgpack_unpack_next(u, (const char *)p, n, &used) ==
		       MSGPACK_UNPACK_SUCCESS &&
	       used == n;
}

START_TEST(random_flat_maps_read_as_msgpack_c_reads_them)
{
	static struct buf b;
	msgpack_object_kv kv[ROAR_CONN_FLAT_MAX];
	msgpack_object root;

	srandom(11);
	for (int round = 0; round < 3000; round++) {
		msgpack_unpacked u;

		put_flat(&b, (unsigned)(random() % 16)); /* a fixmap */
		ck_assert_msg(
			reference(b.b, b.n, &u),
			"round %d: msgpack-c refused %zu bytes, first %02x %02x %02x %02x",
			round, b.n, b.b[0], b.b[1], b.b[2], b.b[3]);
		ck_assert_msg(
			roar_conn_flat_unpack(b.b, (uint32_t)b.n, &root, kv),
			"round %d refused", round);
		ck_assert_msg(same(&root, &u.data), "round %d differs", round);
		/* Strings point into the payload, as msgpack-c's do. */
		for (uint32_t i = 0; i < root.via.map.size; i++)
			ck_assert(kv[i].key.via.str.ptr >= (const char *)b.b &&
				  kv[i].key.via.str.ptr <
					  (const char *)b.b + b.n);
		msgpack_unpacked_destroy(&u);
	}
}
END_TEST

START_TEST(cut_short_or_with_a_byte_over_is_refused)
{
	static struct buf b;
	msgpack_object_kv kv[ROAR_CONN_FLAT_MAX];
	msgpack_object root;

	srandom(12);
	for (int round = 0; round < 300; round++) {
		put_flat(&b, 1 + (unsigned)(random() % 15));
		for (size_t cut = 0; cut < b.n; cut++)
			ck_assert_msg(!roar_conn_flat_unpack(b.b, (uint32_t)cut,
							     &root, kv),
				      "round %d: a prefix of %zu bytes taken",
				      round, cut);
		put_u8(&b, 0xc0);
		ck_assert(
			!roar_conn_flat_unpack(b.b, (uint32_t)b.n, &root, kv));
	}
}
END_TEST

START_TEST(what_is_not_flat_is_left_to_msgpack_c)
{
	static const struct {
		const char *what;
		unsigned char b[24];
		size_t n;
	} cases[] = {
		{ "array value", { 0x81, 0xa1, 'a', 0x91, 0x01 }, 5 },
		{ "map value", { 0x81, 0xa1, 'a', 0x81, 0xa1, 'b', 0x01 }, 7 },
		{ "ext value", { 0x81, 0xa1, 'a', 0xd4, 0x01, 0x02 }, 6 },
		{ "str8 key", { 0x81, 0xd9, 0x01, 'a', 0x01 }, 5 },
		{ "integer key", { 0x81, 0x01, 0x01 }, 3 },
		{ "map16", { 0xde, 0x00, 0x01, 0xa1, 'a', 0x01 }, 6 },
		{ "not a map", { 0x92, 0x01, 0x02 }, 3 },
		{ "never-used byte", { 0x81, 0xa1, 'a', 0xc1 }, 4 },
		{ "empty", { 0 }, 0 },
	};
	msgpack_object_kv kv[ROAR_CONN_FLAT_MAX];
	msgpack_object root;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(!roar_conn_flat_unpack(cases[i].b,
						     (uint32_t)cases[i].n,
						     &root, kv),
			      "%s taken", cases[i].what);
}
END_TEST

static void
put_files(struct bytes *b, int from, int to)
{
	for (int i = from; i < to; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/data/in/file-%05d", i);
		put_file(b, "read", ROOT, path);
	}
}

START_TEST(frames_whole_or_a_byte_at_a_time_merge_alike)
{
	struct bytes b = { 0 };
	bool seen[300] = { false };

	put_hello(&b, ROOT, 1);
	put_files(&b, 0, 200);
	ck_assert_int_eq(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(M.nfiles, 200);
	/* Some of the same again, and new ones, a byte at a time. */
	b.len = 0;
	put_files(&b, 100, 300);
	for (size_t k = 0; k < b.len; k++)
		ck_assert_int_eq(
			roar_conn_feed(C, &M, b.p + k, 1, err, sizeof(err)), 0);
	ck_assert_uint_eq(M.nfiles, 300);
	ck_assert_uint_eq(M.bad_frames, 0);
	ck_assert_uint_eq(C->frames, 1 + 200 + 200);
	for (size_t i = 0; i < M.nfiles; i++) {
		const struct roar_file *f = M.file_list[i];
		int n = -1;

		ck_assert(f->read);
		ck_assert_int_eq(sscanf(f->path.p, "/data/in/file-%d", &n), 1);
		ck_assert(n >= 0 && n < 300 && !seen[n]);
		seen[n] = true;
	}
	free(b.p);
}
END_TEST

/* The same buffer fed twice, other paths of the same length at the same
 * places the second time: no hash of the first feed's paths is taken for
 * the second's (an error partway, too, forgets them). */
START_TEST(a_buffer_used_again_is_hashed_again)
{
	struct bytes b = { 0 }, again = { 0 };
	unsigned char *buf;

	put_hello(&b, ROOT, 1);
	ck_assert_int_eq(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)),
			 0);
	b.len = 0;
	put_files(&b, 0, 50);
	put_files(&again, 500, 550);
	ck_assert_uint_eq(b.len, again.len);
	buf = malloc(b.len + 4);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, b.p, b.len);
	ck_assert_int_eq(roar_conn_feed(C, &M, buf, b.len, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(M.nfiles, 50);
	memcpy(buf, again.p, again.len);
	ck_assert_int_eq(
		roar_conn_feed(C, &M, buf, again.len, err, sizeof(err)), 0);
	ck_assert_uint_eq(M.nfiles, 100);
	/* The first ones again, then a bad frame: none new, and then the
	 * second ones again, none new either. */
	memcpy(buf, b.p, b.len);
	memset(buf + b.len, 0, 4); /* a zero length: a bad frame */
	ck_assert_int_eq(
		roar_conn_feed(C, &M, buf, b.len + 4, err, sizeof(err)),
		-EINVAL);
	ck_assert_uint_eq(M.nfiles, 100);
	roar_conn_free(C);
	C = roar_conn_new(-1);
	memcpy(buf, again.p, again.len);
	ck_assert_int_eq(
		roar_conn_feed(C, &M, buf, again.len, err, sizeof(err)), 0);
	ck_assert_uint_eq(M.nfiles, 100);
	free(buf);
	free(b.p);
	free(again.p);
}
END_TEST

/* A file frame for path, with an array after its path (so not flat: no
 * prefetch of its own), into b. */
static void
put_file_not_flat(struct bytes *b, const char *path)
{
	static const char *const extra[] = { "x", NULL };
	struct ev e;

	ev_begin(&e, 5);
	ev_str(&e, ROAR_KEY_KIND, "read");
	ev_int(&e, ROAR_KEY_PID, ROOT);
	ev_int(&e, ROAR_KEY_TID, ROOT);
	ev_str(&e, ROAR_KEY_PATH, path);
	ev_strv(&e, "extra", extra);
	put_event(b, &e);
}

/* A prefetched path's hash is not taken for other bytes that come to lie
 * where it lay once its feed is over (even one cut short by a bad frame):
 * a path at the very same address, in a frame that is not prefetched,
 * is hashed anew. */
START_TEST(a_prefetch_is_forgotten_with_its_feed)
{
	static unsigned char fixed[4096];
	struct bytes b = { 0 }, tail = { 0 }, fresh = { 0 };
	const char *first = "/data/in/path-aaaa", *other = "/data/in/path-bbbb";
	size_t start;

	put_hello(&b, ROOT, 1);
	ck_assert_int_eq(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)),
			 0);
	b.len = 0;
	put_files(&b, 0, 3);
	start = b.len;
	put_file(&b, "read", ROOT, first);
	put_frame_raw(&b, 0, "", 0); /* a bad frame after it */
	ck_assert_uint_le(b.len, sizeof(fixed));
	memcpy(fixed, b.p, b.len);
	ck_assert_int_eq(roar_conn_feed(C, &M, fixed, b.len, err, sizeof(err)),
			 -EINVAL);
	ck_assert_uint_eq(M.nfiles, 4);
	/* The other path, where the first one's frame lay (in the same
	 * memory); its path at the same address (the array comes after). */
	put_file_not_flat(&tail, other);
	ck_assert_uint_le(start + tail.len, sizeof(fixed));
	memcpy(fixed + start, tail.p, tail.len);
	roar_conn_free(C);
	C = roar_conn_new(-1);
	ck_assert_int_eq(roar_conn_feed(C, &M, fixed + start, tail.len, err,
					sizeof(err)),
			 0);
	ck_assert_uint_eq(M.nfiles, 5);
	/* Found again by its own hash: no second record. */
	put_file(&fresh, "read", ROOT, other);
	ck_assert_int_eq(
		roar_conn_feed(C, &M, fresh.p, fresh.len, err, sizeof(err)), 0);
	ck_assert_uint_eq(M.nfiles, 5);
	free(b.p);
	free(tail.p);
	free(fresh.p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conn_flat");

	unit_tcase(s, "flat", setup, teardown,
		   UNIT_TESTS(random_flat_maps_read_as_msgpack_c_reads_them,
			      cut_short_or_with_a_byte_over_is_refused,
			      what_is_not_flat_is_left_to_msgpack_c,
			      frames_whole_or_a_byte_at_a_time_merge_alike,
			      a_buffer_used_again_is_hashed_again,
			      a_prefetch_is_forgotten_with_its_feed));
	return unit_run(s);
}
