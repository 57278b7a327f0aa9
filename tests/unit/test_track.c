/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of preload/track_*.c: fopen modes as open flags, which opens
 * need an existence probe, environment doctoring for exec (LD_PRELOAD, the
 * socket variable and the ROAR_PRELOAD_INJECTED marker) and its undoing in
 * the new image, which credit each kind of open earns, and the events the
 * track layer hands to the transport (read back from a real listening
 * socket).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <msgpack.h>

#include "roar/protocol.h"
#include "fdtable.h"
#include "guard.h"
#include "session.h"
#include "track.h"
#include "transport.h"
#include "unit.h"
#include "unit_preload.h"
#include "unit_mp.h"

/* entry.c, which defines these for the .so, is not in preload_core. */
#define LIB "/opt/roar/lib/libroar_preload.so"
#define SOCK "/tmp/roar-x/sock"

static char tmpdir[PATH_MAX];

static void
setup(void)
{
	unit_preload_reset();
	roar_fdtable_reset();
	snprintf(roar_session.lib_path, sizeof(roar_session.lib_path), "%s",
		 LIB);
	snprintf(roar_session.env_preload, sizeof(roar_session.env_preload),
		 "LD_PRELOAD=%s", LIB);
	snprintf(roar_session.env_sock, sizeof(roar_session.env_sock), "%s=%s",
		 ROAR_ENV_SOCK, SOCK);
	roar_session.have_sock = true;
	unit_mkdtemp(tmpdir, sizeof(tmpdir), "track");
}

static void
teardown(void)
{
	unit_preload_end();
	unit_rmtree(tmpdir);
}

/* ---- fopen modes and probes ------------------------------------------ */

START_TEST(fopen_flags)
{
	static const struct {
		const char *mode;
		int flags;
	} cases[] = {
		{ "r", O_RDONLY },
		{ "rb", O_RDONLY },
		{ "re", O_RDONLY },
		{ "rm", O_RDONLY },
		{ "rbe", O_RDONLY },
		{ "r+", O_RDWR },
		{ "rb+", O_RDWR },
		{ "r+b", O_RDWR },
		{ "r+e", O_RDWR },
		{ "w", O_WRONLY | O_CREAT | O_TRUNC },
		{ "wb", O_WRONLY | O_CREAT | O_TRUNC },
		{ "we", O_WRONLY | O_CREAT | O_TRUNC },
		{ "w+", O_RDWR | O_CREAT | O_TRUNC },
		{ "w+b", O_RDWR | O_CREAT | O_TRUNC },
		{ "wx", O_WRONLY | O_CREAT | O_TRUNC | O_EXCL },
		{ "w+x", O_RDWR | O_CREAT | O_TRUNC | O_EXCL },
		{ "wbx", O_WRONLY | O_CREAT | O_TRUNC | O_EXCL },
		{ "a", O_WRONLY | O_CREAT | O_APPEND },
		{ "ab", O_WRONLY | O_CREAT | O_APPEND },
		{ "a+", O_RDWR | O_CREAT | O_APPEND },
		{ "a+b", O_RDWR | O_CREAT | O_APPEND },
		{ "w,ccs=UTF-8", O_WRONLY | O_CREAT | O_TRUNC },
		/* Nothing after the ccs= part counts. */
		{ "r,ccs=x+", O_RDONLY },
		/* "" is in bug_fopen_flags_empty_mode. */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* O_CLOEXEC ("e") is irrelevant to what an open earns. */
		int got = roar_track_fopen_flags(cases[i].mode) & ~O_CLOEXEC;

		ck_assert_msg(got == cases[i].flags,
			      "mode \"%s\": got %#o, want %#o", cases[i].mode,
			      got, cases[i].flags);
	}
	ck_assert_int_eq(roar_track_fopen_flags(NULL), O_RDONLY);
}
END_TEST

/*
 * Was a bug (fixed, kept as a regression test): track.c roar_track_fopen_flags() starts its modifier loop at
 * mode + 1 without checking mode[0], so an empty mode string ("", which
 * fopen rejects with EINVAL) is read one byte past its terminator: ASan
 * reports a global-buffer-overflow at track.c:132.  The hooks call it
 * before the real fopen (fopen_probe), so fopen(path, "") in a traced
 * program over-reads.  Expected: O_RDONLY and no out-of-bounds read.
 * Fix: return early when !mode[0] (or loop from mode while skipping the
 * first character only when it is there).
 */
START_TEST(regression_fopen_flags_empty_mode)
{
	/* Heap-allocated so that ASan sees the byte after the NUL. */
	char *mode = calloc(1, 1);

	ck_assert_ptr_nonnull(mode);
	ck_assert_int_eq(roar_track_fopen_flags(mode) & ~O_CLOEXEC, O_RDONLY);
	free(mode);
}
END_TEST

