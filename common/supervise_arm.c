/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor's filter and its arming (include/roar/supervise.h).
 *
 * Facts relied on: seccomp(SECCOMP_SET_MODE_FILTER) needs no privilege
 * once no_new_privs is set (prctl(2)); with SECCOMP_FILTER_FLAG_NEW_LISTENER
 * it returns a close-on-exec listener fd; a filter survives execve and is
 * inherited by every child; a notified call waits until the listener's
 * holder answers, and fails with ENOSYS once nobody holds it.  A cBPF
 * filter sees only the call's number, architecture and six raw argument
 * words (struct seccomp_data), little-endian here, so the low half of an
 * argument is at its offset.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sched.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "roar/scm.h"
#include "roar/supervise.h"

/* Where a jump goes: resolved when the program is complete. */
enum label {
	L_ALLOW,
	L_NOTIFY,
	L_FD,
	L_MMAP,
	L_CLONE,
	L_COUNT
};

struct prog {
	struct sock_filter *f;
	unsigned n, cap;
	int fix_label[ROAR_SUP_FILTER_MAX]; /* per insn: jt's label, or -1 */
	unsigned at[L_COUNT];
	bool full;
};

static void
emit(struct prog *p, struct sock_filter ins, int label)
{
	if (p->n >= p->cap || p->n >= ROAR_SUP_FILTER_MAX) {
		p->full = true;
		return;
	}
	p->fix_label[p->n] = label;
	p->f[p->n++] = ins;
}

#define LD(off) ((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off)))
#define RET(v) ((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (v)))
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))

/* if (A == k) goto label */
static void
jeq_to(struct prog *p, uint32_t k, enum label l)
{
	emit(p,
	     (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 0),
	     (int)l);
}

static void
mark(struct prog *p, enum label l)
{
	p->at[l] = p->n;
}

/* Every watched call whose arguments need no look. */
static const uint32_t always[] = {
	SYS_open,
	SYS_openat,
	SYS_creat,
	SYS_rename,
	SYS_renameat,
	SYS_renameat2,
	SYS_link,
	SYS_linkat,
	SYS_truncate,
	SYS_execve,
	SYS_execveat,
	SYS_exit_group,
	SYS_fork,
	SYS_vfork,
	SYS_dup2,
	SYS_dup3,
	SYS_sendfile,
	SYS_splice,
	SYS_copy_file_range,
#ifdef SYS_openat2
	SYS_openat2,
#endif
#ifdef SYS_clone3
	SYS_clone3,
#endif
#ifdef SYS_close_range
	SYS_close_range,
#endif
#ifdef SYS_io_uring_setup
	SYS_io_uring_setup,
#endif
};

/* Calls on the fd in their first argument: watched above stderr. */
static const uint32_t on_fd[] = {
	SYS_read,    SYS_readv,    SYS_pread64, SYS_preadv, SYS_write,
	SYS_writev,  SYS_pwrite64, SYS_pwritev, SYS_close,  SYS_ftruncate,
#ifdef SYS_preadv2
	SYS_preadv2, SYS_pwritev2,
#endif
};

