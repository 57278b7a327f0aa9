/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File credits (README "What the report says": what counts as read and
 * written): which credit an open, a name change or a mapping earns, and
 * the one frame each (path, credit) sends per process.  Builds frames in
 * stack buffers and hands them to transport.c.  No malloc, no stdio; its
 * one lock is cwd_lock (lock.h).  Runs with the guard held.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "roar/protocol.h"
#include "backtrace.h"
#include "event.h"
#include "guard.h"
#include "lock.h"
#include "open_canon.h"
#include "real.h"
#include "session.h"
#include "track.h"
#include "transport.h"

#define FILE_FRAME_SIZE (PATH_MAX + 256)

/* The frame of a name past PATH_MAX (longpath.h), or of a call site
 * naming long module paths, in a mapping of its own: such frames are
 * rare, the caller's stack is not ours. */
static void __attribute__((noinline))
send_long_credit(struct roar_path *p, unsigned credit, const char *via,
		 const struct roar_callsite *cs)
{
	size_t cap = p->len + FILE_FRAME_SIZE + roar_backtrace_frame_bytes(cs);
	unsigned char *buf = roar_map_anon(cap);
	struct roar_frame f;

	if (!buf) {
		roar_transport_count_drop();
		return;
	}
	roar_frame_init(&f, buf, cap);
	if (roar_event_file_at(&f,
			       &(struct roar_event_ids){ roar_session.pid,
							 roar_session_tid() },
			       credit == ROAR_CREDIT_WRITE ? ROAR_KIND_WRITE
							   : ROAR_KIND_READ,
			       p->path, p->len, via, cs) == 0)
		roar_transport_send(f.data, f.len);
	else
		roar_transport_count_drop();
	munmap(buf, cap);
}

/* The one pipe event of this process for pipe record p and credit's
 * direction (protocol.h "Pipes"); claimed by the caller. */
static void __attribute__((noinline))
send_pipe(struct roar_path *p, unsigned credit)
{
	unsigned char buf[128];
	struct roar_frame f;

	roar_frame_init(&f, buf, sizeof(buf));
	if (roar_event_pipe(&f,
			    &(struct roar_event_ids){ roar_session.pid,
						      roar_session_tid() },
			    p->dev, p->ino, credit == ROAR_CREDIT_WRITE) == 0)
		roar_transport_send(f.data, f.len);
	else
		roar_transport_count_drop();
}

/*
 * The first (path, credit) of this process goes out at once, with its
 * call site when wanted (backtrace.h); later ones cost only the claim.
 * A parked credit (a signal handler's call, recorded later) gets no call
 * site: the stack here is not the handler's.
 */
static void
send_credit(struct roar_path *p, unsigned credit, const char *via, bool stack)
{
	unsigned char buf[FILE_FRAME_SIZE];
	struct roar_callsite cs, *csp = NULL;
	struct roar_frame f;
	int rc;

	if (!roar_path_claim(p, credit))
		return;
	if (roar_path_is_pipe(p)) {
		send_pipe(p, credit);
		return;
	}
	if (stack && roar_backtrace_wanted && roar_backtrace_capture(&cs) == 0)
		csp = &cs;
	if (p->len + 256 + roar_backtrace_frame_bytes(csp) > sizeof(buf)) {
		send_long_credit(p, credit, via, csp);
		return;
	}
	roar_frame_init(&f, buf, sizeof(buf));
	rc = roar_event_file_at(&f,
				&(struct roar_event_ids){ roar_session.pid,
							  roar_session_tid() },
				credit == ROAR_CREDIT_WRITE ? ROAR_KIND_WRITE
							    : ROAR_KIND_READ,
				p->path, p->len, via, csp);
	if (rc != 0) {
		roar_transport_count_drop();
		return;
	}
	roar_transport_send(f.data, f.len);
}

void
roar_track_send_credit(struct roar_path *p, unsigned credit, const char *via)
{
	send_credit(p, credit, via, true);
}

bool
roar_track_open_needs_probe(int flags)
{
	return (flags & O_CREAT) && !(flags & (O_EXCL | O_TRUNC | O_APPEND)) &&
	       (flags & O_ACCMODE) != O_WRONLY;
}

bool
roar_track_open_probe(int dirfd, const char *path)
{
	/* faccessat is not hooked; F_OK only asks whether the name exists. */
	return path && faccessat(dirfd, path, F_OK, AT_EACCESS) != 0 &&
	       errno == ENOENT;
}

/*
 * The working directory, cached for turning relative names into absolute
 * ones on the open fast path.  A stale value costs nothing but a miss:
 * every hit is confirmed by device and inode.  chdir bumps cwd_gen
 * without a lock; cwd_lock (lock.h) guards the copy and is never held
 * across the getcwd that refills it.
 */
