/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fd table and the interned path records of one process image.  Reads
 * are lock-free; the intern table takes one spin lock (the only lock in
 * this file), always with the guard held, never across a real call that
 * could block, so a signal handler on the same thread can never wait for
 * it.  Memory comes from mmap, never malloc, so every function here is
 * async-signal-safe.  Records are never freed.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdtable.h"
#include "real.h"

_Atomic(uintptr_t *) roar_fd_chunks[ROAR_FD_CHUNKS];
uint32_t roar_fd_generation = 1;

#define INTERN_BUCKETS 4096u
#define ARENA_CHUNK (256u * 1024u)

static struct roar_path *intern_buckets[INTERN_BUCKETS];
static atomic_flag intern_lock = ATOMIC_FLAG_INIT;
static char *arena_next;
static size_t arena_left;

static void
lock(void)
{
	while (atomic_flag_test_and_set_explicit(&intern_lock,
						 memory_order_acquire))
		sched_yield();
}

static void
unlock(void)
{
	atomic_flag_clear_explicit(&intern_lock, memory_order_release);
}

static void *
map_zeroed(size_t size)
{
	void *p = roar_real_get()->mmap(NULL, size, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

bool
roar_path_claim(struct roar_path *p, unsigned credit)
{
	uint64_t gen = (uint64_t)roar_fd_generation << 32;
	uint64_t old = atomic_load_explicit(&p->state, memory_order_relaxed);
	uint64_t want;

	do {
		uint64_t bits = (old >> 32) == (gen >> 32) ? old & 0xffffffffu
							    : 0;
		if (bits & credit)
			return false;
		want = gen | bits | credit;
	} while (!atomic_compare_exchange_weak_explicit(
		&p->state, &old, want, memory_order_relaxed,
		memory_order_relaxed));
	return true;
}

void
roar_path_unclaim(struct roar_path *p, unsigned credit)
{
	atomic_fetch_and_explicit(&p->state, ~(uint64_t)credit,
				  memory_order_relaxed);
}

int
roar_fdtable_set(int fd, uintptr_t v)
{
	_Atomic(uintptr_t *) *slot_chunk;
	uintptr_t *chunk;

	if ((unsigned)fd >= ROAR_FD_MAX)
		return -EBADF;
	slot_chunk = &roar_fd_chunks[fd >> ROAR_FD_CHUNK_BITS];
	chunk = atomic_load_explicit(slot_chunk, memory_order_acquire);
	if (!chunk) {
		uintptr_t *fresh, *expected = NULL;

		if (v == ROAR_FD_UNKNOWN)
			return 0; /* an absent chunk already reads unknown */
		fresh = map_zeroed(ROAR_FD_CHUNK_SIZE * sizeof(uintptr_t));
		if (!fresh)
			return -ENOMEM;
		if (atomic_compare_exchange_strong_explicit(
			    slot_chunk, &expected, fresh, memory_order_acq_rel,
			    memory_order_acquire)) {
			chunk = fresh;
		} else {
			munmap(fresh, ROAR_FD_CHUNK_SIZE * sizeof(uintptr_t));
			chunk = expected;
		}
	}
	atomic_store_explicit(
		(_Atomic uintptr_t *)&chunk[fd & (ROAR_FD_CHUNK_SIZE - 1)], v,
		memory_order_release);
	return 0;
}

static uint32_t
hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* Must be called with intern_lock held. */
static void *
arena_alloc_unlocked(size_t size)
{
	void *p;

	size = (size + 7u) & ~(size_t)7u;
	if (size > arena_left) {
		size_t chunk = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		char *fresh = map_zeroed(chunk);

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

struct roar_path *
roar_path_intern(const char *path, size_t len)
{
	uint32_t h = hash_bytes(path, len);
	struct roar_path **bucket = &intern_buckets[h % INTERN_BUCKETS];
	struct roar_path *p;

	lock();
	for (p = *bucket; p; p = p->next)
		if (p->hash == h && p->len == len && !memcmp(p->path, path, len))
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
	unlock();
	return p;
}

static bool
pseudo_fs(const char *p, size_t len)
{
	return (len >= 6 && !memcmp(p, "/proc/", 6)) ||
	       (len >= 5 && !memcmp(p, "/sys/", 5)) ||
	       (len >= 5 && !memcmp(p, "/dev/", 5));
}

uintptr_t
roar_fdtable_resolve(int fd)
{
	uintptr_t v;

	if (fd < 0)
		return ROAR_FD_IGNORED;
	v = roar_fdtable_name(fd);
	if (v != ROAR_FD_UNKNOWN)
		roar_fdtable_set(fd, v);
	return v;
}

void
roar_fd_proc_path(int fd, char *buf)
{
	static const char prefix[] = "/proc/self/fd/";
	char digits[12];
	size_t n = 0, pos = sizeof(prefix) - 1;
	unsigned u = (unsigned)fd;

	memcpy(buf, prefix, pos);
	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (n)
		buf[pos++] = digits[--n];
	buf[pos] = '\0';
}

uintptr_t
roar_fdtable_name(int fd)
{
	struct stat st;

	if (fd < 0)
		return ROAR_FD_IGNORED;
	/* Not open (EBADF): leave the slot unknown for the next owner. */
	if (fstat(fd, &st) != 0)
		return ROAR_FD_UNKNOWN;
	return roar_fdtable_name_stat(fd, &st);
}

uintptr_t
roar_fdtable_name_stat(int fd, const struct stat *st)
{
	char link[ROAR_FD_PROC_PATH_SIZE];
	char buf[4096];
	struct roar_path *p;
	ssize_t len;

	/* Directories, pipes, sockets and devices are not files for the
	 * report; an unlinked file (O_TMPFILE, tmpfile()) has no name. */
	if (!S_ISREG(st->st_mode) || st->st_nlink == 0)
		return ROAR_FD_IGNORED;
	roar_fd_proc_path(fd, link);
	len = readlink(link, buf, sizeof(buf));
	if (len <= 0 || (size_t)len >= sizeof(buf) || buf[0] != '/')
		return ROAR_FD_IGNORED;
	/* Kernel-made files are no lineage (roar's listeners skip them too). */
	if (pseudo_fs(buf, (size_t)len))
		return ROAR_FD_IGNORED;
	p = roar_path_intern(buf, (size_t)len);
	if (!p)
		return ROAR_FD_IGNORED;
	p->dev = (uint64_t)st->st_dev;
	p->ino = (uint64_t)st->st_ino;
	return (uintptr_t)p;
}

struct roar_path *
roar_path_lookup(const char *path, size_t len)
{
	uint32_t h = hash_bytes(path, len);
	struct roar_path *p;

	lock();
	for (p = intern_buckets[h % INTERN_BUCKETS]; p; p = p->next)
		if (p->hash == h && p->len == len && !memcmp(p->path, path, len))
			break;
	unlock();
	return p;
}

void
roar_fdtable_forget_range(unsigned first, unsigned last)
{
	if (last >= ROAR_FD_MAX)
		last = ROAR_FD_MAX - 1;
	for (unsigned fd = first; fd <= last;) {
		uintptr_t *chunk = atomic_load_explicit(
			&roar_fd_chunks[fd >> ROAR_FD_CHUNK_BITS],
			memory_order_acquire);
		unsigned end = (fd | (ROAR_FD_CHUNK_SIZE - 1));

		if (end > last)
			end = last;
		for (; chunk && fd <= end; fd++)
			atomic_store_explicit(
				(_Atomic uintptr_t *)&chunk[fd & (ROAR_FD_CHUNK_SIZE - 1)],
				ROAR_FD_UNKNOWN, memory_order_release);
		fd = end + 1;
		if (fd == 0)
			break;
	}
}

void
roar_fdtable_atfork_child(void)
{
	atomic_flag_clear(&intern_lock);
	roar_fd_generation++;
	if (roar_fd_generation == 0)
		roar_fd_generation = 1;
}

void
roar_fdtable_reset(void)
{
	for (unsigned i = 0; i < ROAR_FD_CHUNKS; i++) {
		uintptr_t *c = atomic_exchange(&roar_fd_chunks[i], NULL);

		if (c)
			munmap(c, ROAR_FD_CHUNK_SIZE * sizeof(uintptr_t));
	}
	memset(intern_buckets, 0, sizeof(intern_buckets));
	roar_fd_generation++;
}
