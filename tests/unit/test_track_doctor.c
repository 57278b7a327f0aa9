/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of preload/track_proc.c's doctoring of an exec's
 * environment: LD_PRELOAD and the socket variable added or prepended to
 * only where they are missing, names that merely look like them left
 * alone, the ROAR_PRELOAD_INJECTED marker saying what was added (a stale
 * one dropped), and roar_track_doctor_size always enough, to the byte.
 */
#include "config.h"

#include <stdlib.h>

#include "unit_track.h"

START_TEST(doctor_adds_missing_preload_and_sock)
{
	char *const envp[] = { "PATH=/bin", "HOME=/root", NULL };
	struct doctored d;

	doctor(&d, envp);
	ck_assert_ptr_eq(d.env, d.out);
	ck_assert_uint_eq(env_len(&d), 5);
	ck_assert_ptr_eq(d.env[0], envp[0]);
	ck_assert_ptr_eq(d.env[1], envp[1]);
	ck_assert_str_eq(d.env[2], "LD_PRELOAD=" LIB);
	ck_assert_str_eq(d.env[3], ROAR_ENV_SOCK "=" SOCK);
	/* Both were added: the child takes both back out. */
	ck_assert_str_eq(d.env[4], MARK "PS");
	/* The caller's vector is untouched. */
	ck_assert_str_eq(envp[0], "PATH=/bin");
	ck_assert_ptr_null(envp[2]);
}
END_TEST

START_TEST(doctor_null_and_empty_env)
{
	char *const empty[] = { NULL };
	struct doctored d;

	doctor(&d, NULL);
	ck_assert_ptr_eq(d.env, d.out);
	ck_assert_uint_eq(env_len(&d), 3);
	ck_assert_str_eq(d.env[0], "LD_PRELOAD=" LIB);
	ck_assert_str_eq(d.env[1], ROAR_ENV_SOCK "=" SOCK);
	ck_assert_str_eq(d.env[2], MARK "PS");

	doctor(&d, empty);
	ck_assert_ptr_eq(d.env, d.out);
	ck_assert_uint_eq(env_len(&d), 3);
	ck_assert_str_eq(d.env[2], MARK "PS");
}
END_TEST

START_TEST(doctor_prepends_to_other_preload)
{
	char *const envp[] = { "A=1", "LD_PRELOAD=/usr/lib/libfoo.so",
			       ROAR_ENV_SOCK "=/other/sock", "B=2", NULL };
	struct doctored d;

	doctor(&d, envp);
	ck_assert_ptr_eq(d.env, d.out);
	ck_assert_uint_eq(env_len(&d), 5);
	ck_assert_ptr_eq(d.env[0], envp[0]);
	/* Ours first, theirs kept after a colon, in place. */
	ck_assert_str_eq(d.env[1], "LD_PRELOAD=" LIB ":/usr/lib/libfoo.so");
	/* A socket variable already there is left as the caller set it. */
	ck_assert_ptr_eq(d.env[2], envp[2]);
	ck_assert_ptr_eq(d.env[3], envp[3]);
	/* Only the prepending is ours to undo. */
	ck_assert_str_eq(d.env[4], MARK "p");
}
END_TEST

START_TEST(doctor_prepends_to_list_of_others)
{
	char *const envp[] = { "LD_PRELOAD=liba.so libb.so:/x/libc2.so",
			       ROAR_ENV_SOCK "=" SOCK, NULL };
	struct doctored d;

	doctor(&d, envp);
	ck_assert_ptr_eq(d.env, d.out);
	ck_assert_str_eq(d.env[0],
			 "LD_PRELOAD=" LIB ":liba.so libb.so:/x/libc2.so");
	ck_assert_uint_eq(env_len(&d), 3);
	ck_assert_str_eq(d.env[2], MARK "p");
}
END_TEST

START_TEST(doctor_empty_preload_value)
{
	char *const envp[] = { "LD_PRELOAD=", ROAR_ENV_SOCK "=" SOCK, NULL };
	struct doctored d;

	doctor(&d, envp);
	ck_assert_ptr_eq(d.env, d.out);
	/* No dangling colon. */
	ck_assert_str_eq(d.env[0], "LD_PRELOAD=" LIB);
	ck_assert_uint_eq(env_len(&d), 3);
	/* It was there (empty): p, so the child gets "LD_PRELOAD=" back. */
	ck_assert_str_eq(d.env[2], MARK "p");
}
END_TEST

