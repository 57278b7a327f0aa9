/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scratch memory for the exec and spawn paths, so that they keep the
 * caller's stack small (a posix_spawn from a thread with a 16 KiB stack
 * and a 20,000-variable environment must not overflow it).
 *
 * A process of its own maps what it needs and unmaps it after (an exec
 * that succeeds takes the mapping with the old image).  A vfork child
 * must not do that: a mapping it made would stay in its parent's memory
 * once it execs.  It borrows instead one of the per-thread slots of the
 * thread that called vfork: that thread is suspended until the child
 * execs or exits, so the child is the slot's only user meanwhile, and a
 * slot it grows stays the thread's, reused by its next vfork child.
 */
#ifndef ROAR_SCRATCH_H
#define ROAR_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>

enum roar_scratch_slot {
	ROAR_SCRATCH_ENV,   /* a mended environment */
	ROAR_SCRATCH_FRAME, /* an exec or spawn event */
	ROAR_SCRATCH_ARGV,  /* execl's argument vector */
	ROAR_SCRATCH_SLOTS_
};

/* Bytes a use takes from the caller's stack before it maps anything:
 * most environments and argument vectors fit, and then an exec costs no
 * mmap at all. */
#define ROAR_SCRATCH_SMALL 1000

struct roar_scratch {
	void *base;
	size_t size;
	bool borrowed; /* the base is a thread's slot, or small below */
	_Alignas(void *) unsigned char small[ROAR_SCRATCH_SMALL];
};

/**
 * At least size bytes for one use, or NULL when no memory can be mapped.
 * shared: the caller shares its memory with a suspended parent (a vfork
 * child); then the thread's slot is used.  Give it back with
 * roar_scratch_put.
 */
void *roar_scratch_get(struct roar_scratch *s, enum roar_scratch_slot slot,
		       size_t size, bool shared);

/** Done with s (unmaps what was mapped for this use only). */
void roar_scratch_put(struct roar_scratch *s);

#endif /* ROAR_SCRATCH_H */
