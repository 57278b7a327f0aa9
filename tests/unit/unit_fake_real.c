/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fake table of real functions of the hook suites (unit_fake_real.h
 * says how it is used).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "guard.h"
#include "unit_fake_real.h"

static struct roar_real real_copy; /* the resolved table */
struct roar_real fake;
struct fake_calls F;
struct fake_saw saw;

/*
 * Whether this call of the fake self is the armed one (it then disarms);
 * another call of the function under test is counted in F.extra.
 */
static bool
take(const void *self)
{
	if (F.armed == self) {
		F.armed = NULL;
		return true;
	}
	if (F.target == self)
		F.extra++;
	return false;
}

static void
record(void)
{
	F.entry_errno = errno;
	F.calls++;
}

static long
finish(void)
{
	if (F.err)
		errno = F.err;
	return F.ret;
}

ssize_t
fake_read(int fd, void *buf, size_t n)
{
	if (!take((const void *)fake_read))
		return real_copy.read(fd, buf, n);
	record();
	F.fd = fd;
	F.buf = buf;
	F.n = n;
	return finish();
}

ssize_t
fake_write(int fd, const void *buf, size_t n)
{
	if (!take((const void *)fake_write))
		return real_copy.write(fd, buf, n);
	record();
	F.fd = fd;
	F.buf = buf;
	F.n = n;
	return finish();
}

ssize_t
fake_pread(int fd, void *buf, size_t n, off_t off)
{
	if (!take((const void *)fake_pread))
		return real_copy.pread(fd, buf, n, off);
	record();
	F.fd = fd;
	F.buf = buf;
	F.n = n;
	F.off = off;
	return finish();
}

ssize_t
fake_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (!take((const void *)fake_pwrite))
		return real_copy.pwrite(fd, buf, n, off);
	record();
	F.fd = fd;
	F.buf = buf;
	F.n = n;
	F.off = off;
	return finish();
}

ssize_t
fake_readv(int fd, const struct iovec *iov, int cnt)
{
	if (!take((const void *)fake_readv))
		return real_copy.readv(fd, iov, cnt);
	record();
	F.fd = fd;
	F.iov = iov;
	F.cnt = cnt;
	return finish();
}

ssize_t
fake_writev(int fd, const struct iovec *iov, int cnt)
{
	if (!take((const void *)fake_writev))
		return real_copy.writev(fd, iov, cnt);
	record();
	F.fd = fd;
	F.iov = iov;
	F.cnt = cnt;
	return finish();
}

ssize_t
fake_read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	(void)buflen;
	if (!take((const void *)fake_read_chk))
		return real_copy.__read_chk(fd, buf, n, buflen);
	record();
	F.fd = fd;
	F.buf = buf;
	F.n = n;
	return finish();
}

static int
open_common(const void *self, int dirfd, const char *path, int flags,
	    mode_t mode)
{
	if (!take(self))
		return real_copy.openat(dirfd, path, flags, mode);
	record();
	F.fd = dirfd;
	F.path = path;
	F.flags = flags;
	F.mode = mode;
	if (F.open_for_real) {
		/* The C library's openat, not our syscall() hook. */
		int fd = real_copy.openat(dirfd, path, flags, mode);

		if (fd < 0)
			return -1;
		F.ret = fd;
	}
	return (int)finish();
}

int
fake_open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & O_CREAT) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return open_common((const void *)fake_open, AT_FDCWD, path, flags,
			   mode);
}

int
fake_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & O_CREAT) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return open_common((const void *)fake_openat, dirfd, path, flags, mode);
}

int
fake_open_2(const char *path, int flags)
{
	return open_common((const void *)fake_open_2, AT_FDCWD, path, flags, 0);
}

int
fake_creat(const char *path, mode_t mode)
{
	return open_common((const void *)fake_creat, AT_FDCWD, path,
			   O_WRONLY | O_CREAT | O_TRUNC, mode);
}

FILE *
fake_fopen(const char *path, const char *mode)
{
	if (!take((const void *)fake_fopen))
		return real_copy.fopen(path, mode);
	record();
	F.path = path;
	F.fmode = mode;
	return (FILE *)(intptr_t)finish();
}

int
fake_fclose(FILE *f)
{
	(void)f;
	if (!take((const void *)fake_fclose))
		return real_copy.fclose(f);
	record();
	return (int)finish();
}

int
fake_close(int fd)
{
	if (!take((const void *)fake_close))
		return real_copy.close(fd);
	record();
	F.fd = fd;
	return (int)finish();
}

int
fake_dup(int fd)
{
	if (!take((const void *)fake_dup))
		return real_copy.dup(fd);
	record();
	F.fd = fd;
	return (int)finish();
}

int
fake_dup2(int fd, int fd2)
{
	if (!take((const void *)fake_dup2))
		return real_copy.dup2(fd, fd2);
	record();
	F.fd = fd;
	F.fd2 = fd2;
	return (int)finish();
}

int
fake_pipe(int fds[2])
{
	if (!take((const void *)fake_pipe))
		return real_copy.pipe(fds);
	record();
	if (F.ret == 0) {
		fds[0] = F.fds_out[0];
		fds[1] = F.fds_out[1];
	}
	return (int)finish();
}

