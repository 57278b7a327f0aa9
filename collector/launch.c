/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher: sets up a private socket directory (mode 0700), starts the
 * command with our library first in LD_PRELOAD (what the user had kept
 * after it), runs the collect loop, writes the report, and cleans up.
 * Signals are blocked here and read through the loop's signalfd; the
 * child gets the mask it would have had.  We pass signals on to the
 * command, write the report whatever we are sent (but SIGKILL), and end
 * as the command ended: same exit code, or the same signal.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roar/path.h"
#include "roar/protocol.h"
#include "collect.h"
#include "launch.h"
#include "launch_arm.h"
#include "supervise.h"
#include "report.h"
#include "trace.h"

static bool
is_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool
self_dir(char *out, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", out, cap - 1);
	char *slash;

	if (n <= 0)
		return false;
	out[n] = '\0';
	slash = strrchr(out, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return true;
}

/* roar's launcher accepts libroar_tracer_preload*.so and
 * libroar-tracer-preload*.so beside it; so do we. */
static bool
scan_dir(const char *dir, char *out, size_t cap)
{
	static const char *const exact[] = {
		"libroar_tracer_preload.so",
		"libroar_preload.so",
		"libroar-tracer-preload.so",
	};
	DIR *d;
	struct dirent *de;
	bool found = false;

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		if ((size_t)snprintf(out, cap, "%s/%s", dir, exact[i]) < cap &&
		    is_file(out))
			return true;
	}
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if ((!strncmp(de->d_name, "libroar_tracer_preload", 22) ||
		     !strncmp(de->d_name, "libroar-tracer-preload", 22)) &&
		    n > 3 && !strcmp(de->d_name + n - 3, ".so") &&
		    (size_t)snprintf(out, cap, "%s/%s", dir, de->d_name) <
			    cap &&
		    is_file(out))
			found = true;
	}
	closedir(d);
	return found;
}

int
roar_launch_find_library(char *out, size_t cap)
{
	const char *env = getenv(ROAR_ENV_LIB);
	char dir[PATH_MAX], sub[PATH_MAX + 32];

	if (env && *env && is_file(env)) {
		snprintf(out, cap, "%s", env);
		return 0;
	}
	if (self_dir(dir, sizeof(dir))) {
		if (scan_dir(dir, out, cap))
			return 0;
		snprintf(sub, sizeof(sub), "%s/../preload", dir);
		if (scan_dir(sub, out, cap))
			return 0;
	}
	if (scan_dir(ROAR_PRELOADDIR, out, cap))
		return 0;
	return -ENOENT;
}

int
roar_launch_check_output(const char *path, char *err, size_t cap)
{
	char dir[PATH_MAX], probe[PATH_MAX + 32];
	const char *slash = strrchr(path, '/');
	struct stat st;
	int fd, e;

	if (!*path) {
		snprintf(err, cap, "an empty file name");
		return -EINVAL;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, cap, "%s is a directory", path);
		return -EISDIR;
	}
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return -ENAMETOOLONG;
	/* What the report's writer will do there: make a new file (report.c
	 * writes a temporary beside the report and renames it). */
	snprintf(probe, sizeof(probe), "%s/.roar-probe-XXXXXX", dir);
	fd = mkstemp(probe);
	if (fd < 0) {
		e = errno;
		snprintf(err, cap, "cannot write %s: %s: %s", path, dir,
			 strerror(e));
		return -e;
	}
	close(fd);
	unlink(probe);
	return 0;
}

/*
 * The command's environment: the user's, plus what the library needs.
 * ROAR_PRELOAD_INJECTED (protocol.h) lists what we added, so that the
 * library takes it back out of the command's own environment: the
 * command sees exactly the environment the user gave it.
 */
