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
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"
#include "conn.h"
#include "tally.h"

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

/* A process the loop watches: its pidfd, in the epoll set under tag.
 * Kept until the loop ends, so that a tag never dangles. */
struct watch {
	struct tag tag;
	pid_t pid;
	int pidfd;              /* -1 once it fired (or at the end) */
};

struct loop {
	const struct roar_collect_opts *o;
	struct roar_merge *m;
	struct roar_map watches; /* pid -> struct watch * */
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
	struct roar_tally tally;
	/* Out of descriptors (see accept_all). */
	struct roar_conn_pool pool;
	int reserve_fd;         /* /dev/null, closed to make room; -1: none */
	bool accept_paused;     /* the listener is out of the epoll set */
	uint64_t paused_ms;     /* when it was taken out */
	bool said_fds;          /* the one diagnostic about it was given */
	bool said_torn;         /* the one diagnostic about torn frames */
	uint64_t notice_ms;     /* when to name who we wait for; 0: not yet
				   due, UINT64_MAX: said */
	uint64_t start_ms;      /* when the loop began */
	uint64_t progress_ms;   /* when the next progress line is due */
	uint64_t fd_limit;      /* RLIMIT_NOFILE, once raised */
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

/* The merge tells us of every new pid (merge.h, on_new_proc): watch it. */
static void
on_new_proc(void *ctx, struct roar_proc *p)
{
	struct loop *l = ctx;
	struct epoll_event ev = { .events = EPOLLIN };
	struct watch *w;
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
	w = roar_xmalloc(sizeof(*w));
	w->tag = (struct tag){ TAG_PIDFD, w };
	w->pid = p->pid;
	w->pidfd = fd;
	ev.data.ptr = &w->tag;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		free(w);
		mark_exited(l, p);
		return;
	}
	roar_map_put(&l->watches, (uint64_t)p->pid, w);
}

static void
unwatch(struct loop *l, struct watch *w)
{
	if (w->pidfd < 0)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->pidfd, NULL);
	close(w->pidfd);
	w->pidfd = -1;
}

static void
unwatch_all(struct loop *l)
{
	for (size_t i = 0; i < l->watches.cap; i++) {
		if (!l->watches.used[i])
			continue;
		unwatch(l, l->watches.vals[i]);
		free(l->watches.vals[i]);
	}
	roar_map_free(&l->watches);
}

static void resume_accept(struct loop *l);

static void
drop_conn(struct loop *l, struct entry *e)
{
	if (e->c->refused && !l->o->quiet)
		fprintf(stderr, "roar-collector: refused %lu %s from "
			"pid %d: %s\n", e->c->refused,
			roar_plural(e->c->refused, "frame", "frames"),
			(int)e->c->peer_pid, e->c->refused_why);
	if (l->o->root_waits && e->c->peer_pid == l->o->root_pid) {
		struct roar_proc *p = roar_merge_find(l->m, l->o->root_pid);

		/* Its last word is said (collect.h, root_waits). */
		if (p && p->has_exit)
			mark_exited(l, p);
	}
	for (size_t i = 0; i < l->nconns; i++)
		if (l->conns[i] == e) {
			l->conns[i] = l->conns[--l->nconns];
			break;
		}
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, e->c->fd, NULL);
	roar_conn_free(e->c);
	e->c = NULL;
	e->dead = true;
	resume_accept(l);
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

/* Once per run: incomplete frames are being torn (conn.h, the pool). */
static void
said_torn(struct loop *l)
{
	if (l->said_torn)
		return;
	l->said_torn = true;
	diag(l, "incomplete frames exceed the receive budget; the stalest "
	     "are torn and counted (bad_frames, frames_torn)");
}

/* Drop the connections the pool tore down (never the one being read:
 * its own tearing is reported by roar_conn_feed). */
static void
drop_torn(struct loop *l)
{
	said_torn(l);
	l->pool.evicted = false;
	for (size_t i = 0; i < l->nconns;) {
		struct entry *e = l->conns[i];

		if (e->c->evicted)
			drop_conn(l, e);
		else
			i++;
	}
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
			roar_tally_beat(&l->tally);
			int rc = roar_conn_feed(c, l->m, buf, (size_t)n, err,
						sizeof(err));

			if (rc == -ENOBUFS) {
				said_torn(l);
				drop_conn(l, e);
				return false;
			}
			if (rc != 0) {
				diag(l, err);
				drop_conn(l, e);
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
			diag(l, "a connection ended inside a frame");
		drop_conn(l, e);
		return false;
	}
}

