/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the supervisor reads of a process (supervise_int.h): /proc, the
 * caller's memory, the paths its calls name, and which files are the
 * dynamic loader's or our library's.
 *
 * Facts relied on:
 * - A notification names the calling thread (seccomp_notif.pid, a tid in
 *   our PID namespace); /proc/TID/status gives its Tgid and PPid (where
 *   a pidfd cannot: supervise_peek.c).
 * - process_vm_readv reads the caller's memory with the permission of a
 *   ptrace attach (same user and, under Yama 1, an ancestor), without
 *   ptrace.  What we read can change under us (another thread); what the
 *   kernel then uses is its own copy.  Good enough for lineage, never for
 *   security.
 * - /proc/PID/fd/N names the open file as the kernel does (the
 *   canonical path, or "pipe:[INODE]", "socket:[...]", "anon_inode:...").
 * - A file opened O_PATH is looked at without being read (no FIFO ever
 *   blocks), and /proc/self/fd names it canonically.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/openat2.h>

#include "supervise_int.h"

/* ---- /proc ------------------------------------------------------------- */

/*
 * The /proc files read here (a process's status, auxv, cmdline and
 * environ) give all they have in one read when the buffer holds it
 * (single-record seq_files, and readers of the process's memory that
 * loop until the count or the end): a short read is the end, and asking
 * again would only cost a system call that returns 0.  Not so for
 * multi-record files such as maps or mountinfo (a page a read): do not
 * use this for them.
 */
ssize_t
sup_read_small(const char *path, void *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, got = 0;

	if (fd < 0)
		return -1;
	while ((size_t)got < cap &&
	       (n = read(fd, (char *)buf + got, cap - (size_t)got)) > 0) {
		got += n;
		if ((size_t)n < cap - (size_t)(got - n))
			break;
	}
	close(fd);
	return got;
}

ssize_t
sup_proc_link(pid_t pid, const char *what, char *out, size_t cap)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/%s", (int)pid, what);
	n = readlink(link, out, cap - 1);
	if (n < 0)
		return -1;
	out[n] = '\0';
	return n;
}

/* A field "Name:\tvalue" of /proc/ID/status, or -1. */
long
sup_status_field(const char *status, const char *name)
{
	const char *at = strstr(status, name);

	return at ? strtol(at + strlen(name), NULL, 10) : -1;
}

/* ---- memory of the caller ------------------------------------------------ */

/* A NUL-terminated string at addr of tid, into buf; its length or -1. */
ssize_t
sup_read_string(pid_t tid, uint64_t addr, char *buf, size_t cap)
{
	size_t got = 0;

	if (!addr)
		return -1;
	while (got + 1 < cap) {
		uint64_t at = addr + got;
		size_t want = 4096 - (size_t)(at & 4095);
		struct iovec l, r;
		ssize_t n;
		char *z;

		if (want > cap - 1 - got)
			want = cap - 1 - got;
		l = (struct iovec){ buf + got, want };
		r = (struct iovec){ (void *)(uintptr_t)at, want };
		n = process_vm_readv(tid, &l, 1, &r, 1, 0);
		if (n <= 0)
			return -1;
		z = memchr(buf + got, '\0', (size_t)n);
		if (z)
			return z - buf;
		got += (size_t)n;
	}
	return -1;
}

bool
sup_read_mem(pid_t tid, uint64_t addr, void *out, size_t len)
{
	struct iovec l = { out, len }, r = { (void *)(uintptr_t)addr, len };

	return process_vm_readv(tid, &l, 1, &r, 1, 0) == (ssize_t)len;
}

/* ---- paths ------------------------------------------------------------- */

