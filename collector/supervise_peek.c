/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the supervisor learns of a process without /proc (supervise_int.h).
 *
 * The first look at /proc/PID of a pid never looked at before costs far
 * more than any file in it: the kernel makes that directory's dentry
 * and inode on the spot (about 15 us on this project's machines, against
 * 1 to 4 us for each entry read after it).  A loop that forks and execs a
 * static program pays it for every process, so the common path avoids
 * /proc altogether, and /proc stays the fallback of every function here.
 *
 * Facts relied on:
 * - pidfd_open(2) (Linux 5.3; PIDFD_THREAD for a thread, 6.9) and the
 *   pidfd's PIDFD_GET_INFO ioctl (6.13) give a task's tgid and parent,
 *   in our PID namespace, as /proc/PID/status does.  An older kernel
 *   refuses the flag or the ioctl (EINVAL, ENOTTY).
 * - pidfd_getfd(2) (5.6) copies a process's fd into ours, with the
 *   permission process_vm_readv needs (a ptrace attach's, without
 *   ptrace): fstat of the copy is the file, and /proc/self/fd names it.
 *   The copy is closed at once, with nothing between that can block but
 *   an fstat: for those microseconds the open file lives on, should the
 *   program close it meanwhile (its flock released, a pipe's end seen
 *   closed, a file open for writing exec'able, that much later).
 * - AT_RANDOM (auxv) points at 16 random bytes on the stack the kernel
 *   made for an image at exec.  A new image has new ones (a new stack,
 *   even without address randomisation); a failed exec leaves them
 *   where they were.  glibc only reads them; Go's runtime clears them
 *   (startupRand): bytes found all zero are not trusted, and the whole
 *   auxv is compared instead, as /proc gives it.
 * - execve's argv and envp, read before the call goes on, are what the
 *   new image finds on its stack (the kernel copies them from there)
 *   when the kernel runs the file itself: a script's interpreter gets
 *   an argv the kernel rewrote, and takes /proc's.  With no argv at
 *   all, Linux 5.18 on gives one empty string (earlier: none), so
 *   /proc tells that too.
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "supervise_int.h"

/* ---- pidfds ------------------------------------------------------------ */

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* PIDFD_GET_INFO's answer, first version (64 bytes), as the kernel lays
 * it out (include/uapi/linux/pidfd.h); the headers of older systems do
 * not have it. */
struct sup_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid;
	uint32_t ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
};
#define SUP_PIDFD_GET_INFO _IOWR(0xFF, 11, struct sup_pidfd_info)
#define SUP_PIDFD_INFO_PID 1ull

/* Live processes each hold one pidfd at most this many at once; the
 * rest use /proc. */
#define SUP_PIDFDS_MAX 512u

#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)

static bool no_pidfd_info;

/*
 * A process's pidfd (of a thread group's first thread, whose tid is its
 * pid) is readable once the whole process has exited; one of a thread
 * (PIDFD_THREAD) once that thread has.  A kept pidfd is watched so: the
 * supervisor forgets a process the moment it is gone, also one killed
 * before its exit_group (sup_proc_died), and a pid used again later is
 * someone new.
 */
bool
sup_identify(struct roar_sup *s, pid_t tid, pid_t *tgid, pid_t *ppid,
	     int *pidfd)
{
	struct sup_pidfd_info info;
	int fd;

	*pidfd = -1;
	if (no_pidfd_info)
		return false;
	fd = (int)syscall(SYS_pidfd_open, tid, 0);
	if (fd < 0 && errno == EINVAL) /* not a process's first thread */
		fd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (fd < 0) {
		if (errno == ENOSYS || errno == EPERM)
			no_pidfd_info = true;
		return false;
	}
	memset(&info, 0, sizeof(info));
	info.mask = SUP_PIDFD_INFO_PID;
	if (ioctl(fd, SUP_PIDFD_GET_INFO, &info) != 0 || !info.tgid) {
		if (errno == ENOTTY || errno == EINVAL)
			no_pidfd_info = true;
		close(fd);
		return false;
	}
	*tgid = (pid_t)info.tgid;
	*ppid = (pid_t)info.ppid;
	if ((pid_t)info.tgid == tid && s->npidfds < SUP_PIDFDS_MAX) {
		struct epoll_event ev = { .events = EPOLLIN,
					  .data.u64 = SUP_TAG_PIDFD |
						      (uint32_t)tid };

		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
			*pidfd = fd;
			s->npidfds++;
			return true;
		}
	}
	close(fd);
	return true;
}

