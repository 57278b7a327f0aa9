/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exported shims of process creation and ending: fork, vfork, the exec
 * family, posix_spawn, _exit and the wait family.  glibc's execvp, execl*
 * and posix_spawn reach execve through internal aliases, so every entry
 * point is hooked and each mends its own environment.
 *
 * The exec shims may run in a vfork child (shared memory with a suspended
 * parent): they use only the stack and a connection of their own, and do
 * not touch the guard, whose TLS the parent shares.
 */
#include "config.h"

#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hook.h"
#include "session.h"

extern char **environ;

enum exec_call {
	CALL_EXECVE,
	CALL_EXECVPE,
	CALL_FEXECVE,
};

/* Room for a rebuilt LD_PRELOAD entry. */
#define PRELOAD_BUF (2 * PATH_MAX + 64)

static int
call_exec(enum exec_call c, const char *file, int fd, char *const argv[],
	  char *const envp[])
{
	const struct roar_real *r = roar_real_get();

	switch (c) {
	case CALL_EXECVE:
		return r->execve(file, argv, envp);
	case CALL_EXECVPE:
		return r->execvpe(file, argv, envp);
	case CALL_FEXECVE:
		return r->fexecve(fd, argv, envp);
	}
	__builtin_unreachable();
}

static int
do_exec(enum exec_call c, const char *file, int fd, char *const argv[],
	char *const envp[])
{
	char preload[PRELOAD_BUF];
	char fdname[ROAR_FD_PROC_PATH_SIZE];
	int ret, saved;
	double t;

	/* Inside roar already (a handler interrupting a hook): pass on. */
	if (!roar_ready || roar_guard_depth)
		return call_exec(c, file, fd, argv, envp);
	if (c == CALL_FEXECVE) {
		roar_fd_proc_path(fd, fdname);
		file = fdname;
	}
	{
		size_t n = roar_track_count(envp);
		char *out[n + 3];
		char *const *env = roar_track_doctor_env(envp, out, preload,
							 sizeof(preload));

		t = roar_track_exec(file, argv);
		ret = call_exec(c, file, fd, argv, env);
		saved = errno;
	}
	roar_track_exec_failed(saved, t);
	errno = saved;
	return ret;
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
 * execl, execlp, execle: count the arguments, copy them into a stack
 * array (musl execl.c), and go through do_exec.
 */
#define EXECL_BODY(call, file, arg0, with_env)                               \
	va_list ap;                                                          \
	size_t argc = 1;                                                     \
	char *const *envp = environ;                                         \
                                                                             \
	va_start(ap, arg0);                                                  \
	while (va_arg(ap, const char *))                                     \
		argc++;                                                      \
	va_end(ap);                                                          \
	{                                                                    \
		char *argv[argc + 1];                                        \
                                                                             \
		va_start(ap, arg0);                                          \
		argv[0] = (char *)(arg0);                                    \
		for (size_t i = 1; i <= argc; i++)                           \
			argv[i] = va_arg(ap, char *);                        \
		if (with_env)                                                \
			envp = va_arg(ap, char *const *);                    \
		va_end(ap);                                                  \
		return do_exec(call, file, -1, argv, envp);                  \
	}

ROAR_EXPORT int
execl(const char *path, const char *arg0, ...)
{
	EXECL_BODY(CALL_EXECVE, path, arg0, false)
}

ROAR_EXPORT int
execlp(const char *file, const char *arg0, ...)
{
	EXECL_BODY(CALL_EXECVPE, file, arg0, false)
}

ROAR_EXPORT int
execle(const char *path, const char *arg0, ...)
{
	EXECL_BODY(CALL_EXECVE, path, arg0, true)
}

static pid_t
do_fork(void)
{
	pid_t parent = roar_session.pid;
	pid_t ret = ROAR_REAL(fork)();

	if (ret == 0)
		ROAR_AFTER(roar_track_fork_child(parent));
	else if (ret > 0)
		ROAR_AFTER(roar_track_fork_parent(ret));
	return ret;
}

ROAR_EXPORT pid_t
fork(void)
{
	return do_fork();
}

/*
 * vfork is served by fork.  A C wrapper cannot return twice from a real
 * vfork (the child would clobber the frame the parent returns through),
 * and what a vfork child may do (exec or _exit) behaves the same after a
 * fork; only the parent's suspension and the speed differ.
 */
ROAR_EXPORT pid_t
vfork(void)
{
	return do_fork();
}

static int
do_spawn(bool search, pid_t *pid, const char *file,
	 const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
	 char *const argv[], char *const envp[])
{
	char preload[PRELOAD_BUF];
	size_t n = roar_track_count(envp);
	char *out[n + 3];
	char *const *env = envp;
	pid_t child = -1;
	int ret;
	/* Stamped before the child can start: its image's hello must be
	 * later than this exec, or the exec would look unanswered. */
	double t = roar_session_now();

	if (roar_ready && !roar_guard_depth)
		env = roar_track_doctor_env(envp, out, preload, sizeof(preload));
	if (search)
		ret = ROAR_REAL(posix_spawnp)(&child, file, fa, attr, argv, env);
	else
		ret = ROAR_REAL(posix_spawn)(&child, file, fa, attr, argv, env);
	if (ret == 0) {
		if (pid)
			*pid = child;
		ROAR_AFTER(roar_track_spawned(child, file, argv, t));
	}
	return ret;
}

ROAR_EXPORT int
posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
	    const posix_spawnattr_t *attr, char *const argv[],
	    char *const envp[])
{
	return do_spawn(false, pid, path, fa, attr, argv, envp);
}

ROAR_EXPORT int
posix_spawnp(pid_t *pid, const char *file,
	     const posix_spawn_file_actions_t *fa,
	     const posix_spawnattr_t *attr, char *const argv[],
	     char *const envp[])
{
	return do_spawn(true, pid, file, fa, attr, argv, envp);
}

ROAR_EXPORT void
_exit(int status)
{
	if (roar_ready && !roar_guard_depth)
		roar_track_exit(status);
	ROAR_REAL(_exit)(status);
	__builtin_unreachable();
}

ROAR_EXPORT void
_Exit(int status)
{
	if (roar_ready && !roar_guard_depth)
		roar_track_exit(status);
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
 * system and popen: glibc starts their child through an internal
 * posix_spawn with the process environment, where no hook can mend it;
 * so the environment itself gets our variables back first if the
 * program removed them.
 */
ROAR_EXPORT int
system(const char *cmd)
{
	if (cmd)
		ROAR_AFTER(roar_track_restore_environ());
	return ROAR_REAL(system)(cmd);
}

ROAR_EXPORT FILE *
popen(const char *cmd, const char *mode)
{
	FILE *ret;

	ROAR_AFTER(roar_track_restore_environ());
	ret = ROAR_REAL(popen)(cmd, mode);
	if (ret)
		ROAR_AFTER(roar_track_not_a_file(fileno(ret)));
	return ret;
}

/* What a clone child without CLONE_VM needs to become a fork child. */
struct clone_start {
	int (*fn)(void *);
	void *arg;
	pid_t parent;
};

static int
clone_trampoline(void *p)
{
	/* A copy of the parent's memory: this stack frame's data is ours. */
	struct clone_start *cs = p;

	ROAR_AFTER(roar_track_fork_child(cs->parent));
	return cs->fn(cs->arg);
}

ROAR_EXPORT int
clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	struct clone_start cs = { fn, arg, roar_session.pid };
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
