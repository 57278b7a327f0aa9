/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's child, just before it execs the command: a command only
 * the seccomp supervisor can see (a static or Go program) is put under it
 * here, as the library's exec hooks do for the commands they run.  Apart
 * from launch.c, because include/roar/image.h and merge.h each name a
 * struct roar_image.
 */
#ifndef ROAR_LAUNCH_ARM_H
#define ROAR_LAUNCH_ARM_H

#include <stddef.h>
#include <sys/types.h>

/** Arm the supervisor for cmd (searched in PATH like execvp) when it
 *  needs it, handing the listener over fd, the child's end of a
 *  socketpair to the launcher (roar_launch_take_listener).  Best effort:
 *  a failure leaves the command unseen, and the report says so. */
void roar_launch_arm(const char *cmd, int fd);

/** The file execvp would run for cmd, into out (cmd itself when none). */
void roar_launch_resolve(const char *cmd, char *out, size_t cap);

struct roar_sup;

/**
 * In the launcher, while its child execs: the child's exec is a watched
 * call once it armed, so the listener must be taken (and answered) before
 * the child's exec can end.  Waits for errpipe's end (the exec happened,
 * or failed and said why), adopting into sup what comes on fd meanwhile.
 * @return what read(2) of errpipe returned at the end
 */
long roar_launch_take_listener(struct roar_sup *sup, int fd, int errpipe,
			       pid_t child, void *err, size_t errlen);

#endif /* ROAR_LAUNCH_ARM_H */