START_TEST(open_needs_probe_matrix)
{
	static const struct {
		int flags;
		bool probe;
	} cases[] = {
		{ O_RDONLY, false },
		{ O_WRONLY, false },
		{ O_RDWR, false },
		{ O_RDONLY | O_CREAT, true },
		{ O_RDWR | O_CREAT, true },
		/* Write-only already earns a write credit. */
		{ O_WRONLY | O_CREAT, false },
		/* O_EXCL: a success means created. */
		{ O_RDWR | O_CREAT | O_EXCL, false },
		{ O_RDONLY | O_CREAT | O_EXCL, false },
		/* O_TRUNC and O_APPEND already earn a write credit. */
		{ O_RDWR | O_CREAT | O_TRUNC, false },
		{ O_RDWR | O_CREAT | O_APPEND, false },
		{ O_RDONLY | O_CREAT | O_TRUNC, false },
		{ O_RDWR | O_CREAT | O_CLOEXEC, true },
		{ O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK, true },
		{ O_RDWR | O_TRUNC, false },
		{ O_RDONLY | O_DIRECTORY, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(roar_track_open_needs_probe(cases[i].flags) ==
				      cases[i].probe,
			      "flags %#o", cases[i].flags);
}
END_TEST

START_TEST(open_probe)
{
	char file[PATH_MAX];
	int fd, dfd;

	snprintf(file, sizeof(file), "%s/exists", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert(!roar_track_open_probe(AT_FDCWD, file));
	snprintf(file, sizeof(file), "%s/missing", tmpdir);
	ck_assert(roar_track_open_probe(AT_FDCWD, file));
	ck_assert(!roar_track_open_probe(AT_FDCWD, NULL));
	/* Relative to a directory fd. */
	dfd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	ck_assert(!roar_track_open_probe(dfd, "exists"));
	ck_assert(roar_track_open_probe(dfd, "missing"));
	close(dfd);
	/* A dangling symlink: O_CREAT would create its target. */
	snprintf(file, sizeof(file), "%s/dangling", tmpdir);
	ck_assert_int_eq(symlink("nowhere", file), 0);
	ck_assert(roar_track_open_probe(AT_FDCWD, file));
}
END_TEST

START_TEST(count)
{
	char *const v[] = { "a", "b", "c", NULL };
	char *const e[] = { NULL };

	ck_assert_uint_eq(roar_track_count(v), 3);
	ck_assert_uint_eq(roar_track_count(e), 0);
	ck_assert_uint_eq(roar_track_count(NULL), 0);
}
END_TEST

/* ---- environment doctoring ------------------------------------------- */

#define DOCTOR_BUF (4 * PATH_MAX)
#define MARK ROAR_ENV_INJECTED "="

struct doctored {
	char *out[16];
	char buf[DOCTOR_BUF];
	char *const *env;
};

static void
doctor(struct doctored *d, char *const envp[])
{
	size_t n;

	ck_assert_uint_le(roar_track_doctor_size(envp, &n), sizeof(d->buf));
	ck_assert_uint_eq(n, roar_track_count(envp));
	ck_assert_uint_le(n + 4, 16);
	memset(d->out, 0x5a, sizeof(d->out));
	d->env = roar_track_doctor_env(envp, d->out, d->buf, sizeof(d->buf));
}

/* The doctored environment as a count, checking its terminator. */
static size_t
env_len(const struct doctored *d)
{
	size_t n = roar_track_count(d->env);

	ck_assert_ptr_null(d->env[n]);
	return n;
}

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

/* ---- undoing it in the new image ------------------------------------- */

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

/* ---- credits ----------------------------------------------------------- */

/* Make a file in tmpdir, open it with flags, return the fd. */
static int
open_file(const char *name, int flags)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fd = open(path, flags | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static struct roar_path *
path_of(int fd)
{
	uintptr_t v = roar_fdtable_lookup(fd);

	ck_assert_uint_gt(v, ROAR_FD_IGNORED);
	return (struct roar_path *)v;
}

/* With no socket configured, the credits are still claimed: that is
 * what decides whether an event would go out. */
START_TEST(open_credits)
{
	static const struct {
		int flags;
		bool created;
		bool read;
		bool write;
	} cases[] = {
		{ O_RDONLY, false, true, false },
		{ O_WRONLY, false, false, true },
		{ O_RDWR, false, false, false },
		{ O_RDWR | O_TRUNC, false, false, true },
		{ O_RDWR | O_APPEND, false, false, true },
		{ O_RDWR | O_CREAT, true, false, true },
		{ O_RDWR | O_CREAT, false, false, false },
		{ O_RDONLY | O_CREAT, true, false, true },
		{ O_RDWR | O_CREAT | O_EXCL, false, false, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];
		struct roar_path *p;
		int fd;

		snprintf(name, sizeof(name), "credit-%zu", i);
		fd = open_file(name, O_RDWR);
		roar_track_open(fd, cases[i].flags, cases[i].created);
		p = path_of(fd);
		ck_assert_msg(roar_path_wants(p, ROAR_CREDIT_READ) ==
				      !cases[i].read,
			      "case %zu read", i);
		ck_assert_msg(roar_path_wants(p, ROAR_CREDIT_WRITE) ==
				      !cases[i].write,
			      "case %zu write", i);
		close(fd);
	}
}
END_TEST

START_TEST(open_of_directory_and_pipe_earns_nothing)
{
	int p[2], d;

	d = open(tmpdir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(d, 0);
	roar_track_open(d, O_RDONLY, false);
	ck_assert_uint_eq(roar_fdtable_lookup(d), ROAR_FD_IGNORED);
	close(d);
	/* A FIFO opened for writing is a pipe record, and its open earns
	 * no file credit. */
	ck_assert_int_eq(pipe(p), 0);
	roar_track_open(p[1], O_WRONLY, false);
	ck_assert(roar_path_is_pipe(
		(struct roar_path *)roar_fdtable_lookup(p[1])));
	ck_assert(roar_path_wants((struct roar_path *)roar_fdtable_lookup(p[1]),
				  ROAR_CREDIT_WRITE));
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(fd_credit_and_bookkeeping)
{
	int fd = open_file("rw", O_RDWR), fd2;
	struct roar_path *p;

	/* O_RDWR earns nothing until bytes move. */
	roar_track_open(fd, O_RDWR, false);
	p = path_of(fd);
	ck_assert(roar_path_wants(p, ROAR_CREDIT_READ));
	roar_track_fd(fd, ROAR_CREDIT_READ);
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_READ));
	ck_assert(roar_path_wants(p, ROAR_CREDIT_WRITE));
	roar_track_fd(fd, ROAR_CREDIT_WRITE);
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_WRITE));

	/* dup copies the slot; forget clears one slot only. */
	fd2 = dup(fd);
	ck_assert_int_ge(fd2, 0);
	roar_track_dup(fd, fd2);
	ck_assert_uint_eq(roar_fdtable_lookup(fd2), (uintptr_t)p);
	roar_track_forget(fd);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(fd2), (uintptr_t)p);
	roar_track_not_a_file(fd2);
	ck_assert_uint_eq(roar_fdtable_lookup(fd2), ROAR_FD_IGNORED);
	/* An ignored fd earns nothing and resolves nothing. */
	roar_track_fd(fd2, ROAR_CREDIT_READ);
	ck_assert_uint_eq(roar_fdtable_lookup(fd2), ROAR_FD_IGNORED);
	close(fd);
	close(fd2);
}
END_TEST

START_TEST(fd_credit_learns_unknown_fd)
{
	/* An fd inherited across exec (never seen opening): the first
	 * read resolves and credits it. */
	int fd = open_file("inherited", O_RDONLY);
	struct roar_path *p;

	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	roar_track_fd(fd, ROAR_CREDIT_READ);
	p = path_of(fd);
	ck_assert(!roar_path_wants(p, ROAR_CREDIT_READ));
	ck_assert(roar_path_wants(p, ROAR_CREDIT_WRITE));
	close(fd);
}
END_TEST

START_TEST(open_refreshes_stale_slot)
{
	/* The slot of a number reused behind our back names the old file;
	 * an open learns afresh. */
	int fd = open_file("old", O_RDONLY), fd2;
	struct roar_path *old;

	roar_track_open(fd, O_RDONLY, false);
	old = path_of(fd);
	close(fd);
	fd2 = open_file("new", O_RDONLY);
	ck_assert_int_eq(fd2, fd);
	roar_track_open(fd2, O_RDONLY, false);
	ck_assert_ptr_ne(path_of(fd2), old);
	ck_assert(!roar_path_wants(path_of(fd2), ROAR_CREDIT_READ));
	close(fd2);
}
END_TEST

/* The record of the file at name in tmpdir (interned by its real path). */
static struct roar_path *
record_of(const char *name)
{
	char path[PATH_MAX], real[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(realpath(path, real));
	return roar_path_intern(real, strlen(real));
}

START_TEST(path_credit_for_names)
{
	char path[PATH_MAX], link[PATH_MAX];
	int fd = open_file("renamed", O_WRONLY);

	close(fd);
	snprintf(path, sizeof(path), "%s/renamed", tmpdir);
	roar_track_path(AT_FDCWD, path, ROAR_CREDIT_WRITE, false, "rename");
	ck_assert(!roar_path_wants(record_of("renamed"), ROAR_CREDIT_WRITE));
	ck_assert(roar_path_wants(record_of("renamed"), ROAR_CREDIT_READ));

	/* Relative to a directory fd, following a final symlink. */
	fd = open_file("target", O_WRONLY);
	close(fd);
	snprintf(link, sizeof(link), "%s/lnk", tmpdir);
	ck_assert_int_eq(symlink("target", link), 0);
	fd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	roar_track_path(fd, "lnk", ROAR_CREDIT_WRITE, true, "truncate");
	ck_assert(!roar_path_wants(record_of("target"), ROAR_CREDIT_WRITE));
	close(fd);

	/* Not following it: a symlink is not a file for the report. */
	roar_intern_atfork_child();
	roar_track_path(AT_FDCWD, link, ROAR_CREDIT_WRITE, false, "link");
	ck_assert(roar_path_wants(record_of("target"), ROAR_CREDIT_WRITE));

	/* Names that are gone or not files: nothing, and no crash. */
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	roar_track_path(AT_FDCWD, path, ROAR_CREDIT_WRITE, true, "rename");
	roar_track_path(AT_FDCWD, tmpdir, ROAR_CREDIT_WRITE, true, "rename");
	roar_track_path(AT_FDCWD, NULL, ROAR_CREDIT_WRITE, true, "rename");
	ck_assert(roar_path_wants(record_of("target"), ROAR_CREDIT_WRITE));
}
END_TEST

START_TEST(mmap_credits)
{
	static const struct {
		int prot, flags;
		bool read, write;
	} cases[] = {
		{ PROT_READ, MAP_PRIVATE, true, false },
		{ PROT_READ | PROT_WRITE, MAP_PRIVATE, true, false },
		{ PROT_READ | PROT_WRITE, MAP_SHARED, true, true },
		{ PROT_WRITE, MAP_SHARED, false, true },
		{ PROT_READ, MAP_SHARED, true, false },
		{ PROT_NONE, MAP_SHARED, false, false },
		{ PROT_EXEC, MAP_PRIVATE, false, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];
		struct roar_path *p;
		int fd;

		snprintf(name, sizeof(name), "mapped-%zu", i);
		fd = open_file(name, O_RDWR);
		roar_track_mmap(fd, cases[i].prot, cases[i].flags);
		p = record_of(name);
		ck_assert_msg(roar_path_wants(p, ROAR_CREDIT_READ) ==
				      !cases[i].read,
			      "case %zu read", i);
		ck_assert_msg(roar_path_wants(p, ROAR_CREDIT_WRITE) ==
				      !cases[i].write,
			      "case %zu write", i);
		/* As the close hook would (it passes through here). */
		close(fd);
		roar_track_forget(fd);
	}
}
END_TEST

START_TEST(raw_syscalls_decoded)
{
	char path[PATH_MAX];
	long a[6] = { 0 };
	int fd = open_file("raw", O_RDWR);

	/* read(fd, ...) = 5 */
	a[0] = fd;
	roar_track_syscall(SYS_read, a, 5, false);
	ck_assert(!roar_path_wants(record_of("raw"), ROAR_CREDIT_READ));
	ck_assert(roar_path_wants(record_of("raw"), ROAR_CREDIT_WRITE));
	/* write(fd, ...) = 0 moves nothing. */
	roar_track_syscall(SYS_write, a, 0, false);
	ck_assert(roar_path_wants(record_of("raw"), ROAR_CREDIT_WRITE));
	roar_track_syscall(SYS_pwrite64, a, 3, false);
	ck_assert(!roar_path_wants(record_of("raw"), ROAR_CREDIT_WRITE));
	/* close(fd) forgets the slot. */
	roar_track_syscall(SYS_close, a, 0, false);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	close(fd);

	/* openat(AT_FDCWD, path, O_RDONLY) = fd */
	fd = open_file("raw2", O_RDONLY);
	snprintf(path, sizeof(path), "%s/raw2", tmpdir);
	a[0] = AT_FDCWD;
	a[1] = (long)path;
	a[2] = O_RDONLY;
	roar_track_syscall(SYS_openat, a, fd, false);
	ck_assert(!roar_path_wants(record_of("raw2"), ROAR_CREDIT_READ));
	close(fd);
	/* renameat(AT_FDCWD, x, AT_FDCWD, path): the target is written. */
	a[0] = AT_FDCWD;
	a[1] = (long)"/nonexistent";
	a[2] = AT_FDCWD;
	a[3] = (long)path;
	roar_track_syscall(SYS_renameat, a, 0, false);
	ck_assert(!roar_path_wants(record_of("raw2"), ROAR_CREDIT_WRITE));
}
END_TEST

START_TEST(closed_range_forgets)
{
	int fd = open_file("ranged", O_RDONLY);

	roar_track_open(fd, O_RDONLY, false);
	ck_assert_uint_gt(roar_fdtable_lookup(fd), ROAR_FD_IGNORED);
	ck_assert_int_eq(roar_fdtable_set(700, ROAR_FD_IGNORED), 0);
	roar_track_closed_range((unsigned)fd, ~0u);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(700), ROAR_FD_UNKNOWN);
	close(fd);
}
END_TEST

/* ---- events through a real socket ------------------------------------ */

struct listener {
	char path[PATH_MAX];
	int lfd;
	int cfd;
	unsigned char buf[1 << 16];
	size_t len;
	/* The decoded frame's bytes: msgpack-c's objects point into them. */
	unsigned char frame[1 << 16];
};

static void
listen_on(struct listener *l)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(l->path, sizeof(l->path), "%s/sock", tmpdir);
	ck_assert_uint_lt(strlen(l->path), sizeof(sa.sun_path));
	strcpy(sa.sun_path, l->path);
	l->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(l->lfd, 0);
	ck_assert_int_eq(bind(l->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(l->lfd, 8), 0);
	l->cfd = -1;
	l->len = 0;
	roar_transport_init(l->path);
}

/* Read until one whole frame is buffered (or time out), and decode it;
 * the result is valid until the next call.  A connection that ends
 * between frames (the transport closes at exec and exit) is followed by
 * the next one; one that ends inside a frame is a torn frame. */
static bool
next_frame(struct listener *l, msgpack_unpacked *u, int timeout_ms)
{
	for (;;) {
		struct pollfd pfd;
		ssize_t n;

		if (l->len >= ROAR_FRAME_HEADER_SIZE) {
			uint32_t flen = roar_frame_get_len(l->buf);
			size_t off = 0;

			ck_assert_uint_gt(flen, 0);
			if (l->len >= ROAR_FRAME_HEADER_SIZE + flen) {
				memcpy(l->frame,
				       l->buf + ROAR_FRAME_HEADER_SIZE, flen);
				msgpack_unpacked_init(u);
				ck_assert_int_eq(msgpack_unpack_next(
							 u,
							 (const char *)l->frame,
							 flen, &off),
						 MSGPACK_UNPACK_SUCCESS);
				ck_assert_uint_eq(off, flen);
				memmove(l->buf,
					l->buf + ROAR_FRAME_HEADER_SIZE + flen,
					l->len - ROAR_FRAME_HEADER_SIZE - flen);
				l->len -= ROAR_FRAME_HEADER_SIZE + flen;
				return true;
			}
		}
		if (l->cfd < 0) {
			pfd = (struct pollfd){ .fd = l->lfd, .events = POLLIN };
			if (poll(&pfd, 1, timeout_ms) <= 0)
				return false;
			l->cfd = accept(l->lfd, NULL, NULL);
			ck_assert_int_ge(l->cfd, 0);
		}
		pfd = (struct pollfd){ .fd = l->cfd, .events = POLLIN };
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return false;
		n = read(l->cfd, l->buf + l->len, sizeof(l->buf) - l->len);
		if (n < 0)
			return false;
		if (n == 0) {
			ck_assert_msg(l->len == 0, "torn frame: %zu bytes",
				      l->len);
			close(l->cfd);
			l->cfd = -1;
			continue;
		}
		l->len += (size_t)n;
	}
}

/* The frame's kind is want (says which kind it was otherwise). */
static void
check_kind(const msgpack_unpacked *u, const char *want)
{
	const msgpack_object *k = mp_get(&u->data, ROAR_KEY_KIND);

	ck_assert_msg(mp_is_str(k, want), "kind %.*s, want %s",
		      k && k->type == MSGPACK_OBJECT_STR ? (int)k->via.str.size
							 : 1,
		      k && k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : "?",
		      want);
}

/* The frame's argv is want, whole and in order. */
static void
check_argv(const msgpack_unpacked *u, char *const want[])
{
	const msgpack_object *a = mp_get(&u->data, ROAR_KEY_ARGV);

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->type, MSGPACK_OBJECT_ARRAY);
	ck_assert_uint_eq(a->via.array.size, roar_track_count(want));
	ck_assert_ptr_null(mp_get(&u->data, "truncated"));
	for (uint32_t i = 0; i < a->via.array.size; i++)
		ck_assert(mp_is_str(&a->via.array.ptr[i], want[i]));
}

