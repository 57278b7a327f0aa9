/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's event loop (epoll, callbacks by tag, the redis ae
 * shape): the set-up, the dispatch, the pid watches and signals, and when
 * the run is over.  A process is finished when its pidfd says so; because
 * it is gone by then, everything it sent is already in the kernel, so one
 * last drain of every connection and of the accept queue completes the
 * run.  Connections are collect_conns.c's; what the loop says on stderr,
 * collect_notice.c's.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collect.h"
#include "collect_loop.h"
#include "supervise.h"
#include "conn.h"
#include "tally.h"

/* How long the loop lets frames pile up between wakeups while the command
 * runs (see roar_collect_run). */
#define NAP_NS 5000000L

/* A process the loop watches: its pidfd, in the epoll set under tag.
 * Kept until the loop ends, so that a tag never dangles. */
struct watch {
	struct roar_loop_tag tag;
	pid_t pid;
	int pidfd; /* -1 once it fired (or at the end) */
};

void
roar_collect_mark_exited(struct roar_loop *l, struct roar_proc *p)
{
	if (p->exited)
		return;
	p->exited = true;
	if (l->alive)
		l->alive--;
	if (p->pid == l->o->root_pid && !l->o->root_is_child)
		l->root_done = true;
}

/* The merge tells us of every new pid (merge.h, on_new_proc): watch it. */
static void
on_new_proc(void *ctx, struct roar_proc *p)
{
	struct roar_loop *l = ctx;
	struct epoll_event ev = { .events = EPOLLIN };
	struct watch *w;
	int fd;

	l->alive++;
	if (p->gone) {
		/* Known only from a claim about a pid already gone: a pidfd
		 * now could name a newcomer that took the pid. */
		roar_collect_mark_exited(l, p);
		return;
	}
	fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (fd < 0) {
		/* ESRCH: already gone (and reaped). */
		roar_collect_mark_exited(l, p);
		return;
	}
	w = roar_xmalloc(sizeof(*w));
	w->tag = (struct roar_loop_tag){ ROAR_TAG_PIDFD, w };
	w->pid = p->pid;
	w->pidfd = fd;
	ev.data.ptr = &w->tag;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		free(w);
		roar_collect_mark_exited(l, p);
		return;
	}
	roar_map_put(&l->watches, (uint64_t)p->pid, w);
}

static void
unwatch(struct roar_loop *l, struct watch *w)
{
	if (w->pidfd < 0)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->pidfd, NULL);
	close(w->pidfd);
	w->pidfd = -1;
}

static void
unwatch_all(struct roar_loop *l)
{
	for (size_t i = 0; i < l->watches.cap; i++) {
		if (!l->watches.used[i])
			continue;
		unwatch(l, l->watches.vals[i]);
		free(l->watches.vals[i]);
	}
	roar_map_free(&l->watches);
}

static void
reap_root(struct roar_loop *l)
{
	int status;

	if (!l->o->root_is_child || l->root_done)
		return;
	for (;;) {
		pid_t r = waitpid(l->o->root_pid, &status, WNOHANG);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == l->o->root_pid) {
			struct roar_proc *p = roar_merge_proc(l->m, r);

			l->root_done = true;
			l->root_status = status;
			l->root_status_known = true;
			p->has_wait = true;
			p->wait_status = status;
			if (!p->end_time)
				p->end_time = roar_now();
			roar_collect_mark_exited(l, p);
		} else if (r < 0) {
			l->root_done = true; /* ECHILD: nothing to wait for */
		}
		return;
	}
}

static void
on_signal(struct roar_loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (l->o->forward && si.ssi_signo != SIGCHLD &&
		    sigismember(l->o->forward, (int)si.ssi_signo) == 1) {
			if (l->o->on_signal(l->o->signal_ctx, &si,
					    l->root_done) &&
			    l->root_done)
				l->stop = true;
			continue;
		}
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap_root(l);
			break;
		case SIGTERM:
		case SIGHUP:
			if (l->o->root_is_child && !l->root_done)
				kill(l->o->root_pid, (int)si.ssi_signo);
			else
				l->stop = true;
			break;
		default:
			/* SIGINT and SIGQUIT reach the command from the
			 * terminal itself; we only outlive them.  Once the
			 * command has ended, they mean: stop waiting for its
			 * descendants and write the report now. */
			if (l->root_done)
				l->stop = true;
			break;
		}
	}
}