void
sup_pidfd_close(struct roar_sup *s, int pidfd)
{
	if (pidfd >= 0) {
		close(pidfd); /* which takes it out of the epoll set */
		s->npidfds--;
	}
}

void
sup_pidfd_drop(struct roar_sup *s, struct sup_proc *p)
{
	sup_pidfd_close(s, p->pidfd);
	p->pidfd = -1;
}

/* A copy of p's fd (closed by the caller), or -1: errno EBADF when p has
 * no such fd, anything else when /proc must be asked instead. */
static int
copy_fd(const struct sup_proc *p, long fd)
{
	if (p->pidfd < 0 || fd < 0 || fd > INT_MAX) {
		errno = ENOSYS;
		return -1;
	}
	return (int)syscall(SYS_pidfd_getfd, p->pidfd, (int)fd, 0);
}

#else

bool
sup_identify(struct roar_sup *s, pid_t tid, pid_t *tgid, pid_t *ppid,
	     int *pidfd)
{
	(void)s, (void)tid, (void)tgid, (void)ppid;
	*pidfd = -1;
	return false;
}

void
sup_pidfd_close(struct roar_sup *s, int pidfd)
{
	(void)s, (void)pidfd;
}

void
sup_pidfd_drop(struct roar_sup *s, struct sup_proc *p)
{
	(void)s;
	p->pidfd = -1;
}

static int
copy_fd(const struct sup_proc *p, long fd)
{
	(void)p, (void)fd;
	errno = ENOSYS;
	return -1;
}

#endif

int
sup_fd_look(const struct sup_proc *p, long fd, struct stat *st, char *name,
	    size_t cap)
{
	char link[64];
	ssize_t n = -1;
	int copy = copy_fd(p, fd);

	if (copy >= 0) {
		if (fstat(copy, st) == 0) {
			if (!name) {
				close(copy);
				return 0;
			}
			snprintf(link, sizeof(link), "/proc/self/fd/%d", copy);
			n = readlink(link, name, cap - 1);
		}
		close(copy);
		if (n < 0)
			return -1;
		name[n] = '\0';
		return 0;
	}
	if (errno == EBADF)
		return -1; /* not open: the call fails */
	snprintf(link, sizeof(link), "/proc/%d/fd/%ld", (int)p->pid, fd);
	if (stat(link, st) != 0)
		return -1;
	if (!name)
		return 0;
	n = readlink(link, name, cap - 1);
	if (n < 0)
		return -1;
	name[n] = '\0';
	return 0;
}

/* ---- the image a process runs -------------------------------------------- */

/* /proc/ID/auxv into buf (SUP_AUXV_MAX bytes): its length, or -1. */
static ssize_t
read_auxv(pid_t id, void *buf)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)id);
	return sup_read_small(path, buf, SUP_AUXV_MAX);
}

/* Through the thread, or the process (an exec'ing thread takes its
 * process's pid, and its own tid is gone). */
static ssize_t
read_auxv_of(const struct sup_proc *p, pid_t tid, void *buf)
{
	ssize_t n = read_auxv(tid, buf);

	return n < 0 && tid != p->pid ? read_auxv(p->pid, buf) : n;
}

