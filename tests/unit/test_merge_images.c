/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of collector/merge.c's image history: a fork child runs the
 * image its parent had at the fork (argv, environment and cwd), whatever
 * order the hellos, fork events and silent execs arrive in; the reason a
 * process went untraced is found with the environment of its exec; and
 * the history a process keeps is bounded.
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit_elf.h"
#include "unit_merge.h"

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

int
main(void)
{
	Suite *s = suite_create("merge_images");

	unit_tcase(s, "images", setup, teardown,
		   UNIT_TESTS(fork_child_hello_before_parent_exec,
			      fork_child_hello_after_parent_exec,
			      fork_child_of_late_older_image,
			      fork_event_time_bounds_image,
			      parent_silent_exec_after_fork,
			      parent_silent_exec_before_fork,
			      grandparent_image_at_parents_fork,
			      untraced_reason_uses_env_at_exec,
			      image_history_bounded));
	return unit_run(s);
}
