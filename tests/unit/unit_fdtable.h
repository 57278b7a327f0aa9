/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fixture of the fd table suites (test_fdtable_*.c): an empty fd
 * table and path interner, no collector, and a private tmpdir.  Each
 * suite is one translation unit and includes this header once.
 */
#ifndef ROAR_UNIT_FDTABLE_H
#define ROAR_UNIT_FDTABLE_H

#include <limits.h>

#include "fdtable.h"
#include "unit.h"
#include "unit_preload.h"

static char tmpdir[PATH_MAX];

static inline void
setup(void)
{
	unit_preload_reset();
	roar_fdtable_reset();
	unit_mkdtemp(tmpdir, sizeof(tmpdir), "fdtable");
}

static inline void
teardown(void)
{
	unit_rmtree(tmpdir);
	roar_fdtable_reset();
}

#endif /* ROAR_UNIT_FDTABLE_H */
