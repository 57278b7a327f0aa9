/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process events: what fork, posix_spawn, exec and exit announce, and how
 * an exec's environment is mended so that the child stays traced without
 * the program ever seeing our variables in its own environment.
 *
 * The exec and exit paths may run in a vfork child (enum roar_who,
 * lifecycle.h): then they use only the stack, a borrowed scratch slot and
 * a connection of their own, and change no shared state.  Large argv and
 * environments never go on the caller's stack (scratch.h).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "roar/protocol.h"
#include "autostart.h"
#include "guard.h"
#include "event.h"
#include "fmt.h"
#include "lifecycle.h"
#include "log.h"
#include "real.h"
#include "scratch.h"
#include "session.h"
#include "track.h"
#include "transport.h"

static const char env_pre[] = "LD_PRELOAD=";
static const char env_sock[] = ROAR_ENV_SOCK "=";
static const char env_mark[] = ROAR_ENV_INJECTED "=";
static const char env_lib[] = ROAR_ENV_LIB "=";
static const char env_conn[] = ROAR_ENV_CONN "=";

/* Room for "ROAR_PRELOAD_CONN=<fd>:<pid>". */
#define CONN_ENTRY_SIZE (sizeof(env_conn) + 24)

/* The identity of whoever runs now (a vfork child is not the session). */
static struct roar_event_ids
ids_of(enum roar_who who)
{
	if (who == ROAR_WHO_SELF)
		return roar_session_ids();
	return (struct roar_event_ids){ (pid_t)ROAR_SYS(SYS_getpid),
					(pid_t)ROAR_SYS(SYS_gettid) };
}

/* Send f, built with result rc, as who. */
static void
send_as(enum roar_who who, struct roar_frame *f, int rc)
{
	if (rc != 0)
		roar_transport_count_drop();
	else if (who == ROAR_WHO_SELF)
		roar_transport_send(f->data, f->len);
	else
		roar_transport_send_oneshot(f->data, f->len);
}

/* The fork event goes out with the parent's next frame (its wait for
 * the child, usually): the child announces itself, so this is only a
 * second witness, for a child that dies before it can speak. */
static void
fork_event(pid_t child, bool later)
{
	unsigned char buf[128];
	struct roar_frame f;

	roar_frame_init(&f, buf, sizeof(buf));
	if (roar_event_fork(&f,
			    &(struct roar_event_ids){ roar_session.pid,
						      roar_session_tid() },
			    child) != 0)
		roar_transport_count_drop();
	else if (later)
		roar_transport_send_later(f.data, f.len);
	else
		roar_transport_send(f.data, f.len);
}

void
roar_track_fork_parent(pid_t child)
{
	fork_event(child, true);
}

void
roar_track_fork_seen(pid_t child)
{
	fork_event(child, false);
}

/* Build and send an exec event of exe and argv in scratch memory. */
static void
send_exec(enum roar_who who, pid_t subject, pid_t ppid, const char *exe,
	  char *const argv[], double time)
{
	static char *const empty[] = { NULL };
	struct roar_event_ids ids = ids_of(who);
	struct roar_scratch sc;
	struct roar_frame f;
	size_t need;
	void *buf;

	exe = exe ? exe : "";
	argv = argv ? argv : empty;
	need = roar_event_exec_size(exe, argv);
	if (need > ROAR_FRAME_HEADER_SIZE + ROAR_FRAME_MAX_PAYLOAD)
		need = ROAR_FRAME_HEADER_SIZE + ROAR_FRAME_MAX_PAYLOAD;
	buf = roar_scratch_get(&sc, ROAR_SCRATCH_FRAME, need,
			       who == ROAR_WHO_SHARED);
	if (!buf) {
		roar_transport_count_drop();
		return;
	}
	roar_frame_init(&f, buf, need);
	send_as(who, &f,
		roar_event_exec(&f, &ids, subject, ppid, exe, argv, time));
	roar_scratch_put(&sc);
}

