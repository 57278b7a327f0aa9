/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp supervisor: the collector's second way of seeing, for the
 * images LD_PRELOAD cannot reach (include/roar/image.h decides which, and
 * include/roar/supervise.h arms them).  It runs in a thread of its own,
 * so that a watched call waits only for it, never for the collect loop
 * or the report, and it speaks to the loop as a sender does: frames on a
 * socket, merged by the same code as the library's.  Its frames speak for
 * the process the kernel named in each notification, so the loop takes
 * their "pid" as their sender (conn.h, supervisor).
 *
 * Why here and not in a process of its own: the collector is already
 * where events go; under roar-run and roar-tracer-preload it is the
 * traced tree's ancestor, which Yama's ptrace_scope=1 requires for
 * reading the programs' memory.  When that read is refused (a plain
 * LD_PRELOAD run's auto-started collector, which is no ancestor, under
 * Yama 1), the process is flagged "unseen: memory" and its names are
 * not known.
 */
#ifndef ROAR_SUPERVISE_COLLECTOR_H
#define ROAR_SUPERVISE_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct roar_sup;

/** What the supervisor did, for the report's tracer counters. */
struct roar_sup_stats {
	uint64_t listeners;     /* listeners adopted */
	uint64_t notifications; /* watched calls answered */
	uint64_t unreadable;    /* calls whose arguments could not be read */
	uint64_t handed_on;     /* listeners still live at the end, left to
				   the watchman (supervise_watch.c) */
	uint64_t unrecorded;    /* calls the watchman let go unrecorded
				   while the supervisor could not answer */
};

/** A supervisor, idle until the first listener; NULL when the system
 *  lacks what it needs.  *frames_fd: the socket its frames come on. */
struct roar_sup *roar_sup_new(int *frames_fd);

/**
 * Take the listener fd (owned from now on) that process pid sent with a
 * supervise frame.  Not a listener: closed, and -EINVAL.
 * @return 0 or -errno
 */
int roar_sup_adopt(struct roar_sup *s, int fd, pid_t pid);

/** The socket its frames come on (as roar_sup_new gave it). */
int roar_sup_frames_fd(const struct roar_sup *s);

/** Whether a listener was ever adopted. */
bool roar_sup_active(const struct roar_sup *s);

/**
 * The run is over: settle what waits for a later look (an open's
 * outcome, an exec's), send it, and close the frames socket once all is
 * sent: the loop reads it to its end.  Listeners whose processes still
 * run are handed to a small process that answers them until they end, so
 * that those processes go on.  Returns at once; roar_sup_free waits.
 */
void roar_sup_quiesce(struct roar_sup *s);

/** Wait for the thread, then free.  Frees NULL. */
void roar_sup_free(struct roar_sup *s, struct roar_sup_stats *stats);

#endif /* ROAR_SUPERVISE_COLLECTOR_H */
