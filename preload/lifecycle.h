/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How a process comes to be, for the library: one fork protocol for every
 * way a process can start.  pthread_atfork handlers (registered by the
 * constructor) see every fork that goes through the C library, whoever
 * calls it (the program, daemon(3), forkpty(3), libc itself): prepare
 * takes every preload lock in the order of lock.h, the parent releases
 * them, the child resets every module and announces itself.  A process
 * made without those handlers (a raw clone or clone3, _Fork) is noticed by
 * the fork canary at its first hook (guard.h) and does the same then.
 * vfork children share their parent's memory and change nothing: the
 * exec and exit paths ask roar_lifecycle_enter who they run in.
 */
#ifndef ROAR_LIFECYCLE_H
#define ROAR_LIFECYCLE_H

#include <stdbool.h>
#include <sys/types.h>

/** Set by the fork hook around the real fork: the hook reports the
 *  child itself, so the atfork parent handler need not. */
extern __thread bool roar_fork_hooked
	__attribute__((tls_model("initial-exec")));

/** Arm the canary and register the atfork handlers (constructor). */
void roar_lifecycle_init(void);

/** Where an exec, spawn or exit path runs. */
enum roar_who {
	ROAR_WHO_INSIDE, /* inside roar already, or not set up: do nothing */
	ROAR_WHO_SELF,   /* the session's own process; the guard is held */
	ROAR_WHO_SHARED, /* a vfork child (memory shared with a suspended
			    parent): stack and a connection of its own only */
};

/**
 * Decide who runs now.  For ROAR_WHO_SELF the guard was entered: the
 * caller leaves it (unless it execs or exits).
 */
enum roar_who roar_lifecycle_enter(void);

/**
 * In the child of a clone we saw (our clone hook's trampoline): become a
 * new process now, child of parent, forked at time.  shares_fds: made
 * with CLONE_FILES (the parent's fds are this process's too).
 */
void roar_lifecycle_clone_child(pid_t parent, double time, bool shares_fds);

#endif /* ROAR_LIFECYCLE_H */
