/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection to the collector.  One per process, opened lazily (and
 * again after the collector went away or was not listening yet), with
 * retries spaced out so that a missing listener costs no syscall storm.
 *
 * Lock: send_lock, a spin flag, serialises whole frames between threads.
 * It is only taken with the guard held, so a signal handler on the thread
 * that holds it never waits for it (the guard makes that handler's hooks
 * pass through).  It is never held across anything but our own send and a
 * bounded poll.  A fork child resets it.
 *
 * Never calls a hooked symbol by its public name (E5): socket, connect and
 * fcntl go through syscall(2), close through roar_real.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "real.h"
#include "session.h"
#include "transport.h"

/* How long one frame may wait for a stalled collector, in ms. */
#define STALL_BUDGET_MS 250
/* Frames kept while no collector is reachable. */
#define QUEUE_SIZE (64u * 1024u)
/* Retry spacing for a missing listener: doubles up to the cap. */
#define RETRY_FIRST_MS 5
#define RETRY_CAP_MS 1000

static struct sockaddr_un sock_addr;
static socklen_t sock_addr_len;
static bool enabled;

static int conn_fd = -1;
static bool degraded;            /* last send timed out: do not wait again */
static uint64_t retry_at_ms;
static unsigned retry_ms = RETRY_FIRST_MS;
static unsigned char queue[QUEUE_SIZE];
static size_t queue_len;
static atomic_flag send_lock = ATOMIC_FLAG_INIT;
static _Atomic uint64_t dropped;
static uint64_t dropped_sent;    /* guarded by send_lock */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
roar_transport_init(const char *sock_path)
{
	size_t len = sock_path ? strlen(sock_path) : 0;

	enabled = false;
	if (len == 0 || len >= sizeof(sock_addr.sun_path)) {
		if (len)
			roar_log("transport: socket path too long, not tracing");
		return;
	}
	memset(&sock_addr, 0, sizeof(sock_addr));
	sock_addr.sun_family = AF_UNIX;
	memcpy(sock_addr.sun_path, sock_path, len);
	sock_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				    len + 1);
	enabled = true;
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

static int
move_high(int fd)
{
	int hi = (int)roar_sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, high_fd_floor());

	if (hi < 0)
		return fd; /* keep the low one rather than lose the connection */
	close_fd(fd);
	return hi;
}

/* Open a connection; returns the fd or -errno. Touches no shared state. */
static int
open_connection(void)
{
	int fd, rc, tries = 0;
	int sndbuf = 256 * 1024;

	fd = (int)roar_sys(SYS_socket, AF_UNIX,
			  SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	for (;;) {
		rc = (int)roar_sys(SYS_connect, fd, &sock_addr, sock_addr_len);
		if (rc == 0 || errno != EAGAIN || ++tries > 100)
			break;
		/* The listener's backlog is full: give it a moment. */
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

/*
 * Write all of buf or fail.  Returns 0, -EAGAIN when nothing was written
 * within the budget (the stream is intact), or another -errno when the
 * stream may hold a partial frame and must be closed.
 */
static int
write_all(int fd, const unsigned char *buf, size_t len, bool may_wait)
{
	size_t off = 0;
	uint64_t deadline = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (off == 0 && !may_wait)
			return -EAGAIN;
		if (!deadline)
			deadline = now_ms() + STALL_BUDGET_MS;
		uint64_t t = now_ms();
		if (t >= deadline)
			return off == 0 ? -EAGAIN : -ETIMEDOUT;
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		poll(&pfd, 1, (int)(deadline - t));
	}
	return 0;
}

/* Must be called with send_lock held. */
static void
drop_connection_unlocked(void)
{
	if (conn_fd >= 0)
		close_fd(conn_fd);
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
	t = now_ms();
	if (retry_at_ms && t < retry_at_ms)
		return false;
	fd = open_connection();
	if (fd < 0) {
		retry_at_ms = t + retry_ms;
		if (retry_ms < RETRY_CAP_MS)
			retry_ms *= 2;
		return false;
	}
	conn_fd = fd;
	degraded = false;
	retry_ms = RETRY_FIRST_MS;
	retry_at_ms = 0;
	return true;
}

/* Must be called with send_lock held.  Returns 0 or -errno. */
static int
send_unlocked(const unsigned char *buf, size_t len)
{
	int rc = write_all(conn_fd, buf, len, !degraded);

	if (rc == 0) {
		degraded = false;
		return 0;
	}
	if (rc == -EAGAIN) {
		degraded = true;
		return rc;
	}
	roar_log("transport: send failed (%d), reconnecting later", -rc);
	drop_connection_unlocked();
	return rc;
}

/* Must be called with send_lock held. */
static void
flush_queue_unlocked(void)
{
	if (queue_len && send_unlocked(queue, queue_len) == 0)
		queue_len = 0;
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
			       d - dropped_sent) == 0 &&
	    send_unlocked(buf, f.len) == 0)
		dropped_sent = d;
}

