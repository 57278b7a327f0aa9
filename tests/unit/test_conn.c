/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of collector/conn.c: frames split at every byte boundary,
 * many frames in one read, and bad frames (zero or absurd length, a
 * payload that is not exactly one msgpack value, a malformed event, a
 * truncated frame at end of stream), each counted once in bad_frames;
 * and frames refused because their "pid" is not the connection's peer,
 * which are counted apart and do not end the connection.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <msgpack.h>

#include "roar/protocol.h"
#include "collect.h"
#include "conn.h"
#include "merge.h"
#include "unit.h"
#include "unit_mp.h"

#define ROOT 100

static struct roar_merge M;
static struct roar_conn *C;
static char err[512];

static void
setup(void)
{
	roar_merge_init(&M, ROOT);
	/* No socket: the connection must tolerate fd -1 (no peer, no
	 * close). */
	C = roar_conn_new(-1);
	ck_assert_ptr_nonnull(C);
	err[0] = '\0';
}

static void
teardown(void)
{
	roar_conn_free(C);
	roar_merge_free(&M);
}

/* A growable byte buffer of frames. */
struct bytes {
	unsigned char *p;
	size_t len;
};

static void
put(struct bytes *b, const void *data, size_t len)
{
	b->p = realloc(b->p, b->len + len + 1);
	ck_assert_ptr_nonnull(b->p);
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

/* Append a frame with header len and the given payload. */
static void
put_frame_raw(struct bytes *b, uint32_t len, const void *payload, size_t plen)
{
	unsigned char hdr[ROAR_FRAME_HEADER_SIZE];

	roar_frame_put_len(hdr, len);
	put(b, hdr, sizeof(hdr));
	put(b, payload, plen);
}

/* Append the packed event as one well-formed frame. */
static void
put_event(struct bytes *b, struct ev *e)
{
	put_frame_raw(b, (uint32_t)e->sb.size, e->sb.data, e->sb.size);
	ev_free(e);
}

static void
put_file(struct bytes *b, const char *kind, pid_t pid, const char *path)
{
	struct ev e;

	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, kind);
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_str(&e, ROAR_KEY_PATH, path);
	put_event(b, &e);
}

static void
put_hello(struct bytes *b, pid_t pid, pid_t ppid)
{
	static const char *const argv[] = { "prog", "--flag", NULL };
	struct ev e;

	ev_begin(&e, 6);
	ev_str(&e, ROAR_KEY_KIND, "hello");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_PPID, ppid);
	ev_str(&e, ROAR_KEY_ORIGIN, ROAR_ORIGIN_EXEC);
	ev_double(&e, ROAR_KEY_TIME, 1.5);
	ev_strv(&e, ROAR_KEY_ARGV, argv);
	put_event(b, &e);
}

/* Three good frames: a hello, a read and a write. */
static void
three_frames(struct bytes *b)
{
	put_hello(b, ROOT, 1);
	put_file(b, "read", ROOT, "/in/a.txt");
	put_file(b, "write", ROOT, "/out/b.txt");
}

static void
check_three_applied(const struct roar_merge *m, const struct roar_conn *c)
{
	const struct roar_proc *p = roar_merge_find(m, ROOT);

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(roar_proc_image(p));
	ck_assert_uint_eq(roar_proc_image(p)->argv.n, 2);
	ck_assert_uint_eq(m->nfiles, 2);
	ck_assert(m->file_list[0]->read);
	ck_assert(m->file_list[1]->written);
	ck_assert_uint_eq(m->bad_frames, 0);
	ck_assert_uint_eq(c->frames, 3);
	ck_assert_uint_eq(c->len, 0);
}

START_TEST(conn_without_socket)
{
	ck_assert_int_eq(C->fd, -1);
	ck_assert_int_eq(C->peer_pid, 0);
	ck_assert_int_eq(roar_conn_eof(C, &M), 0);
	roar_conn_free(NULL);
}
END_TEST

START_TEST(conn_peer_credentials)
{
	int sv[2];
	struct roar_conn *c;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = roar_conn_new(sv[0]);
	ck_assert_int_eq(c->peer_pid, getpid());
	roar_conn_free(c); /* closes sv[0] */
	ck_assert_int_eq(close(sv[0]), -1);
	close(sv[1]);
}
END_TEST

START_TEST(several_frames_in_one_buffer)
{
	struct bytes b = { 0 };

	three_frames(&b);
	ck_assert_int_eq(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)),
			 0);
	check_three_applied(&M, C);
	ck_assert_int_eq(roar_conn_eof(C, &M), 0);
	free(b.p);
}
END_TEST

