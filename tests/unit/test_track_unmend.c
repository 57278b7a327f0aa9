/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of undoing the doctoring in the new image
 * (roar_track_unmend_environ): only what the marker says was added is
 * taken out, and a program's own LD_PRELOAD is given back in place; an
 * environment doctored for an exec (roar_track_doctor_env, or
 * roar_track_mend_env with a connection handed over) and then unmended
 * is exactly the one the program passed.
 */
#include "config.h"

#include <stdlib.h>

#include "scratch.h"
#include "unit_track.h"

/* An environment the process owns, as the constructor sees environ. */
struct own_env {
	char *v[32];
	char *all[32]; /* for freeing: unmend drops entries from v */
};

static void
own_env(struct own_env *e, const char *const list[])
{
	size_t i;

	memset(e, 0, sizeof(*e));
	for (i = 0; list[i]; i++) {
		ck_assert_uint_lt(i, 31);
		e->all[i] = e->v[i] = strdup(list[i]);
		ck_assert_ptr_nonnull(e->v[i]);
	}
}

static void
own_env_free(struct own_env *e)
{
	for (size_t i = 0; e->all[i]; i++)
		free(e->all[i]);
}

/* env is exactly want, in order. */
static void
check_env(char *const env[], const char *const want[])
{
	size_t n = roar_track_count(env);

	ck_assert_uint_eq(n, roar_track_count((char *const *)want));
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(env[i], want[i]);
}

/* Unmend in a copy of list and require want. */
static void
check_unmend(const char *const list[], const char *const want[])
{
	struct own_env e;

	own_env(&e, list);
	roar_track_unmend_environ(e.v);
	check_env(e.v, want);
	own_env_free(&e);
}

START_TEST(unmend_removes_added_preload)
{
	check_unmend(
		(const char *const[]){ "A=1", "LD_PRELOAD=" LIB,
				       ROAR_ENV_SOCK "=" SOCK, MARK "P", NULL },
		(const char *const[]){ "A=1", ROAR_ENV_SOCK "=" SOCK, NULL });
}
END_TEST

START_TEST(unmend_restores_their_preload)
{
	struct own_env e;
	char *entry;

	/* In place: the same string, now the program's value again. */
	own_env(&e, (const char *const[]){ "LD_PRELOAD=" LIB ":theirs",
					   MARK "p", "Z=9", NULL });
	entry = e.v[0];
	roar_track_unmend_environ(e.v);
	check_env(e.v,
		  (const char *const[]){ "LD_PRELOAD=theirs", "Z=9", NULL });
	ck_assert_ptr_eq(e.v[0], entry);
	own_env_free(&e);

	/* Only our one element goes: theirs may be a list. */
	check_unmend(
		(const char *const[]){ MARK "p",
				       "LD_PRELOAD=" LIB ":a.so b.so:/x/c.so",
				       NULL },
		(const char *const[]){ "LD_PRELOAD=a.so b.so:/x/c.so", NULL });
}
END_TEST

START_TEST(unmend_removes_added_sock)
{
	check_unmend((const char *const[]){ ROAR_ENV_SOCK "=" SOCK, "A=1",
					    "LD_PRELOAD=" LIB, MARK "S", NULL },
		     (const char *const[]){ "A=1", "LD_PRELOAD=" LIB, NULL });
}
END_TEST

START_TEST(unmend_removes_lib_var)
{
	/* The launcher sets ROAR_PRELOAD_LIB and says so with L. */
	check_unmend((const char *const[]){ ROAR_ENV_LIB "=" LIB, "A=1",
					    MARK "L", NULL },
		     (const char *const[]){ "A=1", NULL });
	/* Without L it is the program's. */
	check_unmend(
		(const char *const[]){ ROAR_ENV_LIB "=" LIB, "A=1", MARK "S",
				       NULL },
		(const char *const[]){ ROAR_ENV_LIB "=" LIB, "A=1", NULL });
}
END_TEST

