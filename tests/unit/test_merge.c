/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of collector/merge.c: events built with msgpack-c's packer,
 * fed to roar_merge_event in the orders separate per-process connections
 * can deliver them (a child before its parent's fork event, a reaped
 * before anything, an exec before or after the new image's hello, an
 * exec_failed before its exec), and malformed events, which must be
 * refused with -EINVAL and change nothing.  The identity rules (a sender
 * speaks for itself; claims about other pids are checked) run against a
 * fake kernel table in place of /proc, and fork children are credited
 * with the image their parent had at the fork.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <msgpack.h>

#include "roar/protocol.h"
#include "merge.h"
#include "procinfo.h"
#include "unit.h"
#include "unit_elf.h"
#include "unit_mp.h"

/* ---- event builders ---------------------------------------------------- */

/* The sender by SO_PEERCRED the events below come from; 0: unknown (the
 * payload is trusted), as in every test that does not set it. */
static pid_t peer;

static int
apply(struct roar_merge *m, struct ev *e)
{
	int rc = roar_merge_event(m, ev_obj(e), peer);

	ev_free(e);
	return rc;
}

static int
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

static int
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

static int
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

static int
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

static int
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

static int
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

static int
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

static int
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

static int
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

/* ---- helpers ------------------------------------------------------------ */

static void
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

static struct roar_proc *
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
static const char *
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

static pid_t
parent(const struct roar_merge *m, pid_t pid)
{
	return roar_merge_parent(m, proc(m, pid));
}

static const struct roar_strv *
command(const struct roar_merge *m, pid_t pid)
{
	return roar_merge_command(m, proc(m, pid));
}

static const char *const make_argv[] = { "make", "all", NULL };
static const char *const make_env[] = { "PATH=/usr/bin:/bin", "HOME=/root",
					NULL };

#define ROOT 100

static struct roar_merge M;

static void
setup(void)
{
	roar_merge_init(&M, ROOT);
	peer = 0;
}

static void
teardown(void)
{
	roar_merge_free(&M);
}

/* ---- orders -------------------------------------------------------------- */

START_TEST(fork_hello_before_fork_event)
{
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, make_argv, make_env, "/src"), 0);
	/* The child's connection wins the race. */
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 2.0), 0);
	ck_assert_int_eq(parent(&M, 101), ROOT);
	ck_assert_int_eq(fork_ev(&M, ROOT, 101), 0);

	ck_assert_int_eq(parent(&M, 101), ROOT);
	ck_assert_int_eq(proc(&M, 101)->parent_source, ROAR_PARENT_FORK_HELLO);
	ck_assert_int_eq(parent(&M, ROOT), 0);
	/* A fork child runs its parent's image. */
	check_strv(command(&M, 101), make_argv);
	check_strv(roar_merge_env(&M, proc(&M, 101)), make_env);
	ck_assert_ptr_null(reason(&M, 101));
	ck_assert_ptr_null(reason(&M, ROOT));
	ck_assert_uint_eq(M.procs.count, 2);
}
END_TEST

START_TEST(fork_event_before_fork_hello)
{
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, make_argv, make_env, NULL), 0);
	ck_assert_int_eq(fork_ev(&M, ROOT, 101), 0);
	/* Heard of, but it has not spoken yet. */
	ck_assert_int_eq(parent(&M, 101), ROOT);
	check_strv(command(&M, 101), make_argv);
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 2.0), 0);
	ck_assert_int_eq(parent(&M, 101), ROOT);
	check_strv(command(&M, 101), make_argv);
	ck_assert_ptr_null(reason(&M, 101));
}
END_TEST

START_TEST(grandchild_before_everyone)
{
	/* 102 (child of 101, child of ROOT) speaks first of all. */
	ck_assert_int_eq(hello_fork(&M, 102, 101, 3.0), 0);
	ck_assert_int_eq(parent(&M, 102), ROOT); /* 101 unknown yet */
	ck_assert_ptr_null(command(&M, 102));
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 2.0), 0);
	ck_assert_int_eq(parent(&M, 102), 101);
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, make_argv, make_env, NULL), 0);
	check_strv(command(&M, 102), make_argv);
	ck_assert_int_eq(parent(&M, 101), ROOT);
	ck_assert_int_eq(parent(&M, ROOT), 0);
}
END_TEST

START_TEST(reaped_before_anything)
{
	static const char *const sh[] = { "sh", "-c", "x", NULL };

	ck_assert_int_eq(reaped_ev(&M, ROOT, 101, 2 << 8), 0);
	ck_assert_uint_eq(M.procs.count, 2);
	ck_assert(proc(&M, 101)->has_wait);
	ck_assert_int_eq(proc(&M, 101)->wait_status, 2 << 8);
	ck_assert_int_eq(parent(&M, 101), ROOT);
	ck_assert_int_eq(proc(&M, 101)->parent_source, ROAR_PARENT_REAPED);
	/* It never said a word: untraced, no command known. */
	ck_assert_ptr_nonnull(reason(&M, 101));
	ck_assert_ptr_null(command(&M, 101));

	/* Its hello was only late. */
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 2.0), 0);
	ck_assert_ptr_null(reason(&M, 101));
	ck_assert_int_eq(proc(&M, 101)->parent_source, ROAR_PARENT_FORK_HELLO);
	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 1.0, sh, NULL, NULL), 0);
	check_strv(command(&M, 101), sh);
	/* The wait status survives the later events. */
	ck_assert_int_eq(proc(&M, 101)->wait_status, 2 << 8);
}
END_TEST

START_TEST(exec_then_hello_of_new_image)
{
	static const char *const ls[] = { "ls", "-l", NULL };

	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, make_argv, make_env, NULL), 0);
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 2.0), 0);
	ck_assert_int_eq(exec_ev(&M, 101, 5.0, "/bin/ls", ls), 0);
	/* Until the new image speaks, its exec is all we know. */
	check_strv(command(&M, 101), ls);
	ck_assert_ptr_nonnull(reason(&M, 101));
	ck_assert_int_eq(hello_exec(&M, 101, ROOT, 6.0, ls, make_env, NULL), 0);
	check_strv(command(&M, 101), ls);
	ck_assert_ptr_null(reason(&M, 101));
	ck_assert_int_eq(parent(&M, 101), ROOT);
}
END_TEST

START_TEST(hello_then_late_older_exec)
{
	static const char *const image[] = { "ls", "-l", NULL };
	static const char *const asked[] = { "ls", "-l", "(as asked)", NULL };

	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, make_argv, make_env, NULL), 0);
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 2.0), 0);
	/* The new image's connection delivers first... */
	ck_assert_int_eq(hello_exec(&M, 101, ROOT, 10.0, image, make_env, NULL),
			 0);
	/* ...the old image's exec event, stamped earlier, comes late. */
	ck_assert_int_eq(exec_ev(&M, 101, 5.0, "/bin/ls", asked), 0);
	check_strv(command(&M, 101), image);
	ck_assert_ptr_null(reason(&M, 101));
}
END_TEST

START_TEST(later_exec_without_hello_is_untraced)
{
	/* Traced image, then an exec (at a later time) that never came
	 * back: the process ended in an image we could not see. */
	static const char *const sh[] = { "sh", NULL };
	static const char *const stat[] = { "static-tool", NULL };

	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 1.0, sh, make_env, "/w"), 0);
	ck_assert_int_eq(exec_ev(&M, ROOT, 4.0, "/opt/static-tool", stat), 0);
	check_strv(command(&M, ROOT), stat);
	ck_assert_ptr_nonnull(reason(&M, ROOT));
}
END_TEST

START_TEST(exec_failed_before_its_exec)
{
	static const char *const sh[] = { "sh", "-c", "nope", NULL };
	static const char *const nope[] = { "nope", NULL };

	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 1.0, sh, make_env, NULL), 0);
	/* Same time stamp: the exec_failed of that very attempt. */
	ck_assert_int_eq(exec_failed_ev(&M, ROOT, 5.0, ENOENT), 0);
	ck_assert_int_eq(exec_ev(&M, ROOT, 5.0, "/usr/bin/nope", nope), 0);
	ck_assert(proc(&M, ROOT)->exec_failed);
	check_strv(command(&M, ROOT), sh);
	ck_assert_ptr_null(reason(&M, ROOT));
}
END_TEST

START_TEST(exec_failed_after_its_exec)
{
	static const char *const sh[] = { "sh", "-c", "nope", NULL };
	static const char *const nope[] = { "nope", NULL };

	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 1.0, sh, make_env, NULL), 0);
	ck_assert_int_eq(exec_ev(&M, ROOT, 5.0, "/usr/bin/nope", nope), 0);
	ck_assert_ptr_nonnull(reason(&M, ROOT));
	ck_assert_int_eq(exec_failed_ev(&M, ROOT, 5.0, ENOENT), 0);
	ck_assert(proc(&M, ROOT)->exec_failed);
	check_strv(command(&M, ROOT), sh);
	ck_assert_ptr_null(reason(&M, ROOT));
}
END_TEST

START_TEST(exec_failed_of_older_attempt_ignored)
{
	static const char *const sh[] = { "sh", NULL };
	static const char *const one[] = { "one", NULL };
	static const char *const two[] = { "two", NULL };

	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 1.0, sh, make_env, NULL), 0);
	/* Attempt at t=3 failed, attempt at t=7 went silent.  Delivered:
	 * exec(7), exec_failed(3), exec(3). */
	ck_assert_int_eq(exec_ev(&M, ROOT, 7.0, "/bin/two", two), 0);
	ck_assert_int_eq(exec_failed_ev(&M, ROOT, 3.0, ENOENT), 0);
	ck_assert_int_eq(exec_ev(&M, ROOT, 3.0, "/bin/one", one), 0);
	ck_assert(!proc(&M, ROOT)->exec_failed);
	ck_assert_double_eq(proc(&M, ROOT)->exec_time, 7.0);
	check_strv(command(&M, ROOT), two);
	ck_assert_ptr_nonnull(reason(&M, ROOT));
}
END_TEST

