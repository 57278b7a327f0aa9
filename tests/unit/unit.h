/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared scaffolding of the unit suites: running one check Suite with TAP
 * on stdout (meson's protocol: 'tap'), and the optional "known bugs"
 * test case.  A test that documents a bug in the code under test (marked
 * BUG in a comment) is only registered when ROAR_UNIT_BUGS is set in the
 * environment, so the committed suite stays green while the lead can run
 * it with `ROAR_UNIT_BUGS=1 meson test --suite unit`.
 */
#ifndef ROAR_UNIT_H
#define ROAR_UNIT_H

#include <stdbool.h>
#include <stdlib.h>

#include <check.h>

/** Whether tests documenting known bugs should be registered. */
static inline bool
unit_want_bugs(void)
{
	const char *v = getenv("ROAR_UNIT_BUGS");

	return v && *v;
}

/**
 * Run s with TAP on stdout and nothing else there (CK_SILENT), so that
 * meson's TAP parser sees only TAP.  CK_FORK stays at its default (the
 * valgrind setup sets CK_FORK=no).
 * @return the process exit status
 */
static inline int
unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* ROAR_UNIT_H */
