/* SPDX-License-Identifier: Apache-2.0 */
/*
 * E1/E3 tests of the exported hooks (hooks_*.c): with roar_ready set and a
 * fake table of real functions installed through roar_real_override(), a
 * hook must call the real function exactly once with the caller's
 * arguments and errno, return exactly what it returned, and leave errno as
 * it left it, on failures, on short counts and on success, whatever our
 * bookkeeping after the call did to errno.  No socket is configured, so
 * nothing leaves the process.
 *
 * Each fake fakes only the one call a test arms (expect); any other call
 * of the table, roar's own raw syscalls and O_PATH probes included, goes
 * on to the C library, and a second call of the function under test is
 * counted as an error.  roar_ready is set only around the one hook call
 * (CALL_HOOK), so check's own I/O is never traced, and assertions run
 * after it is cleared again.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdtable.h"
#include "guard.h"
#include "real.h"
#include "session.h"
#include "track.h"
#include "transport.h"
#include "unit.h"
#include "unit_preload.h"

/* entry.c, which defines these for the .so, is not in preload_core. */
/* The fortified entry points are ours to call here (hook.h names them). */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
int __open_2(const char *path, int flags);

static struct roar_real real_copy; /* the resolved table */
static struct roar_real fake;

/* What the fake real functions do and what they saw. */
static struct {
	long ret; /* value to return */
	int err;  /* errno to set before returning; 0: leave it */
	int calls;
	int entry_errno; /* errno when the fake was entered */
	int fd, fd2, flags, cnt;
	mode_t mode;
	const char *path;
	const char *fmode;
	const void *buf;
	size_t n;
	off_t off;
	const struct iovec *iov;
	char *const *argv;
	char *const *envp;
	int fds_out[2];     /* what a fake pipe hands out */
	int status_out;     /* what a fake wait reports */
	bool open_for_real; /* a fake open that really opens */
	const void *armed;  /* the fake whose next call is faked (expect) */
	const void *target; /* the function under test */
	int extra;          /* its calls besides the faked one */
} F;

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

static ssize_t
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

static ssize_t
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

static ssize_t
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

static ssize_t
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

static ssize_t
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

static ssize_t
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

static ssize_t
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

static int
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

static int
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

static int
fake_open_2(const char *path, int flags)
{
	return open_common((const void *)fake_open_2, AT_FDCWD, path, flags, 0);
}

static int
fake_creat(const char *path, mode_t mode)
{
	return open_common((const void *)fake_creat, AT_FDCWD, path,
			   O_WRONLY | O_CREAT | O_TRUNC, mode);
}

static FILE *
fake_fopen(const char *path, const char *mode)
{
	if (!take((const void *)fake_fopen))
		return real_copy.fopen(path, mode);
	record();
	F.path = path;
	F.fmode = mode;
	return (FILE *)(intptr_t)finish();
}

static int
fake_fclose(FILE *f)
{
	(void)f;
	if (!take((const void *)fake_fclose))
		return real_copy.fclose(f);
	record();
	return (int)finish();
}

static int
fake_close(int fd)
{
	if (!take((const void *)fake_close))
		return real_copy.close(fd);
	record();
	F.fd = fd;
	return (int)finish();
}

static int
fake_dup(int fd)
{
	if (!take((const void *)fake_dup))
		return real_copy.dup(fd);
	record();
	F.fd = fd;
	return (int)finish();
}

static int
fake_dup2(int fd, int fd2)
{
	if (!take((const void *)fake_dup2))
		return real_copy.dup2(fd, fd2);
	record();
	F.fd = fd;
	F.fd2 = fd2;
	return (int)finish();
}

static int
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

static int
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

static pid_t
fake_fork(void)
{
	if (!take((const void *)fake_fork))
		return real_copy.fork();
	record();
	return (pid_t)finish();
}

static pid_t
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

/*
 * What an exec or spawn was given, copied while the call lasts: the hook
 * builds argv (execl) and the doctored environment in its own frame.
 */
#define SAW_MAX 16
static struct {
	char argv[SAW_MAX][128];
	char env[SAW_MAX][128];
	size_t argc, envc;
} saw;

static void
copy_vec(char dst[][128], size_t *n, char *const *v)
{
	*n = 0;
	for (; v && v[*n] && *n < SAW_MAX; (*n)++)
		snprintf(dst[*n], 128, "%s", v[*n]);
}

static int
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

static int
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

static size_t
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

static size_t
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

static int
fake_rename(const char *from, const char *to)
{
	(void)from;
	if (!take((const void *)fake_rename))
		return real_copy.rename(from, to);
	record();
	F.path = to;
	return (int)finish();
}

