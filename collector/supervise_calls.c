/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What each watched call means (supervise.h): the same credits as the
 * library's hooks ("What counts" in docs/roar-compat.md), from the call's
 * arguments and from what /proc says of the process.
 *
 * Facts relied on:
 * - A notification names the calling thread (seccomp_notif.pid, a tid in
 *   our PID namespace); /proc/TID/status gives its Tgid and PPid.
 * - process_vm_readv reads the caller's memory with the permission of a
 *   ptrace attach (same user and, under Yama 1, an ancestor), without
 *   ptrace.  What we read can change under us (another thread); what the
 *   kernel then uses is its own copy.  Good enough for lineage, never for
 *   security; SECCOMP_IOCTL_NOTIF_ID_VALID after the read tells that the
 *   pid was not reused meanwhile.
 * - A call let go on (SECCOMP_USER_NOTIF_FLAG_CONTINUE) gives us no
 *   result.  So an open is judged after it returned, at the thread's
 *   next watched call (or its process's end): the file it named is
 *   opened O_PATH (no content, no FIFO blocking) and, when it is a
 *   regular file, credited by its canonical name.  An exec happened when
 *   the process's auxiliary vector changed (a new image has a new stack,
 *   hence new AT_RANDOM and AT_EXECFN addresses).
 * - /proc/PID/fd/N names the open file as the kernel does (the
 *   canonical path, or "pipe:[INODE]", "socket:[...]", "anon_inode:...").
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

#include "roar/clock.h"
#include "roar/credit.h"
#include "roar/image.h"
#include "event.h"
#include "supervise_int.h"

/* A frame for a file or small event; hellos get their own buffer. */
#define SMALL_FRAME (PATH_MAX + 512)
#define HELLO_FRAME (1u << 20)
/* argv and environ read from /proc for a hello: at most this much. */
#define PROC_LIST_MAX (512u << 10)
#define LIST_ENTRIES_MAX 16384u

static bool is_our_library(const char *path);
static bool is_loader_file(const char *path);

/* ---- frames ------------------------------------------------------------ */

static void
emit_frame(struct roar_sup *s, struct roar_frame *f, int rc)
{
	if (rc == 0)
		roar_sup_emit(s, f->data, f->len);
}

static void
emit_file(struct roar_sup *s, const struct sup_proc *p, pid_t tid,
	  enum roar_kind kind, const char *path, const char *via)
{
	unsigned char buf[SMALL_FRAME];
	struct roar_frame f;

	roar_frame_init(&f, buf, sizeof(buf));
	emit_frame(s, &f,
		   roar_event_file(&f, &(struct roar_event_ids){ p->pid, tid },
				   kind, path, strlen(path), via));
}

static void
emit_unseen(struct roar_sup *s, const struct sup_proc *p, const char *what)
{
	unsigned char buf[256];
	struct roar_frame f;

	roar_frame_init(&f, buf, sizeof(buf));
	emit_frame(s, &f,
		   roar_event_unseen(&f,
				     &(struct roar_event_ids){ p->pid, p->pid },
				     what, 0));
}

/* ---- /proc ------------------------------------------------------------- */

static ssize_t
read_small(const char *path, void *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, got = 0;

	if (fd < 0)
		return -1;
	while ((size_t)got < cap &&
	       (n = read(fd, (char *)buf + got, cap - (size_t)got)) > 0)
		got += n;
	close(fd);
	return got;
}

static ssize_t
proc_link(pid_t pid, const char *what, char *out, size_t cap)
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
static long
status_field(const char *status, const char *name)
{
	const char *at = strstr(status, name);

	return at ? strtol(at + strlen(name), NULL, 10) : -1;
}

/* ---- memory of the caller ------------------------------------------------ */

/* A NUL-terminated string at addr of tid, into buf; its length or -1. */
static ssize_t
read_string(pid_t tid, uint64_t addr, char *buf, size_t cap)
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

