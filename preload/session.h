/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a process image learns once at start-up and keeps in static
 * storage (Bear's Session): its pid, the preload library's path, the
 * environment entries that keep children traced.  Read-only after the
 * constructor except for the pid, which a fork child updates.
 */
#ifndef ROAR_SESSION_H
#define ROAR_SESSION_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "roar/clock.h"
#include "roar/compiler.h"
#include "event.h"

struct roar_session {
	_Atomic pid_t pid;       /* this process; set anew in a new process
					(which has one thread then) */
	char lib_path[PATH_MAX]; /* absolute path of this library */
	char env_preload[PATH_MAX + 16]; /* "LD_PRELOAD=<value at start>" */
	char env_sock[PATH_MAX + 32];    /* "ROAR_PRELOAD_TRACE_SOCK=<path>" */
	char env_lib[PATH_MAX + 24];     /* "ROAR_PRELOAD_LIB=<lib_path>" */
	bool have_sock;
};

/** The inode of this process's PID namespace (0 when /proc cannot say):
 *  one stat, for hellos. */
uint64_t roar_session_pidns(void);

extern struct roar_session roar_session;

/** The calling thread's kernel id, cached in initial-exec TLS. */
pid_t roar_session_tid(void);

/** pid and tid of the caller, for an event. */
struct roar_event_ids roar_session_ids(void);

/** In a fork child: new pid and tid. */
void roar_session_atfork_child(pid_t pid);

/** True when the running process is the one the session describes (false
 *  in a vfork child or a raw clone child). Makes one getpid syscall. */
bool roar_session_is_self(void);

#endif /* ROAR_SESSION_H */
