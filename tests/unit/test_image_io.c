/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the io common/image.c reads files through: the cache in
 * front of it (hits, and what a changed file or interpreter invalidates)
 * and raw system calls behind it, as the preload library makes them,
 * with errno left as it was.
 */
#include "config.h"

#include <fcntl.h>
#include <sys/syscall.h>

#include "unit_image.h"

/* The libc io, counting the files it reads. */
static unsigned int reads;

static int
counting_open(const char *path, int flags)
{
	if (!(flags & O_PATH))
		reads++;
	return roar_image_io_libc.open(path, flags);
}

START_TEST(cache_hits_and_invalidation)
{
	static struct roar_image_cache c;
	struct roar_image_io io = roar_image_io_libc;
	struct roar_image img;
	struct timespec old[2] = { { .tv_sec = 1000000 },
				   { .tv_sec = 1000000 } };
	char line[PATH_MAX + 16];

	memset(&c, 0, sizeof(c));
	io.open = counting_open;
	hand_static("p");
	ck_assert_int_eq(roar_image_inspect_cached(&c, &io, at("p"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_STATIC);
	ck_assert_uint_eq(reads, 1);
	ck_assert_int_eq(roar_image_inspect_cached(&c, &io, at("p"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_STATIC);
	ck_assert_uint_eq(reads, 1);
	ck_assert_uint_eq(c.hits, 1);
	ck_assert_uint_eq(c.misses, 1);

	/* A new mtime: read again. */
	ck_assert_int_eq(utimensat(AT_FDCWD, at("p"), old, 0), 0);
	roar_image_inspect_cached(&c, &io, at("p"), &img);
	ck_assert_uint_eq(reads, 2);
	/* chmod changes only ctime: read again, and set-ID now. */
	usleep(20000);
	ck_assert_int_eq(chmod(at("p"), 04755), 0);
	roar_image_inspect_cached(&c, &io, at("p"), &img);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SETID);
	ck_assert_uint_eq(reads, 3);
	/* Rewritten in place, same size, mtime put back: ctime tells. */
	usleep(20000);
	ck_assert_int_eq(chmod(at("p"), 0755), 0);
	roar_image_inspect_cached(&c, &io, at("p"), &img);
	usleep(20000);
	{
		unsigned char buf[4096];
		size_t n = unit_elf_build(
			buf, &(struct unit_elf){ .go_note = true }, NULL);
		int fd = open(at("p"), O_WRONLY | O_CLOEXEC);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(ftruncate(fd, 0), 0);
		ck_assert_int_eq(pwrite(fd, buf, n, 0), (ssize_t)n);
		close(fd);
		ck_assert_int_eq(utimensat(AT_FDCWD, at("p"), old, 0), 0);
	}
	roar_image_inspect_cached(&c, &io, at("p"), &img);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_GO);

	/* A script is cached apart from its interpreter: an interpreter
	 * replaced is seen while the script is not read again. */
	hand_static("interp");
	snprintf(line, sizeof(line), "#!%s\n", at("interp"));
	write_text(at("s"), line, 0755);
	roar_image_inspect_cached(&c, &io, at("s"), &img);
	ck_assert_int_eq(img.final, ROAR_IMAGE_STATIC);
	hand_dynamic("interp.new");
	ck_assert_int_eq(rename(at("interp.new"), at("interp")), 0);
	reads = 0;
	roar_image_inspect_cached(&c, &io, at("s"), &img);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_SCRIPT);
	ck_assert_int_eq(img.final, ROAR_IMAGE_DYNAMIC);
	ck_assert_uint_eq(reads, 1);

	/* More files than slots: still right, old ones read again. */
	for (int i = 0; i < 2 * ROAR_IMAGE_CACHE_SLOTS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "many%d", i);
		if (i % 2)
			hand_static(name);
		else
			hand_dynamic(name);
		roar_image_inspect_cached(&c, &io, at(name), &img);
		ck_assert_int_eq(img.kind, i % 2 ? ROAR_IMAGE_STATIC
						 : ROAR_IMAGE_DYNAMIC);
	}
	reads = 0;
	roar_image_inspect_cached(&c, &io, at("many0"), &img);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_DYNAMIC);
	ck_assert_uint_eq(reads, 1);
	/* What cannot be inspected is not cached. */
	roar_image_inspect_cached(&c, &io, at("none"), &img);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_NOT_FOUND);
}
END_TEST

