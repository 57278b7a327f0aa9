/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exported shims of process creation and ending: fork, the exec family,
 * posix_spawn, system, popen and pclose, clone, _exit and the wait
 * family.  glibc's execvp, execl* and posix_spawn reach execve through
 * internal aliases, so every entry point is hooked and each mends its own
 * environment.
 *
 * vfork stays the kernel's vfork (vfork.c only marks the calling thread):
 * serving it with fork would change what the program sees (a vfork
 * child's stores to its parent's memory) and what it costs (page tables
 * of a big process copied, ENOMEM under strict overcommit).  A vfork
 * child is announced by its exec or its exit instead.  The exec shims may
 * run in one (shared memory with a suspended parent): they ask
 * roar_lifecycle_enter who runs, and then use only the stack, a borrowed
 * scratch slot and a connection of their own (track_proc.c).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/syscall.h>

#include "hook.h"
#include "session.h"
#include "shell.h"
#include "supervise.h"

extern char **environ;

enum exec_call {
	CALL_EXECVE,
	CALL_EXECVPE,
	CALL_FEXECVE,
	CALL_EXECVEAT,     /* fd is the dirfd, flags in at_flags */
	CALL_SYS_EXECVE,   /* syscall(SYS_execve, ...) */
	CALL_SYS_EXECVEAT, /* syscall(SYS_execveat, ...) */
};

/* execl* copy up to this many arguments onto the stack; more go to a
 * scratch slot (no array over 1 KiB on the caller's stack). */
#define EXECL_STACK_ARGS 64

static int
call_exec(enum exec_call c, const char *file, int fd, int at_flags,
	  char *const argv[], char *const envp[])
{
	const struct roar_real *r = roar_real_get();

	switch (c) {
	case CALL_EXECVE:
		return r->execve(file, argv, envp);
	case CALL_EXECVPE:
		return r->execvpe(file, argv, envp);
	case CALL_FEXECVE:
		return r->fexecve(fd, argv, envp);
	case CALL_EXECVEAT:
		return r->execveat(fd, file, argv, envp, at_flags);
	case CALL_SYS_EXECVE:
		return (int)r->syscall(SYS_execve, file, argv, envp);
	case CALL_SYS_EXECVEAT:
		return (int)r->syscall(SYS_execveat, fd, file, argv, envp,
				       at_flags);
	}
	__builtin_unreachable();
}

static int
do_exec_at(enum exec_call c, const char *file, int fd, int at_flags,
	   char *const argv[], char *const envp[])
{
	char fdname[ROAR_FD_PROC_PATH_SIZE];
	char target[PATH_MAX];
	enum roar_tracer tr;
	const char *name;
	enum roar_who who = roar_lifecycle_enter();
	struct roar_scratch sc;
	char *const *env;
	int ret, saved, conn;
	double t;

	sc.base = NULL;
	/* Inside roar already (a handler interrupting a hook): pass on. */
	if (who == ROAR_WHO_INSIDE)
		return call_exec(c, file, fd, at_flags, argv, envp);
	name = file;
	if (c == CALL_FEXECVE ||
	    ((c == CALL_EXECVEAT || c == CALL_SYS_EXECVEAT) &&
	     (at_flags & AT_EMPTY_PATH) && file && !*file)) {
		roar_fd_proc_path(fd, fdname);
		name = fdname;
	}
	/* Who will see the new image: our library takes this connection
	 * over; any other must not inherit it (an fd it does not know). */
	tr = roar_preload_sup_judge(name, c == CALL_EXECVPE, target,
				    sizeof(target));
	t = roar_track_exec(who, name, argv, &conn, tr == ROAR_TRACER_PRELOAD);
	env = roar_track_mend_env(envp, &sc, who == ROAR_WHO_SHARED, conn);
	/* Last before the exec: from here on our own calls are watched. */
	if (tr == ROAR_TRACER_SUPERVISOR)
		roar_preload_sup_arm(who, target);
	ret = call_exec(c, file, fd, at_flags, argv, env);
	saved = errno;
	roar_scratch_put(&sc);
	roar_track_exec_failed(who, saved, t);
	if (who == ROAR_WHO_SELF)
		roar_guard_leave();
	errno = saved;
	return ret;
}

