/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one lock of preload/: a spin flag with one policy, for the few
 * words that threads of one process share.
 *
 * Policy.  A lock is taken only with the guard held (guard.h), so a
 * signal handler on the thread that holds it never waits for it: the
 * handler's hooks pass through.  It is never held across a real call nor
 * across a system call that can block, and never taken in code that may
 * run in a vfork child (the lock word would be the suspended parent's).
 * So a holder lets go within a few instructions, and a waiter spins
 * (yielding the core, then sleeping 50 us a turn so that a holder of
 * lower real-time priority can run) until it does; there is no give-up
 * and no timeout.  One exception, on purpose: an exec that hands the
 * connection over to its new image holds send_lock across execve, so
 * that no other thread begins a frame the exec would tear (transport.c);
 * if the exec returns, the lock is released at once.
 *
 * The only holder that never lets go is a thread that does not exist:
 * the other threads of a process that forked.  The atfork prepare
 * handler takes every lock before a fork and the child handler resets
 * every lock (lifecycle.c), and a process created without atfork
 * handlers (a raw clone, _Fork) resets them when it is first noticed.
 *
 * Lock order.  Where locks nest they are taken in this order: the atfork
 * prepare handler takes all of them (the parent handler releases them in
 * reverse), and popen sends its child's events (4) while it holds (1).
 * No other path holds two:
 *
 *   0. unwind_lock   backtrace_unwind.c
 *                                  libunwind, one thread at a time (its
 *                                  cache lock is never held at a fork),
 *                                  held across the unwinding (whose
 *                                  system calls, sigprocmask, never
 *                                  block) and across the one dlopen of
 *                                  libunwind: first, so that the fork
 *                                  that waits for a load holds no other
 *                                  lock the loader's lock holder may need
 *   1. popen_mutex   shell.c       the streams popen() made: a pthread
 *                                  mutex, held across popen's spawn as
 *                                  glibc holds its own popen lock (first,
 *                                  so that waiting for it holds no spin
 *                                  lock; a fork by its own holder's
 *                                  signal handler skips it)
 *   2. intern_lock   intern.c      the path records and their arena
 *   3. cwd_lock      track_file.c  the cached working directory
 *   4. send_lock     transport.c   the connection and its queue
 *
 * A new lock takes a place in this list and in lifecycle.c.
 */
#ifndef ROAR_LOCK_H
#define ROAR_LOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>

#include "real.h"

struct roar_lock {
	atomic_flag held;
};

#define ROAR_LOCK_INIT           \
	{                        \
		ATOMIC_FLAG_INIT \
	}

static inline void
roar_lock_take(struct roar_lock *l)
{
	unsigned spins = 0;

	while (atomic_flag_test_and_set_explicit(&l->held,
						 memory_order_acquire)) {
		/* Yield; after a while sleep too, so that a holder of lower
		 * real-time priority on this core gets to run and let go. */
		if (++spins < 1000) {
			sched_yield();
		} else {
			/* The system call, not libc's nanosleep: that is a
			 * cancellation point, and a cancelled waiter would be
			 * unwound holding the locks taken before this one. */
			struct timespec ts = { 0, 50000 };

			ROAR_SYS(SYS_nanosleep, &ts, NULL);
		}
	}
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