static bool
read_mem(pid_t tid, uint64_t addr, void *out, size_t len)
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
static bool
absolute(pid_t pid, int dirfd, const char *path, char *out, size_t cap)
{
	char base[PATH_MAX];
	size_t n;

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
	if (dirfd == AT_FDCWD) {
		if (proc_link(pid, "cwd", base, sizeof(base)) < 0)
			return false;
	} else {
		char what[32];

		snprintf(what, sizeof(what), "fd/%d", dirfd);
		if (proc_link(pid, what, base, sizeof(base)) < 0 ||
		    base[0] != '/')
			return false;
	}
	n = strlen(base);
	if (n + 1 + strlen(path) >= cap)
		return false;
	memcpy(out, base, n);
	out[n] = '/';
	strcpy(out + n + 1, path);
	clean(out);
	return true;
}

/* The path argument at arg of the call, resolved from dirfd. */
static bool
path_arg(struct roar_sup *s, struct sup_proc *p, pid_t tid, int dirfd,
	 uint64_t arg, char *out, size_t cap)
{
	char raw[PATH_MAX];

	if (read_string(tid, arg, raw, sizeof(raw)) < 0) {
		s->st.unreadable++;
		if (!p->said_memory && errno == EPERM) {
			p->said_memory = true;
			emit_unseen(s, p, ROAR_UNSEEN_MEMORY);
		}
		return false;
	}
	if (!raw[0])
		return false;
	return absolute(p->pid, dirfd, raw, out, cap);
}

/*
 * The canonical name of the regular file at abs (its last component
 * followed or not), as the kernel names it once opened; false when there
 * is none (gone, not a regular file, unlinked).
 */
static bool
canonical_file(const char *abs, bool follow, char *out, size_t cap)
{
	char link[64];
	struct stat st;
	ssize_t n;
	int fd = open(abs, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));

	if (fd < 0)
		return false;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink == 0) {
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

/* ---- processes and tasks ------------------------------------------------ */

static struct sup_proc *
proc_find(struct roar_sup *s, pid_t pid)
{
	return roar_map_get(&s->procs, (uint64_t)pid);
}

static struct sup_proc *
proc_new(struct roar_sup *s, pid_t pid, pid_t ppid, enum sup_mode mode)
{
	struct sup_proc *p = roar_xcalloc(1, sizeof(*p));

	p->pid = pid;
	p->ppid = ppid;
	p->mode = mode;
	roar_map_put(&s->procs, (uint64_t)pid, p);
	return p;
}

static void
op_clear(struct roar_sup *s, struct sup_op *op)
{
	if (op->kind != SUP_OP_NONE)
		s->npending--;
	free(op->path);
	memset(op, 0, sizeof(*op));
}

static void
proc_free(struct roar_sup *s, struct sup_proc *p)
{
	struct sup_task *t = p->tasks;

	while (t) {
		struct sup_task *next = t->next;

		op_clear(s, &t->op);
		roar_map_put(&s->tasks, (uint64_t)t->tid, NULL);
		free(t);
		t = next;
	}
	if (p->exec_pending)
		s->npending--;
	roar_map_put(&s->procs, (uint64_t)p->pid, NULL);
	free(p->exec_path);
	free(p->fds);
	free(p);
}

void
roar_sup_track(struct roar_sup *s, pid_t pid)
{
	struct sup_proc *p = proc_find(s, pid);

	if (p)
		proc_free(s, p);
	proc_new(s, pid, 0, SUP_PRELOAD);
}

/* Split a NUL-separated list (cmdline, environ) into v; entries kept. */
static size_t
split_list(char *buf, size_t len, char **v, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < max;) {
		v[n++] = buf + i;
		i += strnlen(buf + i, len - i) + 1;
	}
	v[n] = NULL;
	return n;
}

/* A fork child's hello: it runs its parent's image from fork_time. */
static void
say_fork_hello(struct roar_sup *s, struct sup_proc *p, pid_t tid, double time,
	       bool late)
{
	unsigned char buf[SMALL_FRAME];
	struct roar_frame f;
	struct roar_hello h = { .ppid = p->ppid,
				.origin = ROAR_ORIGIN_FORK,
				.time = time,
				.late = late };

	roar_frame_init(&f, buf, sizeof(buf));
	emit_frame(s, &f,
		   roar_event_hello(&f, &(struct roar_event_ids){ p->pid, tid },
				    &h));
}

