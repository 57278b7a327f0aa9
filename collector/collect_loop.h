/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collect loop's state, shared by its three files and nobody else:
 * collect.c (the loop itself), collect_conns.c (its connections) and
 * collect_notice.c (what it says on stderr).  The public side is
 * collect.h.
 */
#ifndef ROAR_COLLECT_LOOP_H
#define ROAR_COLLECT_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "collect.h"
#include "conn.h"
#include "merge.h"
#include "tally.h"

/* How long the listener stays out of the epoll set before room is made
 * for the connections waiting on it (collect_conns.c). */
#define ROAR_COLLECT_PAUSE_MS 1000u

/* What an epoll event's data names. */
enum roar_loop_tag_kind {
	ROAR_TAG_LISTEN,
	ROAR_TAG_SIGNAL,
	ROAR_TAG_CONN,
	ROAR_TAG_PIDFD,
};

struct roar_loop_tag {
	enum roar_loop_tag_kind kind;
	void *ptr;
};

/* A connection as the loop knows it.  Dropped entries stay allocated
 * until the current batch of epoll events is handled, since a later event
 * of the same batch may still name them. */
struct roar_loop_entry {
	struct roar_loop_tag tag;
	struct roar_conn *c;
	bool dead;
};

struct roar_loop {
	const struct roar_collect_opts *o;
	struct roar_merge *m;
	struct roar_map watches; /* pid -> its watch (collect.c) */
	int epfd;
	int sigfd;
	struct roar_loop_tag listen_tag;
	struct roar_loop_tag signal_tag;
	struct roar_loop_entry **conns;
	size_t nconns;
	struct roar_loop_entry **graveyard;
	size_t ngrave;
	unsigned long alive; /* known processes not yet seen to end */
	bool root_done;
	bool stop; /* asked to stop waiting for descendants */
	int root_status;
	bool root_status_known;
	struct roar_tally tally;
	/* Out of descriptors (collect_conns.c). */
	struct roar_conn_pool pool;
	int reserve_fd;       /* /dev/null, closed to make room; -1: none */
	bool accept_paused;   /* the listener is out of the epoll set */
	uint64_t paused_ms;   /* when it was taken out */
	bool said_fds;        /* the one diagnostic about it was given */
	bool said_torn;       /* the one diagnostic about torn frames */
	uint64_t notice_ms;   /* when to name who we wait for; 0: not yet
				   due, UINT64_MAX: said */
	uint64_t start_ms;    /* when the loop began */
	uint64_t progress_ms; /* when the next progress line is due */
	uint64_t fd_limit;    /* RLIMIT_NOFILE, once raised */
	/* The seccomp supervisor (supervise.h), its frames' connection,
	 * and whether its last frames were read. */
	struct roar_sup *sup;
	struct roar_loop_entry *sup_entry;
	bool sup_done;
};

/* ---- collect.c -------------------------------------------------------- */

/** p has ended (or is no longer waited for): one less to wait for. */
void roar_collect_mark_exited(struct roar_loop *l, struct roar_proc *p);

/* ---- collect_conns.c -------------------------------------------------- */

/** Accept every waiting connection and read what it has, unless paused. */
void roar_collect_accept_all(struct roar_loop *l);

/** Read what e has; returns false when e was dropped. */
bool roar_collect_read_conn(struct roar_loop *l, struct roar_loop_entry *e);

/** The supervisor's frames come on fd: a connection of the loop's. */
void roar_collect_add_supervisor(struct roar_loop *l, int fd);

/** The run is over: have the supervisor say its last and read it all. */
void roar_collect_drain_supervisor(struct roar_loop *l);

/** Close e; its entry lives on until roar_collect_bury. */
void roar_collect_drop_conn(struct roar_loop *l, struct roar_loop_entry *e);

/** Free the entries dropped during the batch just handled. */
void roar_collect_bury(struct roar_loop *l);

/** Out of descriptors for a while (or now, at the end): make room. */
void roar_collect_make_room(struct roar_loop *l, bool now);

/** Raise RLIMIT_NOFILE to its hard limit; returns the limit now. */
uint64_t roar_collect_raise_nofile(void);

/** Say how many connections were refused for want of descriptors. */
void roar_collect_say_refused(const struct roar_loop *l);

/* ---- collect_notice.c ------------------------------------------------- */

/** One line on stderr, unless quiet. */
void roar_collect_diag(const struct roar_loop *l, const char *msg);

/** Give the waiting notice or a progress line when due; returns timeout
 *  (ms, < 0: none) shortened to when the next one is due. */
int roar_collect_say_due(struct roar_loop *l, int timeout);

/** Say that the wait was cut short by a signal, unless quiet. */
void roar_collect_say_stopped(const struct roar_loop *l);

#endif /* ROAR_COLLECT_LOOP_H */