static int
fake_ftruncate(int fd, off_t len)
{
	if (!take((const void *)fake_ftruncate))
		return real_copy.ftruncate(fd, len);
	record();
	F.fd = fd;
	F.off = len;
	return (int)finish();
}

static void *
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

static int
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

static long
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

static void
fake_on(void)
{
	roar_real_override(&fake);
	roar_ready = true;
}

static void
fake_off(void)
{
	roar_ready = false;
	roar_real_override(NULL);
}

static char tmpdir[PATH_MAX];

static void
setup(void)
{
	fake_off();
	real_copy = *roar_real_get();
	fake_build();
	memset(&F, 0, sizeof(F));
	roar_guard_depth = 0;
	roar_fdtable_reset();
	unit_preload_reset();
	strcpy(roar_session.lib_path, "/opt/roar/libroar_preload.so");
	strcpy(roar_session.env_preload,
	       "LD_PRELOAD=/opt/roar/libroar_preload.so");
	unit_mkdtemp(tmpdir, sizeof(tmpdir), "hooks");
}

static void
teardown(void)
{
	fake_off();
	roar_guard_depth = 0;
	unit_rmtree(tmpdir);
}

struct outcome {
	long ret;
	int err;
	unsigned depth;
};

/*
 * Call one hook with the fake installed and errno set to entry_errno;
 * record what it returned, errno after it, and the guard depth.
 */
#define CALL_HOOK(o, entry_errno, expr)       \
	do {                                  \
		fake_on();                    \
		errno = (entry_errno);        \
		(o).ret = (long)(expr);       \
		(o).err = errno;              \
		(o).depth = roar_guard_depth; \
		fake_off();                   \
	} while (0)

/*
 * The next faked call returns ret with errno err (0: errno untouched).
 * Only that one call is faked: roar's own use of the table during the
 * hook's bookkeeping (its raw syscalls, O_PATH probes, mmap for the fd
 * table, closing its connection) reaches the C library, and a second
 * call of the faked function would show as calls > 1.
 */
#define expect(fn, ret, err) expect_call((const void *)(fn), (ret), (err))

static void
expect_call(const void *fn, long ret, int err)
{
	F.ret = ret;
	F.err = err;
	F.calls = 0;
	F.armed = fn;
	F.target = fn;
	F.extra = 0;
}

static void
check_outcome(const struct outcome *o, long ret, int err)
{
	/* The real function ran exactly once. */
	ck_assert_int_eq(F.calls, 1);
	ck_assert_int_eq(F.extra, 0);
	ck_assert_int_eq(o->ret, ret);
	ck_assert_msg(o->err == err, "errno %d (%s), want %d (%s)", o->err,
		      strerror(o->err), err, strerror(err));
	ck_assert_uint_eq(o->depth, 0);
}

/* A real regular file of ours, open for reading and writing. */
static int
real_file(const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static const int errnos[] = { EINTR, EBADF, EAGAIN, EIO, EFAULT, ENOSPC };

/* ---- read and write families ----------------------------------------- */

START_TEST(read_errors_pass_through)
{
	char buf[64];

	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
		struct outcome o;

		expect(fake_read, -1, errnos[i]);
		CALL_HOOK(o, 0, read(7, buf, sizeof(buf)));
		check_outcome(&o, -1, errnos[i]);
		/* The caller's arguments, unchanged. */
		ck_assert_int_eq(F.fd, 7);
		ck_assert_ptr_eq(F.buf, buf);
		ck_assert_uint_eq(F.n, sizeof(buf));
	}
}
END_TEST

START_TEST(read_short_count_keeps_errno)
{
	int fd = real_file("r");
	char buf[100];
	struct outcome o;

	expect(fake_read, 3, 0);
	CALL_HOOK(o, 1234, read(fd, buf, sizeof(buf)));
	check_outcome(&o, 3, 1234);
	/* The real was entered with the caller's errno. */
	ck_assert_int_eq(F.entry_errno, 1234);
	/* Bookkeeping did run (the read was credited)... */
	ck_assert_uint_gt(roar_fdtable_lookup(fd), ROAR_FD_IGNORED);
	ck_assert(!roar_path_wants((struct roar_path *)roar_fdtable_lookup(fd),
				   ROAR_CREDIT_READ));
	/* ...and a second read takes the fast path, same result. */
	expect(fake_read, 100, 0);
	CALL_HOOK(o, 4321, read(fd, buf, sizeof(buf)));
	check_outcome(&o, 100, 4321);
	close(fd);
}
END_TEST

