/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process identity every event carries: pid (kept in static storage,
 * refreshed in fork children) and the thread id (initial-exec TLS, so the
 * first access never allocates).  Async-signal-safe.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "real.h"
#include "session.h"

struct roar_session roar_session;

/* entry.c's definition wins in the library; unit tests get this one. */
__attribute__((weak)) bool
roar_entry_early(void)
{
	return false;
}

static __thread pid_t cached_tid __attribute__((tls_model("initial-exec")));

pid_t
roar_session_tid(void)
{
	if (ROAR_UNLIKELY(cached_tid == 0))
		cached_tid = (pid_t)ROAR_SYS(SYS_gettid);
	return cached_tid;
}

struct roar_event_ids
roar_session_ids(void)
{
	return (struct roar_event_ids){ roar_session.pid, roar_session_tid() };
}


void
roar_session_atfork_child(pid_t pid)
{
	roar_session.pid = pid;
	cached_tid = pid; /* the forking thread is the child's only thread */
}

bool
roar_session_is_self(void)
{
	return (pid_t)ROAR_SYS(SYS_getpid) == roar_session.pid;
}

uint64_t
roar_session_pidns(void)
{
	struct stat st;

	return stat("/proc/self/ns/pid", &st) == 0 ? (uint64_t)st.st_ino : 0;
}
