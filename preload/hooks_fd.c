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

static int
after_fcntl(int ret, int fd, int cmd)
{
	if (ret >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		ROAR_AFTER(roar_track_dup(fd, ret));
	return ret;
}

/* glibc's own fcntl reads its third argument as a pointer too. */
ROAR_EXPORT int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return after_fcntl(ROAR_REAL(fcntl)(fd, cmd, arg), fd, cmd);
}

ROAR_EXPORT int
fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return after_fcntl(ROAR_REAL(fcntl64)(fd, cmd, arg), fd, cmd);
}

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

ROAR_EXPORT void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *ret = ROAR_REAL(mmap)(addr, len, prot, flags, fd, off);

	if (ret != MAP_FAILED && fd >= 0 && !(flags & MAP_ANONYMOUS))
		ROAR_AFTER(roar_track_mmap(fd, prot, flags));
	return ret;
}

ROAR_EXPORT void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	void *ret = ROAR_REAL(mmap64)(addr, len, prot, flags, fd, off);

	if (ret != MAP_FAILED && fd >= 0 && !(flags & MAP_ANONYMOUS))
		ROAR_AFTER(roar_track_mmap(fd, prot, flags));
	return ret;
}
