/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the three parts of the transport tell each other, and nobody else:
 * transport.c (the connection and its queue), transport_wait.c (waiting
 * for a slow or stalled collector, out of a budget per image) and
 * transport_handover.c (the connection across an exec).  The state of
 * the connection lives here, in one struct owned by transport.c; the
 * queue's bytes and the drop count stay private to transport.c.
 */
#ifndef ROAR_TRANSPORT_INT_H
#define ROAR_TRANSPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "lock.h"
#include "real.h"

/*
 * The link to the collector.  addr, addr_len and enabled are written once,
 * in the constructor (roar_transport_init).  The rest is guarded by
 * send_lock (lock.h, last in the order), which is held only around
 * non-blocking work; fd is also read without it (a poll that may wake
 * for nothing, and the fd-collision checks of hooks).
 */
struct roar_link {
	struct roar_lock send_lock;
	_Atomic int fd;   /* the connection, or -1 */
	size_t queue_len; /* bytes waiting in transport.c's queue */
	bool degraded;    /* the budget ran out: do not wait again */
	bool need_resume; /* not yet named this image's ledger slot */
	bool enabled;
	struct sockaddr_un addr;
	socklen_t addr_len;
};

extern struct roar_link roar_link;

static inline void
close_fd(int fd)
{
	roar_real_get()->close(fd);
}

/* transport.c */

/**
 * Open a connection; touches no shared state.  patient: when the
 * listener's backlog is full, try again for up to 100 ms (only where no
 * lock is held: a vfork child's one-shot sends).
 * @return the fd, or -errno
 */
int roar_transport_open(bool patient);

/** Send as much of buf as the socket takes now.
 *  @return the bytes sent, or -errno when the stream is broken */
ssize_t roar_transport_send_now(int fd, const unsigned char *buf, size_t len);

/** Must be called with send_lock held.  Forget the connection, and what
 *  the queue held (counted as lost).  close_it: false when the number
 *  may already be the program's. */
void roar_transport_drop_unlocked(bool close_it);

/** Must be called with send_lock held.  Push the queue's head into the
 *  socket.  @return false when the stream broke (and is dropped) */
bool roar_transport_flush_unlocked(void);

/** Must be called with send_lock held.  Queue the drop count's news. */
void roar_transport_report_drops_unlocked(void);

/* transport_wait.c */

/** Take ms out of the image's wait budget.  @return false when there was
 *  none left. */
bool roar_transport_wait_spend_ms(int ms);

/**
 * Let a slow collector catch up with the queue, out of the image's wait
 * budget, waiting with send_lock released (must be called without it).
 */
void roar_transport_drain_patiently(void);

/**
 * The end of an image (exit, or an exec): send the drop count and what
 * waits, with the end's own budget.  Returns with send_lock held.
 */
void roar_transport_drain_at_end(void);

/** In a new process: a full budget again. */
void roar_transport_wait_atfork_child(void);

#endif /* ROAR_TRANSPORT_INT_H */