static int
do_exec(enum exec_call c, const char *file, int fd, char *const argv[],
	char *const envp[])
{
	return do_exec_at(c, file, fd, 0, argv, envp);
}

long
roar_hook_exec_syscall(long nr, const long a[6])
{
	if (nr == SYS_execve)
		return do_exec_at(CALL_SYS_EXECVE, (const char *)a[0], -1, 0,
				  (char *const *)a[1], (char *const *)a[2]);
	return do_exec_at(CALL_SYS_EXECVEAT, (const char *)a[1], (int)a[0],
			  (int)a[4], (char *const *)a[2], (char *const *)a[3]);
}

ROAR_EXPORT int
execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
	 int flags)
{
	return do_exec_at(CALL_EXECVEAT, path, dirfd, flags, argv, envp);
}

ROAR_EXPORT int
execve(const char *path, char *const argv[], char *const envp[])
{
	return do_exec(CALL_EXECVE, path, -1, argv, envp);
}

ROAR_EXPORT int
execv(const char *path, char *const argv[])
{
	return do_exec(CALL_EXECVE, path, -1, argv, environ);
}

ROAR_EXPORT int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	return do_exec(CALL_EXECVPE, file, -1, argv, envp);
}

ROAR_EXPORT int
execvp(const char *file, char *const argv[])
{
	return do_exec(CALL_EXECVPE, file, -1, argv, environ);
}

ROAR_EXPORT int
fexecve(int fd, char *const argv[], char *const envp[])
{
	return do_exec(CALL_FEXECVE, NULL, fd, argv, envp);
}

/*
 * execl, execlp, execle: count the arguments, copy them into an array
 * (musl execl.c: on the stack; past EXECL_STACK_ARGS into this thread's
 * scratch slot, which a vfork child may borrow), and go through do_exec.
 */
#define EXECL_BODY(call, file, arg0, with_env)                               \
	va_list ap;                                                          \
	size_t argc = 1;                                                     \
	char *const *envp = environ;                                         \
	char *small[EXECL_STACK_ARGS + 1];                                   \
	char **argv = small;                                                 \
	struct roar_scratch sc;                                              \
                                                                             \
	va_start(ap, arg0);                                                  \
	while (va_arg(ap, const char *))                                     \
		argc++;                                                      \
	va_end(ap);                                                          \
	if (argc > EXECL_STACK_ARGS) {                                       \
		argv = roar_scratch_get(                                     \
			&sc, ROAR_SCRATCH_ARGV, (argc + 1) * sizeof(char *), \
			roar_in_vfork || !roar_session_is_self());           \
		if (!argv) {                                                 \
			errno = ENOMEM;                                      \
			return -1;                                           \
		}                                                            \
	}                                                                    \
	va_start(ap, arg0);                                                  \
	argv[0] = (char *)(arg0);                                            \
	for (size_t i = 1; i <= argc; i++)                                   \
		argv[i] = va_arg(ap, char *);                                \
	if (with_env)                                                        \
		envp = va_arg(ap, char *const *);                            \
	va_end(ap);                                                          \
	{                                                                    \
		int ret_ = do_exec(call, file, -1, argv, envp);              \
		int err_ = errno;                                            \
                                                                             \
		if (argv != small)                                           \
			roar_scratch_put(&sc);                               \
		errno = err_;                                                \
		return ret_;                                                 \
	}

ROAR_EXPORT int
execl(const char *path, const char *arg0,
      ...){ EXECL_BODY(CALL_EXECVE, path, arg0, false) }

ROAR_EXPORT int execlp(const char *file, const char *arg0,
		       ...){ EXECL_BODY(CALL_EXECVPE, file, arg0, false) }

ROAR_EXPORT int execle(const char *path, const char *arg0,
		       ...){ EXECL_BODY(CALL_EXECVE, path, arg0, true) }

/* The atfork handlers (lifecycle.c) make the child; this only reports. */
ROAR_EXPORT pid_t fork(void)
{
	pid_t ret;

	roar_fork_hooked = true;
	ret = ROAR_REAL(fork)();
	roar_fork_hooked = false;

	if (ret > 0)
		ROAR_AFTER(roar_track_fork_parent(ret));
	return ret;
}