static void
drain_all(struct roar_loop *l)
{
	struct roar_loop_entry **v;
	size_t n;

	roar_collect_accept_all(l);
	roar_collect_make_room(l, true);
	/* Reading one may drop others (the pool tears, conn.h), which
	 * reorders l->conns: walk a copy; dropped entries live until bury. */
	n = l->nconns;
	v = roar_xcalloc(n + 1, sizeof(*v));
	if (n)
		memcpy(v, l->conns, n * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		if (!v[i]->dead)
			roar_collect_read_conn(l, v[i]);
	free(v);
	roar_collect_bury(l);
}

static void
mark_running(struct roar_proc *p, void *arg)
{
	(void)arg;
	if (!p->exited)
		p->still_running = true;
}

/*
 * Let frames pile up for NAP_NS, but wake at once when the root ends or
 * a signal comes: the end of a run must not wait for the nap.
 */
static void
nap(struct roar_loop *l)
{
	const struct watch *root =
		roar_map_get(&l->watches, (uint64_t)l->o->root_pid);
	struct pollfd pfd[2] = {
		{ .fd = l->sigfd, .events = POLLIN },
		{ .fd = root ? root->pidfd : -1, .events = POLLIN },
	};

	poll(pfd, 2, (int)(NAP_NS / 1000000L));
}

static void
loop_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGCHLD);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGQUIT);
}

void
roar_collect_block_signals(sigset_t *old)
{
	sigset_t mask;

	loop_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, old);
}

