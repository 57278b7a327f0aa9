/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Owns the fork protocol (lifecycle.h): the atfork handlers, the fork
 * canary, and what a new process does first.  The child side runs between
 * fork and exec of possibly threaded programs, so it does only
 * async-signal-safe work: resets, a socket, one frame.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kcmp.h>

#include "event.h"
#include "fmt.h"
#include "backtrace.h"
#include "guard.h"
#include "intern.h"
#include "ledger.h"
#include "lifecycle.h"
#include "log.h"
#include "real.h"
#include "session.h"
#include "shell.h"
#include "track.h"
#include "transport.h"

/*
 * The canary's page: a whole page of our own bss (which the loader maps
 * private and anonymous), page-aligned, so that MADV_WIPEONFORK applies
 * to it and nothing else, and the check is one load from a fixed
 * address.  roar_lifecycle_init arms it and makes the kernel wipe it in
 * children; arm_canary arms it for code that never calls that (unit
 * tests), since a hook before our constructor sets the library up first.
 */
_Atomic(unsigned) roar_canary_page[ROAR_CANARY_PAGE_SIZE / sizeof(unsigned)]
	__attribute__((aligned(ROAR_CANARY_PAGE_SIZE)));

__attribute__((constructor(101))) static void
arm_canary(void)
{
	atomic_store(ROAR_CANARY, 1u);
}

/* What the thread that forks knows before the fork, for its child (which
 * inherits this thread's TLS). */
static __thread struct {
	bool locked;  /* prepare took the locks (and the guard) */
	bool shell;   /* ... popen_mutex among them */
	pid_t parent; /* the process that forks */
	double time;  /* just before the fork */
} fork_state __attribute__((tls_model("initial-exec")));

/*
 * Reset every module to a fresh process's state and announce it.  Runs
 * with one thread (a fork child), with the guard held or entered here.
 */
static void
become_new_process(pid_t ppid, double time, bool late, bool shares_fds)
{
	unsigned char buf[256];
	struct roar_frame f;
	struct roar_hello h = {
		.ppid = ppid,
		.origin = ROAR_ORIGIN_FORK,
		.time = time,
		.late = late,
		/* A fork child may be the first of a new PID namespace. */
		.pidns = roar_session_pidns(),
	};

	roar_session_atfork_child((pid_t)ROAR_SYS(SYS_getpid));
	roar_intern_atfork_child();
	roar_track_atfork_child();
	roar_backtrace_atfork_child();
	roar_shell_atfork_child();
	roar_transport_atfork_child(shares_fds);
	roar_park_atfork_child();
	roar_ledger_atfork_child(roar_session.pid, ppid);
	h.has_ledger = roar_ledger_slot() >= 0;
	h.ledger = (uint64_t)roar_ledger_slot();
	roar_frame_init(&f, buf, sizeof(buf));
	/*
	 * At once, not with the child's first frame: the fork may have been
	 * made inside libc (daemon(3)) with no fork event from the parent,
	 * and the collector must know the child before its parent ends.
	 */
	if (roar_event_hello(&f,
			     &(struct roar_event_ids){ roar_session.pid,
						       roar_session.pid },
			     &h) == 0) {
		roar_transport_hello_next();
		roar_transport_send(f.data, f.len);
	} else
		roar_transport_count_drop();
}

void
roar_lifecycle_noticed(void)
{
	int saved = errno;

	/* One winner, even against a signal handler on this thread. */
	if (atomic_exchange(ROAR_CANARY, 1u) != 0)
		return;
	roar_guard_depth++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	/* No handler saw the fork: its time is now, its parent the
	 * kernel's (the forker, unless that has already gone). */
	pid_t ppid = (pid_t)ROAR_SYS(SYS_getppid);

	/* Made by a raw clone: with CLONE_FILES the connection's fd is the
	 * parent's own.  Closed only when kcmp says the tables differ: when
	 * it cannot say (seccomp, no CONFIG_KCMP), forgetting the fd leaks
	 * it at worst, where closing could take the parent's. */
	become_new_process(ppid, roar_now(), true,
			   ROAR_SYS(SYS_kcmp, (pid_t)ROAR_SYS(SYS_getpid), ppid,
				    KCMP_FILES, 0, 0) <= 0);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	roar_guard_depth--;
	errno = saved;
}

void
roar_lifecycle_clone_child(pid_t parent, double time, bool shares_fds)
{
	/* The canary says whether this is news (the copy of memory wiped
	 * it); the trampoline runs before any hook could notice. */
	if (atomic_exchange(ROAR_CANARY, 1u) != 0 || !roar_ready)
		return;
	roar_guard_depth++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	become_new_process(parent, time, false, shares_fds);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	roar_guard_depth--;
}

