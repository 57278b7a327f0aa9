/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scaffolding of the E1/E3 suites of the exported hooks (hooks_*.c),
 * test_hooks_*.c: with roar_ready set and the fake table of real
 * functions installed (unit_fake_real.h), a hook must call the real
 * function exactly once with the caller's arguments and errno, return
 * exactly what it returned, and leave errno as it left it, on failures,
 * on short counts and on success, whatever our bookkeeping after the call
 * did to errno.  No socket is configured, so nothing leaves the process.
 * roar_ready is set only around the one hook call (CALL_HOOK), so check's
 * own I/O is never traced, and assertions run after it is cleared again.
 * Each suite is one translation unit and includes this header once.
 */
#ifndef ROAR_UNIT_HOOKS_H
#define ROAR_UNIT_HOOKS_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fdtable.h"
#include "guard.h"
#include "session.h"
#include "unit.h"
#include "unit_fake_real.h"
#include "unit_preload.h"

/* The fortified entry points are ours to call here (hook.h names them). */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
int __open_2(const char *path, int flags);

static char tmpdir[PATH_MAX];

static inline void
setup(void)
{
	fake_off();
	fake_reset();
	roar_guard_depth = 0;
	roar_fdtable_reset();
	unit_preload_reset();
	strcpy(roar_session.lib_path, "/opt/roar/libroar_preload.so");
	strcpy(roar_session.env_preload,
	       "LD_PRELOAD=/opt/roar/libroar_preload.so");
	unit_mkdtemp(tmpdir, sizeof(tmpdir), "hooks");
}

static inline void
teardown(void)
{
	fake_off();
	roar_guard_depth = 0;
	unit_rmtree(tmpdir);
}

struct outcome {
	long ret;
	int err;
	unsigned depth;
};

/*
 * Call one hook with the fake installed and errno set to entry_errno;
 * record what it returned, errno after it, and the guard depth.
 */
#define CALL_HOOK(o, entry_errno, expr)       \
	do {                                  \
		fake_on();                    \
		errno = (entry_errno);        \
		(o).ret = (long)(expr);       \
		(o).err = errno;              \
		(o).depth = roar_guard_depth; \
		fake_off();                   \
	} while (0)

/*
 * The next faked call returns ret with errno err (0: errno untouched).
 * Only that one call is faked: roar's own use of the table during the
 * hook's bookkeeping (its raw syscalls, O_PATH probes, mmap for the fd
 * table, closing its connection) reaches the C library, and a second
 * call of the faked function would show as calls > 1.
 */
#define expect(fn, ret, err) expect_call((const void *)(fn), (ret), (err))

static inline void
expect_call(const void *fn, long ret, int err)
{
	F.ret = ret;
	F.err = err;
	F.calls = 0;
	F.armed = fn;
	F.target = fn;
	F.extra = 0;
}

static inline void
check_outcome(const struct outcome *o, long ret, int err)
{
	/* The real function ran exactly once. */
	ck_assert_int_eq(F.calls, 1);
	ck_assert_int_eq(F.extra, 0);
	ck_assert_int_eq(o->ret, ret);
	ck_assert_msg(o->err == err, "errno %d (%s), want %d (%s)", o->err,
		      strerror(o->err), err, strerror(err));
	ck_assert_uint_eq(o->depth, 0);
}

/* A real regular file of ours, open for reading and writing. */
static inline int
real_file(const char *name)
{
	return unit_open_in(tmpdir, name, O_RDWR);
}

#endif /* ROAR_UNIT_HOOKS_H */
