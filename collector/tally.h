/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's side of the ledger (include/roar/ledger.h): create it
 * beside a socket, beat in it while the loop works, and, once the run is
 * over, settle every slot against the frames that arrived: what a slot
 * made and the collector never got is a dropped event of that process,
 * which is then marked incomplete in the report.
 *
 * The frames got per slot are counted in the merge (struct roar_merge,
 * "slot_got"), by the connection that carries them (conn.c).
 */
#ifndef ROAR_TALLY_H
#define ROAR_TALLY_H

#include <stdint.h>

#include "merge.h"

struct roar_tally {
	int fd; /* -1: no ledger (nothing is counted) */
	uint64_t last_beat;
};

/** Create the ledger of the socket at sock_path.  @return 0 or -errno. */
int roar_tally_create(const char *sock_path);

/** Remove the ledger of the socket at sock_path (if any). */
void roar_tally_unlink(const char *sock_path);

/**
 * Open the ledger of the socket listen_fd is bound to; t->fd is -1 when
 * there is none (a run set up by an older launcher).  Sets m->ledger_on.
 */
void roar_tally_open(struct roar_tally *t, int listen_fd, struct roar_merge *m);

/** A sign of life, at most every few ms (cheap to call often). */
void roar_tally_beat(struct roar_tally *t);

/** Settle every slot into m (dropped counts, incomplete marks). */
void roar_tally_settle(struct roar_tally *t, struct roar_merge *m);

/** Close the ledger (the file stays; see roar_tally_unlink). */
void roar_tally_close(struct roar_tally *t);

#endif /* ROAR_TALLY_H */
