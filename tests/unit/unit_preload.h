/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scaffolding of the preload-side unit suites, which link the static
 * roar_preload_core (tests/unit/meson.build): the two globals entry.c
 * defines for the .so (it is not in the core), and the state of the
 * library at the start and the end of a test.  Each suite is one
 * translation unit and includes this header once, so the definitions
 * below are made once per test executable.
 */
#ifndef ROAR_UNIT_PRELOAD_H
#define ROAR_UNIT_PRELOAD_H

#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "transport.h"

/* With roar_ready false the hooks the test binary exports pass straight
 * through to the C library; a test sets it only around the call under
 * test.  The guard depth is initial-exec TLS, as in entry.c. */
bool roar_ready;
__thread unsigned roar_guard_depth __attribute__((tls_model("initial-exec")));

/**
 * Before a test: hooks pass through, no collector (the transport drops
 * what it is given), and a session that is this process and no other.
 */
static inline void
unit_preload_reset(void)
{
	roar_ready = false;
	roar_transport_init(NULL);
	memset(&roar_session, 0, sizeof(roar_session));
	roar_session.pid = getpid();
}

/** After a test that may have connected: close, and trace nothing. */
static inline void
unit_preload_end(void)
{
	roar_ready = false;
	roar_transport_close();
	roar_transport_init(NULL);
}

#endif /* ROAR_UNIT_PRELOAD_H */
