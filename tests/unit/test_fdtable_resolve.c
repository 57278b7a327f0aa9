/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of what roar_fdtable_resolve (preload/fdtable.c) makes of
 * an fd: real files by their canonical name (relative, dotted, through a
 * symlink, odd bytes), a pipe record, directories, devices, pseudo
 * file systems and unlinked files ignored, a closed fd left unknown, high
 * fds, names past PATH_MAX (counted when reached through a symlink), and
 * nothing cached by a name look-up.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit_fdtable.h"

/* The canonical absolute path of p, as the kernel would name it. */
static void
canonical(const char *p, char *out)
{
	ck_assert_ptr_nonnull(realpath(p, out));
}

static struct roar_path *
resolved_path(int fd)
{
	uintptr_t v = roar_fdtable_resolve(fd);

	ck_assert_uint_ne(v, ROAR_FD_UNKNOWN);
	ck_assert_uint_ne(v, ROAR_FD_IGNORED);
	/* The answer is cached in the slot. */
	ck_assert_uint_eq(roar_fdtable_lookup(fd), v);
	return (struct roar_path *)v;
}

START_TEST(resolve_regular_file)
{
	char file[PATH_MAX], want[PATH_MAX];
	struct roar_path *p;
	int fd;

	snprintf(file, sizeof(file), "%s/data.txt", tmpdir);
	fd = open(file, O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	canonical(file, want);
	p = resolved_path(fd);
	ck_assert_str_eq(p->path, want);
	ck_assert_uint_eq(p->len, strlen(want));
	ck_assert_int_eq(p->path[0], '/');
	/* The same file through another fd is the same record. */
	{
		int fd2 = open(file, O_RDONLY);

		ck_assert_int_ge(fd2, 0);
		ck_assert_ptr_eq(resolved_path(fd2), p);
		close(fd2);
	}
	/* get() on a cached slot does not resolve again. */
	ck_assert_uint_eq(roar_fdtable_get(fd), (uintptr_t)p);
	close(fd);
}
END_TEST

START_TEST(resolve_relative_and_dotted)
{
	char want[PATH_MAX], cwd[PATH_MAX], file[PATH_MAX];
	int fd;

	snprintf(file, sizeof(file), "%s/sub", tmpdir);
	ck_assert_int_eq(mkdir(file, 0755), 0);
	snprintf(file, sizeof(file), "%s/sub/../rel.txt", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(file, sizeof(file), "%s/rel.txt", tmpdir);
	canonical(file, want);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(tmpdir), 0);
	fd = open("./sub/../rel.txt", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(resolved_path(fd)->path, want);
	close(fd);
	ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

START_TEST(resolve_through_symlink)
{
	char target[PATH_MAX], link[PATH_MAX], want[PATH_MAX];
	int fd;

	snprintf(target, sizeof(target), "%s/target.bin", tmpdir);
	snprintf(link, sizeof(link), "%s/link.bin", tmpdir);
	fd = open(target, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(symlink("target.bin", link), 0);
	canonical(target, want);
	fd = open(link, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(resolved_path(fd)->path, want);
	close(fd);
}
END_TEST

START_TEST(resolve_odd_bytes_in_name)
{
	char file[PATH_MAX], want[PATH_MAX];
	int fd;

	snprintf(file, sizeof(file), "%s/odd \xff\xfe name", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	canonical(file, want);
	ck_assert_str_eq(resolved_path(fd)->path, want);
	close(fd);
}
END_TEST

START_TEST(resolve_pipe_record_dir_dev_ignored)
{
	int p[2], d, n;

	struct roar_path *r0, *r1;
	struct stat st;
	char want[64];

	/* A pipe is no file but a pipe record, the same for both ends and
	 * named by device and inode (never a canonical path). */
	ck_assert_int_eq(pipe(p), 0);
	r0 = (struct roar_path *)roar_fdtable_resolve(p[0]);
	r1 = (struct roar_path *)roar_fdtable_resolve(p[1]);
	ck_assert_uint_gt((uintptr_t)r0, ROAR_FD_IGNORED);
	ck_assert_ptr_eq(r0, r1);
	ck_assert_uint_eq(roar_fdtable_lookup(p[0]), (uintptr_t)r0);
	ck_assert(roar_path_is_pipe(r0));
	ck_assert_int_eq(fstat(p[0], &st), 0);
	snprintf(want, sizeof(want), "pipe:[%lu:%lu]", (unsigned long)st.st_dev,
		 (unsigned long)st.st_ino);
	ck_assert_str_eq(r0->path, want);
	ck_assert_uint_eq(r0->ino, (uint64_t)st.st_ino);
	close(p[0]);
	close(p[1]);

	d = open(tmpdir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(d, 0);
	ck_assert_uint_eq(roar_fdtable_resolve(d), ROAR_FD_IGNORED);
	ck_assert_uint_eq(roar_fdtable_lookup(d), ROAR_FD_IGNORED);
	close(d);

	n = open("/dev/null", O_RDWR);
	ck_assert_int_ge(n, 0);
	ck_assert_uint_eq(roar_fdtable_resolve(n), ROAR_FD_IGNORED);
	close(n);
}
END_TEST

START_TEST(resolve_pseudo_fs_ignored)
{
	/* Kernel-made regular files are no lineage. */
	static const char *const paths[] = { "/proc/self/status",
					     "/proc/version",
					     "/sys/kernel/uevent_seqnum" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct stat st;
		int fd = open(paths[i], O_RDONLY);

		if (fd < 0)
			continue;
		ck_assert_int_eq(fstat(fd, &st), 0);
		ck_assert_msg(roar_fdtable_resolve(fd) == ROAR_FD_IGNORED,
			      "%s credited", paths[i]);
		close(fd);
	}
}
END_TEST

START_TEST(name_does_not_cache)
{
	char file[PATH_MAX], want[PATH_MAX];
	uintptr_t v;
	int fd;

	snprintf(file, sizeof(file), "%s/named", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	canonical(file, want);
	v = roar_fdtable_name(fd);
	ck_assert_uint_gt(v, ROAR_FD_IGNORED);
	ck_assert_str_eq(((struct roar_path *)v)->path, want);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	/* The same record resolve would give. */
	ck_assert_uint_eq(roar_fdtable_resolve(fd), v);
	close(fd);
	ck_assert_uint_eq(roar_fdtable_name(-1), ROAR_FD_IGNORED);
}
END_TEST

START_TEST(resolve_unlinked_file_ignored)
{
	char file[PATH_MAX];
	int fd;

	snprintf(file, sizeof(file), "%s/gone", tmpdir);
	fd = open(file, O_RDWR | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(file), 0);
	ck_assert_uint_eq(roar_fdtable_resolve(fd), ROAR_FD_IGNORED);
	close(fd);
#ifdef O_TMPFILE
	fd = open(tmpdir, O_TMPFILE | O_RDWR, 0600);
	if (fd >= 0) {
		ck_assert_uint_eq(roar_fdtable_resolve(fd), ROAR_FD_IGNORED);
		close(fd);
	}
#endif
}
END_TEST

START_TEST(resolve_closed_fd)
{
	int fd = open("/dev/null", O_RDONLY);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_uint_eq(roar_fdtable_resolve(fd), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_resolve(-1), ROAR_FD_IGNORED);
	ck_assert_uint_eq(roar_fdtable_lookup(-1), ROAR_FD_UNKNOWN);
	/* Not open either: nothing cached, nothing credited. */
	ck_assert_uint_eq(roar_fdtable_resolve(ROAR_FD_MAX + 5),
			  ROAR_FD_UNKNOWN);
}
END_TEST

/*
 * Was a bug (fixed, kept as a regression test): fdtable.c
 * roar_fdtable_resolve() now caches whatever roar_fdtable_name() answers,
 * including the ROAR_FD_IGNORED it returns when fstat fails (EBADF: the number
 * is not open).  roar_fdtable_name's own comment says "Not open (EBADF): leave
 * the slot unknown for the next owner", and that is what the code did before
 * roar_fdtable_name was split out.  With the slot cached as IGNORED, a file
 * that later gets this number through a call we do not hook (or a dup/open
 * racing with the failed resolve in another thread) is never credited by
 * roar_track_fd. Expected: lookup(fd) == ROAR_FD_UNKNOWN after resolving a
 * closed fd. Actual: ROAR_FD_IGNORED.
 */
START_TEST(regression_resolve_closed_fd_leaves_slot_unknown)
{
	int fd = open("/dev/null", O_RDONLY);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_uint_eq(roar_fdtable_resolve(fd), ROAR_FD_UNKNOWN);
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
}
END_TEST

START_TEST(resolve_high_fd)
{
	char file[PATH_MAX], want[PATH_MAX];
	int fd, hi;

	snprintf(file, sizeof(file), "%s/high", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	canonical(file, want);
	/* Above the first chunk (needs RLIMIT_NOFILE > 1500). */
	hi = fcntl(fd, F_DUPFD, 1500);
	if (hi >= 0) {
		ck_assert_str_eq(resolved_path(hi)->path, want);
		ck_assert_ptr_nonnull(roar_fd_chunks[1]);
		close(hi);
	}
	close(fd);
}
END_TEST

START_TEST(get_resolves_unknown_slot)
{
	char file[PATH_MAX], want[PATH_MAX];
	uintptr_t v;
	int fd;

	snprintf(file, sizeof(file), "%s/lazy", tmpdir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	canonical(file, want);
	/* With the guard not entered, the hook did no bookkeeping. */
	ck_assert_uint_eq(roar_fdtable_lookup(fd), ROAR_FD_UNKNOWN);
	v = roar_fdtable_get(fd);
	ck_assert_uint_gt(v, ROAR_FD_IGNORED);
	ck_assert_str_eq(((struct roar_path *)v)->path, want);
	close(fd);
}
END_TEST

/* A directory below tmpdir whose name is past PATH_MAX, made and entered
 * by relative names (as a program would); returns the absolute name's
 * length and leaves the working directory there.  The caller goes back
 * with fchdir(*home). */
static size_t
enter_deep(int *home, char *name, size_t cap)
{
	char comp[201];
	size_t len;

	memset(comp, 'd', 200);
	comp[200] = '\0';
	*home = open(".", O_PATH | O_DIRECTORY);
	ck_assert_int_ge(*home, 0);
	ck_assert_int_eq(chdir(tmpdir), 0);
	len = (size_t)snprintf(name, cap, "%s", tmpdir);
	for (int i = 0; i < 23; i++) {
		ck_assert_int_eq(mkdir(comp, 0700), 0);
		ck_assert_int_eq(chdir(comp), 0);
		len += (size_t)snprintf(name + len, cap - len, "/%s", comp);
	}
	ck_assert_uint_gt(len, PATH_MAX);
	return len;
}

/* nftw (unit_rmtree) gives up past PATH_MAX: rm does not. */
static void
leave_deep(int home)
{
	char cmd[PATH_MAX + 64];

	ck_assert_int_eq(fchdir(home), 0);
	close(home);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/d*", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(name_past_path_max)
{
	static char want[8192];
	char comp[201], rel[512];
	struct roar_path *p;
	struct stat st;
	uint64_t drops = roar_transport_dropped();
	int home, fd;
	size_t len = enter_deep(&home, want, sizeof(want) - 16);

	fd = open("leaf", O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	/* The kernel cannot say this name ... */
	ck_assert_int_eq(roar_fdtable_name(fd), ROAR_FD_IGNORED);
	ck_assert_uint_eq(roar_transport_dropped(), drops + 1);
	/* ... but what the open was given can. */
	p = (struct roar_path *)roar_fdtable_name_at(fd, &st, AT_FDCWD, "leaf");
	ck_assert_uint_gt((uintptr_t)p, ROAR_FD_IGNORED);
	snprintf(want + len, sizeof(want) - len, "/leaf");
	ck_assert_uint_eq(p->len, len + 5);
	ck_assert_str_eq(p->path, want);
	ck_assert_uint_eq(p->ino, (uint64_t)st.st_ino);
	/* From a directory above, through a name with "." and "..". */
	memset(comp, 'd', 200);
	comp[200] = '\0';
	snprintf(rel, sizeof(rel), "./../%s/%s/leaf", comp, comp);
	ck_assert_int_eq(chdir(".."), 0);
	p = (struct roar_path *)roar_fdtable_name_at(fd, &st, AT_FDCWD, rel);
	ck_assert_uint_gt((uintptr_t)p, ROAR_FD_IGNORED);
	ck_assert_str_eq(p->path, want);
	ck_assert_uint_eq(roar_transport_dropped(), drops + 1);
	close(fd);
	leave_deep(home);
}
END_TEST

START_TEST(name_past_path_max_through_symlink_counted)
{
	static char want[8192];
	struct stat st;
	uint64_t drops = roar_transport_dropped();
	int home, fd;

	enter_deep(&home, want, sizeof(want) - 16);
	fd = open("leaf", O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(symlink("leaf", "link"), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	/* The last component is a link, not the file: not guessed, and
	 * counted as a lost event. */
	ck_assert_int_eq(roar_fdtable_name_at(fd, &st, AT_FDCWD, "link"),
			 ROAR_FD_IGNORED);
	ck_assert_uint_eq(roar_transport_dropped(), drops + 1);
	close(fd);
	leave_deep(home);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fdtable_resolve");

	unit_tcase(s, "resolve", setup, teardown,
		   UNIT_TESTS(resolve_regular_file, resolve_relative_and_dotted,
			      resolve_through_symlink,
			      resolve_odd_bytes_in_name,
			      resolve_pipe_record_dir_dev_ignored,
			      resolve_pseudo_fs_ignored, name_does_not_cache,
			      resolve_unlinked_file_ignored, resolve_closed_fd,
			      resolve_high_fd, get_resolves_unknown_slot,
			      name_past_path_max,
			      name_past_path_max_through_symlink_counted));
	/* Regressions: each was a bug these tests found. */
	unit_tcase(
		s, "regressions", setup, teardown,
		UNIT_TESTS(regression_resolve_closed_fd_leaves_slot_unknown));
	return unit_run(s);
}