int
roar_sup_filter(struct sock_filter *out, unsigned cap)
{
	struct prog p = { .f = out, .cap = cap };

	emit(&p, LD(offsetof(struct seccomp_data, arch)), -1);
	emit(&p,
	     (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					  AUDIT_ARCH_X86_64, 1, 0),
	     -1);
	emit(&p, RET(SECCOMP_RET_ALLOW), -1);
	/* The probe (supervise.h): fchdir of a number no fd has. */
	emit(&p, LD(offsetof(struct seccomp_data, nr)), -1);
	emit(&p,
	     (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fchdir,
					  0, 3),
	     -1);
	emit(&p, LD(ARG_LO(0)), -1);
	emit(&p,
	     (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					  ROAR_SUP_PROBE_FD, 0, 1),
	     -1);
	emit(&p, RET(SECCOMP_RET_ERRNO | ROAR_SUP_PROBE_ERRNO), -1);
	emit(&p, LD(offsetof(struct seccomp_data, nr)), -1);
	/* x32 calls (bit 30) are another ABI: not ours. */
	emit(&p,
	     (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
					  0x40000000u, 0, 1),
	     -1);
	emit(&p, RET(SECCOMP_RET_ALLOW), -1);
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		jeq_to(&p, always[i], L_NOTIFY);
	for (size_t i = 0; i < sizeof(on_fd) / sizeof(on_fd[0]); i++)
		jeq_to(&p, on_fd[i], L_FD);
	jeq_to(&p, SYS_mmap, L_MMAP);
	jeq_to(&p, SYS_clone, L_CLONE);
	mark(&p, L_ALLOW);
	emit(&p, RET(SECCOMP_RET_ALLOW), -1);
	mark(&p, L_NOTIFY);
	emit(&p, RET(SECCOMP_RET_USER_NOTIF), -1);
	/* fd > 2 (as an unsigned int: a negative fd is notified too) */
	mark(&p, L_FD);
	emit(&p, LD(ARG_LO(0)), -1);
	emit(&p,
	     (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 2, 0, 1),
	     -1);
	emit(&p, RET(SECCOMP_RET_USER_NOTIF), -1);
	emit(&p, RET(SECCOMP_RET_ALLOW), -1);
	/* mmap of a file: fd (arg 4) not -1 and not MAP_ANONYMOUS */
	mark(&p, L_MMAP);
	emit(&p, LD(ARG_LO(4)), -1);
	emit(&p,
	     (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					  0xffffffffu, 3, 0),
	     -1);
	emit(&p, LD(ARG_LO(3)), -1);
	emit(&p,
	     (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
					  MAP_ANONYMOUS, 1, 0),
	     -1);
	emit(&p, RET(SECCOMP_RET_USER_NOTIF), -1);
	emit(&p, RET(SECCOMP_RET_ALLOW), -1);
	/* clone of a process, not a thread (flags in arg 0) */
	mark(&p, L_CLONE);
	emit(&p, LD(ARG_LO(0)), -1);
	emit(&p,
	     (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
					  CLONE_THREAD, 0, 1),
	     -1);
	emit(&p, RET(SECCOMP_RET_ALLOW), -1);
	emit(&p, RET(SECCOMP_RET_USER_NOTIF), -1);
	if (p.full)
		return -1;
	for (unsigned i = 0; i < p.n; i++) {
		unsigned rel;

		if (p.fix_label[i] < 0)
			continue;
		rel = p.at[p.fix_label[i]] - (i + 1);
		if (rel > 255)
			return -1;
		p.f[i].jt = (unsigned char)rel;
	}
	return (int)p.n;
}

int
roar_sup_armed(roar_syscall_fn sys)
{
	int saved = errno, armed;

	armed = sys(SYS_fchdir, (long)ROAR_SUP_PROBE_FD) < 0 &&
		errno == ROAR_SUP_PROBE_ERRNO;
	errno = saved;
	return armed;
}

int
roar_sup_available(roar_syscall_fn sys)
{
	uint32_t action = SECCOMP_RET_USER_NOTIF;
	struct seccomp_notif_sizes sz;

	if (sys(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) != 0)
		return -errno;
	if (sys(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) != 0)
		return -errno;
	return 0;
}

int
roar_sup_arm_fd(roar_syscall_fn sys, int fd, const void *frame, size_t len)
{
	struct sock_filter f[ROAR_SUP_FILTER_MAX];
	struct sock_fprog prog;
	struct roar_scm scm;
	long listener;
	int n, rc;

	n = roar_sup_filter(f, ROAR_SUP_FILTER_MAX);
	if (n < 0)
		return -ENOSPC;
	rc = roar_sup_available(sys);
	if (rc != 0)
		return rc;
	if (sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	prog.len = (unsigned short)n;
	prog.filter = f;
	listener = sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		       SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (listener < 0)
		return -errno;
	/* sendmsg is not a watched call: it cannot wait on ourselves. */
	if (sys(SYS_sendmsg, fd, roar_scm_send(&scm, frame, len, (int)listener),
		MSG_NOSIGNAL) != (long)len)
		return -(errno ? errno : EPIPE);
	return 0;
}

int
roar_sup_arm(roar_syscall_fn sys, const char *sock, const void *frame,
	     size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t slen = strlen(sock);
	long fd;
	int rc;

	if (slen >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	rc = roar_sup_available(sys);
	if (rc != 0)
		return rc;
	memcpy(sa.sun_path, sock, slen + 1);
	fd = sys(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sys(SYS_connect, fd, &sa, sizeof(sa)) != 0) {
		rc = -errno;
		sys(SYS_close, fd);
		return rc;
	}
	rc = roar_sup_arm_fd(sys, (int)fd, frame, len);
	/* Not armed: nothing watches close yet.  Armed: the socket is
	 * close-on-exec (and close is watched now). */
	if (rc != 0 && !roar_sup_armed(sys))
		sys(SYS_close, fd);
	return rc;
}
