/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of collector/merge.c's file table: which kind of event
 * marks a file read or written (and by which threads and processes),
 * one record per path whatever its encoding, growth to thousands of
 * files, the collector's own paths left out, and unknown kinds counted
 * rather than refused.
 */
#include "config.h"

#include <stdio.h>

#include "unit_merge.h"

static struct roar_file *
file_named(const struct roar_merge *m, const char *p, size_t len)
{
	for (size_t i = 0; i < m->nfiles; i++)
		if (m->file_list[i]->path.len == len &&
		    !memcmp(m->file_list[i]->path.p, p, len))
			return m->file_list[i];
	return NULL;
}

static uintptr_t
access_bits(const struct roar_merge *m, const struct roar_file *f, pid_t pid)
{
	return roar_merge_access(m, f, pid);
}

START_TEST(file_kinds)
{
	struct roar_file *f;

	ck_assert_int_eq(file_ev(&M, "open_write", 101, 1011, "/ow", 3), 0);
	ck_assert_int_eq(file_ev(&M, "open_read", 101, 1011, "/or", 3), 0);
	ck_assert_int_eq(file_ev(&M, "read", 101, 1011, "/r", 2), 0);
	ck_assert_int_eq(file_ev(&M, "write", 101, 1012, "/w", 2), 0);
	ck_assert_uint_eq(M.nfiles, 4);

	/* roar's listeners count open_write as a read: so do we. */
	f = file_named(&M, "/ow", 3);
	ck_assert_ptr_nonnull(f);
	ck_assert(f->read);
	ck_assert(!f->written);
	ck_assert_uint_eq(access_bits(&M, f, 101), ROAR_ACCESS_READ);
	f = file_named(&M, "/or", 3);
	ck_assert(f->read && !f->written);
	f = file_named(&M, "/r", 2);
	ck_assert(f->read && !f->written);
	ck_assert_uint_eq(f->n_read_tids, 1);
	ck_assert_int_eq(roar_file_read_tids(f)[0], 1011);
	f = file_named(&M, "/w", 2);
	ck_assert(!f->read && f->written);
	ck_assert_uint_eq(f->n_written_tids, 1);
	ck_assert_int_eq(roar_file_written_tids(f)[0], 1012);
	ck_assert_uint_eq(access_bits(&M, f, 101), ROAR_ACCESS_WRITE);
	ck_assert_uint_eq(proc(&M, 101)->nfiles, 4);
}
END_TEST

START_TEST(file_table_merges_paths)
{
	struct roar_file *f;

	ck_assert_int_eq(file_ev(&M, "read", 101, 1, "/src/a.c", 8), 0);
	ck_assert_int_eq(file_ev(&M, "read", 101, 1, "/src/a.c", 8), 0);
	ck_assert_int_eq(file_ev(&M, "read", 101, 2, "/src/a.c", 8), 0);
	ck_assert_int_eq(file_ev(&M, "write", 102, 3, "/src/a.c", 8), 0);
	ck_assert_int_eq(file_ev(&M, "read", 102, 3, "/src/a.c", 8), 0);
	ck_assert_uint_eq(M.nfiles, 1);
	f = file_named(&M, "/src/a.c", 8);
	ck_assert(f->read && f->written);
	ck_assert_uint_eq(f->n_read_tids, 3);
	ck_assert_uint_eq(f->n_written_tids, 1);
	ck_assert_uint_eq(access_bits(&M, f, 101), ROAR_ACCESS_READ);
	ck_assert_uint_eq(access_bits(&M, f, 102),
			  ROAR_ACCESS_READ | ROAR_ACCESS_WRITE);
	ck_assert_uint_eq(proc(&M, 101)->nfiles, 1);
	ck_assert_uint_eq(proc(&M, 102)->nfiles, 1);
	/* A non-UTF-8 path and a bin-encoded one are the same bytes. */
	ck_assert_int_eq(file_ev(&M, "read", 101, 1, "/x\xff", 3), 0);
	{
		struct ev e;

		ev_begin(&e, 4);
		ev_str(&e, ROAR_KEY_KIND, "write");
		ev_int(&e, ROAR_KEY_PID, 101);
		ev_int(&e, ROAR_KEY_TID, 101);
		ev_bin(&e, ROAR_KEY_PATH, "/x\xff", 3);
		ck_assert_int_eq(apply(&M, &e), 0);
	}
	ck_assert_uint_eq(M.nfiles, 2);
	f = file_named(&M, "/x\xff", 3);
	ck_assert(f->read && f->written);
}
END_TEST

START_TEST(many_files)
{
	/* Growth of the file list and the maps. */
	char path[64];

	for (int i = 0; i < 5000; i++) {
		int n = snprintf(path, sizeof(path), "/data/%d", i);

		ck_assert_int_eq(file_ev(&M, i % 2 ? "write" : "read",
					 200 + i % 7, 1, path, (size_t)n),
				 0);
	}
	ck_assert_uint_eq(M.nfiles, 5000);
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(path, sizeof(path), "/data/%d", i);
		struct roar_file *f = M.file_list[i];

		ck_assert_uint_eq(f->index, i);
		ck_assert_uint_eq(f->path.len, (size_t)n);
		ck_assert_str_eq(f->path.p, path);
		ck_assert(i % 2 ? f->written : f->read);
	}
}
END_TEST

START_TEST(excluded_paths)
{
	M.exclude_prefix = roar_bytes_dup("/tmp/roar-sock/", 15);
	M.exclude_exact = roar_bytes_dup("/out/report.msgpack", 19);
	ck_assert_int_eq(file_ev(&M, "read", 101, 1, "/tmp/roar-sock/s", 16),
			 0);
	ck_assert_int_eq(
		file_ev(&M, "write", 101, 1, "/out/report.msgpack", 19), 0);
	ck_assert_uint_eq(M.nfiles, 0);
	/* Near misses are files. */
	ck_assert_int_eq(file_ev(&M, "read", 101, 1, "/tmp/roar-sockX", 15), 0);
	ck_assert_int_eq(
		file_ev(&M, "write", 101, 1, "/out/report.msgpack2", 20), 0);
	ck_assert_uint_eq(M.nfiles, 2);
	/* The process was still heard of. */
	ck_assert_ptr_nonnull(roar_merge_find(&M, 101));
}
END_TEST

START_TEST(unknown_kinds_counted)
{
	struct ev e;

	ck_assert_int_eq(file_ev(&M, "rename", 101, 1, "/a", 2), 0);
	ck_assert_int_eq(file_ev(&M, "frobnicate", 101, 1, "/a", 2), 0);
	ck_assert_int_eq(file_ev(&M, "", 101, 1, "/a", 2), 0);
	ck_assert_int_eq(file_ev(&M, "READ", 101, 1, "/a", 2), 0);
	ck_assert_int_eq(file_ev(&M, "reads", 101, 1, "/a", 2), 0);
	/* A kind with a NUL inside is not "read" either. */
	ev_begin(&e, 3);
	ev_strn(&e, ROAR_KEY_KIND, "read\0x", 6);
	ev_int(&e, ROAR_KEY_PID, 101);
	ev_str(&e, ROAR_KEY_PATH, "/a");
	ck_assert_int_eq(apply(&M, &e), 0);
	ck_assert_uint_eq(M.unknown_events, 6);
	ck_assert_uint_eq(M.nfiles, 0);
	ck_assert_uint_eq(M.bad_frames, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("merge_files");

	unit_tcase(s, "files", setup, teardown,
		   UNIT_TESTS(file_kinds, file_table_merges_paths, many_files,
			      excluded_paths, unknown_kinds_counted));
	return unit_run(s);
}
