/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scaffolding of the report suites (test_report_*.c): a run M built from
 * events (build_run: a make that forks a compiler and a child doing I/O,
 * and a process of unknown parent), packed with roar_report_pack and
 * decoded, and the look-ups the tests assert on; each test has a private
 * tmpdir.  Each suite is one translation unit and includes this header
 * once.
 */
#ifndef ROAR_UNIT_REPORT_H
#define ROAR_UNIT_REPORT_H

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <msgpack.h>

#include "roar/protocol.h"
#include "merge.h"
#include "report.h"
#include "unit.h"
#include "unit_mp.h"

#define ROOT 100

static struct roar_merge M;
static char tmpdir[PATH_MAX];

static inline void
setup(void)
{
	roar_merge_init(&M, ROOT);
	unit_mkdtemp(tmpdir, sizeof(tmpdir), "report");
}

static inline void
teardown(void)
{
	roar_merge_free(&M);
	unit_rmtree(tmpdir);
}

/* ---- building a run ---------------------------------------------------- */

static inline void
apply(struct ev *e)
{
	ck_assert_int_eq(roar_merge_event(&M, ev_obj(e), 0), 0);
	ev_free(e);
}

static inline void
hello_exec(pid_t pid, pid_t ppid, double t, const char *const *argv,
	   const char *const *env, const char *cwd, const char *exe)
{
	struct ev e;

	ev_begin(&e, 6 + (env != NULL) + (cwd != NULL) + (exe != NULL));
	ev_str(&e, ROAR_KEY_KIND, ROAR_KIND_NAME_HELLO);
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_PPID, ppid);
	ev_str(&e, ROAR_KEY_ORIGIN, ROAR_ORIGIN_EXEC);
	ev_double(&e, ROAR_KEY_TIME, t);
	ev_strv(&e, ROAR_KEY_ARGV, argv);
	if (env)
		ev_strv(&e, ROAR_KEY_ENV, env);
	if (cwd)
		ev_str(&e, ROAR_KEY_CWD, cwd);
	if (exe)
		ev_str(&e, ROAR_KEY_EXE, exe);
	apply(&e);
}

static inline void
hello_fork(pid_t pid, pid_t ppid, double t)
{
	struct ev e;

	ev_begin(&e, 5);
	ev_str(&e, ROAR_KEY_KIND, ROAR_KIND_NAME_HELLO);
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_PPID, ppid);
	ev_str(&e, ROAR_KEY_ORIGIN, ROAR_ORIGIN_FORK);
	ev_double(&e, ROAR_KEY_TIME, t);
	apply(&e);
}

static inline void
file(const char *kind, pid_t pid, pid_t tid, const char *path)
{
	struct ev e;

	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, kind);
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, tid);
	ev_str(&e, ROAR_KEY_PATH, path);
	apply(&e);
}

static inline void
reaped(pid_t pid, pid_t child, int status)
{
	struct ev e;

	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, ROAR_KIND_NAME_REAPED);
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_CHILD, child);
	ev_int(&e, ROAR_KEY_STATUS, status);
	apply(&e);
}

static inline void
exit_ev(pid_t pid, int status)
{
	struct ev e;

	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, ROAR_KIND_NAME_EXIT);
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_STATUS, status);
	ev_double(&e, ROAR_KEY_TIME, 50.0);
	apply(&e);
}

#define BAD_PATH "/src/\xff\xfe.o" /* not UTF-8 */

static const char *const make_argv[] = { "make", "-j2", NULL };
static const char *const make_env[] = { "PATH=/usr/bin", "HOME=/root", "EQ=a=b",
					"NOEQUALS", NULL };
static const char *const cc_argv[] = { "cc", "-c", "a.c", NULL };

/*
 * ROOT (make) forks 101 (runs cc) and 102 (a fork child doing I/O),
 * and 103 appears with a parent we never saw.
 */
static inline void
build_run(void)
{
	hello_exec(ROOT, 1, 1.0, make_argv, make_env, "/src", "/usr/bin/make");
	hello_fork(102, ROOT, 2.0);
	hello_fork(101, ROOT, 2.0);
	hello_exec(101, ROOT, 3.0, cc_argv, make_env, "/src", "/usr/bin/cc");
	hello_exec(103, 999, 4.0, cc_argv, NULL, NULL, NULL);
	file("read", ROOT, ROOT, "/src/Makefile");
	file("read", 101, 1011, "/src/a.c");
	file("write", 101, 1011, BAD_PATH);
	file("write", 101, 1012, "/src/b.c");
	file("read", ROOT, ROOT, "/src/b.c");
	file("open_write", 102, 102, "/src/zz");   /* counted as a read */
	file("read", 102, 102, "/src/\xc3\xa9.h"); /* é, sorts after z */
	file("write", 102, 102, "/src/B.txt");     /* sorts before a */
	reaped(ROOT, 101, 2 << 8);
	reaped(ROOT, 102, 9); /* SIGKILL */
	exit_ev(ROOT, 0);
	M.start_time = 1.0;
	M.end_time = 60.0;
	M.bad_frames = 2;
	M.unknown_events = 3;
	M.frames_refused = 4;
}

/* ---- decoding the report ---------------------------------------------- */

struct report {
	msgpack_sbuffer sb;
	msgpack_unpacked u;
	const msgpack_object *root;
};

static inline void
pack(struct report *r)
{
	size_t off = 0;

	msgpack_sbuffer_init(&r->sb);
	roar_report_pack(&M, &r->sb);
	msgpack_unpacked_init(&r->u);
	ck_assert_int_eq(
		msgpack_unpack_next(&r->u, r->sb.data, r->sb.size, &off),
		MSGPACK_UNPACK_SUCCESS);
	/* One value, every byte used: the map sizes add up. */
	ck_assert_uint_eq(off, r->sb.size);
	r->root = &r->u.data;
	ck_assert_int_eq(r->root->type, MSGPACK_OBJECT_MAP);
}

static inline void
report_free(struct report *r)
{
	msgpack_unpacked_destroy(&r->u);
	msgpack_sbuffer_destroy(&r->sb);
}

static inline const msgpack_object *
array(const msgpack_object *map, const char *key)
{
	const msgpack_object *o = mp_get(map, key);

	ck_assert_msg(o && o->type == MSGPACK_OBJECT_ARRAY, "%s not an array",
		      key);
	return o;
}

static inline const msgpack_object *
process(const msgpack_object *procs, pid_t pid)
{
	for (uint32_t i = 0; i < procs->via.array.size; i++)
		if (mp_is_int(mp_get(&procs->via.array.ptr[i], "pid"), pid))
			return &procs->via.array.ptr[i];
	ck_abort_msg("pid %d not in report", (int)pid);
	return NULL;
}

#endif /* ROAR_UNIT_REPORT_H */
