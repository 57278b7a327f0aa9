/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exported syscall(2) shim: calls made through libc's syscall() (as
 * openat2 must be, having no wrapper) are decoded and credited like the
 * wrappers they stand for (track.c roar_track_syscall).  Six long
 * arguments are always forwarded, which is what the C library itself
 * does: the kernel ignores the ones a call does not take.
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "hook.h"

/* The raw calls whose wrappers the fd retry covers: each allocates its
 * fd before it does anything, so a full table made nothing to undo. */
static bool
makes_fd(long nr, const long a[6])
{
	switch (nr) {
#ifdef SYS_open
	case SYS_open:
#endif
#ifdef SYS_creat
	case SYS_creat:
#endif
#ifdef SYS_pipe
	case SYS_pipe:
#endif
#ifdef SYS_accept
	case SYS_accept:
#endif
#ifdef SYS_openat2
	case SYS_openat2:
#endif
	case SYS_openat:
	case SYS_dup:
	case SYS_pipe2:
	case SYS_socket:
	case SYS_socketpair:
	case SYS_accept4:
		return true;
	case SYS_fcntl:
		return a[1] == F_DUPFD || a[1] == F_DUPFD_CLOEXEC;
	default:
		return false;
	}
}

ROAR_EXPORT long
syscall(long nr, ...)
{
	va_list ap;
	long a[6], ret;
	bool created = false;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	/* A raw exec must keep the child traced as the wrappers do. */
	if (nr == SYS_execve || nr == SYS_execveat)
		return roar_hook_exec_syscall(nr, a);
	if (roar_ready && !roar_guard_depth) {
		int entry_errno = errno;

		roar_track_syscall_probe(nr, a, &created);
		errno = entry_errno;
	}
	ret = ROAR_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (ret < 0 && makes_fd(nr, a) && roar_hook_fd_retry())
		ret = ROAR_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4],
					 a[5]);
	if (ret >= 0)
		ROAR_AFTER(roar_track_syscall(nr, a, ret, created));
	return ret;
}
