/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exported shims of the open family, stdio opens, close and dup.  Only
 * shims: the meaning of each call lives in track_file.c.  A call that
 * fails with EMFILE/ENFILE while our connection holds an fd is made once
 * more after the library gave the fd back (roar_hook_fd_retry, hook.h).
 * glibc's fopen and freopen open through internal aliases, not through
 * open's PLT entry, so they are hooked in their own right.
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "hook.h"
#include "open_canon.h"
#include "shell.h"
#include "transport.h"

enum open_call {
	CALL_OPEN,
	CALL_OPEN64,
	CALL_OPENAT,
	CALL_OPENAT64,
	CALL_OPEN_2,
	CALL_OPEN64_2,
	CALL_OPENAT_2,
	CALL_OPENAT64_2,
};

/* musl open.c: the mode argument exists only with O_CREAT or O_TMPFILE. */
static bool
takes_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

static int
call_real(enum open_call c, int dirfd, const char *path, int flags, mode_t mode)
{
	const struct roar_real *r = roar_real_get();

	switch (c) {
	case CALL_OPEN:
		return r->open(path, flags, mode);
	case CALL_OPEN64:
		return r->open64(path, flags, mode);
	case CALL_OPENAT:
		return r->openat(dirfd, path, flags, mode);
	case CALL_OPENAT64:
		return r->openat64(dirfd, path, flags, mode);
	case CALL_OPEN_2:
		return r->__open_2(path, flags);
	case CALL_OPEN64_2:
		return r->__open64_2(path, flags);
	case CALL_OPENAT_2:
		return r->__openat_2(dirfd, path, flags);
	case CALL_OPENAT64_2:
		return r->__openat64_2(dirfd, path, flags);
	}
	__builtin_unreachable();
}

/*
 * The call itself: through openat2 when the name is its own canonical
 * name (open_canon.h; *len then set), else as the program made it.
 * __open_2 and kin abort on O_CREAT without a mode: theirs to do.
 */
static int
attempt(enum open_call c, int dirfd, const char *path, int flags, mode_t mode,
	size_t *len)
{
	int ret = ROAR_CANON_NONE;

	*len = 0;
	if (roar_ready && !roar_in_vfork &&
	    (c < CALL_OPEN_2 || !takes_mode(flags)))
		ret = roar_canon_open(dirfd, path, flags, mode, len);
	if (ret == ROAR_CANON_NONE)
		ret = call_real(c, dirfd, path, flags, mode);
	return ret;
}

static int
do_open(enum open_call c, int dirfd, const char *path, int flags, mode_t mode)
{
	bool created = false;
	size_t len;
	int ret;

	if (roar_ready && roar_track_open_needs_probe(flags)) {
		/* Only O_CREAT without O_EXCL, O_TRUNC or write-only: learn
		 * whether the file is new, without touching errno (E1). */
		int entry_errno = errno;

		created = roar_track_open_probe(dirfd, path);
		errno = entry_errno;
	}
	ret = attempt(c, dirfd, path, flags, mode, &len);
	/* No fd is made (nor the file created) when the table is full. */
	if (ROAR_UNLIKELY(ret < 0) && roar_hook_fd_retry())
		ret = attempt(c, dirfd, path, flags, mode, &len);
	if (ROAR_UNLIKELY(roar_in_vfork) && ret >= 0) {
		int saved = errno;

		roar_track_open_shared(ret, flags, created);
		errno = saved;
	} else if (ret >= 0 && len) {
		ROAR_AFTER_PARK(
			roar_canon_track(ret, path, len, flags, created),
			roar_park_open(ret, flags, created));
	} else if (ret >= 0) {
		ROAR_AFTER_PARK(
			roar_track_open_named(ret, dirfd, path, flags, created),
			roar_park_open(ret, flags, created));
	}
	return ret;
}