static struct roar_lock cwd_lock ROAR_HOT = ROAR_LOCK_INIT;
static _Atomic unsigned cwd_gen ROAR_HOT;
static char cwd_buf[PATH_MAX];        /* guarded by cwd_lock */
static size_t cwd_len ROAR_HOT;       /* guarded by cwd_lock; 0: none */
static unsigned cwd_buf_gen ROAR_HOT; /* guarded by cwd_lock */

void
roar_track_chdir(void)
{
	atomic_fetch_add_explicit(&cwd_gen, 1u, memory_order_release);
}

/* Copy the cwd into out (cap bytes); returns its length or 0. */
static size_t
get_cwd(char *out, size_t cap)
{
	unsigned gen = atomic_load_explicit(&cwd_gen, memory_order_acquire);
	size_t n = 0;
	long r;

	roar_lock_take(&cwd_lock);
	if (cwd_len && cwd_buf_gen == gen && cwd_len < cap) {
		memcpy(out, cwd_buf, cwd_len + 1);
		n = cwd_len;
	}
	roar_lock_release(&cwd_lock);
	if (n)
		return n;
	r = ROAR_SYS(SYS_getcwd, out, cap);
	if (r <= 0 || out[0] != '/')
		return 0;
	n = strlen(out);
	roar_lock_take(&cwd_lock);
	if (n < sizeof(cwd_buf) &&
	    atomic_load_explicit(&cwd_gen, memory_order_acquire) == gen) {
		memcpy(cwd_buf, out, n + 1);
		cwd_len = n;
		cwd_buf_gen = gen;
	}
	roar_lock_release(&cwd_lock);
	return n;
}

void
roar_track_prepare(void)
{
	roar_lock_take(&cwd_lock);
}

void
roar_track_parent(void)
{
	roar_lock_release(&cwd_lock);
}

/* Times this process gave its connection's fd back to the program. */
static _Atomic uint64_t fd_yields;

void
roar_track_atfork_child(void)
{
	/* The child has its parent's working directory: keep the copy. */
	roar_lock_reset(&cwd_lock);
	atomic_store(&fd_yields, 0);
}

/* The record for the name an open was given, if it is known to be this
 * file already; else 0. */
static uintptr_t
known_name(int dirfd, const char *path, const struct stat *st)
{
	char buf[PATH_MAX];
	const char *name = path;
	size_t len;
	struct roar_path *p;

	if (!path || !*path)
		return 0;
	len = strlen(path);
	if (path[0] != '/') {
		size_t n;

		if (dirfd != AT_FDCWD)
			return 0;
		n = get_cwd(buf, sizeof(buf));
		if (!n || n + 1 + len >= sizeof(buf))
			return 0;
		if (n > 1)
			buf[n++] = '/';
		memcpy(buf + n, path, len + 1);
		name = buf;
		len += n;
	}
	if (!roar_canonical_form(name, len))
		return 0;
	p = roar_path_lookup(name, len);
	if (!p || p->dev != (uint64_t)st->st_dev ||
	    p->ino != (uint64_t)st->st_ino)
		return 0;
	return (uintptr_t)p;
}

/* The credit an open with these flags earns (0: none yet). */
unsigned
roar_track_open_credit(int flags, bool created)
{
	return roar_open_credit(flags, created);
}

void
roar_track_open_shared(int fd, int flags, bool created)
{
	unsigned credit = roar_track_open_credit(flags, created);
	unsigned char buf[FILE_FRAME_SIZE];
	char name[PATH_MAX];
	struct roar_frame f;
	struct stat st;
	ssize_t len;

	if (!credit || !roar_ready || fstat(fd, &st) != 0)
		return;
	len = roar_fdtable_read_name(fd, &st, name, sizeof(name));
	if (len < 0)
		return;
	roar_frame_init(&f, buf, sizeof(buf));
	if (roar_event_file(
		    &f,
		    &(struct roar_event_ids){ (pid_t)ROAR_SYS(SYS_getpid),
					      (pid_t)ROAR_SYS(SYS_gettid) },
		    credit == ROAR_CREDIT_WRITE ? ROAR_KIND_WRITE
						: ROAR_KIND_READ,
		    name, (size_t)len, ROAR_VIA_OPEN) == 0)
		roar_transport_send_oneshot(f.data, f.len);
	else
		roar_transport_count_drop();
}

