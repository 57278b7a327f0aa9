/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor's thread: its listeners, its wakeups, its frames
 * (supervise.h).  What a watched call means is supervise_calls.c.
 *
 * Facts relied on: a seccomp listener polls readable while a notification
 * waits and reports POLLHUP once every task using its filter is gone;
 * SECCOMP_IOCTL_NOTIF_RECV takes a zeroed struct of the size
 * SECCOMP_GET_NOTIF_SIZES gives (newer kernels may use more than our
 * headers know); a notification whose task died fails RECV or SEND with
 * ENOENT, which is no error of ours.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/seccomp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "roar/send.h"
#include "roar/supervise.h"
#include "supervise_int.h"

/* A frame socket's buffer: room for bursts while the loop naps. */
#define OUT_SNDBUF (4 << 20)
/* How long a judgement may wait for its thread's next call. */
#define SETTLE_MS 20
/* Frames wait for a batch of this many bytes, or this long at most. */
#define FLUSH_BYTES 65536u
#define FLUSH_MS 5

static void *thread_main(void *arg);
static void kick(int sig);

struct roar_sup *
roar_sup_new(int *frames_fd)
{
	struct roar_sup *s = roar_xcalloc(1, sizeof(*s));
	struct seccomp_notif_sizes sz;
	int sv[2];

	s->epfd = s->wake_fd = s->out_r = s->out_w = s->watch_fd = -1;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) != 0)
		goto fail;
	s->req_size = sz.seccomp_notif > sizeof(struct seccomp_notif)
			      ? sz.seccomp_notif
			      : sizeof(struct seccomp_notif);
	s->resp_size = sz.seccomp_notif_resp > sizeof(struct seccomp_notif_resp)
			       ? sz.seccomp_notif_resp
			       : sizeof(struct seccomp_notif_resp);
	s->req = roar_xcalloc(1, s->req_size);
	s->resp = roar_xcalloc(1, s->resp_size);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		goto fail;
	s->out_r = sv[0];
	s->out_w = sv[1];
	fcntl(s->out_w, F_SETFL, O_NONBLOCK);
	fcntl(s->out_r, F_SETFL, O_NONBLOCK);
	setsockopt(s->out_w, SOL_SOCKET, SO_SNDBUF, &(int){ OUT_SNDBUF },
		   sizeof(int));
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->epfd < 0 || s->wake_fd < 0)
		goto fail;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wake_fd,
		  &(struct epoll_event){ .events = EPOLLIN,
					 .data.u64 = UINT64_MAX });
	pthread_mutex_init(&s->mu, NULL);
	roar_map_init(&s->procs);
	roar_map_init(&s->tasks);
	*frames_fd = s->out_r;
	return s;
fail:
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	if (s->out_r >= 0)
		close(s->out_r);
	if (s->out_w >= 0)
		close(s->out_w);
	free(s->req);
	free(s->resp);
	free(s);
	return NULL;
}

/* Whether fd is a seccomp listener ("anon_inode:seccomp notify"). */
static bool
is_listener(int fd)
{
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	return strstr(target, "seccomp") != NULL;
}

static void
wake(struct roar_sup *s)
{
	uint64_t one = 1;

	if (write(s->wake_fd, &one, sizeof(one)) < 0) {
		/* The counter is full: a wakeup is due anyway. */
	}
}