void
roar_track_spawned(pid_t child, const char *file, char *const argv[],
		   double time)
{
	/* The subject check needs the fork first, on this very stream. */
	fork_event(child, false);
	/* The exec happens in the child, inside glibc, where no hook sees
	 * it: announce it on the child's behalf, naming it the subject. */
	send_exec(ROAR_WHO_SELF, child, roar_session.pid, file, argv, time);
}

double
roar_track_exec(enum roar_who who, const char *exe, char *const argv[],
		int *conn, bool hand_over)
{
	double t = roar_now();

	/* A connection given back to the program comes back for the end of
	 * the image: the program's calls that wanted the fd are done. */
	if (who == ROAR_WHO_SELF)
		roar_transport_starve(false);
	/* Only a vfork child, which has said nothing before, needs to name
	 * its parent. */
	send_exec(who, 0,
		  who == ROAR_WHO_SHARED ? (pid_t)ROAR_SYS(SYS_getppid) : 0,
		  exe, argv, t);
	/* The new image (same pid, so the same peer to the collector)
	 * continues this very stream: one connection fewer per exec, and
	 * its hello can never overtake this exec event. */
	*conn = who == ROAR_WHO_SELF && hand_over ? roar_transport_handover()
						  : -1;
	return t;
}

void
roar_track_exec_failed(enum roar_who who, int err, double time)
{
	unsigned char buf[128];
	struct roar_event_ids ids = ids_of(who);
	struct roar_frame f;

	if (who == ROAR_WHO_SELF)
		roar_transport_handover_failed();
	roar_frame_init(&f, buf, sizeof(buf));
	send_as(who, &f, roar_event_exec_failed(&f, &ids, err, time));
}

void
roar_track_exit(enum roar_who who, int status)
{
	unsigned char buf[128];
	struct roar_event_ids ids = ids_of(who);
	struct roar_frame f;

	if (who == ROAR_WHO_SELF) {
		/* What this thread's signal handlers parked goes first. */
		while (roar_park_pending() && roar_park_drain())
			;
		roar_transport_starve(false);
	}
	roar_frame_init(&f, buf, sizeof(buf));
	send_as(who, &f,
		roar_event_exit(
			&f, &ids,
			who == ROAR_WHO_SHARED ? (pid_t)ROAR_SYS(SYS_getppid)
					       : 0,
			status, roar_now(),
			who == ROAR_WHO_SELF ? roar_track_fd_yields() : 0));
	if (who == ROAR_WHO_SELF) {
		roar_transport_close();
		roar_autostart_wait();
	}
}

void
roar_track_reaped(pid_t child, int status)
{
	unsigned char buf[128];
	struct roar_frame f;

	roar_frame_init(&f, buf, sizeof(buf));
	send_as(ROAR_WHO_SELF, &f,
		roar_event_reaped(
			&f,
			&(struct roar_event_ids){ roar_session.pid,
						  roar_session_tid() },
			child, status));
}

size_t
roar_track_count(char *const v[])
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static bool
has_prefix(const char *s, const char *prefix, size_t len)
{
	return strncmp(s, prefix, len) == 0;
}

/* Whether the LD_PRELOAD value lists our library (colon or space lists,
 * as ld.so accepts both; roar's Ray worker joins with spaces). */
static bool
lists_us(const char *value)
{
	const char *lib = roar_session.lib_path;
	const char *base = strrchr(lib, '/');
	size_t blen;

	base = base ? base + 1 : lib;
	blen = strlen(base);
	for (const char *p = value; *p;) {
		size_t n = strcspn(p, ": ");
		const char *slash = NULL;

		for (size_t i = 0; i < n; i++)
			if (p[i] == '/')
				slash = p + i;
		const char *name = slash ? slash + 1 : p;
		size_t nlen = n - (size_t)(name - p);
		if (n && nlen == blen && !memcmp(name, base, blen))
			return true;
		p += n;
		if (*p)
			p++;
	}
	return false;
}

