/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scaffolding of the transport suites (test_transport_*.c): a real
 * listening socket whose reader, a thread, we control (it reads nothing
 * until told to go, or trickles from the start, and may keep a ledger
 * beside the socket), frames of known bytes and the check that they
 * arrived whole and in order, and the fixture: no collector and a
 * private tmpdir.  Each suite is one translation unit and includes this
 * header once.
 */
#ifndef ROAR_UNIT_TRANSPORT_H
#define ROAR_UNIT_TRANSPORT_H

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "roar/ledger.h"
#include "roar/protocol.h"
#include "guard.h"
#include "ledger.h"
#include "session.h"
#include "transport.h"
#include "unit.h"
#include "unit_preload.h"

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

static inline void *
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

static inline void
reader_start(struct reader *r)
{
	r->lfd = unit_listen_in(tmpdir, r->path, sizeof(r->path), 8);
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

/* Let the reader go, close our side, and wait for it to see the end. */
static inline void
reader_finish(struct reader *r)
{
	ck_assert_int_eq(write(r->go[1], "g", 1), 1);
	roar_transport_close();
	ck_assert_int_eq(pthread_join(r->thread, NULL), 0);
	close(r->go[0]);
	close(r->go[1]);
	close(r->lfd);
}

static inline void
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
static inline void
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

static inline void
setup(void)
{
	unit_preload_reset();
	unit_mkdtemp(tmpdir, sizeof(tmpdir), "transport");
}

static inline void
teardown(void)
{
	unit_preload_end();
	unit_rmtree(tmpdir);
}

#endif /* ROAR_UNIT_TRANSPORT_H */
