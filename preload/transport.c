/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection to the collector.  One per process, opened lazily (and
 * again after the collector went away or was not listening yet), with
 * retries spaced out so that a missing listener costs no syscall storm.
 *
 * Lock: send_lock (lock.h, last in the order) guards the connection, the
 * queue and the drop bookkeeping.  It is held only around non-blocking
 * work: one connect attempt, MSG_DONTWAIT sends, copies into the queue.
 * Whatever part of a frame the socket does not take at once goes to the
 * queue, whose head is always the continuation of the stream, so frames
 * never interleave.  Waiting for a slow collector (a bounded poll) happens
 * with the lock released; then the queue is flushed under the lock.
 *
 * Waiting is bounded per image, not per frame: STALL_BUDGET_MS in all
 * while it runs (then frames are queued and, once the queue is full,
 * dropped), and as much again at its end, where the frames that say how
 * it ended wait in the queue.  A
 * collector that does not beat in the ledger (ledger.h) for
 * STALL_DETECT_MS while a sender waits is declared stalled there, and
 * then no sender of the run waits for it at all until it beats again: a
 * stopped collector costs the first sender that notices STALL_DETECT_MS,
 * and everyone else nothing.  Every frame is counted in the ledger when
 * it is made, so whatever never arrives is known to the collector.
 *
 * Never calls a hooked symbol by its public name (E5): socket, connect and
 * fcntl go through syscall(2), close through roar_real.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "roar/protocol.h"
#include "event.h"
#include "guard.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"
#include "real.h"
#include "session.h"
#include "transport.h"

/* How long an image may wait for a slow collector in all, in ms. */
#define STALL_BUDGET_MS 250
/* A collector whose heartbeat does not move for this long while our
 * socket is full is stalled (stopped, or starved of the CPU). */
#define STALL_DETECT_MS 100
/* Poll slices while waiting, so that the heartbeat is looked at. */
#define WAIT_SLICE_MS 10
/* Frames kept while no collector is reachable, or not keeping up.  It
 * holds the largest frame whole, so the tail of any frame fits; pages
 * that are never used cost nothing. */
#define QUEUE_SIZE (ROAR_FRAME_HEADER_SIZE + ROAR_FRAME_MAX_PAYLOAD)
/* Retry spacing for a missing listener: doubles up to the cap. */
#define RETRY_FIRST_MS 5
#define RETRY_CAP_MS 1000
/* After giving our fd back to a program out of fds. */
#define STARVE_RETRY_MS 1000

static struct sockaddr_un sock_addr ROAR_HOT;
static socklen_t sock_addr_len ROAR_HOT;
static bool enabled ROAR_HOT;

/* All guarded by send_lock; conn_fd is also read without it (a poll
 * that may wake for nothing, and the fd-collision checks of hooks). */
static struct roar_lock send_lock ROAR_HOT = ROAR_LOCK_INIT;
static _Atomic int conn_fd ROAR_HOT = -1;
static bool degraded ROAR_HOT;            /* the budget ran out: do not wait again */
/* What is left of STALL_BUDGET_MS; atomic because a vfork child (which
 * shares our memory) waits out of it too, while our other threads run. */
static _Atomic int wait_left_ms ROAR_HOT = STALL_BUDGET_MS;
static bool end_budget_given ROAR_HOT;
/* The connection has not yet named this image's ledger slot (a hello
 * or a resume does), and whether the next frame sent is the hello. */
static bool need_resume ROAR_HOT;
static bool hello_next ROAR_HOT;
static uint64_t retry_at_ms ROAR_HOT;
static unsigned retry_ms ROAR_HOT = RETRY_FIRST_MS;
static unsigned char queue[QUEUE_SIZE];
static size_t queue_len ROAR_HOT;
static _Atomic uint64_t dropped ROAR_HOT;
static uint64_t dropped_sent ROAR_HOT;


void
roar_transport_init(const char *sock_path)
{
	size_t len = sock_path ? strlen(sock_path) : 0;

	enabled = false;
	if (len == 0 || len >= sizeof(sock_addr.sun_path)) {
		if (len)
			ROAR_LOG("transport: socket path too long, not tracing");
		return;
	}
	memset(&sock_addr, 0, sizeof(sock_addr));
	sock_addr.sun_family = AF_UNIX;
	memcpy(sock_addr.sun_path, sock_path, len);
	sock_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				    len + 1);
	enabled = true;
	roar_ledger_attach(sock_path);
}

static void
close_fd(int fd)
{
	roar_real_get()->close(fd);
}