size_t
roar_track_doctor_size(char *const envp[], size_t *n)
{
	size_t bytes = sizeof(env_pre) + strlen(roar_session.lib_path) + 2 +
		       sizeof(env_mark) + 8;

	*n = 0;
	for (; envp && envp[*n]; (*n)++)
		if (has_prefix(envp[*n], env_pre, sizeof(env_pre) - 1))
			bytes += strlen(envp[*n]);
	return bytes;
}

char *const *
roar_track_doctor_env(char *const envp[], char **out, char *buf, size_t bufcap)
{
	size_t n = 0, k = 0, used = 0;
	bool have_pre = false, have_sock = false, changed = false;
	char flags[4];
	size_t nflags = 0;

	if (!roar_session.lib_path[0])
		return envp;
	for (; envp && envp[n]; n++) {
		const char *e = envp[n];

		if (has_prefix(e, env_pre, sizeof(env_pre) - 1)) {
			const char *v = e + sizeof(env_pre) - 1;
			size_t need = sizeof(env_pre) +
				      strlen(roar_session.lib_path) +
				      strlen(v) + 2;

			have_pre = true;
			if (!lists_us(v) && need <= bufcap - used) {
				/* Ours first, what was there kept after it. */
				char *w = buf + used;

				out[k++] = w;
				memcpy(w, env_pre, sizeof(env_pre) - 1);
				w += sizeof(env_pre) - 1;
				strcpy(w, roar_session.lib_path);
				w += strlen(w);
				if (*v) {
					*w++ = ':';
					strcpy(w, v);
					w += strlen(w);
				}
				used = (size_t)(w + 1 - buf);
				/* It was there, even if empty: give it back. */
				flags[nflags++] = 'p';
				changed = true;
				continue;
			}
		} else if (has_prefix(e, env_sock, sizeof(env_sock) - 1)) {
			have_sock = true;
		} else if (has_prefix(e, env_mark, sizeof(env_mark) - 1)) {
			/* Never the program's: only we write it. */
			changed = true;
			continue;
		}
		out[k++] = (char *)e;
	}
	if (!have_pre && roar_session.env_preload[0]) {
		out[k++] = roar_session.env_preload;
		flags[nflags++] = 'P';
		changed = true;
	}
	if (!have_sock && roar_session.have_sock) {
		out[k++] = roar_session.env_sock;
		flags[nflags++] = 'S';
		changed = true;
	}
	if (nflags && sizeof(env_mark) + nflags <= bufcap - used) {
		char *w = buf + used;

		memcpy(w, env_mark, sizeof(env_mark) - 1);
		memcpy(w + sizeof(env_mark) - 1, flags, nflags);
		w[sizeof(env_mark) - 1 + nflags] = '\0';
		out[k++] = w;
	}
	out[k] = NULL;
	return changed ? out : envp;
}

/*
 * "ROAR_PRELOAD_CONN=<fd>:<pid>" into buf (CONN_ENTRY_SIZE bytes).  The
 * pid says whose stream it is: only the image that execs in this very
 * process may adopt it (an image that does not load us, static or set-ID,
 * keeps it open, and its children must not write to it).
 */
static char *
conn_entry(char *buf, int fd)
{
	char *w = buf + sizeof(env_conn) - 1;

	memcpy(buf, env_conn, sizeof(env_conn) - 1);
	w = roar_fmt_uint(w, (unsigned)fd);
	*w++ = ':';
	*roar_fmt_uint(w, (unsigned long)roar_session.pid) = '\0';
	return buf;
}