static void
set_child_env(const char *lib, const char *sock)
{
	const char *old = getenv("LD_PRELOAD");
	size_t n = strlen(lib) + (old ? strlen(old) : 0) + 2;
	char *v = malloc(n);
	char flags[8];
	size_t k = 0;

	if (v) {
		if (old && *old)
			snprintf(v, n, "%s:%s", lib, old);
		else
			snprintf(v, n, "%s", lib);
		/* Set, even to "": the command gets it back as it was. */
		flags[k++] = old ? 'p' : 'P';
		setenv("LD_PRELOAD", v, 1);
		free(v);
	}
	if (!getenv(ROAR_ENV_LIB))
		flags[k++] = 'L';
	if (!getenv(ROAR_ENV_SOCK))
		flags[k++] = 'S';
	flags[k] = '\0';
	setenv(ROAR_ENV_LIB, lib, 1);
	setenv(ROAR_ENV_SOCK, sock, 1);
	if (k)
		setenv(ROAR_ENV_INJECTED, flags, 1);
}

/*
 * The command's exec, as a traced parent would announce it: the root
 * gets a record even when no tracer of ours ever speaks for it (it could
 * not be executed, err; or it runs untraced, a set-ID program, and the
 * diagnosis looks at exe, its path as execvp found it).
 */
static void
note_exec(struct roar_merge *m, pid_t pid, char **argv, const char *exe,
	  double time, int err)
{
	struct roar_proc *p = roar_merge_proc(m, pid);
	size_t n = 0;

	while (argv[n])
		n++;
	p->has_exec = true;
	p->exec_failed = err != 0;
	p->exec_time = time;
	p->exec_exe = roar_bytes_dup(exe, strlen(exe));
	p->exec_argv.n = n;
	p->exec_argv.v = roar_xcalloc(n, sizeof(*p->exec_argv.v));
	for (size_t i = 0; i < n; i++)
		p->exec_argv.v[i] = roar_bytes_dup(argv[i], strlen(argv[i]));
	p->launch_errno = err;
}

/*
 * What we pass on to the command: whatever would otherwise end us
 * without a report, and what a command may want to hear from whoever
 * addressed it through us.  Not here: SIGKILL and SIGSTOP (they cannot
 * be caught); SIGCHLD (ours); SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP
 * and SIGSYS (our own faults: the kernel delivers them whatever the
 * mask, and the sanitizer build must keep catching them); SIGTTIN and
 * SIGTTOU (they stop us for our own terminal I/O, as any program).
 * The real-time signals follow, without their sigqueue(3) value.
 */
static const int forwarded[] = {
	SIGHUP,    SIGINT,    SIGQUIT,  SIGTERM, SIGUSR1, SIGUSR2, SIGALRM,
	SIGABRT,   SIGVTALRM, SIGPROF,  SIGPIPE, SIGIO,   SIGPWR,  SIGXCPU,
	SIGXFSZ,   SIGURG,    SIGWINCH, SIGCONT, SIGTSTP,
#ifdef SIGSTKFLT
	SIGSTKFLT,
#endif
};

struct forward {
	pid_t root;
	pid_t self;
	sigset_t ignored; /* SIG_IGN when we started */
};

static void
forward_set(struct forward *f, sigset_t *set)
{
	struct sigaction sa;
	int n = (int)(sizeof(forwarded) / sizeof(forwarded[0]));

	sigemptyset(set);
	sigemptyset(&f->ignored);
	for (int i = 0; i < n + SIGRTMAX - SIGRTMIN + 1; i++) {
		int sig = i < n ? forwarded[i] : SIGRTMIN + (i - n);

		sigaddset(set, sig);
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			sigaddset(&f->ignored, sig);
	}
}

/* What a terminal sends to its foreground process group. */
static bool
terminal_signal(int sig)
{
	return sig == SIGINT || sig == SIGQUIT || sig == SIGTSTP ||
	       sig == SIGWINCH || sig == SIGHUP || sig == SIGCONT;
}

/* Ctrl-Z stops us too, or the shell, which waits for us, would never
 * see the job stop.  SIGTSTP has its default action (an ignored one
 * never comes here); in an orphaned process group the kernel drops it,
 * as it would for any program. */