START_TEST(failed_then_successful_exec)
{
	static const char *const sh[] = { "sh", NULL };
	static const char *const one[] = { "one", NULL };
	static const char *const two[] = { "two", NULL };

	/* execvp trying PATH entries: the first fails, the second works
	 * and its image speaks. Delivered out of order. */
	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 1.0, sh, make_env, NULL), 0);
	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 8.0, two, make_env, NULL), 0);
	ck_assert_int_eq(exec_failed_ev(&M, ROOT, 3.0, ENOENT), 0);
	ck_assert_int_eq(exec_ev(&M, ROOT, 7.0, "/bin/two", two), 0);
	ck_assert_int_eq(exec_ev(&M, ROOT, 3.0, "/usr/local/bin/one", one), 0);
	check_strv(command(&M, ROOT), two);
	ck_assert_ptr_null(reason(&M, ROOT));
}
END_TEST

START_TEST(older_hello_does_not_replace_image)
{
	static const char *const a[] = { "a", NULL };
	static const char *const b[] = { "b", NULL };

	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 2.0, b, make_env, NULL), 0);
	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 1.0, a, make_env, NULL), 0);
	check_strv(command(&M, ROOT), b);
	ck_assert_double_eq(proc(&M, ROOT)->start_time, 1.0);
}
END_TEST

START_TEST(parent_source_priority)
{
	/* An exec hello's getppid() (maybe 1 after reparenting) loses to
	 * the parent's own fork event, in either order. */
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, make_argv, make_env, NULL), 0);
	ck_assert_int_eq(hello_exec(&M, 103, 1, 3.0, make_argv, NULL, NULL), 0);
	ck_assert_int_eq(proc(&M, 103)->parent_source, ROAR_PARENT_EXEC_HELLO);
	/* pid 1 is not traced: attached to the root instead. */
	ck_assert_int_eq(parent(&M, 103), ROOT);
	ck_assert_int_eq(fork_ev(&M, 101, 103), 0);
	ck_assert_int_eq(parent(&M, 103), 101);

	ck_assert_int_eq(fork_ev(&M, 101, 104), 0);
	ck_assert_int_eq(hello_exec(&M, 104, 1, 4.0, make_argv, NULL, NULL), 0);
	ck_assert_int_eq(parent(&M, 104), 101);
	ck_assert_int_eq(proc(&M, 104)->parent_source, ROAR_PARENT_FORK_EVENT);
	/* A reaper does not override the forker. */
	ck_assert_int_eq(reaped_ev(&M, ROOT, 104, 0), 0);
	ck_assert_int_eq(parent(&M, 104), 101);
	/* Nor does anybody make a process its own parent. */
	ck_assert_int_eq(hello_fork(&M, 105, 105, 5.0), 0);
	ck_assert_int_eq(parent(&M, 105), ROOT);
}
END_TEST

START_TEST(root_parent_is_nil)
{
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 4242, 1.0, make_argv, make_env, NULL), 0);
	/* Even with a traced parent pid, the root has none. */
	ck_assert_int_eq(hello_fork(&M, 4242, 1, 0.5), 0);
	ck_assert_int_eq(parent(&M, ROOT), 0);
}
END_TEST

START_TEST(root_that_never_started)
{
	/* The launcher made the root but it never said hello. */
	ck_assert_ptr_nonnull(roar_merge_proc(&M, ROOT));
	ck_assert_ptr_nonnull(reason(&M, ROOT));
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, make_argv, make_env, NULL), 0);
	ck_assert_ptr_null(reason(&M, ROOT));
}
END_TEST

START_TEST(exit_status_and_drops)
{
	ck_assert_int_eq(exit_ev(&M, ROOT, 256 + 3, 9.0), 0);
	ck_assert(proc(&M, ROOT)->has_exit);
	ck_assert_int_eq(proc(&M, ROOT)->exit_code, 3);
	ck_assert_double_eq(proc(&M, ROOT)->end_time, 9.0);

	/* Counts are deltas since the sender's last dropped event: they
	 * add up, within an image and across images. */
	ck_assert_int_eq(hello_exec(&M, 101, ROOT, 1.0, make_argv, NULL, NULL),
			 0);
	ck_assert_int_eq(dropped_ev(&M, 101, 5), 0);
	ck_assert_int_eq(dropped_ev(&M, 101, 3), 0);
	ck_assert_uint_eq(roar_merge_dropped(&M), 8);
	ck_assert_int_eq(hello_exec(&M, 101, ROOT, 2.0, make_argv, NULL, NULL),
			 0);
	ck_assert_int_eq(dropped_ev(&M, 101, 2), 0);
	ck_assert_uint_eq(roar_merge_dropped(&M), 10);
	ck_assert_int_eq(dropped_ev(&M, 102, 0), 0);
	ck_assert_uint_eq(roar_merge_dropped(&M), 10);
}
END_TEST

/* ---- files ------------------------------------------------------------ */

static struct roar_file *
file_named(const struct roar_merge *m, const char *p, size_t len)
{
	for (size_t i = 0; i < m->nfiles; i++)
		if (m->file_list[i]->path.len == len &&
		    !memcmp(m->file_list[i]->path.p, p, len))
			return m->file_list[i];
	return NULL;
}

static uintptr_t
access_bits(const struct roar_merge *m, const struct roar_file *f, pid_t pid)
{
	return (uintptr_t)roar_map_get(&m->access, (uint64_t)f->index << 32 |
							   (uint32_t)pid);
}

START_TEST(file_kinds)
{
	struct roar_file *f;

	ck_assert_int_eq(file_ev(&M, "open_write", 101, 1011, "/ow", 3), 0);
	ck_assert_int_eq(file_ev(&M, "open_read", 101, 1011, "/or", 3), 0);
	ck_assert_int_eq(file_ev(&M, "read", 101, 1011, "/r", 2), 0);
	ck_assert_int_eq(file_ev(&M, "write", 101, 1012, "/w", 2), 0);
	ck_assert_uint_eq(M.nfiles, 4);

	/* roar's listeners count open_write as a read: so do we. */
	f = file_named(&M, "/ow", 3);
	ck_assert_ptr_nonnull(f);
	ck_assert(f->read);
	ck_assert(!f->written);
	ck_assert_uint_eq(access_bits(&M, f, 101), ROAR_ACCESS_READ);
	f = file_named(&M, "/or", 3);
	ck_assert(f->read && !f->written);
	f = file_named(&M, "/r", 2);
	ck_assert(f->read && !f->written);
	ck_assert_uint_eq(f->n_read_tids, 1);
	ck_assert_int_eq(f->read_tids[0], 1011);
	f = file_named(&M, "/w", 2);
	ck_assert(!f->read && f->written);
	ck_assert_uint_eq(f->n_written_tids, 1);
	ck_assert_int_eq(f->written_tids[0], 1012);
	ck_assert_uint_eq(access_bits(&M, f, 101), ROAR_ACCESS_WRITE);
	ck_assert_uint_eq(proc(&M, 101)->nfiles, 4);
}
END_TEST

START_TEST(file_table_merges_paths)
{
	struct roar_file *f;

	ck_assert_int_eq(file_ev(&M, "read", 101, 1, "/src/a.c", 8), 0);
	ck_assert_int_eq(file_ev(&M, "read", 101, 1, "/src/a.c", 8), 0);
	ck_assert_int_eq(file_ev(&M, "read", 101, 2, "/src/a.c", 8), 0);
	ck_assert_int_eq(file_ev(&M, "write", 102, 3, "/src/a.c", 8), 0);
	ck_assert_int_eq(file_ev(&M, "read", 102, 3, "/src/a.c", 8), 0);
	ck_assert_uint_eq(M.nfiles, 1);
	f = file_named(&M, "/src/a.c", 8);
	ck_assert(f->read && f->written);
	ck_assert_uint_eq(f->n_read_tids, 3);
	ck_assert_uint_eq(f->n_written_tids, 1);
	ck_assert_uint_eq(access_bits(&M, f, 101), ROAR_ACCESS_READ);
	ck_assert_uint_eq(access_bits(&M, f, 102),
			  ROAR_ACCESS_READ | ROAR_ACCESS_WRITE);
	ck_assert_uint_eq(proc(&M, 101)->nfiles, 1);
	ck_assert_uint_eq(proc(&M, 102)->nfiles, 1);
	/* A non-UTF-8 path and a bin-encoded one are the same bytes. */
	ck_assert_int_eq(file_ev(&M, "read", 101, 1, "/x\xff", 3), 0);
	{
		struct ev e;

		ev_begin(&e, 4);
		ev_str(&e, ROAR_KEY_KIND, "write");
		ev_int(&e, ROAR_KEY_PID, 101);
		ev_int(&e, ROAR_KEY_TID, 101);
		ev_bin(&e, ROAR_KEY_PATH, "/x\xff", 3);
		ck_assert_int_eq(apply(&M, &e), 0);
	}
	ck_assert_uint_eq(M.nfiles, 2);
	f = file_named(&M, "/x\xff", 3);
	ck_assert(f->read && f->written);
}
END_TEST

START_TEST(many_files)
{
	/* Growth of the file list and the maps. */
	char path[64];

	for (int i = 0; i < 5000; i++) {
		int n = snprintf(path, sizeof(path), "/data/%d", i);

		ck_assert_int_eq(file_ev(&M, i % 2 ? "write" : "read",
					 200 + i % 7, 1, path, (size_t)n),
				 0);
	}
	ck_assert_uint_eq(M.nfiles, 5000);
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(path, sizeof(path), "/data/%d", i);
		struct roar_file *f = M.file_list[i];

		ck_assert_uint_eq(f->index, i);
		ck_assert_uint_eq(f->path.len, (size_t)n);
		ck_assert_str_eq(f->path.p, path);
		ck_assert(i % 2 ? f->written : f->read);
	}
}
END_TEST

START_TEST(excluded_paths)
{
	M.exclude_prefix = roar_bytes_dup("/tmp/roar-sock/", 15);
	M.exclude_exact = roar_bytes_dup("/out/report.msgpack", 19);
	ck_assert_int_eq(file_ev(&M, "read", 101, 1, "/tmp/roar-sock/s", 16),
			 0);
	ck_assert_int_eq(
		file_ev(&M, "write", 101, 1, "/out/report.msgpack", 19), 0);
	ck_assert_uint_eq(M.nfiles, 0);
	/* Near misses are files. */
	ck_assert_int_eq(file_ev(&M, "read", 101, 1, "/tmp/roar-sockX", 15), 0);
	ck_assert_int_eq(
		file_ev(&M, "write", 101, 1, "/out/report.msgpack2", 20), 0);
	ck_assert_uint_eq(M.nfiles, 2);
	/* The process was still heard of. */
	ck_assert_ptr_nonnull(roar_merge_find(&M, 101));
}
END_TEST

