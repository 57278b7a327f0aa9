/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collect loop's connections: accepting them, reading what they send
 * into the merge, dropping them when they end, and what is done when the
 * descriptors run out (below, "Out of descriptors").
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "roar/scm.h"
#include "collect_loop.h"
#include "conn.h"
#include "supervise.h"
#include "tally.h"

static void resume_accept(struct roar_loop *l);
static struct roar_loop_entry *add_conn(struct roar_loop *l, int fd);

void
roar_collect_drop_conn(struct roar_loop *l, struct roar_loop_entry *e)
{
	if (e->c->refused && !l->o->quiet)
		fprintf(stderr,
			"roar-collector: refused %lu %s from "
			"pid %d: %s\n",
			e->c->refused,
			roar_plural(e->c->refused, "frame", "frames"),
			(int)e->c->peer_pid, e->c->refused_why);
	if (l->o->root_waits && e->c->peer_pid == l->o->root_pid) {
		struct roar_proc *p = roar_merge_find(l->m, l->o->root_pid);

		/* Its last word is said (collect.h, root_waits). */
		if (p && p->has_exit)
			roar_collect_mark_exited(l, p);
	}
	for (size_t i = 0; i < l->nconns; i++)
		if (l->conns[i] == e) {
			l->conns[i] = l->conns[--l->nconns];
			break;
		}
	if (e == l->sup_entry)
		l->sup_entry = NULL;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, e->c->fd, NULL);
	roar_conn_free(e->c);
	e->c = NULL;
	e->dead = true;
	resume_accept(l);
	l->graveyard = roar_xrealloc(l->graveyard,
				     (l->ngrave + 1) * sizeof(*l->graveyard));
	l->graveyard[l->ngrave++] = e;
}

void
roar_collect_bury(struct roar_loop *l)
{
	for (size_t i = 0; i < l->ngrave; i++)
		free(l->graveyard[i]);
	l->ngrave = 0;
}

/* Once per run: incomplete frames are being torn (conn.h, the pool). */
static void
said_torn(struct roar_loop *l)
{
	if (l->said_torn)
		return;
	l->said_torn = true;
	roar_collect_diag(l, "incomplete frames exceed the receive budget; "
			     "the stalest are torn and counted (bad_frames, "
			     "frames_torn)");
}

/* Drop the connections the pool tore down (never the one being read:
 * its own tearing is reported by roar_conn_feed). */
static void
drop_torn(struct roar_loop *l)
{
	said_torn(l);
	l->pool.evicted = false;
	for (size_t i = 0; i < l->nconns;) {
		struct roar_loop_entry *e = l->conns[i];

		if (e->c->evicted)
			roar_collect_drop_conn(l, e);
		else
			i++;
	}
}

/*
 * Read from c as read(2) would, but take the descriptors a sender
 * attached (SCM_RIGHTS): a seccomp listener handed over with a supervise
 * frame goes to the supervisor, anything else is closed.  The kernel
 * never merges bytes that carry descriptors with bytes that do not into
 * one read, so a listener arrives with its own frame.
 */
static ssize_t
receive(struct roar_loop *l, struct roar_conn *c, char *buf, size_t cap)
{
	struct roar_scm scm;
	struct msghdr *msg = roar_scm_recv(&scm, buf, cap);
	ssize_t n = recvmsg(c->fd, msg, MSG_CMSG_CLOEXEC);
	int fd;

	if (n < 0 || c->supervisor || (fd = roar_scm_fd(msg)) < 0)
		return n;
	/* roar_sup_adopt closes what it does not take. */
	if (l->sup && c->peer_pid > 0)
		roar_sup_adopt(l->sup, fd, c->peer_pid);
	else
		close(fd);
	return n;
}

void
roar_collect_add_supervisor(struct roar_loop *l, int fd)
{
	struct roar_loop_entry *e = add_conn(l, fd);

	if (!e) {
		close(fd);
		return;
	}
	e->c->supervisor = true;
	l->sup_entry = e;
}