static void
listener_close(struct listener *l)
{
	roar_transport_close();
	roar_transport_init(NULL);
	if (l->cfd >= 0)
		close(l->cfd);
	close(l->lfd);
}

START_TEST(open_sends_one_event_per_credit)
{
	struct listener *l = calloc(1, sizeof(*l));
	char want[PATH_MAX];
	msgpack_unpacked u;
	int fd;

	listen_on(l);
	fd = open_file("sent", O_RDONLY);
	{
		char dir[PATH_MAX];

		ck_assert_ptr_nonnull(realpath(tmpdir, dir));
		ck_assert_uint_lt(strlen(dir) + 6, sizeof(want));
		snprintf(want, sizeof(want), "%s/sent", dir);
	}

	roar_track_open(fd, O_RDONLY, false);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "read");
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), getpid()));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_TID), gettid()));
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_PATH), want));
	ck_assert(mp_is_str(mp_get(&u.data, "via"), "open"));
	msgpack_unpacked_destroy(&u);

	/* The same credit again: nothing more. A write: one event. */
	roar_track_open(fd, O_RDONLY, false);
	roar_track_fd(fd, ROAR_CREDIT_READ);
	roar_track_fd(fd, ROAR_CREDIT_WRITE);
	roar_track_fd(fd, ROAR_CREDIT_WRITE);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "write");
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_PATH), want));
	ck_assert_ptr_null(mp_get(&u.data, "via"));
	msgpack_unpacked_destroy(&u);
	ck_assert(!next_frame(l, &u, 100));
	close(fd);
	listener_close(l);
	free(l);
}
END_TEST