START_TEST(unknown_kinds_counted)
{
	struct ev e;

	ck_assert_int_eq(file_ev(&M, "rename", 101, 1, "/a", 2), 0);
	ck_assert_int_eq(file_ev(&M, "frobnicate", 101, 1, "/a", 2), 0);
	ck_assert_int_eq(file_ev(&M, "", 101, 1, "/a", 2), 0);
	ck_assert_int_eq(file_ev(&M, "READ", 101, 1, "/a", 2), 0);
	ck_assert_int_eq(file_ev(&M, "reads", 101, 1, "/a", 2), 0);
	/* A kind with a NUL inside is not "read" either. */
	ev_begin(&e, 3);
	ev_strn(&e, ROAR_KEY_KIND, "read\0x", 6);
	ev_int(&e, ROAR_KEY_PID, 101);
	ev_str(&e, ROAR_KEY_PATH, "/a");
	ck_assert_int_eq(apply(&M, &e), 0);
	ck_assert_uint_eq(M.unknown_events, 6);
	ck_assert_uint_eq(M.nfiles, 0);
	ck_assert_uint_eq(M.bad_frames, 0);
}
END_TEST

static int new_calls;
static pid_t new_pids[8];

static void
on_new(void *ctx, struct roar_proc *p)
{
	ck_assert_ptr_eq(ctx, &new_calls);
	new_pids[new_calls++ % 8] = p->pid;
}

START_TEST(new_proc_callback)
{
	struct ev e;

	M.on_new_proc = on_new;
	M.ctx = &new_calls;
	ck_assert_int_eq(fork_ev(&M, ROOT, 101), 0);
	ck_assert_int_eq(new_calls, 2);
	ck_assert_int_eq(new_pids[0], ROOT);
	ck_assert_int_eq(new_pids[1], 101);
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 1.0), 0);
	ck_assert_int_eq(reaped_ev(&M, ROOT, 102, 0), 0);
	ck_assert_int_eq(file_ev(&M, "read", 103, 103, "/f", 2), 0);
	ck_assert_int_eq(new_calls, 4);
	ck_assert_int_eq(new_pids[3], 103);
	/* Unknown kinds and refused events announce nobody. */
	ck_assert_int_eq(file_ev(&M, "mystery", 104, 104, "/f", 2), 0);
	ck_assert_int_eq(file_ev(&M, "read", 105, 105, "f", 1), -EINVAL);
	ev_begin(&e, 3);
	ev_str(&e, ROAR_KEY_KIND, "fork");
	ev_int(&e, ROAR_KEY_PID, 106);
	ev_int(&e, ROAR_KEY_CHILD, -1);
	ck_assert_int_eq(apply(&M, &e), -EINVAL);
	ck_assert_int_eq(new_calls, 4);
}
END_TEST

/* ---- malformed events --------------------------------------------------- */

/* Everything an event could change, at a glance. */
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

static void
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

typedef void (*build_fn)(struct ev *e);

/* Builders of malformed events, about ROOT (known) or 555 (new). */
static void
bad_not_a_map(struct ev *e)
{
	ev_begin_raw(e);
	msgpack_pack_array(&e->pk, 2);
	mp_pack_cstr(&e->pk, "read");
	msgpack_pack_int(&e->pk, 555);
}

static void
bad_scalar(struct ev *e)
{
	ev_begin_raw(e);
	msgpack_pack_int(&e->pk, 7);
}

static void
bad_no_kind(struct ev *e)
{
	ev_begin(e, 2);
	ev_int(e, ROAR_KEY_PID, 555);
	ev_str(e, ROAR_KEY_PATH, "/a");
}

static void
bad_kind_int(struct ev *e)
{
	ev_begin(e, 3);
	ev_int(e, ROAR_KEY_KIND, 0);
	ev_int(e, ROAR_KEY_PID, 555);
	ev_str(e, ROAR_KEY_PATH, "/a");
}

static void
bad_kind_bin(struct ev *e)
{
	ev_begin(e, 3);
	ev_bin(e, ROAR_KEY_KIND, "read", 4);
	ev_int(e, ROAR_KEY_PID, 555);
	ev_str(e, ROAR_KEY_PATH, "/a");
}

static void
bad_kind_nil(struct ev *e)
{
	ev_begin(e, 3);
	ev_key(e, ROAR_KEY_KIND);
	msgpack_pack_nil(&e->pk);
	ev_int(e, ROAR_KEY_PID, 555);
	ev_str(e, ROAR_KEY_PATH, "/a");
}

static void
bad_no_pid(struct ev *e)
{
	ev_begin(e, 2);
	ev_str(e, ROAR_KEY_KIND, "read");
	ev_str(e, ROAR_KEY_PATH, "/a");
}

static void
bad_pid_zero(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "read");
	ev_int(e, ROAR_KEY_PID, 0);
	ev_str(e, ROAR_KEY_PATH, "/a");
}

static void
bad_pid_negative(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "read");
	ev_int(e, ROAR_KEY_PID, -555);
	ev_str(e, ROAR_KEY_PATH, "/a");
}

static void
bad_pid_huge(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "read");
	ev_int(e, ROAR_KEY_PID, (int64_t)1 << 31);
	ev_str(e, ROAR_KEY_PATH, "/a");
}

static void
bad_pid_uint64_max(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "exit");
	ev_key(e, ROAR_KEY_PID);
	msgpack_pack_uint64(&e->pk, UINT64_MAX);
	ev_int(e, ROAR_KEY_STATUS, 0);
}

static void
bad_pid_string(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "read");
	ev_str(e, ROAR_KEY_PID, "555");
	ev_str(e, ROAR_KEY_PATH, "/a");
}

static void
bad_pid_float(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "read");
	ev_double(e, ROAR_KEY_PID, 555.0);
	ev_str(e, ROAR_KEY_PATH, "/a");
}

static void
bad_path_relative(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "write");
	ev_int(e, ROAR_KEY_PID, 555);
	ev_str(e, ROAR_KEY_PATH, "rel/a.c");
}

static void
bad_path_empty(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "read");
	ev_int(e, ROAR_KEY_PID, 555);
	ev_str(e, ROAR_KEY_PATH, "");
}

static void
bad_path_nul(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "read");
	ev_int(e, ROAR_KEY_PID, 555);
	ev_strn(e, ROAR_KEY_PATH, "/a\0/b", 5);
}

static void
bad_path_bin_nul(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "open_read");
	ev_int(e, ROAR_KEY_PID, ROOT);
	ev_bin(e, ROAR_KEY_PATH, "/a\0", 3);
}

static void
bad_path_missing(struct ev *e)
{
	ev_begin(e, 2);
	ev_str(e, ROAR_KEY_KIND, "read");
	ev_int(e, ROAR_KEY_PID, 555);
}

static void
bad_path_int(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "read");
	ev_int(e, ROAR_KEY_PID, 555);
	ev_int(e, ROAR_KEY_PATH, 47);
}

static void
bad_hello_no_origin(struct ev *e)
{
	static const char *const argv[] = { "x", NULL };

	ev_begin(e, 4);
	ev_str(e, ROAR_KEY_KIND, "hello");
	ev_int(e, ROAR_KEY_PID, 555);
	ev_int(e, ROAR_KEY_PPID, ROOT);
	ev_strv(e, ROAR_KEY_ARGV, argv);
}

static void
bad_hello_origin_int(struct ev *e)
{
	ev_begin(e, 4);
	ev_str(e, ROAR_KEY_KIND, "hello");
	ev_int(e, ROAR_KEY_PID, ROOT);
	ev_int(e, ROAR_KEY_PPID, 77);
	ev_int(e, ROAR_KEY_ORIGIN, 1);
}

static void
bad_exec_argv_non_string(struct ev *e)
{
	ev_begin(e, 5);
	ev_str(e, ROAR_KEY_KIND, "exec");
	ev_int(e, ROAR_KEY_PID, 555);
	ev_str(e, ROAR_KEY_EXE, "/bin/ls");
	ev_key(e, ROAR_KEY_ARGV);
	msgpack_pack_array(&e->pk, 3);
	mp_pack_cstr(&e->pk, "ls");
	msgpack_pack_int(&e->pk, 42);
	mp_pack_cstr(&e->pk, "-l");
	ev_double(e, ROAR_KEY_TIME, 3.0);
}

static void
bad_exec_argv_nested(struct ev *e)
{
	ev_begin(e, 5);
	ev_str(e, ROAR_KEY_KIND, "exec");
	ev_int(e, ROAR_KEY_PID, ROOT);
	ev_str(e, ROAR_KEY_EXE, "/bin/ls");
	ev_key(e, ROAR_KEY_ARGV);
	msgpack_pack_array(&e->pk, 1);
	msgpack_pack_array(&e->pk, 0);
	ev_double(e, ROAR_KEY_TIME, 3.0);
}

static void
bad_exec_argv_missing(struct ev *e)
{
	ev_begin(e, 4);
	ev_str(e, ROAR_KEY_KIND, "exec");
	ev_int(e, ROAR_KEY_PID, 555);
	ev_str(e, ROAR_KEY_EXE, "/bin/ls");
	ev_double(e, ROAR_KEY_TIME, 3.0);
}

static void
bad_exec_no_exe(struct ev *e)
{
	static const char *const argv[] = { "x", NULL };

	ev_begin(e, 4);
	ev_str(e, ROAR_KEY_KIND, "exec");
	ev_int(e, ROAR_KEY_PID, 555);
	ev_strv(e, ROAR_KEY_ARGV, argv);
	ev_double(e, ROAR_KEY_TIME, 3.0);
}

static void
bad_exec_exe_nul(struct ev *e)
{
	static const char *const argv[] = { "x", NULL };

	ev_begin(e, 5);
	ev_str(e, ROAR_KEY_KIND, "exec");
	ev_int(e, ROAR_KEY_PID, ROOT);
	ev_strn(e, ROAR_KEY_EXE, "/bin\0/x", 7);
	ev_strv(e, ROAR_KEY_ARGV, argv);
	ev_double(e, ROAR_KEY_TIME, 3.0);
}

static void
bad_fork_child_zero(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "fork");
	ev_int(e, ROAR_KEY_PID, 555);
	ev_int(e, ROAR_KEY_CHILD, 0);
}

static void
bad_fork_child_negative(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "fork");
	ev_int(e, ROAR_KEY_PID, ROOT);
	ev_int(e, ROAR_KEY_CHILD, -556);
}