void
roar_track_open_named(int fd, int dirfd, const char *path, int flags,
		      bool created)
{
	struct stat st;
	uintptr_t v;
	unsigned credit;

	/* Always learn afresh: the slot may be stale if the previous owner
	 * of this number was closed by a call we do not see. */
	if (fstat(fd, &st) != 0)
		return;
	if (S_ISFIFO(st.st_mode)) {
		/* A named FIFO: lineage once bytes move, as a pipe's. */
		roar_fdtable_set(fd, roar_fdtable_pipe(&st));
		return;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink == 0)
		v = ROAR_FD_IGNORED;
	else if (!(v = known_name(dirfd, path, &st)))
		v = roar_fdtable_name_at(fd, &st, dirfd, path);
	roar_fdtable_set(fd, v);
	credit = roar_track_open_credit(flags, created);
	if (v > ROAR_FD_IGNORED && credit)
		roar_track_send_credit((struct roar_path *)v, credit,
				       ROAR_VIA_OPEN);
}

void
roar_track_open(int fd, int flags, bool created)
{
	roar_track_open_named(fd, AT_FDCWD, NULL, flags, created);
}

int
roar_track_fopen_flags(const char *mode)
{
	int flags;

	if (!mode || !*mode)
		return O_RDONLY;
	switch (mode[0]) {
	case 'w':
		flags = O_WRONLY | O_CREAT | O_TRUNC;
		break;
	case 'a':
		flags = O_WRONLY | O_CREAT | O_APPEND;
		break;
	default:
		flags = O_RDONLY;
		break;
	}
	for (const char *m = mode + 1; *m && *m != ','; m++) {
		if (*m == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*m == 'x')
			flags |= O_EXCL;
	}
	return flags;
}

void
roar_track_forget(int fd)
{
	if (roar_fdtable_lookup(fd) != ROAR_FD_UNKNOWN)
		roar_fdtable_set(fd, ROAR_FD_UNKNOWN);
}

void
roar_track_not_a_file(int fd)
{
	roar_fdtable_set(fd, ROAR_FD_IGNORED);
}

void
roar_track_pipe_made(int fd)
{
	/* Learnt on its first read or write (roar_fdtable_resolve), so a
	 * pipe no one uses costs no fstat. */
	roar_fdtable_set(fd, ROAR_FD_UNKNOWN);
}

void
roar_track_dup(int oldfd, int newfd)
{
	roar_fdtable_set(newfd, roar_fdtable_lookup(oldfd));
}

void
roar_track_path(int dirfd, const char *path, unsigned credit, bool follow,
		const char *via)
{
	const struct roar_real *r = roar_real_get();
	struct stat st;
	uintptr_t v;
	int fd;

	if (!path)
		return;
	/* O_PATH opens nothing for I/O and touches no data: it only lets
	 * the kernel resolve the name as the call just did. */
	fd = r->openat(dirfd, path,
		       O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW), 0);
	if (fd < 0)
		return;
	v = fstat(fd, &st) == 0 ? roar_fdtable_name_at(fd, &st, dirfd, path)
				: ROAR_FD_UNKNOWN;
	r->close(fd);
	if (v > ROAR_FD_IGNORED)
		roar_track_send_credit((struct roar_path *)v, credit, via);
}

void
roar_track_mmap(int fd, int prot, int flags)
{
	int type = flags & MAP_TYPE;

	if ((prot & PROT_WRITE) &&
	    (type == MAP_SHARED || type == MAP_SHARED_VALIDATE))
		roar_track_fd(fd, ROAR_CREDIT_WRITE);
	if (prot & PROT_READ)
		roar_track_fd(fd, ROAR_CREDIT_READ);
}

void
roar_track_closed_range(unsigned first, unsigned last)
{
	int conn = roar_transport_fd();

	roar_fdtable_forget_range(first, last);
	if (conn >= 0 && (unsigned)conn >= first && (unsigned)conn <= last)
		roar_transport_fd_lost(conn);
}


void
roar_track_parked(const char *name, size_t len, unsigned credit,
		  const char *via)
{
	struct roar_path *p;

	if (!credit)
		return;
	p = roar_path_intern(name, len);
	if (!p) {
		roar_transport_count_drop();
		return;
	}
	if (credit & ROAR_CREDIT_READ)
		send_credit(p, ROAR_CREDIT_READ, via, false);
	if (credit & ROAR_CREDIT_WRITE)
		send_credit(p, ROAR_CREDIT_WRITE, via, false);
}

bool
roar_track_yield_fd(void)
{
	int saved = errno;
	bool yielded = false;

	/* In a vfork child the connection is the parent's; inside our own
	 * bookkeeping (a signal handler's call) send_lock may be held. */
	if (roar_transport_fd() < 0 || !roar_guard_enter_book())
		return false;
	if (roar_transport_starve(true) == 0) {
		atomic_fetch_add(&fd_yields, 1);
		yielded = true;
	}
	roar_guard_leave_book();
	errno = saved;
	return yielded;
}

uint64_t
roar_track_fd_yields(void)
{
	return atomic_load(&fd_yields);
}