ROAR_EXPORT int
posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
	    const posix_spawnattr_t *attr, char *const argv[],
	    char *const envp[])
{
	return roar_track_spawn(false, pid, path, fa, attr, argv, envp);
}

ROAR_EXPORT int
posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
	     const posix_spawnattr_t *attr, char *const argv[],
	     char *const envp[])
{
	return roar_track_spawn(true, pid, file, fa, attr, argv, envp);
}

static void
before_exit(int status)
{
	enum roar_who who = roar_lifecycle_enter();

	if (who != ROAR_WHO_INSIDE)
		roar_track_exit(who, status);
}

ROAR_EXPORT void
_exit(int status)
{
	before_exit(status);
	ROAR_REAL(_exit)(status);
	__builtin_unreachable();
}

ROAR_EXPORT void
_Exit(int status)
{
	before_exit(status);
	ROAR_REAL(_Exit)(status);
	__builtin_unreachable();
}

static pid_t
after_wait(pid_t ret, const int *status)
{
	if (ret > 0 && status)
		ROAR_AFTER(roar_track_reaped(ret, *status));
	return ret;
}

ROAR_EXPORT pid_t
waitpid(pid_t pid, int *status, int options)
{
	int local;
	int *st = status ? status : &local;

	return after_wait(ROAR_REAL(waitpid)(pid, st, options), st);
}

ROAR_EXPORT pid_t
wait(int *status)
{
	int local;
	int *st = status ? status : &local;

	return after_wait(ROAR_REAL(wait)(st), st);
}

ROAR_EXPORT pid_t
wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	int local;
	int *st = status ? status : &local;

	return after_wait(ROAR_REAL(wait4)(pid, st, options, ru), st);
}

/*
 * system, popen and pclose: glibc starts their child through an internal
 * posix_spawn with the process environment, where no hook could mend it;
 * shell.c does what they do through roar_track_spawn instead.
 */
ROAR_EXPORT int
system(const char *cmd)
{
	return roar_shell_system(cmd);
}

ROAR_EXPORT FILE *
popen(const char *cmd, const char *mode)
{
	FILE *f = roar_shell_popen(cmd, mode);

	/* Its pipe is made first: a full table left nothing behind. */
	if (!f && roar_hook_fd_retry())
		f = roar_shell_popen(cmd, mode);
	return f;
}

ROAR_EXPORT int
pclose(FILE *stream)
{
	return roar_shell_pclose(stream);
}

/* What a clone child without CLONE_VM needs to become a fork child. */
struct clone_start {
	int (*fn)(void *);
	void *arg;
	pid_t parent;
	double time;
	bool shares_fds;
};

static int
clone_trampoline(void *p)
{
	/* A copy of the parent's memory: this stack frame's data is ours. */
	struct clone_start *cs = p;
	int saved = errno;

	roar_lifecycle_clone_child(cs->parent, cs->time, cs->shares_fds);
	errno = saved;
	return cs->fn(cs->arg);
}

ROAR_EXPORT int
clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	struct clone_start cs = { fn, arg, roar_session.pid, roar_now(),
				  (flags & CLONE_FILES) != 0 };
	void *ptid = NULL, *tls = NULL, *ctid = NULL;
	int ret;

	/* glibc reads these only when the flags ask for them; so do we. */
	if (flags & (CLONE_PARENT_SETTID | CLONE_SETTLS | CLONE_CHILD_SETTID |
		     CLONE_CHILD_CLEARTID | CLONE_PIDFD)) {
		va_list ap;

		va_start(ap, arg);
		ptid = va_arg(ap, void *);
		tls = va_arg(ap, void *);
		ctid = va_arg(ap, void *);
		va_end(ap);
	}
	if (!(flags & CLONE_VM) && roar_ready && fn)
		ret = ROAR_REAL(clone)(clone_trampoline, stack, flags, &cs,
				       ptid, tls, ctid);
	else
		ret = ROAR_REAL(clone)(fn, stack, flags, arg, ptid, tls, ctid);
	if (ret > 0 && !(flags & CLONE_THREAD))
		ROAR_AFTER(roar_track_fork_parent(ret));
	return ret;
}