static void
bad_fork_no_child(struct ev *e)
{
	ev_begin(e, 2);
	ev_str(e, ROAR_KEY_KIND, "fork");
	ev_int(e, ROAR_KEY_PID, 555);
}

static void
bad_reaped_no_status(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "reaped");
	ev_int(e, ROAR_KEY_PID, 555);
	ev_int(e, ROAR_KEY_CHILD, 556);
}

static void
bad_reaped_status_string(struct ev *e)
{
	ev_begin(e, 4);
	ev_str(e, ROAR_KEY_KIND, "reaped");
	ev_int(e, ROAR_KEY_PID, ROOT);
	ev_int(e, ROAR_KEY_CHILD, 556);
	ev_str(e, ROAR_KEY_STATUS, "0");
}

static void
bad_exit_no_status(struct ev *e)
{
	ev_begin(e, 2);
	ev_str(e, ROAR_KEY_KIND, "exit");
	ev_int(e, ROAR_KEY_PID, ROOT);
}

static void
bad_dropped_negative(struct ev *e)
{
	ev_begin(e, 3);
	ev_str(e, ROAR_KEY_KIND, "dropped");
	ev_int(e, ROAR_KEY_PID, ROOT);
	ev_int(e, ROAR_KEY_COUNT, -1);
}

static void
bad_dropped_no_count(struct ev *e)
{
	ev_begin(e, 2);
	ev_str(e, ROAR_KEY_KIND, "dropped");
	ev_int(e, ROAR_KEY_PID, 555);
}

static const struct {
	const char *name;
	build_fn build;
} malformed[] = {
#define M_(f)         \
	{             \
#f, f \
	}
	M_(bad_not_a_map),
	M_(bad_scalar),
	M_(bad_no_kind),
	M_(bad_kind_int),
	M_(bad_kind_bin),
	M_(bad_kind_nil),
	M_(bad_no_pid),
	M_(bad_pid_zero),
	M_(bad_pid_negative),
	M_(bad_pid_huge),
	M_(bad_pid_uint64_max),
	M_(bad_pid_string),
	M_(bad_pid_float),
	M_(bad_path_relative),
	M_(bad_path_empty),
	M_(bad_path_nul),
	M_(bad_path_bin_nul),
	M_(bad_path_missing),
	M_(bad_path_int),
	M_(bad_hello_no_origin),
	M_(bad_hello_origin_int),
	M_(bad_exec_argv_non_string),
	M_(bad_exec_argv_nested),
	M_(bad_exec_argv_missing),
	M_(bad_exec_no_exe),
	M_(bad_exec_exe_nul),
	M_(bad_fork_child_zero),
	M_(bad_fork_child_negative),
	M_(bad_fork_no_child),
	M_(bad_reaped_no_status),
	M_(bad_reaped_status_string),
	M_(bad_exit_no_status),
	M_(bad_dropped_negative),
	M_(bad_dropped_no_count),
#undef M_
};

/* A run with some state for malformed events to (not) disturb. */
static void
populate(struct roar_merge *m)
{
	static const char *const sh[] = { "sh", "-c", "x", NULL };

	ck_assert_int_eq(hello_exec(m, ROOT, 1, 10.0, sh, make_env, "/w"), 0);
	ck_assert_int_eq(file_ev(m, "read", ROOT, ROOT, "/in", 3), 0);
	ck_assert_int_eq(dropped_ev(m, ROOT, 2), 0);
}

static void
check_refused(struct roar_merge *m, const char *name, build_fn build)
{
	struct snap before, after;
	struct ev e;
	int rc;

	snapshot(m, &before);
	build(&e);
	rc = apply(m, &e);
	snapshot(m, &after);
	ck_assert_msg(rc == -EINVAL, "%s: rc %d", name, rc);
	ck_assert_msg(!memcmp(&before, &after, sizeof(before)),
		      "%s changed the run", name);
	ck_assert_msg(!roar_merge_find(m, 555) && !roar_merge_find(m, 556),
		      "%s created a process", name);
}

START_TEST(malformed_refused_and_harmless)
{
	populate(&M);
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		check_refused(&M, malformed[i].name, malformed[i].build);
	/* The run is still whole. */
	check_strv(command(&M, ROOT),
		   (const char *const[]){ "sh", "-c", "x", NULL });
	ck_assert_uint_eq(M.nfiles, 1);
	ck_assert_uint_eq(M.unknown_events, 0);
}
END_TEST

static void
bad_hello_argv_non_string(struct ev *e)
{
	ev_begin(e, 6);
	ev_str(e, ROAR_KEY_KIND, "hello");
	ev_int(e, ROAR_KEY_PID, 555);
	ev_int(e, ROAR_KEY_PPID, ROOT);
	ev_str(e, ROAR_KEY_ORIGIN, ROAR_ORIGIN_EXEC);
	ev_double(e, ROAR_KEY_TIME, 1.0);
	ev_key(e, ROAR_KEY_ARGV);
	msgpack_pack_array(&e->pk, 2);
	mp_pack_cstr(&e->pk, "prog");
	msgpack_pack_true(&e->pk);
}

static void
bad_hello_env_not_array(struct ev *e)
{
	ev_begin(e, 6);
	ev_str(e, ROAR_KEY_KIND, "hello");
	ev_int(e, ROAR_KEY_PID, ROOT);
	ev_int(e, ROAR_KEY_PPID, 77);
	ev_str(e, ROAR_KEY_ORIGIN, ROAR_ORIGIN_EXEC);
	ev_double(e, ROAR_KEY_TIME, 1.0);
	ev_str(e, ROAR_KEY_ENV, "PATH=/bin");
}

/*
 * Was a bug (fixed, kept as a regression test): merge.c on_hello() creates the process record (roar_merge_proc),
 * lowers start_time and calls set_parent() before it validates "argv" and
 * "env"; a hello whose argv holds a non-string (or whose env is not an
 * array) is refused with -EINVAL but has already created pid 555 (parent
 * ROOT, source EXEC_HELLO, start_time 1.0), or, for a known pid, changed
 * its parent to 77 and its start_time from 10.0 to 1.0.  Expected: -EINVAL
 * and no change (as for every other malformed event).  Fix: validate argv
 * and env into locals before roar_merge_proc().
 */
/*
 * Was a bug (fixed, kept as a regression test): merge.c on_hello() carries a process's drop count into
 * dropped_prior only when it already had an image (p->has_image).  A fork
 * child has no image of its own, yet its transport counts from 0
 * (roar_transport_atfork_child) and so does the image it execs.  Fork
 * child drops 5, execs, new image drops 2: the report says 5 lost, not 7,
 * because on_dropped keeps the maximum of the two series.  Expected
 * roar_merge_dropped == 7; actual 5.  The same happens for a pid first
 * heard of through its dropped event.  Fix: carry p->dropped whenever an
 * exec-origin hello starts a new series, not only after an image.
 */
START_TEST(regression_fork_child_drops_lost_at_exec)
{
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, make_argv, make_env, NULL), 0);
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 2.0), 0);
	ck_assert_int_eq(dropped_ev(&M, 101, 5), 0);
	ck_assert_int_eq(hello_exec(&M, 101, ROOT, 3.0, make_argv, NULL, NULL),
			 0);
	ck_assert_int_eq(dropped_ev(&M, 101, 2), 0);
	ck_assert_uint_eq(roar_merge_dropped(&M), 7);
}
END_TEST

START_TEST(regression_malformed_hello_changes_nothing)
{
	populate(&M);
	check_refused(&M, "bad_hello_argv_non_string",
		      bad_hello_argv_non_string);
	check_refused(&M, "bad_hello_env_not_array", bad_hello_env_not_array);
}
END_TEST

/* ---- identity ----------------------------------------------------------- */

/*
 * The fake kernel: pid -> parent, state and start time.  A pid not in it
 * is gone (-ESRCH); kern_err, when set, is what every lookup fails with
 * instead.
 */
static struct {
	pid_t pid;
	struct roar_proc_stat st;
} kern[32];
static size_t nkern;
static int kern_err;
static unsigned kern_calls;

static int
fake_stat(pid_t pid, struct roar_proc_stat *st)
{
	kern_calls++;
	if (kern_err)
		return kern_err;
	for (size_t i = 0; i < nkern; i++)
		if (kern[i].pid == pid) {
			*st = kern[i].st;
			return 0;
		}
	return -ESRCH;
}

#define T_COLLECTOR 1000 /* when the collector started, in ticks */

/* A process of the fake kernel, started after the collector. */
static void
kern_add_full(pid_t pid, pid_t ppid, char state, unsigned long long start)
{
	ck_assert_uint_lt(nkern, 32);
	kern[nkern].pid = pid;
	kern[nkern].st.ppid = ppid;
	kern[nkern].st.state = state;
	kern[nkern].st.start = start;
	nkern++;
}

static void
kern_add(pid_t pid, pid_t ppid)
{
	kern_add_full(pid, ppid, 'S', T_COLLECTOR + 10);
}

#define LAUNCHER 50 /* the root's parent */

/*
 * The kernel's tree: LAUNCHER - the collector, LAUNCHER - ROOT - 101 -
 * 102 - 103, and 300 (a child of init from before the run, nobody's).
 */
static void
setup_kernel(void)
{
	setup();
	M.proc_stat = fake_stat;
	M.root_ppid = LAUNCHER;
	nkern = 0;
	kern_err = 0;
	kern_calls = 0;
	kern_add_full(1, 0, 'S', 1);
	kern_add_full(LAUNCHER, 1, 'S', 900);
	kern_add_full(M.self_pid, LAUNCHER, 'R', T_COLLECTOR);
	kern_add(ROOT, LAUNCHER);
	kern_add(101, ROOT);
	kern_add(102, 101);
	kern_add(103, 102);
	kern_add_full(300, 1, 'S', 5); /* a daemon, older than the run */
}

static int
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

/* An exec event with "ppid", and "subject" when subject is not 0. */
static int
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

static int
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

static const char *const ls_argv[] = { "ls", "-l", NULL };

