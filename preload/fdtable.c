/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fd table of one process image: which path record each fd names.
 * Reads and writes are lock-free (one atomic word per slot; chunks are
 * published with a compare-and-swap); names are learnt from the kernel
 * and interned in intern.c.  Memory comes from mmap, never malloc, so
 * every function here is async-signal-safe.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdtable.h"
#include "fmt.h"
#include "longpath.h"
#include "real.h"
#include "transport.h"

_Atomic(uintptr_t *) roar_fd_chunks[ROAR_FD_CHUNKS];

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
		fresh = roar_map_anon(ROAR_FD_CHUNK_SIZE * sizeof(uintptr_t));
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

	memcpy(buf, prefix, sizeof(prefix) - 1);
	*roar_fmt_uint(buf + sizeof(prefix) - 1, (unsigned)fd) = '\0';
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
	if (S_ISFIFO(st.st_mode))
		return roar_fdtable_pipe(&st);
	return roar_fdtable_name_stat(fd, &st);
}

uintptr_t
roar_fdtable_pipe(const struct stat *st)
{
	/* "pipe:[" dev ":" ino "]": never a canonical path (those begin
	 * with '/'), and dev keeps a FIFO apart from a pipefs inode of the
	 * same number.  The record's credit bits then say which directions
	 * this process has announced, as they do for a file. */
	char name[64];
	char *e;
	struct roar_path *p;

	memcpy(name, ROAR_PIPE_PREFIX, sizeof(ROAR_PIPE_PREFIX) - 1);
	e = roar_fmt_uint(name + sizeof(ROAR_PIPE_PREFIX) - 1,
			  (unsigned long)st->st_dev);
	*e++ = ':';
	e = roar_fmt_uint(e, (unsigned long)st->st_ino);
	*e++ = ']';
	p = roar_path_intern(name, (size_t)(e - name));
	if (!p)
		return ROAR_FD_IGNORED;
	p->dev = (uint64_t)st->st_dev;
	p->ino = (uint64_t)st->st_ino;
	return (uintptr_t)p;
}

ssize_t
roar_fdtable_read_name(int fd, const struct stat *st, char *buf, size_t cap)
{
	char link[ROAR_FD_PROC_PATH_SIZE];
	ssize_t len;

	/* Directories, pipes, sockets and devices are not files for the
	 * report; an unlinked file (O_TMPFILE, tmpfile()) has no name. */
	if (!S_ISREG(st->st_mode) || st->st_nlink == 0)
		return -1;
	roar_fd_proc_path(fd, link);
	len = readlink(link, buf, cap);
	if (len < 0 ? errno == ENAMETOOLONG : (size_t)len >= cap)
		return -ENAMETOOLONG;
	if (len <= 0 || buf[0] != '/')
		return -1;
	/* Kernel-made files are no lineage (roar's listeners skip them too). */
	if (roar_fdtable_pseudo_fs(buf, (size_t)len))
		return -1;
	return len;
}

static uintptr_t
intern_stat(const char *name, size_t len, const struct stat *st)
{
	struct roar_path *p = roar_path_intern(name, len);

	if (!p)
		return ROAR_FD_IGNORED;
	p->dev = (uint64_t)st->st_dev;
	p->ino = (uint64_t)st->st_ino;
	return (uintptr_t)p;
}

/*
 * A name past PATH_MAX, built from what the open was given (longpath.h)
 * in a mapping of its own: never on the caller's stack.  A name that
 * cannot be built is a lost event, and counted as one.
 */
static uintptr_t __attribute__((noinline))
long_name(const struct stat *st, int dirfd, const char *path)
{
	char *buf = path ? roar_map_anon(ROAR_LONGPATH_MAX) : NULL;
	uintptr_t v = ROAR_FD_IGNORED;
	ssize_t len;

	if (buf) {
		len = roar_longpath_name(dirfd, path, st, buf,
					 ROAR_LONGPATH_MAX);
		if (len > 0)
			v = intern_stat(buf, (size_t)len, st);
		munmap(buf, ROAR_LONGPATH_MAX);
	}
	if (v == ROAR_FD_IGNORED)
		roar_transport_count_drop();
	return v;
}

uintptr_t
roar_fdtable_name_at(int fd, const struct stat *st, int dirfd, const char *path)
{
	char buf[4096];
	ssize_t len = roar_fdtable_read_name(fd, st, buf, sizeof(buf));

	if (len == -ENAMETOOLONG)
		return long_name(st, dirfd, path);
	if (len < 0)
		return ROAR_FD_IGNORED;
	return intern_stat(buf, (size_t)len, st);
}

uintptr_t
roar_fdtable_name_stat(int fd, const struct stat *st)
{
	return roar_fdtable_name_at(fd, st, AT_FDCWD, NULL);
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
				(_Atomic uintptr_t
					 *)&chunk[fd &
						  (ROAR_FD_CHUNK_SIZE - 1)],
				ROAR_FD_UNKNOWN, memory_order_release);
		fd = end + 1;
		if (fd == 0)
			break;
	}
}

void
roar_fdtable_reset(void)
{
	for (unsigned i = 0; i < ROAR_FD_CHUNKS; i++) {
		uintptr_t *c = atomic_exchange(&roar_fd_chunks[i], NULL);

		if (c)
			munmap(c, ROAR_FD_CHUNK_SIZE * sizeof(uintptr_t));
	}
	roar_intern_reset();
}
