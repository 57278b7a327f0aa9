/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The watchman: a small process that holds a copy of every listener and
 * answers nothing while the supervisor does (supervise_int.h).  A watched
 * call waits for an answer, and one whose listener nobody holds fails
 * with ENOSYS: a program must never see either because of us.  So when
 * the supervisor cannot answer, the watchman lets the calls go on, and
 * counts them (they are not in the report: "unrecorded"):
 * - the collector is gone (killed; its pidfd says so),
 * - the supervisor's beat stood still for WATCH_STALL_MS while a call
 *   waited (the collector stopped, or starved of the CPU),
 * - the run is over and processes still run (the collector closes its
 *   end of the handover socket).
 * It ends when every listener is gone (POLLHUP: their processes ended).
 * It was forked before the supervisor's thread started and uses only
 * async-signal-safe calls and memory of its own.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "roar/clock.h"
#include "roar/scm.h"
#include "supervise_int.h"

/* Long enough that a supervisor starved on a loaded machine is not taken
 * for a stopped one (its calls would go unrecorded). */
#define WATCH_STALL_MS 3000
#define WATCH_MAX 256
/* How often it looks at the beat while the supervisor works. */
#define WATCH_TICK_MS 500

struct watch {
	int fd;
	uint64_t pending_since; /* ms: readable since, with no beat; 0 */
	bool stalled; /* the supervisor stood still: answer until it beats */
};

/* SIGALRM's handler here: it only cuts a RECV short (answer_one). */
static void
wake_up(int sig)
{
	(void)sig;
}

/*
 * Let the call waiting on fd go on.  The supervisor may take it first
 * (it woke up at the same time): then RECV would wait for the next call
 * on fd, and every other listener would wait with it.  An alarm cuts
 * that wait short after 100 ms (EINTR).
 */
static void
answer_one(struct roar_sup *s, int fd)
{
	struct seccomp_notif *req = s->req;
	struct itimerval soon = { .it_value = { 0, 100 * 1000 } }, off = { 0 };
	int rc;

	memset(req, 0, s->req_size);
	setitimer(ITIMER_REAL, &soon, NULL);
	rc = ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req);
	setitimer(ITIMER_REAL, &off, NULL);
	if (rc != 0)
		return;
	if (sup_answer(s, fd, req->id) == 0)
		atomic_fetch_add(&s->shared->unrecorded, 1);
}

/* Listeners with a call waiting now, while the beat stands still: mark
 * since when, and answer those that waited WATCH_STALL_MS. */
static void
look_for_stalls(struct roar_sup *s, struct watch *w, size_t n, uint64_t now)
{
	for (size_t i = 0; i < n; i++) {
		struct pollfd p = { .fd = w[i].fd, .events = POLLIN };

		if (w[i].stalled)
			continue;
		if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)) {
			w[i].pending_since = 0;
			continue;
		}
		if (!w[i].pending_since) {
			w[i].pending_since = now ? now : 1;
		} else if (now - w[i].pending_since >= WATCH_STALL_MS) {
			answer_one(s, w[i].fd);
			w[i].pending_since = 0;
			w[i].stalled = true;
		}
	}
}

/* Close every fd of ours listed in /proc/self/fd but a and b, a pass
 * at a time until a pass finds nothing more (a directory read while its
 * entries go may skip some).  Raw getdents64 into a buffer on the stack:
 * nothing here may allocate. */
static void
close_listed_but(int a, int b)
{
	char buf[4096];
	bool closed = true;

	while (closed) {
		int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
		long n;

		if (dir < 0)
			return;
		closed = false;
		while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0)
			for (long off = 0; off < n;) {
				struct dirent64 *d =
					(struct dirent64 *)(buf + off);
				char *end;
				long fd = strtol(d->d_name, &end, 10);

				off += d->d_reclen;
				if (*end || end == d->d_name || fd == a ||
				    fd == b || fd == dir)
					continue;
				close((int)fd);
				closed = true;
			}
		close(dir);
	}
}

/* Close every fd but a and b: close_range(2) around them (Linux 5.9),
 * else by the list of /proc/self/fd. */
static void
close_all_but(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;
	bool ok = true;

	if (lo > 0)
		ok = syscall(SYS_close_range, 0, lo - 1, 0) == 0;
	if (ok && hi - lo > 1)
		ok = syscall(SYS_close_range, lo + 1, hi - 1, 0) == 0;
	if (ok && syscall(SYS_close_range, hi + 1, ~0U, 0) == 0)
		return;
	close_listed_but(a, b);
}

