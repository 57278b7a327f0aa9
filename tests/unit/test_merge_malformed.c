/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of collector/merge.c against malformed events: not a map, a
 * kind, pid, path or list of the wrong type or value, a key missing.
 * Each must be refused with -EINVAL and change nothing in a run that
 * holds some state, nor create a process.
 */
#include "config.h"

#include <errno.h>

#include "unit_merge.h"

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
 * Was a bug (fixed, kept as a regression test): merge.c on_hello() creates the
 * process record (roar_merge_proc), lowers start_time and calls set_parent()
 * before it validates "argv" and "env"; a hello whose argv holds a non-string
 * (or whose env is not an array) is refused with -EINVAL but has already
 * created pid 555 (parent ROOT, source EXEC_HELLO, start_time 1.0), or, for a
 * known pid, changed its parent to 77 and its start_time from 10.0 to 1.0.
 * Expected: -EINVAL and no change (as for every other malformed event).  Fix:
 * validate argv and env into locals before roar_merge_proc().
 */
START_TEST(regression_malformed_hello_changes_nothing)
{
	populate(&M);
	check_refused(&M, "bad_hello_argv_non_string",
		      bad_hello_argv_non_string);
	check_refused(&M, "bad_hello_env_not_array", bad_hello_env_not_array);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("merge_malformed");

	unit_tcase(s, "malformed", setup, teardown,
		   UNIT_TESTS(malformed_refused_and_harmless));
	/* Regressions: each was a bug these tests found. */
	unit_tcase(s, "regressions", setup, teardown,
		   UNIT_TESTS(regression_malformed_hello_changes_nothing));
	return unit_run(s);
}