START_TEST(pipe_sends_one_event_per_direction)
{
	struct listener *l = calloc(1, sizeof(*l));
	msgpack_unpacked u;
	struct stat st;
	int p[2], d;

	listen_on(l);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fstat(p[0], &st), 0);
	roar_track_pipe_made(p[0]);
	roar_track_pipe_made(p[1]);
	d = dup(p[1]);
	roar_track_dup(p[1], d);
	roar_track_fd(p[1], ROAR_CREDIT_WRITE);
	roar_track_fd(p[1], ROAR_CREDIT_WRITE);
	roar_track_fd(d, ROAR_CREDIT_WRITE); /* the same pipe */
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "pipe");
	ck_assert(
		mp_is_int(mp_get(&u.data, ROAR_KEY_PIPE), (int64_t)st.st_ino));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_DEV), (int64_t)st.st_dev));
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_DIR), "write"));
	ck_assert_ptr_null(mp_get(&u.data, ROAR_KEY_PATH));
	msgpack_unpacked_destroy(&u);
	roar_track_fd(p[0], ROAR_CREDIT_READ);
	roar_track_fd(p[0], ROAR_CREDIT_READ);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "pipe");
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_DIR), "read"));
	msgpack_unpacked_destroy(&u);
	ck_assert(!next_frame(l, &u, 100));
	close(d);
	close(p[0]);
	close(p[1]);
	listener_close(l);
	free(l);
}
END_TEST