static bool
all_zero(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

bool
sup_image_learn(struct sup_proc *p, pid_t tid)
{
	uint64_t auxv[SUP_AUXV_MAX / sizeof(uint64_t)];
	ssize_t n = read_auxv_of(p, tid, auxv);

	p->rnd_known = false;
	free(p->auxv);
	p->auxv = NULL;
	p->auxv_len = 0;
	if (n <= 0)
		return false;
	for (ssize_t i = 0; (i + 2) * 8 <= n; i += 2)
		if (auxv[i] == AT_RANDOM) {
			p->rnd_addr = auxv[i + 1];
			p->rnd_known = sup_read_mem(tid, p->rnd_addr, p->rnd,
						    sizeof(p->rnd)) &&
				       /* Go clears them (its startupRand) */
				       !all_zero(p->rnd, sizeof(p->rnd));
			break;
		}
	if (!p->rnd_known) { /* the whole vector, then */
		p->auxv = roar_xmalloc((size_t)n);
		memcpy(p->auxv, auxv, (size_t)n);
		p->auxv_len = (size_t)n;
	}
	return true;
}

void
sup_image_know(struct sup_proc *p, pid_t tid)
{
	if (!p->rnd_known && !p->auxv)
		sup_image_learn(p, tid);
}

void
sup_image_inherit(struct sup_proc *p, const struct sup_proc *parent)
{
	p->rnd_known = parent->rnd_known;
	p->rnd_addr = parent->rnd_addr;
	memcpy(p->rnd, parent->rnd, sizeof(p->rnd));
	free(p->auxv);
	p->auxv = NULL;
	p->auxv_len = parent->auxv_len;
	if (parent->auxv) {
		p->auxv = roar_xmalloc(parent->auxv_len);
		memcpy(p->auxv, parent->auxv, parent->auxv_len);
	}
	sup_exe_name_free(&p->exe);
	if (parent->exe.name)
		p->exe = (struct sup_exe_name){ roar_xstrdup(parent->exe.name),
						parent->exe.dev,
						parent->exe.ino };
}

int
sup_image_changed(const struct sup_proc *p, pid_t tid)
{
	unsigned char now[SUP_AUXV_MAX];
	struct iovec l = { now, sizeof(p->rnd) },
		     r = { (void *)(uintptr_t)p->rnd_addr, sizeof(p->rnd) };
	ssize_t n;

	if (p->rnd_known) {
		n = process_vm_readv(tid, &l, 1, &r, 1, 0);
		if (n < 0 && errno == ESRCH && tid != p->pid)
			n = process_vm_readv(p->pid, &l, 1, &r, 1, 0);
		if (n == (ssize_t)sizeof(p->rnd))
			return memcmp(now, p->rnd, sizeof(p->rnd)) != 0;
		/* Gone; else the old stack is (EFAULT), or the new image
		 * may not be read (EPERM: not dumpable), where the old one
		 * could. */
		return errno == ESRCH ? -1 : 1;
	}
	if (!p->auxv)
		return 1; /* nothing to go by: taken as a new image */
	n = read_auxv_of(p, tid, now);
	if (n < 0)
		return -1;
	return (size_t)n != p->auxv_len || memcmp(now, p->auxv, (size_t)n);
}

void
sup_exe_name_free(struct sup_exe_name *e)
{
	free(e->name);
	*e = (struct sup_exe_name){ 0 };
}

/* ---- an exec's argv and environment -------------------------------------- */

/* Pages read at once for an exec's strings; pointers first read of each
 * array. */
#define ARG_PAGES 32u
#define PAGE 4096u
#define PTRS_FIRST 64u

/* What sup_args_read reads into: big, so made once. */
struct sup_peek_bufs {
	uint64_t v[2][SUP_LIST_ENTRIES_MAX]; /* argv's, envp's */
	uint64_t page[ARG_PAGES];            /* sorted page numbers */
	size_t run_end[ARG_PAGES]; /* where each one's run ends in copy */
	char copy[ARG_PAGES * PAGE];
	char big[SUP_LIST_MAX]; /* a string read on its own */
};

struct list {
	char *buf;
	size_t len, cap;
	size_t n;
	bool full;
};

static void
list_add(struct list *l, const char *str, size_t len)
{
	if (l->full || l->n >= SUP_LIST_ENTRIES_MAX ||
	    l->len + len + 1 > SUP_LIST_MAX) {
		l->full = true;
		return;
	}
	if (l->len + len + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 4096;

		while (cap < l->len + len + 1)
			cap *= 2;
		l->buf = roar_xrealloc(l->buf, cap);
		l->cap = cap;
	}
	memcpy(l->buf + l->len, str, len);
	l->buf[l->len + len] = '\0';
	l->len += len + 1;
	l->n++;
}

/* Pointers of the array at addr that fit before its page ends, at most
 * max (at least one: a pointer across a page is never aligned). */
static size_t
in_page(uint64_t addr, size_t max)
{
	size_t n = (PAGE - (size_t)(addr % PAGE)) / 8;

	n = n ? n : 1;
	return n < max ? n : max;
}

/* The pointers of the NULL-ended array at addr, v[0..got) read already:
 * their count, at most SUP_LIST_ENTRIES_MAX, or -1 when the array could
 * not be read. */
static ssize_t
read_ptrs(pid_t tid, uint64_t addr, uint64_t *v, size_t got)
{
	for (size_t i = 0; i < got; i++)
		if (!v[i])
			return (ssize_t)i;
	while (got < SUP_LIST_ENTRIES_MAX) {
		uint64_t at = addr + got * 8;
		size_t want = in_page(at, SUP_LIST_ENTRIES_MAX - got);

		if (!sup_read_mem(tid, at, v + got, want * 8))
			return -1;
		for (size_t i = 0; i < want; i++)
			if (!v[got + i])
				return (ssize_t)(got + i);
		got += want;
	}
	return (ssize_t)got;
}

/* Both arrays' counts into n (argv, envp; no array, none), their first
 * pointers read in one call. */
static bool
read_arrays(pid_t tid, const uint64_t addr[2], struct sup_peek_bufs *b,
	    size_t n[2])
{
	struct iovec loc[2], rem[2];
	size_t first[2] = { 0, 0 }, want = 0;
	int k = 0;

	for (int i = 0; i < 2; i++) {
		if (!addr[i])
			continue;
		first[i] = in_page(addr[i], PTRS_FIRST);
		loc[k] = (struct iovec){ b->v[i], first[i] * 8 };
		rem[k] = (struct iovec){ (void *)(uintptr_t)addr[i],
					 first[i] * 8 };
		want += first[i] * 8;
		k++;
	}
	if (k && process_vm_readv(tid, loc, (unsigned long)k, rem,
				  (unsigned long)k, 0) != (ssize_t)want)
		first[0] = first[1] = 0; /* each on its own, then */
	for (int i = 0; i < 2; i++) {
		ssize_t c = addr[i] ? read_ptrs(tid, addr[i], b->v[i], first[i])
				    : 0;

		if (c < 0)
			return false;
		n[i] = (size_t)c;
	}
	return true;
}

/*
 * Read the pages the strings at va[0..na), then vb[0..nb), start in (the
 * first ARG_PAGES of them), neighbours as one piece, in one call: the
 * number of pages read (none after one that could not be).
 */
static size_t
read_pages(pid_t tid, const uint64_t *va, size_t na, const uint64_t *vb,
	   size_t nb, struct sup_peek_bufs *b)
{
	const uint64_t *v[2] = { va, vb };
	const size_t n[2] = { na, nb };
	struct iovec loc[ARG_PAGES], rem[ARG_PAGES];
	size_t np = 0, nrun = 0, ok;
	ssize_t got;

	for (int a = 0; a < 2; a++)
		for (size_t i = 0; i < n[a] && np < ARG_PAGES; i++) {
			uint64_t pg = v[a][i] / PAGE;
			size_t k = np;

			while (k > 0 && b->page[k - 1] > pg)
				k--;
			if ((k > 0 && b->page[k - 1] == pg) || np == ARG_PAGES)
				continue;
			memmove(b->page + k + 1, b->page + k,
				(np - k) * sizeof(b->page[0]));
			b->page[k] = pg;
			np++;
		}
	for (size_t k = 0; k < np; k++) {
		if (k == 0 || b->page[k] != b->page[k - 1] + 1) {
			loc[nrun] = (struct iovec){ b->copy + k * PAGE, 0 };
			rem[nrun] = (struct iovec){
				(void *)(uintptr_t)(b->page[k] * PAGE), 0
			};
			nrun++;
		}
		loc[nrun - 1].iov_len += PAGE;
		rem[nrun - 1].iov_len += PAGE;
	}
	got = np ? process_vm_readv(tid, loc, nrun, rem, nrun, 0) : 0;
	ok = got > 0 ? (size_t)got / PAGE : 0;
	/* Where each page's run ends, as far as it was read. */
	for (size_t k = np; k-- > 0;) {
		size_t end = (k + 1) * PAGE;

		if (k + 1 < np && b->page[k + 1] == b->page[k] + 1)
			end = b->run_end[k + 1];
		b->run_end[k] = end < ok * PAGE ? end : ok * PAGE;
	}
	return ok < np ? ok : np;
}

/* Where in b's copy the string at addr starts, when its page was read
 * (np pages); else -1. */
static ssize_t
copy_at(const struct sup_peek_bufs *b, size_t np, uint64_t addr)
{
	uint64_t pg = addr / PAGE;
	size_t lo = 0, hi = np;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (b->page[mid] < pg)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == np || b->page[lo] != pg ||
	    lo * PAGE + (size_t)(addr % PAGE) >= b->run_end[lo])
		return -1;
	return (ssize_t)(lo * PAGE + (size_t)(addr % PAGE));
}

