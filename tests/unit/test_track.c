/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of preload/track.c: fopen modes as open flags, which opens
 * need an existence probe, environment doctoring for exec (LD_PRELOAD and
 * the socket variable), which credit each kind of open earns, and the
 * events the track layer hands to the transport (read back from a real
 * listening socket).
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
#include "unit_mp.h"

/* entry.c, which defines these for the .so, is not in preload_core. */
bool roar_ready;
__thread unsigned roar_guard_depth __attribute__((tls_model("initial-exec")));

#define LIB "/opt/roar/lib/libroar_preload.so"
#define SOCK "/tmp/roar-x/sock"

static char tmpdir[PATH_MAX];

static void
setup(void)
{
	roar_ready = false;
	roar_fdtable_reset();
	roar_transport_init(NULL);
	memset(&roar_session, 0, sizeof(roar_session));
	roar_session.pid = getpid();
	snprintf(roar_session.lib_path, sizeof(roar_session.lib_path), "%s",
		 LIB);
	snprintf(roar_session.env_preload, sizeof(roar_session.env_preload),
		 "LD_PRELOAD=%s", LIB);
	snprintf(roar_session.env_sock, sizeof(roar_session.env_sock),
		 "%s=%s", ROAR_ENV_SOCK, SOCK);
	roar_session.have_sock = true;
	unit_mkdtemp(tmpdir, sizeof(tmpdir), "track");
}

static void
teardown(void)
{
	roar_transport_close();
	roar_transport_init(NULL);
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

#define DOCTOR_BUF (2 * PATH_MAX + 64) /* hooks_proc.c's PRELOAD_BUF */

struct doctored {
	char *out[16];
	char buf[DOCTOR_BUF];
	char *const *env;
};

static void
doctor(struct doctored *d, char *const envp[])
{
	ck_assert_uint_le(roar_track_count(envp) + 3, 16);
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
	ck_assert_uint_eq(env_len(&d), 4);
	ck_assert_ptr_eq(d.env[0], envp[0]);
	ck_assert_ptr_eq(d.env[1], envp[1]);
	ck_assert_str_eq(d.env[2], "LD_PRELOAD=" LIB);
	ck_assert_str_eq(d.env[3], ROAR_ENV_SOCK "=" SOCK);
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
	ck_assert_uint_eq(env_len(&d), 2);
	ck_assert_str_eq(d.env[0], "LD_PRELOAD=" LIB);
	ck_assert_str_eq(d.env[1], ROAR_ENV_SOCK "=" SOCK);

	doctor(&d, empty);
	ck_assert_ptr_eq(d.env, d.out);
	ck_assert_uint_eq(env_len(&d), 2);
}
END_TEST

START_TEST(doctor_prepends_to_other_preload)
{
	char *const envp[] = { "A=1", "LD_PRELOAD=/usr/lib/libfoo.so",
			       ROAR_ENV_SOCK "=/other/sock", "B=2", NULL };
	struct doctored d;

	doctor(&d, envp);
	ck_assert_ptr_eq(d.env, d.out);
	ck_assert_uint_eq(env_len(&d), 4);
	ck_assert_ptr_eq(d.env[0], envp[0]);
	/* Ours first, theirs kept after a colon, in place. */
	ck_assert_str_eq(d.env[1], "LD_PRELOAD=" LIB ":/usr/lib/libfoo.so");
	/* A socket variable already there is left as the caller set it. */
	ck_assert_ptr_eq(d.env[2], envp[2]);
	ck_assert_ptr_eq(d.env[3], envp[3]);
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
	ck_assert_uint_eq(env_len(&d), 2);
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
	ck_assert_uint_eq(env_len(&d), 2);
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
	ck_assert_uint_eq(env_len(&d), 3);
	ck_assert_ptr_eq(d.env[0], envp[0]);
	ck_assert_ptr_eq(d.env[1], envp[1]);
	ck_assert_str_eq(d.env[2], ROAR_ENV_SOCK "=" SOCK);
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
	ck_assert_uint_eq(env_len(&d), 2);
	ck_assert_str_eq(d.env[1], "LD_PRELOAD=" LIB);
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
	char *const envp[] = { "LD_PRELOADX=" LIB,
			       ROAR_ENV_SOCK "ET=" SOCK, NULL };
	struct doctored d;

	doctor(&d, envp);
	ck_assert_ptr_eq(d.env, d.out);
	ck_assert_uint_eq(env_len(&d), 4);
	ck_assert_str_eq(d.env[2], "LD_PRELOAD=" LIB);
	ck_assert_str_eq(d.env[3], ROAR_ENV_SOCK "=" SOCK);
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
	ck_assert_int_eq(pipe(p), 0);
	roar_track_open(p[1], O_WRONLY, false);
	ck_assert_uint_eq(roar_fdtable_lookup(p[1]), ROAR_FD_IGNORED);
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
	roar_fdtable_atfork_child();
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
 * the result is valid until the next call. */
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
				ck_assert_int_eq(
					msgpack_unpack_next(
						u, (const char *)l->frame,
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
		if (n <= 0)
			return false;
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

START_TEST(process_events_in_order)
{
	struct listener *l = calloc(1, sizeof(*l));
	char *const argv[] = { "ls", "-l", NULL };
	msgpack_unpacked u;
	double t;

	listen_on(l);
	roar_track_fork_parent(4242);
	t = roar_track_exec("/bin/ls", argv);
	roar_track_exec_failed(ENOENT, t);
	roar_track_reaped(4242, 7 << 8);
	roar_track_exit(3);

	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "fork");
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_CHILD), 4242));
	ck_assert_ptr_null(mp_get(&u.data, ROAR_KEY_PATH));
	msgpack_unpacked_destroy(&u);

	ck_assert(next_frame(l, &u, 2000));
	check_kind(&u, "exec");
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_EXE), "/bin/ls"));
	ck_assert_uint_eq(mp_get(&u.data, ROAR_KEY_ARGV)->via.array.size, 2);
	ck_assert_double_eq(mp_get(&u.data, ROAR_KEY_TIME)->via.f64, t);
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
	msgpack_unpacked_destroy(&u);
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
	/* On the child's behalf. */
	ck_assert(mp_is_int(mp_get(&u.data, ROAR_KEY_PID), 5151));
	ck_assert(mp_is_str(mp_get(&u.data, ROAR_KEY_EXE), "/usr/bin/cc"));
	ck_assert_uint_eq(mp_get(&u.data, ROAR_KEY_ARGV)->via.array.size, 3);
	/* Stamped when the spawn started. */
	ck_assert_double_eq(mp_get(&u.data, ROAR_KEY_TIME)->via.f64, 12.5);
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
	roar_track_exit(0);
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
	tcase_add_test(events, process_events_in_order);
	tcase_add_test(events, spawned_announces_child_exec);
	tcase_add_test(events, nothing_sent_without_socket);
	suite_add_tcase(s, events);
	return s;
}

int
main(void)
{
	return unit_run(track_suite());
}
