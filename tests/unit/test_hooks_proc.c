/* SPDX-License-Identifier: Apache-2.0 */
/*
 * E1/E3 tests of the process hooks (hooks_proc.c): fork and waitpid
 * pass errors and statuses through, an exec that fails (execve, execl,
 * execle) keeps its errno and would have kept the child traced, and
 * posix_spawn returns its error number with errno untouched.
 */
#include "config.h"

#include <spawn.h>
#include <sys/wait.h>

#include "unit_hooks.h"

START_TEST(fork_and_wait_pass_through)
{
	int status = -1;
	struct outcome o;

	expect(fake_fork, -1, EAGAIN);
	CALL_HOOK(o, 0, fork());
	check_outcome(&o, -1, EAGAIN);
	/* The parent's side of a fork that worked: a fork event would go
	 * out (nowhere here); errno kept. */
	expect(fake_fork, 31337, 0);
	CALL_HOOK(o, 1234, fork());
	check_outcome(&o, 31337, 1234);

	expect(fake_waitpid, -1, ECHILD);
	CALL_HOOK(o, 0, waitpid(-1, &status, 0));
	check_outcome(&o, -1, ECHILD);
	ck_assert_int_eq(status, -1);

	F.status_out = 3 << 8;
	expect(fake_waitpid, 31337, 0);
	CALL_HOOK(o, 1234, waitpid(31337, &status, 0));
	check_outcome(&o, 31337, 1234);
	ck_assert_int_eq(status, 3 << 8);
	/* A NULL status pointer is the caller's right. */
	expect(fake_waitpid, 31337, 0);
	CALL_HOOK(o, 1234, waitpid(31337, NULL, 0));
	check_outcome(&o, 31337, 1234);
}
END_TEST

/* Whether the environment the fake saw held want. */
static bool
saw_env(const char *want)
{
	for (size_t i = 0; i < saw.envc; i++)
		if (!strcmp(saw.env[i], want))
			return true;
	return false;
}

START_TEST(exec_failure_keeps_errno)
{
	char *const argv[] = { "prog", "x", NULL };
	char *const envp[] = { "A=1", NULL };
	struct outcome o;

	expect(fake_execve, -1, ENOENT);
	CALL_HOOK(o, 0, execve("/no/such/prog", argv, envp));
	check_outcome(&o, -1, ENOENT);
	ck_assert_str_eq(F.path, "/no/such/prog");
	ck_assert_ptr_eq(F.argv, argv);
	/* The child would have stayed traced. */
	ck_assert(saw_env("A=1"));
	ck_assert(saw_env("LD_PRELOAD=/opt/roar/libroar_preload.so"));

	expect(fake_execve, -1, EACCES);
	CALL_HOOK(o, 1234,
		  execl("/no/such/prog", "prog", "a", "b", (char *)NULL));
	check_outcome(&o, -1, EACCES);
	ck_assert_uint_eq(saw.argc, 3);
	ck_assert_str_eq(saw.argv[0], "prog");
	ck_assert_str_eq(saw.argv[1], "a");
	ck_assert_str_eq(saw.argv[2], "b");

	expect(fake_execve, -1, E2BIG);
	CALL_HOOK(o, 0, execle("/no/such/prog", "prog", (char *)NULL, envp));
	check_outcome(&o, -1, E2BIG);
	ck_assert_uint_eq(saw.argc, 1);
	ck_assert_str_eq(saw.argv[0], "prog");
	ck_assert(saw_env("A=1"));

	/* Not ready: the caller's environment goes through untouched. */
	expect(fake_execve, -1, ENOENT);
	fake_on();
	roar_ready = false;
	errno = 0;
	o.ret = execve("/no/such/prog", argv, envp);
	o.err = errno;
	o.depth = roar_guard_depth;
	fake_off();
	check_outcome(&o, -1, ENOENT);
	ck_assert_ptr_eq(F.envp, envp);
}
END_TEST

START_TEST(posix_spawn_passes_through)
{
	char *const argv[] = { "prog", NULL };
	char *const envp[] = { NULL };
	pid_t pid = -5;
	struct outcome o;

	expect(fake_posix_spawn, ENOENT, 0);
	CALL_HOOK(o, 1234,
		  posix_spawn(&pid, "/no/such", NULL, NULL, argv, envp));
	check_outcome(&o, ENOENT, 1234);
	ck_assert_int_eq(pid, -5);
	ck_assert(saw_env("LD_PRELOAD=/opt/roar/libroar_preload.so"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hooks_proc");

	unit_tcase(s, "proc", setup, teardown,
		   UNIT_TESTS(fork_and_wait_pass_through,
			      exec_failure_keeps_errno,
			      posix_spawn_passes_through));
	return unit_run(s);
}
