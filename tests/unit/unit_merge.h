/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scaffolding of the merge suites (test_merge_*.c, test_procinfo.c):
 * events built with msgpack-c's packer and fed to roar_merge_event as if
 * from the sender peer (by SO_PEERCRED), the look-ups the tests assert
 * on, a snapshot of everything an event could change, and the fixture: a
 * fresh run M whose root is ROOT.  Each suite is one translation unit and
 * includes this header once.
 */
#ifndef ROAR_UNIT_MERGE_H
#define ROAR_UNIT_MERGE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <msgpack.h>

#include "roar/protocol.h"
#include "merge.h"
#include "unit.h"
#include "unit_mp.h"

#define ROOT 100

static struct roar_merge M;

/* The sender by SO_PEERCRED the events below come from; 0: unknown (the
 * payload is trusted), as in every test that does not set it. */
static pid_t peer;

/* ---- event builders ---------------------------------------------------- */

static inline int
apply(struct roar_merge *m, struct ev *e)
{
	int rc = roar_merge_event(m, ev_obj(e), peer);

	ev_free(e);
	return rc;
}

static inline int
hello_exec(struct roar_merge *m, pid_t pid, pid_t ppid, double t,
	   const char *const *argv, const char *const *env, const char *cwd)
{
	struct ev e;

	ev_begin(&e, 8 + (env != NULL) + (cwd != NULL));
	ev_str(&e, ROAR_KEY_KIND, "hello");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_int(&e, ROAR_KEY_PROTO, ROAR_PROTOCOL_VERSION);
	ev_int(&e, ROAR_KEY_PPID, ppid);
	ev_str(&e, ROAR_KEY_ORIGIN, ROAR_ORIGIN_EXEC);
	ev_double(&e, ROAR_KEY_TIME, t);
	if (env)
		ev_strv(&e, ROAR_KEY_ENV, env);
	if (cwd)
		ev_str(&e, ROAR_KEY_CWD, cwd);
	/* argv last: it is the one a test most often inspects. */
	ck_assert_ptr_nonnull(argv);
	ev_strv(&e, ROAR_KEY_ARGV, argv);
	return apply(m, &e);
}

static inline int
hello_fork(struct roar_merge *m, pid_t pid, pid_t ppid, double t)
{
	struct ev e;

	ev_begin(&e, 7);
	ev_str(&e, ROAR_KEY_KIND, "hello");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_int(&e, ROAR_KEY_PROTO, ROAR_PROTOCOL_VERSION);
	ev_int(&e, ROAR_KEY_PPID, ppid);
	ev_str(&e, ROAR_KEY_ORIGIN, ROAR_ORIGIN_FORK);
	ev_double(&e, ROAR_KEY_TIME, t);
	return apply(m, &e);
}

static inline int
exec_ev(struct roar_merge *m, pid_t pid, double t, const char *exe,
	const char *const *argv)
{
	struct ev e;

	ev_begin(&e, 6);
	ev_str(&e, ROAR_KEY_KIND, "exec");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_str(&e, ROAR_KEY_EXE, exe);
	ev_strv(&e, ROAR_KEY_ARGV, argv);
	ev_double(&e, ROAR_KEY_TIME, t);
	return apply(m, &e);
}

static inline int
exec_failed_ev(struct roar_merge *m, pid_t pid, double t, int err)
{
	struct ev e;

	ev_begin(&e, 5);
	ev_str(&e, ROAR_KEY_KIND, "exec_failed");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_int(&e, ROAR_KEY_ERRNO, err);
	ev_double(&e, ROAR_KEY_TIME, t);
	return apply(m, &e);
}

static inline int
fork_ev(struct roar_merge *m, pid_t pid, pid_t child)
{
	struct ev e;

	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, "fork");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_int(&e, ROAR_KEY_CHILD, child);
	return apply(m, &e);
}

/* A fork event stamped with its time t. */
static inline int
fork_ev_t(struct roar_merge *m, pid_t pid, pid_t child, double t)
{
	struct ev e;

	ev_begin(&e, 5);
	ev_str(&e, ROAR_KEY_KIND, "fork");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_int(&e, ROAR_KEY_CHILD, child);
	ev_double(&e, ROAR_KEY_TIME, t);
	return apply(m, &e);
}

static inline int
reaped_ev(struct roar_merge *m, pid_t pid, pid_t child, int status)
{
	struct ev e;

	ev_begin(&e, 5);
	ev_str(&e, ROAR_KEY_KIND, "reaped");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_int(&e, ROAR_KEY_CHILD, child);
	ev_int(&e, ROAR_KEY_STATUS, status);
	return apply(m, &e);
}

static inline int
exit_ev(struct roar_merge *m, pid_t pid, int status, double t)
{
	struct ev e;

	ev_begin(&e, 5);
	ev_str(&e, ROAR_KEY_KIND, "exit");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_int(&e, ROAR_KEY_STATUS, status);
	ev_double(&e, ROAR_KEY_TIME, t);
	return apply(m, &e);
}