START_TEST(identity_pid_not_peer_refused)
{
	/* 101 writes /etc/shadow saying it is 300: refused, counted, and
	 * not a bad frame; its next frame, its own, is applied. */
	peer = 101;
	ck_assert_int_eq(file_ev(&M, "write", 300, 300, "/etc/shadow", 11), 0);
	ck_assert_uint_eq(M.frames_refused, 1);
	ck_assert_uint_eq(M.bad_frames, 0);
	ck_assert_uint_eq(M.nfiles, 0);
	ck_assert_ptr_null(roar_merge_find(&M, 300));
	ck_assert_ptr_nonnull(strstr(M.refusal, "300"));
	ck_assert_int_eq(file_ev(&M, "write", 101, 101, "/out", 4), 0);
	ck_assert_uint_eq(M.nfiles, 1);
	ck_assert_ptr_nonnull(roar_merge_find(&M, 101));
	ck_assert_uint_eq(M.frames_refused, 1);
}
END_TEST

static unsigned announced;

static void
count_new(void *ctx, struct roar_proc *p)
{
	(void)ctx;
	(void)p;
	announced++;
}

START_TEST(identity_hostile_claims_change_nothing)
{
	static const char *const x[] = { "x", NULL };
	struct snap before, after;

	/* A hostile 300 (not in the run's tree) speaks. */
	ck_assert_int_eq(
		hello_exec(&M, ROOT, LAUNCHER, 1.0, make_argv, make_env, NULL),
		0);
	M.on_new_proc = count_new;
	announced = 0;
	snapshot(&M, &before);
	peer = 300;
	ck_assert_int_eq(hello_exec(&M, 1, 0, 2.0, x, NULL, NULL), 0);
	ck_assert_int_eq(file_ev(&M, "write", 1, 1, "/etc/shadow", 11), 0);
	ck_assert_int_eq(file_ev(&M, "write", ROOT, 1, "/etc/shadow", 11), 0);
	ck_assert_int_eq(fork_ev(&M, 300, 1), 0);
	ck_assert_int_eq(fork_ev(&M, 300, ROOT), 0);
	ck_assert_int_eq(fork_ev(&M, 300, LAUNCHER), 0);
	ck_assert_int_eq(fork_ev(&M, 300, M.self_pid), 0);
	ck_assert_int_eq(reaped_ev(&M, 300, 1, 0), 0);
	ck_assert_int_eq(reaped_ev(&M, 300, ROOT, 0), 0);
	ck_assert_int_eq(exec_full(&M, 300, 1, 0, 3.0, "/bin/x", x), 0);
	ck_assert_int_eq(exec_full(&M, 300, ROOT, 0, 3.0, "/bin/x", x), 0);
	ck_assert_uint_eq(M.frames_refused, 11);
	snapshot(&M, &after);
	after.nprocs = before.nprocs; /* compared below */
	ck_assert(!memcmp(&before, &after, sizeof(before)));
	/* Nobody new to watch, so the launcher waits for no one. */
	ck_assert_uint_eq(announced, 0);
	ck_assert_uint_eq(M.procs.count, 1);
	ck_assert_ptr_null(roar_merge_find(&M, 1));
	ck_assert_ptr_null(roar_merge_find(&M, LAUNCHER));
	ck_assert_uint_eq(M.nfiles, 0);
	ck_assert(!proc(&M, ROOT)->has_wait);
	check_strv(command(&M, ROOT), make_argv);
	ck_assert_uint_eq(M.bad_frames, 0);
}
END_TEST

START_TEST(identity_peer_unknown_trusts_payload)
{
	/* No peer: the payload's pid is taken, the kernel is not asked,
	 * but no claim may still name pid 1, us or the root's parent. */
	ck_assert_int_eq(fork_ev(&M, 300, 301), 0);
	ck_assert_int_eq(parent(&M, 301), 300);
	ck_assert_uint_eq(kern_calls, 0);
	ck_assert_int_eq(fork_ev(&M, 300, 1), 0);
	ck_assert_int_eq(fork_ev(&M, 300, LAUNCHER), 0);
	ck_assert_int_eq(reaped_ev(&M, 300, M.self_pid, 0), 0);
	ck_assert_uint_eq(M.frames_refused, 3);
	ck_assert_ptr_null(roar_merge_find(&M, 1));
}
END_TEST

START_TEST(identity_subject_descendant_by_table)
{
	/* posix_spawn: ROOT sends the fork, then the child's exec as its
	 * subject.  The kernel no longer has 150 (it ran and was reaped),
	 * so only the table can vouch for it. */
	peer = ROOT;
	ck_assert_int_eq(fork_ev(&M, ROOT, 150), 0);
	ck_assert(proc(&M, 150)->gone);
	ck_assert_int_eq(
		exec_full(&M, ROOT, 150, LAUNCHER, 2.0, "/bin/ls", ls_argv), 0);
	ck_assert_uint_eq(M.frames_refused, 0);
	ck_assert(proc(&M, 150)->has_exec);
	check_strv(command(&M, 150), ls_argv);
	/* The exec was the child's, not the sender's; and the sender's
	 * "ppid" (its own parent) did not become the child's. */
	ck_assert(!proc(&M, ROOT)->has_exec);
	ck_assert_int_eq(proc(&M, 150)->ppid, ROOT);
	ck_assert_int_eq(proc(&M, 150)->parent_source, ROAR_PARENT_FORK_EVENT);
}
END_TEST

START_TEST(identity_subject_descendant_by_kernel)
{
	/* No fork event: the kernel says 103 descends from 101. */
	peer = 101;
	ck_assert_int_eq(exec_full(&M, 101, 103, ROOT, 2.0, "/bin/ls", ls_argv),
			 0);
	ck_assert_uint_eq(M.frames_refused, 0);
	check_strv(command(&M, 103), ls_argv);
}
END_TEST

START_TEST(identity_subject_not_descendant_refused)
{
	/* 102 is 101's child, not 103's; 300 is nobody's. */
	peer = 103;
	ck_assert_int_eq(exec_full(&M, 103, 102, 102, 2.0, "/bin/ls", ls_argv),
			 0);
	peer = 101;
	ck_assert_int_eq(exec_full(&M, 101, 300, ROOT, 2.0, "/bin/ls", ls_argv),
			 0);
	/* Nor does a gone pid the table does not place under the sender. */
	ck_assert_int_eq(exec_full(&M, 101, 999, ROOT, 2.0, "/bin/ls", ls_argv),
			 0);
	ck_assert_uint_eq(M.frames_refused, 3);
	ck_assert_ptr_null(roar_merge_find(&M, 102));
	ck_assert_ptr_null(roar_merge_find(&M, 300));
	ck_assert_ptr_null(roar_merge_find(&M, 999));
	ck_assert_ptr_null(roar_merge_find(&M, 101));
}
END_TEST

START_TEST(identity_subject_only_on_exec)
{
	struct ev e;

	/* Only an exec may speak for another; even for a descendant. */
	peer = ROOT;
	ev_begin(&e, 5);
	ev_str(&e, ROAR_KEY_KIND, "write");
	ev_int(&e, ROAR_KEY_PID, ROOT);
	ev_int(&e, ROAR_KEY_SUBJECT, 101);
	ev_int(&e, ROAR_KEY_TID, ROOT);
	ev_str(&e, ROAR_KEY_PATH, "/x");
	ck_assert_int_eq(apply(&M, &e), 0);
	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, "exit");
	ev_int(&e, ROAR_KEY_PID, ROOT);
	ev_int(&e, ROAR_KEY_SUBJECT, 101);
	ev_int(&e, ROAR_KEY_STATUS, 0);
	ck_assert_int_eq(apply(&M, &e), 0);
	ck_assert_uint_eq(M.frames_refused, 2);
	ck_assert_uint_eq(M.nfiles, 0);
	ck_assert_uint_eq(M.procs.count, 0);
	/* A subject that is no pid is a malformed event. */
	ev_begin(&e, 5);
	ev_str(&e, ROAR_KEY_KIND, "exec");
	ev_int(&e, ROAR_KEY_PID, ROOT);
	ev_str(&e, ROAR_KEY_SUBJECT, "101");
	ev_str(&e, ROAR_KEY_EXE, "/bin/ls");
	ev_strv(&e, ROAR_KEY_ARGV, ls_argv);
	ck_assert_int_eq(apply(&M, &e), -EINVAL);
	/* A subject that is the sender itself is just its own exec. */
	ck_assert_int_eq(
		exec_full(&M, ROOT, ROOT, LAUNCHER, 2.0, "/bin/ls", ls_argv),
		0);
	ck_assert(proc(&M, ROOT)->has_exec);
	ck_assert_uint_eq(M.frames_refused, 2);
}
END_TEST

START_TEST(identity_fork_claim_pid1_refused)
{
	/* Even where the kernel would agree (a fake that makes pid 1 a
	 * child of ROOT), pid 1 and the collector are never a child. */
	kern[0].st.ppid = ROOT;
	kern[2].st.ppid = ROOT;
	peer = ROOT;
	ck_assert_int_eq(fork_ev(&M, ROOT, 1), 0);
	ck_assert_int_eq(fork_ev(&M, ROOT, M.self_pid), 0);
	ck_assert_int_eq(reaped_ev(&M, ROOT, 1, 0), 0);
	ck_assert_uint_eq(M.frames_refused, 3);
	ck_assert_ptr_null(roar_merge_find(&M, 1));
	ck_assert_ptr_null(roar_merge_find(&M, M.self_pid));
}
END_TEST

START_TEST(identity_fork_claim_alive_non_descendant_refused)
{
	peer = 101;
	ck_assert_int_eq(fork_ev(&M, 101, 300), 0);  /* init's child */
	ck_assert_int_eq(fork_ev(&M, 101, ROOT), 0); /* its own parent */
	ck_assert_uint_eq(M.frames_refused, 2);
	ck_assert_ptr_null(roar_merge_find(&M, 300));
	/* Its real children and grandchildren are fine. */
	ck_assert_int_eq(fork_ev(&M, 101, 102), 0);
	ck_assert_int_eq(fork_ev(&M, 101, 103), 0);
	ck_assert_uint_eq(M.frames_refused, 2);
	ck_assert_int_eq(parent(&M, 102), 101);
	ck_assert(!proc(&M, 102)->gone);
}
END_TEST

static struct roar_proc *born[8];
static size_t nborn;
static bool born_gone[8];

static void
record_new(void *ctx, struct roar_proc *p)
{
	(void)ctx;
	if (nborn < 8) {
		born_gone[nborn] = p->gone;
		born[nborn++] = p;
	}
}

