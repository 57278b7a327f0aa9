/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one lock of preload/: a spin flag with one policy, for the few
 * words that threads of one process share.
 *
 * Policy.  A lock is taken only with the guard held (guard.h), so a
 * signal handler on the thread that holds it never waits for it: the
 * handler's hooks pass through.  It is never held across a real call nor
 * across a system call that can block, and never taken in code that may
 * run in a vfork child.  One exception, on purpose: an exec that hands
 * the connection over to its new image holds send_lock across execve, so
 * that no other thread begins a frame the exec would tear (transport.c);
 * if the exec returns, the lock is released at once.  So a holder always lets go within a few
 * instructions, and a waiter spins (yielding the core) until it does;
 * there is no give-up and no timeout.  The only holder that never lets
 * go is a thread that does not exist: the other threads of a process
 * that forked.  The atfork prepare handler takes every lock before a fork
 * and the child handler resets every lock (lifecycle.c), and a process
 * created without atfork handlers (a raw clone, _Fork) resets them when
 * it is first noticed.
 *
 * Lock order.  No code path holds two of these locks at once, except the
 * atfork prepare handler, which takes all of them in this order and the
 * parent handler, which releases them in reverse:
 *
 *   1. intern_lock   intern.c      the path records and their arena
 *   2. cwd_lock      track_file.c  the cached working directory
 *   3. popen_lock    shell.c       the streams popen() made
 *   4. send_lock     transport.c   the connection and its queue
 *
 * A new lock takes a place in this list and in lifecycle.c.
 */
#ifndef ROAR_LOCK_H
#define ROAR_LOCK_H

#include <sched.h>
#include <stdatomic.h>

struct roar_lock {
	atomic_flag held;
};

#define ROAR_LOCK_INIT { ATOMIC_FLAG_INIT }

static inline void
roar_lock_take(struct roar_lock *l)
{
	while (atomic_flag_test_and_set_explicit(&l->held,
						 memory_order_acquire))
		sched_yield();
}

static inline void
roar_lock_release(struct roar_lock *l)
{
	atomic_flag_clear_explicit(&l->held, memory_order_release);
}

/** In a fork child: the holder, if any, was another thread. */
static inline void
roar_lock_reset(struct roar_lock *l)
{
	atomic_flag_clear_explicit(&l->held, memory_order_relaxed);
}

#endif /* ROAR_LOCK_H */