int
roar_sup_adopt(struct roar_sup *s, int fd, pid_t pid)
{
	int rc = 0;

	if (!is_listener(fd)) {
		close(fd);
		return -EINVAL;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	pthread_mutex_lock(&s->mu);
	s->adopt = roar_xrealloc(s->adopt, (s->nadopt + 1) * sizeof(*s->adopt));
	s->adopt[s->nadopt++] = (struct sup_adoption){ fd, pid };
	if (!s->started) {
		sigset_t all, old;

		/* Forked while we have one thread (supervise_watch.c). */
		roar_sup_watch_start(s);
		/* The thread takes no signal but SIGSYS (receive): the
		 * loop's signalfd has them. */
		sigaction(SIGSYS,
			  &(struct sigaction){ .sa_handler = kick,
					       .sa_flags = 0 },
			  NULL);
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = -pthread_create(&s->thread, NULL, thread_main, s);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		s->started = rc == 0;
	}
	pthread_mutex_unlock(&s->mu);
	roar_sup_watch_give(s, fd);
	if (rc == 0)
		wake(s);
	return rc;
}

int
roar_sup_frames_fd(const struct roar_sup *s)
{
	return s->out_r;
}

bool
roar_sup_active(const struct roar_sup *s)
{
	return s && s->started;
}

void
roar_sup_emit(struct roar_sup *s, const void *frame, size_t len)
{
	if (s->out_len + len > s->out_cap) {
		size_t cap = s->out_cap ? s->out_cap : 65536;

		while (cap < s->out_len + len)
			cap *= 2;
		s->out = roar_xrealloc(s->out, cap);
		s->out_cap = cap;
	}
	memcpy(s->out + s->out_len, frame, len);
	s->out_len += len;
}

/* Send what can go without waiting; watch for room when some is left. */
static void
flush(struct roar_sup *s)
{
	if (s->out_len) {
		ssize_t n = roar_send_now(s->out_w, s->out, s->out_len);
		/* Broken: the loop is gone, nobody will read these. */
		size_t off = n >= 0 ? (size_t)n : s->out_len;

		memmove(s->out, s->out + off, s->out_len - off);
		s->out_len -= off;
	}
	if ((s->out_len > 0) != s->out_watched) {
		struct epoll_event ev = { .events = EPOLLOUT,
					  .data.u64 = UINT64_MAX - 1 };

		epoll_ctl(s->epfd, s->out_len ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
			  s->out_w, &ev);
		s->out_watched = s->out_len > 0;
	}
}

static void
add_listener(struct roar_sup *s, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)fd };

	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		return;
	}
	/* The synchronous wake-up (supervise.h): on a 2-core VM it made a
	 * notification 4 times cheaper (bbcat's floor: 1.0 s -> 0.26 s for
	 * 40,000).  Best effort: an older kernel says EINVAL. */
	(void)ioctl(fd, ROAR_SUP_IOCTL_SET_FLAGS, ROAR_SUP_SYNC_WAKE_UP);
	s->listeners =
		roar_xrealloc(s->listeners, (s->nlisteners + 1) * sizeof(int));
	s->listeners[s->nlisteners++] = fd;
	s->st.listeners++;
}

static void
drop_listener(struct roar_sup *s, int fd)
{
	for (size_t i = 0; i < s->nlisteners; i++)
		if (s->listeners[i] == fd) {
			s->listeners[i] = s->listeners[--s->nlisteners];
			break;
		}
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
}

/* Take the adoptions queued by the loop; returns whether to quiesce. */
static bool
take_adoptions(struct roar_sup *s)
{
	struct sup_adoption *v;
	uint64_t count;
	size_t n;
	bool q;

	if (read(s->wake_fd, &count, sizeof(count)) < 0) {
		/* Nothing was queued since the last read. */
	}
	pthread_mutex_lock(&s->mu);
	v = s->adopt;
	n = s->nadopt;
	s->adopt = NULL;
	s->nadopt = 0;
	q = s->quiesce;
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < n; i++) {
		roar_sup_track(s, v[i].pid);
		add_listener(s, v[i].fd);
	}
	free(v);
	return q;
}

/*
 * The watchman may take the very notification that woke us (both watch a
 * listener it answers for); then RECV waits for the next one, which may
 * never come.  At the end of the run such a wait is cut short with
 * SIGSYS (roar_sup_free): the only signal this thread takes, to a
 * handler that does nothing, so that RECV fails with EINTR.
 */
static void
kick(int sig)
{
	(void)sig;
}

static void
receive(struct roar_sup *s, int fd)
{
	int rc;

	memset(s->req, 0, s->req_size);
	/* Only read by roar_sup_free, which retries: no ordering needed. */
	atomic_store_explicit(&s->in_recv, true, memory_order_relaxed);
	rc = ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, s->req);
	atomic_store_explicit(&s->in_recv, false, memory_order_relaxed);
	if (rc != 0)
		return; /* ENOENT: its task is gone; EINTR: next time */
	s->st.notifications++;
	roar_sup_handle(s, fd);
	if (s->shared)
		atomic_fetch_add(&s->shared->beat, 1);
}

