/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exported shims of descriptor management beyond open and dup: fcntl's
 * duplicating commands, close_range and closefrom (which must not take
 * our connection: the program asked to close its own fds), and mmap (a
 * readable mapping reads the file, a shared writable one writes it).
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "hook.h"
#include "transport.h"

static bool
is_dup(int cmd)
{
	return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC;
}

static int
after_fcntl(int ret, int fd, int cmd)
{
	if (ret >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		ROAR_AFTER_PARK(roar_track_dup(fd, ret), roar_park_forget(ret));
	return ret;
}

/* glibc's own fcntl reads its third argument as a pointer too.  A dup
 * that failed for want of an fd is made again once ours is given back. */
#define FCNTL_HOOK(name)                                            \
	ROAR_EXPORT int name(int fd, int cmd, ...)                  \
	{                                                           \
		va_list ap;                                         \
		void *arg;                                          \
		int ret;                                            \
                                                                    \
		va_start(ap, cmd);                                  \
		arg = va_arg(ap, void *);                           \
		va_end(ap);                                         \
		ret = ROAR_REAL(name)(fd, cmd, arg);                \
		if (ret < 0 && is_dup(cmd) && roar_hook_fd_retry()) \
			ret = ROAR_REAL(name)(fd, cmd, arg);        \
		return after_fcntl(ret, fd, cmd);                   \
	}

FCNTL_HOOK(fcntl)
FCNTL_HOOK(fcntl64)

/*
 * Close [first, last] but our connection's fd: the two ranges around it,
 * when it lies inside.  Returns what the first failing part returned.
 */
static int
close_around(unsigned first, unsigned last, int flags, int conn)
{
	const struct roar_real *r = roar_real_get();
	unsigned c = (unsigned)conn;
	int ret = 0, saved = 0;

	if (conn < 0 || c < first || c > last || (flags & CLOSE_RANGE_CLOEXEC))
		return r->close_range(first, last, flags);
	if (c > first && r->close_range(first, c - 1, flags) != 0) {
		ret = -1;
		saved = errno;
	}
	if (c < last && r->close_range(c + 1, last, flags) != 0 && !ret) {
		ret = -1;
		saved = errno;
	}
	if (ret)
		errno = saved;
	return ret;
}

ROAR_EXPORT int
close_range(unsigned int first, unsigned int last, int flags)
{
	int ret = close_around(first, last, flags, roar_transport_fd());

	if (ret == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		ROAR_AFTER(roar_fdtable_forget_range(first, last));
	return ret;
}

ROAR_EXPORT void
closefrom(int lowfd)
{
	int conn = roar_transport_fd();

	if (conn >= 0 && conn >= lowfd && lowfd >= 0 &&
	    close_around((unsigned)lowfd, ~0u, 0, conn) == 0) {
		ROAR_AFTER(roar_fdtable_forget_range((unsigned)lowfd, ~0u));
		return;
	}
	ROAR_REAL(closefrom)(lowfd);
	if (lowfd >= 0)
		ROAR_AFTER(roar_track_closed_range((unsigned)lowfd, ~0u));
}

/* roar_track_mmap's credits, in a signal handler (park.h). */
static void
park_mmap(int fd, int prot, int flags)
{
	int type = flags & MAP_TYPE;

	if ((prot & PROT_WRITE) &&
	    (type == MAP_SHARED || type == MAP_SHARED_VALIDATE))
		roar_park_credit(fd, ROAR_CREDIT_WRITE);
	if (prot & PROT_READ)
		roar_park_credit(fd, ROAR_CREDIT_READ);
}

ROAR_EXPORT void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *ret = ROAR_REAL(mmap)(addr, len, prot, flags, fd, off);

	if (ret != MAP_FAILED && fd >= 0 && !(flags & MAP_ANONYMOUS))
		ROAR_AFTER_PARK(roar_track_mmap(fd, prot, flags),
				park_mmap(fd, prot, flags));
	return ret;
}

ROAR_EXPORT void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	void *ret = ROAR_REAL(mmap64)(addr, len, prot, flags, fd, off);

	if (ret != MAP_FAILED && fd >= 0 && !(flags & MAP_ANONYMOUS))
		ROAR_AFTER_PARK(roar_track_mmap(fd, prot, flags),
				park_mmap(fd, prot, flags));
	return ret;
}