START_TEST(identity_fork_claim_gone_not_watched)
{
	/* 150 ran and was reaped before its parent's fork event was read:
	 * accepted, and gone before anyone could watch it. */
	nborn = 0;
	M.on_new_proc = record_new;
	peer = ROOT;
	ck_assert_int_eq(fork_ev(&M, ROOT, 150), 0);
	ck_assert_uint_eq(M.frames_refused, 0);
	ck_assert_uint_eq(nborn, 2);
	ck_assert_int_eq(born[0]->pid, ROOT);
	ck_assert(!born_gone[0]);
	ck_assert_int_eq(born[1]->pid, 150);
	ck_assert(born_gone[1]);
	ck_assert_int_eq(parent(&M, 150), ROOT);
	ck_assert_int_eq(proc(&M, 150)->parent_source, ROAR_PARENT_FORK_EVENT);
	/* A live child is watched as usual. */
	ck_assert_int_eq(fork_ev(&M, ROOT, 101), 0);
	ck_assert_uint_eq(nborn, 3);
	ck_assert(!born_gone[2]);
}
END_TEST

START_TEST(identity_fork_claim_child_agrees)
{
	/* A child orphaned before its parent's fork event is read: the
	 * kernel now says init, but its own hello said 300, and so does
	 * 300's fork event. */
	peer = 301;
	kern_add(301, 1);
	ck_assert_int_eq(hello_fork(&M, 301, 300, 1.0), 0);
	peer = 300;
	ck_assert_int_eq(fork_ev(&M, 300, 301), 0);
	ck_assert_uint_eq(M.frames_refused, 0);
	ck_assert_int_eq(proc(&M, 301)->ppid, 300);
}
END_TEST

START_TEST(identity_fork_claim_orphan)
{
	/* "( cmd & )": subshell 400 forked 401 and exited before its fork
	 * event was read; the kernel moved 401 to init. */
	kern_add_full(400, ROOT, 'Z', T_COLLECTOR + 20);
	kern_add_full(401, 1, 'S', T_COLLECTOR + 21);
	peer = 400;
	ck_assert_int_eq(fork_ev(&M, 400, 401), 0);
	ck_assert_uint_eq(M.frames_refused, 0);
	ck_assert_int_eq(parent(&M, 401), 400);
	ck_assert(!proc(&M, 401)->gone);
	/* The same once 400 is reaped too. */
	kern[nkern - 2].pid = 0;
	kern_add_full(402, 1, 'S', T_COLLECTOR + 22);
	ck_assert_int_eq(fork_ev(&M, 400, 402), 0);
	ck_assert_uint_eq(M.frames_refused, 0);
	/* But not a process older than the run (a daemon: we would wait
	 * for it forever), however dead the sender. */
	ck_assert_int_eq(fork_ev(&M, 400, 300), 0);
	ck_assert_uint_eq(M.frames_refused, 1);
	ck_assert_ptr_null(roar_merge_find(&M, 300));
	/* Nor by a sender still alive: its children are not moved. */
	kern_add_full(403, 1, 'S', T_COLLECTOR + 23);
	peer = 101;
	ck_assert_int_eq(fork_ev(&M, 101, 403), 0);
	ck_assert_uint_eq(M.frames_refused, 2);
	ck_assert_ptr_null(roar_merge_find(&M, 403));
}
END_TEST

START_TEST(identity_kernel_unavailable_refuses)
{
	/* No /proc: a claim that cannot be checked is refused (the child's
	 * own hello still places it). */
	kern_err = -ENOSYS;
	peer = ROOT;
	ck_assert_int_eq(fork_ev(&M, ROOT, 101), 0);
	ck_assert_int_eq(reaped_ev(&M, ROOT, 101, 0), 0);
	ck_assert_int_eq(
		exec_full(&M, ROOT, 101, LAUNCHER, 2.0, "/bin/ls", ls_argv), 0);
	ck_assert_uint_eq(M.frames_refused, 3);
	ck_assert_ptr_null(roar_merge_find(&M, 101));
}
END_TEST

START_TEST(identity_reaped_claims)
{
	peer = ROOT;
	/* Known as the sender's child: accepted. */
	ck_assert_int_eq(fork_ev(&M, ROOT, 101), 0);
	ck_assert_int_eq(reaped_ev(&M, ROOT, 101, 3 << 8), 0);
	ck_assert(proc(&M, 101)->has_wait);
	/* Known with no parent (heard of only by its own file event):
	 * accepted, even while the kernel still shows it. */
	peer = 102;
	ck_assert_int_eq(file_ev(&M, "read", 102, 102, "/in", 3), 0);
	peer = ROOT;
	ck_assert_int_eq(reaped_ev(&M, ROOT, 102, 0), 0);
	ck_assert_int_eq(parent(&M, 102), ROOT);
	ck_assert_int_eq(proc(&M, 102)->parent_source, ROAR_PARENT_REAPED);
	/* Unknown and gone: accepted, never watched. */
	ck_assert_int_eq(reaped_ev(&M, ROOT, 151, 0), 0);
	ck_assert(proc(&M, 151)->gone);
	ck_assert_uint_eq(M.frames_refused, 0);
	/* Alive and unknown: nobody reaped it. */
	ck_assert_int_eq(reaped_ev(&M, ROOT, 300, 0), 0);
	ck_assert_ptr_null(roar_merge_find(&M, 300));
	/* Alive and another's. */
	peer = 103;
	ck_assert_int_eq(hello_fork(&M, 103, 102, 1.0), 0);
	peer = ROOT;
	ck_assert_int_eq(reaped_ev(&M, ROOT, 103, 0), 0);
	ck_assert(!proc(&M, 103)->has_wait);
	ck_assert_uint_eq(M.frames_refused, 2);
}
END_TEST

START_TEST(exec_and_exit_ppid_set_parent)
{
	/* A vfork child speaks first by its exec, or only by its exit. */
	peer = 102;
	ck_assert_int_eq(exec_full(&M, 102, 0, 101, 2.0, "/bin/ls", ls_argv),
			 0);
	ck_assert_int_eq(proc(&M, 102)->ppid, 101);
	ck_assert_int_eq(proc(&M, 102)->parent_source, ROAR_PARENT_EXEC_HELLO);
	peer = 103;
	ck_assert_int_eq(exit_ppid(&M, 103, 102, 0), 0);
	ck_assert_int_eq(proc(&M, 103)->ppid, 102);
	ck_assert_int_eq(proc(&M, 103)->parent_source, ROAR_PARENT_EXEC_HELLO);
	ck_assert(proc(&M, 103)->has_exit);
	/* Weaker than a fork event, in either order. */
	peer = ROOT;
	ck_assert_int_eq(fork_ev(&M, ROOT, 103), 0);
	ck_assert_int_eq(proc(&M, 103)->ppid, ROOT);
	peer = 103;
	ck_assert_int_eq(exit_ppid(&M, 103, 102, 0), 0);
	ck_assert_int_eq(proc(&M, 103)->ppid, ROOT);
	ck_assert_int_eq(proc(&M, 103)->parent_source, ROAR_PARENT_FORK_EVENT);
	/* An exit after the parent died says init: the first word stands,
	 * and an exec hello's getppid() still replaces it. */
	peer = 110;
	ck_assert_int_eq(exec_full(&M, 110, 0, 101, 3.0, "/bin/ls", ls_argv),
			 0);
	ck_assert_int_eq(exit_ppid(&M, 110, 1, 0), 0);
	ck_assert_int_eq(proc(&M, 110)->ppid, 101);
	peer = 111;
	ck_assert_int_eq(exit_ppid(&M, 111, 1, 0), 0);
	ck_assert_int_eq(hello_exec(&M, 111, 102, 4.0, ls_argv, NULL, NULL), 0);
	ck_assert_int_eq(proc(&M, 111)->ppid, 102);
	ck_assert_uint_eq(M.frames_refused, 0);
}
END_TEST

/* ---- fork children run their parent's image as of the fork ------------ */

static const char *const sh_argv[] = { "sh", "-c",
				       "(sleep 1; echo) & exec "
				       "python3 x.py",
				       NULL };
static const char *const sh_env[] = { "PATH=/bin", "SHELL_ONLY=1", NULL };
static const char *const py_argv[] = { "python3", "x.py", NULL };
static const char *const py_env[] = { "PATH=/bin", "PY_ONLY=1", NULL };

static void
check_env_has(const struct roar_strv *env, const char *entry)
{
	ck_assert_ptr_nonnull(env);
	for (size_t i = 0; i < env->n; i++)
		if (!strcmp(env->v[i].p, entry))
			return;
	ck_abort_msg("%s not in env", entry);
}

static void
check_sh_child(pid_t pid)
{
	const struct roar_bytes *cwd;

	check_strv(command(&M, pid), sh_argv);
	check_env_has(roar_merge_env(&M, proc(&M, pid)), "SHELL_ONLY=1");
	cwd = roar_merge_cwd(&M, proc(&M, pid));
	ck_assert_ptr_nonnull(cwd);
	ck_assert_str_eq(cwd->p, "/sh-dir");
	ck_assert_ptr_null(reason(&M, pid));
	/* The parent itself ended as python3. */
	check_strv(command(&M, ROOT), py_argv);
	check_env_has(roar_merge_env(&M, proc(&M, ROOT)), "PY_ONLY=1");
	ck_assert_str_eq(roar_merge_cwd(&M, proc(&M, ROOT))->p, "/py-dir");
}

START_TEST(fork_child_hello_before_parent_exec)
{
	/* sh forks at 2.0 (stamped in sh before the fork), then execs
	 * python3 (its hello at 3.0); the child speaks first. */
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, sh_argv, sh_env, "/sh-dir"), 0);
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 2.0), 0);
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 3.0, py_argv, py_env, "/py-dir"), 0);
	ck_assert_int_eq(fork_ev(&M, ROOT, 101), 0);
	check_sh_child(101);
}
END_TEST

START_TEST(fork_child_hello_after_parent_exec)
{
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, sh_argv, sh_env, "/sh-dir"), 0);
	ck_assert_int_eq(fork_ev(&M, ROOT, 101), 0);
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 3.0, py_argv, py_env, "/py-dir"), 0);
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 2.0), 0);
	check_sh_child(101);
}
END_TEST

START_TEST(fork_child_of_late_older_image)
{
	/* The python3 image's connection delivers before sh's hello. */
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 3.0, py_argv, py_env, "/py-dir"), 0);
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 2.0), 0);
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, sh_argv, sh_env, "/sh-dir"), 0);
	check_sh_child(101);
	/* A child forked by python3 runs python3. */
	ck_assert_int_eq(hello_fork(&M, 102, ROOT, 4.0), 0);
	check_strv(command(&M, 102), py_argv);
}
END_TEST

