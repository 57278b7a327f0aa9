/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The interned path records of one process image: one record per
 * distinct canonical path, never freed, found by its bytes; and the
 * credits (read, written) this process already sent for each, so that a
 * path earns each credit once per process.  Memory comes from mmap, never
 * malloc, so every function here is async-signal-safe.
 */
#ifndef ROAR_INTERN_H
#define ROAR_INTERN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roar/compiler.h"

/* Credit bits of struct roar_path.state's low half: ROAR_CREDIT_*. */
#include "roar/credit.h"

/*
 * One distinct canonical path of this process image.  Records are never
 * freed: memory grows with distinct paths, not with events.  state packs
 * the process generation (high 32 bits) with the credit bits already sent
 * in that generation; a fork child bumps the generation, which forgets
 * every credit of its parent at once.
 */
struct roar_path {
	_Atomic uint64_t state;
	struct roar_path *next; /* hash chain; set before publication */
	uint64_t dev;           /* the file this name was last seen to be */
	uint64_t ino;
	uint32_t hash;
	uint32_t len;
	char path[]; /* NUL-terminated, len bytes before the NUL */
};

/* The process generation; bumped only in a new process, which has a
 * single thread then, so plain loads suffice elsewhere. */
extern uint32_t roar_path_generation;

/** True when this process has not yet sent credit for p. */
static inline bool
roar_path_wants(const struct roar_path *p, unsigned credit)
{
	uint64_t s = atomic_load_explicit((_Atomic uint64_t *)&p->state,
					  memory_order_relaxed);

	return (uint32_t)(s >> 32) != roar_path_generation || !(s & credit);
}

/** True when this process has sent every credit in bits for p. */
static inline bool
roar_path_has(const struct roar_path *p, unsigned bits)
{
	uint64_t s = atomic_load_explicit((_Atomic uint64_t *)&p->state,
					  memory_order_relaxed);

	return (uint32_t)(s >> 32) == roar_path_generation &&
	       (s & bits) == bits;
}

/**
 * Mark credit as sent for p.  Returns true for exactly one caller per
 * (path, credit) and process, which then sends the event.
 */
bool roar_path_claim(struct roar_path *p, unsigned credit);

/** Give back a claim whose event could not be sent, so a later call retries. */
void roar_path_unclaim(struct roar_path *p, unsigned credit);

/**
 * Intern a path of len bytes.  @return the record, or NULL when out of
 * memory.  Takes intern_lock; must be called with the guard held.
 */
struct roar_path *roar_path_intern(const char *path, size_t len);

/**
 * The record already interned for exactly these bytes, or NULL.  Takes
 * intern_lock; must be called with the guard held.
 */
struct roar_path *roar_path_lookup(const char *path, size_t len);

/** The table's hash of a path (len bytes). */
uint32_t roar_path_hash(const char *path, size_t len);

/** roar_path_lookup with the path's roar_path_hash already made. */
struct roar_path *roar_path_lookup_hashed(const char *path, size_t len,
					  uint32_t hash);

/** Before a fork: take intern_lock (lock order: lock.h). */
void roar_intern_prepare(void);

/** After a fork, in the parent: release intern_lock. */
void roar_intern_parent(void);

/** In a new process: reset the lock, forget the parent's credits. */
void roar_intern_atfork_child(void);

/** Forget every record (unit tests only). */
void roar_intern_reset(void);

#endif /* ROAR_INTERN_H */
