/* SPDX-License-Identifier: Apache-2.0 */
/*
 * system(3), popen(3) and pclose(3), done as glibc 2.36 does them but
 * through roar_track_spawn, so that the child's environment is mended in
 * its own envp and the program's environ is never touched.
 */
#ifndef ROAR_SHELL_H
#define ROAR_SHELL_H

#include <stdio.h>

int roar_shell_system(const char *cmd);
FILE *roar_shell_popen(const char *cmd, const char *mode);
int roar_shell_pclose(FILE *stream);

/** Before a fork: take popen_lock (lock order: lock.h). */
void roar_shell_prepare(void);
/** After a fork, in the parent: release popen_lock. */
void roar_shell_parent(void);
/** In a new process: reset popen_lock (the streams stay: POSIX leaves a
 *  fork child's pclose of an inherited stream unspecified). */
void roar_shell_atfork_child(void);

#endif /* ROAR_SHELL_H */