static struct entry *
add_conn(struct loop *l, int fd)
{
	struct entry *e = roar_xcalloc(1, sizeof(*e));
	struct epoll_event ev = { .events = EPOLLIN };

	e->c = roar_conn_new(fd);
	e->c->pool = &l->pool;
	e->tag = (struct tag){ TAG_CONN, e };
	ev.data.ptr = &e->tag;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		roar_conn_free(e->c);
		free(e);
		return NULL;
	}
	l->conns = roar_xrealloc(l->conns,
				 (l->nconns + 1) * sizeof(*l->conns));
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
#define PAUSE_MS 1000u
#define FD_HEADROOM 16u

static void
pause_accept(struct loop *l, const char *why)
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
	snprintf(msg, sizeof(msg), "%s with %zu %s open; accepting again as "
		 "connections close", why, l->nconns,
		 roar_plural(l->nconns, "connection", "connections"));
	diag(l, msg);
}

static void
resume_accept(struct loop *l)
{
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.ptr = &l->listen_tag };

	if (!l->accept_paused)
		return;
	l->accept_paused = false;
	epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->o->listen_fd, &ev);
}

static void
accept_all(struct loop *l)
{
	if (l->accept_paused)
		return;
	for (;;) {
		int fd = accept4(l->o->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct entry *e;

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
		if (e && read_conn(l, e) &&
		    (uint64_t)fd + FD_HEADROOM >= l->fd_limit) {
			pause_accept(l, "file descriptors nearly exhausted");
			return;
		}
	}
}

/* A connection other than e that has not sent a byte in MUTE_MS since it
 * was accepted (the longest such), or NULL. */
#define MUTE_MS 100u

static struct entry *
mute_conn(const struct loop *l, const struct entry *e)
{
	uint64_t t = roar_mono_ms();
	struct entry *best = NULL;

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
take_through_reserve(struct loop *l)
{
	struct entry *e;
	int fd;

	if (l->reserve_fd < 0)
		return false;
	close(l->reserve_fd);
	do
		fd = accept4(l->o->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
	while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
	if (fd >= 0 && (e = add_conn(l, fd)) && read_conn(l, e)) {
		struct entry *mute = e->c->last_ms ? mute_conn(l, e) : NULL;

		l->m->limits.connections_refused++;
		if (mute) {
			drop_conn(l, mute);
		} else {
			/* Its sender lives on: its next frames are lost, and
			 * so is the one it was in the middle of. */
			roar_conn_eof(e->c, l->m);
			drop_conn(l, e);
		}
	}
	l->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0;
}

static void
make_room(struct loop *l, bool now)
{
	uint64_t t = roar_mono_ms();

	if (!l->accept_paused || (!now && t - l->paused_ms < PAUSE_MS))
		return;
	for (size_t i = 0; i < l->nconns;) {
		struct roar_conn *c = l->conns[i]->c;

		if (!c->last_ms && (now || t - c->accepted_ms >= PAUSE_MS)) {
			l->m->limits.connections_refused++;
			drop_conn(l, l->conns[i]);
		} else {
			i++;
		}
	}
	if (!l->accept_paused) {
		accept_all(l);
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
		accept_all(l);
}

/*
 * A descriptor limit far below the hard one is common (1024 against
 * 524288), and every process of a parallel build holds one connection:
 * take what we may.  The command was started before, with the limit it
 * was given.
 */
static uint64_t
raise_nofile(void)
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
	struct entry **v;
	size_t n;

	accept_all(l);
	make_room(l, true);
	/* Reading one may drop others (the pool tears, conn.h), which
	 * reorders l->conns: walk a copy; dropped entries live until bury. */
	n = l->nconns;
	v = roar_xcalloc(n + 1, sizeof(*v));
	if (n)
		memcpy(v, l->conns, n * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		if (!v[i]->dead)
			read_conn(l, v[i]);
	free(v);
	bury(l);
}

static void
mark_running(struct roar_proc *p, void *arg)
{
	(void)arg;
	if (!p->exited)
		p->still_running = true;
}

/* At most this many are named in the waiting notice; the rest counted. */
#define NOTICE_NAMES 5

struct notice {
	const struct loop *l;
	unsigned long named;
};

static void
name_running(struct roar_proc *p, void *arg)
{
	struct notice *n = arg;
	const struct roar_image *im = roar_proc_image(p);
	const char *name = "?";

	if (p->exited || n->named++ >= NOTICE_NAMES)
		return;
	if (im && im->argv.n)
		name = im->argv.v[0].p;
	else if (p->exec_argv.n)
		name = p->exec_argv.v[0].p;
	fprintf(stderr, "  pid %d %s\n", (int)p->pid, name);
}

/*
 * The command is over but the terminal is not given back: say why, once,
 * so that a daemon left behind is not mistaken for a hung tracer.
 */
static void
notice_waiting(struct loop *l)
{
	const char *prog = l->o->prog ? l->o->prog : "roar-collector";
	struct notice n = { .l = l };

	fprintf(stderr, "%s: the command has ended; waiting for %lu %s it "
		"left running:\n", prog, l->alive,
		roar_plural(l->alive, "process", "processes"));
	roar_merge_each_proc(l->m, name_running, &n);
	if (n.named > NOTICE_NAMES)
		fprintf(stderr, "  and %lu more\n", n.named - NOTICE_NAMES);
	fprintf(stderr, "%s: the report is written when they end; Ctrl-C "
		"stops waiting now, ROAR_WAIT_TIMEOUT=S (roar-run --timeout S) "
		"bounds the wait\n", prog);
	l->notice_ms = UINT64_MAX;
}

/*
 * A long run says how far it is, so that a quiet build does not look
 * hung.  Returns the ms until the next line is due.
 */
static int
progress(struct loop *l)
{
	uint64_t now = roar_mono_ms();
	const char *prog = l->o->prog ? l->o->prog : "roar-collector";

	if (!l->progress_ms)
		l->progress_ms = now + l->o->progress_every_ms;
	if (now >= l->progress_ms) {
		fprintf(stderr, "%s: tracing for %llu s: %zu %s, %zu %s so "
			"far\n", prog,
			(unsigned long long)((now - l->start_ms) / 1000),
			l->m->procs.count,
			roar_plural(l->m->procs.count, "process", "processes"),
			l->m->nfiles, roar_plural(l->m->nfiles, "file", "files"));
		l->progress_ms = now + l->o->progress_every_ms;
	}
	return (int)(l->progress_ms - now);
}

/*
 * Let frames pile up for NAP_NS, but wake at once when the root ends or
 * a signal comes: the end of a run must not wait for the nap.
 */
static void
nap(struct loop *l)
{
	const struct watch *root = roar_map_get(&l->watches,
						(uint64_t)l->o->root_pid);
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
	struct loop l = { .o = o, .m = m, .epfd = -1, .sigfd = -1,
			  .reserve_fd = -1,
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
	l.fd_limit = raise_nofile();
	l.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	roar_map_init(&l.watches);
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
	roar_tally_open(&l.tally, o->listen_fd, m);
	l.start_ms = roar_mono_ms();

	for (;;) {
		struct epoll_event evs[64];
		int timeout = -1, n;

		roar_tally_beat(&l.tally);

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
					"waiting for %lu %s on a signal; "
					"marked still running\n", l.alive,
					roar_plural(l.alive, "process",
						    "processes"));
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
		if (l.root_done && o->notice_after_ms && !o->quiet &&
		    l.notice_ms != UINT64_MAX) {
			uint64_t now = roar_mono_ms();

			if (!l.notice_ms)
				l.notice_ms = now + o->notice_after_ms;
			if (now >= l.notice_ms) {
				notice_waiting(&l);
			} else if (timeout < 0 ||
				   (uint64_t)timeout > l.notice_ms - now) {
				timeout = (int)(l.notice_ms - now);
			}
		}
		if (!l.root_done && o->progress_every_ms && !o->quiet) {
			int due = progress(&l);

			if (timeout < 0 || timeout > due)
				timeout = due;
		}
		if (l.accept_paused && (timeout < 0 || timeout > (int)PAUSE_MS))
			timeout = (int)PAUSE_MS;
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
				struct watch *w = t->ptr;

				unwatch(&l, w);
				if (w->pid == o->root_pid)
					reap_root(&l);
				mark_exited(&l, roar_merge_find(m, w->pid));
				break;
			}
			}
		}
		make_room(&l, false);
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
	unwatch_all(&l);
	free(l.conns);
	free(l.graveyard);
	if (l.sigfd >= 0)
		close(l.sigfd);
	if (l.reserve_fd >= 0)
		close(l.reserve_fd);
	free(l.pool.v);
	close(l.epfd);
	if (m->limits.connections_refused && !o->quiet)
		fprintf(stderr, "roar-collector: refused %llu %s for want of "
			"file descriptors\n",
			(unsigned long long)m->limits.connections_refused,
			roar_plural(m->limits.connections_refused,
				    "connection", "connections"));
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
