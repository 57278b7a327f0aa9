/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection to the collector and its queue.  One per process, opened
 * lazily (and again after the collector went away or was not listening
 * yet), with retries spaced out so that a missing listener costs no
 * syscall storm, its fd kept high and close-on-exec.
 *
 * Lock: send_lock (lock.h, last in the order) guards the connection, the
 * queue and the drop bookkeeping.  It is held only around non-blocking
 * work: one connect attempt, MSG_DONTWAIT sends, copies into the queue.
 * Whatever part of a frame the socket does not take at once goes to the
 * queue, whose head is always the continuation of the stream, so frames
 * never interleave.  Waiting for a slow collector happens with the lock
 * released, in transport_wait.c; an exec hands the connection over to the
 * new image in transport_handover.c.  Every frame is counted in the
 * ledger when it is made, so whatever never arrives is known to the
 * collector.
 *
 * Never calls a hooked symbol by its public name (E5): socket, connect and
 * fcntl go through syscall(2), close through roar_real.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "roar/send.h"
#include "roar/protocol.h"
#include "event.h"
#include "guard.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"
#include "real.h"
#include "session.h"
#include "transport.h"
#include "transport_int.h"

/* Frames kept while no collector is reachable, or not keeping up.  It
 * holds the largest frame whole, so the tail of any frame fits; pages
 * that are never used cost nothing. */
#define QUEUE_SIZE (ROAR_FRAME_HEADER_SIZE + ROAR_FRAME_MAX_PAYLOAD)
/* Retry spacing for a missing listener: doubles up to the cap. */
#define RETRY_FIRST_MS 5
#define RETRY_CAP_MS 1000
/* After giving our fd back to a program out of fds. */
#define STARVE_RETRY_MS 1000

struct roar_link roar_link ROAR_HOT = {
	.send_lock = ROAR_LOCK_INIT,
	.fd = -1,
};

/* All guarded by send_lock.  hello_next: the next frame sent is the
 * image's hello, which names its ledger slot itself (no resume needed
 * before it). */
static bool hello_next ROAR_HOT;
static uint64_t retry_at_ms ROAR_HOT;
static unsigned retry_ms ROAR_HOT = RETRY_FIRST_MS;
static unsigned char queue[QUEUE_SIZE];
static _Atomic uint64_t dropped ROAR_HOT;
static uint64_t dropped_sent ROAR_HOT;