START_TEST(unmend_combined_flags)
{
	check_unmend((const char *const[]){ "LD_PRELOAD=" LIB,
					    ROAR_ENV_SOCK "=" SOCK,
					    ROAR_ENV_LIB "=" LIB, MARK "PSL",
					    "HOME=/root", NULL },
		     (const char *const[]){ "HOME=/root", NULL });
	check_unmend(
		(const char *const[]){ "A=1", "LD_PRELOAD=" LIB ":/x/f.so",
				       ROAR_ENV_SOCK "=" SOCK, MARK "pS",
				       NULL },
		(const char *const[]){ "A=1", "LD_PRELOAD=/x/f.so", NULL });
	/* Only what the marker lists: S alone leaves LD_PRELOAD. */
	check_unmend((const char *const[]){ "LD_PRELOAD=" LIB, MARK "S",
					    ROAR_ENV_SOCK "=" SOCK, NULL },
		     (const char *const[]){ "LD_PRELOAD=" LIB, NULL });
	/* An empty marker goes, and nothing else. */
	check_unmend((const char *const[]){ "LD_PRELOAD=" LIB, MARK,
					    ROAR_ENV_SOCK "=" SOCK, NULL },
		     (const char *const[]){ "LD_PRELOAD=" LIB,
					    ROAR_ENV_SOCK "=" SOCK, NULL });
}
END_TEST

START_TEST(unmend_without_marker_changes_nothing)
{
	static const char *const list[] = { "LD_PRELOAD=" LIB ":theirs",
					    ROAR_ENV_SOCK "=" SOCK,
					    ROAR_ENV_LIB "=" LIB,
					    ROAR_ENV_INJECTED "X=PS", NULL };
	char *empty[] = { NULL };
	struct own_env e;
	char *before[32];

	own_env(&e, list);
	memcpy(before, e.v, sizeof(before));
	roar_track_unmend_environ(e.v);
	ck_assert_mem_eq(before, e.v, sizeof(before));
	check_env(e.v, list);
	own_env_free(&e);
	roar_track_unmend_environ(empty);
	ck_assert_ptr_null(empty[0]);
	roar_track_unmend_environ(NULL);
}
END_TEST

/* Doctor list for an exec, then undo it as the new image would: the
 * program gets back exactly the environment it passed. */
static void
check_round_trip(const char *const list[])
{
	struct doctored d;
	struct own_env e;
	const char *copy[32];
	size_t n;

	doctor(&d, (char *const *)list);
	n = roar_track_count(d.env);
	ck_assert_uint_lt(n, 32);
	for (size_t i = 0; i <= n; i++)
		copy[i] = d.env[i];
	/* The kernel copies the strings into the new image. */
	own_env(&e, copy);
	roar_track_unmend_environ(e.v);
	check_env(e.v, list);
	own_env_free(&e);
}

START_TEST(doctor_unmend_round_trip)
{
	static const char *const cases[][6] = {
		{ NULL },
		{ "A=1", "HOME=/root", NULL },
		{ "A=1", "LD_PRELOAD=/x/libfoo.so", "B=2", NULL },
		{ "LD_PRELOAD=a.so b.so:c.so", ROAR_ENV_SOCK "=/other", NULL },
		{ "LD_PRELOAD=/usr/lib/libfoo.so " LIB, "X=y", NULL },
		{ ROAR_ENV_SOCK "=" SOCK, "LD_PRELOAD=" LIB, NULL },
		{ ROAR_ENV_LIB "=" LIB, "LD_PRELOADX=1", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_round_trip(cases[i]);
	roar_session.have_sock = false;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_round_trip(cases[i]);
}
END_TEST

#define CONN_VAR ROAR_ENV_CONN "="

/* mend_env of list handing over conn (one ROAR_PRELOAD_CONN entry naming
 * conn and this process, or none for -1), then unmend as the new image:
 * the program gets back exactly list. */
static void
check_mend_round_trip(const char *const list[], int conn, bool shared)
{
	struct roar_scratch sc;
	char *const *env;
	struct own_env e;
	const char *copy[32];
	char want[48];
	size_t n, nconn = 0;

	/* "<fd>:<pid>": only this process's next image may adopt it. */
	snprintf(want, sizeof(want), CONN_VAR "%d:%d", conn,
		 (int)roar_session.pid);
	env = roar_track_mend_env((char *const *)list, &sc, shared, conn);
	n = roar_track_count(env);
	ck_assert_uint_lt(n, 32);
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(env[i], CONN_VAR, strlen(CONN_VAR))) {
			ck_assert_str_eq(env[i], want);
			nconn++;
		}
		copy[i] = env[i];
	}
	copy[n] = NULL;
	ck_assert_uint_eq(nconn, conn >= 0);
	own_env(&e, copy);
	roar_scratch_put(&sc);
	roar_track_unmend_environ(e.v);
	check_env(e.v, list);
	own_env_free(&e);
}

