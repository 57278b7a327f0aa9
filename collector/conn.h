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

struct roar_conn {
	int fd;
	pid_t peer_pid;    /* SO_PEERCRED */
	pid_t alias;       /* the peer's pid in its own PID namespace, when
			      that is not ours (0: not known, or the same) */
	bool alias_known;
	unsigned char *buf;
	size_t len;
	size_t cap;
	unsigned long frames;
	int64_t slot;      /* the ledger slot its current image counts in
			      (tally.h), or -1 */
	uint64_t unslotted; /* frames since it last named a slot, or since
			       it began: an image's early frames, which
			       its hello brings into its slot */
	unsigned long refused;  /* frames of this connection refused */
	char refused_why[160];  /* why the first of them was */
};

/** A connection on fd (owned from now on). */
struct roar_conn *roar_conn_new(int fd);

/** Close and free. */
void roar_conn_free(struct roar_conn *c);

/**
 * Append bytes received on the connection and apply every complete frame.
 * @return 0, or -EINVAL after a bad frame (the caller drops the
 *         connection; m->bad_frames was incremented and err says why)
 */
int roar_conn_feed(struct roar_conn *c, struct roar_merge *m,
		   const void *data, size_t len, char *err, size_t errlen);

/**
 * The connection ended: bytes left over are a truncated frame.
 * @return 0, or -EINVAL when a partial frame was lost (counted)
 */
int roar_conn_eof(struct roar_conn *c, struct roar_merge *m);

#endif /* ROAR_CONN_H */