START_TEST(process_events_in_order)
{
	struct listener *l = calloc(1, sizeof(*l));
	char *const argv[] = { "ls", "-l", NULL };
	msgpack_unpacked u;
	double t;
	int conn;

	listen_on(l);
	/* As the hooks call them: inside the guard (roar_lifecycle_enter
	 * said ROAR_WHO_SELF and entered it). */
	roar_guard_depth++;
	roar_track_fork_parent(4242);
	t = roar_track_exec(ROAR_WHO_SELF, "/bin/ls", argv, &conn);
	/* The connection is handed over to the new image: it survives the
	 * exec until the exec fails. */
	ck_assert_int_ge(conn, 0);
	ck_assert_int_eq(conn, roar_transport_fd());
	ck_assert_int_eq(fcntl(conn, F_GETFD) & FD_CLOEXEC, 0);
	roar_track_exec_failed(ROAR_WHO_SELF, ENOENT, t);
	ck_assert_int_eq(roar_transport_fd(), conn);
	ck_assert_int_eq(fcntl(conn, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	roar_track_reaped(4242, 7 << 8);
	roar_track_exit(ROAR_WHO_SELF, 3);
	roar_guard_depth--;

	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "fork");
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_CHILD), 4242));
	ck_assert_ptr_null(mp_get(&u.data, ROAR_KEY_PATH));
	msgpack_unpacked_destroy(&u);

	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exec");
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_EXE), "/bin/ls"));
	check_argv(&u, argv);
	ck_assert_double_eq(mp_get(&u.data, ROAR_KEY_TIME)->via.f64, t);
	/* The sender execs itself: no subject, and no ppid (the
	 * collector knows the session's parent from its hello). */
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), getpid()));
	ck_assert_ptr_null(mp_get(&u.data, ROAR_KEY_PPID));
	ck_assert_ptr_null(mp_get(&u.data, ROAR_KEY_SUBJECT));
	msgpack_unpacked_destroy(&u);

	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exec_failed");
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_ERRNO), ENOENT));
	/* Same time stamp as its exec: the collector pairs them. */
	ck_assert_double_eq(mp_get(&u.data, ROAR_KEY_TIME)->via.f64, t);
	msgpack_unpacked_destroy(&u);

	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "reaped");
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_CHILD), 4242));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_STATUS), 7 << 8));
	msgpack_unpacked_destroy(&u);

	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exit");
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_STATUS), 3));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), getpid()));
	ck_assert_ptr_null(mp_get(&u.data, ROAR_KEY_PPID));
	msgpack_unpacked_destroy(&u);
	ck_assert(!next_frame(l, &u, 100));
	listener_close(l);
	free(l);
}
END_TEST

