/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of collector/report_file.c: a report is written atomically
 * (byte for byte what roar_report_pack makes, no temporary file left
 * behind, an old report kept when the rename fails), a write to a
 * missing, non-directory, unwritable or too long path fails cleanly with
 * an error that names it, and reading back refuses what is not a report.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit_report.h"

/* Names in dir, one per call, "" at the end (static storage). */
static size_t
list_dir(const char *dir, char names[][256], size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n < max)
			snprintf(names[n], 256, "%s", de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

START_TEST(write_is_atomic_and_clean)
{
	char path[PATH_MAX], names[8][256];
	msgpack_unpacked u;
	msgpack_sbuffer sb;
	char *data = NULL;
	struct stat st;
	char e[512] = "";

	build_run();
	snprintf(path, sizeof(path), "%s/report.msgpack", tmpdir);
	ck_assert_int_eq(roar_report_write(&M, path, e, sizeof(e)), 0);
	ck_assert_uint_eq(list_dir(tmpdir, names, 8), 1);
	ck_assert_str_eq(names[0], "report.msgpack");

	/* Byte for byte what roar_report_pack makes. */
	msgpack_sbuffer_init(&sb);
	roar_report_pack(&M, &sb);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)sb.size);
	ck_assert_int_eq(roar_report_read(path, &u, &data, e, sizeof(e)), 0);
	ck_assert(mp_is_int(mp_get(&u.data, "version"), 1));
	msgpack_unpacked_destroy(&u);
	free(data);

	/* Rewriting replaces it whole, still leaving nothing behind. */
	file("write", 101, 1011, "/src/new.o");
	ck_assert_int_eq(roar_report_write(&M, path, e, sizeof(e)), 0);
	ck_assert_uint_eq(list_dir(tmpdir, names, 8), 1);
	ck_assert_int_eq(roar_report_read(path, &u, &data, e, sizeof(e)), 0);
	ck_assert_uint_eq(array(&u.data, "files")->via.array.size, 8);
	msgpack_unpacked_destroy(&u);
	free(data);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* A report of many buffers (the writer thread's path): byte for byte
 * what roar_report_pack makes; and a write that fails partway (the file
 * size limit: EFBIG) fails the report, names it, and leaves nothing. */
START_TEST(write_many_buffers_and_a_failure_partway)
{
	char path[PATH_MAX], names[8][256], name[96];
	msgpack_sbuffer sb;
	struct rlimit old, small;
	void (*xfsz)(int);
	char e[512] = "";
	char *data;
	FILE *f;
	size_t n;
	int rc;

	build_run();
	for (unsigned i = 0; i < 60000; i++) {
		snprintf(name, sizeof(name), "/data/shard-%05u/part-%u.bin",
			 i % 977, i);
		file("read", 101, 1011, name);
	}
	msgpack_sbuffer_init(&sb);
	roar_report_pack(&M, &sb);
	ck_assert_uint_gt(sb.size, 3u << 20); /* several buffers */
	snprintf(path, sizeof(path), "%s/report.msgpack", tmpdir);
	ck_assert_int_eq(roar_report_write(&M, path, e, sizeof(e)), 0);
	data = malloc(sb.size + 1);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	n = fread(data, 1, sb.size + 1, f);
	fclose(f);
	ck_assert_uint_eq(n, sb.size);
	ck_assert(!memcmp(data, sb.data, sb.size));
	free(data);
	ck_assert_int_eq(unlink(path), 0);

	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 1u << 20;
	xfsz = signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	rc = roar_report_write(&M, path, e, sizeof(e));
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, xfsz);
	ck_assert_int_eq(rc, -EFBIG);
	ck_assert_ptr_nonnull(strstr(e, "cannot write"));
	ck_assert_uint_eq(list_dir(tmpdir, names, 8), 0);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(write_keeps_old_report_on_failure)
{
	/* A report path that is a directory: rename fails, the temp file
	 * goes, the directory stays. */
	char path[PATH_MAX], names[8][256];
	char e[512] = "";
	int rc;

	snprintf(path, sizeof(path), "%s/report.msgpack", tmpdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	rc = roar_report_write(&M, path, e, sizeof(e));
	ck_assert_int_lt(rc, 0);
	ck_assert_str_ne(e, "");
	ck_assert_ptr_nonnull(strstr(e, path));
	ck_assert_uint_eq(list_dir(tmpdir, names, 8), 1);
	ck_assert_str_eq(names[0], "report.msgpack");
}
END_TEST

START_TEST(write_fails_cleanly_unwritable_dir)
{
	char path[PATH_MAX], names[8][256];
	char e[512] = "";
	int rc, fd;

	/* A directory that does not exist. */
	snprintf(path, sizeof(path), "%s/missing/report.msgpack", tmpdir);
	rc = roar_report_write(&M, path, e, sizeof(e));
	ck_assert_int_eq(rc, -ENOENT);
	ck_assert_ptr_nonnull(strstr(e, "missing"));

	/* A "directory" that is a file. */
	snprintf(path, sizeof(path), "%s/plain", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/plain/report.msgpack", tmpdir);
	e[0] = '\0';
	rc = roar_report_write(&M, path, e, sizeof(e));
	ck_assert_int_eq(rc, -ENOTDIR);
	ck_assert_str_ne(e, "");

	/* A directory without write permission (root ignores it). */
	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "%s/ro", tmpdir);
		ck_assert_int_eq(mkdir(path, 0555), 0);
		snprintf(path, sizeof(path), "%s/ro/report.msgpack", tmpdir);
		e[0] = '\0';
		rc = roar_report_write(&M, path, e, sizeof(e));
		ck_assert_int_eq(rc, -EACCES);
		ck_assert_str_ne(e, "");
		snprintf(path, sizeof(path), "%s/ro", tmpdir);
		chmod(path, 0755);
	}
	/* /proc refuses new files even to root. */
	e[0] = '\0';
	rc = roar_report_write(&M, "/proc/roar-unit-report.msgpack", e,
			       sizeof(e));
	ck_assert_int_lt(rc, 0);
	ck_assert_str_ne(e, "");

	/* Nothing was left behind. */
	ck_assert_uint_eq(list_dir(tmpdir, names, 8), 1);
	ck_assert_str_eq(names[0], "plain");
}
END_TEST

START_TEST(write_path_too_long)
{
	char *path = malloc(PATH_MAX + 64);
	char e[256] = "";

	memset(path, 'a', PATH_MAX + 63);
	path[0] = '/';
	path[PATH_MAX + 63] = '\0';
	ck_assert_int_eq(roar_report_write(&M, path, e, sizeof(e)),
			 -ENAMETOOLONG);
	ck_assert_str_ne(e, "");
	free(path);
}
END_TEST

START_TEST(read_rejects_non_reports)
{
	char path[PATH_MAX];
	msgpack_unpacked u;
	char *data = (char *)1;
	char e[512] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/nope", tmpdir);
	ck_assert_int_eq(roar_report_read(path, &u, &data, e, sizeof(e)),
			 -ENOENT);
	ck_assert_ptr_null(data);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("\x93\x01\x02\x03", f); /* an array, not a map */
	fclose(f);
	ck_assert_int_eq(roar_report_read(path, &u, &data, e, sizeof(e)),
			 -EINVAL);
	ck_assert_ptr_null(data);
	ck_assert_str_ne(e, "");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("report_file");

	unit_tcase(s, "write", setup, teardown,
		   UNIT_TESTS(write_is_atomic_and_clean,
			      write_many_buffers_and_a_failure_partway,
			      write_keeps_old_report_on_failure,
			      write_fails_cleanly_unwritable_dir,
			      write_path_too_long, read_rejects_non_reports));
	return unit_run(s);
}