int
roar_collect_run(const struct roar_collect_opts *o, struct roar_merge *m,
		 struct roar_collect_result *res)
{
	/* tally.fd -1: an early failure must not settle against fd 0. */
	struct roar_loop l = { .o = o,
			       .m = m,
			       .epfd = -1,
			       .sigfd = -1,
			       .reserve_fd = -1,
			       .tally = { .fd = -1 },
			       .pool = { .limit = ROAR_CONN_BUDGET } };
	struct epoll_event ev;
	sigset_t mask;
	uint64_t deadline = 0;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	/*
	 * SCHED_BATCH: the collector keeps its fair share of the CPU but is
	 * disfavoured on wakeups, so a frame that wakes it does not preempt
	 * the traced program that sent it.  The command, started before,
	 * keeps its own policy.  Best effort: an error changes nothing.
	 */
	sched_setscheduler(0, SCHED_BATCH, &(struct sched_param){ 0 });
	l.fd_limit = roar_collect_raise_nofile();
	l.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	roar_map_init(&l.watches);
	m->on_new_proc = on_new_proc;
	m->ctx = &l;
	l.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l.epfd < 0) {
		/* Through out: the merge must not keep a callback into this
		 * frame, nor the reserve descriptor stay open. */
		rc = -errno;
		goto out;
	}
	loop_signals(&mask);
	if (o->forward)
		sigorset(&mask, &mask, o->forward);
	l.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l.sigfd < 0) {
		rc = -errno;
		goto out;
	}
	fcntl(o->listen_fd, F_SETFL, fcntl(o->listen_fd, F_GETFL) | O_NONBLOCK);
	l.listen_tag = (struct roar_loop_tag){ ROAR_TAG_LISTEN, NULL };
	l.signal_tag = (struct roar_loop_tag){ ROAR_TAG_SIGNAL, NULL };
	ev = (struct epoll_event){ .events = EPOLLIN,
				   .data.ptr = &l.listen_tag };
	epoll_ctl(l.epfd, EPOLL_CTL_ADD, o->listen_fd, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN,
				   .data.ptr = &l.signal_tag };
	epoll_ctl(l.epfd, EPOLL_CTL_ADD, l.sigfd, &ev);

	/* Claims naming the root's parent are refused (we would wait for
	 * it forever); in launcher mode that is us. */
	if (!m->root_ppid) {
		struct roar_proc_stat st;

		if (m->proc_stat(o->root_pid, &st) == 0)
			m->root_ppid = st.ppid;
	}
	/* Watch the root from the start, so that its end is never missed;
	 * the launcher may have made its record already (its exec). */
	{
		struct roar_proc *rp = roar_merge_find(m, o->root_pid);

		if (rp)
			on_new_proc(&l, rp);
		else
			roar_merge_proc(m, o->root_pid);
	}
	reap_root(&l);
	roar_tally_open(&l.tally, o->listen_fd, m);
	l.start_ms = roar_mono_ms();
	{
		int sup_fd = -1;

		l.sup = o->sup ? o->sup : roar_sup_new(&sup_fd);
		if (o->sup)
			sup_fd = roar_sup_frames_fd(o->sup);
		if (l.sup)
			roar_collect_add_supervisor(&l, sup_fd);
	}

	for (;;) {
		struct epoll_event evs[64];
		int timeout = -1, n;

		roar_tally_beat(&l.tally);

		if (l.root_done && l.alive == 0) {
			/* Everyone is gone: collect what they left behind,
			 * the supervisor's last word too. */
			drain_all(&l);
			if (l.alive == 0 && !l.sup_done) {
				roar_collect_drain_supervisor(&l);
				continue;
			}
			if (l.alive == 0)
				break;
			continue;
		}
		if (l.root_done && l.stop) {
			roar_collect_say_stopped(&l);
			drain_all(&l);
			roar_collect_drain_supervisor(&l);
			roar_merge_each_proc(m, mark_running, NULL);
			break;
		}
		if (l.root_done && o->wait_timeout >= 0) {
			uint64_t now = roar_mono_ms();

			if (!deadline)
				deadline = now +
					   (uint64_t)(o->wait_timeout * 1000.0);
			if (now >= deadline) {
				drain_all(&l);
				roar_collect_drain_supervisor(&l);
				roar_merge_each_proc(m, mark_running, NULL);
				break;
			}
			timeout = (int)(deadline - now);
		}
		timeout = roar_collect_say_due(&l, timeout);
		if (l.accept_paused &&
		    (timeout < 0 || timeout > (int)ROAR_COLLECT_PAUSE_MS))
			timeout = (int)ROAR_COLLECT_PAUSE_MS;
		n = epoll_wait(l.epfd, evs, 64, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct roar_loop_tag *t = evs[i].data.ptr;

			switch (t->kind) {
			case ROAR_TAG_LISTEN:
				roar_collect_accept_all(&l);
				break;
			case ROAR_TAG_SIGNAL:
				on_signal(&l);
				break;
			case ROAR_TAG_CONN: {
				struct roar_loop_entry *e = t->ptr;

				if (!e->dead)
					roar_collect_read_conn(&l, e);
				break;
			}
			case ROAR_TAG_PIDFD: {
				struct watch *w = t->ptr;

				unwatch(&l, w);
				if (w->pid == o->root_pid)
					reap_root(&l);
				roar_collect_mark_exited(
					&l, roar_merge_find(m, w->pid));
				break;
			}
			}
		}
		roar_collect_make_room(&l, false);
		roar_collect_bury(&l);
		/*
		 * While the command runs, let frames pile up for a moment
		 * before the next wakeup: one read then takes many frames,
		 * and on a small machine the collector leaves the cores to
		 * the traced programs (an exec storm measured 1.40x with a
		 * 0.5 ms nap, 1.26x with 5 ms).  Senders never wait for us:
		 * each connection's socket buffers hold a few thousand
		 * frames, far more than a process sends in 5 ms, and the
		 * listen backlog thousands of connections.
		 */
		if (!l.root_done && n > 0)
			nap(&l);
	}
out:
	roar_collect_drain_supervisor(&l);
	while (l.nconns)
		roar_collect_drop_conn(&l, l.conns[l.nconns - 1]);
	roar_collect_bury(&l);
	unwatch_all(&l);
	free(l.conns);
	free(l.graveyard);
	if (l.sigfd >= 0)
		close(l.sigfd);
	if (l.reserve_fd >= 0)
		close(l.reserve_fd);
	free(l.pool.v);
	if (l.epfd >= 0)
		close(l.epfd);
	roar_sup_free(l.sup, &m->sup_stats);
	roar_collect_say_refused(&l);
	m->on_new_proc = NULL;
	/* Everyone is gone (or no longer waited for): what never came is
	 * known now. */
	roar_tally_settle(&l.tally, m);
	roar_tally_close(&l.tally);
	res->root_status_known = l.root_status_known;
	res->root_wait_status = l.root_status;
	res->bad_frames = (unsigned long)m->bad_frames;
	res->frames_refused = (unsigned long)m->frames_refused;
	return rc;
}