START_TEST(spawned_announces_child_exec)
{
	struct listener *l = calloc(1, sizeof(*l));
	char *const argv[] = { "cc", "-c", "x.c", NULL };
	msgpack_unpacked u;

	listen_on(l);
	roar_track_spawned(5151, "/usr/bin/cc", argv, 12.5);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "fork");
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), getpid()));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_CHILD), 5151));
	msgpack_unpacked_destroy(&u);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exec");
	/* On the child's behalf: sent by us (the collector checks the
	 * sender), naming the child as its subject and us as its parent. */
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), getpid()));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_SUBJECT), 5151));
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PPID), getpid()));
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_EXE), "/usr/bin/cc"));
	check_argv(&u, argv);
	/* Stamped when the spawn started. */
	ck_assert_double_eq(mp_get(&u.data, ROAR_KEY_TIME)->via.f64, 12.5);
	msgpack_unpacked_destroy(&u);
	listener_close(l);
	free(l);
}
END_TEST

START_TEST(shared_exec_uses_own_connection)
{
	/* A vfork child (ROAR_WHO_SHARED) sends on a connection of its own
	 * and leaves the parent's connection and queue alone. */
	struct listener *l = calloc(1, sizeof(*l));
	char *const argv[] = { "sh", "-c", "true", NULL };
	msgpack_unpacked u;
	double t;
	int conn, handed, fd = open_file("before", O_RDONLY);

	listen_on(l);
	roar_track_open(fd, O_RDONLY, false);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "read");
	msgpack_unpacked_destroy(&u);
	conn = roar_transport_fd();
	ck_assert_int_ge(conn, 0);

	t = roar_track_exec(ROAR_WHO_SHARED, "/bin/sh", argv, &handed);
	/* Nothing to hand over: the parent's connection is not ours. */
	ck_assert_int_eq(handed, -1);
	roar_track_exec_failed(ROAR_WHO_SHARED, ENOEXEC, t);
	ck_assert_int_eq(roar_transport_fd(), conn);
	ck_assert_int_eq(fcntl(conn, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	{
		/* Each one-shot frame came on a connection of its own. */
		struct listener *o = calloc(1, sizeof(*o));

		o->lfd = l->lfd;
		o->cfd = -1;
		ck_assert(next_frame(o, &u, 2000));
		check_kind(&u, "exec");
		ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), getpid()));
		/* A vfork child has said nothing before: it names its
		 * parent. */
		ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PPID), getppid()));
		ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_EXE), "/bin/sh"));
		check_argv(&u, argv);
		msgpack_unpacked_destroy(&u);
		ck_assert(next_frame(o, &u, 2000));
		check_kind(&u, "exec_failed");
		ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_ERRNO), ENOEXEC));
		msgpack_unpacked_destroy(&u);
		if (o->cfd >= 0)
			close(o->cfd);
		free(o);
	}
	/* The parent's connection still works. */
	roar_track_fd(fd, ROAR_CREDIT_WRITE);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "write");
	msgpack_unpacked_destroy(&u);
	close(fd);
	listener_close(l);
	free(l);
}
END_TEST