static void
at_prepare(void)
{
	int saved = errno;

	/* A process nobody announced yet (made by _Fork or a raw clone)
	 * becomes itself first, so that its child gets the right parent. */
	if (roar_ready && roar_guard_depth == 0 && !roar_in_vfork &&
	    !atomic_load_explicit(ROAR_CANARY, memory_order_relaxed))
		roar_lifecycle_noticed();
	fork_state.parent = roar_session.pid;
	fork_state.time = roar_now();
	/* A fork from inside roar (a handler that interrupted a hook) must
	 * not wait for locks its own thread may hold. */
	/* A fork from a vfork child must not take its suspended parent's
	 * locks either: they are the parent's. */
	fork_state.locked = roar_ready && roar_guard_depth == 0 &&
			    !roar_in_vfork;
	if (fork_state.locked) {
		roar_guard_depth++;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		/* The order of lock.h: unwind_lock (which a load of
		 * libunwind holds), then the mutex, so that waiting for a
		 * popen's spawn holds no other spin lock. */
		roar_backtrace_prepare();
		fork_state.shell = roar_shell_prepare();
		roar_intern_prepare();
		roar_track_prepare();
		roar_transport_prepare();
	}
	errno = saved;
}

__thread bool roar_fork_hooked __attribute__((tls_model("initial-exec")));

/*
 * A fork our fork hook did not see (daemon(3), forkpty(3), libc's own):
 * nobody will report the child from this side, and its own hello may
 * come after this process ended, the run with it.  The kernel lists this
 * thread's children: report them at once (a fork event for a child
 * already known changes nothing).
 */
static void
report_children(void)
{
	char path[64] = "/proc/self/task/", buf[4096];
	char *w = roar_fmt_uint(path + strlen(path),
				(unsigned long)roar_session_tid());
	long fd, n;

	memcpy(w, "/children", sizeof("/children"));
	fd = ROAR_SYS(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = ROAR_SYS(SYS_read, (int)fd, buf, sizeof(buf) - 1);
	ROAR_SYS(SYS_close, (int)fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (char *p = buf; *p;) {
		long pid = 0;

		while (*p == ' ' || *p == '\n')
			p++;
		while (*p >= '0' && *p <= '9')
			pid = pid * 10 + (*p++ - '0');
		if (pid > 0)
			roar_track_fork_seen((pid_t)pid);
		else if (*p)
			p++;
	}
}

static void
at_parent(void)
{
	int saved = errno;

	if (fork_state.locked) {
		roar_transport_parent();
		roar_track_parent();
		roar_intern_parent();
		if (fork_state.shell)
			roar_shell_parent();
		roar_backtrace_parent();
		if (!roar_fork_hooked)
			report_children();
		fork_state.locked = false;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		roar_guard_depth--;
	}
	errno = saved;
}

static void
at_child(void)
{
	int saved = errno;

	/* The kernel wiped the canary; this handler is the notice.  A fork
	 * from a vfork child has memory of its own: not marked any more. */
	atomic_store(ROAR_CANARY, 1u);
	roar_in_vfork = 0;
	if (roar_ready)
		become_new_process(fork_state.parent, fork_state.time, false,
				   false);
	if (fork_state.locked) {
		fork_state.locked = false;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		roar_guard_depth--;
	}
	errno = saved;
}

void
roar_lifecycle_init(void)
{
	atomic_store(ROAR_CANARY, 1u);
	if (madvise(roar_canary_page, sizeof(roar_canary_page),
		    MADV_WIPEONFORK) != 0)
		/* Before Linux 4.14: forks that bypass the C library's
		 * handlers go unnoticed until they exec or exit. */
		ROAR_LOG("lifecycle: no MADV_WIPEONFORK, raw clones unseen");
	pthread_atfork(at_prepare, at_parent, at_child);
}

enum roar_who
roar_lifecycle_enter(void)
{
	if (!roar_ready || roar_guard_depth)
		return ROAR_WHO_INSIDE;
	if (roar_in_vfork)
		return ROAR_WHO_SHARED;
	/* A wiped canary: memory of our own, a process nobody announced
	 * (roar_guard_enter announces it).  Otherwise a pid that is not
	 * the session's means memory shared with a parent: a child of a
	 * vfork the shim did not see (other architectures, a raw clone
	 * with CLONE_VM). */
	if (atomic_load_explicit(ROAR_CANARY, memory_order_relaxed) &&
	    (pid_t)ROAR_SYS(SYS_getpid) != roar_session.pid)
		return ROAR_WHO_SHARED;
	return roar_guard_enter() ? ROAR_WHO_SELF : ROAR_WHO_INSIDE;
}
