/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The meaning of calls (shared/ROAR_COMPAT.md "What counts"): which credit
 * an open earns, what fork, exec and exit announce, and how an exec's
 * environment is mended so the child stays traced.  Builds events in stack
 * buffers and hands them to transport.c.  No malloc, no stdio, no locks of
 * its own.
 */
#include "real.h"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "event.h"
#include "log.h"
#include "session.h"
#include "track.h"
#include "transport.h"

#define FILE_FRAME_SIZE (PATH_MAX + 256)
#define EXEC_FRAME_SIZE (16u * 1024u)

/* Send f (built with result rc).  self: the caller is known to be the
 * session's process; otherwise a getpid decides (vfork children). */
static void
send_frame(struct roar_frame *f, int rc, bool self)
{
	if (rc != 0) {
		roar_transport_count_drop();
		return;
	}
	if (self || roar_session_is_self())
		roar_transport_send(f->data, f->len);
	else
		roar_transport_send_oneshot(f->data, f->len);
}

/* The identity of whoever runs now: in a vfork child that is not the
 * session's pid, and the session must not be touched. */
static struct roar_event_ids
current_ids(void)
{
	pid_t pid = (pid_t)roar_sys(SYS_getpid);

	if (pid == roar_session.pid)
		return roar_session_ids();
	return (struct roar_event_ids){ pid, (pid_t)roar_sys(SYS_gettid) };
}