START_TEST(fork_event_time_bounds_image)
{
	/* The child never says hello (it dies first): the fork event's
	 * time, sent just after the fork, still dates it. */
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, sh_argv, sh_env, "/sh-dir"), 0);
	ck_assert_int_eq(fork_ev_t(&M, ROOT, 101, 2.0), 0);
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 3.0, py_argv, py_env, "/py-dir"), 0);
	check_strv(command(&M, 101), sh_argv);
	/* A later hello's time (before the fork) wins over the event's. */
	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 1.5, make_argv, NULL, NULL),
			 0);
	check_strv(command(&M, 101), make_argv);
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 1.2), 0);
	check_strv(command(&M, 101), sh_argv);
}
END_TEST

START_TEST(parent_silent_exec_after_fork)
{
	static const char *const st[] = { "static-tool", NULL };

	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, sh_argv, sh_env, "/sh-dir"), 0);
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 2.0), 0);
	ck_assert_int_eq(exec_ev(&M, ROOT, 3.0, "/opt/static-tool", st), 0);
	check_strv(command(&M, 101), sh_argv);
	ck_assert_ptr_null(reason(&M, 101));
	check_strv(command(&M, ROOT), st);
	ck_assert_ptr_nonnull(reason(&M, ROOT));
}
END_TEST

START_TEST(parent_silent_exec_before_fork)
{
	static const char *const one[] = { "one", NULL };
	static const char *const two[] = { "two", NULL };
	static const char *const three[] = { "three", NULL };

	/* ROOT: sh at 1, exec "one" at 2 failed, exec "two" at 3 went
	 * silent (two's own children are known: their hellos came). */
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 1.0, sh_argv, sh_env, "/sh-dir"), 0);
	ck_assert_int_eq(exec_ev(&M, ROOT, 3.0, "/bin/two", two), 0);
	ck_assert_int_eq(exec_ev(&M, ROOT, 2.0, "/bin/one", one), 0);
	ck_assert_int_eq(exec_failed_ev(&M, ROOT, 2.0, ENOENT), 0);
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 2.5), 0);
	ck_assert_int_eq(hello_fork(&M, 102, ROOT, 4.0), 0);
	ck_assert_int_eq(hello_fork(&M, 103, ROOT, 1.5), 0);
	/* After the failed attempt: still sh. */
	check_strv(command(&M, 101), sh_argv);
	/* After the silent one: two, with sh's environment. */
	check_strv(command(&M, 102), two);
	check_env_has(roar_merge_env(&M, proc(&M, 102)), "SHELL_ONLY=1");
	check_strv(command(&M, 103), sh_argv);
	check_strv(command(&M, ROOT), two);

	/* 200: a at 1, exec b at 2 (b's hello at 2.2), exec c at 3 that
	 * went silent.  A child forked at 2.1 ran b, already exec'd. */
	ck_assert_int_eq(hello_exec(&M, 200, ROOT, 1.0, one, sh_env, NULL), 0);
	ck_assert_int_eq(exec_ev(&M, 200, 3.0, "/bin/three", three), 0);
	ck_assert_int_eq(exec_ev(&M, 200, 2.0, "/bin/two", two), 0);
	ck_assert_int_eq(hello_exec(&M, 200, ROOT, 2.2, two, sh_env, NULL), 0);
	ck_assert_int_eq(hello_fork(&M, 201, 200, 2.1), 0);
	ck_assert_int_eq(hello_fork(&M, 202, 200, 2.5), 0);
	ck_assert_int_eq(hello_fork(&M, 203, 200, 3.5), 0);
	check_strv(command(&M, 201), two);
	check_strv(command(&M, 202), two);
	check_strv(command(&M, 203), three);
	check_strv(command(&M, 200), three);
}
END_TEST

START_TEST(grandparent_image_at_parents_fork)
{
	static const char *const a[] = { "a", NULL };
	static const char *const b[] = { "b", NULL };
	static const char *const c[] = { "c", NULL };

	/* ROOT runs a, forks 101 at 2, execs b at 2.5.  101 forks 102 at
	 * 3 and execs c at 4.  102 runs what 101 ran at 3: what ROOT ran
	 * at 101's fork, a (not b, which ROOT ran at 3). */
	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 1.0, a, make_env, "/a"), 0);
	ck_assert_int_eq(hello_fork(&M, 102, 101, 3.0), 0);
	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 2.5, b, make_env, "/b"), 0);
	ck_assert_int_eq(hello_exec(&M, 101, ROOT, 4.0, c, make_env, "/c"), 0);
	ck_assert_int_eq(hello_fork(&M, 101, ROOT, 2.0), 0);
	check_strv(command(&M, 102), a);
	ck_assert_str_eq(roar_merge_cwd(&M, proc(&M, 102))->p, "/a");
	check_strv(command(&M, 101), c);
	check_strv(command(&M, ROOT), b);
	/* 103, forked by 101 at 2.8 with no fork time of 101's known:
	 * ROOT at 2.8 is b. */
	proc(&M, 101)->fork_time = 0;
	ck_assert_int_eq(hello_fork(&M, 103, 101, 2.8), 0);
	check_strv(command(&M, 103), b);
	/* Before anything at all: nothing known. */
	ck_assert_int_eq(hello_fork(&M, 104, ROOT, 0.5), 0);
	ck_assert_ptr_null(command(&M, 104));
}
END_TEST

START_TEST(untraced_reason_uses_env_at_exec)
{
	static const char *const prog[] = { "prog", NULL };
	char dir[PATH_MAX], path[PATH_MAX + 8], pathvar[PATH_MAX + 8];
	char buf[PATH_MAX + 256];
	const char *env_then[] = { pathvar, NULL };
	static const char *const env_later[] = { "PATH=/nonexistent-roar",
						 NULL };
	const char *why;

	/* A statically linked "prog" (an ELF without PT_INTERP) in a
	 * directory on the parent's PATH of the time. */
	unit_mkdtemp(dir, sizeof(dir), "merge");
	snprintf(path, sizeof(path), "%s/prog", dir);
	snprintf(pathvar, sizeof(pathvar), "PATH=%s", dir);
	unit_elf_write(path, &(struct unit_elf){ 0 });

	/* A vfork child (known only by its exec's ppid) execs prog at 2,
	 * under the PATH its parent had then; the parent moved on at 3. */
	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 1.0, make_argv, env_then, "/"),
			 0);
	ck_assert_int_eq(
		hello_exec(&M, ROOT, 1, 3.0, make_argv, env_later, "/"), 0);
	ck_assert_int_eq(exec_full(&M, 150, 0, ROOT, 2.0, "prog", prog), 0);
	why = reason(&M, 150);
	ck_assert_msg(why && strstr(why, "static binary") && strstr(why, path),
		      "%s", why ? why : "(traced)");
	/* One that execs after the parent's move sees the later PATH. */
	ck_assert_int_eq(exec_full(&M, 151, 0, ROOT, 4.0, "prog", prog), 0);
	why = reason(&M, 151);
	ck_assert_msg(why && !strstr(why, "static binary"), "%s",
		      why ? why : "(traced)");
	/* The diagnosis is kept: the report built from it reads no file,
	 * so the program's removal since changes nothing. */
	ck_assert_int_eq(unlink(path), 0);
	why = roar_merge_untraced_reason(&M, proc(&M, 150), buf, sizeof(buf));
	ck_assert_msg(why && strstr(why, "static binary") && strstr(why, path),
		      "%s", why ? why : "(traced)");
	/* Diagnosed again, it is found gone. */
	roar_merge_diagnose(&M);
	why = roar_merge_untraced_reason(&M, proc(&M, 150), buf, sizeof(buf));
	ck_assert_msg(why && !strstr(why, "static binary"), "%s",
		      why ? why : "(traced)");
	unit_rmtree(dir);
}
END_TEST

START_TEST(image_history_bounded)
{
	static const char *const a[] = { "a", NULL };
	static const char *const z[] = { "z", NULL };

	for (int i = 0; i < ROAR_MERGE_MAX_HISTORY + 10; i++)
		ck_assert_int_eq(
			hello_exec(&M, ROOT, 1, 10.0 + i, a, NULL, NULL), 0);
	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 5000.0, z, NULL, NULL), 0);
	ck_assert_uint_eq(proc(&M, ROOT)->nimages, ROAR_MERGE_MAX_HISTORY);
	check_strv(command(&M, ROOT), z);
	/* Older than everything kept: dropped. */
	ck_assert_int_eq(hello_exec(&M, ROOT, 1, 1.0, z, NULL, NULL), 0);
	ck_assert_uint_eq(proc(&M, ROOT)->nimages, ROAR_MERGE_MAX_HISTORY);
	ck_assert_double_eq(proc(&M, ROOT)->images[0].time, 21.0);
}
END_TEST

/* ---- /proc ------------------------------------------------------------- */

START_TEST(proc_stat_parse)
{
	static const char *const good[] = {
		"123 (sh) S 45 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 "
		"0 777 3133440 380",
		"123 (a b) R 45 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 -5 1 0 "
		"777\n",
		/* A name made to mislead: ") S 9 " inside it. */
		"123 (x) S 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 1 ) S 45 1 1 0 "
		"-1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 777 1",
		"123 ()) Z 45 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 777",
	};
	static const char *const bad[] = {
		"123 sh S 45",
		"123 (sh) S",
		"123 (sh) S x 1",
		"123 (sh)",
		"123 (sh) S -45 1",
		"123 (sh) S 99999999999 1",
		"",
		"123 (sh) S 45 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0",
		"123 (sh) S 45 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 x",
	};
	struct roar_proc_stat st;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&st, 0, sizeof(st));
		ck_assert_msg(roar_proc_parse_stat(good[i], strlen(good[i]),
						   &st) == 0,
			      "%s", good[i]);
		ck_assert_int_eq(st.ppid, 45);
		ck_assert_uint_eq(st.start, 777);
		ck_assert_int_eq(st.state, i == 1 ? 'R' : i == 3 ? 'Z' : 'S');
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(roar_proc_parse_stat(bad[i], strlen(bad[i]),
						   &st) == -EINVAL,
			      "%s", bad[i]);
	/* Not NUL-terminated: only len bytes count. */
	ck_assert_int_eq(roar_proc_parse_stat("1 (a) S 45 ", 9, &st), -EINVAL);
}
END_TEST

