/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scaffolding of the image suites (test_image_*.c, over common/image.c,
 * common/image_elf.c and collector/elfcheck.c): a fresh directory per
 * test and paths in it, an inspection and its words, small files and
 * programs made there (hand-made ELF files from unit_elf.h, a C program
 * built with cc), a shell command line, and how execve of a file ends,
 * for where the kernel is the judge.  Each suite is one translation unit
 * and includes this header once.
 */
#ifndef ROAR_UNIT_IMAGE_H
#define ROAR_UNIT_IMAGE_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roar/image.h"
#include "unit.h"
#include "unit_elf.h"

static char dir[PATH_MAX];

static inline void
setup(void)
{
	unit_mkdtemp(dir, sizeof(dir), "image");
}

static inline void
teardown(void)
{
	unit_rmtree(dir);
}

/* dir/name, in one of a few rotating buffers. */
static inline const char *
at(const char *name)
{
	static char bufs[8][PATH_MAX + 64];
	static unsigned int next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static inline struct roar_image
look(const char *path)
{
	struct roar_image img;

	roar_image_inspect(&roar_image_io_libc, path, &img);
	return img;
}

static inline const char *
words(const struct roar_image *img)
{
	static char buf[PATH_MAX + 256];

	return roar_image_describe(img, buf, sizeof(buf));
}

#define assert_kinds(path, k, f)                                             \
	do {                                                                 \
		struct roar_image img_ = look(path);                         \
		ck_assert_msg(img_.kind == (k) && img_.final == (f),         \
			      "%s: kind %d final %d (%s), not %d %d", path,  \
			      img_.kind, img_.final, words(&img_), (int)(k), \
			      (int)(f));                                     \
	} while (0)

static inline void
write_text(const char *path, const char *text, mode_t mode)
{
	unit_write_file(path, text, strlen(text), mode);
}

static inline void
skip(const char *why)
{
	fprintf(stderr, "# skipped: %s\n", why);
}

/* Run a shell command line, made like printf: whether it succeeded. */
static inline bool __attribute__((format(printf, 1, 2)))
run(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0;
}

/* Build a C program that does nothing into dir/name with cc flags. */
static inline bool
build_c(const char *name, const char *flags)
{
	write_text(at("nothing.c"), "int main(void) { return 0; }\n", 0644);
	return run("cc %s -o '%s' '%s' >/dev/null 2>&1", flags, at(name),
		   at("nothing.c"));
}

/* How execve(path) ends in a child: its exit status, or 1000 + errno. */
static inline int
exec_result(const char *path)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *argv[] = { (char *)path, NULL };
		char *envp[] = { NULL };

		execve(path, argv, envp);
		_exit(errno > 0 && errno < 55 ? 200 + errno : 199);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) >= 200)
		return 1000 + WEXITSTATUS(status) - 200;
	return WEXITSTATUS(status);
}

/*
 * What the kernel does with an exec, asserted: under valgrind (the
 * valgrind test setup sets ROAR_UNDER_VALGRIND) execve is valgrind's,
 * which checks the file itself and fails differently, so the kernel's
 * answer cannot be seen there; the other builds assert it.
 */
#define assert_exec_eq(path, want)                                   \
	do {                                                         \
		if (!getenv("ROAR_UNDER_VALGRIND"))                  \
			ck_assert_int_eq(exec_result(path), (want)); \
	} while (0)
#define assert_exec_ne(path, want)                                   \
	do {                                                         \
		if (!getenv("ROAR_UNDER_VALGRIND"))                  \
			ck_assert_int_ne(exec_result(path), (want)); \
	} while (0)

static const char *const glibc_loader = "/lib64/ld-linux-x86-64.so.2";

/* Hand-made files: the kinds that need no compiler. */
static inline void
hand_static(const char *name)
{
	unit_elf_write(at(name), &(struct unit_elf){ 0 });
}

static inline void
hand_dynamic(const char *name)
{
	unit_elf_write(at(name), &(struct unit_elf){ .interp = glibc_loader });
}

#endif