void
roar_track_send_credit(struct roar_path *p, unsigned credit, const char *via)
{
	unsigned char buf[FILE_FRAME_SIZE];
	struct roar_frame f;
	int rc;

	if (!roar_path_claim(p, credit))
		return;
	roar_frame_init(&f, buf, sizeof(buf));
	rc = roar_event_file(&f, &(struct roar_event_ids){
				     roar_session.pid, roar_session_tid() },
			     credit == ROAR_CREDIT_WRITE ? ROAR_KIND_WRITE
							 : ROAR_KIND_READ,
			     p->path, p->len, via);
	if (rc != 0) {
		roar_transport_count_drop();
		return;
	}
	roar_transport_send(f.data, f.len);
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
 * every hit is confirmed by device and inode.  cwd_lock is a spin lock
 * taken with the guard held, never across a call that blocks.
 */
static char cwd_buf[PATH_MAX];
static size_t cwd_len;
static bool cwd_valid;
static atomic_flag cwd_lock = ATOMIC_FLAG_INIT;

void
roar_track_chdir(void)
{
	while (atomic_flag_test_and_set_explicit(&cwd_lock, memory_order_acquire))
		;
	cwd_valid = false;
	atomic_flag_clear_explicit(&cwd_lock, memory_order_release);
}

/* Copy the cwd into out (cap bytes); returns its length or 0. */
static size_t
get_cwd(char *out, size_t cap)
{
	size_t n = 0;

	while (atomic_flag_test_and_set_explicit(&cwd_lock, memory_order_acquire))
		;
	if (!cwd_valid) {
		long r = roar_sys(SYS_getcwd, cwd_buf, sizeof(cwd_buf));

		cwd_valid = r > 0 && cwd_buf[0] == '/';
		cwd_len = cwd_valid ? strlen(cwd_buf) : 0;
	}
	if (cwd_valid && cwd_len < cap) {
		memcpy(out, cwd_buf, cwd_len + 1);
		n = cwd_len;
	}
	atomic_flag_clear_explicit(&cwd_lock, memory_order_release);
	return n;
}

/* An absolute name with no ".", ".." or empty component. */
static bool
canonical_form(const char *p, size_t len)
{
	if (len < 2 || p[0] != '/' || p[len - 1] == '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '/')
			continue;
		if (p[i + 1] == '/' ||
		    (p[i + 1] == '.' && (p[i + 2] == '/' || p[i + 2] == '\0')) ||
		    (p[i + 1] == '.' && p[i + 2] == '.' &&
		     (p[i + 3] == '/' || p[i + 3] == '\0')))
			return false;
	}
	return true;
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
	if (!canonical_form(name, len))
		return 0;
	p = roar_path_lookup(name, len);
	if (!p || p->dev != (uint64_t)st->st_dev ||
	    p->ino != (uint64_t)st->st_ino)
		return 0;
	return (uintptr_t)p;
}

void
roar_track_open_named(int fd, int dirfd, const char *path, int flags,
		      bool created)
{
	struct stat st;
	uintptr_t v;
	int acc = flags & O_ACCMODE;

	/* Always learn afresh: the slot may be stale if the previous owner
	 * of this number was closed by a call we do not see. */
	if (fstat(fd, &st) != 0)
		return;
	if (!S_ISREG(st.st_mode) || st.st_nlink == 0)
		v = ROAR_FD_IGNORED;
	else if (!(v = known_name(dirfd, path, &st)))
		v = roar_fdtable_name_stat(fd, &st);
	roar_fdtable_set(fd, v);
	if (v <= ROAR_FD_IGNORED)
		return;
	if (acc == O_WRONLY || (flags & (O_TRUNC | O_APPEND)) || created ||
	    ((flags & O_CREAT) && (flags & O_EXCL)))
		roar_track_send_credit((struct roar_path *)v, ROAR_CREDIT_WRITE,
				       "open");
	else if (acc == O_RDONLY)
		roar_track_send_credit((struct roar_path *)v, ROAR_CREDIT_READ,
				       "open");
	/* O_RDWR alone earns nothing until bytes move (roar's rule). */
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
roar_track_dup(int oldfd, int newfd)
{
	roar_fdtable_set(newfd, roar_fdtable_lookup(oldfd));
}

void
roar_track_fork_child(pid_t ppid)
{
	unsigned char buf[512];
	struct roar_frame f;
	struct roar_hello h = {
		.ppid = ppid,
		.origin = ROAR_ORIGIN_FORK,
		.time = roar_session_now(),
	};

	roar_session_atfork_child((pid_t)roar_sys(SYS_getpid));
	roar_fdtable_atfork_child();
	roar_transport_atfork_child();
	roar_frame_init(&f, buf, sizeof(buf));
	send_frame(&f, roar_event_hello(&f, &(struct roar_event_ids){
					      roar_session.pid,
					      roar_session.pid },
				      &h), true);
}

void
roar_track_fork_parent(pid_t child)
{
	unsigned char buf[128];
	struct roar_frame f;

	roar_frame_init(&f, buf, sizeof(buf));
	send_frame(&f, roar_event_fork(&f, &(struct roar_event_ids){
					     roar_session.pid,
					     roar_session_tid() },
				     child), true);
}

void
roar_track_spawned(pid_t child, const char *file, char *const argv[],
		   double time)
{
	static char *const empty[] = { NULL };
	unsigned char buf[EXEC_FRAME_SIZE];
	struct roar_frame f;

	roar_track_fork_parent(child);
	/* The exec happens in the child, inside glibc, where no hook sees
	 * it: announce it on the child's behalf. */
	roar_frame_init(&f, buf, sizeof(buf));
	send_frame(&f, roar_event_exec(&f, &(struct roar_event_ids){
					     child, child },
				     file ? file : "", argv ? argv : empty,
				     time), true);
}

double
roar_track_exec(const char *exe, char *const argv[])
{
	static char *const empty[] = { NULL };
	unsigned char buf[EXEC_FRAME_SIZE];
	struct roar_event_ids ids = current_ids();
	struct roar_frame f;
	double t = roar_session_now();

	roar_frame_init(&f, buf, sizeof(buf));
	send_frame(&f, roar_event_exec(&f, &ids, exe ? exe : "",
				       argv ? argv : empty, t),
		   ids.pid == roar_session.pid);
	return t;
}

void
roar_track_exec_failed(int err, double time)
{
	unsigned char buf[128];
	struct roar_event_ids ids = current_ids();
	struct roar_frame f;

	roar_frame_init(&f, buf, sizeof(buf));
	send_frame(&f, roar_event_exec_failed(&f, &ids, err, time),
		   ids.pid == roar_session.pid);
}

void
roar_track_exit(int status)
{
	unsigned char buf[128];
	struct roar_event_ids ids = current_ids();
	struct roar_frame f;

	roar_frame_init(&f, buf, sizeof(buf));
	send_frame(&f, roar_event_exit(&f, &ids, status, roar_session_now()),
		   ids.pid == roar_session.pid);
	if (ids.pid == roar_session.pid)
		roar_transport_close();
}

void
roar_track_reaped(pid_t child, int status)
{
	unsigned char buf[128];
	struct roar_event_ids ids = current_ids();
	struct roar_frame f;

	roar_frame_init(&f, buf, sizeof(buf));
	send_frame(&f, roar_event_reaped(&f, &ids, child, status),
		   ids.pid == roar_session.pid);
}

size_t
roar_track_count(char *const v[])
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static bool
has_prefix(const char *s, const char *prefix, size_t len)
{
	return strncmp(s, prefix, len) == 0;
}

/* Whether the LD_PRELOAD value lists our library (colon or space lists,
 * as ld.so accepts both; roar's Ray worker joins with spaces). */
static bool
lists_us(const char *value)
{
	const char *lib = roar_session.lib_path;
	const char *base = strrchr(lib, '/');
	size_t blen;

	base = base ? base + 1 : lib;
	blen = strlen(base);
	for (const char *p = value; *p;) {
		size_t n = strcspn(p, ": ");
		const char *slash = NULL;

		for (size_t i = 0; i < n; i++)
			if (p[i] == '/')
				slash = p + i;
		const char *name = slash ? slash + 1 : p;
		size_t nlen = n - (size_t)(name - p);
		if (n && nlen == blen && !memcmp(name, base, blen))
			return true;
		p += n;
		if (*p)
			p++;
	}
	return false;
}

char *const *
roar_track_doctor_env(char *const envp[], char **out, char *buf,
		      size_t bufcap)
{
	static const char pre[] = "LD_PRELOAD=";
	static const char sock[] = ROAR_ENV_SOCK "=";
	size_t n = 0, k = 0;
	bool have_pre = false, have_sock = false, changed = false;

	if (!roar_session.lib_path[0])
		return envp;
	for (; envp && envp[n]; n++) {
		const char *e = envp[n];

		if (has_prefix(e, pre, sizeof(pre) - 1)) {
			const char *v = e + sizeof(pre) - 1;
			size_t need = sizeof(pre) + strlen(roar_session.lib_path) +
				      strlen(v) + 2;

			have_pre = true;
			if (!lists_us(v) && need <= bufcap) {
				/* Ours first, what was there kept after it. */
				char *w = buf;

				memcpy(w, pre, sizeof(pre) - 1);
				w += sizeof(pre) - 1;
				strcpy(w, roar_session.lib_path);
				w += strlen(w);
				if (*v) {
					*w++ = ':';
					strcpy(w, v);
				}
				out[k++] = buf;
				changed = true;
				continue;
			}
		} else if (has_prefix(e, sock, sizeof(sock) - 1)) {
			have_sock = true;
		}
		out[k++] = (char *)e;
	}
	if (!have_pre && roar_session.env_preload[0]) {
		out[k++] = roar_session.env_preload;
		changed = true;
	}
	if (!have_sock && roar_session.have_sock) {
		out[k++] = roar_session.env_sock;
		changed = true;
	}
	out[k] = NULL;
	return changed ? out : envp;
}

void
roar_track_path(int dirfd, const char *path, unsigned credit, bool follow,
		const char *via)
{
	const struct roar_real *r = roar_real_get();
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
	v = roar_fdtable_name(fd);
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

bool
roar_track_syscall_probe(long nr, const long a[6], bool *created)
{
	int flags, dirfd = AT_FDCWD;
	const char *path;

	switch (nr) {
#ifdef SYS_open
	case SYS_open:
		path = (const char *)a[0];
		flags = (int)a[1];
		break;
#endif
	case SYS_openat:
		dirfd = (int)a[0];
		path = (const char *)a[1];
		flags = (int)a[2];
		break;
	case SYS_openat2:
		dirfd = (int)a[0];
		path = (const char *)a[1];
		if (!a[2] || (size_t)a[3] < sizeof(uint64_t))
			return false;
		flags = (int)((const struct open_how *)a[2])->flags;
		break;
	default:
		return false;
	}
	if (!roar_track_open_needs_probe(flags))
		return false;
	*created = roar_track_open_probe(dirfd, path);
	return true;
}

/* Credit a pair of fds that bytes moved between. */
static void
moved(int in, int out)
{
	roar_track_fd(in, ROAR_CREDIT_READ);
	roar_track_fd(out, ROAR_CREDIT_WRITE);
}

void
roar_track_syscall(long nr, const long a[6], long ret, bool created)
{
	int fd = (int)a[0];

	switch (nr) {
#ifdef SYS_open
	case SYS_open:
		roar_track_open_named((int)ret, AT_FDCWD, (const char *)a[0],
				      (int)a[1], created);
		break;
#endif
#ifdef SYS_creat
	case SYS_creat:
		roar_track_open((int)ret, O_WRONLY | O_CREAT | O_TRUNC, false);
		break;
#endif
	case SYS_openat:
		roar_track_open_named((int)ret, (int)a[0], (const char *)a[1],
				      (int)a[2], created);
		break;
	case SYS_chdir:
	case SYS_fchdir:
		roar_track_chdir();
		break;
	case SYS_openat2:
		if (a[2] && (size_t)a[3] >= sizeof(uint64_t))
			roar_track_open((int)ret,
					(int)((const struct open_how *)a[2])->flags,
					created);
		break;
	case SYS_read:
	case SYS_pread64:
	case SYS_readv:
	case SYS_preadv:
	case SYS_preadv2:
		if (ret > 0)
			roar_track_fd(fd, ROAR_CREDIT_READ);
		break;
	case SYS_write:
	case SYS_pwrite64:
	case SYS_writev:
	case SYS_pwritev:
	case SYS_pwritev2:
		if (ret > 0)
			roar_track_fd(fd, ROAR_CREDIT_WRITE);
		break;
	case SYS_splice:
	case SYS_copy_file_range:
		if (ret > 0)
			moved(fd, (int)a[2]);
		break;
	case SYS_sendfile:
		if (ret > 0)
			moved((int)a[1], fd);
		break;
	case SYS_ftruncate:
		roar_track_fd(fd, ROAR_CREDIT_WRITE);
		break;
	case SYS_truncate:
		roar_track_path(AT_FDCWD, (const char *)a[0], ROAR_CREDIT_WRITE,
				true, "truncate");
		break;
#ifdef SYS_rename
	case SYS_rename:
		roar_track_path(AT_FDCWD, (const char *)a[1], ROAR_CREDIT_WRITE,
				false, "rename");
		break;
#endif
	case SYS_renameat:
	case SYS_renameat2:
		roar_track_path((int)a[2], (const char *)a[3], ROAR_CREDIT_WRITE,
				false, "rename");
		break;
#ifdef SYS_link
	case SYS_link:
		roar_track_path(AT_FDCWD, (const char *)a[1], ROAR_CREDIT_WRITE,
				false, "link");
		break;
#endif
	case SYS_linkat:
		roar_track_path((int)a[2], (const char *)a[3], ROAR_CREDIT_WRITE,
				false, "link");
		break;
	case SYS_close:
		roar_track_forget(fd);
		roar_transport_fd_lost(fd);
		break;
	case SYS_close_range:
		if (!((unsigned)a[2] & CLOSE_RANGE_CLOEXEC))
			roar_track_closed_range((unsigned)a[0], (unsigned)a[1]);
		break;
	case SYS_dup:
		roar_track_dup(fd, (int)ret);
		break;
#ifdef SYS_dup2
	case SYS_dup2:
#endif
	case SYS_dup3:
		roar_transport_fd_lost((int)a[1]);
		roar_track_dup(fd, (int)a[1]);
		break;
	case SYS_mmap:
		if (!((int)a[3] & MAP_ANONYMOUS) && (int)a[4] >= 0)
			roar_track_mmap((int)a[4], (int)a[2], (int)a[3]);
		break;
	default:
		break;
	}
}

void
roar_track_restore_environ(void)
{
	const char *pre = getenv("LD_PRELOAD");
	const char *sock = getenv(ROAR_ENV_SOCK);

	/* putenv keeps our static strings themselves: nothing allocated
	 * per call, and they live as long as the process. */
	if ((!pre || !lists_us(pre)) && roar_session.env_preload[0])
		putenv(roar_session.env_preload);
	if (!sock && roar_session.have_sock)
		putenv(roar_session.env_sock);
}
