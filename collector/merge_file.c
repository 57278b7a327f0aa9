/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The merge's file table (struct roar_file_store in merge.h): every
 * distinct path once, its bytes in an arena of large chunks, its record
 * in a block of records that never moves, found through one open-
 * addressing table of 8-byte slots (a tag of the path's hash and the
 * record's index).  What each process did to each file: the first
 * process inline in the record, any other in roar_merge.access.  A run
 * of a million distinct paths so costs about a hundred bytes a path
 * besides the path.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "merge.h"
#include "merge_private.h"
#include "roar/utf8.h"
#include "roar/hash.h"

/* Chunks of path bytes, and blocks of records. */
#define ARENA_CHUNK (1u << 20)
#define BLOCK_RECORDS 4096u
#define HUGE_PAGE (2u << 20)

/* A path's hash for this table (include/roar/hash.h). */
static inline uint64_t
path_hash(const char *p, size_t len)
{
	return roar_hash64(p, len);
}

static void
keep_chunk(struct roar_file_store *s, void *chunk)
{
	if ((s->nchunks & (s->nchunks - 1)) == 0) /* 0, 1, 2, 4, ... */
		s->chunks = roar_xrealloc(s->chunks,
					  (s->nchunks ? s->nchunks * 2 : 1) *
						  sizeof(*s->chunks));
	s->chunks[s->nchunks++] = chunk;
}

/* len bytes and a NUL, in the arena. */
static char *
arena_dup(struct roar_file_store *s, const char *p, size_t len)
{
	char *d;

	if (len + 1 > s->arena_left) {
		size_t n = len + 1 > ARENA_CHUNK ? len + 1 : ARENA_CHUNK;

		d = roar_xmalloc(n);
		keep_chunk(s, d);
		if (n == ARENA_CHUNK) {
			s->arena = d;
			s->arena_left = n;
		}
	} else {
		d = s->arena;
	}
	if (d == s->arena) {
		s->arena += len + 1;
		s->arena_left -= len + 1;
	}
	memcpy(d, p, len);
	d[len] = '\0';
	return d;
}

static struct roar_file *
new_record(struct roar_file_store *s)
{
	if (!s->block_left) {
		s->block = roar_xcalloc(BLOCK_RECORDS, sizeof(*s->block));
		keep_chunk(s, s->block);
		s->block_left = BLOCK_RECORDS;
	}
	s->block_left--;
	return s->block++;
}

/*
 * Slots, zeroed.  A large table is looked up at random, once a frame: in
 * huge pages (where the kernel has them) it costs a cache miss a lookup,
 * not a TLB miss besides.
 */
static uint64_t *
alloc_slots(size_t cap)
{
	size_t bytes = cap * sizeof(uint64_t);
	void *v;

	if (bytes < HUGE_PAGE || posix_memalign(&v, HUGE_PAGE, bytes) != 0)
		return roar_xcalloc(cap, sizeof(uint64_t));
#ifdef MADV_HUGEPAGE
	madvise(v, bytes, MADV_HUGEPAGE);
#endif
	return memset(v, 0, bytes);
}

static void
grow_slots(struct roar_file_store *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	uint64_t *v = alloc_slots(cap);

	for (size_t i = 0; i < s->cap; i++) {
		size_t j;

		if (!s->slots[i])
			continue;
		for (j = (s->slots[i] >> 32) & (cap - 1); v[j];
		     j = (j + 1) & (cap - 1))
			;
		v[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = v;
	s->cap = cap;
}

void
roar_merge_prefetch_file(struct roar_merge *m, const char *path, size_t len)
{
	struct roar_file_store *s = &m->files;
	const unsigned n = sizeof(s->ahead) / sizeof(s->ahead[0]);
	uint64_t h = path_hash(path, len);

	if (s->cap)
		__builtin_prefetch(&s->slots[(h >> 32) & (s->cap - 1)]);
	/* Kept for its intern, so that the path is hashed once. */
	s->ahead[s->next_ahead % n].p = path;
	s->ahead[s->next_ahead % n].len = len;
	s->ahead[s->next_ahead % n].hash = h;
	s->next_ahead++;
}

void
roar_merge_prefetch_forget(struct roar_merge *m)
{
	memset(m->files.ahead, 0, sizeof(m->files.ahead));
}

/* The hash of the path at path (len bytes): the one its prefetch made,
 * when these very bytes were prefetched. */
static uint64_t
hash_of(const struct roar_file_store *s, const char *path, size_t len)
{
	for (unsigned i = 0; i < sizeof(s->ahead) / sizeof(s->ahead[0]); i++)
		if (s->ahead[i].p == path && s->ahead[i].len == len)
			return s->ahead[i].hash;
	return path_hash(path, len);
}

struct roar_file *
roar_merge_intern_file(struct roar_merge *m, const char *path, size_t len,
		       uint32_t *index)
{
	struct roar_file_store *s = &m->files;
	uint64_t tag = hash_of(s, path, len) >> 32;
	struct roar_file *f;
	size_t i;

	if ((m->nfiles + 1) * 4 > s->cap * 3)
		grow_slots(s);
	for (i = tag & (s->cap - 1); s->slots[i]; i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i] >> 32 != tag)
			continue;
		f = m->file_list[(uint32_t)s->slots[i] - 1];
		if (f->path.len == len && !memcmp(f->path.p, path, len)) {
			*index = f->index;
			return f;
		}
	}
	f = new_record(s);
	f->path.p = arena_dup(s, path, len);
	f->path.len = len;
	f->utf8 = roar_utf8_valid(path, len);
	if ((m->nfiles & (m->nfiles - 1)) == 0) { /* 0, 1, 2, 4, ...: double */
		size_t cap = m->nfiles ? m->nfiles * 2 : 1;

		m->file_list = roar_xrealloc(m->file_list,
					     cap * sizeof(*m->file_list));
	}
	*index = f->index = (uint32_t)m->nfiles;
	m->file_list[m->nfiles++] = f;
	s->slots[i] = tag << 32 | (uint64_t)(f->index + 1);
	return f;
}

void
roar_file_add_tid(struct roar_file *f, bool write, pid_t tid)
{
	union roar_tids *u = write ? &f->written_tids : &f->read_tids;
	uint32_t *n = write ? &f->n_written_tids : &f->n_read_tids;
	const pid_t *v = write ? roar_file_written_tids(f)
			       : roar_file_read_tids(f);

	for (uint32_t i = 0; i < *n; i++)
		if (v[i] == tid)
			return;
	if (*n == 0) {
		u->one = tid;
	} else if (*n == 1) {
		pid_t *many = roar_xmalloc(2 * sizeof(*many));

		many[0] = u->one;
		many[1] = tid;
		u->many = many;
	} else {
		if ((*n & (*n - 1)) == 0) /* 2, 4, 8, ...: double */
			u->many = roar_xrealloc(u->many,
						2 * *n * sizeof(*u->many));
		u->many[*n] = tid;
	}
	(*n)++;
}

void
roar_merge_add_access(struct roar_merge *m, struct roar_file *f,
		      struct roar_proc *p, unsigned bit)
{
	uint64_t key;
	uintptr_t bits;

	if (!f->first_pid) {
		f->first_pid = p->pid;
		f->first_bits = (uint8_t)bit;
		p->nfiles++;
		return;
	}
	if (f->first_pid == p->pid) {
		f->first_bits |= (uint8_t)bit;
		return;
	}
	key = (uint64_t)f->index << 32 | (uint32_t)p->pid;
	bits = (uintptr_t)roar_map_get(&m->access, key);
	if (!bits)
		p->nfiles++;
	roar_map_put(&m->access, key, (void *)(bits | bit));
}

unsigned
roar_merge_access(const struct roar_merge *m, const struct roar_file *f,
		  pid_t pid)
{
	if (f->first_pid == pid)
		return f->first_bits;
	return (unsigned)(uintptr_t)roar_map_get(
		&m->access, (uint64_t)f->index << 32 | (uint32_t)pid);
}

void
roar_merge_each_later_access(const struct roar_merge *m,
			     void (*fn)(const struct roar_file *f, pid_t pid,
					unsigned bits, void *arg),
			     void *arg)
{
	for (size_t i = 0; i < m->access.cap; i++)
		if (m->access.used[i])
			fn(m->file_list[m->access.keys[i] >> 32],
			   (pid_t)(uint32_t)m->access.keys[i],
			   (unsigned)(uintptr_t)m->access.vals[i], arg);
}

void
roar_file_store_free(struct roar_merge *m)
{
	struct roar_file_store *s = &m->files;

	for (size_t i = 0; i < m->nfiles; i++) {
		if (m->file_list[i]->n_read_tids > 1)
			free(m->file_list[i]->read_tids.many);
		if (m->file_list[i]->n_written_tids > 1)
			free(m->file_list[i]->written_tids.many);
	}
	for (size_t i = 0; i < s->nchunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}
