/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Constructor and exit handling of libroar_preload.so: resolves the real
 * functions, copies what later code needs from the environment into
 * static storage, starts a collector when none was set up (plain
 * LD_PRELOAD use), and announces the process.  Saves and restores errno
 * (E2).  Runs before main, single-threaded, so it may allocate.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "roar/protocol.h"
#include "autostart.h"
#include "backtrace.h"
#include "event.h"
#include "guard.h"
#include "ledger.h"
#include "lifecycle.h"
#include "log.h"
#include "once.h"
#include "real.h"
#include "session.h"
#include "track.h"
#include "transport.h"

extern char **environ;

__thread unsigned roar_guard_depth __attribute__((tls_model("initial-exec")));
bool roar_ready ROAR_HOT;

/* The hello of a new image can be large (argv and environment). */
#define HELLO_FRAME_SIZE (512u * 1024u)
static unsigned char hello_buf[HELLO_FRAME_SIZE];

static void
copy_env(char *dst, size_t cap, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value);

	dst[0] = '\0';
	if (nlen + vlen + 2 > cap)
		return;
	memcpy(dst, name, nlen);
	dst[nlen] = '=';
	memcpy(dst + nlen + 1, value, vlen + 1);
}

static void
find_self(void)
{
	Dl_info info;

	size_t n;

	if (!dladdr((void *)find_self, &info) || !info.dli_fname)
		return;
	n = strlen(info.dli_fname);
	/* The loader's own (absolute) name is good enough: children find
	 * the library by it, and realpath would cost a readlink per
	 * component in every process. */
	if (info.dli_fname[0] == '/' && n < sizeof(roar_session.lib_path))
		memcpy(roar_session.lib_path, info.dli_fname, n + 1);
	else if (!realpath(info.dli_fname, roar_session.lib_path) &&
		 n < sizeof(roar_session.lib_path))
		memcpy(roar_session.lib_path, info.dli_fname, n + 1);
}

static void
on_exit_cb(int status, void *arg)
{
	enum roar_who who;
	int saved = errno;

	(void)arg;
	who = roar_lifecycle_enter();
	if (who != ROAR_WHO_INSIDE)
		roar_track_exit(who, status);
	if (who == ROAR_WHO_SELF)
		roar_guard_leave();
	errno = saved;
}

/*
 * ROAR_PRELOAD_CONN is "<fd>:<pid>": the stream the image before us, in
 * this process, handed over.  Handed over in another process (an image
 * between us that did not load the library kept it open), it is not ours
 * to write to: close our copy if it is a connection to our collector.
 */
static void
adopt_connection(const char *v)
{
	char *end;
	long fd = strtol(v, &end, 10);
	long pid = *end == ':' ? strtol(end + 1, NULL, 10) : 0;

	if (fd < 0 || fd > 0x7fffffff || end == v)
		return;
	if (pid == (long)roar_session.pid)
		roar_transport_adopt((int)fd);
	else
		roar_transport_disown((int)fd);
}

static void
announce(int argc, char **argv, char **envp)
{
	char cwd[PATH_MAX], exe[PATH_MAX];
	struct roar_event_ids ids;
	struct roar_frame f;
	ssize_t n;
	struct roar_hello h = {
		.ppid = getppid(),
		.origin = ROAR_ORIGIN_EXEC,
		.argv = argv,
		.envp = envp,
		.time = roar_now(),
		.pidns = roar_session_pidns(),
	};

	(void)argc;
	h.has_ledger = roar_ledger_slot() >= 0;
	h.ledger = (uint64_t)roar_ledger_slot();
	if (getcwd(cwd, sizeof(cwd)))
		h.cwd = cwd;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		h.exe = exe;
	}
	roar_frame_init(&f, hello_buf, sizeof(hello_buf));
	ids = roar_session_ids();
	if (roar_event_hello(&f, &ids, &h) == 0) {
		roar_transport_hello_next();
		roar_transport_send(f.data, f.len);
	} else
		roar_transport_count_drop();
}

static struct roar_once prepare_once ROAR_HOT = ROAR_ONCE_INIT;
static __thread bool preparing __attribute__((tls_model("initial-exec")));

/*
 * Everything but the announcement: real functions, session, socket (or a
 * collector of our own).  Runs once, from the constructor or from the
 * first hook that comes earlier; hooks it triggers itself pass through.
 */
static void
prepare(void)
{
	const char *sock, *preload;

	preparing = true;
	roar_real_init();
	roar_log_enabled = getenv(ROAR_ENV_DEBUG) && *getenv(ROAR_ENV_DEBUG);
	roar_session.pid = (pid_t)ROAR_SYS(SYS_getpid);
	roar_backtrace_init();
	find_self();
	preload = getenv("LD_PRELOAD");
	if (preload)
		copy_env(roar_session.env_preload,
			 sizeof(roar_session.env_preload), "LD_PRELOAD",
			 preload);
	else if (roar_session.lib_path[0])
		copy_env(roar_session.env_preload,
			 sizeof(roar_session.env_preload), "LD_PRELOAD",
			 roar_session.lib_path);
	copy_env(roar_session.env_lib, sizeof(roar_session.env_lib),
		 ROAR_ENV_LIB, roar_session.lib_path);

	sock = getenv(ROAR_ENV_SOCK);
	if (!sock || !*sock)
		sock = roar_autostart(environ);
	if (sock && *sock) {
		copy_env(roar_session.env_sock, sizeof(roar_session.env_sock),
			 ROAR_ENV_SOCK, sock);
		roar_session.have_sock = true;
		roar_transport_init(sock);
		roar_autostart_note(sock);
	}
	/* The image before us may have handed us its connection. */
	if (roar_session.have_sock && getenv(ROAR_ENV_CONN))
		adopt_connection(getenv(ROAR_ENV_CONN));
	/* What our parent's library put in our environment for us goes
	 * back out now that it is copied: the program sees the environment
	 * its parent gave it. */
	roar_track_unmend_environ(environ);
	on_exit(on_exit_cb, NULL);
	roar_lifecycle_init();
	roar_ready = roar_session.have_sock;
	ROAR_LOG("ready, socket %s", sock ? sock : "(none)");
	preparing = false;
}

bool
roar_entry_early(void)
{
	int saved;

	if (preparing)
		return false;
	saved = errno;
	roar_once(&prepare_once, prepare);
	errno = saved;
	return roar_ready;
}

/*
 * glibc passes (argc, argv, envp) to ELF constructors; that is how a
 * process with no /proc still reports its argv.
 */
__attribute__((constructor(101))) static void
roar_entry_init(int argc, char **argv, char **envp)
{
	int saved = errno;

	roar_once(&prepare_once, prepare);
	/* Sending takes the transport's lock: with the guard held, as every
	 * lock is (lock.h). */
	if (roar_ready && roar_guard_enter()) {
		announce(argc, argv, envp);
		roar_guard_leave();
	}
	errno = saved;
}
