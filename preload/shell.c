/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Owns system, popen and pclose (shell.h).  Not async-signal-safe (nor
 * are the functions it stands for): it may allocate.  Its lock,
 * popen_mutex, guards the list of open popen streams and the shared
 * signal dispositions of concurrent system() calls.  It is a pthread
 * mutex, not a roar_lock (lock.h), because popen holds it across the
 * spawn, as glibc holds its own popen lock; never across a wait.
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
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "real.h"
#include "session.h"
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

static pthread_mutex_t popen_mutex = PTHREAD_MUTEX_INITIALIZER;
/* Set on a thread from before it takes popen_mutex until after it let
 * go, so that a fork from a signal handler on that very thread does not
 * wait for it (roar_shell_prepare). */
static __thread bool in_popen_lock __attribute__((tls_model("initial-exec")));

static void
popen_lock(void)
{
	in_popen_lock = true;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	pthread_mutex_lock(&popen_mutex);
}

static void
popen_unlock(void)
{
	pthread_mutex_unlock(&popen_mutex);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	in_popen_lock = false;
}
static struct stream *streams;      /* guarded by popen_mutex */
static unsigned system_users;       /* guarded by popen_mutex */
static struct sigaction saved_int;  /* guarded by popen_mutex */
static struct sigaction saved_quit; /* guarded by popen_mutex */

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
	popen_lock();
	if (system_users++ == 0) {
		sigaction(SIGINT, &ign, &saved_int);
		sigaction(SIGQUIT, &ign, &saved_quit);
	}
	popen_unlock();
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
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETSIGMASK);
	ret = roar_track_spawn(false, &pid, SHELL_PATH, NULL, &attr, argv,
			       environ);
	posix_spawnattr_destroy(&attr);
	if (ret == 0) {
		if (wait_for(pid, &status) != pid)
			status = -1;
	} else {
		status = W_EXITCODE(127, 0);
	}
	/* glibc 2.36: a spawn that failed leaves its error in errno. */
	saved = ret == 0 ? errno : ret;

	popen_lock();
	if (--system_users == 0) {
		sigaction(SIGINT, &saved_int, NULL);
		sigaction(SIGQUIT, &saved_quit, NULL);
	}
	popen_unlock();
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

/* glibc 2.36's reading of a popen mode: only r, w and e, exactly one of
 * r and w (repeats allowed). */
static bool
parse_mode(const char *mode, bool *reading, bool *cloexec)
{
	bool r = false, w = false;

	*cloexec = false;
	for (; *mode; mode++) {
		switch (*mode) {
		case 'r':
			r = true;
			break;
		case 'w':
			w = true;
			break;
		case 'e':
			*cloexec = true;
			break;
		default:
			return false;
		}
	}
	*reading = r;
	return r != w;
}

/* The stream for fp, taken off the list; NULL when it is not ours. */
static struct stream *
unlist(FILE *fp)
{
	struct stream **pp, *s = NULL;

	popen_lock();
	for (pp = &streams; *pp; pp = &(*pp)->next)
		if ((*pp)->fp == fp) {
			s = *pp;
			*pp = s->next;
			break;
		}
	popen_unlock();
	return s;
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
	FILE *fp = NULL;

	if (!roar_ready || !mode)
		return r->popen(cmd, mode);
	if (!parse_mode(mode, &reading, &cloexec)) {
		errno = EINVAL;
		return NULL;
	}
	s = malloc(sizeof(*s));
	if (!s)
		return NULL;
	if (r->pipe2(fds, O_CLOEXEC) != 0) {
		free(s);
		return NULL;
	}
	parent_end = reading ? fds[0] : fds[1];
	child_end = reading ? fds[1] : fds[0];
	child_std = reading ? STDOUT_FILENO : STDIN_FILENO;
	if (child_end == child_std) {
		/* dup2 onto itself would keep close-on-exec: move it. */
		int moved = r->fcntl(child_end, F_DUPFD_CLOEXEC, 3);

		if (moved < 0) {
			r->close(fds[0]);
			r->close(fds[1]);
			free(s);
			return NULL;
		}
		r->close(child_end);
		child_end = moved;
	}

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, child_end, child_std);
	/*
	 * Held from the walk of the list to the new stream's place in it,
	 * across the spawn (as glibc holds its own popen lock): another
	 * thread's popen child must neither miss this stream's close nor
	 * inherit its end while close-on-exec is being cleared.
	 */
	popen_lock();
	/* POSIX: the child closes the streams of earlier popen() calls. */
	for (struct stream *o = streams; o; o = o->next)
		if (o->fd != child_std)
			posix_spawn_file_actions_addclose(&fa, o->fd);
	ret = roar_track_spawn(false, &pid, SHELL_PATH, &fa, NULL, argv,
			       environ);
	posix_spawn_file_actions_destroy(&fa);
	r->close(child_end);
	if (ret == 0) {
		if (!cloexec)
			r->fcntl(parent_end, F_SETFD, 0);
		fp = fdopen(parent_end, reading ? "r" : "w");
	}
	if (fp) {
		s->fp = fp;
		s->fd = parent_end;
		s->pid = pid;
		s->next = streams;
		streams = s;
	}
	popen_unlock();
	if (!fp) {
		int saved = ret == 0 ? errno : ENOMEM; /* glibc: ENOMEM */

		r->close(parent_end);
		if (ret == 0)
			wait_for(pid, &ret);
		free(s);
		errno = saved;
		return NULL;
	}
	if (roar_guard_enter()) {
		roar_track_pipe_made(parent_end);
		roar_guard_leave();
	}
	return fp;
}

int
roar_shell_pclose(FILE *stream)
{
	struct stream *s = unlist(stream);
	int status = -1;
	pid_t pid;

	if (!s)
		return roar_real_get()->pclose(stream);
	pid = s->pid;
	free(s);
	roar_real_get()->fclose(stream);
	if (wait_for(pid, &status) != pid)
		return -1;
	return status;
}

bool
roar_shell_fclose(FILE *stream, int *ret)
{
	struct stream *s = unlist(stream);
	int status, saved;

	if (!s)
		return false;
	/* glibc's fclose of a popen stream is its pclose: it waits for the
	 * child and returns its wait status (fclose's own -1 when that is
	 * 0), or -1 when the wait fails. */
	*ret = roar_real_get()->fclose(stream);
	saved = errno;
	if (wait_for(s->pid, &status) != s->pid)
		*ret = -1;
	else if (status != 0)
		*ret = status;
	else
		errno = saved;
	free(s);
	return true;
}

bool
roar_shell_prepare(void)
{
	/* Held by this thread: a signal handler forks in the middle of a
	 * popen, fclose or system; waiting would be for ourselves. */
	if (in_popen_lock)
		return false;
	popen_lock();
	return true;
}

void
roar_shell_parent(void)
{
	popen_unlock();
}

void
roar_shell_atfork_child(void)
{
	/* The holder, if any, was another thread (or this one, interrupted:
	 * its critical section is the parent's business). */
	pthread_mutex_init(&popen_mutex, NULL);
	in_popen_lock = false;
}