START_TEST(read_success_when_bookkeeping_fails)
{
	/* fd 987 is not open: bookkeeping's fstat fails with EBADF, which
	 * must not leak into the caller's errno. */
	char buf[8];
	struct outcome o;

	ck_assert_int_eq(fcntl(987, F_GETFD), -1);
	expect(fake_read, 5, 0);
	CALL_HOOK(o, 1234, read(987, buf, sizeof(buf)));
	check_outcome(&o, 5, 1234);
	expect(fake_read, 5, 0);
	CALL_HOOK(o, 0, read(987, buf, sizeof(buf)));
	check_outcome(&o, 5, 0);
}
END_TEST

START_TEST(read_success_errno_from_real_kept)
{
	/* A real function may set errno and still succeed; the caller sees
	 * what it left. */
	int fd = real_file("r2");
	char buf[16];
	struct outcome o;

	expect(fake_read, 4, EAGAIN);
	CALL_HOOK(o, 1234, read(fd, buf, sizeof(buf)));
	check_outcome(&o, 4, EAGAIN);
	close(fd);
}
END_TEST

START_TEST(read_eof_does_no_bookkeeping)
{
	int fd = real_file("eof");
	char buf[16];
	struct outcome o;

	expect(fake_read, 0, 0);
	CALL_HOOK(o, 1234, read(fd, buf, sizeof(buf)));
	check_outcome(&o, 0, 1234);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	close(fd);
}
END_TEST

START_TEST(write_errors_and_short_counts)
{
	static const char data[10] = "0123456789";
	int fd = real_file("w");
	struct outcome o;

	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
		expect(fake_write, -1, errnos[i]);
		CALL_HOOK(o, 0, write(fd, data, sizeof(data)));
		check_outcome(&o, -1, errnos[i]);
		ck_assert_ptr_eq(F.buf, data);
		ck_assert_uint_eq(F.n, sizeof(data));
	}
	expect(fake_write, -1, EPIPE);
	CALL_HOOK(o, 0, write(fd, data, sizeof(data)));
	check_outcome(&o, -1, EPIPE);
	/* Failures credit nothing. */
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);

	expect(fake_write, 1, 0);
	CALL_HOOK(o, 1234, write(fd, data, sizeof(data)));
	check_outcome(&o, 1, 1234);
	ck_assert(!roar_path_wants((struct roar_path *)roar_fdtable_lookup(fd),
				   ROAR_CREDIT_WRITE));
	close(fd);
}
END_TEST

START_TEST(positional_and_vector_variants)
{
	int fd = real_file("pv");
	char buf[32];
	struct iovec iov[2] = { { buf, 16 }, { buf + 16, 16 } };
	struct outcome o;

	expect(fake_pread, -1, EINVAL);
	CALL_HOOK(o, 0, pread(fd, buf, sizeof(buf), 4096));
	check_outcome(&o, -1, EINVAL);
	ck_assert_int_eq(F.off, 4096);

	expect(fake_pread, 7, 0);
	CALL_HOOK(o, 1234, pread(fd, buf, sizeof(buf), 8));
	check_outcome(&o, 7, 1234);

	expect(fake_pwrite, -1, ESPIPE);
	CALL_HOOK(o, 0, pwrite(fd, buf, sizeof(buf), 1));
	check_outcome(&o, -1, ESPIPE);

	expect(fake_pwrite, 2, 0);
	CALL_HOOK(o, 1234, pwrite(fd, buf, sizeof(buf), 1));
	check_outcome(&o, 2, 1234);

	expect(fake_readv, -1, EINTR);
	CALL_HOOK(o, 0, readv(fd, iov, 2));
	check_outcome(&o, -1, EINTR);
	ck_assert_ptr_eq(F.iov, iov);
	ck_assert_int_eq(F.cnt, 2);

	expect(fake_readv, 17, 0);
	CALL_HOOK(o, 1234, readv(fd, iov, 2));
	check_outcome(&o, 17, 1234);

	expect(fake_writev, -1, EINTR);
	CALL_HOOK(o, 0, writev(fd, iov, 2));
	check_outcome(&o, -1, EINTR);

	expect(fake_writev, 5, 0);
	CALL_HOOK(o, 1234, writev(fd, iov, 2));
	check_outcome(&o, 5, 1234);

	expect(fake_read_chk, -1, EINTR);
	CALL_HOOK(o, 0, __read_chk(fd, buf, 8, sizeof(buf)));
	check_outcome(&o, -1, EINTR);

	expect(fake_read_chk, 8, 0);
	CALL_HOOK(o, 1234, __read_chk(fd, buf, 8, sizeof(buf)));
	check_outcome(&o, 8, 1234);
	close(fd);
}
END_TEST

