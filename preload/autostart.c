/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Starts a collector for plain LD_PRELOAD use.  The listening socket is
 * made here and handed over as an fd, so no traced process can race the
 * collector's bind.  The collector detaches (it forks and its first half
 * exits at once, reaped here), so it never shows up among the program's
 * children: a shell's `wait` or a SIGCHLD handler sees nothing of it.
 * Runs in the constructor only, before main, so it may allocate.
 *
 * The root of such a session then waits at its exit, bounded, until the
 * collector has written the report, so that `LD_PRELOAD=... cmd; use the
 * report` works.  It must know it is the root in every image it runs (a
 * shell's last command is often exec'd in its place), and nobody else
 * may wait: the socket directory's name carries the root's pid
 * ("roar-auto-<pid>-XXXXXX"), every image learns it from the socket path
 * it is given anyway, and at exit only the process with that pid waits.
 * The collector takes the root's exit event and the end of its
 * connection as its end (--root-waits), writes the report, and removes
 * the directory last: the root waits for the directory to go.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "roar/path.h"
#include "roar/protocol.h"
#include "roar/sockdir.h"
#include "autostart.h"
#include "ledger.h"
#include "log.h"
#include "real.h"
#include "session.h"

extern char **environ;

static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

#define AUTO_DIR_PREFIX ROAR_SOCKDIR_AUTO_PREFIX

/* Without ROAR_WAIT_TIMEOUT the collector waits for descendants as long
 * as they run; the root gives up on the report after this long. */
#define ROOT_WAIT_MS 10000u
/* With it, the collector stops waiting after that many seconds and then
 * drains and writes: the root allows it this much more. */
#define ROOT_WAIT_MARGIN_MS 5000u
#define ROOT_WAIT_STEP_MS 2u

/* Set by roar_autostart_note, read at exit (static storage, no heap). */
static pid_t root_pid;
static char root_dir[sizeof(sock_path)];
static unsigned root_wait_ms;

static void
complain(const char *what)
{
	char msg[PATH_MAX + 256];
	int n = snprintf(msg, sizeof(msg),
			 "roar-preload: %s; this run is NOT traced (set %s, "
			 "or use roar-run)\n",
			 what, ROAR_ENV_SOCK);

	if (n > 0)
		roar_real_get()->write(
			2, msg,
			(size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

static bool
executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* roar-collector: $ROAR_COLLECTOR, else beside the library, in the
 * build tree, or in the install prefix. */
static bool
find_collector(char *out, size_t cap)
{
	static const char *const rel[] = {
		"roar-collector",
		"../collector/roar-collector",
		"../bin/roar-collector",
		"../../bin/roar-collector",
		"../libexec/roar/roar-collector",
	};
	const char *env = getenv(ROAR_ENV_COLLECTOR);
	char dir[PATH_MAX];
	char *slash;

	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return executable(out);
	}
	snprintf(dir, sizeof(dir), "%s", roar_session.lib_path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			if ((size_t)snprintf(out, cap, "%s/%s", dir, rel[i]) >=
			    cap)
				continue;
			if (executable(out))
				return true;
		}
	}
	snprintf(out, cap, "%s/roar-collector", ROAR_BINDIR);
	return executable(out);
}

static int
listen_on(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir,
			     ROAR_SOCKDIR_SOCK) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = roar_real_get()->socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	/* The directory is 0700 (mkdtemp); the socket 0600 as well. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(sa.sun_path, 0600) != 0 || listen(fd, SOMAXCONN) != 0) {
		int err = -errno;
		roar_real_get()->close(fd);
		return err;
	}
	memcpy(sock_path, sa.sun_path, sizeof(sock_path));
	/* Without a ledger the run still works; the report says so. */
	roar_ledger_create(sock_path);
	return fd;
}

/* The collector's environment: ours without the tracer's variables. */
static char **
clean_env(char **envp)
{
	size_t n = 0, k = 0;
	char **out;

	while (envp && envp[n])
		n++;
	out = calloc(n + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(envp[i], "LD_PRELOAD=", 11) &&
		    strncmp(envp[i], ROAR_ENV_SOCK "=", sizeof(ROAR_ENV_SOCK)))
			out[k++] = envp[i];
	out[k] = NULL;
	return out;
}

