/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared shape of the hook shims (see shared/STYLE.md "Anatomy of a hook").
 * The real call runs first, exactly once, with the caller's arguments and
 * outside the guard, so that a signal handler interrupting a blocking call
 * is still traced; bookkeeping runs after it under the guard, with errno
 * saved around it (E1).
 */
#ifndef ROAR_HOOK_H
#define ROAR_HOOK_H

#include <errno.h>
#include <sys/types.h>

#include "roar/compiler.h"
#include "guard.h"
#include "real.h"
#include "track.h"

/*
 * glibc's fortified entry points (what -D_FORTIFY_SOURCE builds call);
 * no public header declares them when we build without fortify.
 */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off,
		      size_t buflen);

#define ROAR_REAL(name) (roar_real_get()->name)

/**
 * syscall(SYS_execve or SYS_execveat, ...) with a[6] its arguments: done
 * as the exec hooks do it (environment mended, exec announced).
 */
long roar_hook_exec_syscall(long nr, const long a[6]);

/* Run stmt as bookkeeping after a real call: guarded, errno kept. */
#define ROAR_AFTER(stmt)                                                     \
	do {                                                                 \
		int roar_saved_errno_ = errno;                               \
		if (roar_guard_enter()) {                                    \
			stmt;                                                \
			roar_guard_leave();                                  \
		}                                                            \
		errno = roar_saved_errno_;                                   \
	} while (0)

#endif /* ROAR_HOOK_H */
