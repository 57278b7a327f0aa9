/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What each watched call means (supervise.h): the same credits as the
 * library's hooks ("What counts" in docs/roar-compat.md), from the call's
 * arguments (supervise_look.c) and the state of its process
 * (supervise_proc.c).  Each call is answered as soon as what must be read
 * before it runs is read; SECCOMP_IOCTL_NOTIF_ID_VALID after a read of
 * the caller's memory tells that the pid was not reused meanwhile.
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
#include "event.h"
#include "supervise_int.h"

/* ---- the calls ----------------------------------------------------------- */

static bool
still_valid(int listener, uint64_t id)
{
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

int
sup_answer(struct roar_sup *s, int listener, uint64_t id)
{
	struct seccomp_notif_resp *resp = s->resp;

	memset(resp, 0, s->resp_size);
	resp->id = id;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
}

/* Keep op for t, judged after the call (settle_op). */
static void
pend(struct roar_sup *s, struct sup_task *t, enum sup_op_kind kind,
     const char *abs, bool literal, int flags, bool existed, bool follow,
     const char *via)
{
	sup_op_clear(s, &t->op);
	t->op = (struct sup_op){ .at_ms = roar_mono_ms(),
				 .kind = kind,
				 .flags = flags,
				 .existed = existed,
				 .follow = follow,
				 .via = via,
				 .path = roar_xstrdup(abs),
				 .literal = literal };
	s->npending++;
}

/* The path argument at arg of the call, resolved from dirfd; literal:
 * see struct sup_op (NULL: not wanted). */
static bool
path_arg(struct roar_sup *s, struct sup_proc *p, pid_t tid, int dirfd,
	 uint64_t arg, char *out, size_t cap, bool *literal)
{
	bool lit;

	char raw[PATH_MAX];

	if (sup_read_string(tid, arg, raw, sizeof(raw)) < 0) {
		s->st.unreadable++;
		if (!p->said_memory && errno == EPERM) {
			p->said_memory = true;
			sup_emit_unseen(s, p, ROAR_UNSEEN_MEMORY);
		}
		return false;
	}
	if (!raw[0])
		return false;
	return sup_absolute(p->pid, dirfd, raw, &p->cwd, out, cap,
			    literal ? literal : &lit);
}

static void
on_open(struct roar_sup *s, int listener, const struct seccomp_notif *n,
	struct sup_task *t, int dirfd, uint64_t patharg, int flags)
{
	struct sup_proc *p = t->p;
	char abs[PATH_MAX];
	struct stat st;
	bool ok, existed = false, literal = false;

	ok = path_arg(s, p, t->tid, dirfd, patharg, abs, sizeof(abs), &literal);
	if (ok && p->mode == SUP_PENDING) {
		/* The first open of a dynamic image: our library, or not. */
		p->mode = sup_is_our_library(abs) ? SUP_PRELOAD : SUP_OWN;
		if (p->mode == SUP_OWN)
			sup_say_exec_hello(s, p, NULL);
	}
	if (ok && (sup_is_our_library(abs) ||
		   (p->loading && sup_is_loader_file(abs))))
		ok = false; /* the loader's, or our library itself */
	else if (ok)
		p->loading = false;
	/* Whether it creates the file matters only where the flags alone
	 * do not make the open a write. */
	if (ok && p->mode == SUP_OWN && (flags & O_CREAT) &&
	    roar_open_credit(flags, false) != ROAR_CREDIT_WRITE)
		existed = stat(abs, &st) == 0;
	ok = ok && still_valid(listener, n->id);
	sup_answer(s, listener, n->id);
	if (ok && p->mode == SUP_OWN)
		pend(s, t, SUP_OP_OPEN, abs, literal, flags, existed,
		     !(flags & O_NOFOLLOW), ROAR_VIA_OPEN);
}

static void
on_name(struct roar_sup *s, int listener, const struct seccomp_notif *n,
	struct sup_task *t, int dirfd, uint64_t patharg, bool follow,
	const char *via)
{
	char abs[PATH_MAX];
	bool literal = false;
	bool ok = t->p->mode == SUP_OWN &&
		  path_arg(s, t->p, t->tid, dirfd, patharg, abs, sizeof(abs),
			   &literal) &&
		  still_valid(listener, n->id);

	sup_answer(s, listener, n->id);
	if (ok)
		pend(s, t, SUP_OP_NAME, abs, literal, 0, false, follow, via);
}

static void
on_exec(struct roar_sup *s, int listener, const struct seccomp_notif *n,
	struct sup_task *t, int dirfd, uint64_t patharg, uint64_t argv,
	uint64_t envp, int at_flags)
{
	struct sup_proc *p = t->p;
	char abs[PATH_MAX] = "";
	struct stat st;
	bool ok;

	if ((at_flags & AT_EMPTY_PATH) && dirfd >= 0)
		ok = sup_fd_look(p, dirfd, &st, abs, sizeof(abs)) == 0 &&
		     abs[0] == '/';
	else
		ok = path_arg(s, p, t->tid, dirfd, patharg, abs, sizeof(abs),
			      NULL);
	sup_settle_exec(s, p);
	if (ok) {
		/* The image it runs now, to tell whether the exec happened
		 * (a fork child knows its parent's: no read), and what the
		 * new one is given, read while the call waits. */
		bool direct;

		sup_image_know(p, t->tid);
		free(p->exec_path);
		p->exec_path = roar_xstrdup(abs);
		free(p->exec_args);
		p->exec_mode = sup_exec_mode(s, p, abs, &p->exec_exe, &direct);
		/* Not for a script (the kernel rewrites argv for its
		 * interpreter), nor for a file not there (the exec fails). */
		p->exec_args = p->exec_mode == SUP_OWN && direct
				       ? sup_args_read(s, t->tid, argv, envp)
				       : NULL;
		p->exec_tid = t->tid;
		p->exec_pending = true;
		s->npending++;
	}
	sup_answer(s, listener, n->id);
	if (ok && p->mode == SUP_OWN) {
		/* Its argv comes with the new image's hello (/proc). */
		char *argv[] = { NULL };

		SUP_EMIT(s, SUP_SMALL_FRAME,
			 roar_event_exec(
				 f, &(struct roar_event_ids){ p->pid, t->tid },
				 0, p->ppid, abs, argv, roar_now()));
	}
}

/* What a process-making call's flags are (clone3: from its clone_args;
 * 0 when unknown). */
static uint64_t
clone_flags(const struct seccomp_notif *n, pid_t tid)
{
	uint64_t flags = 0;

	switch (n->data.nr) {
	case SYS_clone:
		return n->data.args[0];
#ifdef SYS_clone3
	case SYS_clone3:
		if (!sup_read_mem(tid, n->data.args[0], &flags, sizeof(flags)))
			return 0;
		return flags;
#endif
	default:
		return 0; /* fork, vfork */
	}
}

/*
 * A process-making call: its child runs this image, in this cwd, from
 * now on.  Counted (p->unseen) until the child is seen: a child seen
 * while its parent has another one unseen might be either, and learns
 * its image and cwd from /proc instead.  A thread is no new process.
 */
static void
on_fork(struct roar_sup *s, int listener, const struct seccomp_notif *n,
	struct sup_task *t)
{
	struct sup_proc *p = t->p, *gp;
	uint64_t flags = clone_flags(n, t->tid);

	sup_answer(s, listener, n->id);
	if (flags & CLONE_THREAD)
		return;
	if (flags & CLONE_PARENT) {
		/* Its child is its parent's, and runs our image, not the
		 * one its parent forks in: the parent's children are told
		 * apart no more until all were seen. */
		gp = roar_map_get(&s->procs, (uint64_t)p->ppid);
		if (gp) {
			gp->unseen++;
			gp->mixed = true;
		}
		return;
	}
	p->fork_time = roar_now();
	p->fork_gen = p->image_gen + 1; /* 0: none */
	p->unseen++;
	free(p->fork_cwd);
	p->fork_cwd = p->cwd ? roar_xstrdup(p->cwd) : NULL;
	/* Its children start with its image: read it once. */
	sup_image_know(p, t->tid);
}

static void
on_exit_group(struct roar_sup *s, int listener, const struct seccomp_notif *n,
	      struct sup_task *t, int status)
{
	struct sup_proc *p = t->p;

	sup_settle_proc(s, p, true);
	sup_answer(s, listener, n->id);
	if (p->mode == SUP_OWN) {
		SUP_EMIT(s, 256,
			 roar_event_exit(
				 f, &(struct roar_event_ids){ p->pid, t->tid },
				 p->ppid, status & 0xff, roar_now(), 0));
	}
	sup_proc_free(s, p);
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
		sup_answer(s, listener, n->id);
		sup_fd_forget(p, (long)(int)a[0], (long)(int)a[0]);
		return;
	}
	if (nr == SYS_dup2 || nr == SYS_dup3) {
		sup_answer(s, listener, n->id);
		sup_fd_forget(p, (long)(int)a[1], (long)(int)a[1]);
		return;
	}
#ifdef SYS_close_range
	if (nr == SYS_close_range) {
		sup_answer(s, listener, n->id);
		sup_fd_forget(p, (long)(unsigned)a[0],
			      a[1] > (1u << 20) ? (1L << 20) : (long)a[1]);
		return;
	}
#endif
	sup_answer(s, listener, n->id);
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
		sup_fd_credit(s, p, t->tid, (long)(int)a[0], SUP_FD_READ);
		break;
	case SYS_write:
	case SYS_writev:
	case SYS_pwrite64:
	case SYS_pwritev:
#ifdef SYS_pwritev2
	case SYS_pwritev2:
#endif
	case SYS_ftruncate:
		sup_fd_credit(s, p, t->tid, (long)(int)a[0], SUP_FD_WRITE);
		break;
	case SYS_sendfile:
		sup_fd_credit(s, p, t->tid, (long)(int)a[1], SUP_FD_READ);
		sup_fd_credit(s, p, t->tid, (long)(int)a[0], SUP_FD_WRITE);
		break;
	case SYS_splice:
	case SYS_copy_file_range:
		sup_fd_credit(s, p, t->tid, (long)(int)a[0], SUP_FD_READ);
		sup_fd_credit(s, p, t->tid, (long)(int)a[2], SUP_FD_WRITE);
		break;
	case SYS_mmap:
		if (a[2] & PROT_READ)
			sup_fd_credit(s, p, t->tid, (long)(int)a[4],
				      SUP_FD_READ);
		if ((a[2] & PROT_WRITE) && (a[3] & MAP_SHARED))
			sup_fd_credit(s, p, t->tid, (long)(int)a[4],
				      SUP_FD_WRITE);
		break;
	}
}

