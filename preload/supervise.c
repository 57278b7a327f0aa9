/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Arming the supervisor from an exec hook (supervise.h).  What runs is
 * judged by include/roar/image.h with our raw system calls, its verdict
 * kept per file in a small cache (a make runs the same compiler many
 * times).  Already under our filter (a static program's dynamic child)?
 * The filter answers a probe no kernel does (ROAR_SUP_PROBE in
 * include/roar/supervise.h): then the supervisor sees the exec anyway.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "roar/image.h"
#include "roar/supervise.h"
#include "event.h"
#include "real.h"
#include "session.h"
#include "supervise.h"
#include "transport.h"

extern char **environ;

static long
sys(long nr, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return roar_real_get()->syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* Each returns -errno; errno itself is the caller's business. */
static long
raw(long r)
{
	return r < 0 ? -errno : r;
}

static int
io_open(const char *path, int flags)
{
	return (int)raw(ROAR_SYS(SYS_openat, AT_FDCWD, path, flags, 0));
}

static int
io_close(int fd)
{
	return (int)raw(ROAR_SYS(SYS_close, fd));
}

static long
io_pread(int fd, void *buf, unsigned long n, long off)
{
	return raw(ROAR_SYS(SYS_pread64, fd, buf, n, off));
}

static int
io_fstat(int fd, struct stat *st)
{
	return (int)raw(ROAR_SYS(SYS_fstat, fd, st));
}

static long
io_fgetxattr(int fd, const char *name, void *buf, unsigned long n)
{
	return raw(ROAR_SYS(SYS_fgetxattr, fd, name, buf, n));
}

static int
io_access(const char *path, int mode)
{
	return (int)raw(ROAR_SYS(SYS_faccessat, AT_FDCWD, path, mode, 0));
}

static int
io_stat(const char *path, struct stat *st)
{
	return (int)raw(ROAR_SYS(SYS_newfstatat, AT_FDCWD, path, st, 0));
}

static const struct roar_image_io io = {
	.open = io_open,
	.close = io_close,
	.pread = io_pread,
	.fstat = io_fstat,
	.fgetxattr = io_fgetxattr,
	.access = io_access,
	.stat = io_stat,
};

/* Taken with a try: a busy cache is skipped, never waited for (a vfork
 * child must not wait on its parent's other threads). */
static struct roar_image_cache cache;
static atomic_flag cache_busy = ATOMIC_FLAG_INIT;

static int
inspect(const char *path, struct roar_image *img)
{
	int rc;

	if (atomic_flag_test_and_set_explicit(&cache_busy,
					      memory_order_acquire))
		return roar_image_inspect(&io, path, img);
	rc = roar_image_inspect_cached(&cache, &io, path, img);
	atomic_flag_clear_explicit(&cache_busy, memory_order_release);
	return rc;
}

static const char *
path_var(void)
{
	for (char **e = environ; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			return *e + 5;
	return NULL;
}

enum roar_tracer
roar_preload_sup_judge(const char *file, bool search, char *path, size_t cap)
{
	struct roar_image img;
	enum roar_tracer tr = ROAR_TRACER_NONE;
	int saved = errno;

	if (!file || !*file || !roar_session.have_sock)
		goto out;
	if (search && !strchr(file, '/')) {
		if (roar_image_resolve(&io, file, path_var(), path, cap) != 0)
			goto out;
	} else if (strlen(file) < cap) {
		strcpy(path, file);
	} else {
		goto out;
	}
	if (inspect(path, &img) == 0)
		tr = roar_image_tracer(&img);
out:
	errno = saved;
	return tr;
}

void
roar_preload_sup_arm(enum roar_who who, const char *path)
{
	unsigned char buf[PATH_MAX + 256];
	struct roar_event_ids ids = { (pid_t)ROAR_SYS(SYS_getpid),
				      (pid_t)ROAR_SYS(SYS_gettid) };
	struct roar_frame f;
	int saved = errno, rc;

	if (roar_sup_armed(sys))
		goto out;
	roar_frame_init(&f, buf, sizeof(buf));
	rc = roar_event_supervise(&f, &ids, path, roar_now());
	/* The socket's path follows "=" in its environment entry. */
	if (rc == 0)
		rc = roar_sup_arm(sys, strchr(roar_session.env_sock, '=') + 1,
				  f.data, f.len);
	if (rc != 0) {
		roar_frame_init(&f, buf, sizeof(buf));
		if (roar_event_unseen(&f, &ids, ROAR_UNSEEN_NO_SUPERVISOR,
				      -rc) == 0) {
			if (who == ROAR_WHO_SELF)
				roar_transport_send(f.data, f.len);
			else
				roar_transport_send_oneshot(f.data, f.len);
		}
	}
out:
	errno = saved;
}
