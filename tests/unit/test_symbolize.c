/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector/symbolize.c on this test binary itself (built with -g by the
 * project's buildtype): a call of ours, given as the library gives it (a
 * file offset in the module, found through /proc/self/maps), comes back
 * as its function, this file and the line of the call.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "symbolize.h"
#include "unit.h"

static uintptr_t seen_ra;

static void __attribute__((noinline)) note_return_address(void)
{
	seen_ra = (uintptr_t)__builtin_return_address(0);
	__asm__ volatile("" ::: "memory");
}

static int call_line;

static void __attribute__((noinline)) symbolize_target(void)
{
	/* The next line is the call the symbolizer must name. */
	call_line = __LINE__ + 1;
	note_return_address();
	__asm__ volatile("" ::: "memory");
}

/* The file offset of address a in the mapping of path that holds it. */
static uint64_t
file_offset(uintptr_t a, char *path, size_t cap)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[PATH_MAX + 128];
	uint64_t off = UINT64_MAX;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, pg;
		char name[PATH_MAX] = "";

		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %4095s", &lo, &hi,
			   &pg, name) < 3)
			continue;
		if (a >= lo && a < hi) {
			off = a - lo + pg;
			snprintf(path, cap, "%s", name);
			break;
		}
	}
	fclose(f);
	return off;
}

START_TEST(test_own_call_site)
{
	struct roar_symbolizer *s = roar_symbolizer_new();
	struct roar_symbol sym;
	char path[PATH_MAX], want[32];
	uint64_t off;

	symbolize_target();
	/* As the library sends it: the call, one byte before the return. */
	off = file_offset(seen_ra - 1, path, sizeof(path));
	ck_assert_uint_ne(off, UINT64_MAX);
	ck_assert(roar_symbolize(s, path, off, &sym));
	ck_assert_ptr_nonnull(sym.function);
	ck_assert_str_eq(sym.function, "symbolize_target");
	ck_assert_ptr_nonnull(sym.file);
	ck_assert_ptr_nonnull(strstr(sym.file, "test_symbolize.c"));
	ck_assert_int_eq(sym.line, call_line);
	ck_assert_uint_ne(sym.addr, 0);
	/* Asked again: the same answer, from the cache. */
	snprintf(want, sizeof(want), "%s", sym.function);
	ck_assert(roar_symbolize(s, path, off, &sym));
	ck_assert_str_eq(sym.function, want);
	roar_symbolizer_free(s);
}
END_TEST

START_TEST(test_unknown_modules)
{
	struct roar_symbolizer *s = roar_symbolizer_new();
	struct roar_symbol sym;
	char path[PATH_MAX];

	ck_assert(!roar_symbolize(s, "/nonexistent/module.so", 0x1234, &sym));
	ck_assert_ptr_null(sym.function);
	ck_assert(!roar_symbolize(s, "[vdso]", 0x10, &sym));
	ck_assert(!roar_symbolize(s, "", 0x10, &sym));
	/* An offset past every loaded segment of a real module. */
	file_offset((uintptr_t)test_unknown_modules, path, sizeof(path));
	ck_assert(!roar_symbolize(s, path, UINT64_MAX / 2, &sym));
	ck_assert_ptr_null(sym.file);
	roar_symbolizer_free(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("symbolize");

	unit_tcase(s, "symbolize", NULL, NULL,
		   UNIT_TESTS(test_own_call_site, test_unknown_modules));
	return unit_run(s);
}
