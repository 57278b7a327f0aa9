/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One accepted connection: its receive buffer and frame splitting.  A
 * frame whose length is absurd, or whose payload is not one well-formed
 * event, is a bad frame: it is counted, and the connection is dropped (its
 * stream can no longer be trusted); the rest of the run is unaffected.  A
 * well-formed frame the identity rules refuse (merge.h) is not bad: it is
 * counted, here and in the run, and the connection goes on.
 */
#ifndef ROAR_CONN_H
#define ROAR_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "merge.h"

/*
 * The receive buffers of all connections, and their budget.
 *
 * Policy: a connection holds a buffer only while a frame of it is
 * incomplete, sized to what has arrived (never past the frame's declared
 * length).  When a buffer must grow and the budget cannot cover it, the
 * connections whose incomplete frames have gone longest without a byte
 * are torn down, stalest first, until it can: a sender of our library
 * writes a frame in one go, so the one still sending is the one to keep,
 * and a frame that stopped arriving (a sender that hung, or no sender of
 * ours) is the one to lose.  Nobody waits for memory, so no sender is
 * stalled; nothing is lost silently: each torn frame is a bad frame
 * (events_dropped) and is counted in roar_limits.frames_torn, and the
 * torn connection is dropped (its stream has lost its framing).
 */
struct roar_conn_pool {
	size_t used;          /* bytes of buffer held, all connections */
	size_t limit;         /* ROAR_CONN_BUDGET unless a test sets less */
	struct roar_conn **v; /* the connections holding a buffer */
	size_t n;
	bool evicted; /* a connection was torn: the loop drops
				     those with roar_conn.evicted set */
};

struct roar_conn {
	int fd;
	pid_t peer_pid; /* SO_PEERCRED */
	pid_t alias;    /* the peer's pid in its own PID namespace, when
			      that is not ours (0: not known, or the same) */
	bool alias_known;
	unsigned char *buf;
	size_t len;
	size_t cap;
	unsigned long frames;
	int64_t slot;          /* the ledger slot its current image counts in
			      (tally.h), or -1 */
	uint64_t unslotted;    /* frames since it last named a slot, or since
			       it began: an image's early frames, which
			       its hello brings into its slot */
	unsigned long refused; /* frames of this connection refused */
	char refused_why[160]; /* why the first of them was */
	struct roar_conn_pool *pool; /* NULL: no budget (unit tests) */
	size_t pool_slot;     /* index in pool->v while holding a buffer */
	uint64_t accepted_ms; /* roar_mono_ms() when accepted */
	uint64_t last_ms;     /* when bytes last came; 0: none yet */
	bool evicted;         /* its incomplete frame was torn (pool) */
	bool supervisor;      /* the seccomp supervisor's frames
				 (supervise.h): each speaks for its "pid" */
};

/** A connection on fd (owned from now on). */
struct roar_conn *roar_conn_new(int fd);

/** Close and free. */
void roar_conn_free(struct roar_conn *c);

/* Entries of a map roar_conn_flat_unpack takes (a fixmap's most). */
#define ROAR_CONN_FLAT_MAX 15

/**
 * The fast path of a frame's payload (p, n bytes): one map of at most
 * ROAR_CONN_FLAT_MAX entries, fixstr keys, scalar or string values, made
 * into *root (its entries in kv) as msgpack_unpack_next would: the same
 * types and values; strings point into p (an empty one too, where
 * msgpack-c gives NULL).  Nothing allocated.  false for anything else
 * (left to msgpack-c), or a payload cut short or with bytes over.
 */
bool roar_conn_flat_unpack(const unsigned char *p, uint32_t n,
			   msgpack_object *root, msgpack_object_kv *kv);

/**
 * Append bytes received on the connection and apply every complete frame.
 * @return 0, or -EINVAL after a bad frame (the caller drops the
 *         connection; m->bad_frames was incremented and err says why), or
 *         -ENOBUFS when its incomplete frame was torn to keep the pool's
 *         budget (counted; the caller drops the connection)
 */
int roar_conn_feed(struct roar_conn *c, struct roar_merge *m, const void *data,
		   size_t len, char *err, size_t errlen);

/**
 * The connection ended: bytes left over are a truncated frame.
 * @return 0, or -EINVAL when a partial frame was lost (counted)
 */
int roar_conn_eof(struct roar_conn *c, struct roar_merge *m);

#endif /* ROAR_CONN_H */
