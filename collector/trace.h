/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One traced run from set-up to report, the same for every front end:
 * roar-tracer-preload and roar-run (launch.c) create the socket
 * directory themselves, roar-collector adopts the one the library made
 * for plain LD_PRELOAD (preload/autostart.c, which must use raw system
 * calls and so makes it on its own, by the names of
 * include/roar/sockdir.h).
 *
 *   roar_trace_create or roar_trace_adopt   the socket (and its ledger)
 *   roar_trace_begin                        the merge, for the root's pid
 *   roar_trace_run                          collect (collect.h)
 *   roar_trace_finish                       diagnosis, report, socket gone
 *
 * roar_trace_remove undoes a create that is not followed by a run.
 */
#ifndef ROAR_TRACE_H
#define ROAR_TRACE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "collect.h"
#include "merge.h"

struct roar_trace {
	char dir[PATH_MAX];    /* the socket directory; "" when none */
	char sock[PATH_MAX];   /* its socket; "" when none */
	int listen_fd;         /* -1 when none */
	char report[PATH_MAX]; /* where the report goes */
	struct roar_merge m;
	bool begun; /* m is initialised */
};

/**
 * A private socket directory in $TMPDIR (or /tmp), mode 0700, with its
 * socket (0600, listening) and ledger.  On failure err says what failed
 * and nothing is left behind.  @return 0 or -errno
 */
int roar_trace_create(struct roar_trace *t, const char *report, char *err,
		      size_t errlen);

/** A socket someone else made: listen_fd in dir (NULL: not ours to
 *  remove, and nothing to exclude). */
void roar_trace_adopt(struct roar_trace *t, int listen_fd, const char *dir,
		      const char *report);

/** The merge of a run whose root is pid: our own paths (the socket
 *  directory, the report) are excluded from its files. */
void roar_trace_begin(struct roar_trace *t, pid_t root);

/** Collect (roar_collect_run); co's listen_fd and root_pid are t's. */
int roar_trace_run(struct roar_trace *t, struct roar_collect_opts *co,
		   struct roar_collect_result *res);

/**
 * Stamp the end, stop listening, diagnose the untraced processes
 * (roar_merge_diagnose), write the report, then remove the socket
 * directory (last: a root waiting for the report waits for that,
 * autostart.c) and free the merge.  @return 0, or -errno with err set
 */
int roar_trace_finish(struct roar_trace *t, char *err, size_t errlen);

/** Stop listening and remove the socket directory, if any. */
void roar_trace_remove(struct roar_trace *t);

#endif /* ROAR_TRACE_H */