char *const *
roar_track_mend_env(char *const envp[], struct roar_scratch *sc, bool shared,
		    int conn)
{
	size_t n, bytes = roar_track_doctor_size(envp, &n);
	size_t slots = (n + 5) * sizeof(char *);
	char **out = roar_scratch_get(sc, ROAR_SCRATCH_ENV,
				      slots + bytes + CONN_ENTRY_SIZE, shared);
	char *const *env;
	size_t k;

	if (!out) {
		ROAR_LOG("exec: no memory to mend the environment; the child "
			 "may run untraced");
		return envp;
	}
	env = roar_track_doctor_env(envp, out, (char *)out + slots, bytes);
	if (conn < 0)
		return env;
	if (env == envp) {
		for (k = 0; k < n; k++)
			out[k] = envp[k];
		out[n] = NULL;
	}
	for (k = 0; out[k]; k++)
		;
	out[k++] = conn_entry((char *)out + slots + bytes, conn);
	out[k] = NULL;
	return out;
}

/* Remove entry i of the NULL-terminated vector env. */
static void
remove_entry(char **env, size_t i)
{
	for (; env[i]; i++)
		env[i] = env[i + 1];
}

void
roar_track_unmend_environ(char **env)
{
	const char *flags = NULL;
	size_t i;

	for (i = 0; env && env[i];) {
		if (has_prefix(env[i], env_mark, sizeof(env_mark) - 1))
			flags = env[i] + sizeof(env_mark) - 1;
		else if (!has_prefix(env[i], env_conn, sizeof(env_conn) - 1)) {
			i++;
			continue;
		}
		remove_entry(env, i);
	}
	if (!flags)
		return;
	for (i = 0; env[i];) {
		char *e = env[i];

		if (has_prefix(e, env_pre, sizeof(env_pre) - 1) &&
		    strchr(flags, 'P')) {
			remove_entry(env, i);
			continue;
		}
		if (has_prefix(e, env_pre, sizeof(env_pre) - 1) &&
		    strchr(flags, 'p')) {
			/* "LD_PRELOAD=ours:theirs": give back "theirs", in
			 * place (the string is the process's own). */
			char *v = e + sizeof(env_pre) - 1;
			size_t first = strcspn(v, ": ");

			if (v[first])
				memmove(v, v + first + 1,
					strlen(v + first + 1) + 1);
			else
				v[0] = '\0'; /* it was "LD_PRELOAD=" */
		} else if ((has_prefix(e, env_sock, sizeof(env_sock) - 1) &&
			    strchr(flags, 'S')) ||
			   (has_prefix(e, env_lib, sizeof(env_lib) - 1) &&
			    strchr(flags, 'L'))) {
			remove_entry(env, i);
			continue;
		}
		i++;
	}
}

int
roar_track_spawn(bool search, pid_t *pid, const char *file,
		 const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[],
		 char *const envp[])
{
	const struct roar_real *r = roar_real_get();
	enum roar_who who = roar_lifecycle_enter();
	struct roar_scratch sc;
	char *const *env = envp;
	pid_t child = -1;
	int ret;
	/* Stamped before the child can start: its image's hello must be
	 * later than this exec, or the exec would look unanswered. */
	double t = roar_now();

	sc.base = NULL;
	if (who != ROAR_WHO_INSIDE)
		env = roar_track_mend_env(envp, &sc, who == ROAR_WHO_SHARED,
					  -1);
	/* The guard stays held across the spawn: glibc blocks every signal
	 * while its child shares our memory, so no handler could use it. */
	if (search)
		ret = r->posix_spawnp(&child, file, fa, attr, argv, env);
	else
		ret = r->posix_spawn(&child, file, fa, attr, argv, env);
	roar_scratch_put(&sc);
	if (ret == 0) {
		if (pid)
			*pid = child;
		if (who == ROAR_WHO_SELF) {
			int saved = errno;

			roar_track_spawned(child, file, argv, t);
			errno = saved;
		}
	}
	if (who == ROAR_WHO_SELF)
		roar_guard_leave();
	return ret;
}