/*
 * Was a bug: roar_event_exec_size did not count the array header that
 * fitting() charges first, so every exec frame sized by it lost its last
 * argument and said "truncated": true (`ls` reported for `ls -l`).
 */
START_TEST(regression_exec_event_keeps_whole_argv)
{
	struct listener *l = calloc(1, sizeof(*l));
	char *const argv[] = { "ls", "-l", NULL };
	char *const cc[] = { "cc", "-c", "x.c", NULL };
	msgpack_unpacked u;
	double t;
	int conn;

	listen_on(l);
	roar_guard_depth++;
	t = roar_track_exec(ROAR_WHO_SELF, "/bin/ls", argv, &conn);
	roar_track_exec_failed(ROAR_WHO_SELF, ENOENT, t);
	roar_guard_depth--;
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exec");
	ck_assert_uint_eq(mp_get(&u.data, ROAR_KEY_ARGV)->via.array.size, 2);
	ck_assert_ptr_null(mp_get(&u.data, "truncated"));
	msgpack_unpacked_destroy(&u);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exec_failed");
	msgpack_unpacked_destroy(&u);

	roar_track_spawned(5151, "/usr/bin/cc", cc, 12.5);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "fork");
	msgpack_unpacked_destroy(&u);
	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exec");
	ck_assert_uint_eq(mp_get(&u.data, ROAR_KEY_ARGV)->via.array.size, 3);
	ck_assert_ptr_null(mp_get(&u.data, "truncated"));
	msgpack_unpacked_destroy(&u);
	listener_close(l);
	free(l);
}
END_TEST

