/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The open fast path of open_canon.h.  Kernel facts relied on:
 *  - openat2(2) with RESOLVE_NO_SYMLINKS fails with ELOOP, before it
 *    opens, creates or truncates anything, when any component of the
 *    name is a symlink (magic links included); otherwise it resolves the
 *    name exactly as openat does.  An absolute name that has no ".",
 *    ".." or empty component and is walked without a symlink is then the
 *    name d_path gives the file, which is what readlink of
 *    /proc/self/fd/N says (relative to the process's root, as is the
 *    walk).
 *  - openat2 rejects flags outside the kernel's valid set and a mode
 *    without O_CREAT or O_TMPFILE (EINVAL), and, unlike open and openat,
 *    does not add O_LARGEFILE on a 64-bit kernel (force_o_largefile):
 *    the flag is added here, or a file past 2 GiB would fail with
 *    EOVERFLOW and F_GETFL would differ.
 *  - A seccomp filter may refuse or kill on a system call it does not
 *    know: openat2 is used only while the process has no filter
 *    (PR_GET_SECCOMP, asked at each attempt), and never again after a
 *    filter, ENOSYS or EPERM was seen.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "roar/protocol.h"
#include "fdtable.h"
#include "intern.h"
#include "open_canon.h"
#include "real.h"
#include "track.h"

#if defined(__x86_64__)
#define KERNEL_O_LARGEFILE 0100000
#elif defined(__aarch64__)
#define KERNEL_O_LARGEFILE 0400000
#endif

bool
roar_canonical_form(const char *p, size_t len)
{
	if (len < 2 || p[0] != '/' || p[len - 1] == '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '/')
			continue;
		if (p[i + 1] == '/' ||
		    (p[i + 1] == '.' &&
		     (p[i + 2] == '/' || p[i + 2] == '\0')) ||
		    (p[i + 1] == '.' && p[i + 2] == '.' &&
		     (p[i + 3] == '/' || p[i + 3] == '\0')))
			return false;
	}
	return true;
}

#if defined(SYS_openat2) && defined(KERNEL_O_LARGEFILE)

/* 0: not yet tried in this image, 1: usable, -1: never again. */
static _Atomic int canon_state;

/*
 * Names whose walk met a symlink, by hash: such a name goes straight to
 * the caller's own open instead of failing once more.  A collision only
 * sends a name the slow way.
 */
#define LOOP_SLOTS 256u
static _Atomic uint32_t loop_hash[LOOP_SLOTS];

static uint32_t
name_hash(const char *s, size_t len)
{
	return roar_path_hash(s, len) | 1u; /* 0 means an empty slot */
}

/*
 * The two system calls of every attempt, made here rather than through
 * the C library's syscall(): the result is -errno, and errno is set only
 * where the open's own failure is returned.
 */
static inline long
raw4(long nr, long a, long b, long c, long d)
{
	long ret;
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
#else /* __aarch64__ */
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;

	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3)
			 : "memory");
	ret = x0;
#endif
	return ret;
}

/*
 * Asked at every attempt, not once: a program may install a filter at
 * any time, with a raw system call no hook sees (a browser's sandbox),
 * and one that kills on openat2 must never meet it.  A process never
 * loses a filter, so a "yes" is kept; a "no" costs one prctl (a quarter
 * of a microsecond here) against the readlink it saves (about four).
 */
static bool
usable(void)
{
	if (atomic_load_explicit(&canon_state, memory_order_relaxed) < 0)
		return false;
	if (raw4(SYS_prctl, PR_GET_SECCOMP, 0, 0, 0) != 0) {
		atomic_store_explicit(&canon_state, -1, memory_order_relaxed);
		return false;
	}
	return true;
}

int
roar_canon_open(int dirfd, const char *path, int flags, mode_t mode,
		size_t *len)
{
	struct open_how how;
	uint32_t h;
	size_t n;
	long fd;

	(void)dirfd; /* an absolute name ignores it, as openat does */
	if (!path || path[0] != '/' || (flags & O_PATH) ||
	    (flags & O_TMPFILE) == O_TMPFILE || !usable())
		return ROAR_CANON_NONE;
	n = strnlen(path, PATH_MAX);
	if (n >= PATH_MAX || !roar_canonical_form(path, n) ||
	    /* names the slow path would ignore anyway */
	    roar_fdtable_pseudo_fs(path, n))
		return ROAR_CANON_NONE;
	h = name_hash(path, n);
	if (atomic_load_explicit(&loop_hash[h % LOOP_SLOTS],
				 memory_order_relaxed) == h)
		return ROAR_CANON_NONE;
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(unsigned)flags | KERNEL_O_LARGEFILE;
	how.mode = (flags & O_CREAT) ? (uint64_t)(mode & 07777) : 0;
	how.resolve = RESOLVE_NO_SYMLINKS;
	fd = raw4(SYS_openat2, AT_FDCWD, (long)path, (long)&how, sizeof(how));
	if (fd >= 0) {
		*len = n;
		return (int)fd;
	}
	switch (-fd) {
	case ELOOP:
		atomic_store_explicit(&loop_hash[h % LOOP_SLOTS], h,
				      memory_order_relaxed);
		break;
	case ENOSYS:
	case EPERM:
		atomic_store_explicit(&canon_state, -1, memory_order_relaxed);
		break;
	case EINVAL:
	case E2BIG:
	case EAGAIN:
		break;
	default:
		errno = (int)-fd;
		return -1; /* openat would have failed the same way */
	}
	return ROAR_CANON_NONE;
}

void
roar_canon_set_state(int state)
{
	atomic_store(&canon_state, state);
}

#else

void
roar_canon_set_state(int state)
{
	(void)state;
}

int
roar_canon_open(int dirfd, const char *path, int flags, mode_t mode,
		size_t *len)
{
	(void)dirfd, (void)path, (void)flags, (void)mode, (void)len;
	return ROAR_CANON_NONE;
}

#endif

/* The credits an fd opened with these flags can ever earn. */
static unsigned
credits_possible(int flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		return ROAR_CREDIT_READ;
	case O_WRONLY:
		return ROAR_CREDIT_WRITE;
	default:
		return ROAR_CREDIT_READ | ROAR_CREDIT_WRITE;
	}
}

void
roar_canon_track(int fd, const char *path, size_t len, int flags, bool created)
{
	unsigned credit = roar_track_open_credit(flags, created);
	struct roar_path *p;
	struct stat st;

	if (flags & O_DIRECTORY) {
		roar_track_not_a_file(fd); /* a directory or a failed open */
		return;
	}
	p = roar_path_lookup(path, len);
	/* Every credit this fd could earn was sent already: the name is
	 * canonical, so nothing about the file can change what it says. */
	if (p && roar_path_has(p, credits_possible(flags))) {
		roar_fdtable_set(fd, (uintptr_t)p);
		return;
	}
	if (fstat(fd, &st) != 0)
		return;
	if (S_ISFIFO(st.st_mode)) {
		roar_fdtable_set(fd, roar_fdtable_pipe(&st));
		return;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink == 0) {
		roar_track_not_a_file(fd);
		return;
	}
	if (!p && !(p = roar_path_intern(path, len))) {
		roar_track_not_a_file(fd);
		return;
	}
	p->dev = (uint64_t)st.st_dev;
	p->ino = (uint64_t)st.st_ino;
	roar_fdtable_set(fd, (uintptr_t)p);
	if (credit)
		roar_track_send_credit(p, credit, ROAR_VIA_OPEN);
}