int
fake_socket(int domain, int type, int protocol)
{
	(void)domain;
	(void)type;
	(void)protocol;
	if (!take((const void *)fake_socket))
		return real_copy.socket(domain, type, protocol);
	record();
	return (int)finish();
}

pid_t
fake_fork(void)
{
	if (!take((const void *)fake_fork))
		return real_copy.fork();
	record();
	return (pid_t)finish();
}

pid_t
fake_waitpid(pid_t pid, int *status, int options)
{
	(void)options;
	if (!take((const void *)fake_waitpid))
		return real_copy.waitpid(pid, status, options);
	record();
	F.fd = pid;
	if (F.ret > 0 && status)
		*status = F.status_out;
	return (pid_t)finish();
}

static void
copy_vec(char dst[][128], size_t *n, char *const *v)
{
	*n = 0;
	for (; v && v[*n] && *n < SAW_MAX; (*n)++)
		snprintf(dst[*n], 128, "%s", v[*n]);
}

int
fake_execve(const char *path, char *const argv[], char *const envp[])
{
	if (!take((const void *)fake_execve))
		return real_copy.execve(path, argv, envp);
	record();
	F.path = path;
	F.argv = argv;
	F.envp = envp;
	copy_vec(saw.argv, &saw.argc, argv);
	copy_vec(saw.env, &saw.envc, envp);
	return (int)finish();
}

int
fake_posix_spawn(pid_t *pid, const char *path,
		 const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[],
		 char *const envp[])
{
	(void)pid;
	(void)fa;
	(void)attr;
	if (!take((const void *)fake_posix_spawn))
		return real_copy.posix_spawn(pid, path, fa, attr, argv, envp);
	record();
	F.path = path;
	F.argv = argv;
	F.envp = envp;
	copy_vec(saw.argv, &saw.argc, argv);
	copy_vec(saw.env, &saw.envc, envp);
	return (int)F.ret; /* an error number, errno untouched */
}

size_t
fake_fread(void *p, size_t size, size_t n, FILE *stream)
{
	(void)stream;
	if (!take((const void *)fake_fread))
		return real_copy.fread(p, size, n, stream);
	record();
	F.buf = p;
	F.n = size * n;
	return (size_t)finish();
}

size_t
fake_fwrite(const void *p, size_t size, size_t n, FILE *stream)
{
	(void)stream;
	if (!take((const void *)fake_fwrite))
		return real_copy.fwrite(p, size, n, stream);
	record();
	F.buf = p;
	F.n = size * n;
	return (size_t)finish();
}

int
fake_rename(const char *from, const char *to)
{
	(void)from;
	if (!take((const void *)fake_rename))
		return real_copy.rename(from, to);
	record();
	F.path = to;
	return (int)finish();
}

int
fake_ftruncate(int fd, off_t len)
{
	if (!take((const void *)fake_ftruncate))
		return real_copy.ftruncate(fd, len);
	record();
	F.fd = fd;
	F.off = len;
	return (int)finish();
}

void *
fake_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	(void)addr;
	(void)len;
	(void)prot;
	(void)flags;
	(void)off;
	if (!take((const void *)fake_mmap))
		return real_copy.mmap(addr, len, prot, flags, fd, off);
	record();
	F.fd = fd;
	return (void *)(intptr_t)finish();
}

int
fake_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!take((const void *)fake_fcntl))
		return real_copy.fcntl(fd, cmd, arg);
	record();
	F.fd = fd;
	F.cnt = cmd;
	return (int)finish();
}

long
fake_syscall(long nr, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!take((const void *)fake_syscall))
		return real_copy.syscall(nr, a[0], a[1], a[2], a[3], a[4],
					 a[5]);
	record();
	F.fd = (int)a[0];
	F.cnt = (int)nr;
	return finish();
}

static void
fake_build(void)
{
	fake = real_copy;
	fake.read = fake_read;
	fake.write = fake_write;
	fake.pread = fake_pread;
	fake.pwrite = fake_pwrite;
	fake.readv = fake_readv;
	fake.writev = fake_writev;
	fake.__read_chk = fake_read_chk;
	fake.open = fake_open;
	fake.open64 = fake_open;
	fake.openat = fake_openat;
	fake.__open_2 = fake_open_2;
	fake.creat = fake_creat;
	fake.fopen = fake_fopen;
	fake.fclose = fake_fclose;
	fake.close = fake_close;
	fake.dup = fake_dup;
	fake.dup2 = fake_dup2;
	fake.pipe = fake_pipe;
	fake.socket = fake_socket;
	fake.fork = fake_fork;
	fake.waitpid = fake_waitpid;
	fake.execve = fake_execve;
	fake.posix_spawn = fake_posix_spawn;
	fake.fread = fake_fread;
	fake.fwrite = fake_fwrite;
	fake.rename = fake_rename;
	fake.ftruncate = fake_ftruncate;
	fake.mmap = fake_mmap;
	fake.fcntl = fake_fcntl;
	fake.syscall = fake_syscall;
}

void
fake_reset(void)
{
	real_copy = *roar_real_get();
	fake_build();
	memset(&F, 0, sizeof(F));
}

void
fake_on(void)
{
	roar_real_override(&fake);
	roar_ready = true;
}

void
fake_off(void)
{
	roar_ready = false;
	roar_real_override(NULL);
}