/* Clean an absolute path in place: no "//", ".", "..", trailing '/'. */
static void
clean(char *p)
{
	char *out = p, *in = p;

	while (*in) {
		while (*in == '/')
			in++;
		if (!*in)
			break;
		if (in[0] == '.' && (in[1] == '/' || !in[1])) {
			in++;
			continue;
		}
		if (in[0] == '.' && in[1] == '.' && (in[2] == '/' || !in[2])) {
			in += 2;
			while (out > p && *--out != '/')
				;
			continue;
		}
		*out++ = '/';
		while (*in && *in != '/')
			*out++ = *in++;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}

/*
 * The absolute form of path as pid resolves it from dirfd (AT_FDCWD: its
 * working directory), lexically cleaned, into out; false when unknown.
 */
/* Whether path has a ".", ".." or empty component (cleaning changes
 * it). */
static bool
has_dots(const char *path)
{
	for (const char *c = path; *c;) {
		size_t n = strcspn(c, "/");

		if (n == 0 && c != path)
			return true;
		if ((n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return true;
		c += n;
		if (*c == '/')
			c++;
		if (*c == '\0' && c[-1] == '/' && c - 1 != path)
			return true;
	}
	return false;
}

bool
sup_absolute(pid_t pid, int dirfd, const char *path, char **cwd, char *out,
	     size_t cap, bool *literal)
{
	char base[PATH_MAX];
	size_t n;

	*literal = !has_dots(path);

	/* Its /proc/self is not ours. */
	if (!strncmp(path, "/proc/self/", 11) ||
	    !strncmp(path, "/proc/thread-self/", 18)) {
		const char *rest = strchr(path + 6, '/');
		int k = snprintf(out, cap, "/proc/%d%s", (int)pid, rest);

		if (k < 0 || (size_t)k >= cap)
			return false;
		clean(out);
		return true;
	}
	if (path[0] == '/') {
		if (strlen(path) >= cap)
			return false;
		strcpy(out, path);
		clean(out);
		return true;
	}
	if (dirfd == AT_FDCWD && cwd && *cwd) {
		snprintf(base, sizeof(base), "%s", *cwd);
	} else if (dirfd == AT_FDCWD) {
		if (sup_proc_link(pid, "cwd", base, sizeof(base)) < 0)
			return false;
		if (cwd)
			*cwd = roar_xstrdup(base);
	} else {
		char what[32];

		snprintf(what, sizeof(what), "fd/%d", dirfd);
		if (sup_proc_link(pid, what, base, sizeof(base)) < 0 ||
		    base[0] != '/')
			return false;
	}
	n = strlen(base);
	if (n + 1 + strlen(path) >= cap)
		return false;
	if (n == 1)
		n = 0; /* the root: "/" + path */
	memcpy(out, base, n);
	out[n] = '/';
	strcpy(out + n + 1, path);
	clean(out);
	return true;
}

/*
 * The canonical name of the regular file at abs (its last component
 * followed or not), as the kernel names it once opened; false when there
 * is none (gone, not a regular file, unlinked).
 */
bool
sup_canonical_file(const char *abs, bool follow, bool literal, char *out,
		   size_t cap, struct stat *st)
{
	static bool no_openat2;
	char link[64];
	ssize_t n;
	int fd = -1;

	/* A walk without a symlink (openat2 RESOLVE_NO_SYMLINKS fails with
	 * ELOOP on one) of a name nothing was cleaned from is the name the
	 * kernel gives the file: no readlink needed. */
	if (literal && !no_openat2 && strlen(abs) < cap) {
		struct open_how how = { .flags = O_PATH | O_CLOEXEC,
					.resolve = RESOLVE_NO_SYMLINKS };

		fd = (int)syscall(SYS_openat2, AT_FDCWD, abs, &how,
				  sizeof(how));
		if (fd < 0 && (errno == ENOSYS || errno == EPERM))
			no_openat2 = true;
		if (fd >= 0) {
			bool ok = fstat(fd, st) == 0 && S_ISREG(st->st_mode) &&
				  st->st_nlink > 0;

			close(fd);
			if (ok)
				strcpy(out, abs);
			return ok;
		}
		if (errno != ELOOP)
			return false; /* gone, or never there */
	}
	fd = open(abs, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return false;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_nlink == 0) {
		close(fd);
		return false;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, cap - 1);
	close(fd);
	if (n <= 0)
		return false;
	out[n] = '\0';
	return true;
}

/* Whether path names our library (by either of its names: roar's
 * back end calls it libroar_tracer_preload.so). */
bool
sup_is_our_library(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libroar_preload", 15) ||
	       !strncmp(base, "libroar_tracer_preload", 22);
}

/* What the dynamic loader opens: its cache and shared objects. */
bool
sup_is_loader_file(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(path);

	base = base ? base + 1 : path;
	return !strcmp(path, "/etc/ld.so.cache") ||
	       (n > 3 && !strcmp(path + n - 3, ".so")) ||
	       strstr(base, ".so.") != NULL;
}