START_TEST(mend_env_hands_over_connection)
{
	static char big[8192];
	const char *const cases[][6] = {
		{ NULL },
		{ "A=1", NULL },
		{ "LD_PRELOAD=/x/libfoo.so", "B=2", NULL },
		/* Nothing to doctor: the handover alone. */
		{ "A=1", "LD_PRELOAD=" LIB, ROAR_ENV_SOCK "=" SOCK, NULL },
		/* Too big for the inline scratch buffer: mapped. */
		{ big, "LD_PRELOAD=/x/libfoo.so", NULL },
	};
	static const int conns[] = { -1, 0, 7, 1009, 2147483647 };

	memset(big, 'v', sizeof(big) - 1);
	memcpy(big, "BIG=", 4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t j = 0; j < sizeof(conns) / sizeof(conns[0]); j++) {
			check_mend_round_trip(cases[i], conns[j], false);
			check_mend_round_trip(cases[i], conns[j], true);
		}
}
END_TEST

START_TEST(mend_env_without_handover_is_doctor_env)
{
	char *const envp[] = { "A=1", "LD_PRELOAD=/x/libfoo.so", NULL };
	char *const ours[] = { "LD_PRELOAD=" LIB, ROAR_ENV_SOCK "=" SOCK,
			       NULL };
	struct roar_scratch sc;
	struct doctored d;
	char *const *env;

	doctor(&d, envp);
	env = roar_track_mend_env(envp, &sc, false, -1);
	ck_assert_uint_eq(roar_track_count(env), env_len(&d));
	for (size_t i = 0; d.env[i]; i++)
		ck_assert_str_eq(env[i], d.env[i]);
	roar_scratch_put(&sc);
	/* Nothing to change and nothing handed over: the caller's own. */
	ck_assert_ptr_eq(roar_track_mend_env(ours, &sc, false, -1), ours);
	roar_scratch_put(&sc);
}
END_TEST

/*
 * Was a bug: an exec environment with an empty "LD_PRELOAD=" was doctored
 * to "LD_PRELOAD=<ours>" and marked P (added), so the new image's unmend
 * removed the entry: the program found LD_PRELOAD unset where its parent
 * had set it to "".  Now it is marked p and unmend gives "" back.
 */
START_TEST(regression_round_trip_empty_preload)
{
	check_round_trip((const char *const[]){ "A=1", "LD_PRELOAD=", NULL });
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("track_unmend");

	unit_tcase(s, "doctor_env", setup, teardown,
		   UNIT_TESTS(unmend_removes_added_preload,
			      unmend_restores_their_preload,
			      unmend_removes_added_sock, unmend_removes_lib_var,
			      unmend_combined_flags,
			      unmend_without_marker_changes_nothing,
			      doctor_unmend_round_trip,
			      mend_env_hands_over_connection,
			      mend_env_without_handover_is_doctor_env));
	/* Regressions: each was a bug these tests found. */
	unit_tcase(s, "regressions", setup, teardown,
		   UNIT_TESTS(regression_round_trip_empty_preload));
	return unit_run(s);
}