/*
 * The lowest fd number our connection may take: near the top of the
 * usual 1024 so that shells (which use up to 255) and programs that
 * number their own fds do not meet it.
 */
static int
high_fd_floor(void)
{
	struct rlimit rl;
	rlim_t top = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < top)
		top = rl.rlim_cur;
	return top > 64 ? (int)top - 32 : 3;
}

/* high_fd_floor, asked once per image (a fork child inherits it): a
 * limit lowered later only moves the number down, as F_DUPFD does when
 * the floor is out of range. */
static int floor_fd ROAR_HOT;

static int
fd_floor(void)
{
	if (!floor_fd)
		floor_fd = high_fd_floor();
	return floor_fd;
}

static int
move_high(int fd)
{
	int hi = (int)ROAR_SYS(SYS_fcntl, fd, F_DUPFD_CLOEXEC, fd_floor());

	if (hi < 0)
		return fd; /* keep the low one rather than lose the connection */
	close_fd(fd);
	return hi;
}

/*
 * Open a connection; returns the fd or -errno.  Touches no shared state.
 * patient: when the listener's backlog is full, try again for up to
 * 100 ms (only where no lock is held: a vfork child's one-shot sends).
 */
static int
open_connection(bool patient)
{
	int fd, rc, tries = 0;
	int sndbuf = 256 * 1024;

	fd = (int)ROAR_SYS(SYS_socket, AF_UNIX,
			  SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	for (;;) {
		rc = (int)ROAR_SYS(SYS_connect, fd, &sock_addr, sock_addr_len);
		if (rc == 0 || errno != EAGAIN || !patient || ++tries > 100 ||
		    roar_ledger_stalled() ||
		    atomic_fetch_sub(&wait_left_ms, 1) <= 0)
			break;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	if (rc != 0) {
		rc = -errno;
		close_fd(fd);
		return rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return move_high(fd);
}

/* Send as much of buf as the socket takes now; returns the bytes sent,
 * or -errno when the stream is broken. */
static ssize_t
send_now(int fd, const unsigned char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		return n < 0 ? -errno : -EPIPE;
	}
	return (ssize_t)off;
}

/* Where a wait for the collector stands: the heartbeat when it last
 * moved, and since when it has not. */
struct waiter {
	uint64_t beat;
	uint64_t since;
};

static void
waiter_init(struct waiter *w)
{
	w->beat = roar_ledger_beat();
	w->since = roar_mono_ms();
}

/*
 * Wait a slice for fd to take more, out of the image's budget.  False
 * when waiting is not worth it: the budget is spent, or the collector is
 * stalled (declared so by another sender, or found so now).
 */
static bool
wait_writable(int fd, struct waiter *w)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int left = atomic_load(&wait_left_ms);
	int slice = left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS;
	uint64_t t0, t1, beat;

	if (slice <= 0 || roar_ledger_stalled())
		return false;
	t0 = roar_mono_ms();
	poll(&pfd, 1, slice);
	t1 = roar_mono_ms();
	atomic_fetch_sub(&wait_left_ms, t1 > t0 ? (int)(t1 - t0) : 1);
	beat = roar_ledger_beat();
	if (beat != w->beat) {
		w->beat = beat;
		w->since = t1;
	} else if (beat && (pfd.revents & POLLOUT) == 0 &&
		   t1 - w->since >= STALL_DETECT_MS) {
		roar_ledger_declare_stall(beat);
		return false;
	}
	return true;
}

/* Write all of buf on a connection of our own, waiting up to the stall
 * budget.  Returns 0 or -errno.  Holds no lock. */
static int
write_all_patient(int fd, const unsigned char *buf, size_t len)
{
	struct waiter w;
	size_t off = 0;

	waiter_init(&w);
	while (off < len) {
		ssize_t n = send_now(fd, buf + off, len - off);

		if (n < 0)
			return (int)n;
		off += (size_t)n;
		if (off < len && !wait_writable(fd, &w))
			return -ETIMEDOUT;
	}
	return 0;
}

/* Must be called with send_lock held.  What the queue held continues
 * the lost stream: it is lost with it (counted as one event, at least).
 * close_it: false when the number may already be the program's. */
static void
drop_connection_unlocked(bool close_it)
{
	if (conn_fd >= 0 && close_it)
		close_fd(conn_fd);
	if (queue_len) {
		atomic_fetch_add(&dropped, 1);
		queue_len = 0;
	}
	conn_fd = -1;
	retry_at_ms = 0;
	retry_ms = RETRY_FIRST_MS;
}

/* Must be called with send_lock held. */
static bool
ensure_connected_unlocked(void)
{
	uint64_t t;
	int fd;

	if (conn_fd >= 0)
		return true;
	if (!enabled)
		return false;
	t = roar_mono_ms();
	if (retry_at_ms && t < retry_at_ms)
		return false;
	fd = open_connection(false);
	if (fd < 0) {
		retry_at_ms = t + retry_ms;
		if (retry_ms < RETRY_CAP_MS)
			retry_ms *= 2;
		return false;
	}
	conn_fd = fd;
	degraded = false;
	need_resume = true;
	retry_ms = RETRY_FIRST_MS;
	retry_at_ms = 0;
	return true;
}

/* Must be called with send_lock held.  Keep buf for later. */
static bool
enqueue_unlocked(const unsigned char *buf, size_t len)
{
	if (len > QUEUE_SIZE - queue_len)
		return false;
	memcpy(queue + queue_len, buf, len);
	queue_len += len;
	return true;
}

/* Must be called with send_lock held.  Push the queue's head into the
 * socket; false when the stream broke (then the connection is gone and
 * the frames in the queue are counted as lost). */
static bool
flush_unlocked(void)
{
	ssize_t n;

	if (!queue_len || conn_fd < 0)
		return true;
	n = send_now(conn_fd, queue, queue_len);
	if (n < 0) {
		/* The queue is lost with the stream (counted there); the
		 * collector counts the torn frame too.  No log here: the
		 * lock is held and stderr may block. */
		drop_connection_unlocked(true);
		return false;
	}
	if (n > 0) {
		memmove(queue, queue + n, queue_len - (size_t)n);
		queue_len -= (size_t)n;
	}
	return true;
}

/* Must be called with send_lock held.  Send or keep buf (a whole frame,
 * or the frames of the drop report): the socket takes what it can and the
 * rest waits in the queue behind what was already there. */
static void
push_unlocked(const unsigned char *buf, size_t len)
{
	ssize_t n = 0;

	/* Behind frames already waiting: one send takes them all. */
	if (queue_len && enqueue_unlocked(buf, len)) {
		flush_unlocked();
		return;
	}
	if (conn_fd >= 0 && flush_unlocked() && queue_len == 0 &&
	    conn_fd >= 0) {
		n = send_now(conn_fd, buf, len);
		if (n < 0) {
			drop_connection_unlocked(true);
			n = 0;
		}
	}
	if ((size_t)n < len && !enqueue_unlocked(buf + n, len - (size_t)n)) {
		if (n > 0) {
			/* Cannot happen (the queue holds any frame's tail
			 * when it is empty), but never leave a torn frame
			 * on the stream. */
			drop_connection_unlocked(true);
		}
		atomic_fetch_add(&dropped, 1);
	}
}

/*
 * Must be called with send_lock held.  A connection's first frame of an
 * image names its ledger slot, so that the collector credits what
 * follows to it: the image's hello does, else (a reconnection, frames
 * sent before the hello, an adopted connection) a resume goes first.
 */
static void
resume_unlocked(void)
{
	unsigned char buf[96];
	struct roar_frame f;

	if (!need_resume)
		return;
	need_resume = false;
	if (hello_next || roar_ledger_slot() < 0)
		return;
	roar_frame_init(&f, buf, sizeof(buf));
	if (roar_event_resume(&f, &(struct roar_event_ids){
				      roar_session.pid, roar_session_tid() },
			      (uint64_t)roar_ledger_slot()) != 0)
		return;
	roar_ledger_made();
	push_unlocked(buf, f.len);
}

/* Must be called with send_lock held. */
static void
report_drops_unlocked(void)
{
	unsigned char buf[128];
	struct roar_frame f;
	uint64_t d = atomic_load(&dropped);

	if (d == dropped_sent || conn_fd < 0)
		return;
	roar_frame_init(&f, buf, sizeof(buf));
	/* A delta: the collector adds them up, across images and forks. */
	if (roar_event_dropped(&f, &(struct roar_event_ids){
				       roar_session.pid, roar_session_tid() },
			       d - dropped_sent) == 0) {
		dropped_sent = d;
		roar_ledger_made();
		push_unlocked(buf, f.len);
	}
}

/*
 * Let a slow collector catch up with the queue, out of the image's wait
 * budget, waiting with the lock released.  When waiting is not worth it
 * (budget spent, collector stalled) the image is marked degraded and
 * later frames do not wait (they are queued, and dropped when the queue
 * is full) until the queue empties.  While it waits, this thread's signal
 * handlers do their bookkeeping in full (roar_guard_suspend).
 */
static void
drain_patiently(void)
{
	struct waiter w;
	bool started = false, waited;
	unsigned depth;

	for (;;) {
		int fd;

		roar_lock_take(&send_lock);
		flush_unlocked();
		fd = conn_fd;
		if (!queue_len || fd < 0 || degraded) {
			if (!queue_len)
				degraded = false;
			roar_lock_release(&send_lock);
			return;
		}
		roar_lock_release(&send_lock);
		if (!started) {
			waiter_init(&w);
			started = true;
		}
		depth = roar_guard_suspend();
		waited = wait_writable(fd, &w);
		roar_guard_resume(depth);
		if (!waited)
			break;
	}
	roar_lock_take(&send_lock);
	degraded = queue_len != 0;
	roar_lock_release(&send_lock);
}

int
roar_transport_send(const void *frame, size_t len)
{
	bool wait;

	if (!enabled)
		return -ENOTCONN;
	roar_ledger_made();
	roar_lock_take(&send_lock);
	ensure_connected_unlocked();
	if (conn_fd >= 0)
		resume_unlocked();
	hello_next = false;
	push_unlocked(frame, len);
	if (queue_len == 0)
		report_drops_unlocked();
	wait = queue_len && conn_fd >= 0 && !degraded;
	roar_lock_release(&send_lock);
	if (wait)
		drain_patiently();
	return 0;
}

void
roar_transport_hello_next(void)
{
	roar_lock_take(&send_lock);
	hello_next = true;
	roar_lock_release(&send_lock);
}

void
roar_transport_send_later(const void *frame, size_t len)
{
	if (!enabled)
		return;
	roar_ledger_made();
	roar_lock_take(&send_lock);
	if (!enqueue_unlocked(frame, len))
		atomic_fetch_add(&dropped, 1);
	roar_lock_release(&send_lock);
}

int
roar_transport_send_oneshot(const void *frame, size_t len)
{
	int fd, rc;

	if (!enabled)
		return -ENOTCONN;
	/* Not counted as made: it goes on a connection of its own, which
	 * names no slot.  What fails is lost, in the caller's slot (in a
	 * vfork child: its parent's, whose memory it shares). */
	fd = open_connection(true);
	if (fd < 0) {
		roar_transport_count_drop();
		return fd;
	}
	rc = write_all_patient(fd, frame, len);
	close_fd(fd);
	if (rc != 0)
		roar_transport_count_drop();
	return rc;
}

bool
roar_transport_owns_fd(int fd)
{
	return fd >= 0 && fd == conn_fd;
}

int
roar_transport_vacate(int fd)
{
	int moved, rc = 0;

	roar_lock_take(&send_lock);
	if (fd == conn_fd) {
		moved = (int)ROAR_SYS(SYS_fcntl, conn_fd, F_DUPFD_CLOEXEC,
				     high_fd_floor());
		if (moved == conn_fd || moved < 0)
			moved = (int)ROAR_SYS(SYS_fcntl, conn_fd,
					     F_DUPFD_CLOEXEC, 3);
		if (moved < 0) {
			rc = -errno;
			drop_connection_unlocked(true);
		} else {
			close_fd(conn_fd);
			conn_fd = moved;
		}
	}
	roar_lock_release(&send_lock);
	return rc;
}

int
roar_transport_fd(void)
{
	return conn_fd;
}

void
roar_transport_fd_lost(int fd)
{
	if (fd < 0 || fd != conn_fd)
		return;
	roar_lock_take(&send_lock);
	/* The number may be the program's now: never close it. */
	if (fd == conn_fd)
		drop_connection_unlocked(false);
	roar_lock_release(&send_lock);
}

int
roar_transport_starve(bool on)
{
	int rc = 0;

	roar_lock_take(&send_lock);
	if (!on) {
		if (retry_at_ms > roar_mono_ms())
			retry_at_ms = 0;
	} else if (conn_fd < 0) {
		rc = -EBADF;
	} else {
		/* What the socket does not take now continues a frame the
		 * collector saw begin: it cannot start the next connection,
		 * so it is dropped (and counted) with this one.  The frames
		 * sent from now on wait whole in the queue. */
		flush_unlocked();
		if (conn_fd >= 0)
			drop_connection_unlocked(true);
		/* Connect again only after STARVE_RETRY_MS (or at the end of
		 * the image), so that a program living at its fd limit pays
		 * at most one more yield a second, not one a call; each of
		 * its calls that fails for our fd is still retried. */
		retry_at_ms = roar_mono_ms() + STARVE_RETRY_MS;
	}
	roar_lock_release(&send_lock);
	return rc;
}

uint64_t
roar_transport_dropped(void)
{
	return atomic_load(&dropped);
}

void
roar_transport_count_drop(void)
{
	atomic_fetch_add(&dropped, 1);
	roar_ledger_lost(1);
}

void
roar_transport_prepare(void)
{
	roar_lock_take(&send_lock);
}

void
roar_transport_parent(void)
{
	roar_lock_release(&send_lock);
}

void
roar_transport_atfork_child(bool shares_fds)
{
	roar_lock_reset(&send_lock);
	/* The inherited fd is the parent's stream: never write to it.  With
	 * an fd table shared with the parent (clone with CLONE_FILES) it is
	 * the parent's very fd: forget it, do not close it. */
	if (conn_fd >= 0 && !shares_fds)
		close_fd(conn_fd);
	conn_fd = -1;
	queue_len = 0;
	degraded = false;
	retry_at_ms = 0;
	retry_ms = RETRY_FIRST_MS;
	atomic_store(&dropped, 0);
	dropped_sent = 0;
	atomic_store(&wait_left_ms, STALL_BUDGET_MS);
	end_budget_given = false;
	need_resume = false;
	hello_next = false;
}

/*
 * The end of an image (exit, or an exec): send the drop count and what
 * waits, with what is left of the wait budget (degraded or not: the
 * queue may have room to drain now).  Returns with send_lock held.
 */
static void
drain_at_end(void)
{
	roar_lock_take(&send_lock);
	if (conn_fd >= 0)
		report_drops_unlocked();
	degraded = false;
	roar_lock_release(&send_lock);
	/* The end's own budget (once: an exec that fails and a later exit
	 * share it). */
	if (!end_budget_given) {
		end_budget_given = true;
		atomic_store(&wait_left_ms, STALL_BUDGET_MS);
	}
	drain_patiently();
	roar_lock_take(&send_lock);
}

int
roar_transport_handover(void)
{
	int fd;

	drain_at_end();
	/* A torn frame must not be the new image's first bytes. */
	if (queue_len)
		drop_connection_unlocked(true);
	fd = conn_fd;
	if (fd >= 0 && ROAR_SYS(SYS_fcntl, fd, F_SETFD, 0) != 0) {
		drop_connection_unlocked(true);
		fd = -1;
	}
	/* Kept until the exec fails (lock.h): a frame another thread began
	 * now would be torn by the exec, mid-stream of the new image. */
	return fd;
}

void
roar_transport_handover_failed(void)
{
	if (conn_fd >= 0)
		ROAR_SYS(SYS_fcntl, (int)conn_fd, F_SETFD, FD_CLOEXEC);
	roar_lock_release(&send_lock);
}

/* Whether fd is a socket connected to our collector's very path
 * (getpeername fails on anything that is not a connected socket). */
static bool
is_our_connection(int fd)
{
	struct sockaddr_un peer;
	socklen_t len = sizeof(peer);

	/* The kernel fills only len bytes: an unnamed peer has no path at
	 * all, and the rest of sun_path would be compared uninitialised. */
	memset(&peer, 0, sizeof(peer));
	return enabled && fd >= 0 &&
	       ROAR_SYS(SYS_getpeername, fd, &peer, &len) == 0 &&
	       len > offsetof(struct sockaddr_un, sun_path) &&
	       peer.sun_family == AF_UNIX &&
	       strncmp(peer.sun_path, sock_addr.sun_path,
		       sizeof(peer.sun_path)) == 0;
}

void
roar_transport_disown(int fd)
{
	if (is_our_connection(fd))
		close_fd(fd);
}

void
roar_transport_adopt(int fd)
{
	if (!is_our_connection(fd) ||
	    ROAR_SYS(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC) != 0)
		return;
	roar_lock_take(&send_lock);
	if (conn_fd < 0) {
		conn_fd = fd;
		need_resume = true;
	}
	roar_lock_release(&send_lock);
}

void
roar_transport_close(void)
{
	drain_at_end();
	if (queue_len && conn_fd < 0) {
		/* Never connected: what waits has nowhere to go. */
		atomic_fetch_add(&dropped, 1);
		queue_len = 0;
	}
	drop_connection_unlocked(true);
	roar_lock_release(&send_lock);
}