START_TEST(doctor_lookalike_names_are_not_ours)
{
	static const char *const values[] = {
		"LD_PRELOAD=/opt/x/notlibroar_preload.so",
		"LD_PRELOAD=/opt/x/libroar_preload.so.bak",
		"LD_PRELOAD=/opt/roar/lib/libroar_preload.so/",
		"LD_PRELOAD=libroar_preload",
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char *const envp[] = { (char *)values[i],
				       ROAR_ENV_SOCK "=" SOCK, NULL };
		struct doctored d;
		char want[512];

		doctor(&d, envp);
		ck_assert_msg(d.env == d.out, "%s taken for ours", values[i]);
		snprintf(want, sizeof(want), "LD_PRELOAD=%s:%s", LIB,
			 values[i] + strlen("LD_PRELOAD="));
		ck_assert_str_eq(d.env[0], want);
		ck_assert_uint_eq(env_len(&d), 3);
		ck_assert_str_eq(d.env[2], MARK "p");
	}
}
END_TEST

START_TEST(doctor_keeps_env_listing_us)
{
	static const char *const values[] = {
		"LD_PRELOAD=" LIB,
		"LD_PRELOAD=/usr/lib/libfoo.so:" LIB,
		"LD_PRELOAD=" LIB ":/usr/lib/libfoo.so",
		/* roar's Ray worker joins with spaces. */
		"LD_PRELOAD=/usr/lib/libfoo.so " LIB,
		"LD_PRELOAD=" LIB " /usr/lib/libfoo.so",
		"LD_PRELOAD=a.so  " LIB "  b.so",
		"LD_PRELOAD=" LIB ":",
		/* The same library named by another directory. */
		"LD_PRELOAD=/elsewhere/libroar_preload.so",
		"LD_PRELOAD=libroar_preload.so",
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char *const envp[] = { "A=1", (char *)values[i],
				       ROAR_ENV_SOCK "=" SOCK, NULL };
		struct doctored d;

		doctor(&d, envp);
		ck_assert_msg(d.env == envp, "changed: %s", values[i]);
	}
}
END_TEST

START_TEST(doctor_adds_only_sock_when_preload_is_ours)
{
	char *const envp[] = { "LD_PRELOAD=/usr/lib/libfoo.so " LIB, "X=y",
			       NULL };
	struct doctored d;

	doctor(&d, envp);
	ck_assert_ptr_eq(d.env, d.out);
	ck_assert_uint_eq(env_len(&d), 4);
	ck_assert_ptr_eq(d.env[0], envp[0]);
	ck_assert_ptr_eq(d.env[1], envp[1]);
	ck_assert_str_eq(d.env[2], ROAR_ENV_SOCK "=" SOCK);
	ck_assert_str_eq(d.env[3], MARK "S");
}
END_TEST

START_TEST(doctor_without_socket_configured)
{
	char *const ours[] = { "LD_PRELOAD=" LIB, NULL };
	char *const none[] = { "A=1", NULL };
	struct doctored d;

	roar_session.have_sock = false;
	doctor(&d, ours);
	ck_assert_ptr_eq(d.env, ours);
	doctor(&d, none);
	ck_assert_ptr_eq(d.env, d.out);
	ck_assert_uint_eq(env_len(&d), 3);
	ck_assert_str_eq(d.env[1], "LD_PRELOAD=" LIB);
	ck_assert_str_eq(d.env[2], MARK "P");
}
END_TEST

START_TEST(doctor_without_library_path)
{
	char *const envp[] = { "A=1", NULL };
	struct doctored d;

	roar_session.lib_path[0] = '\0';
	doctor(&d, envp);
	ck_assert_ptr_eq(d.env, envp);
}
END_TEST