/* ---- open family --------------------------------------------------------- */

START_TEST(open_errors_pass_through)
{
	static const int errs[] = { ENOENT, EACCES, EINTR, EMFILE, ENOTDIR };
	char path[PATH_MAX];
	struct outcome o;

	snprintf(path, sizeof(path), "%s/nope", tmpdir);
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		expect(fake_open, -1, errs[i]);
		CALL_HOOK(o, 0, open(path, O_RDONLY));
		check_outcome(&o, -1, errs[i]);
		ck_assert_ptr_eq(F.path, path);
		ck_assert_int_eq(F.flags, O_RDONLY);

		/* With the existence probe in front of the real call. */
		expect(fake_open, -1, errs[i]);
		CALL_HOOK(o, 1234, open(path, O_RDWR | O_CREAT, 0640));
		check_outcome(&o, -1, errs[i]);
		ck_assert_int_eq(F.entry_errno, 1234);
		ck_assert_int_eq(F.mode, 0640);

		expect(fake_openat, -1, errs[i]);
		CALL_HOOK(o, 0,
			  openat(AT_FDCWD, path, O_WRONLY | O_CREAT, 0600));
		check_outcome(&o, -1, errs[i]);
		ck_assert_int_eq(F.fd, AT_FDCWD);
		ck_assert_int_eq(F.mode, 0600);

		expect(fake_open_2, -1, errs[i]);
		CALL_HOOK(o, 0, __open_2(path, O_RDONLY));
		check_outcome(&o, -1, errs[i]);

		expect(fake_creat, -1, errs[i]);
		CALL_HOOK(o, 0, creat(path, 0600));
		check_outcome(&o, -1, errs[i]);
	}
}
END_TEST

START_TEST(open_success_keeps_errno)
{
	char path[PATH_MAX];
	struct outcome o;
	struct roar_path *p;

	/* O_CREAT on a new name: the probe (faccessat) fails with ENOENT
	 * and the real call runs; neither may show in errno. */
	snprintf(path, sizeof(path), "%s/created", tmpdir);
	expect(fake_open, 0, 0);
	F.open_for_real = true;
	CALL_HOOK(o, 1234, open(path, O_RDWR | O_CREAT, 0640));
	ck_assert_int_ge(o.ret, 0);
	check_outcome(&o, F.ret, 1234);
	ck_assert_int_eq(F.entry_errno, 1234);
	ck_assert_int_eq(F.flags, O_RDWR | O_CREAT);
	ck_assert_int_eq(F.mode, 0640);
	/* It was created: a write credit. */
	p = (struct roar_path *)roar_fdtable_lookup((int)o.ret);
	ck_assert_uint_gt((uintptr_t)p, ROAR_FD_IGNORED);
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_WRITE));
	ck_assert(roar_path_wants(p, ROAR_CREDIT_READ));
	close((int)o.ret);

	/* The same name again: it exists, O_RDWR earns nothing. */
	roar_intern_atfork_child(); /* forget the credits */
	expect(fake_open, 0, 0);
	F.open_for_real = true;
	CALL_HOOK(o, 1234, open(path, O_RDWR | O_CREAT, 0640));
	check_outcome(&o, F.ret, 1234);
	p = (struct roar_path *)roar_fdtable_lookup((int)o.ret);
	ck_assert(roar_path_wants(p, ROAR_CREDIT_WRITE));
	ck_assert(roar_path_wants(p, ROAR_CREDIT_READ));
	close((int)o.ret);

	/* Read-only: a read credit, errno kept. */
	expect(fake_openat, 0, 0);
	F.open_for_real = true;
	CALL_HOOK(o, 77, openat(AT_FDCWD, path, O_RDONLY));
	check_outcome(&o, F.ret, 77);
	p = (struct roar_path *)roar_fdtable_lookup((int)o.ret);
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_READ));
	close((int)o.ret);
}
END_TEST

START_TEST(open_success_on_fd_we_cannot_resolve)
{
	/* A fake that hands out a number that is not open. */
	struct outcome o;

	expect(fake_open, 955, 0);
	CALL_HOOK(o, 1234, open("/whatever", O_RDONLY));
	check_outcome(&o, 955, 1234);
}
END_TEST

