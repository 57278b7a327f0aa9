/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Waiting for a slow or stalled collector.  Waiting is bounded per image,
 * not per frame: STALL_BUDGET_MS in all while it runs (then frames are
 * queued and, once the queue is full, dropped), and as much again at its
 * end, where the frames that say how it ended wait in the queue.  A
 * collector that does not beat in the ledger (ledger.h) for
 * STALL_DETECT_MS while a sender waits is declared stalled there, and
 * then no sender of the run waits for it at all until it beats again: a
 * stopped collector costs the first sender that notices STALL_DETECT_MS,
 * and everyone else nothing.  Owns the budget and every wait (a bounded
 * poll, always with send_lock released); the connection and its queue
 * are transport.c's.  Also the one-shot sends of code that may run in a
 * vfork child, which wait on a connection of their own.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>

#include "roar/clock.h"
#include "guard.h"
#include "ledger.h"
#include "lock.h"
#include "transport.h"
#include "transport_int.h"

/* How long an image may wait for a slow collector in all, in ms. */
#define STALL_BUDGET_MS 250
/* A collector whose heartbeat does not move for this long while our
 * socket is full is stalled (stopped, or starved of the CPU). */
#define STALL_DETECT_MS 100
/* Poll slices while waiting, so that the heartbeat is looked at. */
#define WAIT_SLICE_MS 10

/* What is left of STALL_BUDGET_MS; atomic because a vfork child (which
 * shares our memory) waits out of it too, while our other threads run. */
static _Atomic int wait_left_ms ROAR_HOT = STALL_BUDGET_MS;
/* Guarded by send_lock: the end's budget was given (once per image). */
static bool end_budget_given ROAR_HOT;

bool
roar_transport_wait_spend_ms(int ms)
{
	return atomic_fetch_sub(&wait_left_ms, ms) > 0;
}

void
roar_transport_wait_atfork_child(void)
{
	atomic_store(&wait_left_ms, STALL_BUDGET_MS);
	end_budget_given = false;
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
write_all_patient(int fd, const unsigned char *buf, size_t len, size_t *sent)
{
	struct waiter w;
	size_t off = 0;
	int rc = 0;

	waiter_init(&w);
	while (off < len) {
		ssize_t n = roar_transport_send_now(fd, buf + off, len - off);

		if (n < 0) {
			rc = (int)n;
			break;
		}
		off += (size_t)n;
		if (off < len && !wait_writable(fd, &w)) {
			rc = -ETIMEDOUT;
			break;
		}
	}
	*sent = off;
	return rc;
}

/*
 * Let a slow collector catch up with the queue, out of the image's wait
 * budget, waiting with the lock released.  When waiting is not worth it
 * (budget spent, collector stalled) the image is marked roar_link.degraded and
 * later frames do not wait (they are queued, and dropped when the queue
 * is full) until the queue empties.  While it waits, this thread's signal
 * handlers do their bookkeeping in full (roar_guard_suspend).
 */
void
roar_transport_drain_patiently(void)
{
	struct waiter w;
	bool started = false, waited;
	unsigned depth;

	for (;;) {
		int fd;

		roar_lock_take(&roar_link.send_lock);
		roar_transport_flush_unlocked();
		fd = roar_link.fd;
		if (!roar_link.queue_len || fd < 0 || roar_link.degraded) {
			if (!roar_link.queue_len)
				roar_link.degraded = false;
			roar_lock_release(&roar_link.send_lock);
			return;
		}
		roar_lock_release(&roar_link.send_lock);
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
	roar_lock_take(&roar_link.send_lock);
	roar_link.degraded = roar_link.queue_len != 0;
	roar_lock_release(&roar_link.send_lock);
}

int
roar_transport_send_oneshot(const void *frame, size_t len)
{
	size_t sent;
	int fd, rc;

	if (!roar_link.enabled)
		return -ENOTCONN;
	/* Not counted as made: it goes on a connection of its own, which
	 * names no slot.  What fails is lost, in the caller's slot (in a
	 * vfork child: its parent's, whose memory it shares). */
	fd = roar_transport_open(true);
	if (fd < 0) {
		roar_transport_count_drop();
		return fd;
	}
	rc = write_all_patient(fd, frame, len, &sent);
	close_fd(fd);
	/* A frame that went out in part reaches the collector as a torn
	 * frame, which it counts: counted here too, it would be twice. */
	if (rc != 0 && sent == 0)
		roar_transport_count_drop();
	return rc;
}

/*
 * The end of an image (exit, or an exec): send the drop count and what
 * waits, with what is left of the wait budget (roar_link.degraded or not: the
 * queue may have room to drain now).  Returns with send_lock held.
 */
void
roar_transport_drain_at_end(void)
{
	roar_lock_take(&roar_link.send_lock);
	if (roar_link.fd >= 0)
		roar_transport_report_drops_unlocked();
	roar_link.degraded = false;
	roar_lock_release(&roar_link.send_lock);
	/* The end's own budget (once: an exec that fails and a later exit
	 * share it). */
	if (!end_budget_given) {
		end_budget_given = true;
		atomic_store(&wait_left_ms, STALL_BUDGET_MS);
	}
	roar_transport_drain_patiently();
	roar_lock_take(&roar_link.send_lock);
}
