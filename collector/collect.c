/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's event loop (epoll, callbacks by tag, the redis ae
 * shape).  A process is finished when its pidfd says so; because it is
 * gone by then, everything it sent is already in the kernel, so one last
 * drain of every connection and of the accept queue completes the run.
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
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"
#include "conn.h"

/* How long the loop lets frames pile up between wakeups while the command
 * runs (see roar_collect_run). */
#define NAP_NS 5000000L

enum tag_kind { TAG_LISTEN, TAG_SIGNAL, TAG_CONN, TAG_PIDFD };

struct tag {
	enum tag_kind kind;
	void *ptr;
};

/* A connection as the loop knows it.  Dropped entries stay allocated
 * until the current batch of epoll events is handled, since a later event
 * of the same batch may still name them. */
struct entry {
	struct tag tag;
	struct roar_conn *c;
	bool dead;
};

struct loop {
	const struct roar_collect_opts *o;
	struct roar_merge *m;
	int epfd;
	int sigfd;
	struct tag listen_tag;
	struct tag signal_tag;
	struct entry **conns;
	size_t nconns;
	struct entry **graveyard;
	size_t ngrave;
	unsigned long alive;    /* known processes not yet seen to end */
	bool root_done;
	bool stop;              /* asked to stop waiting for descendants */
	int root_status;
	bool root_status_known;
};

static void
diag(const struct loop *l, const char *msg)
{
	if (!l->o->quiet)
		fprintf(stderr, "roar-collector: %s\n", msg);
}

static void
mark_exited(struct loop *l, struct roar_proc *p)
{
	if (p->exited)
		return;
	p->exited = true;
	if (l->alive)
		l->alive--;
	if (p->pid == l->o->root_pid && !l->o->root_is_child)
		l->root_done = true;
}

/* merge.c tells us of every new pid: watch it. */
static void
on_new_proc(void *ctx, struct roar_proc *p)
{
	struct loop *l = ctx;
	struct epoll_event ev = { .events = EPOLLIN };
	struct tag *t;
	int fd;

	l->alive++;
	if (p->gone) {
		/* Known only from a claim about a pid already gone: a pidfd
		 * now could name a newcomer that took the pid. */
		mark_exited(l, p);
		return;
	}
	fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (fd < 0) {
		/* ESRCH: already gone (and reaped). */
		mark_exited(l, p);
		return;
	}
	t = roar_xmalloc(sizeof(*t));
	t->kind = TAG_PIDFD;
	t->ptr = p;
	ev.data.ptr = t;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		free(t);
		mark_exited(l, p);
		return;
	}
	p->pidfd = fd;
	p->watch = t;
}

static void
unwatch(struct roar_proc *p, void *arg)
{
	struct loop *l = arg;

	if (p->pidfd >= 0) {
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
		close(p->pidfd);
		p->pidfd = -1;
	}
	free(p->watch);
	p->watch = NULL;
}

static void
drop_conn(struct loop *l, struct entry *e)
{
	if (e->c->refused && !l->o->quiet)
		fprintf(stderr, "roar-collector: refused %lu frame(s) from "
			"pid %d: %s\n", e->c->refused, (int)e->c->peer_pid,
			e->c->refused_why);
	for (size_t i = 0; i < l->nconns; i++)
		if (l->conns[i] == e) {
			l->conns[i] = l->conns[--l->nconns];
			break;
		}
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, e->c->fd, NULL);
	roar_conn_free(e->c);
	e->c = NULL;
	e->dead = true;
	l->graveyard = roar_xrealloc(l->graveyard,
				     (l->ngrave + 1) * sizeof(*l->graveyard));
	l->graveyard[l->ngrave++] = e;
}

static void
bury(struct loop *l)
{
	for (size_t i = 0; i < l->ngrave; i++)
		free(l->graveyard[i]);
	l->ngrave = 0;
}

/* Read what e has; returns false when e was dropped. */
static bool
read_conn(struct loop *l, struct entry *e)
{
	struct roar_conn *c = e->c;
	char buf[65536];
	char err[256];

	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));

		if (n > 0) {
			if (roar_conn_feed(c, l->m, buf, (size_t)n, err,
					   sizeof(err)) != 0) {
				diag(l, err);
				drop_conn(l, e);
				return false;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		/* EOF or error: the sender is gone. */
		if (roar_conn_eof(c, l->m) != 0)
			diag(l, "a connection ended inside a frame");
		drop_conn(l, e);
		return false;
	}
}

