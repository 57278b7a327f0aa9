/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One traced run from the collector's side: accept connections, decode
 * and merge their events, watch every known process's pid (pidfd), and
 * finish when the root and every traced descendant are gone, or when the
 * wait after the root's end runs out.  Event-driven (epoll); no polling.
 */
#ifndef ROAR_COLLECT_H
#define ROAR_COLLECT_H

#include <signal.h>
#include <stdbool.h>
#include <sys/signalfd.h>
#include <sys/types.h>

#include "merge.h"

struct roar_collect_opts {
	int listen_fd;       /* listening, nonblocking or not */
	pid_t root_pid;      /* the command */
	bool root_is_child;  /* we can waitpid it (launcher mode) */
	double wait_timeout; /* seconds after the root ends; < 0: forever */
	bool quiet;          /* no diagnostics on stderr */
	/*
	 * Once the root has ended and others still run, say so on stderr
	 * after this many ms: who we wait for and how to stop waiting.  0:
	 * never (roar-collector, started by the library, has no terminal
	 * of its own to speak to).  prog names us in that line.
	 */
	unsigned notice_after_ms;
	/* While the root runs, a line on stderr every this many ms: how
	 * long, how many processes and files so far (0: never). */
	unsigned progress_every_ms;
	const char *prog;
	/*
	 * Auto-start mode: the root waits in its exit hook until the report
	 * is written (preload/autostart.c), so its exit event followed by
	 * the end of its connection is its end; its pidfd fires only after
	 * the report.
	 */
	bool root_waits;
	/*
	 * Launcher mode: the signals of forward (blocked by the caller too)
	 * go to on_signal instead of the handling described below.  It is
	 * told whether the root has been reaped (its pid may then be
	 * anybody's) and returns whether the signal asks the run to end;
	 * once the root has, that stops the wait for its descendants.
	 */
	const sigset_t *forward;
	bool (*on_signal)(void *ctx, const struct signalfd_siginfo *si,
			  bool root_done);
	void *signal_ctx;
	/* A supervisor made before the command started (the launcher's,
	 * which took the command's listener before the loop ran); the
	 * loop takes it over.  NULL: the loop makes its own. */
	struct roar_sup *sup;
};

struct roar_collect_result {
	bool root_status_known;
	int root_wait_status; /* raw, when root_is_child */
	unsigned long still_running;
	unsigned long bad_frames;
	unsigned long frames_refused; /* by the identity rules (merge.h) */
};

/** Block the signals the loop reads through its signalfd; old gets the
 *  previous mask (may be NULL). */
void roar_collect_block_signals(sigset_t *old);

/**
 * Run the loop; on return m holds the merged run (free with
 * roar_merge_free).  SIGCHLD, SIGTERM, SIGHUP, SIGINT and SIGQUIT must be
 * blocked by the caller; TERM and HUP are passed on to the root unless
 * o->forward names them.
 * @return 0 or -errno
 */
int roar_collect_run(const struct roar_collect_opts *o, struct roar_merge *m,
		     struct roar_collect_result *res);

#endif /* ROAR_COLLECT_H */