#define MODE_ARG(flags, last)              \
	mode_t mode = 0;                   \
	if (takes_mode(flags)) {           \
		va_list ap;                \
		va_start(ap, last);        \
		mode = va_arg(ap, mode_t); \
		va_end(ap);                \
	}

ROAR_EXPORT int
open(const char *path, int flags, ...)
{
	MODE_ARG(flags, flags);
	return do_open(CALL_OPEN, AT_FDCWD, path, flags, mode);
}

ROAR_EXPORT int
open64(const char *path, int flags, ...)
{
	MODE_ARG(flags, flags);
	return do_open(CALL_OPEN64, AT_FDCWD, path, flags, mode);
}

ROAR_EXPORT int
openat(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG(flags, flags);
	return do_open(CALL_OPENAT, dirfd, path, flags, mode);
}

ROAR_EXPORT int
openat64(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG(flags, flags);
	return do_open(CALL_OPENAT64, dirfd, path, flags, mode);
}

ROAR_EXPORT int
__open_2(const char *path, int flags)
{
	return do_open(CALL_OPEN_2, AT_FDCWD, path, flags, 0);
}

ROAR_EXPORT int
__open64_2(const char *path, int flags)
{
	return do_open(CALL_OPEN64_2, AT_FDCWD, path, flags, 0);
}

ROAR_EXPORT int
__openat_2(int dirfd, const char *path, int flags)
{
	return do_open(CALL_OPENAT_2, dirfd, path, flags, 0);
}

ROAR_EXPORT int
__openat64_2(int dirfd, const char *path, int flags)
{
	return do_open(CALL_OPENAT64_2, dirfd, path, flags, 0);
}

#define CREAT_FLAGS (O_WRONLY | O_CREAT | O_TRUNC)

ROAR_EXPORT int
creat(const char *path, mode_t mode)
{
	int ret = ROAR_REAL(creat)(path, mode);

	if (ret < 0 && roar_hook_fd_retry())
		ret = ROAR_REAL(creat)(path, mode);
	if (ret >= 0)
		ROAR_AFTER_PARK(roar_track_open_named(ret, AT_FDCWD, path,
						      CREAT_FLAGS, false),
				roar_park_open(ret, CREAT_FLAGS, false));
	return ret;
}

ROAR_EXPORT int
creat64(const char *path, mode_t mode)
{
	int ret = ROAR_REAL(creat64)(path, mode);

	if (ret < 0 && roar_hook_fd_retry())
		ret = ROAR_REAL(creat64)(path, mode);
	if (ret >= 0)
		ROAR_AFTER_PARK(roar_track_open_named(ret, AT_FDCWD, path,
						      CREAT_FLAGS, false),
				roar_park_open(ret, CREAT_FLAGS, false));
	return ret;
}

static FILE *
after_fopen(FILE *f, const char *path, const char *mode, bool created)
{
	if (f)
		ROAR_AFTER_PARK(
			roar_track_open_named(fileno(f), AT_FDCWD, path,
					      roar_track_fopen_flags(mode),
					      created),
			roar_park_open(fileno(f), roar_track_fopen_flags(mode),
				       created));
	return f;
}

static bool
fopen_probe(const char *path, const char *mode)
{
	bool created = false;

	if (roar_ready &&
	    roar_track_open_needs_probe(roar_track_fopen_flags(mode))) {
		int entry_errno = errno;

		created = roar_track_open_probe(AT_FDCWD, path);
		errno = entry_errno;
	}
	return created;
}

ROAR_EXPORT FILE *
fopen(const char *path, const char *mode)
{
	bool created = fopen_probe(path, mode);
	FILE *f = ROAR_REAL(fopen)(path, mode);

	if (!f && roar_hook_fd_retry())
		f = ROAR_REAL(fopen)(path, mode);
	return after_fopen(f, path, mode, created);
}

ROAR_EXPORT FILE *
fopen64(const char *path, const char *mode)
{
	bool created = fopen_probe(path, mode);
	FILE *f = ROAR_REAL(fopen64)(path, mode);

	if (!f && roar_hook_fd_retry())
		f = ROAR_REAL(fopen64)(path, mode);
	return after_fopen(f, path, mode, created);
}

