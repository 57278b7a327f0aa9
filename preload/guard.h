/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reentrancy guard: a per-thread depth counter in initial-exec TLS.
 * A hook that finds the guard already held (our own transport writing, a
 * signal handler interrupting a hook) calls the real function and does no
 * bookkeeping of its own: a handler's access is parked (park.h) and
 * recorded when the bookkeeping it interrupted leaves the guard, and our
 * own calls pass through.  A wait inside the transport suspends the
 * guard, so that a handler running meanwhile books in full.  Initial-exec
 * TLS never calls malloc or takes loader locks on first access, unlike
 * the dynamic model.
 */
#ifndef ROAR_GUARD_H
#define ROAR_GUARD_H

#include <stdatomic.h>
#include <stdbool.h>

#include "roar/compiler.h"
#include "park.h"

extern __thread unsigned roar_guard_depth
	__attribute__((tls_model("initial-exec")));

/* Set once the library is set up; hooks do no bookkeeping before. */
extern bool roar_ready;

/*
 * Set on the thread that called vfork until vfork returns in the parent
 * (vfork.c): seen by the vfork child too, which shares that thread's
 * memory and TLS and so must change no state of the library's.
 */
extern __thread int roar_in_vfork __attribute__((tls_model("initial-exec")));

/*
 * The fork canary (lifecycle.c): a word on a page the kernel zeroes in
 * the child of every fork or clone that copies memory (MADV_WIPEONFORK).
 * Zero means this is a new process that no atfork handler announced (a
 * raw clone, clone3, _Fork): one load per hook notices it.
 */
#define ROAR_CANARY_PAGE_SIZE 4096
extern _Atomic(unsigned)
	roar_canary_page[ROAR_CANARY_PAGE_SIZE / sizeof(unsigned)];

/* The canary word: the first of its page (a direct load, no pointer). */
#define ROAR_CANARY (&roar_canary_page[0])

/** The canary was found zero: become a new process (lifecycle.c). */
void roar_lifecycle_noticed(void);

/**
 * Set the library up now, for a hook that runs before our constructor
 * (called from another library's constructor).  Returns roar_ready.
 * The preload's entry.c defines it; elsewhere a weak stub says false.
 */
bool roar_entry_early(void);

/*
 * Added to roar_guard_depth while the guard is held for a hook's own
 * bookkeeping (ROAR_AFTER), as opposed to the library's other work under
 * the guard (fork handlers, exec, popen, the destructor).  A hook that
 * finds it set runs in a signal handler that interrupted that bookkeeping
 * on this thread: it parks what it did (park.h) instead of losing it.
 */
#define ROAR_GUARD_BOOK 0x10000u

/* Enter roar with depth held; false when we are already inside. */
static inline bool
roar_guard_enter_as(unsigned held)
{
	if (ROAR_UNLIKELY(!roar_ready) && !roar_entry_early())
		return false;
	/* In a vfork child: the state is the suspended parent's. */
	if (ROAR_UNLIKELY(roar_in_vfork))
		return false;
	if (ROAR_UNLIKELY(
		    !atomic_load_explicit(ROAR_CANARY, memory_order_relaxed)))
		roar_lifecycle_noticed();
	if (ROAR_UNLIKELY(roar_guard_depth != 0))
		return false;
	/* A handler that fires before this store enters on its own and is
	 * done before we go on: nothing to share. */
	roar_guard_depth = held;
	/* A signal handler entering here sees depth held and passes. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return true;
}

/** Enter roar; false when we are already inside (then do nothing). */
static inline bool
roar_guard_enter(void)
{
	return roar_guard_enter_as(1);
}

static inline void
roar_guard_leave(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	roar_guard_depth--;
}

/*
 * While this thread waits for the collector (no lock held, no state half
 * written: see the transport's drain), its signal handlers may do their
 * own bookkeeping in full instead of parking it: a wait of up to a
 * quarter second would otherwise fill the pending ring of a program
 * whose handler runs every 100 us.  Returns what roar_guard_resume puts
 * back.
 */
static inline unsigned
roar_guard_suspend(void)
{
	unsigned depth = roar_guard_depth;

	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	roar_guard_depth = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return depth;
}

static inline void
roar_guard_resume(unsigned depth)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	roar_guard_depth = depth;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/** Enter roar for a hook's bookkeeping (see ROAR_GUARD_BOOK). */
static inline bool
roar_guard_enter_book(void)
{
	return roar_guard_enter_as(1 | ROAR_GUARD_BOOK);
}

/** Whether a hook that found the guard held may park (park.h). */
static inline bool
roar_guard_parkable(void)
{
	/* A vfork child's TLS is its parent thread's: never its ring. */
	return ROAR_UNLIKELY(roar_guard_depth & ROAR_GUARD_BOOK) &&
	       !roar_in_vfork;
}

/**
 * Leave a hook's bookkeeping: first record what signal handlers parked
 * meanwhile (one TLS load when nothing was).  A handler that parks after
 * the last look is recorded at this thread's next hook.
 */
static inline void
roar_guard_leave_book(void)
{
	while (roar_park_pending() && roar_park_drain())
		;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	roar_guard_depth -= 1 | ROAR_GUARD_BOOK;
}

#endif /* ROAR_GUARD_H */
