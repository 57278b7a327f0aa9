/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The report of a fixed run, byte for byte: a run of many processes
 * sharing many files (UTF-8 and not, one thread and several, read and
 * written, some of them the collector's own and excluded) is packed, and
 * its bytes, with the host name (the one thing of the machine) put
 * aside, must hash to what they hashed to when the test was written.
 * Any change to how the report is made that changes a byte fails here;
 * a deliberate one updates GOLDEN_* below.  Also: the report written to
 * a file is those bytes, and re-packing the decoded report gives them
 * back (every value in its shortest encoding, as msgpack-c packs it).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "unit_report.h"

#define GOLDEN_SIZE 110453u
#define GOLDEN_HASH 0x4c4d80b84be7fd53ull

#define NPROCS 40
#define NFILES 300

static uint32_t lcg = 12345;

static uint32_t
next(void)
{
	lcg = lcg * 1103515245u + 12345u;
	return lcg >> 8;
}

static void
bin_file(const char *kind, pid_t pid, pid_t tid, const char *path, size_t len)
{
	struct ev e;

	ev_begin(&e, 4);
	ev_str(&e, ROAR_KEY_KIND, kind);
	ev_int(&e, ROAR_KEY_PID, pid);
	ev_int(&e, ROAR_KEY_TID, tid);
	ev_bin(&e, ROAR_KEY_PATH, path, len);
	apply(&e);
}

/* Path number k: shared prefixes, lengths that differ, odd bytes. */
static size_t
path_of(unsigned k, char *buf, size_t cap)
{
	switch (k % 5) {
	case 0:
		return (size_t)snprintf(buf, cap, "/a/%u", k);
	case 1:
		return (size_t)snprintf(buf, cap, "/a/%u/b", k / 3);
	case 2:
		return (size_t)snprintf(buf, cap, "/usr/lib/x86_64/lib%u.so.%u",
					k, k % 7);
	case 3:
		return (size_t)snprintf(buf, cap, "/src/\xc3\xa9t\xc3\xa9/%u.c",
					k);
	default:
		return (size_t)snprintf(buf, cap, "/bin\xff/%u", k);
	}
}

static void
big_run(void)
{
	static const char *const kinds[] = { "read", "write", "open_write",
					     "read" };
	char path[128];

	M.exclude_prefix = roar_bytes_dup("/tmp/roar-sock/", 15);
	M.exclude_exact = roar_bytes_dup("/out/report.msgpack", 19);
	build_run();
	for (pid_t p = 200; p < 200 + NPROCS; p++)
		hello_fork(p, p % 3 ? ROOT : p - 1, 5.0 + p);
	for (unsigned i = 0; i < 4000; i++) {
		pid_t pid = 200 + (pid_t)(next() % NPROCS);
		pid_t tid = pid * 10 + (pid_t)(next() % 3);
		unsigned k = next() % NFILES;
		const char *kind = kinds[next() % 4];
		size_t len = path_of(k, path, sizeof(path));

		if (k % 5 == 4)
			bin_file(kind, pid, tid, path, len);
		else
			file(kind, pid, tid, path);
		if (i % 500 == 0) {
			file("read", pid, tid, "/tmp/roar-sock/s.0");
			file("write", pid, tid, "/out/report.msgpack");
		}
	}
	/* Wider encodings: str 8 and 16, bin 8 and 16, tids past 16 bits,
	 * more than 15 of them. */
	memset(path, 'x', sizeof(path));
	memcpy(path, "/long/", 6);
	path[40] = '\0';
	for (pid_t t = 0; t < 20; t++)
		file(t % 2 ? "write" : "read", 205, 70000 + t * 1000, path);
	path[40] = '\xff';
	bin_file("read", 206, 2060, path, 41);
	{
		char huge[301];

		memset(huge, 'y', 300);
		memcpy(huge, "/huge/", 6);
		huge[300] = '\0';
		file("read", 207, 2070, huge);
		huge[299] = '\xfe';
		bin_file("write", 207, 2070, huge, 300);
	}
}

/* The golden digest, FNV-1a, written out here on purpose: it must stay
 * the same when the collector's own hash (util.c) changes. */
static uint64_t
fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

START_TEST(report_is_byte_for_byte_the_golden_one)
{
	struct report r;
	msgpack_sbuffer re;
	msgpack_packer pk;
	msgpack_object *procs;
	uint64_t h;

	big_run();
	pack(&r);
	msgpack_sbuffer_init(&re);
	msgpack_packer_init(&pk, &re, msgpack_sbuffer_write);
	msgpack_pack_object(&pk, *r.root);
	ck_assert_uint_eq(re.size, r.sb.size);
	ck_assert(!memcmp(re.data, r.sb.data, re.size));
	msgpack_sbuffer_clear(&re);
	procs = (msgpack_object *)array(r.root, "processes");
	for (uint32_t i = 0; i < procs->via.array.size; i++) {
		msgpack_object *host = (msgpack_object *)mp_get(
			&procs->via.array.ptr[i], "host");

		ck_assert_ptr_nonnull(host);
		host->type = MSGPACK_OBJECT_STR;
		host->via.str.ptr = "HOST";
		host->via.str.size = 4;
	}
	msgpack_pack_object(&pk, *r.root);
	h = fnv(re.data, re.size);
	ck_assert_msg(re.size == GOLDEN_SIZE && h == GOLDEN_HASH,
		      "report changed: size %zu hash 0x%016llx", re.size,
		      (unsigned long long)h);
	msgpack_sbuffer_destroy(&re);
	report_free(&r);
}
END_TEST

START_TEST(report_file_is_the_packed_bytes)
{
	char path[PATH_MAX], e[512] = "", *data = NULL;
	struct report r;
	msgpack_unpacked u;
	FILE *f;
	long n;

	big_run();
	pack(&r);
	snprintf(path, sizeof(path), "%s/r.msgpack", tmpdir);
	ck_assert_int_eq(roar_report_write(&M, path, e, sizeof(e)), 0);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	ck_assert_int_eq(n, (long)r.sb.size);
	rewind(f);
	data = malloc((size_t)n);
	ck_assert_uint_eq(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	ck_assert(!memcmp(data, r.sb.data, (size_t)n));
	free(data);
	data = NULL;
	ck_assert_int_eq(roar_report_read(path, &u, &data, e, sizeof(e)), 0);
	msgpack_unpacked_destroy(&u);
	free(data);
	report_free(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("report_golden");

	unit_tcase(s, "golden", setup, teardown,
		   UNIT_TESTS(report_is_byte_for_byte_the_golden_one,
			      report_file_is_the_packed_bytes));
	return unit_run(s);
}