/* No retry for freopen: it closed the stream's fd before its open
 * failed, so the table had room, and the stream is gone. */
ROAR_EXPORT FILE *
freopen(const char *path, const char *mode, FILE *stream)
{
	bool created = fopen_probe(path, mode);

	return after_fopen(ROAR_REAL(freopen)(path, mode, stream), path, mode,
			   created);
}

ROAR_EXPORT FILE *
freopen64(const char *path, const char *mode, FILE *stream)
{
	bool created = fopen_probe(path, mode);

	return after_fopen(ROAR_REAL(freopen64)(path, mode, stream), path, mode,
			   created);
}

ROAR_EXPORT int
close(int fd)
{
	int ret;

	/* Our connection is not the program's: untraced, this fd would not
	 * be open, so the program gets what it would have got. */
	if (ROAR_UNLIKELY(roar_transport_owns_fd(fd))) {
		errno = EBADF;
		return -1;
	}
	ret = ROAR_REAL(close)(fd);
	ROAR_AFTER_PARK(roar_track_forget(fd), roar_park_forget(fd));
	return ret;
}

ROAR_EXPORT int
fclose(FILE *stream)
{
	int fd = stream ? fileno(stream) : -1;
	int ret;

	if (ROAR_UNLIKELY(stream && roar_ready &&
			  roar_shell_fclose(stream, &ret)))
		return ret;
	ret = ROAR_REAL(fclose)(stream);

	/* glibc's fclose closes through an internal alias, not close(). */
	if (fd >= 0)
		ROAR_AFTER_PARK(roar_track_forget(fd), roar_park_forget(fd));
	return ret;
}

ROAR_EXPORT int
dup(int oldfd)
{
	int ret;

	if (ROAR_UNLIKELY(roar_transport_owns_fd(oldfd))) {
		errno = EBADF;
		return -1;
	}
	ret = ROAR_REAL(dup)(oldfd);
	if (ret < 0 && roar_hook_fd_retry())
		ret = ROAR_REAL(dup)(oldfd);
	if (ret >= 0)
		ROAR_AFTER_PARK(roar_track_dup(oldfd, ret),
				roar_park_forget(ret));
	return ret;
}

static void
vacate(int newfd)
{
	if (ROAR_UNLIKELY(roar_transport_owns_fd(newfd)))
		ROAR_AFTER(roar_transport_vacate(newfd));
}

ROAR_EXPORT int
dup2(int oldfd, int newfd)
{
	int ret;

	if (ROAR_UNLIKELY(roar_transport_owns_fd(oldfd))) {
		errno = EBADF;
		return -1;
	}
	vacate(newfd);
	ret = ROAR_REAL(dup2)(oldfd, newfd);
	if (ret >= 0 && oldfd != newfd)
		ROAR_AFTER_PARK(roar_track_dup(oldfd, newfd),
				roar_park_forget(newfd));
	return ret;
}

ROAR_EXPORT int
dup3(int oldfd, int newfd, int flags)
{
	int ret;

	if (ROAR_UNLIKELY(roar_transport_owns_fd(oldfd))) {
		errno = EBADF;
		return -1;
	}
	vacate(newfd);
	ret = ROAR_REAL(dup3)(oldfd, newfd, flags);
	if (ret >= 0)
		ROAR_AFTER_PARK(roar_track_dup(oldfd, newfd),
				roar_park_forget(newfd));
	return ret;
}

/* Calls that make fds we never credit: the number's old state must go,
 * and the new one needs no lookup when it is read or written. */

#define NOT_FILES(fds)                           \
	do {                                     \
		roar_track_not_a_file((fds)[0]); \
		roar_track_not_a_file((fds)[1]); \
	} while (0)

/* pipe and pipe2: the ends are lineage between processes (protocol.h
 * "Pipes"), learnt lazily on their first read or write. */