START_TEST(nothing_sent_without_socket)
{
	/* roar_transport_init(NULL): events are dropped quietly, and the
	 * track layer does not fail. */
	int fd = open_file("quiet", O_RDONLY);

	roar_transport_init(NULL);
	roar_track_open(fd, O_RDONLY, false);
	roar_track_fork_parent(1234);
	roar_guard_depth++;
	roar_track_exit(ROAR_WHO_SELF, 0);
	roar_guard_depth--;
	ck_assert(!roar_transport_owns_fd(fd));
	close(fd);
}
END_TEST

static Suite *
track_suite(void)
{
	Suite *s = suite_create("track");
	TCase *flags = tcase_create("flags");
	TCase *env = tcase_create("doctor_env");
	TCase *credit = tcase_create("credits");
	TCase *events = tcase_create("events");

	tcase_add_checked_fixture(flags, setup, teardown);
	tcase_add_test(flags, fopen_flags);
	tcase_add_test(flags, open_needs_probe_matrix);
	tcase_add_test(flags, open_probe);
	tcase_add_test(flags, count);
	suite_add_tcase(s, flags);

	{
		/* Regressions: each was a bug these tests found. */
		TCase *bugs = tcase_create("regressions");

		tcase_add_checked_fixture(bugs, setup, teardown);
		tcase_add_test(bugs, regression_fopen_flags_empty_mode);
		suite_add_tcase(s, bugs);
	}

	tcase_add_checked_fixture(env, setup, teardown);
	tcase_add_test(env, doctor_adds_missing_preload_and_sock);
	tcase_add_test(env, doctor_null_and_empty_env);
	tcase_add_test(env, doctor_prepends_to_other_preload);
	tcase_add_test(env, doctor_prepends_to_list_of_others);
	tcase_add_test(env, doctor_empty_preload_value);
	tcase_add_test(env, doctor_lookalike_names_are_not_ours);
	tcase_add_test(env, doctor_keeps_env_listing_us);
	tcase_add_test(env, doctor_adds_only_sock_when_preload_is_ours);
	tcase_add_test(env, doctor_without_socket_configured);
	tcase_add_test(env, doctor_without_library_path);
	tcase_add_test(env, doctor_does_not_match_prefix_names);
	tcase_add_test(env, doctor_marker_flags);
	tcase_add_test(env, doctor_drops_stale_marker);
	tcase_add_test(env, doctor_size_is_enough);
	tcase_add_test(env, unmend_removes_added_preload);
	tcase_add_test(env, unmend_restores_their_preload);
	tcase_add_test(env, unmend_removes_added_sock);
	tcase_add_test(env, unmend_removes_lib_var);
	tcase_add_test(env, unmend_combined_flags);
	tcase_add_test(env, unmend_without_marker_changes_nothing);
	tcase_add_test(env, doctor_unmend_round_trip);
	tcase_add_test(env, mend_env_hands_over_connection);
	tcase_add_test(env, mend_env_without_handover_is_doctor_env);
	suite_add_tcase(s, env);

	tcase_add_checked_fixture(credit, setup, teardown);
	tcase_add_test(credit, open_credits);
	tcase_add_test(credit, open_of_directory_and_pipe_earns_nothing);
	tcase_add_test(credit, fd_credit_and_bookkeeping);
	tcase_add_test(credit, fd_credit_learns_unknown_fd);
	tcase_add_test(credit, open_refreshes_stale_slot);
	tcase_add_test(credit, path_credit_for_names);
	tcase_add_test(credit, mmap_credits);
	tcase_add_test(credit, raw_syscalls_decoded);
	tcase_add_test(credit, closed_range_forgets);
	suite_add_tcase(s, credit);

	tcase_add_checked_fixture(events, setup, teardown);
	tcase_add_test(events, open_sends_one_event_per_credit);
	tcase_add_test(events, pipe_sends_one_event_per_direction);
	tcase_add_test(events, process_events_in_order);
	tcase_add_test(events, spawned_announces_child_exec);
	tcase_add_test(events, shared_exec_uses_own_connection);
	tcase_add_test(events, nothing_sent_without_socket);
	suite_add_tcase(s, events);

	{
		/* Regressions: each was a bug these tests found. */
		TCase *bugs = tcase_create("regressions");

		tcase_add_checked_fixture(bugs, setup, teardown);
		tcase_add_test(bugs, regression_exec_event_keeps_whole_argv);
		tcase_add_test(bugs, regression_round_trip_empty_preload);
		suite_add_tcase(s, bugs);
	}
	return s;
}

int
main(void)
{
	return unit_run(track_suite());
}
