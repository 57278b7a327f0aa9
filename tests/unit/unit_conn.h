/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scaffolding of the connection suites (test_conn_*.c,
 * test_collect_loop.c): a growable buffer of frames, well-formed events
 * (a hello, a file event) and raw frames appended to it, and the fixture:
 * a run M whose root is ROOT, fed through a connection C with no socket
 * behind it.  Each suite is one translation unit and includes this
 * header once.
 */
#ifndef ROAR_UNIT_CONN_H
#define ROAR_UNIT_CONN_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "roar/protocol.h"
#include "conn.h"
#include "merge.h"
#include "unit.h"
#include "unit_mp.h"

#define ROOT 100

static struct roar_merge M;
static struct roar_conn *C;
static char err[512];

static inline void
setup(void)
{
	roar_merge_init(&M, ROOT);
	/* No socket: the connection must tolerate fd -1 (no peer, no
	 * close). */
	C = roar_conn_new(-1);
	ck_assert_ptr_nonnull(C);
	err[0] = '\0';
}

static inline void
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

static inline void
put(struct bytes *b, const void *data, size_t len)
{
	b->p = realloc(b->p, b->len + len + 1);
	ck_assert_ptr_nonnull(b->p);
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

/* Append a frame with header len and the given payload. */
static inline void
put_frame_raw(struct bytes *b, uint32_t len, const void *payload, size_t plen)
{
	unsigned char hdr[ROAR_FRAME_HEADER_SIZE];

	roar_frame_put_len(hdr, len);
	put(b, hdr, sizeof(hdr));
	put(b, payload, plen);
}

/* Append the packed event as one well-formed frame. */
static inline void
put_event(struct bytes *b, struct ev *e)
{
	put_frame_raw(b, (uint32_t)e->sb.size, e->sb.data, e->sb.size);
	ev_free(e);
}

static inline void
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

static inline void
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
static inline void
three_frames(struct bytes *b)
{
	put_hello(b, ROOT, 1);
	put_file(b, "read", ROOT, "/in/a.txt");
	put_file(b, "write", ROOT, "/out/b.txt");
}

static inline void
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

#endif /* ROAR_UNIT_CONN_H */
