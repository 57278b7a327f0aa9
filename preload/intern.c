/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Owns the path records (intern.h): a fixed hash table of chains over an
 * mmap arena.  Lookups and inserts take intern_lock, the first lock of
 * the order in lock.h; nothing else is done while it is held.
 */
#include "config.h"

#include <string.h>
#include <sys/mman.h>

#include "roar/hash.h"
#include "intern.h"
#include "lock.h"
#include "real.h"

uint32_t roar_path_generation ROAR_HOT = 1;

#define INTERN_BUCKETS 4096u
#define ARENA_CHUNK (256u * 1024u)

static struct roar_path *intern_buckets[INTERN_BUCKETS];
static struct roar_lock intern_lock ROAR_HOT = ROAR_LOCK_INIT;
static char *arena_next ROAR_HOT;  /* guarded by intern_lock */
static size_t arena_left ROAR_HOT; /* guarded by intern_lock */

bool
roar_path_claim(struct roar_path *p, unsigned credit)
{
	uint64_t gen = (uint64_t)roar_path_generation << 32;
	uint64_t old = atomic_load_explicit(&p->state, memory_order_relaxed);
	uint64_t want;

	do {
		uint64_t bits = (old >> 32) == (gen >> 32) ? old & 0xffffffffu
							   : 0;
		if (bits & credit)
			return false;
		want = gen | bits | credit;
	} while (!atomic_compare_exchange_weak_explicit(&p->state, &old, want,
							memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

void
roar_path_unclaim(struct roar_path *p, unsigned credit)
{
	atomic_fetch_and_explicit(&p->state, ~(uint64_t)credit,
				  memory_order_relaxed);
}

/* include/roar/hash.h's (a byte-at-a-time FNV-1a was a tenth of a
 * repeated open's price). */
uint32_t
roar_path_hash(const char *s, size_t len)
{
	return (uint32_t)roar_hash64(s, len);
}

/* Must be called with intern_lock held.  mmap does not block. */
static void *
arena_alloc_unlocked(size_t size)
{
	void *p;

	size = (size + 7u) & ~(size_t)7u;
	if (size > arena_left) {
		size_t chunk = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		char *fresh = roar_map_anon(chunk);

		if (!fresh)
			return NULL;
		arena_next = fresh;
		arena_left = chunk;
	}
	p = arena_next;
	arena_next += size;
	arena_left -= size;
	return p;
}

/* Must be called with intern_lock held. */
static struct roar_path *
find_unlocked(struct roar_path *chain, uint32_t h, const char *path, size_t len)
{
	for (struct roar_path *p = chain; p; p = p->next)
		if (p->hash == h && p->len == len &&
		    !memcmp(p->path, path, len))
			return p;
	return NULL;
}

struct roar_path *
roar_path_intern(const char *path, size_t len)
{
	uint32_t h = roar_path_hash(path, len);
	struct roar_path **bucket = &intern_buckets[h % INTERN_BUCKETS];
	struct roar_path *p;

	roar_lock_take(&intern_lock);
	p = find_unlocked(*bucket, h, path, len);
	if (p)
		goto out;
	p = arena_alloc_unlocked(sizeof(*p) + len + 1);
	if (!p)
		goto out;
	p->hash = h;
	p->len = (uint32_t)len;
	memcpy(p->path, path, len);
	p->path[len] = '\0';
	p->next = *bucket;
	*bucket = p;
out:
	roar_lock_release(&intern_lock);
	return p;
}

struct roar_path *
roar_path_lookup(const char *path, size_t len)
{
	return roar_path_lookup_hashed(path, len, roar_path_hash(path, len));
}

struct roar_path *
roar_path_lookup_hashed(const char *path, size_t len, uint32_t h)
{
	struct roar_path *p;

	roar_lock_take(&intern_lock);
	p = find_unlocked(intern_buckets[h % INTERN_BUCKETS], h, path, len);
	roar_lock_release(&intern_lock);
	return p;
}

void
roar_intern_prepare(void)
{
	roar_lock_take(&intern_lock);
}

void
roar_intern_parent(void)
{
	roar_lock_release(&intern_lock);
}

void
roar_intern_atfork_child(void)
{
	roar_lock_reset(&intern_lock);
	roar_path_generation++;
	if (roar_path_generation == 0)
		roar_path_generation = 1;
}

void
roar_intern_reset(void)
{
	memset(intern_buckets, 0, sizeof(intern_buckets));
	roar_path_generation++;
}