static bool
lock_send(void)
{
	for (unsigned spins = 0;
	     atomic_flag_test_and_set_explicit(&send_lock, memory_order_acquire);
	     spins++) {
		/* Another thread is sending; it is bounded by the stall budget. */
		if (spins > 100000)
			return false;
		sched_yield();
	}
	return true;
}

static void
unlock_send(void)
{
	atomic_flag_clear_explicit(&send_lock, memory_order_release);
}

int
roar_transport_send(const void *frame, size_t len)
{
	int rc = 0;

	if (!enabled)
		return -ENOTCONN;
	if (!lock_send()) {
		atomic_fetch_add(&dropped, 1);
		return -EBUSY;
	}
	if (ensure_connected_unlocked()) {
		flush_queue_unlocked();
		if (queue_len == 0)
			rc = send_unlocked(frame, len);
		else
			rc = -EAGAIN;
		if (rc == 0)
			report_drops_unlocked();
	} else {
		rc = -ENOTCONN;
	}
	if (rc != 0) {
		/* Keep it for a collector that is late or slow. */
		if (len <= QUEUE_SIZE - queue_len) {
			memcpy(queue + queue_len, frame, len);
			queue_len += len;
			rc = 0;
		} else {
			atomic_fetch_add(&dropped, 1);
		}
	}
	unlock_send();
	return rc;
}

int
roar_transport_send_oneshot(const void *frame, size_t len)
{
	int fd, rc;

	if (!enabled)
		return -ENOTCONN;
	fd = open_connection();
	if (fd < 0) {
		atomic_fetch_add(&dropped, 1);
		return fd;
	}
	rc = write_all(fd, frame, len, true);
	close_fd(fd);
	if (rc != 0)
		atomic_fetch_add(&dropped, 1);
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

	if (!lock_send())
		return -EBUSY;
	if (fd == conn_fd) {
		moved = (int)roar_sys(SYS_fcntl, conn_fd, F_DUPFD_CLOEXEC,
				     high_fd_floor());
		if (moved == conn_fd || moved < 0)
			moved = (int)roar_sys(SYS_fcntl, conn_fd,
					     F_DUPFD_CLOEXEC, 3);
		if (moved < 0) {
			rc = -errno;
			drop_connection_unlocked();
		} else {
			close_fd(conn_fd);
			conn_fd = moved;
		}
	}
	unlock_send();
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
	if (fd < 0 || fd != conn_fd || !lock_send())
		return;
	if (fd == conn_fd) {
		conn_fd = -1;
		retry_at_ms = 0;
	}
	unlock_send();
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
}

void
roar_transport_atfork_child(void)
{
	atomic_flag_clear(&send_lock);
	/* The inherited fd is the parent's stream: never write to it. */
	if (conn_fd >= 0)
		close_fd(conn_fd);
	conn_fd = -1;
	queue_len = 0;
	degraded = false;
	retry_at_ms = 0;
	retry_ms = RETRY_FIRST_MS;
	atomic_store(&dropped, 0);
	dropped_sent = 0;
}

void
roar_transport_close(void)
{
	if (!lock_send())
		return;
	if (conn_fd >= 0) {
		flush_queue_unlocked();
		report_drops_unlocked();
	}
	drop_connection_unlocked();
	unlock_send();
}