void
roar_sup_handle(struct roar_sup *s, int listener)
{
	const struct seccomp_notif *n = s->req;
	const __u64 *a = n->data.args;
	struct sup_task *t = sup_task_of(s, (pid_t)n->pid);
	uint64_t how[3];

	if (!t) {
		sup_answer(s, listener, n->id);
		return;
	}
	/* Its previous call has returned: judge it. */
	sup_settle_op(s, t, true);
	if (n->data.nr != SYS_execve && n->data.nr != SYS_execveat)
		sup_settle_exec(s, t->p);
	if (t->p->mode == SUP_BLIND)
		sup_unblind(s, t->p);
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
		if (!sup_read_mem(t->tid, a[2], how, sizeof(how)))
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
		on_exec(s, listener, n, t, AT_FDCWD, a[0], a[1], a[2], 0);
		return;
	case SYS_execveat:
		on_exec(s, listener, n, t, (int)a[0], a[1], a[2], a[3],
			(int)a[4]);
		return;
	case SYS_exit_group:
		on_exit_group(s, listener, n, t, (int)a[0]);
		return;
	case SYS_chdir:
	case SYS_fchdir:
		/* Its cwd is asked of /proc again at its next relative name
		 * (a vfork child shares it: its parent's is forgotten too
		 * when the child's call is the parent's process's). */
		sup_answer(s, listener, n->id);
		free(t->p->cwd);
		t->p->cwd = NULL;
		return;
	case SYS_fork:
	case SYS_vfork:
	case SYS_clone:
#ifdef SYS_clone3
	case SYS_clone3:
#endif
		on_fork(s, listener, n, t);
		return;
#ifdef SYS_io_uring_setup
	case SYS_io_uring_setup:
		sup_answer(s, listener, n->id);
		if (!t->p->said_uring) {
			t->p->said_uring = true;
			sup_emit_unseen(s, t->p, ROAR_UNSEEN_IO_URING);
		}
		return;
#endif
	default:
		on_fds(s, listener, n, t);
		return;
	}
}