START_TEST(doctor_does_not_match_prefix_names)
{
	/* LD_PRELOADX= and ROAR_PRELOAD_TRACE_SOCKET= are other variables. */
	char *const envp[] = { "LD_PRELOADX=" LIB, ROAR_ENV_SOCK "ET=" SOCK,
			       NULL };
	struct doctored d;

	doctor(&d, envp);
	ck_assert_ptr_eq(d.env, d.out);
	ck_assert_uint_eq(env_len(&d), 5);
	ck_assert_str_eq(d.env[2], "LD_PRELOAD=" LIB);
	ck_assert_str_eq(d.env[3], ROAR_ENV_SOCK "=" SOCK);
	ck_assert_str_eq(d.env[4], MARK "PS");
}
END_TEST

/* The one marker entry of a doctored environment, or NULL. */
static const char *
marker_of(char *const *env)
{
	const char *found = NULL;

	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], MARK, strlen(MARK))) {
			ck_assert_msg(!found, "two markers");
			found = env[i] + strlen(MARK);
		}
	return found;
}

START_TEST(doctor_marker_flags)
{
	/* Each flag says what was put there, so the child can undo it. */
	static char *const add_both[] = { "A=1", NULL };
	static char *const add_pre[] = { "A=1", ROAR_ENV_SOCK "=" SOCK, NULL };
	static char *const prepend[] = { "LD_PRELOAD=/x/libfoo.so",
					 ROAR_ENV_SOCK "=" SOCK, NULL };
	static char *const add_sock[] = { "LD_PRELOAD=" LIB, NULL };
	static char *const prepend_sock[] = { "LD_PRELOAD=/x/libfoo.so", "B=2",
					      NULL };
	static char *const nothing[] = { "LD_PRELOAD=" LIB,
					 ROAR_ENV_SOCK "=" SOCK, NULL };
	static const struct {
		char *const *envp;
		const char *flags; /* NULL: nothing to add */
	} cases[] = {
		{ add_both, "PS" }, { add_pre, "P" },       { prepend, "p" },
		{ add_sock, "S" },  { prepend_sock, "pS" }, { nothing, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct doctored d;
		size_t n;

		doctor(&d, cases[i].envp);
		if (!cases[i].flags) {
			ck_assert_msg(d.env == cases[i].envp, "case %zu", i);
			ck_assert_ptr_null(marker_of(d.env));
			continue;
		}
		ck_assert_ptr_eq(d.env, d.out);
		n = env_len(&d);
		/* What was there, what was added, and the marker. */
		ck_assert_uint_eq(n, roar_track_count(cases[i].envp) +
					     !!strchr(cases[i].flags, 'P') +
					     !!strchr(cases[i].flags, 'S') + 1);
		/* Last, and only once. */
		ck_assert_str_eq(marker_of(d.env), cases[i].flags);
		ck_assert_str_eq(d.env[n - 1] + strlen(MARK), cases[i].flags);
	}
}
END_TEST

START_TEST(doctor_drops_stale_marker)
{
	/* A marker in the caller's vector is never ours to pass on: with
	 * nothing else to do it is dropped, and ours replaces it. */
	char *const stale[] = { "LD_PRELOAD=" LIB, MARK "PS",
				ROAR_ENV_SOCK "=" SOCK, "B=2", NULL };
	char *const again[] = { "A=1", MARK "L", NULL };
	struct doctored d;

	doctor(&d, stale);
	ck_assert_ptr_eq(d.env, d.out);
	ck_assert_uint_eq(env_len(&d), 3);
	ck_assert_ptr_eq(d.env[0], stale[0]);
	ck_assert_ptr_eq(d.env[1], stale[2]);
	ck_assert_ptr_eq(d.env[2], stale[3]);
	ck_assert_ptr_null(marker_of(d.env));

	doctor(&d, again);
	ck_assert_ptr_eq(d.env, d.out);
	ck_assert_uint_eq(env_len(&d), 4);
	ck_assert_ptr_eq(d.env[0], again[0]);
	ck_assert_str_eq(d.env[1], "LD_PRELOAD=" LIB);
	ck_assert_str_eq(d.env[2], ROAR_ENV_SOCK "=" SOCK);
	ck_assert_str_eq(marker_of(d.env), "PS");
}
END_TEST

/* Make roar_session's library path len bytes long (ending in our name). */
static void
long_lib_path(size_t len)
{
	static const char base[] = "/libroar_preload.so";
	char *p = roar_session.lib_path;

	ck_assert_uint_lt(len, sizeof(roar_session.lib_path));
	ck_assert_uint_gt(len, sizeof(base));
	memset(p, 'd', len);
	p[0] = '/';
	memcpy(p + len - (sizeof(base) - 1), base, sizeof(base));
	snprintf(roar_session.env_preload, sizeof(roar_session.env_preload),
		 "LD_PRELOAD=%s", p);
}

/* The doctored strings of envp fit in exactly roar_track_doctor_size
 * bytes and out in n + 4 pointers: nothing is written past either, and
 * the result is what an ample buffer gives. */
static void
check_doctor_size(char *const envp[])
{
	const char guard = (char)0xa5;
	char *const sentinel = (char *)&guard;
	struct doctored *ref = malloc(sizeof(*ref));
	char *const *env;
	size_t n, bytes = roar_track_doctor_size(envp, &n);
	char *buf = malloc(bytes + 64);
	char **out = malloc((n + 4 + 1) * sizeof(*out));

	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(n, roar_track_count(envp));
	memset(buf, guard, bytes + 64);
	for (size_t i = 0; i < n + 5; i++)
		out[i] = sentinel;
	env = roar_track_doctor_env(envp, out, buf, bytes);
	for (size_t i = bytes; i < bytes + 64; i++)
		ck_assert_msg(buf[i] == guard, "byte %zu of %zu written", i,
			      bytes);
	ck_assert_ptr_eq(out[n + 4], sentinel);

	ck_assert_uint_le(roar_track_count(envp) + 4,
			  sizeof(ref->out) / sizeof(ref->out[0]));
	ref->env = roar_track_doctor_env(envp, ref->out, ref->buf,
					 sizeof(ref->buf));
	if (ref->env == envp) {
		ck_assert_ptr_eq(env, envp);
	} else {
		size_t k = roar_track_count(ref->env);

		ck_assert_ptr_eq(env, out);
		ck_assert_uint_eq(roar_track_count(env), k);
		for (size_t i = 0; i < k; i++)
			ck_assert_str_eq(env[i], ref->env[i]);
	}
	free(out);
	free(buf);
	free(ref);
}

START_TEST(doctor_size_is_enough)
{
	static char theirs[PATH_MAX + 32];
	char *const add_both[] = { "A=1", NULL };
	char *const prepend[] = { "LD_PRELOAD=/x/libfoo.so", NULL };
	char *const prepend_long[] = { "A=1", theirs, "B=2", NULL };
	char *const prepend_empty[] = { "LD_PRELOAD=", NULL };
	char *const stale[] = { MARK "PSpL", "LD_PRELOAD=x.so", NULL };
	char *const nothing[] = { "LD_PRELOAD=" LIB, ROAR_ENV_SOCK "=" SOCK,
				  NULL };
	char *const *const cases[] = { add_both,      prepend, prepend_long,
				       prepend_empty, stale,   nothing,
				       NULL };

	memset(theirs, 't', sizeof(theirs) - 1);
	memcpy(theirs, "LD_PRELOAD=/", 12);
	for (size_t i = 0; cases[i]; i++)
		check_doctor_size(cases[i]);
	/* The longest library path the session can hold. */
	long_lib_path(sizeof(roar_session.lib_path) - 1);
	for (size_t i = 0; cases[i]; i++)
		check_doctor_size(cases[i]);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("track_doctor");

	unit_tcase(s, "doctor_env", setup, teardown,
		   UNIT_TESTS(doctor_adds_missing_preload_and_sock,
			      doctor_null_and_empty_env,
			      doctor_prepends_to_other_preload,
			      doctor_prepends_to_list_of_others,
			      doctor_empty_preload_value,
			      doctor_lookalike_names_are_not_ours,
			      doctor_keeps_env_listing_us,
			      doctor_adds_only_sock_when_preload_is_ours,
			      doctor_without_socket_configured,
			      doctor_without_library_path,
			      doctor_does_not_match_prefix_names,
			      doctor_marker_flags, doctor_drops_stale_marker,
			      doctor_size_is_enough));
	return unit_run(s);
}