/* A new image's hello: argv, environment, cwd and exe from /proc. */
static void
say_exec_hello(struct roar_sup *s, struct sup_proc *p)
{
	char path[64], cwd[PATH_MAX], exe[PATH_MAX];
	char *cmd = roar_xmalloc(PROC_LIST_MAX + 1);
	char *env = roar_xmalloc(PROC_LIST_MAX + 1);
	char **argv = roar_xcalloc(LIST_ENTRIES_MAX + 1, sizeof(char *));
	char **envp = roar_xcalloc(LIST_ENTRIES_MAX + 1, sizeof(char *));
	unsigned char *buf = roar_xmalloc(HELLO_FRAME);
	struct roar_frame f;
	struct roar_hello h = { .ppid = p->ppid,
				.origin = ROAR_ORIGIN_EXEC,
				.argv = argv,
				.envp = envp,
				.time = roar_now() };
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)p->pid);
	n = read_small(path, cmd, PROC_LIST_MAX);
	split_list(cmd, n > 0 ? (size_t)n : 0, argv, LIST_ENTRIES_MAX);
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)p->pid);
	n = read_small(path, env, PROC_LIST_MAX);
	split_list(env, n > 0 ? (size_t)n : 0, envp, LIST_ENTRIES_MAX);
	if (proc_link(p->pid, "cwd", cwd, sizeof(cwd)) >= 0)
		h.cwd = cwd;
	if (proc_link(p->pid, "exe", exe, sizeof(exe)) >= 0)
		h.exe = exe;
	else if (p->exec_path)
		h.exe = p->exec_path;
	roar_frame_init(&f, buf, HELLO_FRAME);
	emit_frame(s, &f,
		   roar_event_hello(
			   &f, &(struct roar_event_ids){ p->pid, p->pid }, &h));
	free(buf);
	free(argv);
	free(envp);
	free(cmd);
	free(env);
}

/* Who reports the image at path: from its verdict (image.h). */
static enum sup_mode
mode_of(const char *path)
{
	struct roar_image img;

	if (!path || roar_image_inspect(&roar_image_io_libc, path, &img) != 0)
		return SUP_OWN;
	return roar_image_tracer(&img) == ROAR_TRACER_PRELOAD ? SUP_PENDING
							      : SUP_OWN;
}

static ssize_t
read_auxv(pid_t pid, unsigned char *buf)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	return read_small(path, buf, SUP_AUXV_MAX);
}

/* The likeliest reason an exec of path failed (the call's own result is
 * not ours to see). */
static int
exec_errno(const char *path)
{
	struct stat st;

	if (!path || stat(path, &st) != 0)
		return ENOENT;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0)
		return EACCES;
	return ENOEXEC;
}

/* Did the exec p let go happen?  Judge it now. */
static void
settle_exec(struct roar_sup *s, struct sup_proc *p)
{
	unsigned char now[SUP_AUXV_MAX];
	ssize_t n;

	if (!p->exec_pending)
		return;
	p->exec_pending = false;
	s->npending--;
	n = read_auxv(p->pid, now);
	if (n < 0 ||
	    ((size_t)n == p->auxv_len && !memcmp(now, p->auxv, (size_t)n))) {
		/* It failed (or the process is gone): the image goes on. */
		if (p->mode == SUP_OWN) {
			unsigned char buf[256];
			struct roar_frame f;

			roar_frame_init(&f, buf, sizeof(buf));
			emit_frame(
				s, &f,
				roar_event_exec_failed(&f,
						       &(struct roar_event_ids){
							       p->pid, p->pid },
						       exec_errno(p->exec_path),
						       roar_now()));
		}
		return;
	}
	/* A new image: every fd credit starts again. */
	memset(p->fds, 0, p->nfds);
	p->loading = true;
	p->mode = mode_of(p->exec_path);
	if (p->mode == SUP_OWN)
		say_exec_hello(s, p);
}