START_TEST(fopen_passes_through)
{
	char path[PATH_MAX];
	struct outcome o;

	snprintf(path, sizeof(path), "%s/f", tmpdir);
	expect(fake_fopen, 0, ENOENT);
	CALL_HOOK(o, 0, (intptr_t)fopen(path, "r"));
	check_outcome(&o, 0, ENOENT);
	ck_assert_ptr_eq(F.path, path);
	ck_assert_str_eq(F.fmode, "r");

	/* "r+" with no O_CREAT: no probe; "a+" creates: probe runs. */
	expect(fake_fopen, 0, EACCES);
	CALL_HOOK(o, 1234, (intptr_t)fopen(path, "a+"));
	check_outcome(&o, 0, EACCES);
	ck_assert_int_eq(F.entry_errno, 1234);
}
END_TEST

START_TEST(fclose_passes_through)
{
	/* The fake does not close f, which the compiler cannot know. */
	int (*volatile hook_fclose)(FILE *) = fclose;
	FILE *f = fopen("/dev/null", "r");
	struct outcome o;

	ck_assert_ptr_nonnull(f);
	expect(fake_fclose, EOF, EIO);
	CALL_HOOK(o, 0, hook_fclose(f));
	check_outcome(&o, EOF, EIO);
	expect(fake_fclose, 0, 0);
	CALL_HOOK(o, 1234, hook_fclose(f));
	check_outcome(&o, 0, 1234);
	hook_fclose(f); /* for real */
}
END_TEST

/* ---- close, dup, pipe, socket ------------------------------------------- */

START_TEST(close_passes_through)
{
	static const int errs[] = { EBADF, EINTR, EIO };
	struct outcome o;

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		expect(fake_close, -1, errs[i]);
		CALL_HOOK(o, 0, close(42));
		check_outcome(&o, -1, errs[i]);
		ck_assert_int_eq(F.fd, 42);
	}
	ck_assert_int_eq(roar_fdtable_set(42, ROAR_FD_IGNORED), 0);
	expect(fake_close, 0, 0);
	CALL_HOOK(o, 1234, close(42));
	check_outcome(&o, 0, 1234);
	ck_assert_uint_eq(roar_fdtable_lookup(42), ROAR_FD_UNKNOWN);
}
END_TEST

START_TEST(dup_passes_through)
{
	struct outcome o;

	expect(fake_dup, -1, EMFILE);
	CALL_HOOK(o, 0, dup(3));
	check_outcome(&o, -1, EMFILE);
	expect(fake_dup2, -1, EBADF);
	CALL_HOOK(o, 0, dup2(3, 9));
	check_outcome(&o, -1, EBADF);
	ck_assert_int_eq(F.fd, 3);
	ck_assert_int_eq(F.fd2, 9);

	ck_assert_int_eq(roar_fdtable_set(30, ROAR_FD_IGNORED), 0);
	expect(fake_dup, 31, 0);
	CALL_HOOK(o, 1234, dup(30));
	check_outcome(&o, 31, 1234);
	ck_assert_uint_eq(roar_fdtable_lookup(31), ROAR_FD_IGNORED);
	expect(fake_dup2, 40, 0);
	CALL_HOOK(o, 1234, dup2(30, 40));
	check_outcome(&o, 40, 1234);
	ck_assert_uint_eq(roar_fdtable_lookup(40), ROAR_FD_IGNORED);
}
END_TEST

START_TEST(pipe_and_socket_pass_through)
{
	int fds[2] = { -7, -7 };
	struct outcome o;

	expect(fake_pipe, -1, EMFILE);
	CALL_HOOK(o, 0, pipe(fds));
	check_outcome(&o, -1, EMFILE);
	ck_assert_int_eq(fds[0], -7);

	F.fds_out[0] = 600;
	F.fds_out[1] = 601;
	expect(fake_pipe, 0, 0);
	CALL_HOOK(o, 1234, pipe(fds));
	check_outcome(&o, 0, 1234);
	ck_assert_int_eq(fds[0], 600);
	/* Pipe ends are learnt on first use (a pipe record, fdtable.h). */
	ck_assert_uint_eq(roar_fdtable_lookup(600), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(601), ROAR_FD_UNKNOWN);

	expect(fake_socket, -1, EAFNOSUPPORT);
	CALL_HOOK(o, 0, socket(AF_UNIX, SOCK_STREAM, 0));
	check_outcome(&o, -1, EAFNOSUPPORT);
	expect(fake_socket, 602, 0);
	CALL_HOOK(o, 1234, socket(AF_UNIX, SOCK_STREAM, 0));
	check_outcome(&o, 602, 1234);
	ck_assert_uint_eq(roar_fdtable_lookup(602), ROAR_FD_IGNORED);
}
END_TEST

/* ---- stdio, names, fd management, raw syscalls ------------------------- */