static void
stop_self(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGTSTP);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	raise(SIGTSTP);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

/*
 * The loop's hook (collect.h).  The command gets the signal in its
 * process group when it leads one of its own (it did setsid or
 * setpgid), else by its pid; both are safe while it is unreaped, since
 * its pid cannot be reused until we wait for it.  Not passed on:
 * a signal the terminal sent to our process group when the command is
 * in it too (it has its own copy), one we caused ourselves (SIGPIPE or
 * SIGXFSZ of a write of ours, SIGXCPU of our CPU limit).
 */
static bool
pass_on(void *ctx, const struct signalfd_siginfo *si, bool root_done)
{
	struct forward *f = ctx;
	int sig = (int)si->ssi_signo;
	bool from_kernel = si->ssi_code == SI_KERNEL;
	pid_t pgid;

	if ((si->ssi_code == SI_USER || si->ssi_code == SI_TKILL) &&
	    (pid_t)si->ssi_pid == f->self)
		return false;
	if (!root_done && !(from_kernel && sig == SIGXCPU)) {
		pgid = getpgid(f->root);
		if (!(from_kernel && terminal_signal(sig) && pgid == getpgrp()))
			kill(pgid == f->root ? -f->root : f->root, sig);
	}
	/* One we were started ignoring (nohup, a shell's background job)
	 * is still the command's to hear, since it may have set a handler,
	 * but it neither stops us nor ends our wait. */
	if (sigismember(&f->ignored, sig) == 1)
		return false;
	if (sig == SIGTSTP)
		stop_self();
	/* Once the command has ended, a signal that would have ended it
	 * ends the wait for its descendants; these four would not. */
	return sig != SIGWINCH && sig != SIGCONT && sig != SIGURG &&
	       sig != SIGTSTP;
}

/* Take what came after the loop stopped reading: it was meant for a run
 * that is over, and we are about to end as the command did. */
static void
discard_pending(const sigset_t *set)
{
	const struct timespec now = { 0, 0 };

	while (sigtimedwait(set, NULL, &now) > 0 || errno == EINTR)
		;
}

void
roar_launch_end_like(int sig)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	struct rlimit rl;
	sigset_t s;

	fflush(NULL);
	/* The command's core dump, if it left one, is the one that
	 * matters; ours beside it would only mislead. */
	if (getrlimit(RLIMIT_CORE, &rl) == 0) {
		rl.rlim_cur = 0;
		setrlimit(RLIMIT_CORE, &rl);
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	raise(sig);
}

/* A run that never started: its supervisor and handover go. */
static void
drop_supervisor(struct roar_sup *sup, int hand[2])
{
	if (sup) {
		close(roar_sup_frames_fd(sup));
		roar_sup_free(sup, NULL);
	}
	for (int i = 0; i < 2; i++)
		if (hand[i] >= 0)
			close(hand[i]);
}

