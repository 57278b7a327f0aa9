/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reentrancy guard: a per-thread depth counter in initial-exec TLS.
 * A hook that finds the guard already held (our own transport writing, a
 * signal handler interrupting a hook) calls the real function and does no
 * bookkeeping.  Initial-exec TLS never calls malloc or takes loader locks
 * on first access, unlike the dynamic model.
 */
#ifndef ROAR_GUARD_H
#define ROAR_GUARD_H

#include <stdatomic.h>
#include <stdbool.h>

#include "roar/compiler.h"

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
extern _Atomic(unsigned) roar_canary_page[ROAR_CANARY_PAGE_SIZE /
					  sizeof(unsigned)];

/* The canary word: the first of its page (a direct load, no pointer). */
#define roar_canary (&roar_canary_page[0])

/** The canary was found zero: become a new process (lifecycle.c). */
void roar_lifecycle_noticed(void);

/**
 * Set the library up now, for a hook that runs before our constructor
 * (called from another library's constructor).  Returns roar_ready.
 * The preload's entry.c defines it; elsewhere a weak stub says false.
 */
bool roar_entry_early(void);

/** Enter roar; false when we are already inside (then do nothing). */
static inline bool
roar_guard_enter(void)
{
	if (ROAR_UNLIKELY(!roar_ready) && !roar_entry_early())
		return false;
	/* In a vfork child: the state is the suspended parent's. */
	if (ROAR_UNLIKELY(roar_in_vfork))
		return false;
	if (ROAR_UNLIKELY(!atomic_load_explicit(roar_canary,
						 memory_order_relaxed)))
		roar_lifecycle_noticed();
	if (ROAR_UNLIKELY(roar_guard_depth++ != 0)) {
		roar_guard_depth--;
		return false;
	}
	/* A signal handler entering here sees depth 1 and passes through. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return true;
}

static inline void
roar_guard_leave(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	roar_guard_depth--;
}

#endif /* ROAR_GUARD_H */