/*
 * While the supervisor beats, the watchman asks the listeners only for
 * POLLHUP, and looks at them every WATCH_TICK_MS: watching them for
 * POLLIN would wake it, too, for every notification.  Only once the beat
 * stood still does it look for calls that wait, and a listener it had to
 * answer (stalled), or every one when it is alone, it watches for POLLIN
 * until the beat comes back.
 */
static _Noreturn void
watchman(struct roar_sup *s, int sock, int collector)
{
	struct watch w[WATCH_MAX];
	struct pollfd pfd[WATCH_MAX + 2];
	size_t n = 0;
	bool alone = false; /* the supervisor is gone: answer all */
	uint64_t beat_seen = atomic_load(&s->shared->beat);
	uint64_t beat_at = roar_mono_ms();

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_IGN);
	sigaction(SIGALRM,
		  &(struct sigaction){ .sa_handler = wake_up, .sa_flags = 0 },
		  NULL);
	setsid();
	/* Nothing of the collector's stays open here but what we need. */
	close_all_but(sock, collector);
	for (;;) {
		size_t k = 0;
		uint64_t now = roar_mono_ms();
		uint64_t beat = atomic_load(&s->shared->beat);

		if (alone && n == 0)
			_exit(0);
		if (beat != beat_seen) {
			beat_seen = beat;
			beat_at = now;
			for (size_t i = 0; i < n; i++) {
				w[i].stalled = false;
				w[i].pending_since = 0;
			}
		} else if (!alone && now - beat_at >= WATCH_TICK_MS) {
			look_for_stalls(s, w, n, now);
		}
		pfd[k++] = (struct pollfd){ .fd = alone ? -1 : sock,
					    .events = POLLIN };
		pfd[k++] = (struct pollfd){ .fd = alone ? -1 : collector,
					    .events = POLLIN };
		for (size_t i = 0; i < n; i++)
			pfd[k++] = (struct pollfd){
				.fd = w[i].fd,
				.events = alone || w[i].stalled ? POLLIN : 0
			};
		if (poll(pfd, (nfds_t)k, alone ? -1 : WATCH_TICK_MS) < 0)
			continue;
		if (pfd[0].revents) {
			struct roar_scm scm;
			char byte;
			struct msghdr *msg = roar_scm_recv(&scm, &byte, 1);
			int fd = -1;

			if (recvmsg(sock, msg, 0) <= 0)
				alone = true; /* the run is over */
			else
				fd = roar_scm_fd(msg);
			if (fd >= 0 && n < WATCH_MAX) {
				w[n].fd = fd;
				w[n].pending_since = 0;
				w[n].stalled = false;
				n++;
			} else if (fd >= 0) {
				close(fd);
			}
		}
		if (pfd[1].revents)
			alone = true; /* the collector died */
		for (size_t i = 0, j = 2; i < n; j++) {
			short ev = pfd[j].revents;

			if (ev & (POLLHUP | POLLERR | POLLNVAL)) {
				close(w[i].fd);
				w[i] = w[--n];
				/* pfd no longer lines up: look again */
				break;
			}
			if ((ev & POLLIN) && (alone || w[i].stalled))
				answer_one(s, w[i].fd);
			i++;
		}
	}
}

int
roar_sup_watch_start(struct roar_sup *s)
{
	int sv[2], pidfd;
	pid_t pid;

	s->shared = mmap(NULL, sizeof(*s->shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->shared == MAP_FAILED) {
		s->shared = NULL;
		return -errno;
	}
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		if (pidfd >= 0)
			close(pidfd);
		return -errno;
	}
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		watchman(s, sv[1], pidfd);
	}
	close(sv[1]);
	close(pidfd);
	if (pid < 0) {
		close(sv[0]);
		return -errno;
	}
	s->watch_fd = sv[0];
	s->watch_pid = pid;
	return 0;
}

void
roar_sup_watch_give(struct roar_sup *s, int listener)
{
	struct roar_scm scm;
	char byte = 0;

	if (s->watch_fd >= 0)
		sendmsg(s->watch_fd, roar_scm_send(&scm, &byte, 1, listener),
			MSG_NOSIGNAL);
}

void
roar_sup_watch_end(struct roar_sup *s)
{
	if (s->watch_fd >= 0)
		close(s->watch_fd);
	s->watch_fd = -1;
}