void
roar_collect_drain_supervisor(struct roar_loop *l)
{
	if (l->sup_done)
		return;
	l->sup_done = true;
	if (!l->sup)
		return; /* no supervisor here (no seccomp user notification) */
	roar_sup_quiesce(l->sup);
	/* Until the supervisor shuts its end (or goes silent for 5 s). */
	while (l->sup_entry) {
		struct pollfd p = { .fd = l->sup_entry->c->fd,
				    .events = POLLIN };

		if (poll(&p, 1, 5000) <= 0)
			break;
		if (!roar_collect_read_conn(l, l->sup_entry))
			break;
	}
	roar_collect_bury(l);
}

/* Read what e has; returns false when e was dropped. */
bool
roar_collect_read_conn(struct roar_loop *l, struct roar_loop_entry *e)
{
	struct roar_conn *c = e->c;
	char buf[65536];
	char err[256];

	for (;;) {
		ssize_t n = receive(l, c, buf, sizeof(buf));

		if (n > 0) {
			roar_tally_beat(&l->tally);
			int rc = roar_conn_feed(c, l->m, buf, (size_t)n, err,
						sizeof(err));

			if (rc == -ENOBUFS) {
				said_torn(l);
				roar_collect_drop_conn(l, e);
				return false;
			}
			if (rc != 0) {
				roar_collect_diag(l, err);
				roar_collect_drop_conn(l, e);
				return false;
			}
			if (l->pool.evicted)
				drop_torn(l);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		/* EOF or error: the sender is gone. */
		if (roar_conn_eof(c, l->m) != 0)
			roar_collect_diag(l, "a connection ended inside a "
					     "frame");
		roar_collect_drop_conn(l, e);
		return false;
	}
}

static struct roar_loop_entry *
add_conn(struct roar_loop *l, int fd)
{
	struct roar_loop_entry *e = roar_xcalloc(1, sizeof(*e));
	struct epoll_event ev = { .events = EPOLLIN };

	e->c = roar_conn_new(fd);
	e->c->pool = &l->pool;
	e->tag = (struct roar_loop_tag){ ROAR_TAG_CONN, e };
	ev.data.ptr = &e->tag;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		roar_conn_free(e->c);
		free(e);
		return NULL;
	}
	l->conns = roar_xrealloc(l->conns, (l->nconns + 1) * sizeof(*l->conns));
	l->conns[l->nconns++] = e;
	return e;
}

/*
 * Out of descriptors.  accept fails with EMFILE or ENFILE while the
 * connection waits in the backlog, so the listener stays readable: left
 * in the epoll set it would wake us forever (1.6 million failures in 4 s
 * were measured).  So it is taken out, and put back when a connection
 * closes (drop_conn).  Meanwhile the waiting senders lose nothing: their
 * frames wait in their sockets.  If no descriptor has come free after
 * PAUSE_MS (and at the end of the run at once), make_room first closes
 * connections that never sent a byte in that time (our library speaks
 * first, always: they are not ours), then takes the waiting connections
 * one by one through the reserve descriptor, reads what each has sent,
 * and closes it: a sender already gone lost nothing; one still there is
 * refused, counted in connections_refused.  One diagnostic, not one per
 * failure.  Other accept errors (ENOMEM, ENOBUFS) are handled the same.
 *
 * The loop stops accepting FD_HEADROOM descriptors short of the limit,
 * not at it: the pidfds of new processes, the kernel's word on a claim
 * (/proc, merge.h) and the report need descriptors too, and a collector
 * at its very limit would refuse the frames of the senders it kept.
 */
#define PAUSE_MS ROAR_COLLECT_PAUSE_MS
#define FD_HEADROOM 16u

static void
pause_accept(struct roar_loop *l, const char *why)
{
	char msg[200];

	if (!l->accept_paused) {
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->o->listen_fd, NULL);
		l->accept_paused = true;
		l->paused_ms = roar_mono_ms();
	}
	if (l->said_fds)
		return;
	l->said_fds = true;
	snprintf(msg, sizeof(msg),
		 "%s with %zu %s open; accepting again as "
		 "connections close",
		 why, l->nconns,
		 roar_plural(l->nconns, "connection", "connections"));
	roar_collect_diag(l, msg);
}

static void
resume_accept(struct roar_loop *l)
{
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.ptr = &l->listen_tag };

	if (!l->accept_paused)
		return;
	l->accept_paused = false;
	epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->o->listen_fd, &ev);
}