START_TEST(stdio_movers_pass_through)
{
	FILE *f;
	char buf[64];
	struct outcome o;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/stdio", tmpdir);
	f = fopen(path, "w+");
	ck_assert_ptr_nonnull(f);
	expect(fake_fread, 0, EIO);
	CALL_HOOK(o, 0, fread(buf, 1, sizeof(buf), f));
	check_outcome(&o, 0, EIO);
	ck_assert_ptr_eq(F.buf, buf);
	ck_assert_uint_eq(F.n, sizeof(buf));
	/* Short read: credited, errno kept. */
	expect(fake_fread, 3, 0);
	CALL_HOOK(o, 1234, fread(buf, 1, sizeof(buf), f));
	check_outcome(&o, 3, 1234);
	ck_assert(!roar_path_wants(
		(struct roar_path *)roar_fdtable_lookup(fileno(f)),
		ROAR_CREDIT_READ));
	expect(fake_fwrite, 0, ENOSPC);
	CALL_HOOK(o, 0, fwrite(buf, 2, 8, f));
	check_outcome(&o, 0, ENOSPC);
	ck_assert_uint_eq(F.n, 16);
	expect(fake_fwrite, 5, 0);
	CALL_HOOK(o, 1234, fwrite(buf, 2, 8, f));
	check_outcome(&o, 5, 1234);
	fclose(f);
}
END_TEST

START_TEST(names_pass_through)
{
	char path[PATH_MAX];
	struct outcome o;
	int fd = real_file("to");

	close(fd);
	snprintf(path, sizeof(path), "%s/to", tmpdir);
	expect(fake_rename, -1, EXDEV);
	CALL_HOOK(o, 0, rename("/a", path));
	check_outcome(&o, -1, EXDEV);
	ck_assert_ptr_eq(F.path, path);
	expect(fake_rename, 0, 0);
	CALL_HOOK(o, 1234, rename("/a", path));
	check_outcome(&o, 0, 1234);

	fd = real_file("trunc");
	expect(fake_ftruncate, -1, EINVAL);
	CALL_HOOK(o, 0, ftruncate(fd, -1));
	check_outcome(&o, -1, EINVAL);
	ck_assert_int_eq(F.off, -1);
	expect(fake_ftruncate, 0, 0);
	CALL_HOOK(o, 1234, ftruncate(fd, 10));
	check_outcome(&o, 0, 1234);
	close(fd);
}
END_TEST

/* roar maps memory for its own tables and makes raw syscalls through
 * the table: calls of these besides the test's one are roar's own. */
static void
allow_roar_calls(void)
{
	F.target = NULL;
}

START_TEST(fd_management_pass_through)
{
	struct outcome o;
	int fd = real_file("mm");

	expect(fake_mmap, (long)(intptr_t)MAP_FAILED, ENODEV);
	allow_roar_calls();
	CALL_HOOK(o, 0,
		  (intptr_t)mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0));
	check_outcome(&o, (long)(intptr_t)MAP_FAILED, ENODEV);
	ck_assert_int_eq(F.fd, fd);
	expect(fake_mmap, 0x10000, 0);
	allow_roar_calls();
	CALL_HOOK(o, 1234,
		  (intptr_t)mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0));
	check_outcome(&o, 0x10000, 1234);

	expect(fake_fcntl, -1, EMFILE);
	CALL_HOOK(o, 0, fcntl(fd, F_DUPFD, 100));
	check_outcome(&o, -1, EMFILE);
	ck_assert_int_eq(F.cnt, F_DUPFD);
	expect(fake_fcntl, 0, 0);
	CALL_HOOK(o, 1234, fcntl(fd, F_GETFD));
	check_outcome(&o, 0, 1234);
	close(fd);
}
END_TEST

START_TEST(raw_syscall_passes_through)
{
	struct outcome o;
	char buf[8];
	int fd = real_file("sys");

	expect(fake_syscall, -1, EBADF);
	allow_roar_calls();
	CALL_HOOK(o, 0, syscall(SYS_read, 999, buf, sizeof(buf)));
	check_outcome(&o, -1, EBADF);
	ck_assert_int_eq(F.cnt, SYS_read);
	ck_assert_int_eq(F.fd, 999);
	expect(fake_syscall, 4, 0);
	allow_roar_calls();
	CALL_HOOK(o, 1234, syscall(SYS_read, fd, buf, sizeof(buf)));
	check_outcome(&o, 4, 1234);
	ck_assert(!roar_path_wants((struct roar_path *)roar_fdtable_lookup(fd),
				   ROAR_CREDIT_READ));
	close(fd);
}
END_TEST

/* ---- processes ------------------------------------------------------- */