START_TEST(split_at_every_boundary)
{
	struct bytes b = { 0 };

	three_frames(&b);
	for (size_t cut = 0; cut <= b.len; cut++) {
		struct roar_merge m;
		struct roar_conn *c = roar_conn_new(-1);

		roar_merge_init(&m, ROOT);
		ck_assert_int_eq(
			roar_conn_feed(c, &m, b.p, cut, err, sizeof(err)), 0);
		ck_assert_int_eq(roar_conn_feed(c, &m, b.p + cut, b.len - cut,
						err, sizeof(err)),
				 0);
		check_three_applied(&m, c);
		ck_assert_int_eq(roar_conn_eof(c, &m), 0);
		roar_conn_free(c);
		roar_merge_free(&m);
	}
	free(b.p);
}
END_TEST

START_TEST(byte_by_byte)
{
	struct bytes b = { 0 };

	three_frames(&b);
	for (size_t i = 0; i < b.len; i++) {
		ck_assert_int_eq(
			roar_conn_feed(C, &M, b.p + i, 1, err, sizeof(err)), 0);
		/* Nothing is applied before its frame is whole. */
		ck_assert_uint_le(C->len, b.len);
	}
	check_three_applied(&M, C);
	free(b.p);
}
END_TEST

START_TEST(split_at_every_pair_of_boundaries)
{
	struct bytes b = { 0 };

	put_hello(&b, ROOT, 1);
	put_file(&b, "read", ROOT, "/in/a.txt");
	put_file(&b, "write", ROOT, "/out/b.txt");
	for (size_t i = 1; i < b.len; i += 3)
		for (size_t j = i; j < b.len; j += 5) {
			struct roar_merge m;
			struct roar_conn *c = roar_conn_new(-1);

			roar_merge_init(&m, ROOT);
			ck_assert_int_eq(
				roar_conn_feed(c, &m, b.p, i, err, sizeof(err)),
				0);
			ck_assert_int_eq(roar_conn_feed(c, &m, b.p + i, j - i,
							err, sizeof(err)),
					 0);
			ck_assert_int_eq(roar_conn_feed(c, &m, b.p + j,
							b.len - j, err,
							sizeof(err)),
					 0);
			check_three_applied(&m, c);
			roar_conn_free(c);
			roar_merge_free(&m);
		}
	free(b.p);
}
END_TEST

START_TEST(big_frame_grows_buffer)
{
	/* A hello bigger than the initial 64 KiB buffer, fed in pieces. */
	enum {
		N = 3000
	};
	static char arg[100];
	struct bytes b = { 0 };
	struct ev e;
	size_t off = 0;

	memset(arg, 'x', sizeof(arg) - 1);
	ev_begin(&e, 5);
	ev_str(&e, ROAR_KEY_KIND, "hello");
	ev_int(&e, ROAR_KEY_PID, ROOT);
	ev_str(&e, ROAR_KEY_ORIGIN, ROAR_ORIGIN_EXEC);
	ev_double(&e, ROAR_KEY_TIME, 1.0);
	ev_key(&e, ROAR_KEY_ARGV);
	msgpack_pack_array(&e.pk, N);
	for (int i = 0; i < N; i++)
		mp_pack_cstr(&e.pk, arg);
	put_event(&b, &e);
	put_file(&b, "read", ROOT, "/after");
	ck_assert_uint_gt(b.len, 65536);
	while (off < b.len) {
		size_t n = b.len - off < 7777 ? b.len - off : 7777;

		ck_assert_int_eq(
			roar_conn_feed(C, &M, b.p + off, n, err, sizeof(err)),
			0);
		off += n;
	}
	ck_assert_uint_eq(C->frames, 2);
	ck_assert_uint_eq(roar_proc_image(roar_merge_find(&M, ROOT))->argv.n,
			  N);
	ck_assert_uint_eq(M.nfiles, 1);
	free(b.p);
}
END_TEST

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