/* The strings at v[0..n) into l: from the *np pages read_pages read when
 * a string starts in one and ends before its run does (a string whose
 * page is not among them reads the next pages from there), else on its
 * own. */
static bool
read_strings(pid_t tid, const uint64_t *v, size_t n, struct list *l,
	     struct sup_peek_bufs *b, size_t *np)
{
	for (size_t i = 0; i < n && !l->full; i++) {
		ssize_t at = copy_at(b, *np, v[i]), len;

		if (at < 0) {
			*np = read_pages(tid, v + i, n - i, NULL, 0, b);
			at = copy_at(b, *np, v[i]);
		}
		if (at >= 0) {
			size_t end = b->run_end[(size_t)at / PAGE];
			const char *z =
				memchr(b->copy + at, '\0', end - (size_t)at);

			if (z) {
				list_add(l, b->copy + at,
					 (size_t)(z - (b->copy + at)));
				continue;
			}
		}
		len = sup_read_string(tid, v[i], b->big, sizeof(b->big));
		if (len < 0)
			return false; /* unreadable, or longer than a list */
		list_add(l, b->big, (size_t)len);
	}
	return true;
}

struct sup_args *
sup_args_read(struct roar_sup *s, pid_t tid, uint64_t argv, uint64_t envp)
{
	const uint64_t addr[2] = { argv, envp };
	struct list cmd = { 0 }, env = { 0 };
	struct sup_args *a = NULL;
	size_t n[2], np;
	bool ok;

	if (!s->peek)
		s->peek = roar_xmalloc(sizeof(*s->peek));
	/* No argv at all: Linux 5.18 on gives one empty string, earlier
	 * ones none; /proc tells which. */
	if (!read_arrays(tid, addr, s->peek, n) || n[0] == 0)
		return NULL;
	np = read_pages(tid, s->peek->v[0], n[0], s->peek->v[1], n[1], s->peek);
	ok = read_strings(tid, s->peek->v[0], n[0], &cmd, s->peek, &np) &&
	     read_strings(tid, s->peek->v[1], n[1], &env, s->peek, &np);
	if (ok) {
		a = roar_xmalloc(sizeof(*a) + cmd.len + env.len);
		a->cmd_len = cmd.len;
		a->env_len = env.len;
		if (cmd.len)
			memcpy(a->data, cmd.buf, cmd.len);
		if (env.len)
			memcpy(a->data + cmd.len, env.buf, env.len);
	}
	free(cmd.buf);
	free(env.buf);
	return a;
}

void
sup_peek_free(struct roar_sup *s)
{
	free(s->peek);
	s->peek = NULL;
}
