/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Owns the scratch mappings (scratch.h).  mmap and munmap only, through
 * the real table: async-signal-safe and usable in a vfork child.  Slots
 * are per thread (initial-exec TLS), so no lock is needed.
 */
#include "config.h"

#include <sys/mman.h>

#include "real.h"
#include "scratch.h"

struct slot {
	void *base;
	size_t cap;
};

static __thread struct slot slots[ROAR_SCRATCH_SLOTS_]
	__attribute__((tls_model("initial-exec")));

static size_t
round_up(size_t size)
{
	return (size + 65535u) & ~(size_t)65535u;
}

void *
roar_scratch_get(struct roar_scratch *s, enum roar_scratch_slot which,
		 size_t size, bool shared)
{
	struct slot *t = &slots[which];

	s->base = NULL;
	if (size <= sizeof(s->small)) {
		s->borrowed = true;
		s->size = size;
		s->base = s->small;
		return s->base;
	}
	s->size = round_up(size);
	s->borrowed = shared;
	if (!shared) {
		s->base = roar_map_anon(s->size);
		return s->base;
	}
	if (s->size > t->cap) {
		void *p = roar_map_anon(s->size);

		if (!p)
			return NULL;
		if (t->base)
			munmap(t->base, t->cap);
		t->base = p;
		t->cap = s->size;
	}
	s->base = t->base;
	return s->base;
}

void
roar_scratch_put(struct roar_scratch *s)
{
	if (s->base && !s->borrowed)
		munmap(s->base, s->size);
	s->base = NULL;
}