void
roar_transport_init(const char *sock_path)
{
	size_t len = sock_path ? strlen(sock_path) : 0;

	roar_link.enabled = false;
	if (len == 0 || len >= sizeof(roar_link.addr.sun_path)) {
		if (len)
			ROAR_LOG(
				"transport: socket path too long, not tracing");
		return;
	}
	memset(&roar_link.addr, 0, sizeof(roar_link.addr));
	roar_link.addr.sun_family = AF_UNIX;
	memcpy(roar_link.addr.sun_path, sock_path, len);
	roar_link.addr_len =
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	roar_link.enabled = true;
	roar_ledger_attach(sock_path);
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
int
roar_transport_open(bool patient)
{
	int fd, rc, tries = 0;
	int sndbuf = 256 * 1024;

	fd = (int)ROAR_SYS(SYS_socket, AF_UNIX,
			   SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	for (;;) {
		rc = (int)ROAR_SYS(SYS_connect, fd, &roar_link.addr,
				   roar_link.addr_len);
		if (rc == 0 || errno != EAGAIN || !patient || ++tries > 100 ||
		    roar_ledger_stalled() || !roar_transport_wait_spend_ms(1))
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
ssize_t
roar_transport_send_now(int fd, const unsigned char *buf, size_t len)
{
	return roar_send_now(fd, buf, len);
}

/* Must be called with send_lock held.  What the queue held continues
 * the lost stream: it is lost with it (counted as one event, at least).
 * close_it: false when the number may already be the program's. */
void
roar_transport_drop_unlocked(bool close_it)
{
	if (roar_link.fd >= 0 && close_it)
		close_fd(roar_link.fd);
	if (roar_link.queue_len) {
		atomic_fetch_add(&dropped, 1);
		roar_link.queue_len = 0;
	}
	roar_link.fd = -1;
	retry_at_ms = 0;
	retry_ms = RETRY_FIRST_MS;
}

/* Must be called with send_lock held. */
static bool
ensure_connected_unlocked(void)
{
	uint64_t t;
	int fd;

	if (roar_link.fd >= 0)
		return true;
	if (!roar_link.enabled)
		return false;
	t = roar_mono_ms();
	if (retry_at_ms && t < retry_at_ms)
		return false;
	fd = roar_transport_open(false);
	if (fd < 0) {
		retry_at_ms = t + retry_ms;
		if (retry_ms < RETRY_CAP_MS)
			retry_ms *= 2;
		return false;
	}
	roar_link.fd = fd;
	roar_link.degraded = false;
	roar_link.need_resume = true;
	retry_ms = RETRY_FIRST_MS;
	retry_at_ms = 0;
	return true;
}

/* Must be called with send_lock held.  Keep buf for later. */
static bool
enqueue_unlocked(const unsigned char *buf, size_t len)
{
	if (len > QUEUE_SIZE - roar_link.queue_len)
		return false;
	memcpy(queue + roar_link.queue_len, buf, len);
	roar_link.queue_len += len;
	return true;
}

/* Must be called with send_lock held.  Push the queue's head into the
 * socket; false when the stream broke (then the connection is gone and
 * the frames in the queue are counted as lost). */
bool
roar_transport_flush_unlocked(void)
{
	ssize_t n;

	if (!roar_link.queue_len || roar_link.fd < 0)
		return true;
	n = roar_transport_send_now(roar_link.fd, queue, roar_link.queue_len);
	if (n < 0) {
		/* The queue is lost with the stream (counted there); the
		 * collector counts the torn frame too.  No log here: the
		 * lock is held and stderr may block. */
		roar_transport_drop_unlocked(true);
		return false;
	}
	if (n > 0) {
		memmove(queue, queue + n, roar_link.queue_len - (size_t)n);
		roar_link.queue_len -= (size_t)n;
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
	if (roar_link.queue_len && enqueue_unlocked(buf, len)) {
		roar_transport_flush_unlocked();
		return;
	}
	if (roar_link.fd >= 0 && roar_transport_flush_unlocked() &&
	    roar_link.queue_len == 0 && roar_link.fd >= 0) {
		n = roar_transport_send_now(roar_link.fd, buf, len);
		if (n < 0) {
			roar_transport_drop_unlocked(true);
			n = 0;
		}
	}
	if ((size_t)n < len && !enqueue_unlocked(buf + n, len - (size_t)n)) {
		if (n > 0) {
			/* Cannot happen (the queue holds any frame's tail
			 * when it is empty), but never leave a torn frame
			 * on the stream. */
			roar_transport_drop_unlocked(true);
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
	ssize_t n;
	size_t rest;

	if (!roar_link.need_resume)
		return;
	roar_link.need_resume = false;
	if (hello_next || roar_ledger_slot() < 0)
		return;
	roar_frame_init(&f, buf, sizeof(buf));
	if (roar_event_resume(&f,
			      &(struct roar_event_ids){ roar_session.pid,
							roar_session_tid() },
			      (uint64_t)roar_ledger_slot()) != 0)
		return;
	roar_ledger_made();
	/*
	 * Ahead of what waited while there was no connection: the queue then
	 * holds whole frames only, and the stream is at a frame boundary
	 * (a fresh socket, or one handed over with nothing left in flight).
	 * What the socket does not take at once goes to the queue's head.
	 */
	n = roar_transport_send_now(roar_link.fd, buf, f.len);
	if (n < 0) {
		roar_transport_drop_unlocked(true);
		return;
	}
	rest = f.len - (size_t)n;
	if (!rest)
		return;
	if (rest > QUEUE_SIZE - roar_link.queue_len) {
		roar_transport_drop_unlocked(true);
		return;
	}
	memmove(queue + rest, queue, roar_link.queue_len);
	memcpy(queue, buf + n, rest);
	roar_link.queue_len += rest;
}

/* Must be called with send_lock held. */
void
roar_transport_report_drops_unlocked(void)
{
	unsigned char buf[128];
	struct roar_frame f;
	uint64_t d = atomic_load(&dropped);

	if (d == dropped_sent || roar_link.fd < 0)
		return;
	roar_frame_init(&f, buf, sizeof(buf));
	/* A delta: the collector adds them up, across images and forks. */
	if (roar_event_dropped(&f,
			       &(struct roar_event_ids){ roar_session.pid,
							 roar_session_tid() },
			       d - dropped_sent) == 0) {
		dropped_sent = d;
		roar_ledger_made();
		push_unlocked(buf, f.len);
	}
}

int
roar_transport_send(const void *frame, size_t len)
{
	bool wait;

	if (!roar_link.enabled)
		return -ENOTCONN;
	roar_ledger_made();
	roar_lock_take(&roar_link.send_lock);
	ensure_connected_unlocked();
	if (roar_link.fd >= 0)
		resume_unlocked();
	hello_next = false;
	push_unlocked(frame, len);
	if (roar_link.queue_len == 0)
		roar_transport_report_drops_unlocked();
	wait = roar_link.queue_len && roar_link.fd >= 0 && !roar_link.degraded;
	roar_lock_release(&roar_link.send_lock);
	if (wait)
		roar_transport_drain_patiently();
	return 0;
}

void
roar_transport_hello_next(void)
{
	roar_lock_take(&roar_link.send_lock);
	hello_next = true;
	roar_lock_release(&roar_link.send_lock);
}

void
roar_transport_send_later(const void *frame, size_t len)
{
	if (!roar_link.enabled)
		return;
	roar_ledger_made();
	roar_lock_take(&roar_link.send_lock);
	if (!enqueue_unlocked(frame, len))
		atomic_fetch_add(&dropped, 1);
	roar_lock_release(&roar_link.send_lock);
}

bool
roar_transport_owns_fd(int fd)
{
	return fd >= 0 && fd == roar_link.fd;
}

int
roar_transport_vacate(int fd)
{
	int moved, rc = 0;

	roar_lock_take(&roar_link.send_lock);
	if (fd == roar_link.fd) {
		moved = (int)ROAR_SYS(SYS_fcntl, roar_link.fd, F_DUPFD_CLOEXEC,
				      high_fd_floor());
		if (moved == roar_link.fd || moved < 0)
			moved = (int)ROAR_SYS(SYS_fcntl, roar_link.fd,
					      F_DUPFD_CLOEXEC, 3);
		if (moved < 0) {
			rc = -errno;
			roar_transport_drop_unlocked(true);
		} else {
			close_fd(roar_link.fd);
			roar_link.fd = moved;
		}
	}
	roar_lock_release(&roar_link.send_lock);
	return rc;
}

int
roar_transport_fd(void)
{
	return roar_link.fd;
}

void
roar_transport_fd_lost(int fd)
{
	if (fd < 0 || fd != roar_link.fd)
		return;
	roar_lock_take(&roar_link.send_lock);
	/* The number may be the program's now: never close it. */
	if (fd == roar_link.fd)
		roar_transport_drop_unlocked(false);
	roar_lock_release(&roar_link.send_lock);
}

int
roar_transport_starve(bool on)
{
	int rc = 0;

	roar_lock_take(&roar_link.send_lock);
	if (!on) {
		if (retry_at_ms > roar_mono_ms())
			retry_at_ms = 0;
	} else if (roar_link.fd < 0) {
		rc = -EBADF;
	} else {
		/* What the socket does not take now continues a frame the
		 * collector saw begin: it cannot start the next connection,
		 * so it is dropped (and counted) with this one.  The frames
		 * sent from now on wait whole in the queue. */
		roar_transport_flush_unlocked();
		if (roar_link.fd >= 0)
			roar_transport_drop_unlocked(true);
		/* Connect again only after STARVE_RETRY_MS (or at the end of
		 * the image), so that a program living at its fd limit pays
		 * at most one more yield a second, not one a call; each of
		 * its calls that fails for our fd is still retried. */
		retry_at_ms = roar_mono_ms() + STARVE_RETRY_MS;
	}
	roar_lock_release(&roar_link.send_lock);
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
	roar_lock_take(&roar_link.send_lock);
}

void
roar_transport_parent(void)
{
	roar_lock_release(&roar_link.send_lock);
}

void
roar_transport_atfork_child(bool shares_fds)
{
	roar_lock_reset(&roar_link.send_lock);
	/* The inherited fd is the parent's stream: never write to it.  With
	 * an fd table shared with the parent (clone with CLONE_FILES) it is
	 * the parent's very fd: forget it, do not close it. */
	if (roar_link.fd >= 0 && !shares_fds)
		close_fd(roar_link.fd);
	roar_link.fd = -1;
	roar_link.queue_len = 0;
	roar_link.degraded = false;
	retry_at_ms = 0;
	retry_ms = RETRY_FIRST_MS;
	atomic_store(&dropped, 0);
	dropped_sent = 0;
	roar_transport_wait_atfork_child();
	roar_link.need_resume = false;
	hello_next = false;
}

void
roar_transport_close(void)
{
	roar_transport_drain_at_end();
	if (roar_link.queue_len && roar_link.fd < 0) {
		/* Never connected: what waits has nowhere to go. */
		atomic_fetch_add(&dropped, 1);
		roar_link.queue_len = 0;
	}
	roar_transport_drop_unlocked(true);
	roar_lock_release(&roar_link.send_lock);
}