START_TEST(fork_and_wait_pass_through)
{
	int status = -1;
	struct outcome o;

	expect(fake_fork, -1, EAGAIN);
	CALL_HOOK(o, 0, fork());
	check_outcome(&o, -1, EAGAIN);
	/* The parent's side of a fork that worked: a fork event would go
	 * out (nowhere here); errno kept. */
	expect(fake_fork, 31337, 0);
	CALL_HOOK(o, 1234, fork());
	check_outcome(&o, 31337, 1234);

	expect(fake_waitpid, -1, ECHILD);
	CALL_HOOK(o, 0, waitpid(-1, &status, 0));
	check_outcome(&o, -1, ECHILD);
	ck_assert_int_eq(status, -1);

	F.status_out = 3 << 8;
	expect(fake_waitpid, 31337, 0);
	CALL_HOOK(o, 1234, waitpid(31337, &status, 0));
	check_outcome(&o, 31337, 1234);
	ck_assert_int_eq(status, 3 << 8);
	/* A NULL status pointer is the caller's right. */
	expect(fake_waitpid, 31337, 0);
	CALL_HOOK(o, 1234, waitpid(31337, NULL, 0));
	check_outcome(&o, 31337, 1234);
}
END_TEST

/* Whether the environment the fake saw held want. */
static bool
saw_env(const char *want)
{
	for (size_t i = 0; i < saw.envc; i++)
		if (!strcmp(saw.env[i], want))
			return true;
	return false;
}

START_TEST(exec_failure_keeps_errno)
{
	char *const argv[] = { "prog", "x", NULL };
	char *const envp[] = { "A=1", NULL };
	struct outcome o;

	expect(fake_execve, -1, ENOENT);
	CALL_HOOK(o, 0, execve("/no/such/prog", argv, envp));
	check_outcome(&o, -1, ENOENT);
	ck_assert_str_eq(F.path, "/no/such/prog");
	ck_assert_ptr_eq(F.argv, argv);
	/* The child would have stayed traced. */
	ck_assert(saw_env("A=1"));
	ck_assert(saw_env("LD_PRELOAD=/opt/roar/libroar_preload.so"));

	expect(fake_execve, -1, EACCES);
	CALL_HOOK(o, 1234,
		  execl("/no/such/prog", "prog", "a", "b", (char *)NULL));
	check_outcome(&o, -1, EACCES);
	ck_assert_uint_eq(saw.argc, 3);
	ck_assert_str_eq(saw.argv[0], "prog");
	ck_assert_str_eq(saw.argv[1], "a");
	ck_assert_str_eq(saw.argv[2], "b");

	expect(fake_execve, -1, E2BIG);
	CALL_HOOK(o, 0, execle("/no/such/prog", "prog", (char *)NULL, envp));
	check_outcome(&o, -1, E2BIG);
	ck_assert_uint_eq(saw.argc, 1);
	ck_assert_str_eq(saw.argv[0], "prog");
	ck_assert(saw_env("A=1"));

	/* Not ready: the caller's environment goes through untouched. */
	expect(fake_execve, -1, ENOENT);
	fake_on();
	roar_ready = false;
	errno = 0;
	o.ret = execve("/no/such/prog", argv, envp);
	o.err = errno;
	o.depth = roar_guard_depth;
	fake_off();
	check_outcome(&o, -1, ENOENT);
	ck_assert_ptr_eq(F.envp, envp);
}
END_TEST

START_TEST(posix_spawn_passes_through)
{
	char *const argv[] = { "prog", NULL };
	char *const envp[] = { NULL };
	pid_t pid = -5;
	struct outcome o;

	expect(fake_posix_spawn, ENOENT, 0);
	CALL_HOOK(o, 1234,
		  posix_spawn(&pid, "/no/such", NULL, NULL, argv, envp));
	check_outcome(&o, ENOENT, 1234);
	ck_assert_int_eq(pid, -5);
	ck_assert(saw_env("LD_PRELOAD=/opt/roar/libroar_preload.so"));
}
END_TEST

/* ---- guard and readiness ------------------------------------------------ */

START_TEST(guard_held_passes_straight_through)
{
	int fd = real_file("g");
	char buf[8];
	struct outcome o;

	/* A hook interrupting a hook (signal handler): depth is 1. */
	roar_guard_depth = 1;
	expect(fake_read, 8, 0);
	CALL_HOOK(o, 1234, read(fd, buf, sizeof(buf)));
	ck_assert_int_eq(F.calls, 1);
	ck_assert_int_eq(o.ret, 8);
	ck_assert_int_eq(o.err, 1234);
	ck_assert_uint_eq(o.depth, 1);
	/* No bookkeeping happened. */
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	expect(fake_write, -1, EINTR);
	CALL_HOOK(o, 0, write(fd, buf, sizeof(buf)));
	ck_assert_int_eq(o.ret, -1);
	ck_assert_int_eq(o.err, EINTR);
	roar_guard_depth = 0;
	close(fd);
}
END_TEST