/* The outcome of t's last call, now that it returned. */
static void
settle_op(struct roar_sup *s, struct sup_task *t)
{
	struct sup_op *op = &t->op;
	char name[PATH_MAX];

	if (op->kind == SUP_OP_NONE)
		return;
	if (t->p->mode == SUP_OWN &&
	    canonical_file(op->path, op->follow, name, sizeof(name))) {
		unsigned credit = ROAR_CREDIT_WRITE;

		if (op->kind == SUP_OP_OPEN)
			credit = roar_open_credit(op->flags,
						  (op->flags & O_CREAT) &&
							  !op->existed);
		if (credit)
			emit_file(s, t->p, t->tid,
				  credit == ROAR_CREDIT_WRITE ? ROAR_KIND_WRITE
							      : ROAR_KIND_READ,
				  name, op->via);
	}
	op_clear(s, op);
}

static void
settle_proc(struct roar_sup *s, struct sup_proc *p, bool exec)
{
	for (struct sup_task *t = p->tasks; t; t = t->next)
		settle_op(s, t);
	if (exec)
		settle_exec(s, p);
}

void
roar_sup_settle(struct roar_sup *s, bool all)
{
	/*
	 * An open that waited SETTLE_MS (or more) is judged now: its thread
	 * may never call again (killed, or busy).  An exec is not: one still
	 * loading would look failed; it waits for its process's next call,
	 * its end, or the end of the run (all).
	 */
	for (size_t i = 0; i < s->procs.cap; i++)
		if (s->procs.used[i] && s->procs.vals[i])
			settle_proc(s, s->procs.vals[i], all);
}

void
roar_sup_forget_all(struct roar_sup *s)
{
	for (size_t i = 0; i < s->procs.cap; i++)
		if (s->procs.used[i] && s->procs.vals[i])
			proc_free(s, s->procs.vals[i]);
}

/*
 * The task behind tid, and its process: a process first seen is a fork
 * child (its hello is said here), one whose pid we knew from before its
 * parent's fork is someone else now.
 */
static struct sup_task *
task_of(struct roar_sup *s, pid_t tid)
{
	struct sup_task *t = roar_map_get(&s->tasks, (uint64_t)tid);
	char status[2048], path[64];
	struct sup_proc *p, *parent;
	ssize_t n;
	long tgid, ppid;

	if (t)
		return t;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	n = read_small(path, status, sizeof(status) - 1);
	if (n <= 0)
		return NULL;
	status[n] = '\0';
	tgid = status_field(status, "\nTgid:");
	ppid = status_field(status, "\nPPid:");
	if (tgid <= 0)
		return NULL;
	p = proc_find(s, (pid_t)tgid);
	if (!p) {
		parent = proc_find(s, (pid_t)ppid);
		p = proc_new(s, (pid_t)tgid, (pid_t)ppid,
			     parent && parent->mode == SUP_PRELOAD ? SUP_PRELOAD
								   : SUP_OWN);
		if (parent)
			p->exec_path = parent->exec_path
					       ? roar_xstrdup(parent->exec_path)
					       : NULL;
		if (p->mode == SUP_OWN)
			say_fork_hello(s, p, tid,
				       parent && parent->fork_time > 0
					       ? parent->fork_time
					       : roar_now(),
				       !(parent && parent->fork_time > 0));
	}
	t = roar_xcalloc(1, sizeof(*t));
	t->tid = tid;
	t->p = p;
	t->next = p->tasks;
	p->tasks = t;
	roar_map_put(&s->tasks, (uint64_t)tid, t);
	return t;
}

/* ---- fds ----------------------------------------------------------------- */

static unsigned char *
fd_bits(struct sup_proc *p, long fd)
{
	if (fd < 0 || fd > (1 << 20))
		return NULL;
	if ((size_t)fd >= p->nfds) {
		size_t n = p->nfds ? p->nfds : 64;

		while (n <= (size_t)fd)
			n *= 2;
		p->fds = roar_xrealloc(p->fds, n);
		memset(p->fds + p->nfds, 0, n - p->nfds);
		p->nfds = n;
	}
	return &p->fds[fd];
}

static void
fd_forget(struct sup_proc *p, long lo, long hi)
{
	for (long fd = lo; fd <= hi && fd >= 0 && (size_t)fd < p->nfds; fd++)
		p->fds[fd] = 0;
}

/* Bytes moved through fd (dir: SUP_FD_READ or _WRITE): its first such
 * move is credited, when it is a regular file. */