static void
accept_all(struct loop *l)
{
	for (;;) {
		int fd = accept4(l->o->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct entry *e;
		struct epoll_event ev = { .events = EPOLLIN };

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				diag(l, "accept failed");
			return;
		}
		e = roar_xcalloc(1, sizeof(*e));
		e->c = roar_conn_new(fd);
		e->tag = (struct tag){ TAG_CONN, e };
		ev.data.ptr = &e->tag;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			roar_conn_free(e->c);
			free(e);
			continue;
		}
		l->conns = roar_xrealloc(l->conns,
					 (l->nconns + 1) * sizeof(*l->conns));
		l->conns[l->nconns++] = e;
		/* Read at once: short-lived senders are common. */
		read_conn(l, e);
	}
}

static void
reap_root(struct loop *l)
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
			mark_exited(l, p);
		} else if (r < 0) {
			l->root_done = true; /* ECHILD: nothing to wait for */
		}
		return;
	}
}

static void
on_signal(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (l->o->forward && si.ssi_signo != SIGCHLD &&
		    sigismember(l->o->forward, (int)si.ssi_signo) == 1) {
			if (l->o->on_signal(l->o->signal_ctx, &si,
					    l->root_done) && l->root_done)
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
drain_all(struct loop *l)
{
	accept_all(l);
	for (size_t i = 0; i < l->nconns;) {
		if (read_conn(l, l->conns[i]))
			i++;
	}
	bury(l);
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
nap(struct loop *l)
{
	struct roar_proc *root = roar_merge_find(l->m, l->o->root_pid);
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
	struct loop l = { .o = o, .m = m, .epfd = -1, .sigfd = -1 };
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
	m->on_new_proc = on_new_proc;
	m->ctx = &l;
	l.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l.epfd < 0)
		return -errno;
	loop_signals(&mask);
	if (o->forward)
		sigorset(&mask, &mask, o->forward);
	l.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l.sigfd < 0) {
		rc = -errno;
		goto out;
	}
	fcntl(o->listen_fd, F_SETFL,
	      fcntl(o->listen_fd, F_GETFL) | O_NONBLOCK);
	l.listen_tag = (struct tag){ TAG_LISTEN, NULL };
	l.signal_tag = (struct tag){ TAG_SIGNAL, NULL };
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
	/* Watch the root from the start, so that its end is never missed. */
	roar_merge_proc(m, o->root_pid);
	reap_root(&l);

	for (;;) {
		struct epoll_event evs[64];
		int timeout = -1, n;

		if (l.root_done && l.alive == 0) {
			/* Everyone is gone: collect what they left behind. */
			drain_all(&l);
			if (l.alive == 0)
				break;
			continue;
		}
		if (l.root_done && l.stop) {
			if (!o->quiet)
				fprintf(stderr, "roar-collector: stopped "
					"waiting for %lu process(es) on a "
					"signal; they are marked still running\n",
					l.alive);
			drain_all(&l);
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
				roar_merge_each_proc(m, mark_running, NULL);
				break;
			}
			timeout = (int)(deadline - now);
		}
		n = epoll_wait(l.epfd, evs, 64, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct tag *t = evs[i].data.ptr;

			switch (t->kind) {
			case TAG_LISTEN:
				accept_all(&l);
				break;
			case TAG_SIGNAL:
				on_signal(&l);
				break;
			case TAG_CONN: {
				struct entry *e = t->ptr;

				if (!e->dead)
					read_conn(&l, e);
				break;
			}
			case TAG_PIDFD: {
				struct roar_proc *p = t->ptr;

				unwatch(p, &l);
				if (p->pid == o->root_pid)
					reap_root(&l);
				mark_exited(&l, p);
				break;
			}
			}
		}
		bury(&l);
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
	while (l.nconns)
		drop_conn(&l, l.conns[l.nconns - 1]);
	bury(&l);
	roar_merge_each_proc(m, unwatch, &l);
	free(l.conns);
	free(l.graveyard);
	if (l.sigfd >= 0)
		close(l.sigfd);
	close(l.epfd);
	m->on_new_proc = NULL;
	res->root_status_known = l.root_status_known;
	res->root_wait_status = l.root_status;
	res->bad_frames = (unsigned long)m->bad_frames;
	res->frames_refused = (unsigned long)m->frames_refused;
	return rc;
}
