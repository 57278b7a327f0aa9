/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pending slot of a thread: a small lock-free ring of the file
 * accesses a signal handler made while its thread was inside our
 * bookkeeping (the guard held, ROAR_GUARD_BOOK set), which the guard
 * kept from being recorded at once.  The handler parks each access here,
 * named at once (fstat, then readlink of /proc/self/fd/N: the fd may be
 * closed again before anyone reads the slot), and the thread records it
 * when it leaves its bookkeeping (roar_guard_leave_book).  What does not
 * fit is counted as dropped.
 *
 * One producer side (this thread's signal handlers, which may nest) and
 * one consumer (this thread, outside any handler of its own bookkeeping):
 * a handler interrupts the consumer, never the other way round, so a
 * ticket taken with a compare-and-swap and a per-slot sequence word are
 * all the synchronisation needed.  Everything here is async-signal-safe.
 */
#ifndef ROAR_PARK_H
#define ROAR_PARK_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "roar/compiler.h"

/*
 * Per thread, mapped only by a thread that ever parks (and then only the
 * pages used are memory).  A handler that fires during bookkeeping (a few
 * microseconds) rarely gets to make more than one or two accesses; but a
 * storm of handlers (a timer every few hundred microseconds whose handler
 * does file I/O, on a loaded machine) can leave the thread no time of its
 * own for tens of milliseconds, all of it inside the bookkeeping it was
 * interrupted in.  So the ring is deep, and the names live apart, packed
 * in an arena, not in fixed PATH_MAX slots.  What does not fit is
 * counted.
 */
#define ROAR_PARK_SLOTS 4096u
#define ROAR_PARK_ARENA (1u << 20)

enum roar_park_kind {
	ROAR_PARK_OPEN = 1, /* opened fd: credit it, then forget the slot */
	ROAR_PARK_CREDIT,   /* bytes moved through fd: credit its name */
	ROAR_PARK_FORGET,   /* fd closed or replaced: forget the fd slot */
};

struct roar_park_slot {
	_Atomic unsigned seq; /* ticket + 1 once filled, 0 when free */
	unsigned char kind;   /* enum roar_park_kind */
	unsigned char credit; /* ROAR_CREDIT_* bits earned so far */
	bool closed;          /* OPEN: closed again by a handler */
	int fd;
	uint32_t len; /* of the name; 0: nothing to credit */
	uint32_t off; /* where the name starts in the arena */
};

struct roar_park {
	_Atomic unsigned head;                /* tickets taken (producers) */
	unsigned tail;                        /* tickets recorded (consumer) */
	_Atomic uint32_t used;                /* arena bytes taken (producers;
					   the consumer resets it when the
					   ring is empty) */
	struct roar_park_slot *_Atomic slots; /* mapped at the first park:
						 the ring, then the arena */
};

extern __thread struct roar_park roar_park_tls
	__attribute__((tls_model("initial-exec")));

/** Whether this thread has parked accesses to record: the hot path. */
static inline bool
roar_park_pending(void)
{
	return ROAR_UNLIKELY(atomic_load_explicit(&roar_park_tls.head,
						  memory_order_relaxed) !=
			     roar_park_tls.tail);
}

/** In a handler: fd was opened with flags (created: see open probes). */
void roar_park_open(int fd, int flags, bool created);

/** In a handler: bytes moved through fd (credit: ROAR_CREDIT_*). */
void roar_park_credit(int fd, unsigned credit);

/** In a handler: fd was closed, or now names something else. */
void roar_park_forget(int fd);

/** In a handler: a call we cannot park (rename, mmap, ...) was lost. */
void roar_park_lost(void);

/**
 * Record what this thread parked, oldest first.  Must be called with
 * the guard held by this thread's bookkeeping.  @return true when it
 * made progress.
 */
bool roar_park_drain(void);

/** In a new process: the parked accesses were the parent's. */
void roar_park_atfork_child(void);

#endif /* ROAR_PARK_H */
