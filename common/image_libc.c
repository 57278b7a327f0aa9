/* SPDX-License-Identifier: Apache-2.0 */
/*
 * roar_image_io_libc: include/roar/image.h's system calls through the C
 * library, errno turned into a negative return, for the collector.  Not
 * in the preload library, whose calls to these names would be its own
 * hooks: it passes raw system calls instead.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "roar/image.h"

static int
libc_open(const char *path, int flags)
{
	int fd = open(path, flags);

	return fd < 0 ? -errno : fd;
}

static int
libc_close(int fd)
{
	return close(fd) < 0 ? -errno : 0;
}

static long
libc_pread(int fd, void *buf, unsigned long n, long off)
{
	ssize_t r = pread(fd, buf, n, off);

	return r < 0 ? -errno : (long)r;
}

static int
libc_fstat(int fd, struct stat *st)
{
	return fstat(fd, st) < 0 ? -errno : 0;
}

static long
libc_fgetxattr(int fd, const char *name, void *buf, unsigned long n)
{
	ssize_t r = fgetxattr(fd, name, buf, n);

	return r < 0 ? -errno : (long)r;
}

static int
libc_access(const char *path, int mode)
{
	return access(path, mode) < 0 ? -errno : 0;
}

static int
libc_stat(const char *path, struct stat *st)
{
	return stat(path, st) < 0 ? -errno : 0;
}

const struct roar_image_io roar_image_io_libc = {
	.open = libc_open,
	.close = libc_close,
	.pread = libc_pread,
	.fstat = libc_fstat,
	.fgetxattr = libc_fgetxattr,
	.access = libc_access,
	.stat = libc_stat,
};