static void
fd_credit(struct roar_sup *s, struct sup_proc *p, pid_t tid, long fd,
	  unsigned dir)
{
	unsigned char *b = fd_bits(p, fd);
	char what[32], name[PATH_MAX], link[64];
	struct stat st;

	if (!b || (*b & (dir | SUP_FD_NONFILE)))
		return;
	snprintf(what, sizeof(what), "fd/%ld", fd);
	if (proc_link(p->pid, what, name, sizeof(name)) < 0)
		return; /* not open: the call fails */
	snprintf(link, sizeof(link), "/proc/%d/fd/%ld", (int)p->pid, fd);
	if (stat(link, &st) != 0)
		return;
	if (S_ISFIFO(st.st_mode)) {
		unsigned char buf[256];
		struct roar_frame f;

		roar_frame_init(&f, buf, sizeof(buf));
		emit_frame(s, &f,
			   roar_event_pipe(
				   &f, &(struct roar_event_ids){ p->pid, tid },
				   (uint64_t)st.st_dev, (uint64_t)st.st_ino,
				   dir == SUP_FD_WRITE));
		*b |= dir;
		return;
	}
	if (name[0] != '/' || !S_ISREG(st.st_mode) || st.st_nlink == 0 ||
	    is_our_library(name) || (p->loading && is_loader_file(name))) {
		*b |= SUP_FD_NONFILE;
		return;
	}
	emit_file(s, p, tid,
		  dir == SUP_FD_READ ? ROAR_KIND_READ : ROAR_KIND_WRITE, name,
		  NULL);
	*b |= dir;
}

/* ---- the calls ----------------------------------------------------------- */

