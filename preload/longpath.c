/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builds names past PATH_MAX (longpath.h) from the end of the caller's
 * buffer towards its start; the front of the buffer is the work area
 * (a readlink result, a getdents batch), which the name never reaches.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdtable.h"
#include "longpath.h"
#include "real.h"

/* Work area at the front of the buffer: a readlink result, then room for
 * a batch of directory entries. */
#define DENTS_SIZE 8192
#define WORK_SIZE (PATH_MAX + DENTS_SIZE)

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

struct builder {
	char *buf;
	size_t pos; /* the name so far is buf[pos..end) */
	size_t end;
};

static int
prepend(struct builder *b, const char *s, size_t len)
{
	if (b->pos < WORK_SIZE + len)
		return -ENAMETOOLONG;
	b->pos -= len;
	memmove(b->buf + b->pos, s, len);
	return 0;
}

static void
close_fd(int fd)
{
	roar_real_get()->close(fd);
}

static bool
same_file(int dirfd, const char *name, const struct stat *st)
{
	struct stat x;

	return fstatat(dirfd, name, &x, AT_SYMLINK_NOFOLLOW) == 0 &&
	       x.st_dev == st->st_dev && x.st_ino == st->st_ino;
}

/*
 * The entry of parent that is the directory st: by inode number first,
 * confirmed by fstatat; then, for a mount point (whose entry has the
 * inode of the directory beneath the mount), by fstatat of every
 * directory entry.  Copies its name to the builder.
 */
static int
prepend_entry(struct builder *b, int parent, const struct stat *st)
{
	char *dents = b->buf + PATH_MAX;

	for (int pass = 0; pass < 2; pass++) {
		if (lseek(parent, 0, SEEK_SET) != 0)
			return -errno;
		for (;;) {
			long n = ROAR_SYS(SYS_getdents64, parent, dents,
					  DENTS_SIZE);

			if (n < 0)
				return -errno;
			if (n == 0)
				break;
			for (long off = 0; off < n;) {
				struct linux_dirent64 *d =
					(struct linux_dirent64 *)(dents + off);
				const char *name = d->d_name;

				off += d->d_reclen;
				if (!strcmp(name, ".") || !strcmp(name, ".."))
					continue;
				if (pass == 0 && d->d_ino != st->st_ino)
					continue;
				if (pass == 1 && d->d_type != DT_DIR &&
				    d->d_type != DT_UNKNOWN)
					continue;
				if (!same_file(parent, name, st))
					continue;
				if (prepend(b, name, strlen(name)) != 0 ||
				    prepend(b, "/", 1) != 0)
					return -ENAMETOOLONG;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/* Prepend the absolute name of directory dir (taken over: closed). */
static int
prepend_dir(struct builder *b, int dir)
{
	const struct roar_real *r = roar_real_get();
	char link[ROAR_FD_PROC_PATH_SIZE];
	int rc = 0;

	for (unsigned depth = 0; depth < ROAR_LONGPATH_MAX / 2; depth++) {
		struct stat st, pst;
		ssize_t len;
		int parent;

		/* Where the kernel can still say it, take its word. */
		roar_fd_proc_path(dir, link);
		len = readlink(link, b->buf, PATH_MAX);
		if (len > 0 && len < PATH_MAX && b->buf[0] == '/') {
			if (len > 1)
				rc = prepend(b, b->buf, (size_t)len);
			break;
		}
		if (fstat(dir, &st) != 0) {
			rc = -errno;
			break;
		}
		parent = r->openat(dir, "..",
				   O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		if (parent < 0) {
			rc = -errno;
			break;
		}
		if (fstat(parent, &pst) != 0) {
			rc = -errno;
			close_fd(parent);
			break;
		}
		if (pst.st_dev == st.st_dev && pst.st_ino == st.st_ino) {
			close_fd(parent); /* the root */
			break;
		}
		rc = prepend_entry(b, parent, &st);
		close_fd(dir);
		dir = parent;
		if (rc != 0)
			break;
	}
	close_fd(dir);
	return rc;
}

ssize_t
roar_longpath_name(int dirfd, const char *path, const struct stat *st,
		   char *buf, size_t cap)
{
	const struct roar_real *r = roar_real_get();
	struct builder b = { buf, cap - 1, cap - 1 };
	const char *base, *slash;
	size_t dlen;
	int dir, rc;

	if (!path || !*path || cap < WORK_SIZE + PATH_MAX)
		return -EINVAL;
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	dlen = slash ? (size_t)(slash - path) : 0;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..") ||
	    dlen >= PATH_MAX)
		return -ENOENT;
	/* The directory the open looked the last component up in. */
	if (slash) {
		memcpy(buf, path, dlen);
		buf[dlen] = '\0';
		if (!dlen)
			buf[dlen++] = '/', buf[dlen] = '\0';
	} else {
		buf[0] = '.';
		buf[1] = '\0';
	}
	dir = r->openat(dirfd, buf, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (dir < 0)
		return -errno;
	if (!same_file(dir, base, st)) {
		close_fd(dir);
		return -ENOENT;
	}
	buf[b.end] = '\0';
	if ((rc = prepend(&b, base, strlen(base))) != 0 ||
	    (rc = prepend(&b, "/", 1)) != 0) {
		close_fd(dir);
		return rc;
	}
	if ((rc = prepend_dir(&b, dir)) != 0)
		return rc;
	memmove(buf, buf + b.pos, b.end - b.pos + 1);
	return (ssize_t)(b.end - b.pos);
}