/*
 * Raw system calls, as the library makes them: errno is put back as it
 * was, so that any errno seen changed after an inspection was the
 * module's own doing.
 */
#define RAW(call)                    \
	do {                         \
		int saved_ = errno;  \
		long r_ = (call);    \
		if (r_ < 0)          \
			r_ = -errno; \
		errno = saved_;      \
		return r_;           \
	} while (0)

static int
raw_open(const char *path, int flags)
{
	RAW(syscall(SYS_openat, AT_FDCWD, path, flags, 0));
}

static int
raw_close(int fd)
{
	RAW(syscall(SYS_close, fd));
}

static long
raw_pread(int fd, void *buf, unsigned long n, long off)
{
	RAW(syscall(SYS_pread64, fd, buf, n, off));
}

static int
raw_fstat(int fd, struct stat *st)
{
	RAW(syscall(SYS_fstat, fd, st));
}

static long
raw_fgetxattr(int fd, const char *name, void *buf, unsigned long n)
{
	RAW(syscall(SYS_fgetxattr, fd, name, buf, n));
}

static int
raw_access(const char *path, int mode)
{
	RAW(syscall(SYS_faccessat, AT_FDCWD, path, mode, 0));
}

START_TEST(raw_system_calls_and_errno)
{
	struct roar_image_io io = {
		.open = raw_open,
		.close = raw_close,
		.pread = raw_pread,
		.fstat = raw_fstat,
		.fgetxattr = raw_fgetxattr,
		.access = raw_access,
	};
	struct roar_image img;
	char out[PATH_MAX], line[PATH_MAX + 16];

	hand_static("st");
	hand_dynamic("dyn");
	snprintf(line, sizeof(line), "#!%s\n", at("st"));
	write_text(at("s"), line, 0755);
	write_text(at("nx"), "echo\n", 0644);
	errno = 4242;
	ck_assert_int_eq(roar_image_inspect(&io, at("st"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_STATIC);
	ck_assert_int_eq(roar_image_inspect(&io, at("dyn"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_DYNAMIC);
	ck_assert_int_eq(roar_image_inspect(&io, at("s"), &img), 0);
	ck_assert_int_eq(img.final, ROAR_IMAGE_STATIC);
	ck_assert_int_eq(roar_image_inspect(&io, at("none"), &img), -ENOENT);
	ck_assert_int_eq(roar_image_inspect(&io, at("nx"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_NOT_EXEC);
	ck_assert_int_eq(roar_image_resolve(&io, "sh", NULL, out, sizeof(out)),
			 0);
	ck_assert_int_eq(roar_image_resolve(&io, "none", dir, out, sizeof(out)),
			 -ENOENT);
	ck_assert_int_eq(errno, 4242);
	/* Without access: the mode's execute bits. */
	io.access = NULL;
	ck_assert_int_eq(roar_image_inspect(&io, at("nx"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_NOT_EXEC);
	ck_assert_int_eq(roar_image_inspect(&io, at("st"), &img), 0);
	ck_assert_int_eq(img.kind, ROAR_IMAGE_STATIC);
}
END_TEST

static Suite *
image_io_suite(void)
{
	Suite *s = suite_create("image_io");
	TCase *use = tcase_create("use");

	tcase_add_checked_fixture(use, setup, teardown);
	tcase_add_test(use, cache_hits_and_invalidation);
	tcase_add_test(use, raw_system_calls_and_errno);
	suite_add_tcase(s, use);
	return s;
}

int
main(void)
{
	return unit_run(image_io_suite());
}
