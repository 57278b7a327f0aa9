/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scaffolding of the track suites (test_track_*.c): a session whose
 * library is LIB and whose collector socket is SOCK (none is listening
 * unless a test listens), a private tmpdir, files made and opened in it,
 * and environment doctoring into ample buffers, which several suites
 * compare against.  Each suite is one translation unit and includes this
 * header once.
 */
#ifndef ROAR_UNIT_TRACK_H
#define ROAR_UNIT_TRACK_H

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "roar/protocol.h"
#include "fdtable.h"
#include "session.h"
#include "track.h"
#include "transport.h"
#include "unit.h"
#include "unit_preload.h"

#define LIB "/opt/roar/lib/libroar_preload.so"
#define SOCK "/tmp/roar-x/sock"

static char tmpdir[PATH_MAX];

static inline void
setup(void)
{
	unit_preload_reset();
	roar_fdtable_reset();
	snprintf(roar_session.lib_path, sizeof(roar_session.lib_path), "%s",
		 LIB);
	snprintf(roar_session.env_preload, sizeof(roar_session.env_preload),
		 "LD_PRELOAD=%s", LIB);
	snprintf(roar_session.env_sock, sizeof(roar_session.env_sock), "%s=%s",
		 ROAR_ENV_SOCK, SOCK);
	roar_session.have_sock = true;
	unit_mkdtemp(tmpdir, sizeof(tmpdir), "track");
}

static inline void
teardown(void)
{
	unit_preload_end();
	unit_rmtree(tmpdir);
}

/* Make a file in tmpdir, open it with flags, return the fd. */
static inline int
open_file(const char *name, int flags)
{
	return unit_open_in(tmpdir, name, flags);
}

/* ---- environment doctoring ------------------------------------------- */

#define DOCTOR_BUF (4 * PATH_MAX)
#define MARK ROAR_ENV_INJECTED "="

struct doctored {
	char *out[16];
	char buf[DOCTOR_BUF];
	char *const *env;
};

static inline void
doctor(struct doctored *d, char *const envp[])
{
	size_t n;

	ck_assert_uint_le(roar_track_doctor_size(envp, &n), sizeof(d->buf));
	ck_assert_uint_eq(n, roar_track_count(envp));
	ck_assert_uint_le(n + 4, 16);
	memset(d->out, 0x5a, sizeof(d->out));
	d->env = roar_track_doctor_env(envp, d->out, d->buf, sizeof(d->buf));
}

/* The doctored environment as a count, checking its terminator. */
static inline size_t
env_len(const struct doctored *d)
{
	size_t n = roar_track_count(d->env);

	ck_assert_ptr_null(d->env[n]);
	return n;
}

#endif /* ROAR_UNIT_TRACK_H */
