/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exported shims of the read and write families, including the vector,
 * positional and fortified (_FORTIFY_SOURCE) variants.  The hot path:
 * after the real call, a table lookup and one load when the fd's path was
 * already credited in this process.
 */
#include "config.h"

#include <unistd.h>
#include <sys/uio.h>

#include "hook.h"

#define CREDIT_IF(ret, fd, credit)                                         \
	do {                                                               \
		if ((ret) > 0)                                             \
			ROAR_AFTER_PARK(roar_track_fd((fd), (credit)),     \
					roar_park_credit((fd), (credit))); \
	} while (0)

#define RW_HOOK(name, credit, params, args, fd)     \
	ROAR_EXPORT ssize_t name params             \
	{                                           \
		ssize_t ret = ROAR_REAL(name) args; \
		CREDIT_IF(ret, fd, credit);         \
		return ret;                         \
	}

RW_HOOK(read, ROAR_CREDIT_READ, (int fd, void *buf, size_t n), (fd, buf, n), fd)
RW_HOOK(write, ROAR_CREDIT_WRITE, (int fd, const void *buf, size_t n),
	(fd, buf, n), fd)
RW_HOOK(pread, ROAR_CREDIT_READ, (int fd, void *buf, size_t n, off_t off),
	(fd, buf, n, off), fd)
RW_HOOK(pwrite, ROAR_CREDIT_WRITE,
	(int fd, const void *buf, size_t n, off_t off), (fd, buf, n, off), fd)
RW_HOOK(pread64, ROAR_CREDIT_READ, (int fd, void *buf, size_t n, off64_t off),
	(fd, buf, n, off), fd)
RW_HOOK(pwrite64, ROAR_CREDIT_WRITE,
	(int fd, const void *buf, size_t n, off64_t off), (fd, buf, n, off), fd)
RW_HOOK(readv, ROAR_CREDIT_READ, (int fd, const struct iovec *iov, int cnt),
	(fd, iov, cnt), fd)
RW_HOOK(writev, ROAR_CREDIT_WRITE, (int fd, const struct iovec *iov, int cnt),
	(fd, iov, cnt), fd)
RW_HOOK(preadv, ROAR_CREDIT_READ,
	(int fd, const struct iovec *iov, int cnt, off_t off),
	(fd, iov, cnt, off), fd)
RW_HOOK(pwritev, ROAR_CREDIT_WRITE,
	(int fd, const struct iovec *iov, int cnt, off_t off),
	(fd, iov, cnt, off), fd)
RW_HOOK(preadv64, ROAR_CREDIT_READ,
	(int fd, const struct iovec *iov, int cnt, off64_t off),
	(fd, iov, cnt, off), fd)
RW_HOOK(pwritev64, ROAR_CREDIT_WRITE,
	(int fd, const struct iovec *iov, int cnt, off64_t off),
	(fd, iov, cnt, off), fd)
RW_HOOK(preadv2, ROAR_CREDIT_READ,
	(int fd, const struct iovec *iov, int cnt, off_t off, int flags),
	(fd, iov, cnt, off, flags), fd)
RW_HOOK(pwritev2, ROAR_CREDIT_WRITE,
	(int fd, const struct iovec *iov, int cnt, off_t off, int flags),
	(fd, iov, cnt, off, flags), fd)
RW_HOOK(preadv64v2, ROAR_CREDIT_READ,
	(int fd, const struct iovec *iov, int cnt, off64_t off, int flags),
	(fd, iov, cnt, off, flags), fd)
RW_HOOK(pwritev64v2, ROAR_CREDIT_WRITE,
	(int fd, const struct iovec *iov, int cnt, off64_t off, int flags),
	(fd, iov, cnt, off, flags), fd)
/* Fortified builds (-D_FORTIFY_SOURCE) call these instead of read/pread. */
RW_HOOK(__read_chk, ROAR_CREDIT_READ,
	(int fd, void *buf, size_t n, size_t buflen), (fd, buf, n, buflen), fd)
RW_HOOK(__pread_chk, ROAR_CREDIT_READ,
	(int fd, void *buf, size_t n, off_t off, size_t buflen),
	(fd, buf, n, off, buflen), fd)
RW_HOOK(__pread64_chk, ROAR_CREDIT_READ,
	(int fd, void *buf, size_t n, off64_t off, size_t buflen),
	(fd, buf, n, off, buflen), fd)
