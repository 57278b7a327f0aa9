/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Owns system, popen and pclose (shell.h).  Not async-signal-safe (nor
 * are the functions it stands for): it may allocate.  Its lock,
 * popen_lock, guards the list of open popen streams and the shared
 * signal dispositions of concurrent system() calls, and is held only
 * around list edits and sigaction, never across a spawn or a wait.
 *
 * What glibc 2.36 does and we keep: system runs "sh -c CMD" with SIGINT
 * and SIGQUIT ignored and SIGCHLD blocked in the caller while it waits
 * (the child gets them back), returns the wait status, 127 << 8 when the
 * shell could not run, and for a NULL command whether a shell is there.
 * popen runs "sh -c CMD" with one end of a pipe on its stdin or stdout,
 * closes in the child the streams of earlier popen calls, honours "e"
 * (close-on-exec), and pclose waits for the child.  What we do not: the
 * thread-cancellation clean-ups of glibc's system().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "lock.h"
#include "real.h"
#include "shell.h"
#include "track.h"

#define SHELL_PATH "/bin/sh"

extern char **environ;

struct stream {
	FILE *fp;
	int fd;
	pid_t pid;
	struct stream *next;
};

static struct roar_lock popen_lock ROAR_HOT = ROAR_LOCK_INIT;
static struct stream *streams ROAR_HOT;          /* guarded by popen_lock */
static unsigned system_users ROAR_HOT;           /* guarded by popen_lock */
static struct sigaction saved_int ROAR_HOT;
static struct sigaction saved_quit ROAR_HOT; /* guarded by popen_lock */

/* The lock is taken with the guard held, as lock.h wants; false when we
 * are inside roar already (then the caller falls back to libc). */
static bool
take(void)
{
	if (!roar_guard_enter())
		return false;
	roar_lock_take(&popen_lock);
	return true;
}

static void
release(void)
{
	roar_lock_release(&popen_lock);
	roar_guard_leave();
}

static pid_t
wait_for(pid_t pid, int *status)
{
	pid_t r;

	do
		r = roar_real_get()->waitpid(pid, status, 0);
	while (r < 0 && errno == EINTR);
	if (r == pid) {
		int saved = errno;

		if (roar_guard_enter()) {
			roar_track_reaped(pid, *status);
			roar_guard_leave();
		}
		errno = saved;
	}
	return r;
}

static int
run_shell(const char *cmd)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigset_t block, old, dfl;
	posix_spawnattr_t attr;
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	pid_t pid;
	int status = 0, ret, saved;

	sigemptyset(&ign.sa_mask);
	if (!take())
		return roar_real_get()->system(cmd);
	if (system_users++ == 0) {
		sigaction(SIGINT, &ign, &saved_int);
		sigaction(SIGQUIT, &ign, &saved_quit);
	}
	release();
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);

	/* The child gets the caller's mask back, and SIGINT and SIGQUIT
	 * unless the caller itself ignored them. */
	sigemptyset(&dfl);
	if (saved_int.sa_handler != SIG_IGN)
		sigaddset(&dfl, SIGINT);
	if (saved_quit.sa_handler != SIG_IGN)
		sigaddset(&dfl, SIGQUIT);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &old);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr,
				 POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	ret = roar_track_spawn(false, &pid, SHELL_PATH, NULL, &attr, argv,
			       environ);
	posix_spawnattr_destroy(&attr);
	if (ret == 0) {
		if (wait_for(pid, &status) != pid)
			status = -1;
	} else {
		status = W_EXITCODE(127, 0);
	}
	saved = errno;

	if (take()) {
		if (--system_users == 0) {
			sigaction(SIGINT, &saved_int, NULL);
			sigaction(SIGQUIT, &saved_quit, NULL);
		}
		release();
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return status;
}

int
roar_shell_system(const char *cmd)
{
	if (!roar_ready)
		return roar_real_get()->system(cmd);
	if (!cmd)
		return run_shell("exit 0") == 0;
	return run_shell(cmd);
}

FILE *
roar_shell_popen(const char *cmd, const char *mode)
{
	const struct roar_real *r = roar_real_get();
	posix_spawn_file_actions_t fa;
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	bool reading, cloexec;
	int fds[2], parent_end, child_end, child_std, ret;
	struct stream *s;
	pid_t pid;
	FILE *fp;

	if (!roar_ready || !mode)
		return r->popen(cmd, mode);
	if ((mode[0] != 'r' && mode[0] != 'w') ||
	    strchr(mode + 1, 'r') || strchr(mode + 1, 'w')) {
		errno = EINVAL;
		return NULL;
	}
	reading = mode[0] == 'r';
	cloexec = strchr(mode, 'e') != NULL;
	s = malloc(sizeof(*s));
	if (!s)
		return NULL;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		free(s);
		return NULL;
	}
	parent_end = reading ? fds[0] : fds[1];
	child_end = reading ? fds[1] : fds[0];
	child_std = reading ? STDOUT_FILENO : STDIN_FILENO;
	if (child_end == child_std) {
		/* dup2 onto itself would keep close-on-exec: move it. */
		int moved = fcntl(child_end, F_DUPFD_CLOEXEC, 3);

		if (moved < 0)
			goto fail_pipe;
		r->close(child_end);
		child_end = moved;
	}

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, child_end, child_std);
	if (!take()) {
		posix_spawn_file_actions_destroy(&fa);
		r->close(fds[0]);
		r->close(fds[1]);
		free(s);
		return r->popen(cmd, mode);
	}
	/* POSIX: the child closes the streams of earlier popen() calls. */
	for (struct stream *o = streams; o; o = o->next)
		if (o->fd != child_std)
			posix_spawn_file_actions_addclose(&fa, o->fd);
	release();
	ret = roar_track_spawn(false, &pid, SHELL_PATH, &fa, NULL, argv,
			       environ);
	posix_spawn_file_actions_destroy(&fa);
	r->close(child_end);
	if (ret != 0) {
		r->close(parent_end);
		free(s);
		errno = ret;
		return NULL;
	}
	if (!cloexec)
		fcntl(parent_end, F_SETFD, 0);
	fp = fdopen(parent_end, reading ? "r" : "w");
	if (!fp) {
		int saved = errno;

		r->close(parent_end);
		wait_for(pid, &ret);
		free(s);
		errno = saved;
		return NULL;
	}
	if (roar_guard_enter()) {
		roar_track_not_a_file(parent_end);
		roar_guard_leave();
	}
	s->fp = fp;
	s->fd = parent_end;
	s->pid = pid;
	if (take()) {
		s->next = streams;
		streams = s;
		release();
	} else {
		free(s); /* cannot happen outside roar; pclose then fails */
	}
	return fp;

fail_pipe:
	r->close(fds[0]);
	r->close(fds[1]);
	free(s);
	return NULL;
}

int
roar_shell_pclose(FILE *stream)
{
	struct stream **pp, *s = NULL;
	int status = -1;
	pid_t pid;

	if (take()) {
		for (pp = &streams; *pp; pp = &(*pp)->next)
			if ((*pp)->fp == stream) {
				s = *pp;
				*pp = s->next;
				break;
			}
		release();
	}
	if (!s)
		return roar_real_get()->pclose(stream);
	pid = s->pid;
	free(s);
	fclose(stream);
	if (wait_for(pid, &status) != pid)
		return -1;
	return status;
}

void
roar_shell_prepare(void)
{
	roar_lock_take(&popen_lock);
}

void
roar_shell_parent(void)
{
	roar_lock_release(&popen_lock);
}

void
roar_shell_atfork_child(void)
{
	roar_lock_reset(&popen_lock);
}