int
roar_launch_run(const struct roar_launch_opts *o, int *exit_code,
		int *exit_signal)
{
	char lib[PATH_MAX], report[PATH_MAX];
	char err[PATH_MAX + 128];
	struct roar_collect_opts co = { 0 };
	struct roar_collect_result res;
	struct roar_trace t;
	struct forward fw = { .self = getpid() };
	sigset_t old, fwd;
	int errpipe[2], child_errno = 0, rc, hand[2] = { -1, -1 }, sup_fd;
	struct roar_sup *sup;
	double started;
	pid_t pid;
	ssize_t n;

	/* Until the command is started, every failure is ours alone. */
	*exit_code = ROAR_LAUNCH_NOT_RUN;
	if (exit_signal)
		*exit_signal = 0;
	if (roar_launch_find_library(lib, sizeof(lib)) != 0) {
		fprintf(stderr,
			"%s: cannot find libroar_preload.so (set %s to its "
			"path); nothing was run\n",
			o->prog, ROAR_ENV_LIB);
		return -ENOENT;
	}
	roar_path_absolute(o->report_path, report, sizeof(report));
	rc = roar_launch_check_output(report, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr,
			"%s: no place for the report: %s; nothing was "
			"run\n",
			o->prog, err);
		return rc;
	}
	rc = roar_trace_create(&t, report, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "%s: %s; nothing was run\n", o->prog, err);
		return rc;
	}
	/* The supervisor is made now, and the child's end of hand armed
	 * with: a command it must see waits for it from its exec on. */
	sup = roar_sup_new(&sup_fd);
	if (!sup || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, hand))
		hand[0] = hand[1] = -1;
	if (pipe2(errpipe, O_CLOEXEC) != 0) {
		rc = -errno;
		drop_supervisor(sup, hand);
		roar_trace_remove(&t);
		return rc;
	}
	roar_collect_block_signals(&old);
	forward_set(&fw, &fwd);
	sigprocmask(SIG_BLOCK, &fwd, NULL);

	fflush(NULL);
	/* Before the fork: the command's own hello is later. */
	started = roar_now();
	pid = fork();
	if (pid == 0) {
		int e;

		sigprocmask(SIG_SETMASK, &old, NULL);
		close(errpipe[0]);
		set_child_env(lib, t.sock);
		if (hand[0] >= 0)
			roar_launch_arm(o->argv[0], hand[1]);
		execvp(o->argv[0], o->argv);
		e = errno;
		if (write(errpipe[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(e == ENOENT ? 127 : 126);
	}
	close(errpipe[1]);
	if (pid > 0)
		*exit_code = 1;
	if (pid < 0) {
		rc = -errno;
		fprintf(stderr, "%s: fork: %s; nothing was run\n", o->prog,
			strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(errpipe[0]);
		drop_supervisor(sup, hand);
		roar_trace_remove(&t);
		return rc;
	}
	if (hand[1] >= 0)
		close(hand[1]);
	n = roar_launch_take_listener(sup, hand[0], errpipe[0], pid,
				      &child_errno, sizeof(child_errno));
	close(errpipe[0]);
	if (hand[0] >= 0)
		close(hand[0]);

	roar_trace_begin(&t, pid);
	if (o->keep_secrets)
		t.m.keep_secrets = true;
	if (n == (ssize_t)sizeof(child_errno)) {
		fprintf(stderr, "%s: %s: %s\n", o->prog, o->argv[0],
			strerror(child_errno));
		note_exec(&t.m, pid, o->argv, o->argv[0], roar_now(),
			  child_errno);
	} else if (pid > 0) {
		char exe[PATH_MAX];

		roar_launch_resolve(o->argv[0], exe, sizeof(exe));
		note_exec(&t.m, pid, o->argv, exe, started, 0);
	}
	co.root_is_child = true;
	co.sup = sup;
	co.wait_timeout = o->wait_timeout;
	co.quiet = o->quiet;
	co.notice_after_ms = o->notice_after_ms;
	co.progress_every_ms = o->progress_every_ms;
	co.prog = o->prog;
	fw.root = pid;
	co.forward = &fwd;
	co.on_signal = pass_on;
	co.signal_ctx = &fw;
	rc = roar_trace_run(&t, &co, &res);
	if (rc != 0)
		fprintf(stderr,
			"%s: collecting failed: %s (writing what was "
			"collected)\n",
			o->prog, strerror(-rc));
	if (res.root_status_known) {
		int st = res.root_wait_status;

		*exit_code = WIFEXITED(st)     ? WEXITSTATUS(st)
			     : WIFSIGNALED(st) ? 128 + WTERMSIG(st)
					       : 1;
		if (exit_signal && WIFSIGNALED(st))
			*exit_signal = WTERMSIG(st);
	}
	/* Still blocked: no signal can end us before the report is out. */
	rc = roar_trace_finish(&t, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", o->prog, err);
	discard_pending(&fwd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