const char *
roar_autostart(char **envp)
{
	char collector[PATH_MAX], report[PATH_MAX * 2], dir[PATH_MAX];
	char fdarg[16], pidarg[16];
	const char *tmp = getenv("TMPDIR");
	const char *rep = getenv(ROAR_ENV_REPORT);
	posix_spawn_file_actions_t fa;
	char **cenv = NULL;
	pid_t child;
	int fd, rc, status;
	const char *result = NULL;

	if (!find_collector(collector, sizeof(collector))) {
		complain("no roar-collector found beside the library nor in "
			 "the install prefix (set " ROAR_ENV_COLLECTOR ")");
		return NULL;
	}
	snprintf(dir, sizeof(dir), "%s/" AUTO_DIR_PREFIX "%d-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", (int)roar_session.pid);
	if (!mkdtemp(dir)) {
		complain("cannot create a socket directory");
		return NULL;
	}
	fd = listen_on(dir);
	if (fd < 0) {
		rmdir(dir);
		complain("cannot listen on a socket in the socket directory");
		return NULL;
	}
	if (!rep || !*rep)
		rep = "roar-report.msgpack";
	roar_path_absolute(rep, report, sizeof(report));
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	snprintf(pidarg, sizeof(pidarg), "%d", (int)roar_session.pid);
	char *cargv[] = { collector,     "--listen-fd",  fdarg,
			  "--root-pid",  pidarg,         "--report",
			  report,        "--socket-dir", dir,
			  "--daemonize", "--root-waits", NULL };

	cenv = clean_env(envp ? envp : environ);
	posix_spawn_file_actions_init(&fa);
	/* The collector must not hold the program's stdio open: a reader
	 * at the end of a pipe would wait for it. */
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (!roar_log_enabled)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY,
						 0);
	rc = roar_real_get()->posix_spawn(&child, collector, &fa, NULL, cargv,
					  cenv ? cenv : envp);
	posix_spawn_file_actions_destroy(&fa);
	free(cenv);
	roar_real_get()->close(fd);
	if (rc != 0) {
		complain("cannot start roar-collector");
		unlink(sock_path);
		roar_ledger_unlink(sock_path);
		rmdir(dir);
		return NULL;
	}
	/* Reap the first half; the collector itself runs on detached. */
	while (roar_real_get()->waitpid(child, &status, 0) < 0 &&
	       errno == EINTR)
		;
	/* The program's environment stays its own: children get the
	 * socket variable from the exec hooks (track_proc.c). */
	result = sock_path;
	ROAR_LOG("started collector %s, report %s", collector, report);
	return result;
}

void
roar_autostart_note(const char *sock)
{
	const char *end = strrchr(sock, '/'), *name;
	size_t plen = sizeof(AUTO_DIR_PREFIX) - 1;
	const char *t = getenv(ROAR_ENV_WAIT_TIMEOUT);
	char *stop;
	long pid;
	double secs;

	if (!end || end == sock || (size_t)(end - sock) >= sizeof(root_dir))
		return;
	name = end;
	while (name > sock && name[-1] != '/')
		name--;
	if (strncmp(name, AUTO_DIR_PREFIX, plen) != 0)
		return;
	pid = strtol(name + plen, &stop, 10);
	if (pid <= 0 || *stop != '-')
		return;
	memcpy(root_dir, sock, (size_t)(end - sock));
	root_dir[end - sock] = '\0';
	root_wait_ms = ROOT_WAIT_MS;
	if (t && *t) {
		secs = strtod(t, &stop);
		if (stop != t && secs >= 0 && secs < 86400.0 * 365)
			root_wait_ms = (unsigned)(secs * 1000.0) +
				       ROOT_WAIT_MARGIN_MS;
	}
	root_pid = (pid_t)pid;
}

void
roar_autostart_wait(void)
{
	struct timespec step = { 0, ROOT_WAIT_STEP_MS * 1000000L };
	unsigned waited = 0;
	int saved = errno;

	if (!root_pid || roar_session.pid != root_pid)
		return;
	ROAR_LOG("root: waiting up to %u ms for the report", root_wait_ms);
	/* Raw system calls only: the program's own libc state is being
	 * torn down around us, and these must not be traced. */
	while (ROAR_SYS(SYS_faccessat, AT_FDCWD, root_dir, F_OK, 0) == 0) {
		if (waited >= root_wait_ms) {
			ROAR_LOG("root: no report after %u ms; not waiting "
				 "longer",
				 waited);
			break;
		}
		ROAR_SYS(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &step, NULL);
		waited += ROOT_WAIT_STEP_MS;
	}
	errno = saved;
}
