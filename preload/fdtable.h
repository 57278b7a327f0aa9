/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-process file-descriptor bookkeeping: which canonical path each fd
 * names (a record of intern.h, which also keeps the credits already sent).
 * The only owner of fd state.
 *
 * A slot holds ROAR_FD_UNKNOWN (learn lazily: inherited across exec, or
 * made by a call we do not hook), ROAR_FD_IGNORED (not a regular file:
 * socket, directory, device, anonymous temp file), or a pointer to an
 * interned struct roar_path (a pipe's is a pipe record: see
 * ROAR_PIPE_PREFIX).  Lookups take no lock, make no syscall and
 * allocate nothing; updates happen only on open, dup and close.
 */
#ifndef ROAR_FDTABLE_H
#define ROAR_FDTABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "roar/compiler.h"
#include "intern.h"

#define ROAR_FD_UNKNOWN ((uintptr_t)0)
#define ROAR_FD_IGNORED ((uintptr_t)1)

/* fds below this are cached; higher ones are resolved on every use. */
#define ROAR_FD_CHUNK_BITS 10
#define ROAR_FD_CHUNK_SIZE (1u << ROAR_FD_CHUNK_BITS)
#define ROAR_FD_CHUNKS 1024u
#define ROAR_FD_MAX (ROAR_FD_CHUNK_SIZE * ROAR_FD_CHUNKS)

extern _Atomic(uintptr_t *) roar_fd_chunks[ROAR_FD_CHUNKS];

/** The slot of fd, without a lock or a syscall. */
static inline uintptr_t
roar_fdtable_lookup(int fd)
{
	uintptr_t *chunk;

	if (ROAR_UNLIKELY((unsigned)fd >= ROAR_FD_MAX))
		return ROAR_FD_UNKNOWN;
	chunk = atomic_load_explicit(&roar_fd_chunks[fd >> ROAR_FD_CHUNK_BITS],
				     memory_order_acquire);
	if (ROAR_UNLIKELY(!chunk))
		return ROAR_FD_UNKNOWN;
	return atomic_load_explicit(
		(_Atomic uintptr_t *)&chunk[fd & (ROAR_FD_CHUNK_SIZE - 1)],
		memory_order_acquire);
}

/**
 * Store v in fd's slot.  Allocates the slot's chunk on first use with
 * mmap (async-signal-safe).  @return 0 or -errno.
 */
int roar_fdtable_set(int fd, uintptr_t v);

/**
 * Learn what fd names: fstat, then readlink of /proc/self/fd/N for a
 * regular file.  Returns a pipe record for a pipe or FIFO,
 * ROAR_FD_IGNORED for anything else that is not a regular file with a
 * name, ROAR_FD_UNKNOWN when fd is not open, else an
 * interned struct roar_path.  The result is cached in the slot unless fd
 * is not open.  Callers treat any value <= ROAR_FD_IGNORED as nothing to
 * credit.
 */
uintptr_t roar_fdtable_resolve(int fd);

/*
 * A pipe or FIFO is not a file but is lineage between processes: its slot
 * holds a path record whose name begins with ROAR_PIPE_PREFIX (never a
 * canonical path), so that the read and write fast path treats it as it
 * treats a file (one load says whether this process announced that
 * direction yet) and only the cold path that sends tells them apart.
 */
#define ROAR_PIPE_PREFIX "pipe:["

/** Whether p is a pipe record (roar_fdtable_pipe), not a file's. */
static inline bool
roar_path_is_pipe(const struct roar_path *p)
{
	return p->path[0] != '/';
}

/** The pipe record of the pipe or FIFO whose fstat is st. */
uintptr_t roar_fdtable_pipe(const struct stat *st);

/**
 * What fd names, like roar_fdtable_resolve, without caching it in the
 * slot: for a short-lived fd of our own (O_PATH probes of a name).
 */
uintptr_t roar_fdtable_name(int fd);

/**
 * What fd names, given its fstat: like roar_fdtable_name without the
 * fstat.  Records st's device and inode in the path record.
 */
uintptr_t roar_fdtable_name_stat(int fd, const struct stat *st);

/**
 * roar_fdtable_name_stat for an fd just opened by path relative to dirfd:
 * a name too long for the kernel to say is built from those
 * (longpath.h); path NULL: such a name is counted as a dropped event.
 */
uintptr_t roar_fdtable_name_at(int fd, const struct stat *st, int dirfd,
			       const char *path);

/**
 * The canonical name of the regular file fd (whose fstat is st) into buf
 * (cap bytes), without interning it.  @return its length, or -1 when fd
 * is nothing to credit (not a named regular file, or kernel-made), or
 * -ENAMETOOLONG when its name does not fit in cap (or in PATH_MAX, past
 * which the kernel does not say it).
 */
ssize_t roar_fdtable_read_name(int fd, const struct stat *st, char *buf,
			       size_t cap);

/** Room for "/proc/self/fd/" and any fd number. */
#define ROAR_FD_PROC_PATH_SIZE 32

/** Write "/proc/self/fd/<fd>" into buf (ROAR_FD_PROC_PATH_SIZE bytes);
 *  async-signal-safe (no snprintf). */
void roar_fd_proc_path(int fd, char *buf);

/** Forget every cached fd in [first, last] (close_range, closefrom). */
void roar_fdtable_forget_range(unsigned first, unsigned last);

/** The slot of fd, resolving it first when it is unknown. */
static inline uintptr_t
roar_fdtable_get(int fd)
{
	uintptr_t v = roar_fdtable_lookup(fd);

	return ROAR_LIKELY(v != ROAR_FD_UNKNOWN) ? v : roar_fdtable_resolve(fd);
}

/** Forget every fd and path (unit tests only). */
void roar_fdtable_reset(void);

/** Whether a canonical name is one of the kernel's own (/proc, /sys,
 *  /dev): never a file of the program's lineage. */
static inline bool
roar_fdtable_pseudo_fs(const char *p, size_t len)
{
	return (len >= 6 && !memcmp(p, "/proc/", 6)) ||
	       (len >= 5 && !memcmp(p, "/sys/", 5)) ||
	       (len >= 5 && !memcmp(p, "/dev/", 5));
}

#endif /* ROAR_FDTABLE_H */