/* An exit event with "ppid", at time 9.0. */
static inline int
exit_ppid(struct roar_merge *m, pid_t pid, pid_t ppid, int status)
{
	struct ev e;

	ev_begin(&e, 6);
	ev_str(&e, ROAR_KEY_KIND, "exit");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_int(&e, ROAR_KEY_PPID, ppid);
	ev_int(&e, ROAR_KEY_STATUS, status);
	ev_double(&e, ROAR_KEY_TIME, 9.0);
	return apply(m, &e);
}

static inline int
dropped_ev(struct roar_merge *m, pid_t pid, int64_t count)
{
	struct ev e;

	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, "dropped");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	ev_int(&e, ROAR_KEY_COUNT, count);
	return apply(m, &e);
}

static inline int
file_ev(struct roar_merge *m, const char *kind, pid_t pid, pid_t tid,
	const char *path, size_t len)
{
	struct ev e;

	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, kind);
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, tid);
	ev_strn(&e, ROAR_KEY_PATH, path, len);
	return apply(m, &e);
}

/* An exec event with "ppid", and "subject" when subject is not 0. */
static inline int
exec_full(struct roar_merge *m, pid_t pid, pid_t subject, pid_t ppid, double t,
	  const char *exe, const char *const *argv)
{
	struct ev e;

	ev_begin(&e, 7 + (subject != 0));
	ev_str(&e, ROAR_KEY_KIND, "exec");
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, pid);
	if (subject)
		ev_int(&e, ROAR_KEY_SUBJECT, subject);
	ev_int(&e, ROAR_KEY_PPID, ppid);
	ev_str(&e, ROAR_KEY_EXE, exe);
	ev_strv(&e, ROAR_KEY_ARGV, argv);
	ev_double(&e, ROAR_KEY_TIME, t);
	return apply(m, &e);
}

/* ---- helpers ------------------------------------------------------------ */

static inline void
check_strv(const struct roar_strv *s, const char *const *want)
{
	size_t n = 0;

	ck_assert_msg(s != NULL, "no argv where %s was expected",
		      want && want[0] ? want[0] : "(empty)");
	while (want[n])
		n++;
	ck_assert_uint_eq(s->n, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(s->v[i].len, strlen(want[i]));
		ck_assert_str_eq(s->v[i].p, want[i]);
	}
}

static inline struct roar_proc *
proc(const struct roar_merge *m, pid_t pid)
{
	struct roar_proc *p = roar_merge_find(m, pid);

	ck_assert_msg(p != NULL, "pid %d unknown", (int)pid);
	return p;
}

/*
 * Why pid was not traced, as the report says it: after the diagnosis
 * (roar_merge_diagnose).  The answer before it must agree on whether pid
 * was traced at all, since it reads no file and only names the exec.
 */
static inline const char *
reason(struct roar_merge *m, pid_t pid)
{
	static char buf[4096];
	char early[4096];
	const char *before, *after;

	m->diagnosed = false;
	before = roar_merge_untraced_reason(m, proc(m, pid), early,
					    sizeof(early));
	roar_merge_diagnose(m);
	after = roar_merge_untraced_reason(m, proc(m, pid), buf, sizeof(buf));
	ck_assert_msg((before == NULL) == (after == NULL), "%s / %s",
		      before ? before : "(traced)", after ? after : "(traced)");
	return after;
}

static inline pid_t
parent(const struct roar_merge *m, pid_t pid)
{
	return roar_merge_parent(m, proc(m, pid));
}

static inline const struct roar_strv *
command(const struct roar_merge *m, pid_t pid)
{
	return roar_merge_command(m, proc(m, pid));
}

static const char *const make_argv[] = { "make", "all", NULL };
static const char *const make_env[] = { "PATH=/usr/bin:/bin", "HOME=/root",
					NULL };

/* The fixture: a fresh run M whose root is ROOT, and no peer. */
static inline void
setup(void)
{
	roar_merge_init(&M, ROOT);
	peer = 0;
}

static inline void
teardown(void)
{
	roar_merge_free(&M);
}

/* ---- the run at a glance ------------------------------------------------ */

/* Everything an event could change: malformed and refused events must
 * leave it as it was. */
struct snap {
	size_t nprocs, nfiles, naccess;
	uint64_t bad, unknown;
	pid_t ppid;
	int parent_source;
	double start_time, exec_time;
	size_t nimages;
	bool has_exec, exec_failed, has_exit, has_wait, fork_hello;
	size_t argc;
	uint64_t dropped;
};

static inline void
snapshot(const struct roar_merge *m, struct snap *s)
{
	const struct roar_proc *p = roar_merge_find(m, ROOT);

	memset(s, 0, sizeof(*s));
	s->nprocs = m->procs.count;
	s->nfiles = m->nfiles;
	s->naccess = m->access.count;
	s->bad = m->bad_frames;
	s->unknown = m->unknown_events;
	if (p) {
		s->ppid = p->ppid;
		s->parent_source = p->parent_source;
		s->start_time = p->start_time;
		s->exec_time = p->exec_time;
		s->nimages = p->nimages;
		s->has_exec = p->has_exec;
		s->exec_failed = p->exec_failed;
		s->has_exit = p->has_exit;
		s->has_wait = p->has_wait;
		s->fork_hello = p->fork_hello;
		s->argc = p->nimages ? roar_proc_image(p)->argv.n : 0;
		s->dropped = p->dropped;
	}
}

#endif /* ROAR_UNIT_MERGE_H */
