/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opens whose canonical name is the name they were given (open_canon.c):
 * an absolute name with no ".", ".." or empty component, opened with
 * openat2's RESOLVE_NO_SYMLINKS, is the name /proc/self/fd/N would say,
 * so a first open costs no readlink and a repeated one no fstat.
 */
#ifndef ROAR_OPEN_CANON_H
#define ROAR_OPEN_CANON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* roar_canon_open's answer when the caller must make its own call. */
#define ROAR_CANON_NONE (-2)

/** An absolute name of len bytes with no ".", ".." or empty component. */
bool roar_canonical_form(const char *p, size_t len);

/**
 * Open path (relative to dirfd) with flags and mode as openat would,
 * through openat2 refusing every symlink, when path qualifies.  @return
 * the fd, or -1 with errno as openat would have failed, or
 * ROAR_CANON_NONE (errno untouched) when the caller must open it itself
 * (not a candidate, a symlink on the way, openat2 unusable here).  Sets
 * *len to path's length on success.
 */
int roar_canon_open(int dirfd, const char *path, int flags, mode_t mode,
		    size_t *len);

/**
 * Record the fd roar_canon_open returned for path (len bytes, its
 * canonical name) and send its open credit; the guard is held.
 */
void roar_canon_track(int fd, const char *path, size_t len, int flags,
		      bool created);

/** Use openat2 (state 1), never (-1), or ask the kernel first (0): for
 *  unit tests, whose fake C library openat2 would bypass. */
void roar_canon_set_state(int state);

#endif /* ROAR_OPEN_CANON_H */