/* Listeners whose processes still run, now the watchman's alone. */
static void
count_live(struct roar_sup *s)
{
	for (size_t i = 0; i < s->nlisteners; i++) {
		struct pollfd p = { .fd = s->listeners[i], .events = 0 };

		if (poll(&p, 1, 0) == 0 || !(p.revents & POLLHUP))
			s->st.handed_on++;
	}
}

/* Send everything left, waiting for the loop to read. */
static void
flush_all(struct roar_sup *s)
{
	while (s->out_len) {
		struct pollfd p = { .fd = s->out_w, .events = POLLOUT };
		size_t before = s->out_len;

		flush(s);
		if (s->out_len == before && poll(&p, 1, 1000) <= 0)
			break;
	}
}

static void *
thread_main(void *arg)
{
	struct roar_sup *s = arg;
	sigset_t sys;

	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	for (;;) {
		struct epoll_event evs[32];
		int timeout = s->out_len    ? FLUSH_MS
			      : s->npending ? SETTLE_MS
					    : -1;
		int n = epoll_wait(s->epfd, evs, 32, timeout);

		if (n < 0 && errno != EINTR)
			break;
		if (n == 0 && s->npending)
			roar_sup_settle(s, false);
		/* Processes gone first: a pid the next notification names
		 * may be someone new already. */
		for (int i = 0; i < n; i++)
			if ((evs[i].data.u64 & SUP_TAG_PIDFD) &&
			    evs[i].data.u64 < UINT64_MAX - 1)
				sup_proc_died(s,
					      (pid_t)(uint32_t)evs[i].data.u64);
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if ((tag & SUP_TAG_PIDFD) && tag < UINT64_MAX - 1) {
				/* done above */
			} else if (tag == UINT64_MAX) {
				if (take_adoptions(s))
					s->quiescing = true;
			} else if (tag == UINT64_MAX - 1) {
				/* room on the frame socket: flush below */
			} else if (evs[i].events & EPOLLIN) {
				receive(s, (int)tag);
			} else if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
				drop_listener(s, (int)tag);
				roar_sup_settle(s, false);
			}
		}
		/* Frames go in batches: every send would wake the collect
		 * loop, which shares the CPUs with the program we wait on. */
		if (n == 0 || s->out_len >= FLUSH_BYTES || s->quiescing)
			flush(s);
		if (s->quiescing)
			break;
	}
	roar_sup_settle(s, true);
	flush_all(s);
	count_live(s);
	roar_sup_watch_end(s);
	shutdown(s->out_w, SHUT_WR);
	return NULL;
}

void
roar_sup_quiesce(struct roar_sup *s)
{
	if (!s)
		return;
	if (!s->started) {
		shutdown(s->out_w, SHUT_WR);
		return;
	}
	pthread_mutex_lock(&s->mu);
	s->quiesce = true;
	pthread_mutex_unlock(&s->mu);
	wake(s);
}

void
roar_sup_free(struct roar_sup *s, struct roar_sup_stats *stats)
{
	if (!s)
		return;
	while (s->started) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(s->thread, NULL, &until) != ETIMEDOUT)
			break;
		/* Waiting for a notification the watchman took. */
		if (atomic_load(&s->in_recv))
			pthread_kill(s->thread, SIGSYS);
	}
	roar_sup_watch_end(s);
	if (s->shared) {
		s->st.unrecorded = atomic_load(&s->shared->unrecorded);
		munmap(s->shared, sizeof(*s->shared));
	}
	if (stats)
		*stats = s->st;
	for (size_t i = 0; i < s->nlisteners; i++)
		close(s->listeners[i]);
	for (size_t i = 0; i < s->nadopt; i++)
		close(s->adopt[i].fd);
	roar_sup_forget_all(s);
	roar_map_free(&s->procs);
	roar_map_free(&s->tasks);
	free(s->listeners);
	free(s->adopt);
	free(s->out);
	free(s->req);
	free(s->resp);
	sup_hello_free(s);
	sup_peek_free(s);
	close(s->epfd);
	close(s->wake_fd);
	close(s->out_w);
	/* out_r belongs to the loop's connection, which closes it. */
	pthread_mutex_destroy(&s->mu);
	free(s);
}