#define PIPE_ENDS(fds)                          \
	do {                                    \
		roar_track_pipe_made((fds)[0]); \
		roar_track_pipe_made((fds)[1]); \
	} while (0)

#define PARK_FORGET2(fds)                   \
	do {                                \
		roar_park_forget((fds)[0]); \
		roar_park_forget((fds)[1]); \
	} while (0)

ROAR_EXPORT int
pipe(int fds[2])
{
	int ret = ROAR_REAL(pipe)(fds);

	/* The fds are allocated first: a full table made nothing (accept
	 * leaves the connection queued). */
	if (ret < 0 && roar_hook_fd_retry())
		ret = ROAR_REAL(pipe)(fds);
	if (ret == 0)
		ROAR_AFTER_PARK(PIPE_ENDS(fds), PARK_FORGET2(fds));
	return ret;
}

ROAR_EXPORT int
pipe2(int fds[2], int flags)
{
	int ret = ROAR_REAL(pipe2)(fds, flags);

	/* The fds are allocated first: a full table made nothing (accept
	 * leaves the connection queued). */
	if (ret < 0 && roar_hook_fd_retry())
		ret = ROAR_REAL(pipe2)(fds, flags);
	if (ret == 0)
		ROAR_AFTER_PARK(PIPE_ENDS(fds), PARK_FORGET2(fds));
	return ret;
}

ROAR_EXPORT int
socket(int domain, int type, int protocol)
{
	int ret = ROAR_REAL(socket)(domain, type, protocol);

	/* The fds are allocated first: a full table made nothing (accept
	 * leaves the connection queued). */
	if (ret < 0 && roar_hook_fd_retry())
		ret = ROAR_REAL(socket)(domain, type, protocol);
	if (ret >= 0)
		ROAR_AFTER_PARK(roar_track_not_a_file(ret),
				roar_park_forget(ret));
	return ret;
}

ROAR_EXPORT int
socketpair(int domain, int type, int protocol, int fds[2])
{
	int ret = ROAR_REAL(socketpair)(domain, type, protocol, fds);

	/* The fds are allocated first: a full table made nothing (accept
	 * leaves the connection queued). */
	if (ret < 0 && roar_hook_fd_retry())
		ret = ROAR_REAL(socketpair)(domain, type, protocol, fds);
	if (ret == 0)
		ROAR_AFTER_PARK(NOT_FILES(fds), PARK_FORGET2(fds));
	return ret;
}

ROAR_EXPORT int
accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	int ret = ROAR_REAL(accept)(fd, addr, len);

	/* The fds are allocated first: a full table made nothing (accept
	 * leaves the connection queued). */
	if (ret < 0 && roar_hook_fd_retry())
		ret = ROAR_REAL(accept)(fd, addr, len);
	if (ret >= 0)
		ROAR_AFTER_PARK(roar_track_not_a_file(ret),
				roar_park_forget(ret));
	return ret;
}

ROAR_EXPORT int
accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	int ret = ROAR_REAL(accept4)(fd, addr, len, flags);

	/* The fds are allocated first: a full table made nothing (accept
	 * leaves the connection queued). */
	if (ret < 0 && roar_hook_fd_retry())
		ret = ROAR_REAL(accept4)(fd, addr, len, flags);
	if (ret >= 0)
		ROAR_AFTER_PARK(roar_track_not_a_file(ret),
				roar_park_forget(ret));
	return ret;
}

ROAR_EXPORT int
chdir(const char *path)
{
	int ret = ROAR_REAL(chdir)(path);

	if (ret == 0)
		ROAR_AFTER_PARK(roar_track_chdir(), roar_track_chdir());
	return ret;
}

ROAR_EXPORT int
fchdir(int fd)
{
	int ret = ROAR_REAL(fchdir)(fd);

	if (ret == 0)
		ROAR_AFTER_PARK(roar_track_chdir(), roar_track_chdir());
	return ret;
}
