/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one shape of every hook shim.
 * The real call runs first, exactly once, with the caller's arguments and
 * outside the guard, so that a signal handler interrupting a blocking call
 * is still traced; bookkeeping runs after it under the guard, with errno
 * saved around it (E1).  A call that finds the guard held (a signal
 * handler's) is parked where the hook has a parked form, else counted
 * lost.
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
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen);

#define ROAR_REAL(name) (roar_real_get()->name)

/**
 * syscall(SYS_execve or SYS_execveat, ...) with a[6] its arguments: done
 * as the exec hooks do it (environment mended, exec announced).
 */
long roar_hook_exec_syscall(long nr, const long a[6]);

/*
 * Run stmt as bookkeeping after a real call: guarded, errno kept.  When
 * the guard is held by this thread's bookkeeping (a signal handler
 * interrupted it), run park instead: it notes the call in the thread's
 * pending slots (park.h), recorded when that bookkeeping ends.
 */
#define ROAR_AFTER_PARK(stmt, park)                 \
	do {                                        \
		int roar_saved_errno_ = errno;      \
		if (roar_guard_enter_book()) {      \
			stmt;                       \
			roar_guard_leave_book();    \
		} else if (roar_guard_parkable()) { \
			park;                       \
		}                                   \
		errno = roar_saved_errno_;          \
	} while (0)

/* Bytes moved through fd (credit: ROAR_CREDIT_*), when ok: recorded,
 * or parked by a signal handler that interrupted our bookkeeping. */
#define ROAR_FD_CREDIT(ok, fd, credit)                                     \
	do {                                                               \
		if (ok)                                                    \
			ROAR_AFTER_PARK(roar_track_fd((fd), (credit)),     \
					roar_park_credit((fd), (credit))); \
	} while (0)

/* Bookkeeping with no parked form: a handler's call is counted lost. */
#define ROAR_AFTER(stmt) ROAR_AFTER_PARK(stmt, roar_park_lost())

/*
 * A call that makes an fd failed with EMFILE or ENFILE: when our
 * connection holds an fd, give it back (roar_track_yield_fd) and return
 * true, for the caller to make its call once more; errno is kept.  The
 * program then sees what it sees untraced.
 */
static inline bool
roar_hook_fd_retry(void)
{
	if (ROAR_LIKELY(errno != EMFILE && errno != ENFILE))
		return false;
	return roar_track_yield_fd();
}

#endif /* ROAR_HOOK_H */