START_TEST(proc_stat_of_self)
{
	struct roar_proc_stat me, dad;

	ck_assert_int_eq(roar_proc_stat(getpid(), &me), 0);
	ck_assert_int_eq(me.ppid, getppid());
	ck_assert_int_eq(me.state, 'R');
	ck_assert_int_eq(roar_proc_stat(getppid(), &dad), 0);
	ck_assert_uint_le(dad.start, me.start);
	ck_assert_int_eq(roar_proc_stat(0x7ffffffe, &me), -ESRCH);
	ck_assert_int_eq(roar_proc_stat(0, &me), -EINVAL);
	/* The default reader is the kernel's. */
	ck_assert_ptr_eq((void *)M.proc_stat, (void *)roar_proc_stat);
}
END_TEST

/* ---- caps (caps.h) ------------------------------------------------------ */

/* A hello of ROOT whose argv is argv (n entries) and env env (m entries);
 * with_mark: the sender says it cut them ("truncated"). */
static int
hello_lists(double t, const char *const *argv, size_t n, const char *const *env,
	    size_t m, bool with_mark)
{
	struct ev e;

	ev_begin(&e, 9 + with_mark);
	ev_str(&e, ROAR_KEY_KIND, "hello");
	ev_int(&e, ROAR_KEY_PID, ROOT);
	ev_int(&e, ROAR_KEY_TID, ROOT);
	ev_int(&e, ROAR_KEY_PROTO, ROAR_PROTOCOL_VERSION);
	ev_int(&e, ROAR_KEY_PPID, 1);
	ev_str(&e, ROAR_KEY_ORIGIN, ROAR_ORIGIN_EXEC);
	ev_double(&e, ROAR_KEY_TIME, t);
	ev_key(&e, ROAR_KEY_ENV);
	msgpack_pack_array(&e.pk, m);
	for (size_t i = 0; i < m; i++)
		mp_pack_cstr(&e.pk, env[i]);
	if (with_mark) {
		ev_key(&e, ROAR_KEY_TRUNCATED);
		msgpack_pack_true(&e.pk);
	}
	ev_key(&e, ROAR_KEY_ARGV);
	msgpack_pack_array(&e.pk, n);
	for (size_t i = 0; i < n; i++)
		mp_pack_cstr(&e.pk, argv[i]);
	return apply(&M, &e);
}

START_TEST(caps_env_entries)
{
	size_t n = ROAR_CAP_LIST_ENTRIES + 5000;
	const char **env = calloc(n, sizeof(*env));
	const struct roar_image *im;

	for (size_t i = 0; i < n; i++)
		env[i] = "V=1";
	ck_assert_int_eq(hello_lists(1.0, make_argv, 2, env, n, false), 0);
	im = roar_proc_image(proc(&M, ROOT));
	ck_assert_uint_eq(im->env.n, ROAR_CAP_LIST_ENTRIES);
	check_strv(&im->argv, make_argv);
	ck_assert(im->truncated);
	ck_assert(roar_merge_truncated(&M, proc(&M, ROOT)));
	ck_assert_uint_eq(M.limits.lists_truncated, 1);
	free(env);
}
END_TEST

START_TEST(caps_image_bytes)
{
	size_t big = 1024 * 1024;
	char *s = malloc(big + 1);
	const char *argv[5];
	const struct roar_image *im;

	memset(s, 'a', big);
	s[big] = '\0';
	for (size_t i = 0; i < 5; i++)
		argv[i] = s;
	ck_assert_int_eq(hello_lists(1.0, argv, 5, make_env, 2, false), 0);
	im = roar_proc_image(proc(&M, ROOT));
	/* 4 MiB of room, each entry costs its bytes and a little more. */
	ck_assert_uint_eq(im->argv.n, 3);
	ck_assert_uint_eq(im->env.n, 2);
	ck_assert(im->truncated);
	ck_assert_uint_le(im->bytes, ROAR_CAP_IMAGE_BYTES);
	ck_assert_uint_eq(M.limits.lists_truncated, 1);
	free(s);
}
END_TEST

START_TEST(caps_sender_mark)
{
	struct roar_proc *p;

	ck_assert_int_eq(hello_lists(1.0, make_argv, 2, make_env, 2, false), 0);
	p = proc(&M, ROOT);
	ck_assert(!roar_merge_truncated(&M, p));
	ck_assert_int_eq(hello_lists(2.0, make_argv, 2, make_env, 2, true), 0);
	ck_assert(roar_merge_truncated(&M, p));
	/* Only the sender cut it: the collector's count stays. */
	ck_assert_uint_eq(M.limits.lists_truncated, 0);
}
END_TEST

START_TEST(caps_images_of_one_process)
{
	size_t big = 1024 * 1024;
	char *s = malloc(big + 1);
	const char *argv[3];
	const struct roar_proc *p;
	size_t total = 0;

	memset(s, 'b', big);
	s[big] = '\0';
	for (size_t i = 0; i < 3; i++)
		argv[i] = s;
	for (int i = 1; i <= 16; i++)
		ck_assert_int_eq(hello_lists(i, argv, 3, make_env, 2, false),
				 0);
	p = proc(&M, ROOT);
	for (size_t i = 0; i < p->nimages; i++)
		total += p->images[i].bytes;
	ck_assert_uint_le(total, ROAR_CAP_PROC_IMAGE_BYTES);
	ck_assert_uint_lt(p->nimages, 16);
	ck_assert_uint_gt(p->nimages, 1);
	/* The oldest went; the latest stands. */
	ck_assert(roar_proc_image(p)->time == 16.0);
	ck_assert_uint_eq(roar_proc_image(p)->argv.n, 3);
	free(s);
}
END_TEST

static Suite *
merge_suite(void)
{
	Suite *s = suite_create("merge");
	TCase *order = tcase_create("order");
	TCase *files = tcase_create("files");
	TCase *bad = tcase_create("malformed");
	TCase *id = tcase_create("identity");
	TCase *img = tcase_create("images");
	TCase *proc_tc = tcase_create("procinfo");

	tcase_add_checked_fixture(order, setup, teardown);
	tcase_add_test(order, fork_hello_before_fork_event);
	tcase_add_test(order, fork_event_before_fork_hello);
	tcase_add_test(order, grandchild_before_everyone);
	tcase_add_test(order, reaped_before_anything);
	tcase_add_test(order, exec_then_hello_of_new_image);
	tcase_add_test(order, hello_then_late_older_exec);
	tcase_add_test(order, later_exec_without_hello_is_untraced);
	tcase_add_test(order, exec_failed_before_its_exec);
	tcase_add_test(order, exec_failed_after_its_exec);
	tcase_add_test(order, exec_failed_of_older_attempt_ignored);
	tcase_add_test(order, failed_then_successful_exec);
	tcase_add_test(order, older_hello_does_not_replace_image);
	tcase_add_test(order, parent_source_priority);
	tcase_add_test(order, root_parent_is_nil);
	tcase_add_test(order, root_that_never_started);
	tcase_add_test(order, exit_status_and_drops);
	tcase_add_test(order, new_proc_callback);
	suite_add_tcase(s, order);

	tcase_add_checked_fixture(files, setup, teardown);
	tcase_add_test(files, file_kinds);
	tcase_add_test(files, file_table_merges_paths);
	tcase_add_test(files, many_files);
	tcase_add_test(files, excluded_paths);
	tcase_add_test(files, unknown_kinds_counted);
	suite_add_tcase(s, files);

	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_test(bad, malformed_refused_and_harmless);
	suite_add_tcase(s, bad);

	tcase_add_checked_fixture(id, setup_kernel, teardown);
	tcase_add_test(id, identity_pid_not_peer_refused);
	tcase_add_test(id, identity_hostile_claims_change_nothing);
	tcase_add_test(id, identity_peer_unknown_trusts_payload);
	tcase_add_test(id, identity_subject_descendant_by_table);
	tcase_add_test(id, identity_subject_descendant_by_kernel);
	tcase_add_test(id, identity_subject_not_descendant_refused);
	tcase_add_test(id, identity_subject_only_on_exec);
	tcase_add_test(id, identity_fork_claim_pid1_refused);
	tcase_add_test(id, identity_fork_claim_alive_non_descendant_refused);
	tcase_add_test(id, identity_fork_claim_gone_not_watched);
	tcase_add_test(id, identity_fork_claim_child_agrees);
	tcase_add_test(id, identity_fork_claim_orphan);
	tcase_add_test(id, identity_kernel_unavailable_refuses);
	tcase_add_test(id, identity_reaped_claims);
	tcase_add_test(id, exec_and_exit_ppid_set_parent);
	suite_add_tcase(s, id);

	tcase_add_checked_fixture(img, setup, teardown);
	tcase_add_test(img, fork_child_hello_before_parent_exec);
	tcase_add_test(img, fork_child_hello_after_parent_exec);
	tcase_add_test(img, fork_child_of_late_older_image);
	tcase_add_test(img, fork_event_time_bounds_image);
	tcase_add_test(img, parent_silent_exec_after_fork);
	tcase_add_test(img, parent_silent_exec_before_fork);
	tcase_add_test(img, grandparent_image_at_parents_fork);
	tcase_add_test(img, untraced_reason_uses_env_at_exec);
	tcase_add_test(img, image_history_bounded);
	suite_add_tcase(s, img);

	{
		TCase *caps = tcase_create("caps");

		tcase_add_checked_fixture(caps, setup, teardown);
		tcase_add_test(caps, caps_env_entries);
		tcase_add_test(caps, caps_image_bytes);
		tcase_add_test(caps, caps_sender_mark);
		tcase_add_test(caps, caps_images_of_one_process);
		suite_add_tcase(s, caps);
	}

	tcase_add_checked_fixture(proc_tc, setup, teardown);
	tcase_add_test(proc_tc, proc_stat_parse);
	tcase_add_test(proc_tc, proc_stat_of_self);
	suite_add_tcase(s, proc_tc);

	{
		/* Regressions: each was a bug these tests found. */
		TCase *bugs = tcase_create("regressions");

		tcase_add_checked_fixture(bugs, setup, teardown);
		tcase_add_test(bugs,
			       regression_malformed_hello_changes_nothing);
		tcase_add_test(bugs, regression_fork_child_drops_lost_at_exec);
		suite_add_tcase(s, bugs);
	}
	return s;
}

int
main(void)
{
	return unit_run(merge_suite());
}
