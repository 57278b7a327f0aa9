/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of collector/merge.c: the orders separate per-process
 * connections can deliver events in (a child before its parent's fork
 * event, a reaped before anything, an exec before or after the new
 * image's hello, an exec_failed before its exec), which source of a
 * parent wins, exit statuses and drop counts, and the new-process
 * callback.
 */
#include "config.h"

#include <errno.h>

#include "unit_merge.h"

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

/*
 * Was a bug (fixed, kept as a regression test): merge.c on_hello() carries a
 * process's drop count into dropped_prior only when it already had an image
 * (p->has_image).  A fork child has no image of its own, yet its transport
 * counts from 0 (roar_transport_atfork_child) and so does the image it execs.
 * Fork child drops 5, execs, new image drops 2: the report says 5 lost, not 7,
 * because on_dropped keeps the maximum of the two series.  Expected
 * roar_merge_dropped == 7; actual 5.  The same happens for a pid first heard of
 * through its dropped event.  Fix: carry p->dropped whenever an exec-origin
 * hello starts a new series, not only after an image.
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

int
main(void)
{
	Suite *s = suite_create("merge_order");

	unit_tcase(s, "order", setup, teardown,
		   UNIT_TESTS(fork_hello_before_fork_event,
			      fork_event_before_fork_hello,
			      grandchild_before_everyone,
			      reaped_before_anything,
			      exec_then_hello_of_new_image,
			      hello_then_late_older_exec,
			      later_exec_without_hello_is_untraced,
			      exec_failed_before_its_exec,
			      exec_failed_after_its_exec,
			      exec_failed_of_older_attempt_ignored,
			      failed_then_successful_exec,
			      older_hello_does_not_replace_image,
			      parent_source_priority, root_parent_is_nil,
			      root_that_never_started, exit_status_and_drops,
			      new_proc_callback));
	/* Regressions: each was a bug these tests found. */
	unit_tcase(s, "regressions", setup, teardown,
		   UNIT_TESTS(regression_fork_child_drops_lost_at_exec));
	return unit_run(s);
}