START_TEST(unknown_kind_is_not_bad)
{
	struct bytes b = { 0 };

	put_file(&b, "rename", ROOT, "/a");
	put_file(&b, "read", ROOT, "/b");
	ck_assert_int_eq(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(M.unknown_events, 1);
	ck_assert_uint_eq(M.bad_frames, 0);
	ck_assert_uint_eq(M.nfiles, 1);
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

/*
 * Also found: conn.c roar_conn_feed() calls memcpy(c->buf + c->len, data,
 * 0) while c->buf is still NULL (a zero-length feed before any data),
 * which UBSan reports as "null pointer passed as argument 1" at
 * conn.c:67.  Harmless in practice, undefined behaviour all the same;
 * this test (and split_at_every_boundary, cut 0) triggers it.
 */
START_TEST(empty_feed)
{
	/* A zero-byte read before anything else (no buffer yet). */
	ck_assert_int_eq(roar_conn_feed(C, &M, "", 0, err, sizeof(err)), 0);
	ck_assert_uint_eq(C->len, 0);
	ck_assert_int_eq(roar_conn_eof(C, &M), 0);
	ck_assert_uint_eq(M.bad_frames, 0);
}
END_TEST

START_TEST(refused_frame_keeps_connection)
{
	struct bytes b = { 0 };

	/* The kernel says ROOT is at the other end. */
	C->peer_pid = ROOT;
	put_file(&b, "write", 300, "/etc/shadow");
	put_hello(&b, 1, 0);
	three_frames(&b);
	ck_assert_int_eq(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)),
			 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(M.bad_frames, 0);
	ck_assert_uint_eq(M.frames_refused, 2);
	ck_assert_uint_eq(C->refused, 2);
	ck_assert_ptr_nonnull(strstr(C->refused_why, "300"));
	ck_assert_ptr_null(roar_merge_find(&M, 300));
	ck_assert_ptr_null(roar_merge_find(&M, 1));
	/* Everything after the refused frames was applied. */
	ck_assert_uint_eq(C->frames, 5);
	ck_assert_uint_eq(M.nfiles, 2);
	ck_assert_ptr_nonnull(roar_proc_image(roar_merge_find(&M, ROOT)));
	/* And the stream goes on. */
	free(b.p);
	b = (struct bytes){ 0 };
	put_file(&b, "read", ROOT, "/later");
	ck_assert_int_eq(roar_conn_feed(C, &M, b.p, b.len, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(M.nfiles, 3);
	ck_assert_uint_eq(C->refused, 2);
	free(b.p);
}
END_TEST

START_TEST(peer_credentials_decide_identity)
{
	struct bytes b = { 0 };
	int sv[2];
	struct roar_conn *c;
	pid_t me = getpid();

	/* A real socket: SO_PEERCRED names us, whatever frames say. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = roar_conn_new(sv[0]);
	put_file(&b, "write", me == 2 ? 3 : 2, "/etc/shadow");
	put_file(&b, "write", me, "/mine");
	ck_assert_int_eq(roar_conn_feed(c, &M, b.p, b.len, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(M.frames_refused, 1);
	ck_assert_uint_eq(c->refused, 1);
	ck_assert_uint_eq(M.nfiles, 1);
	ck_assert_str_eq(M.file_list[0]->path.p, "/mine");
	roar_conn_free(c);
	close(sv[1]);
	free(b.p);
}
END_TEST

/* Send the whole of b on fd (in a child: exits on failure). */
static void
send_all(int fd, const struct bytes *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(fd, b->p + off, b->len - off);

		if (n <= 0)
			_exit(3);
		off += (size_t)n;
	}
}

/*
 * A hostile root, run under the real collect loop with no time limit:
 * it claims to have forked pid 1 and a pid that is already gone, speaks
 * for pid 1 and writes as pid 1, then exits.  The loop must end (it
 * waits for no one but the root), with every claim about pid 1 refused
 * and counted, and the gone pid known but never waited for.
 */
/* ---- the receive-buffer pool (conn.h) --------------------------------- */

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

START_TEST(collect_hostile_root_does_not_hang)
{
	static const char *const argv[] = { "x", NULL };
	char dir[PATH_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct roar_collect_opts o = { .wait_timeout = -1, .quiet = true };
	struct roar_collect_result res;
	struct roar_merge m;
	const struct roar_proc *g;
	sigset_t old;
	pid_t root, gone;
	int lfd, status;

	unit_mkdtemp(dir, sizeof(dir), "collect");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	roar_collect_block_signals(&old);

	root = fork();
	ck_assert_int_ge(root, 0);
	if (root == 0) {
		struct bytes b = { 0 };
		struct ev e;
		pid_t me = getpid();
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		/* A child of ours that is reaped at once: a gone pid. */
		gone = fork();
		if (gone == 0)
			_exit(0);
		if (gone < 0 || waitpid(gone, NULL, 0) != gone)
			_exit(4);
		if (fd < 0 ||
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			_exit(2);
		put_hello(&b, me, getppid());
		ev_begin(&e, 3);
		ev_str(&e, ROAR_KEY_KIND, "fork");
		ev_int(&e, ROAR_KEY_PID, me);
		ev_int(&e, ROAR_KEY_CHILD, 1);
		put_event(&b, &e);
		ev_begin(&e, 3);
		ev_str(&e, ROAR_KEY_KIND, "fork");
		ev_int(&e, ROAR_KEY_PID, me);
		ev_int(&e, ROAR_KEY_CHILD, gone);
		put_event(&b, &e);
		ev_begin(&e, 6);
		ev_str(&e, ROAR_KEY_KIND, "exec");
		ev_int(&e, ROAR_KEY_PID, me);
		ev_int(&e, ROAR_KEY_SUBJECT, 1);
		ev_str(&e, ROAR_KEY_EXE, "/bin/x");
		ev_strv(&e, ROAR_KEY_ARGV, argv);
		ev_double(&e, ROAR_KEY_TIME, 1.0);
		put_event(&b, &e);
		put_file(&b, "write", 1, "/etc/shadow");
		/* And one good frame after the refused ones. */
		put_file(&b, "read", me, "/in");
		send_all(fd, &b);
		close(fd);
		_exit(0);
	}
	roar_merge_init(&m, root);
	o.listen_fd = lfd;
	o.root_pid = root;
	o.root_is_child = true;
	ck_assert_int_eq(roar_collect_run(&o, &m, &res), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	ck_assert(res.root_status_known);
	status = res.root_wait_status;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_uint_eq(m.bad_frames, 0);
	ck_assert_uint_eq(m.frames_refused, 3);
	ck_assert_uint_eq(res.frames_refused, 3);
	ck_assert_ptr_null(roar_merge_find(&m, 1));
	ck_assert_uint_eq(m.nfiles, 1);
	/* The gone child: root's, and counted as exited. */
	ck_assert_uint_eq(m.procs.count, 2);
	for (size_t i = 0; i < m.procs.cap; i++) {
		if (!m.procs.used[i] || m.procs.keys[i] == (uint64_t)root)
			continue;
		g = m.procs.vals[i];
		ck_assert(g->gone);
		ck_assert(g->exited);
		ck_assert(!g->still_running);
		ck_assert_int_eq(g->ppid, root);
	}
	roar_merge_free(&m);
	close(lfd);
	unit_rmtree(dir);
}
END_TEST

static Suite *
conn_suite(void)
{
	Suite *s = suite_create("conn");
	TCase *split = tcase_create("split");
	TCase *bad = tcase_create("bad_frames");

	tcase_add_checked_fixture(split, setup, teardown);
	tcase_add_test(split, conn_without_socket);
	tcase_add_test(split, conn_peer_credentials);
	tcase_add_test(split, several_frames_in_one_buffer);
	tcase_add_test(split, split_at_every_boundary);
	tcase_add_test(split, byte_by_byte);
	tcase_add_test(split, split_at_every_pair_of_boundaries);
	tcase_add_test(split, big_frame_grows_buffer);
	tcase_add_test(split, unknown_kind_is_not_bad);
	tcase_add_test(split, empty_feed);
	tcase_add_test(split, refused_frame_keeps_connection);
	tcase_add_test(split, peer_credentials_decide_identity);
	tcase_add_test(split, pool_buffer_only_while_incomplete);
	tcase_add_test(split, pool_buffer_never_past_frame);
	tcase_add_test(split, pool_tears_stalest);
	tcase_add_test(split, pool_frame_larger_than_budget);
	{
		TCase *loop = tcase_create("loop");

		tcase_set_timeout(loop, 20);
		tcase_add_test(loop, collect_hostile_root_does_not_hang);
		suite_add_tcase(s, loop);
	}
	tcase_set_timeout(split, 60);
	suite_add_tcase(s, split);

	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_test(bad, zero_length_frame);
	tcase_add_test(bad, oversized_frame);
	tcase_add_test(bad, trailing_garbage_in_frame);
	tcase_add_test(bad, truncated_value_in_frame);
	tcase_add_test(bad, garbage_payload);
	tcase_add_test(bad, malformed_event_in_good_frame);
	tcase_add_test(bad, non_map_payload);
	tcase_add_test(bad, bad_frame_after_good_ones);
	tcase_add_test(bad, eof_with_leftover_counts_one);
	tcase_add_test(bad, eof_inside_header_counts_one);
	tcase_add_test(bad, regression_huge_count_is_bad_frame);
	suite_add_tcase(s, bad);
	return s;
}

int
main(void)
{
	return unit_run(conn_suite());
}