static bool
still_valid(int listener, uint64_t id)
{
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static void
answer(struct roar_sup *s, int listener, uint64_t id)
{
	struct seccomp_notif_resp *resp = s->resp;

	memset(resp, 0, s->resp_size);
	resp->id = id;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
}

/* Keep op for t, judged after the call (settle_op). */
static void
pend(struct roar_sup *s, struct sup_task *t, enum sup_op_kind kind,
     const char *abs, int flags, bool existed, bool follow, const char *via)
{
	op_clear(s, &t->op);
	t->op = (struct sup_op){ .kind = kind,
				 .flags = flags,
				 .existed = existed,
				 .follow = follow,
				 .via = via,
				 .path = roar_xstrdup(abs) };
	s->npending++;
}

/* Whether path names our library (by either of its names: roar's
 * back end calls it libroar_tracer_preload.so). */
static bool
is_our_library(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libroar_preload", 15) ||
	       !strncmp(base, "libroar_tracer_preload", 22);
}

/* What the dynamic loader opens: its cache and shared objects. */
static bool
is_loader_file(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(path);

	base = base ? base + 1 : path;
	return !strcmp(path, "/etc/ld.so.cache") ||
	       (n > 3 && !strcmp(path + n - 3, ".so")) ||
	       strstr(base, ".so.") != NULL;
}

static void
on_open(struct roar_sup *s, int listener, const struct seccomp_notif *n,
	struct sup_task *t, int dirfd, uint64_t patharg, int flags)
{
	struct sup_proc *p = t->p;
	char abs[PATH_MAX];
	struct stat st;
	bool ok, existed = false;

	ok = path_arg(s, p, t->tid, dirfd, patharg, abs, sizeof(abs));
	if (ok && p->mode == SUP_PENDING) {
		/* The first open of a dynamic image: our library, or not. */
		p->mode = is_our_library(abs) ? SUP_PRELOAD : SUP_OWN;
		if (p->mode == SUP_OWN)
			say_exec_hello(s, p);
	}
	if (ok && (is_our_library(abs) || (p->loading && is_loader_file(abs))))
		ok = false; /* the loader's, or our library itself */
	else if (ok)
		p->loading = false;
	if (ok && p->mode == SUP_OWN && (flags & O_CREAT))
		existed = stat(abs, &st) == 0;
	ok = ok && still_valid(listener, n->id);
	answer(s, listener, n->id);
	if (ok && p->mode == SUP_OWN)
		pend(s, t, SUP_OP_OPEN, abs, flags, existed,
		     !(flags & O_NOFOLLOW), ROAR_VIA_OPEN);
}

static void
on_name(struct roar_sup *s, int listener, const struct seccomp_notif *n,
	struct sup_task *t, int dirfd, uint64_t patharg, bool follow,
	const char *via)
{
	char abs[PATH_MAX];
	bool ok = t->p->mode == SUP_OWN &&
		  path_arg(s, t->p, t->tid, dirfd, patharg, abs, sizeof(abs)) &&
		  still_valid(listener, n->id);

	answer(s, listener, n->id);
	if (ok)
		pend(s, t, SUP_OP_NAME, abs, 0, false, follow, via);
}

static void
on_exec(struct roar_sup *s, int listener, const struct seccomp_notif *n,
	struct sup_task *t, int dirfd, uint64_t patharg, int at_flags)
{
	struct sup_proc *p = t->p;
	char abs[PATH_MAX] = "";
	bool ok;

	if ((at_flags & AT_EMPTY_PATH) && dirfd >= 0) {
		char what[32];

		snprintf(what, sizeof(what), "fd/%d", dirfd);
		ok = proc_link(p->pid, what, abs, sizeof(abs)) > 0;
	} else {
		ok = path_arg(s, p, t->tid, dirfd, patharg, abs, sizeof(abs));
	}
	settle_exec(s, p);
	if (ok) {
		ssize_t len = read_auxv(p->pid, p->auxv);

		p->auxv_len = len > 0 ? (size_t)len : 0;
		free(p->exec_path);
		p->exec_path = roar_xstrdup(abs);
		p->exec_pending = true;
		s->npending++;
	}
	answer(s, listener, n->id);
	if (ok && p->mode == SUP_OWN) {
		unsigned char buf[SMALL_FRAME];
		char *argv[] = { NULL };
		struct roar_frame f;

		roar_frame_init(&f, buf, sizeof(buf));
		emit_frame(s, &f,
			   roar_event_exec(
				   &f,
				   &(struct roar_event_ids){ p->pid, t->tid },
				   0, p->ppid, abs, argv, roar_now()));
	}
}

static void
on_exit_group(struct roar_sup *s, int listener, const struct seccomp_notif *n,
	      struct sup_task *t, int status)
{
	struct sup_proc *p = t->p;

	settle_proc(s, p, true);
	answer(s, listener, n->id);
	if (p->mode == SUP_OWN) {
		unsigned char buf[256];
		struct roar_frame f;

		roar_frame_init(&f, buf, sizeof(buf));
		emit_frame(s, &f,
			   roar_event_exit(
				   &f,
				   &(struct roar_event_ids){ p->pid, t->tid },
				   p->ppid, status & 0xff, roar_now(), 0));
	}
	proc_free(s, p);
}

/* Calls on fds: answered first, then credited (the fd stays open). */
static void
on_fds(struct roar_sup *s, int listener, const struct seccomp_notif *n,
       struct sup_task *t)
{
	const __u64 *a = n->data.args;
	struct sup_proc *p = t->p;
	long nr = n->data.nr;

	if (nr == SYS_close) {
		answer(s, listener, n->id);
		fd_forget(p, (long)(int)a[0], (long)(int)a[0]);
		return;
	}
	if (nr == SYS_dup2 || nr == SYS_dup3) {
		answer(s, listener, n->id);
		fd_forget(p, (long)(int)a[1], (long)(int)a[1]);
		return;
	}
#ifdef SYS_close_range
	if (nr == SYS_close_range) {
		answer(s, listener, n->id);
		fd_forget(p, (long)(unsigned)a[0],
			  a[1] > (1u << 20) ? (1L << 20) : (long)a[1]);
		return;
	}
#endif
	answer(s, listener, n->id);
	if (p->mode != SUP_OWN)
		return;
	switch (nr) {
	case SYS_read:
	case SYS_readv:
	case SYS_pread64:
	case SYS_preadv:
#ifdef SYS_preadv2
	case SYS_preadv2:
#endif
		fd_credit(s, p, t->tid, (long)(int)a[0], SUP_FD_READ);
		break;
	case SYS_write:
	case SYS_writev:
	case SYS_pwrite64:
	case SYS_pwritev:
#ifdef SYS_pwritev2
	case SYS_pwritev2:
#endif
	case SYS_ftruncate:
		fd_credit(s, p, t->tid, (long)(int)a[0], SUP_FD_WRITE);
		break;
	case SYS_sendfile:
		fd_credit(s, p, t->tid, (long)(int)a[1], SUP_FD_READ);
		fd_credit(s, p, t->tid, (long)(int)a[0], SUP_FD_WRITE);
		break;
	case SYS_splice:
	case SYS_copy_file_range:
		fd_credit(s, p, t->tid, (long)(int)a[0], SUP_FD_READ);
		fd_credit(s, p, t->tid, (long)(int)a[2], SUP_FD_WRITE);
		break;
	case SYS_mmap:
		if (a[2] & PROT_READ)
			fd_credit(s, p, t->tid, (long)(int)a[4], SUP_FD_READ);
		if ((a[2] & PROT_WRITE) && (a[3] & MAP_SHARED))
			fd_credit(s, p, t->tid, (long)(int)a[4], SUP_FD_WRITE);
		break;
	}
}

void
roar_sup_handle(struct roar_sup *s, int listener)
{
	const struct seccomp_notif *n = s->req;
	const __u64 *a = n->data.args;
	struct sup_task *t = task_of(s, (pid_t)n->pid);
	uint64_t how[3];

	if (!t) {
		answer(s, listener, n->id);
		return;
	}
	/* Its previous call has returned: judge it. */
	settle_op(s, t);
	if (n->data.nr != SYS_execve && n->data.nr != SYS_execveat)
		settle_exec(s, t->p);
	switch (n->data.nr) {
	case SYS_open:
		on_open(s, listener, n, t, AT_FDCWD, a[0], (int)a[1]);
		return;
	case SYS_creat:
		on_open(s, listener, n, t, AT_FDCWD, a[0],
			O_CREAT | O_WRONLY | O_TRUNC);
		return;
	case SYS_openat:
		on_open(s, listener, n, t, (int)a[0], a[1], (int)a[2]);
		return;
#ifdef SYS_openat2
	case SYS_openat2:
		if (!read_mem(t->tid, a[2], how, sizeof(how)))
			how[0] = O_RDWR; /* unknown: no credit at open */
		on_open(s, listener, n, t, (int)a[0], a[1], (int)how[0]);
		return;
#endif
	case SYS_truncate:
		on_name(s, listener, n, t, AT_FDCWD, a[0], true,
			ROAR_VIA_TRUNCATE);
		return;
	case SYS_rename:
		on_name(s, listener, n, t, AT_FDCWD, a[1], false,
			ROAR_VIA_RENAME);
		return;
	case SYS_renameat:
	case SYS_renameat2:
		on_name(s, listener, n, t, (int)a[2], a[3], false,
			ROAR_VIA_RENAME);
		return;
	case SYS_link:
		on_name(s, listener, n, t, AT_FDCWD, a[1], false,
			ROAR_VIA_LINK);
		return;
	case SYS_linkat:
		on_name(s, listener, n, t, (int)a[2], a[3], false,
			ROAR_VIA_LINK);
		return;
	case SYS_execve:
		on_exec(s, listener, n, t, AT_FDCWD, a[0], 0);
		return;
	case SYS_execveat:
		on_exec(s, listener, n, t, (int)a[0], a[1], (int)a[4]);
		return;
	case SYS_exit_group:
		on_exit_group(s, listener, n, t, (int)a[0]);
		return;
	case SYS_fork:
	case SYS_vfork:
	case SYS_clone:
#ifdef SYS_clone3
	case SYS_clone3:
#endif
		t->p->fork_time = roar_now();
		answer(s, listener, n->id);
		return;
#ifdef SYS_io_uring_setup
	case SYS_io_uring_setup:
		answer(s, listener, n->id);
		if (!t->p->said_uring) {
			t->p->said_uring = true;
			emit_unseen(s, t->p, ROAR_UNSEEN_IO_URING);
		}
		return;
#endif
	default:
		on_fds(s, listener, n, t);
		return;
	}
}