START_TEST(not_ready_passes_straight_through)
{
	int fd = real_file("nr");
	char buf[8];
	ssize_t ret;
	int err;

	expect(fake_read, 8, 0);
	roar_real_override(&fake);
	errno = 1234;
	ret = read(fd, buf, sizeof(buf));
	err = errno;
	roar_real_override(NULL);
	ck_assert_int_eq(F.calls, 1);
	ck_assert_int_eq(ret, 8);
	ck_assert_int_eq(err, 1234);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	close(fd);
}
END_TEST

START_TEST(real_table_is_complete)
{
	/* E3: every entry is the C library's function or an ENOSYS stub,
	 * never NULL. */
	const struct roar_real *r = roar_real_get();
	void *const *slot = (void *const *)r;

	for (size_t i = 0; i < sizeof(*r) / sizeof(void *); i++)
		ck_assert_msg(slot[i] != NULL, "entry %zu is NULL", i);
	/* And override(NULL) goes back to it. */
	roar_real_override(&fake);
	ck_assert_ptr_eq(roar_real_get(), &fake);
	roar_real_override(NULL);
	ck_assert_ptr_eq(roar_real_get(), r);
}
END_TEST

START_TEST(real_table_resolves_to_libc)
{
	/* The table's read is the C library's, not our hook. */
	const struct roar_real *r = roar_real_get();

	ck_assert_ptr_ne((void *)r->read, (void *)read);
	ck_assert_ptr_ne((void *)r->open, (void *)open);
	ck_assert_ptr_ne((void *)r->close, (void *)close);
	ck_assert_ptr_ne((void *)r->execve, (void *)execve);
}
END_TEST

static Suite *
hooks_suite(void)
{
	Suite *s = suite_create("hooks_errno");
	TCase *rw = tcase_create("read_write");
	TCase *op = tcase_create("open");
	TCase *fd = tcase_create("fds");
	TCase *proc = tcase_create("proc");
	TCase *guard = tcase_create("guard");

	tcase_add_checked_fixture(rw, setup, teardown);
	tcase_add_test(rw, read_errors_pass_through);
	tcase_add_test(rw, read_short_count_keeps_errno);
	tcase_add_test(rw, read_success_when_bookkeeping_fails);
	tcase_add_test(rw, read_success_errno_from_real_kept);
	tcase_add_test(rw, read_eof_does_no_bookkeeping);
	tcase_add_test(rw, write_errors_and_short_counts);
	tcase_add_test(rw, positional_and_vector_variants);
	suite_add_tcase(s, rw);

	tcase_add_checked_fixture(op, setup, teardown);
	tcase_add_test(op, open_errors_pass_through);
	tcase_add_test(op, open_success_keeps_errno);
	tcase_add_test(op, open_success_on_fd_we_cannot_resolve);
	tcase_add_test(op, fopen_passes_through);
	tcase_add_test(op, fclose_passes_through);
	suite_add_tcase(s, op);

	tcase_add_checked_fixture(fd, setup, teardown);
	tcase_add_test(fd, close_passes_through);
	tcase_add_test(fd, dup_passes_through);
	tcase_add_test(fd, pipe_and_socket_pass_through);
	tcase_add_test(fd, stdio_movers_pass_through);
	tcase_add_test(fd, names_pass_through);
	tcase_add_test(fd, fd_management_pass_through);
	tcase_add_test(fd, raw_syscall_passes_through);
	suite_add_tcase(s, fd);

	tcase_add_checked_fixture(proc, setup, teardown);
	tcase_add_test(proc, fork_and_wait_pass_through);
	tcase_add_test(proc, exec_failure_keeps_errno);
	tcase_add_test(proc, posix_spawn_passes_through);
	suite_add_tcase(s, proc);

	tcase_add_checked_fixture(guard, setup, teardown);
	tcase_add_test(guard, guard_held_passes_straight_through);
	tcase_add_test(guard, not_ready_passes_straight_through);
	tcase_add_test(guard, real_table_is_complete);
	tcase_add_test(guard, real_table_resolves_to_libc);
	suite_add_tcase(s, guard);
	return s;
}

int
main(void)
{
	return unit_run(hooks_suite());
}