void
roar_collect_accept_all(struct roar_loop *l)
{
	if (l->accept_paused)
		return;
	for (;;) {
		int fd = accept4(l->o->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct roar_loop_entry *e;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN) {
				char why[80];

				snprintf(why, sizeof(why), "accept failed (%s)",
					 strerror(errno));
				pause_accept(l, why);
			}
			return;
		}
		e = add_conn(l, fd);
		/* Read at once: short-lived senders are common. */
		if (e && roar_collect_read_conn(l, e) &&
		    (uint64_t)fd + FD_HEADROOM >= l->fd_limit) {
			pause_accept(l, "file descriptors nearly exhausted");
			return;
		}
	}
}

/* A connection other than e that has not sent a byte in MUTE_MS since it
 * was accepted (the longest such), or NULL. */
#define MUTE_MS 100u

static struct roar_loop_entry *
mute_conn(const struct roar_loop *l, const struct roar_loop_entry *e)
{
	uint64_t t = roar_mono_ms();
	struct roar_loop_entry *best = NULL;

	for (size_t i = 0; i < l->nconns; i++) {
		const struct roar_conn *c = l->conns[i]->c;

		if (l->conns[i] == e || c->last_ms ||
		    t - c->accepted_ms < MUTE_MS)
			continue;
		if (!best || c->accepted_ms < best->c->accepted_ms)
			best = l->conns[i];
	}
	return best;
}

/* Take one waiting connection through the reserve descriptor; false when
 * none was waiting or no descriptor could be had.  One that has spoken
 * and lives on is kept in place of a mute one, if there is one. */
static bool
take_through_reserve(struct roar_loop *l)
{
	struct roar_loop_entry *e;
	int fd;

	if (l->reserve_fd < 0)
		return false;
	close(l->reserve_fd);
	do
		fd = accept4(l->o->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
	while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
	if (fd >= 0 && (e = add_conn(l, fd)) && roar_collect_read_conn(l, e)) {
		struct roar_loop_entry *mute = e->c->last_ms ? mute_conn(l, e)
							     : NULL;

		l->m->limits.connections_refused++;
		if (mute) {
			roar_collect_drop_conn(l, mute);
		} else {
			/* Its sender lives on: its next frames are lost, and
			 * so is the one it was in the middle of. */
			roar_conn_eof(e->c, l->m);
			roar_collect_drop_conn(l, e);
		}
	}
	l->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0;
}

void
roar_collect_make_room(struct roar_loop *l, bool now)
{
	uint64_t t = roar_mono_ms();

	if (!l->accept_paused || (!now && t - l->paused_ms < PAUSE_MS))
		return;
	for (size_t i = 0; i < l->nconns;) {
		struct roar_conn *c = l->conns[i]->c;

		if (!c->last_ms && (now || t - c->accepted_ms >= PAUSE_MS)) {
			l->m->limits.connections_refused++;
			roar_collect_drop_conn(l, l->conns[i]);
		} else {
			i++;
		}
	}
	if (!l->accept_paused) {
		roar_collect_accept_all(l);
		if (!l->accept_paused)
			return;
	}
	while (take_through_reserve(l))
		;
	/* Try again PAUSE_MS from now; resume_accept puts the listener back
	 * as soon as a connection closes. */
	if (l->accept_paused)
		l->paused_ms = roar_mono_ms();
	else
		roar_collect_accept_all(l);
}

/*
 * A descriptor limit far below the hard one is common (1024 against
 * 524288), and every process of a parallel build holds one connection:
 * take what we may.  The command was started before, with the limit it
 * was given.
 */
uint64_t
roar_collect_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return UINT64_MAX;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t cur = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			rl.rlim_cur = cur;
	}
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX
					    : (uint64_t)rl.rlim_cur;
}

void
roar_collect_say_refused(const struct roar_loop *l)
{
	const struct roar_merge *m = l->m;

	if (m->limits.connections_refused && !l->o->quiet)
		fprintf(stderr,
			"roar-collector: refused %llu %s for want of "
			"file descriptors\n",
			(unsigned long long)m->limits.connections_refused,
			roar_plural(m->limits.connections_refused, "connection",
				    "connections"));
}
