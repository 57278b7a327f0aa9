/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run a function once per process image, like pthread_once but without
 * its futex wake (a system call in every new process).  Callers that
 * arrive while it runs yield until it is done.  For set-up only: the
 * function must not wait for another thread.
 */
#ifndef ROAR_ONCE_H
#define ROAR_ONCE_H

#include <sched.h>
#include <stdatomic.h>

struct roar_once {
	_Atomic int state; /* 0: not yet, 1: running, 2: done */
};

#define ROAR_ONCE_INIT \
	{              \
		0      \
	}

static inline void
roar_once(struct roar_once *o, void (*fn)(void))
{
	int expect = 0;

	if (atomic_load_explicit(&o->state, memory_order_acquire) == 2)
		return;
	if (atomic_compare_exchange_strong_explicit(&o->state, &expect, 1,
						    memory_order_acq_rel,
						    memory_order_acquire)) {
		fn();
		atomic_store_explicit(&o->state, 2, memory_order_release);
		return;
	}
	while (atomic_load_explicit(&o->state, memory_order_acquire) != 2)
		sched_yield();
}

#endif /* ROAR_ONCE_H */
